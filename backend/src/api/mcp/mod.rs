//! The MCP server (Model Context Protocol, through the official SDK `rmcp`): streamable
//! HTTP at `/mcp` and stdio (`caseyos mcp`). Its tools are every public operation of our
//! API, generated from the OpenAPI document (the same input schemas), and each call is that
//! operation, made with the caller's CaseyOS API token — so an MCP client can do nothing
//! its token could not, and every change is in the audit history as its user's. Its
//! resources are Today's Moves and the dashboard.
//!
//! `/mcp` refuses a request without a valid bearer token (401 with `WWW-Authenticate:
//! Bearer`); `caseyos mcp` calls a running CaseyOS (`--url`) with `CASEYOS_TOKEN` (or
//! `--token`).

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{json, Map, Value};

use super::chat::tools::{public_catalogue, Tool};
use crate::auth::Principal;
use crate::http::dispatch::{dispatch, CallerCredentials, Dispatched};
use crate::http::error::ApiError;
use crate::state::AppState;

/// The resources: their URI, name, description and the operation that reads them.
const RESOURCES: &[(&str, &str, &str, &str)] = &[
    (
        "caseyos://todays-moves",
        "Today's Moves",
        "Your proposed moves awaiting a decision, ranked by APS",
        "/api/queue/today",
    ),
    (
        "caseyos://dashboard",
        "Dashboard",
        "Every dashboard widget: stats, top moves, agents, pipeline health, activity",
        "/api/dashboard",
    ),
];

/// Where the calls go.
enum Backend {
    /// This instance's own router (`/mcp`), with the request's bearer token.
    InProcess(AppState),
    /// A running CaseyOS over HTTP (`caseyos mcp`), with one token.
    Remote {
        http: reqwest::Client,
        base: String,
        token: String,
    },
}

/// The MCP server: our operations as tools.
#[derive(Clone)]
pub struct CaseyMcp {
    tools: Arc<Vec<(Tool, rmcp::model::Tool)>>,
    backend: Arc<Backend>,
}

fn as_mcp_tool(tool: &Tool) -> rmcp::model::Tool {
    let mut schema = match &tool.parameters {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    if tool.changes_state() {
        if let Some(Value::Object(properties)) = schema.get_mut("properties") {
            properties.insert(
                "idempotency_key".into(),
                json!({"type": "string", "minLength": 1, "maxLength": 255,
                       "description": "Retry-safe key: a repeat with the same key changes nothing"}),
            );
        }
    }
    let read_only = !tool.changes_state();
    rmcp::model::Tool::new(tool.name.clone(), tool.description.clone(), schema)
        .with_annotations(ToolAnnotations::new().read_only(read_only))
}

impl CaseyMcp {
    fn new(document: &Value, backend: Backend) -> Self {
        let tools = public_catalogue(document)
            .into_iter()
            .map(|t| {
                let mcp = as_mcp_tool(&t);
                (t, mcp)
            })
            .collect();
        CaseyMcp {
            tools: Arc::new(tools),
            backend: Arc::new(backend),
        }
    }

    /// Over this instance's own router, with the tools of its `document`.
    pub fn in_process(state: AppState, document: &Value) -> Self {
        CaseyMcp::new(document, Backend::InProcess(state))
    }

    /// Over HTTP to the CaseyOS at `base` with `token`: the tools from its own document.
    pub async fn remote(base: &str, token: &str) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .user_agent(concat!("caseyos-mcp/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let answer = http
            .get(format!("{base}/api/openapi.json"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach CaseyOS at {base}: {}", e.without_url()))?;
        let status = answer.status();
        if !status.is_success() {
            anyhow::bail!(
                "CaseyOS at {base} answered {status} for its OpenAPI document: check CASEYOS_TOKEN"
            );
        }
        let document: Value = answer.json().await?;
        Ok(CaseyMcp::new(
            &document,
            Backend::Remote {
                http,
                base,
                token: token.to_string(),
            },
        ))
    }

    /// One request of our API as the caller (`authorization`: the `/mcp` request's header).
    async fn call(
        &self,
        authorization: Option<&HeaderValue>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Dispatched, String> {
        match self.backend.as_ref() {
            Backend::InProcess(state) => {
                let token = authorization
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer ").or(v.strip_prefix("bearer ")))
                    .ok_or("no bearer token")?;
                let caller = CallerCredentials::bearer(token.trim()).map_err(|e| e.message)?;
                let meta = caseyos_store::CommandMeta::system("mcp");
                dispatch(state, &caller, &meta, method, path, body, key)
                    .await
                    .map_err(|e| e.message)
            }
            Backend::Remote { http, base, token } => {
                let mut request = http
                    .request(method, format!("{base}{path}"))
                    .bearer_auth(token);
                if let Some(body) = body {
                    request = request.json(body);
                }
                if let Some(key) = key {
                    request = request.header("idempotency-key", key);
                }
                let answer = request
                    .send()
                    .await
                    .map_err(|e| format!("CaseyOS did not answer: {}", e.without_url()))?;
                let status = answer.status().as_u16();
                let text = answer.text().await.map_err(|e| e.to_string())?;
                let body = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
                    Value::Null
                } else {
                    Value::String(text)
                });
                Ok(Dispatched { status, body })
            }
        }
    }
}

/// The `Authorization` header of the HTTP request behind an MCP call (none over stdio).
fn authorization(context: &RequestContext<RoleServer>) -> Option<HeaderValue> {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|parts| parts.headers.get(header::AUTHORIZATION).cloned())
}

impl ServerHandler for CaseyMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("caseyos", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "CaseyOS, the go-to-market command center. Each tool is one operation of its REST \
             API, called with your API token: you can do what that token can, no more. Tools \
             that change something take an optional idempotency_key that makes a retry safe.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.tools.iter().map(|(_, t)| t.clone()).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.tools
            .iter()
            .find(|(t, _)| t.name == name)
            .map(|(_, t)| t.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some((tool, _)) = self.tools.iter().find(|(t, _)| t.name == request.name) else {
            return Err(ErrorData::invalid_params(
                format!("no tool `{}`", request.name),
                None,
            ));
        };
        let mut arguments = Value::Object(request.arguments.unwrap_or_default());
        let key = arguments
            .as_object_mut()
            .and_then(|a| a.remove("idempotency_key"))
            .and_then(|k| k.as_str().map(|k| format!("mcp-{k}")));
        let (method, path, body) = match tool.request(&arguments) {
            Ok(request) => request,
            Err(problem) => {
                return Ok(CallToolResult::structured_error(json!({"error": problem})).into());
            }
        };
        let auth = authorization(&context);
        let answer = match self
            .call(auth.as_ref(), method, &path, body.as_ref(), key.as_deref())
            .await
        {
            Ok(answer) => answer,
            Err(problem) => {
                return Ok(CallToolResult::structured_error(json!({"error": problem})).into());
            }
        };
        let result = json!({"status": answer.status, "body": answer.body});
        Ok(if answer.ok() {
            CallToolResult::structured(result)
        } else {
            CallToolResult::structured_error(result)
        }
        .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(
            RESOURCES
                .iter()
                .map(|(uri, name, description, _)| {
                    Resource::new(*uri, *name)
                        .with_description(*description)
                        .with_mime_type("application/json")
                })
                .collect(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let Some((uri, _, _, path)) = RESOURCES.iter().find(|(uri, ..)| *uri == request.uri) else {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        };
        let auth = authorization(&context);
        let answer = self
            .call(auth.as_ref(), Method::GET, path, None, None)
            .await
            .map_err(|e| ErrorData::internal_error(e, None))?;
        if !answer.ok() {
            return Err(ErrorData::invalid_request(
                format!("CaseyOS answered {}: {}", answer.status, answer.body),
                None,
            ));
        }
        Ok(
            ReadResourceResult::new(vec![ResourceContents::text(answer.body.to_string(), *uri)
                .with_mime_type("application/json")])
            .into(),
        )
    }
}

/// `/mcp` refuses what has no valid bearer token before the protocol sees it.
async fn require_bearer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let challenge = |error: ApiError| {
        let mut response = error.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"caseyos\""),
        );
        response
    };
    if request.headers().get(header::AUTHORIZATION).is_none() {
        return challenge(ApiError::unauthorized(
            "auth.missing_credentials",
            "send `Authorization: Bearer <token>` (a CaseyOS API token)",
        ));
    }
    let (mut parts, body) = request.into_parts();
    match Principal::from_request_parts(&mut parts, &state).await {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => challenge(error),
        Err(error) => error.into_response(),
    }
}

/// The `/mcp` route: streamable HTTP, each request authenticated by its bearer token.
pub fn router(state: AppState, document: &Value) -> axum::Router<AppState> {
    let handler = CaseyMcp::in_process(state.clone(), document);
    let mut hosts = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Some(host) = reqwest::Url::parse(&state.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
    {
        hosts.push(host);
    }
    let service = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_cancellation_token(state.shutdown.child_token()),
    );
    axum::Router::new()
        .nest_service("/mcp", service)
        .route_layer(middleware::from_fn_with_state(state, require_bearer))
}

/// `caseyos mcp`: serves MCP on stdin/stdout for the CaseyOS at `url`, as `token`'s user.
pub async fn serve_stdio(url: &str, token: &str) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let server = CaseyMcp::remote(url, token).await?;
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("the MCP client did not start a session: {e}"))?;
    running.waiting().await?;
    Ok(())
}
