//! Connecting and disconnecting: an OAuth authorization (its consent URL, then the
//! provider's redirect to the callback), a HubSpot private-app token, and disconnection
//! (revoked at the provider, deleted here). Each completed connection and disconnection is
//! an event of the `connector` aggregate; the secrets are only in the credential store.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use caseyos_domain::api::{
    ConnectAuthorizationResponse, ConnectorResponse, DisconnectResponse, ErrorEnvelope,
    PrivateAppTokenRequest,
};
use caseyos_domain::connectors::{Connector, ConnectorCommand, ConnectorName, CredentialKind};
use caseyos_domain::kernel::Actor;
use caseyos_store::{now, CommandError, CommandMeta};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Role;
use crate::config::HubSpotConfig;
use crate::connectors::credentials::{AuthorizationError, NewCredential};
use crate::connectors::hubspot::HubSpotClient;
use crate::connectors::oauth::display_name;
use crate::connectors::ConnectorError;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The callback's path: the redirect URI is `public_url` + this.
pub const CALLBACK_PATH: &str = "/api/connectors/oauth/callback";
/// The SPA page the callback sends the person back to.
pub const SETTINGS_PAGE: &str = "/settings/connectors";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connect_connector))
        .routes(routes!(oauth_callback))
        .routes(routes!(put_hubspot_token))
        .routes(routes!(disconnect_connector))
}

/// A connector whose credential is the configuration's, which the API cannot change.
fn config_managed(name: ConnectorName) -> ApiError {
    let how = match name {
        ConnectorName::Llm => "the language model is configured by llm_base_url and llm_api_key",
        _ => "HubSpot is connected by hubspot_token in the configuration",
    };
    ApiError::new(
        StatusCode::CONFLICT,
        "connector.config_managed",
        format!("{how}; change it there, not through the API"),
    )
}

/// Records a fact about a connector. The credential is already stored (or deleted): a
/// failure to record is logged, not undone.
async fn record(
    state: &AppState,
    name: ConnectorName,
    command: ConnectorCommand,
    meta: &CommandMeta,
) {
    match state.bus.execute::<Connector>(name, command, meta).await {
        Ok(_) | Err(CommandError::Rejected(_)) => {}
        Err(error) => {
            tracing::error!(connector = %name, error = %error, "recording a connector event failed")
        }
    }
}

/// Start connecting by OAuth 2.0 (authorization code with PKCE, S256): answers the
/// provider's consent URL to send the person to. Its `state` (32 random bytes) and PKCE
/// verifier are kept server-side for 10 minutes and can be used once; the provider then
/// redirects to `GET /api/connectors/oauth/callback`. Google asks for offline access
/// (`access_type=offline&prompt=consent`): Gmail's scopes are `gmail.send`,
/// `gmail.compose`, `gmail.readonly`; Google Calendar's `calendar.events`,
/// `calendar.readonly`; HubSpot's the contacts and deals read and write scopes (tasks and
/// notes go with contacts) and owners read.
#[utoipa::path(
    post,
    path = "/api/connectors/{name}/connect",
    tag = "connectors",
    params(("name" = ConnectorName, Path, description = "`gmail`, `google_calendar` or `hubspot`")),
    responses(
        (status = 200, description = "Where to send the person: the provider's consent page", body = ConnectAuthorizationResponse),
        (status = 400, description = "`request.invalid_path`: no connector has this name", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "`auth.forbidden`: only admins connect services", body = ErrorEnvelope),
        (status = 409, description = "`connector.misconfigured`: no OAuth client is configured for this provider \
            (`google_client_id`/`google_client_secret`, `hubspot_client_id`/`hubspot_client_secret`); \
            `connector.config_managed`: the LLM is configured, not connected", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn connect_connector(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(name): ApiPath<ConnectorName>,
) -> Result<Json<ConnectAuthorizationResponse>, ApiError> {
    ctx.principal.require(Role::Admin)?;
    if name == ConnectorName::Llm {
        return Err(config_managed(name));
    }
    let redirect_uri = format!("{}{CALLBACK_PATH}", state.public_url);
    let (authorize_url, expires_at) = state
        .credentials
        .begin_authorization(name, &ctx.principal.user, &redirect_uri)
        .await?;
    tracing::info!(connector = %name, by = %ctx.principal.user, "connector authorization started");
    Ok(Json(ConnectAuthorizationResponse {
        authorize_url,
        expires_at,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    /// The authorization code (on consent).
    code: Option<String>,
    /// The `state` of the authorization this completes.
    state: Option<String>,
    /// The provider's error (`access_denied` when the person refused).
    error: Option<String>,
}

/// Where the provider sends the person back (the redirect URI: `public_url` + this path).
/// Takes the authorization of `state` (once; it expires after 10 minutes), exchanges the
/// code at the token endpoint with the PKCE verifier, reads the account (Google's userinfo
/// email; HubSpot's hub and user), stores the tokens sealed, records `ConnectorConnected`,
/// and redirects to the SPA's `/settings/connectors?connector=<name>&result=connected`.
/// Any failure redirects to `/settings/connectors?result=error&code=<code>` (with
/// `connector=` when known): `connector.oauth_state_invalid` (unknown or already used
/// state), `connector.oauth_state_expired`, `connector.oauth_denied` (refused at the
/// provider), `connector.oauth_failed` (the provider's token or account endpoint failed).
/// It takes none of our credentials: the single-use state authenticates it.
#[utoipa::path(
    get,
    path = "/api/connectors/oauth/callback",
    tag = "connectors",
    params(CallbackQuery),
    responses(
        (status = 303, description = "Back to the SPA's connectors page with the result in the query",
         headers(("Location" = String, description = "`/settings/connectors?connector=gmail&result=connected`, or `…?result=error&code=connector.oauth_state_invalid`"))),
        (status = 400, description = "`request.invalid_query`: the query could not be read", body = ErrorEnvelope),
    )
)]
async fn oauth_callback(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Response {
    let credentials = &state.credentials;
    let outcome = match (
        query.state.as_deref(),
        query.code.as_deref(),
        query.error.as_deref(),
    ) {
        (Some(auth_state), _, Some(_)) => match credentials.abandon_authorization(auth_state).await
        {
            Ok(name) => Err(("connector.oauth_denied", Some(name))),
            Err(error) => Err((error.code(), error.name())),
        },
        (Some(auth_state), Some(code), None) => {
            match credentials.complete_authorization(auth_state, code).await {
                Ok(connected) => Ok(connected),
                Err(error) => {
                    if let AuthorizationError::Provider { name, error } = &error {
                        tracing::warn!(connector = %name, error.code = error.code(), error = %error, "connector authorization failed");
                    }
                    Err((error.code(), error.name()))
                }
            }
        }
        _ => Err(("connector.oauth_state_invalid", None)),
    };
    let location = match outcome {
        Ok(connected) => {
            let mut meta = CommandMeta::system("oauth_callback");
            meta.actor = Actor::user(connected.requested_by.clone());
            let command = ConnectorCommand::RecordConnected {
                name: connected.name,
                kind: connected.kind,
                account: connected.account.clone(),
                scopes: connected.scopes.clone(),
                by: Actor::user(connected.requested_by.clone()),
                at: now(),
            };
            record(&state, connected.name, command, &meta).await;
            tracing::info!(connector = %connected.name, by = %connected.requested_by, "connector connected");
            format!(
                "{SETTINGS_PAGE}?connector={}&result=connected",
                connected.name
            )
        }
        Err((code, name)) => match name {
            Some(name) => format!("{SETTINGS_PAGE}?connector={name}&result=error&code={code}"),
            None => format!("{SETTINGS_PAGE}?result=error&code={code}"),
        },
    };
    Redirect::to(&location).into_response()
}

/// Connect HubSpot with a private-app access token instead of OAuth. The token is checked
/// with one cheap authenticated call (a one-contact list) before it is stored sealed; it
/// replaces any stored HubSpot credential and takes precedence over `hubspot_token`. It is
/// never shown again.
#[utoipa::path(
    put,
    path = "/api/connectors/hubspot/token",
    tag = "connectors",
    request_body(content = PrivateAppTokenRequest, description = "The private app's access token",
        example = json!({"token": "pat-na1-00000000-0000-0000-0000-000000000000"})),
    responses(
        (status = 200, description = "Checked and stored: the connector now", body = ConnectorResponse),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "`auth.forbidden`: only admins connect services", body = ErrorEnvelope),
        (status = 422, description = "`request.validation` naming `token`: not 1–1024 printable ASCII characters, \
            or HubSpot refused it", body = ErrorEnvelope),
        (status = 502, description = "HubSpot could not check the token (`hubspot.server_error`, `hubspot.timeout`, \
            `hubspot.transport`, `hubspot.rate_limited`, …): nothing was stored", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn put_hubspot_token(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<PrivateAppTokenRequest>,
) -> Result<Json<ConnectorResponse>, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let token = request.token;
    if token.is_empty() || token.len() > 1024 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(
            "token",
            "must be 1–1024 printable ASCII characters without spaces",
        ));
    }
    let mut config = HubSpotConfig::new(state.config.hubspot_base_url.trim(), token.as_str());
    config.max_attempts = 2;
    match HubSpotClient::new(config)?.check().await {
        Ok(()) => {}
        Err(ConnectorError::Unauthorized { status, .. }) => {
            return Err(ApiError::field(
                "token",
                format!("HubSpot refused it ({status}); check the private app's token and scopes"),
            ));
        }
        Err(error) => return Err(error.into()),
    }
    let name = ConnectorName::Hubspot;
    let credential = NewCredential {
        kind: CredentialKind::PrivateApp,
        access_token: token,
        refresh_token: None,
        expires_at: None,
        scopes: Vec::new(),
        account: None,
        hub_id: None,
    };
    state
        .credentials
        .store(name, credential, &ctx.principal.user)
        .await?;
    let command = ConnectorCommand::RecordConnected {
        name,
        kind: CredentialKind::PrivateApp,
        account: None,
        scopes: Vec::new(),
        by: ctx.principal.actor(),
        at: now(),
    };
    record(&state, name, command, &ctx.meta).await;
    tracing::info!(connector = %name, by = %ctx.principal.user, "HubSpot private-app token stored");
    Ok(Json(state.credentials.describe(name, now()).await?))
}

/// Disconnect: revoke the grant at the provider (Google's revocation endpoint; HubSpot's
/// refresh-token deletion) and delete the stored secrets. When the provider cannot be
/// reached or refuses, the secrets are deleted all the same and the answer says
/// `revoked: false` with the reason; a private-app token cannot be revoked through
/// HubSpot's API (delete it in HubSpot). Records `ConnectorDisconnected`.
#[utoipa::path(
    delete,
    path = "/api/connectors/{name}",
    tag = "connectors",
    params(("name" = ConnectorName, Path, description = "`gmail`, `google_calendar`, `hubspot` or `llm`")),
    responses(
        (status = 200, description = "Deleted here; `revoked` says whether the provider confirmed", body = DisconnectResponse),
        (status = 400, description = "`request.invalid_path`: no connector has this name", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "`auth.forbidden`: only admins disconnect services", body = ErrorEnvelope),
        (status = 404, description = "`connector.not_connected`: nothing is stored for it", body = ErrorEnvelope),
        (status = 409, description = "`connector.config_managed`: its credential is the configuration's \
            (`hubspot_token`, the LLM): change it there", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn disconnect_connector(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(name): ApiPath<ConnectorName>,
) -> Result<Json<DisconnectResponse>, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let current = state.credentials.state(name).await?;
    match current.kind {
        None => {
            return Err(ApiError::not_found(
                "connector.not_connected",
                format!("{} is not connected", display_name(name)),
            ))
        }
        Some(CredentialKind::Config) => return Err(config_managed(name)),
        Some(_) => {}
    }
    let revocation = match state.credentials.disconnect(name).await {
        Err(ConnectorError::NotConnected { .. }) => {
            return Err(ApiError::not_found(
                "connector.not_connected",
                format!("{} is not connected", display_name(name)),
            ))
        }
        other => other?,
    };
    let command = ConnectorCommand::RecordDisconnected {
        revoked: revocation.revoked,
        reason: revocation.reason.clone(),
        by: ctx.principal.actor(),
        at: now(),
    };
    record(&state, name, command, &ctx.meta).await;
    tracing::info!(connector = %name, revoked = revocation.revoked, by = %ctx.principal.user, "connector disconnected");
    Ok(Json(DisconnectResponse {
        name,
        revoked: revocation.revoked,
        reason: revocation.reason,
    }))
}
