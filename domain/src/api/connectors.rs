//! Connectors: which external services CaseyOS can act through, how each is connected,
//! and the connect / disconnect operations. Tokens never appear in any of these.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::connectors::{ConnectMethod, ConnectorName, CredentialKind};
use crate::kernel::unit_enum::read_unit_enum;

/// Where a connector stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectorStatus {
    /// A credential is stored (or configured) and not known to be broken.
    Connected,
    /// No credential: its actions fail with `connector.not_connected`.
    NotConnected,
    /// The access token expires within 24 hours and there is no working refresh token.
    Expiring,
    /// The credential was refused or could not be refreshed: reconnect it.
    Error,
}

read_unit_enum!(ConnectorStatus {
    Connected = "connected",
    NotConnected = "not_connected",
    Expiring = "expiring",
    Error = "error",
});

impl ConnectorStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectorStatus::Connected => "connected",
            ConnectorStatus::NotConnected => "not_connected",
            ConnectorStatus::Expiring => "expiring",
            ConnectorStatus::Error => "error",
        }
    }
}

/// The last failure of a connector's calls or of its token's refresh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConnectorLastError {
    /// A stable code, e.g. `connector.invalid_grant`, `hubspot.unauthorized`.
    #[cfg_attr(feature = "server", schema(example = "connector.invalid_grant"))]
    pub code: String,
    pub at: DateTime<Utc>,
}

/// One connector as `GET /api/connectors` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "name": "gmail",
    "status": "connected",
    "kind": "oauth",
    "account": "casey@example.com",
    "scopes": ["https://www.googleapis.com/auth/gmail.send"],
    "expires_at": "2026-12-01T10:00:00Z",
    "last_good_call_at": "2026-12-01T09:12:00Z",
    "last_error": null,
    "connect": ["oauth"],
    "note": null
})))]
pub struct ConnectorResponse {
    pub name: ConnectorName,
    pub status: ConnectorStatus,
    /// Where its credential came from; absent when not connected.
    pub kind: Option<CredentialKind>,
    /// The account it acts as (an email address; for HubSpot the hub id and user).
    pub account: Option<String>,
    /// The scopes granted (empty when unknown, e.g. a configured token).
    pub scopes: Vec<String>,
    /// When the access token expires; absent for tokens that do not (private-app,
    /// configuration).
    pub expires_at: Option<DateTime<Utc>>,
    pub last_good_call_at: Option<DateTime<Utc>>,
    pub last_error: Option<ConnectorLastError>,
    /// How it can be connected.
    pub connect: Vec<ConnectMethod>,
    /// What else a person should know (e.g. "configured in `hubspot_token`: change it
    /// there").
    pub note: Option<String>,
}

/// Every connector, in a fixed order (`gmail`, `google_calendar`, `hubspot`, `llm`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConnectorListResponse {
    pub items: Vec<ConnectorResponse>,
    /// Always absent: every connector is on the one page.
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// Where to send the person who connects: the provider's consent page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=…&state=…&code_challenge=…&code_challenge_method=S256",
    "expires_at": "2026-12-01T10:10:00Z"
})))]
pub struct ConnectAuthorizationResponse {
    pub authorize_url: String,
    /// The authorization must come back before this (10 minutes).
    pub expires_at: DateTime<Utc>,
}

/// A HubSpot private-app access token (`pat-…`). It is checked with one call before it is
/// stored, and never shown again.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrivateAppTokenRequest {
    /// 1–1024 printable ASCII characters without spaces.
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 1024,
            pattern = r"^[!-~]{1,1024}$",
            example = "pat-na1-00000000-0000-0000-0000-000000000000"
        )
    )]
    pub token: String,
}

/// The token is never shown, not even in debug output.
impl std::fmt::Debug for PrivateAppTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateAppTokenRequest")
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What disconnecting did: the stored secrets are deleted either way; `revoked` says
/// whether the provider confirmed the grant is revoked, `reason` why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "name": "gmail", "revoked": false, "reason": "Google's revocation endpoint answered 503"
})))]
pub struct DisconnectResponse {
    pub name: ConnectorName,
    pub revoked: bool,
    pub reason: Option<String>,
}
