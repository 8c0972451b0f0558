//! Connectors: the external services CaseyOS acts through (Gmail, Google Calendar,
//! HubSpot) and the facts about their credentials that belong in the log — who connected
//! which account with which scopes, and who disconnected it, whether the provider revoked
//! the grant and why not. The secrets themselves are never in an event: they live
//! encrypted in the backend's `connector_credentials` table, so disconnecting truly deletes
//! them.
//!
//! One aggregate per connector, its id the connector's name (`gmail`):
//! `connected → disconnected → connected …`. Connecting a connected connector again (a new
//! grant) records a new `ConnectorConnected`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::unit_enum::read_unit_enum;
use crate::kernel::Actor;

#[cfg(test)]
mod tests;

/// The version every connector event is written with.
pub const CONNECTOR_EVENT_VERSION: &str = "1";

/// A connector CaseyOS knows. Its name is the aggregate id and the path segment of
/// `/api/connectors/{name}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectorName {
    Gmail,
    GoogleCalendar,
    Hubspot,
    /// The language model (an OpenAI-compatible API): configuration only.
    Llm,
}

read_unit_enum!(ConnectorName {
    Gmail = "gmail",
    GoogleCalendar = "google_calendar",
    Hubspot = "hubspot",
    Llm = "llm",
});

impl ConnectorName {
    /// Every connector, in the order the API lists them.
    pub const ALL: &'static [ConnectorName] = &[
        ConnectorName::Gmail,
        ConnectorName::GoogleCalendar,
        ConnectorName::Hubspot,
        ConnectorName::Llm,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectorName::Gmail => "gmail",
            ConnectorName::GoogleCalendar => "google_calendar",
            ConnectorName::Hubspot => "hubspot",
            ConnectorName::Llm => "llm",
        }
    }

    pub fn parse(raw: &str) -> Option<ConnectorName> {
        ConnectorName::ALL
            .iter()
            .copied()
            .find(|n| n.as_str() == raw)
    }

    /// The ways this connector can be connected.
    pub fn connect_methods(self) -> &'static [ConnectMethod] {
        match self {
            ConnectorName::Gmail | ConnectorName::GoogleCalendar => &[ConnectMethod::Oauth],
            ConnectorName::Hubspot => &[
                ConnectMethod::Oauth,
                ConnectMethod::Token,
                ConnectMethod::Config,
            ],
            ConnectorName::Llm => &[ConnectMethod::Config],
        }
    }
}

impl std::fmt::Display for ConnectorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a connector's credential came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// An OAuth 2.0 grant (authorization code with PKCE): an access token refreshed with
    /// its refresh token.
    Oauth,
    /// A HubSpot private-app token given through the API.
    PrivateApp,
    /// The configuration (`hubspot_token`, `llm_api_key`): changed only there.
    Config,
}

read_unit_enum!(CredentialKind {
    Oauth = "oauth",
    PrivateApp = "private_app",
    Config = "config",
});

impl CredentialKind {
    pub const ALL: &'static [CredentialKind] = &[
        CredentialKind::Oauth,
        CredentialKind::PrivateApp,
        CredentialKind::Config,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Oauth => "oauth",
            CredentialKind::PrivateApp => "private_app",
            CredentialKind::Config => "config",
        }
    }

    pub fn parse(raw: &str) -> Option<CredentialKind> {
        CredentialKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == raw)
    }
}

/// How a connector is connected: `oauth` (`POST /api/connectors/{name}/connect`), `token`
/// (`PUT /api/connectors/hubspot/token`) or `config` (the configuration file or
/// environment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectMethod {
    Oauth,
    Token,
    Config,
}

read_unit_enum!(ConnectMethod {
    Oauth = "oauth",
    Token = "token",
    Config = "config",
});

#[derive(Clone, Debug, PartialEq)]
pub enum ConnectorCommand {
    /// A credential was stored (a completed OAuth grant, a checked private-app token).
    RecordConnected {
        name: ConnectorName,
        kind: CredentialKind,
        /// The account it acts as (an email address, `hub 1234 (user@x)`).
        account: Option<String>,
        scopes: Vec<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// The credential was deleted.
    RecordDisconnected {
        /// Whether the provider confirmed the grant is revoked.
        revoked: bool,
        /// Why not, when it was not.
        reason: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ConnectorEvent {
    ConnectorConnected(ConnectorConnected),
    ConnectorDisconnected(ConnectorDisconnected),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorConnected {
    pub name: ConnectorName,
    pub kind: CredentialKind,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorDisconnected {
    pub revoked: bool,
    pub reason: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A connector's history as audit replay shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConnectorView {
    pub name: ConnectorName,
    pub connected: bool,
    pub kind: CredentialKind,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    pub connected_by: Actor,
    pub connected_at: DateTime<Utc>,
    pub disconnected_by: Option<Actor>,
    pub disconnected_at: Option<DateTime<Utc>>,
    /// Whether the last disconnection was confirmed by the provider.
    pub revoked: Option<bool>,
    pub revoke_failure: Option<String>,
    pub version: u64,
}

/// The connector aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub connector: Option<ConnectorView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    #[error("the connector is not connected")]
    NotConnected,
    #[error("a connector's id is its name; this command names another connector")]
    WrongName,
}

impl DomainError for ConnectorError {
    fn code(&self) -> &'static str {
        match self {
            ConnectorError::NotConnected => "connector.not_connected",
            ConnectorError::WrongName => "request.validation",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            ConnectorError::NotConnected => RejectionKind::NotFound,
            ConnectorError::WrongName => RejectionKind::Invalid {
                field: "name",
                message: self.to_string(),
            },
        }
    }
}

impl Aggregate for Connector {
    const TYPE: &'static str = "connector";
    const EVENT_VERSION: &'static str = CONNECTOR_EVENT_VERSION;
    type Command = ConnectorCommand;
    type Event = ConnectorEvent;
    type Error = ConnectorError;
    type View = ConnectorView;

    fn command_name(command: &ConnectorCommand) -> &'static str {
        match command {
            ConnectorCommand::RecordConnected { .. } => "record_connected",
            ConnectorCommand::RecordDisconnected { .. } => "record_disconnected",
        }
    }

    fn event_name(event: &ConnectorEvent) -> &'static str {
        match event {
            ConnectorEvent::ConnectorConnected(_) => "ConnectorConnected",
            ConnectorEvent::ConnectorDisconnected(_) => "ConnectorDisconnected",
        }
    }

    fn view(&self) -> Option<&ConnectorView> {
        self.connector.as_ref()
    }

    fn into_view(self) -> Option<ConnectorView> {
        self.connector
    }

    fn decide(&self, command: ConnectorCommand) -> Result<Vec<ConnectorEvent>, ConnectorError> {
        match command {
            ConnectorCommand::RecordConnected {
                name,
                kind,
                account,
                scopes,
                by,
                at,
            } => {
                if self.connector.as_ref().is_some_and(|c| c.name != name) {
                    return Err(ConnectorError::WrongName);
                }
                Ok(vec![ConnectorEvent::ConnectorConnected(
                    ConnectorConnected {
                        name,
                        kind,
                        account,
                        scopes,
                        by,
                        at,
                    },
                )])
            }
            ConnectorCommand::RecordDisconnected {
                revoked,
                reason,
                by,
                at,
            } => {
                let connector = self
                    .connector
                    .as_ref()
                    .ok_or(ConnectorError::NotConnected)?;
                if !connector.connected {
                    return Err(ConnectorError::NotConnected);
                }
                Ok(vec![ConnectorEvent::ConnectorDisconnected(
                    ConnectorDisconnected {
                        revoked,
                        reason,
                        by,
                        at,
                    },
                )])
            }
        }
    }

    fn apply(&mut self, event: ConnectorEvent) {
        let version = self.connector.as_ref().map_or(0, |c| c.version) + 1;
        match event {
            ConnectorEvent::ConnectorConnected(e) => {
                self.connector = Some(ConnectorView {
                    name: e.name,
                    connected: true,
                    kind: e.kind,
                    account: e.account,
                    scopes: e.scopes,
                    connected_by: e.by,
                    connected_at: e.at,
                    disconnected_by: None,
                    disconnected_at: None,
                    revoked: None,
                    revoke_failure: None,
                    version,
                });
            }
            ConnectorEvent::ConnectorDisconnected(e) => {
                if let Some(connector) = self.connector.as_mut() {
                    connector.connected = false;
                    connector.disconnected_by = Some(e.by);
                    connector.disconnected_at = Some(e.at);
                    connector.revoked = Some(e.revoked);
                    connector.revoke_failure = e.reason;
                    connector.version = version;
                }
            }
        }
    }
}
