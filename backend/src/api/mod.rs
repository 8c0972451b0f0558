//! The REST API: one folder per resource (its routes and handlers), and the OpenAPI
//! document generated from the same list of routes. A new resource is one folder and one
//! `.merge` line in [`api_routes`].

use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use axum::Router;

use crate::http::auth::SESSION_COOKIE;
use crate::state::AppState;

pub mod agent_runs;
pub mod alerts;
pub mod audit;
pub mod auto_approval;
pub mod chat;
pub mod connectors;
pub mod contact_imports;
pub mod contacts;
pub mod crm_sync;
pub mod dashboard;
pub mod deals;
mod document;
pub mod duplicates;
pub mod executions;
pub mod forecast;
pub mod health;
pub mod hygiene_reports;
pub mod live;
pub mod mcp;
pub mod notifications;
pub mod outcomes;
pub mod pipelines;
pub mod queue;
pub mod quotas;
pub mod research;
pub mod schedules;
pub mod session;
pub mod signals;
pub mod tokens;
pub mod voice;
pub mod webhooks;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CaseyOS API",
        description = "The go-to-market command center: Today's Moves, audit replay and operations. \
                       Every error is `{\"error\": {\"code\", \"message\", \"request_id\", \"details\"}}`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "queue", description = "Today's Moves: proposed moves awaiting a decision"),
        (name = "dashboard", description = "The dashboard: every widget in one call and each on its own path, now or as of an instant"),
        (name = "deals", description = "Pipelines, deals (commands and queries, health scores, risk flags) and quotas"),
        (name = "forecast", description = "The forecast of a period per owner and in total, as of any instant, and its change waterfall"),
        (name = "contacts", description = "The contact base: create, edit, archive, restore, search, export, CSV import"),
        (name = "agents", description = "Agents, their runs, and run history"),
        (name = "schedules", description = "Stored agent schedules: cadence, next run, last run"),
        (name = "duplicates", description = "Duplicate review: pairs side by side, merge (with a dry run), not a duplicate, ignore, unmerge. HubSpot merges are permanent."),
        (name = "hygiene", description = "Data hygiene: alerts, the daily report, the dashboard card, the CRM sync's health"),
        (name = "auto-approval", description = "Auto-approval as rules: replied before, known good recipient, high ICP score (computed by CaseyOS), each with a confidence, a priority and on/off; every proposed move's decision with its reasons; the emergency stop is `POST /api/admin/auto-approval`"),
        (name = "audit", description = "History and time travel of any aggregate"),
        (name = "session", description = "Browser sign-in: the session cookie and its CSRF token"),
        (name = "tokens", description = "API tokens, for admins: list, create, revoke"),
        (name = "connectors", description = "External services (Gmail, Google Calendar, HubSpot, the LLM): their state, connecting them by OAuth 2.0 with PKCE or a HubSpot private-app token, disconnecting them (revoked and deleted). Tokens are sealed at rest and never shown."),
        (name = "chat", description = "The assistant's chat: conversations kept as events, answered by the model with CaseyOS's own operations as tools (those that change something wait for your confirmation and run as you), or by slash commands without a model; export to Markdown"),
        (name = "research", description = "Deep research: a question answered from CaseyOS's own data (full-text search) and the web when a search provider is configured, in sections whose every sentence cites its sources [n]; progress as events, history, export to Markdown"),
        (name = "voice", description = "Voice training: samples of how you write (collected from sent and drafted emails, or pasted), rated 1–5; the persona computed from them; DraftWriter follows the top-rated ones"),
        (name = "notifications", description = "What needs you now — overdue and stale moves, replies, failed runs, open alerts, deals at risk — derived from the events they are about; `GET /api/whats-up`; read and acknowledged per user"),
        (name = "live", description = "Live updates as server-sent events"),
        (name = "signals", description = "Signals in: what happened (HubSpot deal changes, replies, form submissions, rules, people's notes), each turned into a proposed move or a reason why not"),
        (name = "webhooks", description = "Events external services send, authenticated by their signatures (HubSpot's v3), stored and answered at once, processed in the background"),
        (name = "ops", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `caseyos token create` or `POST /api/tokens`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The browser session from `POST /api/session` (`__Host-caseyos_session` when \
                 CaseyOS is served over HTTPS). Requests other than GET, HEAD and OPTIONS must \
                 also send the session's `csrf_token` as `X-CSRF-Token`.",
            ))),
        );
    }
}

/// Every documented route: the router and the OpenAPI document come from this one list.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(queue::router())
        .merge(contacts::router())
        .merge(agent_runs::router())
        .merge(schedules::router())
        .merge(duplicates::router())
        .merge(alerts::router())
        .merge(executions::router())
        .merge(outcomes::router())
        .merge(notifications::router())
        .merge(chat::router())
        .merge(research::router())
        .merge(voice::router())
        .merge(auto_approval::router())
        .merge(hygiene_reports::router())
        .merge(contact_imports::router())
        .merge(audit::router())
        .merge(crm_sync::router())
        .merge(pipelines::router())
        .merge(deals::router())
        .merge(quotas::router())
        .merge(forecast::router())
        .merge(dashboard::router())
        .merge(session::router())
        .merge(tokens::router())
        .merge(connectors::router())
        .merge(live::router())
        .merge(signals::router())
        .merge(webhooks::router())
        .merge(health::router())
}

/// The routes and their OpenAPI document: every route that takes a bearer token takes the
/// session cookie too, the document lists itself, and [`document::refine`] adds what every
/// operation shares.
pub fn routes_and_document() -> (Router<AppState>, serde_json::Value) {
    let (routes, mut api) = api_routes().split_for_parts();
    for item in api.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(security) = operation.security.as_mut().filter(|s| !s.is_empty()) {
                security.push(SecurityRequirement::new("session", Vec::<String>::new()));
            }
        }
    }
    api.paths.paths.insert(
        "/api/openapi.json".into(),
        utoipa::openapi::path::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .tag("ops")
                .summary(Some("This document"))
                .response(
                    "200",
                    utoipa::openapi::Response::new("The OpenAPI document"),
                )
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                .security(SecurityRequirement::new("session", Vec::<String>::new()))
                .build(),
        ),
    );
    let mut document = serde_json::to_value(api).expect("the document serializes");
    let agents: Vec<document::AgentOperation> = caseyos_agents::REGISTRY
        .iter()
        .map(|spec| document::AgentOperation {
            name: spec.name,
            description: spec.description,
            input_schema: spec.input_schema(),
            example: (spec.example)(),
        })
        .collect();
    document::refine(&mut document, &agents);
    (routes, document)
}

/// The OpenAPI document as JSON (for the CLI and tests).
pub fn openapi_json() -> serde_json::Value {
    routes_and_document().1
}
