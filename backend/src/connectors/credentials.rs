//! Connector credentials: where the tokens the clients send come from. Stored sealed in
//! `connector_credentials` (see `sealing.rs`), one row per connector; OAuth authorizations
//! in flight in `connector_authorizations` (server-side, single use, 10 minutes). HubSpot
//! falls back to the configuration's `hubspot_token` (kind `config`) when nothing is
//! stored.
//!
//! [`Credentials::access_token`] answers a token that is valid for at least five more
//! minutes, refreshing it first when needed under a per-connector PostgreSQL advisory lock
//! (two instances never both refresh: the second waits, then finds the fresh token).
//! [`Credentials::record_call`] keeps each connector's last good call and last error.
//!
//! Tokens never appear in logs, `Debug` output, events or API answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caseyos_domain::api::{ConnectorLastError, ConnectorResponse, ConnectorStatus};
use caseyos_domain::connectors::{ConnectorName, CredentialKind};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

use super::oauth::{display_name, OAuth, TokenGrant};
use super::sealing::SealingKey;
use super::ConnectorError;
use crate::config::Config;

/// A token is refreshed when it expires within this.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);
/// A token that expires within this without a working refresh token is `expiring`.
pub const EXPIRY_WARNING: chrono::Duration = chrono::Duration::hours(24);
/// How long an authorization may take to come back.
pub const AUTHORIZATION_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// Successful calls are recorded at most this often per connector.
const GOOD_CALL_EVERY: Duration = Duration::from_secs(60);

/// The connectors whose credentials are stored in the table.
pub const STORED: &[ConnectorName] = &[
    ConnectorName::Gmail,
    ConnectorName::GoogleCalendar,
    ConnectorName::Hubspot,
];

/// A valid access token and whom it acts as. Its `Debug` output hides the secret.
#[derive(Clone)]
pub struct AccessToken {
    /// Sent as `Authorization: Bearer <secret>`; never logged.
    pub secret: String,
    pub account: Option<String>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("account", &self.account)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A credential to store (a completed grant, a checked private-app token, a test's fake).
#[derive(Clone)]
pub struct NewCredential {
    pub kind: CredentialKind,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub account: Option<String>,
    pub hub_id: Option<String>,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("kind", &self.kind)
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("account", &self.account)
            .finish()
    }
}

/// A connector's state without its secrets: what the API and the alerts read.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectorState {
    pub name: ConnectorName,
    /// `None`: not connected.
    pub kind: Option<CredentialKind>,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// A refresh token is stored and was not refused.
    pub refreshable: bool,
    /// The provider refused the refresh token (`invalid_grant`).
    pub refresh_failed: bool,
    pub connected_by: Option<String>,
    pub last_good_call_at: Option<DateTime<Utc>>,
    pub last_error: Option<(String, DateTime<Utc>)>,
}

/// Error codes that mean the credential itself is broken (not the provider or the network).
fn is_credential_error(code: &str) -> bool {
    code.ends_with(".unauthorized")
        || matches!(
            code,
            "connector.invalid_grant"
                | "connector.credentials_unreadable"
                | "connector.token_expired"
        )
}

impl ConnectorState {
    fn not_connected(name: ConnectorName) -> Self {
        ConnectorState {
            name,
            kind: None,
            account: None,
            scopes: Vec::new(),
            expires_at: None,
            refreshable: false,
            refresh_failed: false,
            connected_by: None,
            last_good_call_at: None,
            last_error: None,
        }
    }

    /// `not_connected` without a credential; `error` when its grant was refused, it expired
    /// without a way to refresh it, or its last call was refused after the last good one;
    /// `expiring` when it expires within 24 hours without a working refresh token;
    /// otherwise `connected`.
    pub fn status(&self, now: DateTime<Utc>) -> ConnectorStatus {
        if self.kind.is_none() {
            return ConnectorStatus::NotConnected;
        }
        if self.refresh_failed {
            return ConnectorStatus::Error;
        }
        if let Some(expires_at) = self.expires_at {
            if !self.refreshable {
                if expires_at <= now {
                    return ConnectorStatus::Error;
                }
                if expires_at <= now + EXPIRY_WARNING {
                    return ConnectorStatus::Expiring;
                }
            }
        }
        if let Some((code, at)) = &self.last_error {
            if is_credential_error(code) && self.last_good_call_at.is_none_or(|good| good < *at) {
                return ConnectorStatus::Error;
            }
        }
        ConnectorStatus::Connected
    }
}

/// What a completed authorization stored.
#[derive(Clone, Debug)]
pub struct Connected {
    pub name: ConnectorName,
    pub kind: CredentialKind,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    /// Who asked for the authorization (the actor of the `connected` event).
    pub requested_by: String,
}

/// Why a callback could not complete an authorization.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizationError {
    #[error(
        "this authorization is unknown or was already used; start again from the connectors page"
    )]
    UnknownState,
    #[error(
        "this authorization expired (they last 10 minutes); start again from the connectors page"
    )]
    Expired { name: ConnectorName },
    #[error("the authorization could not be read: {0}")]
    Storage(String),
    #[error("{}", .error)]
    Provider {
        name: ConnectorName,
        error: ConnectorError,
    },
}

impl AuthorizationError {
    pub fn code(&self) -> &'static str {
        match self {
            AuthorizationError::UnknownState => "connector.oauth_state_invalid",
            AuthorizationError::Storage(_) => "connector.storage",
            AuthorizationError::Expired { .. } => "connector.oauth_state_expired",
            AuthorizationError::Provider { error, .. } => error.code(),
        }
    }

    pub fn name(&self) -> Option<ConnectorName> {
        match self {
            AuthorizationError::UnknownState | AuthorizationError::Storage(_) => None,
            AuthorizationError::Expired { name } | AuthorizationError::Provider { name, .. } => {
                Some(*name)
            }
        }
    }
}

/// What disconnecting did at the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub revoked: bool,
    pub reason: Option<String>,
}

/// The stored row, secrets still sealed.
struct Stored {
    kind: CredentialKind,
    access_sealed: Option<Vec<u8>>,
    refresh_sealed: Option<Vec<u8>>,
    expires_at: Option<DateTime<Utc>>,
    scopes: Vec<String>,
    account: Option<String>,
    connected_by: String,
    refresh_failed: bool,
    last_good_call_at: Option<DateTime<Utc>>,
    last_error_code: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "select kind, access_sealed, refresh_sealed, expires_at, scopes, account, \
    connected_by, refresh_failed, last_good_call_at, last_error_code, last_error_at \
    from connector_credentials where name = $1";

fn read_stored(row: &sqlx::postgres::PgRow) -> Result<Stored, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(Stored {
        kind: CredentialKind::parse(&kind).unwrap_or(CredentialKind::Config),
        access_sealed: row.try_get("access_sealed")?,
        refresh_sealed: row.try_get("refresh_sealed")?,
        expires_at: row.try_get("expires_at")?,
        scopes: row.try_get("scopes")?,
        account: row.try_get("account")?,
        connected_by: row.try_get("connected_by")?,
        refresh_failed: row.try_get("refresh_failed")?,
        last_good_call_at: row.try_get("last_good_call_at")?,
        last_error_code: row.try_get("last_error_code")?,
        last_error_at: row.try_get("last_error_at")?,
    })
}

/// Where the clients get their tokens. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    key: SealingKey,
    oauth: OAuth,
    /// The configuration's `hubspot_token`, the fallback of HubSpot.
    config_hubspot_token: Option<String>,
    /// The configuration's LLM API key, when an LLM is configured.
    llm: Option<LlmConfigured>,
    /// When a good call was last recorded, per connector.
    recorded: Mutex<HashMap<ConnectorName, Instant>>,
}

#[derive(Clone)]
struct LlmConfigured {
    base_url: String,
    key: Option<String>,
}

/// Never shows a token or the key.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("oauth", &self.inner.oauth)
            .field(
                "config_hubspot_token",
                &self
                    .inner
                    .config_hubspot_token
                    .as_ref()
                    .map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

fn storage(name: ConnectorName) -> impl Fn(sqlx::Error) -> ConnectorError {
    move |e| ConnectorError::Storage {
        connector: display_name(name),
        reason: e.to_string(),
    }
}

/// The key of a state: its SHA-256 (the state itself is never stored).
fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

impl Credentials {
    pub fn new(pool: PgPool, key: SealingKey, config: &Config) -> Result<Self, ConnectorError> {
        let llm = config.llm().map(|llm| LlmConfigured {
            base_url: llm.base_url.clone(),
            key: config.llm_api_key.clone().filter(|k| !k.trim().is_empty()),
        });
        Ok(Credentials {
            inner: Arc::new(Inner {
                pool,
                key,
                oauth: OAuth::from_config(config)?,
                config_hubspot_token: config.hubspot().map(|h| h.token().to_string()),
                llm,
                recorded: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn oauth(&self) -> &OAuth {
        &self.inner.oauth
    }

    async fn load(&self, name: ConnectorName) -> Result<Option<Stored>, ConnectorError> {
        let row = sqlx::query(SELECT)
            .bind(name.as_str())
            .fetch_optional(&self.inner.pool)
            .await
            .map_err(storage(name))?;
        row.as_ref()
            .map(read_stored)
            .transpose()
            .map_err(storage(name))
    }

    fn open(&self, name: ConnectorName, sealed: &[u8]) -> Result<String, ConnectorError> {
        self.inner
            .key
            .open(name.as_str(), sealed)
            .map_err(|_| ConnectorError::Unreadable {
                connector: display_name(name),
            })
    }

    /// The configuration's token of a connector (HubSpot's `hubspot_token`, the LLM's key).
    fn configured_token(&self, name: ConnectorName) -> Option<String> {
        match name {
            ConnectorName::Hubspot => self.inner.config_hubspot_token.clone(),
            ConnectorName::Llm => self.inner.llm.as_ref().and_then(|l| l.key.clone()),
            _ => None,
        }
    }

    /// A token valid for at least five more minutes (refreshed first when needed), or
    /// `connector.not_connected` when the connector has none.
    pub async fn access_token(&self, name: ConnectorName) -> Result<AccessToken, ConnectorError> {
        let not_connected = ConnectorError::NotConnected {
            connector: display_name(name),
        };
        let stored = if STORED.contains(&name) {
            self.load(name).await?
        } else {
            None
        };
        let stored = match stored {
            Some(stored) if stored.kind != CredentialKind::Config => stored,
            _ => {
                return self
                    .configured_token(name)
                    .map(|secret| AccessToken {
                        secret,
                        account: None,
                        scopes: Vec::new(),
                    })
                    .ok_or(not_connected)
            }
        };
        let sealed = stored
            .access_sealed
            .as_deref()
            .ok_or_else(|| not_connected.clone())?;
        let current = AccessToken {
            secret: self.open(name, sealed)?,
            account: stored.account.clone(),
            scopes: stored.scopes.clone(),
        };
        if stored.refresh_failed {
            return Err(ConnectorError::InvalidGrant {
                connector: display_name(name),
            });
        }
        let now = caseyos_store::now();
        let Some(expires_at) = stored.expires_at else {
            return Ok(current);
        };
        if expires_at > now + REFRESH_MARGIN {
            return Ok(current);
        }
        if stored.refresh_sealed.is_none() {
            if expires_at > now {
                return Ok(current);
            }
            return Err(ConnectorError::Expired {
                connector: display_name(name),
            });
        }
        match self.refresh_locked(name, REFRESH_MARGIN).await {
            Ok(Some(fresh)) => Ok(fresh),
            Ok(None) => Err(not_connected),
            // Still valid for a while: a passing failure does not stop the call.
            Err(error) if error.retryable() && expires_at > now => Ok(current),
            Err(error) => Err(error),
        }
    }

    /// Refreshes the connector's token when it expires within `margin`, under its advisory
    /// lock: an instance that waited for another's refresh finds the fresh token and does
    /// not refresh again. Answers the (possibly fresh) token; `None` when nothing is stored.
    pub async fn refresh_locked(
        &self,
        name: ConnectorName,
        margin: chrono::Duration,
    ) -> Result<Option<AccessToken>, ConnectorError> {
        let fail = storage(name);
        let mut tx = self.inner.pool.begin().await.map_err(&fail)?;
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(caseyos_store::advisory::advisory_key(&format!(
                "connector:{name}"
            )))
            .execute(&mut *tx)
            .await
            .map_err(&fail)?;
        let Some(stored) = sqlx::query(SELECT)
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(&fail)?
            .as_ref()
            .map(read_stored)
            .transpose()
            .map_err(&fail)?
        else {
            // Nothing stored: end the transaction now, which releases the lock at once.
            tx.commit().await.map_err(&fail)?;
            return Ok(None);
        };
        let Some(access_sealed) = stored.access_sealed.as_deref() else {
            tx.commit().await.map_err(&fail)?;
            return Ok(None);
        };
        let current = AccessToken {
            secret: self.open(name, access_sealed)?,
            account: stored.account.clone(),
            scopes: stored.scopes.clone(),
        };
        let now = caseyos_store::now();
        let due = stored.expires_at.is_some_and(|at| at <= now + margin);
        let (false, true, Some(refresh_sealed)) =
            (stored.refresh_failed, due, stored.refresh_sealed.as_deref())
        else {
            // Not due (or refreshed meanwhile by whoever held the lock).
            tx.commit().await.map_err(&fail)?;
            return Ok(Some(current));
        };
        let refresh_token = match self.open(name, refresh_sealed) {
            Ok(token) => token,
            Err(error) => {
                tx.commit().await.map_err(&fail)?;
                return Err(error);
            }
        };
        let outcome = self.inner.oauth.refresh(name, &refresh_token).await;
        match outcome {
            Ok(grant) => {
                let fresh = self
                    .apply_refresh(&mut tx, name, &stored, grant, now)
                    .await?;
                tx.commit().await.map_err(&fail)?;
                tracing::info!(connector = %name, "connector token refreshed");
                Ok(Some(fresh))
            }
            Err(error) => {
                let refused = matches!(error, ConnectorError::InvalidGrant { .. });
                sqlx::query(
                    "update connector_credentials set refresh_failed = refresh_failed or $2, \
                     last_error_code = $3, last_error_at = $4, updated_at = now() where name = $1",
                )
                .bind(name.as_str())
                .bind(refused)
                .bind(error.code())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(&fail)?;
                tx.commit().await.map_err(&fail)?;
                tracing::warn!(connector = %name, error.code = error.code(), "connector token refresh failed");
                Err(error)
            }
        }
    }

    async fn apply_refresh(
        &self,
        tx: &mut sqlx::PgConnection,
        name: ConnectorName,
        stored: &Stored,
        grant: TokenGrant,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, ConnectorError> {
        let key = &self.inner.key;
        let scopes = if grant.scopes.is_empty() {
            stored.scopes.clone()
        } else {
            grant.scopes.clone()
        };
        let expires_at = grant.expires_in.map(|s| now + chrono::Duration::seconds(s));
        // Google keeps the refresh token it gave; HubSpot may send a new one.
        let refresh_sealed = grant
            .refresh_token
            .as_deref()
            .map(|t| key.seal(name.as_str(), t))
            .or_else(|| stored.refresh_sealed.clone());
        sqlx::query(
            "update connector_credentials set access_sealed = $2, refresh_sealed = $3, \
             expires_at = $4, scopes = $5, refreshed_at = $6, refresh_failed = false, \
             updated_at = now() where name = $1",
        )
        .bind(name.as_str())
        .bind(key.seal(name.as_str(), &grant.access_token))
        .bind(refresh_sealed)
        .bind(expires_at)
        .bind(&scopes)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(storage(name))?;
        Ok(AccessToken {
            secret: grant.access_token,
            account: stored.account.clone(),
            scopes,
        })
    }

    /// Records how a call with the connector's credential went: a good call (at most once a
    /// minute per connector) or its error's code. "Not connected" is not a call.
    pub async fn record_call(&self, name: ConnectorName, outcome: Result<(), &ConnectorError>) {
        if !STORED.contains(&name) {
            return;
        }
        if matches!(outcome, Err(ConnectorError::NotConnected { .. })) {
            return;
        }
        if outcome.is_ok() {
            let mut recorded = self
                .inner
                .recorded
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            if recorded
                .get(&name)
                .is_some_and(|at| now.duration_since(*at) < GOOD_CALL_EVERY)
            {
                return;
            }
            recorded.insert(name, now);
        }
        let at = caseyos_store::now();
        let (good, code) = match outcome {
            Ok(()) => (Some(at), None),
            Err(error) => (None, Some(error.code())),
        };
        // A configured HubSpot token has no row of its own until its first call.
        let config_backed =
            name == ConnectorName::Hubspot && self.inner.config_hubspot_token.is_some();
        let sql = if config_backed {
            "insert into connector_credentials (name, kind, connected_by, last_good_call_at, \
             last_error_code, last_error_at) values ($1, 'config', 'config', $2, $3, $4) \
             on conflict (name) do update set \
             last_good_call_at = coalesce(excluded.last_good_call_at, connector_credentials.last_good_call_at), \
             last_error_code = coalesce(excluded.last_error_code, connector_credentials.last_error_code), \
             last_error_at = coalesce(excluded.last_error_at, connector_credentials.last_error_at), \
             updated_at = now()"
        } else {
            "update connector_credentials set \
             last_good_call_at = coalesce($2, last_good_call_at), \
             last_error_code = coalesce($3, last_error_code), \
             last_error_at = coalesce($4, last_error_at), updated_at = now() where name = $1"
        };
        let result = sqlx::query(sql)
            .bind(name.as_str())
            .bind(good)
            .bind(code)
            .bind(code.map(|_| at))
            .execute(&self.inner.pool)
            .await;
        if let Err(error) = result {
            tracing::warn!(connector = %name, error = %error, "recording a connector call failed");
        }
    }

    /// Whether the connector has a credential (stored, or configured).
    pub async fn is_connected(&self, name: ConnectorName) -> bool {
        self.state(name)
            .await
            .map(|s| s.kind.is_some())
            .unwrap_or(false)
    }

    /// The connector's state, without secrets.
    pub async fn state(&self, name: ConnectorName) -> Result<ConnectorState, ConnectorError> {
        let stored = if STORED.contains(&name) {
            self.load(name).await?
        } else {
            None
        };
        let mut state = ConnectorState::not_connected(name);
        match stored {
            Some(stored) if stored.kind != CredentialKind::Config => {
                state.kind = Some(stored.kind);
                state.account = stored.account;
                state.scopes = stored.scopes;
                state.expires_at = stored.expires_at;
                state.refreshable = stored.refresh_sealed.is_some() && !stored.refresh_failed;
                state.refresh_failed = stored.refresh_failed;
                state.connected_by = Some(stored.connected_by);
                state.last_good_call_at = stored.last_good_call_at;
                state.last_error = stored.last_error_code.zip(stored.last_error_at);
            }
            stored => {
                let configured = match name {
                    ConnectorName::Hubspot => self.inner.config_hubspot_token.is_some(),
                    ConnectorName::Llm => self.inner.llm.is_some(),
                    _ => false,
                };
                if configured {
                    state.kind = Some(CredentialKind::Config);
                    state.connected_by = Some("config".into());
                    if name == ConnectorName::Llm {
                        state.account = self.inner.llm.as_ref().and_then(|l| {
                            let url = reqwest::Url::parse(&l.base_url).ok()?;
                            Some(format!("{}://{}", url.scheme(), url.host_str()?))
                        });
                    }
                    if let Some(stored) = stored {
                        state.last_good_call_at = stored.last_good_call_at;
                        state.last_error = stored.last_error_code.zip(stored.last_error_at);
                    }
                }
            }
        }
        Ok(state)
    }

    /// The connector as the API shows it (no secret), at `now`.
    pub async fn describe(
        &self,
        name: ConnectorName,
        now: DateTime<Utc>,
    ) -> Result<ConnectorResponse, ConnectorError> {
        let state = self.state(name).await?;
        let status = state.status(now);
        let oauth = self.inner.oauth.configured(name);
        let note = match (name, state.kind, status) {
            (ConnectorName::Llm, Some(_), _) => Some(
                "configured by llm_base_url and llm_api_key; change it in the configuration"
                    .to_string(),
            ),
            (ConnectorName::Llm, None, _) => Some(
                "set llm_base_url (and llm_api_key) in the configuration; until then agents                  write with their offline writers"
                    .to_string(),
            ),
            (ConnectorName::Hubspot, Some(CredentialKind::Config), _) => Some(
                "configured by hubspot_token: it cannot be disconnected from the API (change                  or remove it in the configuration); a token connected here takes precedence"
                    .to_string(),
            ),
            (_, Some(_), ConnectorStatus::Error) => {
                Some("its credential no longer works: connect it again".to_string())
            }
            (_, Some(_), ConnectorStatus::Expiring) => Some(
                "its token expires within 24 hours and cannot be refreshed: connect it again"
                    .to_string(),
            ),
            (ConnectorName::Gmail | ConnectorName::GoogleCalendar, None, _) if !oauth => Some(
                "set google_client_id and google_client_secret in the configuration to connect                  by OAuth"
                    .to_string(),
            ),
            _ => None,
        };
        Ok(ConnectorResponse {
            name,
            status,
            kind: state.kind,
            account: state.account,
            scopes: state.scopes,
            expires_at: state.expires_at,
            last_good_call_at: state.last_good_call_at,
            last_error: state
                .last_error
                .map(|(code, at)| ConnectorLastError { code, at }),
            connect: name.connect_methods().to_vec(),
            note,
        })
    }

    /// Every connector as the API shows it, in [`ConnectorName::ALL`]'s order.
    pub async fn describe_all(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<ConnectorResponse>, ConnectorError> {
        let mut all = Vec::with_capacity(ConnectorName::ALL.len());
        for name in ConnectorName::ALL {
            all.push(self.describe(*name, now).await?);
        }
        Ok(all)
    }

    /// Stores a credential for the connector, sealed, replacing any other.
    pub async fn store(
        &self,
        name: ConnectorName,
        credential: NewCredential,
        by: &str,
    ) -> Result<(), ConnectorError> {
        if !STORED.contains(&name) || credential.kind == CredentialKind::Config {
            return Err(ConnectorError::Misconfigured {
                connector: display_name(name),
                reason: "only OAuth grants and private-app tokens are stored".into(),
            });
        }
        let key = &self.inner.key;
        sqlx::query(
            "insert into connector_credentials (name, kind, access_sealed, refresh_sealed, \
             expires_at, scopes, account, hub_id, connected_by, refresh_failed, \
             last_good_call_at, last_error_code, last_error_at, refreshed_at, created_at, \
             updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, now(), null, null, null, now(), now()) \
             on conflict (name) do update set kind = excluded.kind, \
             access_sealed = excluded.access_sealed, refresh_sealed = excluded.refresh_sealed, \
             expires_at = excluded.expires_at, scopes = excluded.scopes, \
             account = excluded.account, hub_id = excluded.hub_id, \
             connected_by = excluded.connected_by, refresh_failed = false, \
             last_good_call_at = now(), last_error_code = null, last_error_at = null, \
             refreshed_at = null, created_at = now(), updated_at = now()",
        )
        .bind(name.as_str())
        .bind(credential.kind.as_str())
        .bind(key.seal(name.as_str(), &credential.access_token))
        .bind(
            credential
                .refresh_token
                .as_deref()
                .map(|t| key.seal(name.as_str(), t)),
        )
        .bind(credential.expires_at)
        .bind(&credential.scopes)
        .bind(&credential.account)
        .bind(&credential.hub_id)
        .bind(by)
        .execute(&self.inner.pool)
        .await
        .map_err(storage(name))?;
        Ok(())
    }

    /// Starts an OAuth authorization: a random state (32 bytes) and PKCE verifier kept
    /// server-side for 10 minutes; answers the consent URL and when it stops being valid.
    pub async fn begin_authorization(
        &self,
        name: ConnectorName,
        requested_by: &str,
        redirect_uri: &str,
    ) -> Result<(String, DateTime<Utc>), ConnectorError> {
        let key = &self.inner.key;
        let state = key.random_token();
        let verifier = key.random_token();
        let url = self
            .inner
            .oauth
            .authorize_url(name, &state, &verifier, redirect_uri)?;
        let now = caseyos_store::now();
        let expires_at = now + AUTHORIZATION_TTL;
        sqlx::query(
            "insert into connector_authorizations (state_hash, name, verifier_sealed, \
             redirect_uri, requested_by, created_at, expires_at) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(state_hash(&state))
        .bind(name.as_str())
        .bind(key.seal(&format!("pkce:{name}"), &verifier))
        .bind(redirect_uri)
        .bind(requested_by)
        .bind(now)
        .bind(expires_at)
        .execute(&self.inner.pool)
        .await
        .map_err(storage(name))?;
        Ok((url, expires_at))
    }

    /// Takes (deletes) the authorization of `state`: it can be used once.
    async fn take_authorization(
        &self,
        state: &str,
    ) -> Result<(ConnectorName, String, String, String), AuthorizationError> {
        let row = sqlx::query(
            "delete from connector_authorizations where state_hash = $1 \
             returning name, verifier_sealed, redirect_uri, requested_by, expires_at",
        )
        .bind(state_hash(state))
        .fetch_optional(&self.inner.pool)
        .await
        .map_err(|e| AuthorizationError::Storage(e.to_string()))?
        .ok_or(AuthorizationError::UnknownState)?;
        let read = || -> Result<_, sqlx::Error> {
            Ok((
                row.try_get::<String, _>("name")?,
                row.try_get::<Vec<u8>, _>("verifier_sealed")?,
                row.try_get::<String, _>("redirect_uri")?,
                row.try_get::<String, _>("requested_by")?,
                row.try_get::<DateTime<Utc>, _>("expires_at")?,
            ))
        };
        let (name, sealed, redirect_uri, requested_by, expires_at) =
            read().map_err(|_| AuthorizationError::UnknownState)?;
        let name = ConnectorName::parse(&name).ok_or(AuthorizationError::UnknownState)?;
        if expires_at <= caseyos_store::now() {
            return Err(AuthorizationError::Expired { name });
        }
        let verifier = self
            .inner
            .key
            .open(&format!("pkce:{name}"), &sealed)
            .map_err(|_| AuthorizationError::Provider {
                name,
                error: ConnectorError::Unreadable {
                    connector: display_name(name),
                },
            })?;
        Ok((name, verifier, redirect_uri, requested_by))
    }

    /// Forgets an authorization the person refused at the provider; answers its connector.
    pub async fn abandon_authorization(
        &self,
        state: &str,
    ) -> Result<ConnectorName, AuthorizationError> {
        self.take_authorization(state).await.map(|(name, ..)| name)
    }

    /// Completes an authorization: takes its state (once), exchanges the code with its
    /// verifier, reads the account, stores the grant.
    pub async fn complete_authorization(
        &self,
        state: &str,
        code: &str,
    ) -> Result<Connected, AuthorizationError> {
        let (name, verifier, redirect_uri, requested_by) = self.take_authorization(state).await?;
        let provider = |error| AuthorizationError::Provider { name, error };
        let oauth = &self.inner.oauth;
        let grant = oauth
            .exchange_code(name, code, &verifier, &redirect_uri)
            .await
            .map_err(provider)?;
        let account = oauth
            .account(name, &grant.access_token)
            .await
            .map_err(provider)?;
        let scopes = match (&account.scopes, grant.scopes.is_empty()) {
            (_, false) => grant.scopes.clone(),
            (Some(scopes), true) => scopes.clone(),
            (None, true) => Vec::new(),
        };
        let now = caseyos_store::now();
        let credential = NewCredential {
            kind: CredentialKind::Oauth,
            access_token: grant.access_token,
            refresh_token: grant.refresh_token,
            expires_at: grant.expires_in.map(|s| now + chrono::Duration::seconds(s)),
            scopes: scopes.clone(),
            account: account.account.clone(),
            hub_id: account.hub_id,
        };
        self.store(name, credential, &requested_by)
            .await
            .map_err(provider)?;
        Ok(Connected {
            name,
            kind: CredentialKind::Oauth,
            account: account.account,
            scopes,
            requested_by,
        })
    }

    /// Revokes the stored grant at the provider (when there is one to revoke) and deletes
    /// the stored secrets whatever the provider answered. `connector.not_connected` when
    /// nothing is stored (a configured token is changed in the configuration only).
    pub async fn disconnect(&self, name: ConnectorName) -> Result<Revocation, ConnectorError> {
        let not_connected = ConnectorError::NotConnected {
            connector: display_name(name),
        };
        if !STORED.contains(&name) {
            return Err(not_connected);
        }
        let stored = match self.load(name).await? {
            Some(stored) if stored.kind != CredentialKind::Config => stored,
            _ => return Err(not_connected),
        };
        let opened = |sealed: Option<&[u8]>| sealed.and_then(|s| self.open(name, s).ok());
        let access = opened(stored.access_sealed.as_deref());
        let refresh = opened(stored.refresh_sealed.as_deref());
        let revocation = match (stored.kind, access) {
            (CredentialKind::PrivateApp, _) => Revocation {
                revoked: false,
                reason: Some(
                    "HubSpot private-app tokens cannot be revoked through the API: rotate or \
                     delete it in HubSpot (Settings → Integrations → Private apps)"
                        .into(),
                ),
            },
            (_, None) => Revocation {
                revoked: false,
                reason: Some("the stored token could not be read with this credentials key".into()),
            },
            (_, Some(access)) => {
                match self
                    .inner
                    .oauth
                    .revoke(name, &access, refresh.as_deref())
                    .await
                {
                    Ok(()) => Revocation {
                        revoked: true,
                        reason: None,
                    },
                    Err(reason) => Revocation {
                        revoked: false,
                        reason: Some(reason),
                    },
                }
            }
        };
        sqlx::query("delete from connector_credentials where name = $1")
            .bind(name.as_str())
            .execute(&self.inner.pool)
            .await
            .map_err(storage(name))?;
        Ok(revocation)
    }

    /// The stored OAuth connectors whose tokens expire within `within` and have a refresh
    /// token that was not refused.
    pub async fn refreshable_within(
        &self,
        within: chrono::Duration,
    ) -> Result<Vec<ConnectorName>, ConnectorError> {
        let names: Vec<String> = sqlx::query_scalar(
            "select name from connector_credentials where kind = 'oauth' \
             and refresh_sealed is not null and not refresh_failed and expires_at <= $1 \
             order by name",
        )
        .bind(caseyos_store::now() + within)
        .fetch_all(&self.inner.pool)
        .await
        .map_err(storage(ConnectorName::Gmail))?;
        Ok(names
            .iter()
            .filter_map(|n| ConnectorName::parse(n))
            .collect())
    }

    /// Deletes authorizations nobody completed in time.
    pub async fn forget_expired_authorizations(&self) -> Result<u64, sqlx::Error> {
        Ok(
            sqlx::query("delete from connector_authorizations where expires_at <= now()")
                .execute(&self.inner.pool)
                .await?
                .rows_affected(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + chrono::Duration::hours(1000 + hours)
    }

    #[test]
    fn status_follows_the_credential_its_expiry_and_its_last_refusal() {
        let now = at(0);
        let connected = ConnectorState {
            kind: Some(CredentialKind::Oauth),
            expires_at: Some(at(1)),
            refreshable: true,
            ..ConnectorState::not_connected(ConnectorName::Gmail)
        };
        let with = |f: &dyn Fn(&mut ConnectorState)| {
            let mut state = connected.clone();
            f(&mut state);
            state
        };
        // (state, status)
        let table = [
            (
                ConnectorState::not_connected(ConnectorName::Gmail),
                ConnectorStatus::NotConnected,
            ),
            (connected.clone(), ConnectorStatus::Connected),
            (
                with(&|s| s.expires_at = Some(at(-1))),
                ConnectorStatus::Connected,
            ),
            (with(&|s| s.refreshable = false), ConnectorStatus::Expiring),
            (
                with(&|s| {
                    s.refreshable = false;
                    s.expires_at = Some(at(25));
                }),
                ConnectorStatus::Connected,
            ),
            (
                with(&|s| {
                    s.refreshable = false;
                    s.expires_at = Some(at(-1));
                }),
                ConnectorStatus::Error,
            ),
            (
                with(&|s| {
                    s.refresh_failed = true;
                    s.refreshable = false;
                }),
                ConnectorStatus::Error,
            ),
            (
                with(&|s| {
                    s.last_error = Some(("hubspot.unauthorized".into(), at(-1)));
                    s.last_good_call_at = Some(at(-2));
                }),
                ConnectorStatus::Error,
            ),
            (
                with(&|s| {
                    s.last_error = Some(("hubspot.unauthorized".into(), at(-2)));
                    s.last_good_call_at = Some(at(-1));
                }),
                ConnectorStatus::Connected,
            ),
            (
                with(&|s| s.last_error = Some(("hubspot.server_error".into(), at(-1)))),
                ConnectorStatus::Connected,
            ),
            (
                ConnectorState {
                    kind: Some(CredentialKind::Config),
                    ..ConnectorState::not_connected(ConnectorName::Hubspot)
                },
                ConnectorStatus::Connected,
            ),
        ];
        for (state, status) in table {
            assert_eq!(state.status(now), status, "{state:?}");
        }
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let token = AccessToken {
            secret: "ya29.s3cret".into(),
            account: Some("casey@example.com".into()),
            scopes: vec![],
        };
        let credential = NewCredential {
            kind: CredentialKind::Oauth,
            access_token: "ya29.s3cret".into(),
            refresh_token: Some("1//s3cret".into()),
            expires_at: None,
            scopes: vec![],
            account: None,
            hub_id: None,
        };
        for shown in [format!("{token:?}"), format!("{credential:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
        }
    }
}
