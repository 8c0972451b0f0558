//! Reading connectors: every one, or one, with status, account, scopes, expiry and the last
//! good call — never a token.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{ConnectorListResponse, ConnectorResponse, ErrorEnvelope};
use caseyos_domain::connectors::ConnectorName;
use caseyos_store::now;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::ApiPath;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connectors))
        .routes(routes!(get_connector))
}

/// Every connector — `gmail`, `google_calendar`, `hubspot`, `llm` — with its status
/// (`connected`, `not_connected`, `expiring`: the token expires within 24 hours and cannot
/// be refreshed, `error`: reconnect it), where its credential came from, the account, the
/// scopes, the token's expiry, the last good call and the last error, and how it is
/// connected.
#[utoipa::path(
    get,
    path = "/api/connectors",
    tag = "connectors",
    responses(
        (status = 200, description = "Every connector, in a fixed order", body = ConnectorListResponse,
         example = json!({
            "items": [
                {"name": "gmail", "status": "connected", "kind": "oauth", "account": "casey@example.com",
                 "scopes": ["openid", "email", "https://www.googleapis.com/auth/gmail.send"],
                 "expires_at": "2026-12-01T10:00:00Z", "last_good_call_at": "2026-12-01T09:12:00Z",
                 "last_error": null, "connect": ["oauth"], "note": null},
                {"name": "google_calendar", "status": "not_connected", "kind": null, "account": null,
                 "scopes": [], "expires_at": null, "last_good_call_at": null, "last_error": null,
                 "connect": ["oauth"], "note": null},
                {"name": "hubspot", "status": "error", "kind": "oauth", "account": "hub 4242 (casey@example.com)",
                 "scopes": ["crm.objects.contacts.read"], "expires_at": "2026-12-01T09:30:00Z",
                 "last_good_call_at": "2026-11-30T18:00:00Z",
                 "last_error": {"code": "connector.invalid_grant", "at": "2026-12-01T09:26:00Z"},
                 "connect": ["oauth", "token", "config"], "note": "its credential no longer works: connect it again"},
                {"name": "llm", "status": "not_connected", "kind": null, "account": null, "scopes": [],
                 "expires_at": null, "last_good_call_at": null, "last_error": null, "connect": ["config"],
                 "note": "set llm_base_url (and llm_api_key) in the configuration; until then agents write with their offline writers"}
            ],
            "next_cursor": null,
            "total": 4
         })),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_connectors(
    State(state): State<AppState>,
    _principal: Principal,
) -> Result<Json<ConnectorListResponse>, ApiError> {
    let items = state.credentials.describe_all(now()).await?;
    Ok(Json(ConnectorListResponse {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// One connector, as the list shows it.
#[utoipa::path(
    get,
    path = "/api/connectors/{name}",
    tag = "connectors",
    params(("name" = ConnectorName, Path, description = "`gmail`, `google_calendar`, `hubspot` or `llm`")),
    responses(
        (status = 200, description = "The connector", body = ConnectorResponse),
        (status = 400, description = "`request.invalid_path`: no connector has this name", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_connector(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(name): ApiPath<ConnectorName>,
) -> Result<Json<ConnectorResponse>, ApiError> {
    Ok(Json(state.credentials.describe(name, now()).await?))
}
