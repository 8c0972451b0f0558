//! Configuration: one typed tree from defaults, an optional TOML file and `CASEYOS_*`
//! environment variables (in that order of precedence, lowest first), validated at start-up.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// The configuration. Its `Debug` output never shows the LLM API key, the HubSpot token, the
/// HubSpot client secret, the credentials key, the Google client secret or the database
/// password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the HTTP server listens (`CASEYOS_BIND`, `--bind`).
    pub bind: SocketAddr,
    /// The embedded database's folder (`CASEYOS_DATA_DIR`, `--data-dir`).
    pub data_dir: PathBuf,
    /// An external PostgreSQL server (`DATABASE_URL`); without it CaseyOS runs its own.
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    /// The operator CaseyOS works for: owner of demo data and of the first sign-in.
    pub operator: String,
    /// Time zone for snooze presets of owners without one of their own.
    pub default_timezone: String,
    /// Per-owner time zones, e.g. `{ casey = "America/New_York" }`.
    pub owner_timezones: BTreeMap<String, String>,
    /// How long a query with `?after=` waits for its read model before a 503.
    pub consistency_timeout_ms: u64,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Largest CSV file a contact import accepts (spooled to the database as it arrives,
    /// so this bounds storage, not memory).
    pub contact_import_max_bytes: u64,
    /// Optimistic-concurrency conflicts retried server-side before a 409.
    pub command_retries: u32,
    /// Events between aggregate snapshots.
    pub snapshot_every: usize,
    /// `text` or `json`.
    pub log_format: String,
    /// How the server is reached from a browser, for printed links (default: from `bind`).
    /// An `https` URL also marks the session cookie `Secure`.
    pub public_url: Option<String>,
    /// The web app's build (trunk's `dist`), served at `/` (`CASEYOS_WEB_DIR`). A relative
    /// path is taken from the working directory, else from the workspace of the binary.
    pub web_dir: PathBuf,
    /// An OpenAI-compatible chat-completions API, e.g. `https://api.openai.com/v1`. Without
    /// it, agents that write use their deterministic offline writers.
    pub llm_base_url: Option<String>,
    pub llm_api_key: Option<String>,
    pub llm_model: String,
    /// Per language-model request.
    pub llm_timeout_secs: u64,
    /// Retries of a request that got 429, 5xx or no answer.
    pub llm_max_retries: u32,
    /// The model's context window in tokens: the chat summarises older messages when its
    /// history nears three quarters of it.
    pub llm_context_tokens: u32,
    /// Agent runs this instance executes at once (0: it executes none).
    pub agent_workers: usize,
    /// The per-attempt time limit of every agent run unless `agent_timeouts` names the agent.
    pub agent_timeout_secs: u64,
    /// Per-agent time limits in seconds, e.g. `{ DraftWriter = 120 }`.
    pub agent_timeouts: BTreeMap<String, u64>,
    /// How long a worker's claim on a run lasts without renewal; a worker that dies loses
    /// its runs this long after its last renewal.
    pub agent_lease_secs: u64,
    /// Starts of a run before a lost worker fails it.
    pub agent_max_attempts: u32,
    /// How drafts are written for the operator.
    pub voice: caseyos_agents::VoiceProfile,
    /// A HubSpot private-app access token (`CASEYOS_HUBSPOT_TOKEN`). Without it HubSpot is
    /// not connected: nothing is synced and every HubSpot screen says so.
    pub hubspot_token: Option<String>,
    /// The HubSpot API root (`CASEYOS_HUBSPOT_BASE_URL`; tests point it at a local fake).
    pub hubspot_base_url: String,
    /// The HubSpot app's client secret (`CASEYOS_HUBSPOT_CLIENT_SECRET`), which signs the
    /// webhooks HubSpot sends to `POST /api/webhooks/hubspot` (its `X-HubSpot-Signature-v3`).
    /// Without it the webhook answers 401 `connector.not_connected`. The URL HubSpot calls
    /// must be `public_url` + `/api/webhooks/hubspot`: the signature covers it.
    pub hubspot_client_secret: Option<String>,
    /// Whether this instance fires stored agent schedules (`CASEYOS_SCHEDULES_ENABLED`;
    /// default on). The schedules stay listed either way.
    pub schedules_enabled: bool,
    /// The time zone of the default daily schedules (`CASEYOS_SCHEDULE_TIME_ZONE`; default
    /// UTC), e.g. `America/New_York` for DuplicateWatcher at 06:00 New York time.
    pub schedule_time_zone: String,
    /// Seconds between two HubSpot contact syncs (`CASEYOS_HUBSPOT_SYNC_INTERVAL_SECS`,
    /// default 300).
    pub hubspot_sync_interval_secs: u64,
    /// Where the first sync starts (RFC 3339, `CASEYOS_HUBSPOT_SYNC_START`): contacts
    /// modified before it are not read. Default: the epoch (every contact).
    pub hubspot_sync_start: Option<chrono::DateTime<chrono::Utc>>,
    /// The Gmail API root (`CASEYOS_GMAIL_BASE_URL`, default `https://gmail.googleapis.com`;
    /// tests point it at a local fake). Paths start `/gmail/v1/…`.
    pub gmail_base_url: String,
    /// The Google Calendar API root, version included (`CASEYOS_CALENDAR_BASE_URL`, default
    /// `https://www.googleapis.com/calendar/v3`).
    pub calendar_base_url: String,
    /// Where the dashboard's hygiene card turns yellow and red (`[hygiene_thresholds]`).
    pub hygiene_thresholds: HygieneThresholds,
    /// The month (1–12) fiscal years start in (`CASEYOS_FISCAL_YEAR_START_MONTH`, or
    /// `fiscal_year_start_month` in the file). Unset: January, marked as the default
    /// wherever a forecast shows it.
    pub fiscal_year_start_month: Option<u32>,
    /// The deal risk flags' thresholds (`[deal_risk]`: `no_activity_days` 14,
    /// `max_close_date_pushes` 3, `single_threaded_contacts` 1, `typical_stage_days`).
    pub deal_risk: caseyos_domain::deals::RiskConfig,
    /// The deal health score's settings (`[deal_health]`).
    pub deal_health: caseyos_domain::deals::HealthConfig,
    /// The executor's guardrails (`[guardrails]`: `recipient_weekly_quota` 2, `daily_quota`
    /// 20, the circuit breaker's `breaker_min_sends` 10 / `breaker_failure_percent` 10 /
    /// `breaker_window_minutes` 60, quiet hours `quiet_start` "20:00" to `quiet_end` "08:00"
    /// in each move owner's zone (both `""`: off), `quiet_weekends` true).
    pub guardrails: caseyos_domain::executions::guardrails::GuardrailConfig,
    /// The domain of the `Message-ID`s CaseyOS gives the emails it writes.
    pub message_id_domain: String,
    /// The key connector tokens are sealed with at rest (`CASEYOS_CREDENTIALS_KEY`): the
    /// base64 of 32 random bytes (`openssl rand -base64 32`). Without it the key is the
    /// file `<data_dir>/credentials.key`, created on the first start with mode 0600; a key
    /// file others can read, or of the wrong length, stops the start.
    pub credentials_key: Option<String>,
    /// The Google OAuth client (a "Web application" client whose redirect URI is
    /// `public_url` + `/api/connectors/oauth/callback`) that connects Gmail and Google
    /// Calendar (`CASEYOS_GOOGLE_CLIENT_ID`, `CASEYOS_GOOGLE_CLIENT_SECRET`).
    pub google_client_id: Option<String>,
    pub google_client_secret: Option<String>,
    /// Google's consent page, token, revocation and userinfo endpoints (tests point them
    /// at a local fake).
    pub google_authorize_url: String,
    pub google_token_url: String,
    pub google_revoke_url: String,
    pub google_userinfo_url: String,
    /// The HubSpot app's client id (`CASEYOS_HUBSPOT_CLIENT_ID`): with
    /// `hubspot_client_secret`, HubSpot can be connected by OAuth. Its token, token-info and
    /// refresh-token endpoints are under `hubspot_base_url` (`/oauth/v1/…`).
    pub hubspot_client_id: Option<String>,
    /// HubSpot's consent page.
    pub hubspot_authorize_url: String,
    /// The secret of each signed form (`[form_secrets]`, e.g. `demo = "…"`): a submission
    /// to `POST /api/webhooks/forms/{form}` is taken only when signed with its form's
    /// secret (`X-CaseyOS-Signature`). A form not listed here is refused like a bad
    /// signature. Never shown.
    pub form_secrets: BTreeMap<String, String>,
    /// Slack's bot token (`xoxb-…`): notifications are posted with `chat.postMessage` only
    /// when it is set. Never shown.
    pub slack_bot_token: Option<String>,
    /// Slack's signing secret: the Slack endpoints (`/api/webhooks/slack/…`) refuse every
    /// request until it is set, and any request not signed with it. Never shown.
    pub slack_signing_secret: Option<String>,
    /// Slack's Web API root.
    pub slack_base_url: String,
    /// Where a Slack `response_url` may point: a command's later answer is posted only to
    /// a URL that starts with this.
    pub slack_response_url_prefix: String,
    /// The channel (id or `#name`) each notification kind is posted to (`alert`,
    /// `reply_received`, `run_failed`, `move_overdue`, `moves_stale`, `deal_at_risk`);
    /// `default` for the kinds not named. A kind with neither is not posted.
    pub slack_channels: BTreeMap<String, String>,
    /// Who each Slack user acts as: their Slack user id → `name:role` (`U024BE7LH =
    /// "casey:operator"`). A Slack user not listed is refused before anything runs.
    pub slack_users: BTreeMap<String, String>,
    /// Seconds between two looks for notifications to post to Slack.
    pub slack_post_interval_secs: u64,
    /// The web search provider's API key (Tavily, `CASEYOS_WEB_SEARCH_API_KEY`): research
    /// searches the web only when it is set, and otherwise says it used internal sources
    /// only. Never shown.
    pub web_search_api_key: Option<String>,
    /// The web search provider's API root (`CASEYOS_WEB_SEARCH_BASE_URL`, default
    /// `https://api.tavily.com`; tests point it at a local fake).
    pub web_search_base_url: String,
    /// Seconds between two sweeps of the signal rules (deal stalled, closing soon, big deal
    /// moved, lead gone cold); default 3600. A sweep also runs at start.
    pub signal_sweep_interval_secs: u64,
    /// Seconds between two reads of the Gmail mailbox's history (new replies and bounces;
    /// `CASEYOS_GMAIL_POLL_INTERVAL_SECS`, default 60). 0: no timed reads, only those a
    /// Pub/Sub push asks for. Nothing is read while Gmail is not connected.
    pub gmail_poll_interval_secs: u64,
    /// The token Google Pub/Sub's push subscription sends as `?token=` to
    /// `POST /api/webhooks/gmail` (`CASEYOS_GMAIL_PUSH_TOKEN`, at least 16 characters).
    /// Without it the push webhook refuses every request (401 `webhook.bad_token`). Never
    /// shown.
    pub gmail_push_token: Option<String>,
    /// Seconds between two reads of the Calendar events of booked meetings (the attendees'
    /// answers; `CASEYOS_CALENDAR_POLL_INTERVAL_SECS`, default 900). 0: never. Nothing is
    /// read while Google Calendar is not connected.
    pub calendar_poll_interval_secs: u64,
}

/// Where each check of the dashboard's hygiene card turns yellow and red: at or above each
/// value. The defaults are defaults, not measurements; set them in the configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HygieneThresholds {
    /// Open duplicate pairs awaiting review (default 10 / 50).
    pub open_duplicates_yellow: i64,
    pub open_duplicates_red: i64,
    /// Percent of validated active contacts that are invalid (default 5 / 15).
    pub invalid_percent_yellow: i64,
    pub invalid_percent_red: i64,
    /// Percent of active contacts untouched 90+ days, from the last DataDecay run
    /// (default 25 / 50).
    pub stale_percent_yellow: i64,
    pub stale_percent_red: i64,
}

impl Default for HygieneThresholds {
    fn default() -> Self {
        HygieneThresholds {
            open_duplicates_yellow: 10,
            open_duplicates_red: 50,
            invalid_percent_yellow: 5,
            invalid_percent_red: 15,
            stale_percent_yellow: 25,
            stale_percent_red: 50,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".parse().expect("a valid default address"),
            data_dir: default_data_dir(),
            database_url: None,
            database_max_connections: 64,
            operator: "casey".into(),
            default_timezone: "UTC".into(),
            owner_timezones: BTreeMap::new(),
            consistency_timeout_ms: 5_000,
            // The largest valid request — a 200,000-character contract for ContractReview —
            // fits even with every character escaped as a JSON surrogate pair (12 bytes).
            max_body_bytes: 4 * 1024 * 1024,
            contact_import_max_bytes: 256 * 1024 * 1024,
            command_retries: 16,
            snapshot_every: 100,
            log_format: "text".into(),
            public_url: None,
            web_dir: PathBuf::from("dist"),
            llm_base_url: None,
            llm_api_key: None,
            llm_model: "gpt-4o-mini".into(),
            llm_timeout_secs: 60,
            llm_max_retries: 3,
            llm_context_tokens: 128_000,
            agent_workers: 4,
            agent_timeout_secs: 300,
            agent_timeouts: BTreeMap::new(),
            agent_lease_secs: 30,
            agent_max_attempts: caseyos_domain::agent_run::DEFAULT_MAX_ATTEMPTS,
            voice: caseyos_agents::VoiceProfile::default(),
            hubspot_token: None,
            hubspot_base_url: DEFAULT_HUBSPOT_BASE_URL.into(),
            hubspot_client_secret: None,
            schedules_enabled: true,
            schedule_time_zone: "UTC".into(),
            hubspot_sync_interval_secs: 300,
            hubspot_sync_start: None,
            gmail_base_url: DEFAULT_GMAIL_BASE_URL.into(),
            calendar_base_url: DEFAULT_CALENDAR_BASE_URL.into(),
            hygiene_thresholds: HygieneThresholds::default(),
            fiscal_year_start_month: None,
            deal_risk: caseyos_domain::deals::RiskConfig::default(),
            deal_health: caseyos_domain::deals::HealthConfig::default(),
            guardrails: Default::default(),
            message_id_domain: "caseyos.local".into(),
            credentials_key: None,
            google_client_id: None,
            google_client_secret: None,
            google_authorize_url: DEFAULT_GOOGLE_AUTHORIZE_URL.into(),
            google_token_url: DEFAULT_GOOGLE_TOKEN_URL.into(),
            google_revoke_url: DEFAULT_GOOGLE_REVOKE_URL.into(),
            google_userinfo_url: DEFAULT_GOOGLE_USERINFO_URL.into(),
            hubspot_client_id: None,
            hubspot_authorize_url: DEFAULT_HUBSPOT_AUTHORIZE_URL.into(),
            form_secrets: BTreeMap::new(),
            slack_bot_token: None,
            slack_signing_secret: None,
            slack_base_url: DEFAULT_SLACK_BASE_URL.into(),
            slack_response_url_prefix: DEFAULT_SLACK_RESPONSE_URL_PREFIX.into(),
            slack_channels: BTreeMap::new(),
            slack_users: BTreeMap::new(),
            slack_post_interval_secs: 60,
            web_search_api_key: None,
            web_search_base_url: DEFAULT_WEB_SEARCH_BASE_URL.into(),
            signal_sweep_interval_secs: 3600,
            gmail_poll_interval_secs: 60,
            gmail_push_token: None,
            calendar_poll_interval_secs: 900,
        }
    }
}

/// Google's OAuth 2.0 endpoints (defaults of the `google_*_url` keys).
pub const DEFAULT_GOOGLE_AUTHORIZE_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const DEFAULT_GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const DEFAULT_GOOGLE_REVOKE_URL: &str = "https://oauth2.googleapis.com/revoke";
pub const DEFAULT_GOOGLE_USERINFO_URL: &str = "https://www.googleapis.com/oauth2/v2/userinfo";
/// HubSpot's OAuth consent page (default of `hubspot_authorize_url`).
pub const DEFAULT_HUBSPOT_AUTHORIZE_URL: &str = "https://app.hubspot.com/oauth/authorize";
pub const DEFAULT_SLACK_BASE_URL: &str = "https://slack.com/api";
pub const DEFAULT_WEB_SEARCH_BASE_URL: &str = "https://api.tavily.com";
pub const DEFAULT_SLACK_RESPONSE_URL_PREFIX: &str = "https://hooks.slack.com/";
/// The shortest form secret accepted.
pub const MIN_FORM_SECRET_BYTES: usize = 16;

/// A form's name as it appears in `/api/webhooks/forms/{form}`: 1–64 letters, digits, `_`
/// or `-`.
pub fn valid_form_name(form: &str) -> bool {
    (1..=64).contains(&form.len())
        && form
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// HubSpot's API root (default of `hubspot_base_url`).
pub const DEFAULT_HUBSPOT_BASE_URL: &str = "https://api.hubapi.com";

/// Gmail's API root (default of `gmail_base_url`).
pub const DEFAULT_GMAIL_BASE_URL: &str = "https://gmail.googleapis.com";
/// Google Calendar's API root with its version (default of `calendar_base_url`).
pub const DEFAULT_CALENDAR_BASE_URL: &str = "https://www.googleapis.com/calendar/v3";

/// How every connector call is made (`connectors::call`): its timeouts, its attempts and
/// the waits between them. Each provider's settings hold one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallPolicy {
    /// Establishing the connection.
    pub connect_timeout: std::time::Duration,
    /// The whole request (connect, send, read the answer).
    pub request_timeout: std::time::Duration,
    /// Attempts of one call, the first included, for retryable failures (429, 5xx,
    /// timeouts, refused connections); calls that are not idempotent are repeated only
    /// when the provider cannot have acted.
    pub max_attempts: u32,
    /// The first retry of a 5xx or timeout waits this long, each further one twice as long …
    pub base_backoff: std::time::Duration,
    /// … up to this.
    pub max_backoff: std::time::Duration,
    /// The longest `Retry-After` honoured; a longer one ends the call with
    /// `<provider>.rate_limited` naming the wait asked for.
    pub max_retry_after: std::time::Duration,
}

/// Where and how the Gmail and Google Calendar clients reach Google. The access token is not
/// here: the caller passes the account's current token to each client it makes. Build it
/// with [`GoogleConfig::new`] (or [`Config::google`]) and shorten the timings where needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoogleConfig {
    /// e.g. `https://gmail.googleapis.com`; a trailing `/` is ignored.
    pub gmail_base_url: String,
    /// e.g. `https://www.googleapis.com/calendar/v3`; a trailing `/` is ignored.
    pub calendar_base_url: String,
    /// Default 5 s.
    pub connect_timeout: std::time::Duration,
    /// Default 30 s.
    pub request_timeout: std::time::Duration,
    /// Default 4.
    pub max_attempts: u32,
    /// Default 500 ms.
    pub base_backoff: std::time::Duration,
    /// Default 8 s.
    pub max_backoff: std::time::Duration,
    /// Default 60 s.
    pub max_retry_after: std::time::Duration,
}

impl GoogleConfig {
    /// The defaults (as HubSpot's), for these API roots.
    pub fn new(gmail_base_url: impl Into<String>, calendar_base_url: impl Into<String>) -> Self {
        GoogleConfig {
            gmail_base_url: gmail_base_url.into(),
            calendar_base_url: calendar_base_url.into(),
            connect_timeout: HubSpotConfig::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: HubSpotConfig::DEFAULT_REQUEST_TIMEOUT,
            max_attempts: HubSpotConfig::DEFAULT_MAX_ATTEMPTS,
            base_backoff: HubSpotConfig::DEFAULT_BASE_BACKOFF,
            max_backoff: HubSpotConfig::DEFAULT_MAX_BACKOFF,
            max_retry_after: HubSpotConfig::DEFAULT_MAX_RETRY_AFTER,
        }
    }

    pub fn call_policy(&self) -> CallPolicy {
        CallPolicy {
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            max_attempts: self.max_attempts,
            base_backoff: self.base_backoff,
            max_backoff: self.max_backoff,
            max_retry_after: self.max_retry_after,
        }
    }
}

/// Where and how to reach Slack.
#[derive(Clone)]
pub struct SlackConfig {
    pub base_url: String,
    pub bot_token: String,
    pub policy: CallPolicy,
}

/// Where and how research searches the web (Tavily's `POST /search`).
#[derive(Clone)]
pub struct WebSearchConfig {
    pub base_url: String,
    pub api_key: String,
    pub policy: CallPolicy,
}

impl std::fmt::Debug for WebSearchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSearchConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl std::fmt::Debug for SlackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackConfig")
            .field("base_url", &self.base_url)
            .field("bot_token", &"<redacted>")
            .finish()
    }
}

/// Where and how the HubSpot client reaches HubSpot. It exists only with a token:
/// [`Config::hubspot`] answers `None` when HubSpot is not connected. Build it with
/// [`HubSpotConfig::new`] and shorten the timings where needed (tests do).
#[derive(Clone)]
pub struct HubSpotConfig {
    /// The API root, e.g. `https://api.hubapi.com`; a trailing `/` is ignored.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <token>`; never logged or shown.
    token: String,
    /// Default 5 s.
    pub connect_timeout: std::time::Duration,
    /// The whole request (connect, send, read the answer). Default 30 s.
    pub request_timeout: std::time::Duration,
    /// Attempts of one call, the first included, for retryable failures (429, 5xx,
    /// timeouts, refused connections). Default 4.
    pub max_attempts: u32,
    /// The first retry of a 5xx or timeout waits this long, each further one twice as long
    /// (default 500 ms) …
    pub base_backoff: std::time::Duration,
    /// … up to this (default 8 s).
    pub max_backoff: std::time::Duration,
    /// The longest `Retry-After` honoured; a longer one ends the call with
    /// `hubspot.rate_limited` (default 60 s).
    pub max_retry_after: std::time::Duration,
    /// HubSpot's CRM search API allows 4 requests per second per token (default 4).
    pub search_requests_per_second: u32,
    /// The narrowest last-modified window a sync splits down to when a search reports more
    /// than the 10,000 results it can page through (default 1 ms: the property's
    /// resolution).
    pub min_search_window: std::time::Duration,
}

impl HubSpotConfig {
    pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
    pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
    pub const DEFAULT_BASE_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);
    pub const DEFAULT_MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(8);
    pub const DEFAULT_MAX_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(60);
    /// HubSpot's documented limit of the CRM search API.
    pub const DEFAULT_SEARCH_REQUESTS_PER_SECOND: u32 = 4;
    pub const DEFAULT_MIN_SEARCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(1);

    /// The defaults above, for `base_url` with `token`.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        HubSpotConfig {
            base_url: base_url.into(),
            token: token.into(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            base_backoff: Self::DEFAULT_BASE_BACKOFF,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
            max_retry_after: Self::DEFAULT_MAX_RETRY_AFTER,
            search_requests_per_second: Self::DEFAULT_SEARCH_REQUESTS_PER_SECOND,
            min_search_window: Self::DEFAULT_MIN_SEARCH_WINDOW,
        }
    }

    /// The private-app token, for the `Authorization` header only.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn call_policy(&self) -> CallPolicy {
        CallPolicy {
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            max_attempts: self.max_attempts,
            base_backoff: self.base_backoff,
            max_backoff: self.max_backoff,
            max_retry_after: self.max_retry_after,
        }
    }
}

/// Debug output names the base URL and timings, never the token.
impl std::fmt::Debug for HubSpotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotConfig")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("base_backoff", &self.base_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field(
                "search_requests_per_second",
                &self.search_requests_per_second,
            )
            .field("min_search_window", &self.min_search_window)
            .finish()
    }
}

/// `/var/lib/caseyos` for root (the embedded PostgreSQL runs as the `postgres` user, which
/// cannot enter root's home), otherwise `$XDG_DATA_HOME/caseyos` or
/// `~/.local/share/caseyos`.
pub fn default_data_dir() -> PathBuf {
    let is_root = std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || std::env::var("HOME").map(|h| h == "/root").unwrap_or(false);
    if is_root {
        return PathBuf::from("/var/lib/caseyos");
    }
    if let Ok(xdg) = std::env::var("XDG_DATA_HOME") {
        if !xdg.is_empty() {
            return Path::new(&xdg).join("caseyos");
        }
    }
    match std::env::var("HOME") {
        Ok(home) if !home.is_empty() => Path::new(&home).join(".local/share/caseyos"),
        _ => PathBuf::from(".caseyos"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {field} {message}")]
    Invalid { field: String, message: String },
}

impl Config {
    /// How forecasts are computed: the configured fiscal year (January, marked as the
    /// default, when unset) and the reporting currency (US dollars, the only one).
    pub fn forecast(&self) -> caseyos_domain::forecast::ForecastConfig {
        let mut config = caseyos_domain::forecast::ForecastConfig::default();
        if let Some(calendar) = self
            .fiscal_year_start_month
            .and_then(|m| caseyos_domain::forecast::FiscalCalendar::starting_in(m).ok())
        {
            config.calendar = calendar;
        }
        config
    }

    /// Defaults, then the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("CASEYOS_CONFIG").map(PathBuf::from));
        if let Some(file) = &file {
            if !file.exists() {
                return Err(ConfigError::Invalid {
                    field: "config file".into(),
                    message: format!("{} does not exist", file.display()),
                });
            }
            figment = figment.merge(Toml::file(file));
        }
        // Only the keys of this tree: other CASEYOS_* variables belong to other parts
        // (tests, connectors) and must not fail the file's unknown-field check.
        let known: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        };
        figment = figment
            .merge(
                Env::prefixed("CASEYOS_")
                    .filter(move |key| known.iter().any(|k| key.as_str().eq_ignore_ascii_case(k))),
            )
            .merge(Env::raw().only(&["database_url"]));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            field: field.to_string(),
            message,
        };
        if caseyos_domain::kernel::UserName::parse(&self.operator).is_err() {
            return Err(invalid(
                "operator",
                "must be 1–128 printable characters".into(),
            ));
        }
        parse_tz(&self.default_timezone).map_err(|m| invalid("default_timezone", m))?;
        if let Some((field, message)) = self.guardrails.problem() {
            return Err(invalid(&format!("guardrails.{field}"), message.into()));
        }
        if self.message_id_domain.is_empty()
            || !self
                .message_id_domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(invalid(
                "message_id_domain",
                "a domain name: letters, digits, dots and hyphens".into(),
            ));
        }
        parse_tz(&self.schedule_time_zone).map_err(|m| invalid("schedule_time_zone", m))?;
        for (owner, tz) in &self.owner_timezones {
            parse_tz(tz).map_err(|m| invalid(&format!("owner_timezones.{owner}"), m))?;
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(invalid("log_format", "must be `text` or `json`".into()));
        }
        if self.database_max_connections < 4 {
            return Err(invalid(
                "database_max_connections",
                "must be at least 4".into(),
            ));
        }
        if self.snapshot_every == 0 {
            return Err(invalid("snapshot_every", "must be at least 1".into()));
        }
        if let Some(url) = &self.llm_base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid("llm_base_url", "must be an http(s) URL".into()));
            }
        }
        if !(self.hubspot_base_url.starts_with("http://")
            || self.hubspot_base_url.starts_with("https://"))
        {
            return Err(invalid("hubspot_base_url", "must be an http(s) URL".into()));
        }
        for (field, url) in [
            ("gmail_base_url", &self.gmail_base_url),
            ("calendar_base_url", &self.calendar_base_url),
            ("google_authorize_url", &self.google_authorize_url),
            ("google_token_url", &self.google_token_url),
            ("google_revoke_url", &self.google_revoke_url),
            ("google_userinfo_url", &self.google_userinfo_url),
            ("hubspot_authorize_url", &self.hubspot_authorize_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(field, "must be an http(s) URL".into()));
            }
        }
        if let Some(token) = &self.hubspot_token {
            // It goes into a header: visible ASCII only (private-app tokens are `pat-…`).
            if !token.trim().is_empty() && !token.trim().bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    "hubspot_token",
                    "must be printable ASCII without spaces".into(),
                ));
            }
        }
        if self.signal_sweep_interval_secs == 0 {
            return Err(invalid(
                "signal_sweep_interval_secs",
                "must be at least 1".into(),
            ));
        }
        if let Some(token) = &self.gmail_push_token {
            if token.trim().len() < MIN_FORM_SECRET_BYTES {
                return Err(invalid(
                    "gmail_push_token",
                    format!("a token needs at least {MIN_FORM_SECRET_BYTES} characters"),
                ));
            }
        }
        for (slack_user, who) in &self.slack_users {
            if self.slack_user(slack_user).is_none() {
                return Err(invalid(
                    &format!("slack_users.{slack_user}"),
                    format!("`{who}` is not `name:role` (role: viewer, operator or admin)"),
                ));
            }
        }
        if self.slack_post_interval_secs == 0 {
            return Err(invalid(
                "slack_post_interval_secs",
                "must be at least 1".into(),
            ));
        }
        for (form, secret) in &self.form_secrets {
            if !valid_form_name(form) {
                return Err(invalid(
                    &format!("form_secrets.{form}"),
                    "a form's name is 1–64 letters, digits, `_` or `-`".into(),
                ));
            }
            if secret.trim().len() < MIN_FORM_SECRET_BYTES {
                return Err(invalid(
                    &format!("form_secrets.{form}"),
                    format!("a secret needs at least {MIN_FORM_SECRET_BYTES} characters"),
                ));
            }
        }
        if self.hubspot_sync_interval_secs == 0 {
            return Err(invalid(
                "hubspot_sync_interval_secs",
                "must be at least 1".into(),
            ));
        }
        let t = &self.hygiene_thresholds;
        for (name, yellow, red) in [
            (
                "open_duplicates",
                t.open_duplicates_yellow,
                t.open_duplicates_red,
            ),
            (
                "invalid_percent",
                t.invalid_percent_yellow,
                t.invalid_percent_red,
            ),
            ("stale_percent", t.stale_percent_yellow, t.stale_percent_red),
        ] {
            if !(0 < yellow && yellow <= red) {
                return Err(invalid(
                    &format!("hygiene_thresholds.{name}"),
                    "needs 0 < yellow <= red".into(),
                ));
            }
        }
        if let Some(month) = self.fiscal_year_start_month {
            caseyos_domain::forecast::FiscalCalendar::starting_in(month)
                .map_err(|e| invalid("fiscal_year_start_month", e.to_string()))?;
        }
        if self.llm_model.trim().is_empty() {
            return Err(invalid("llm_model", "must not be empty".into()));
        }
        if self.llm_timeout_secs == 0 {
            return Err(invalid("llm_timeout_secs", "must be at least 1".into()));
        }
        if self.llm_context_tokens < 1_024 {
            return Err(invalid(
                "llm_context_tokens",
                "must be at least 1024".into(),
            ));
        }
        if self.agent_workers > 64 {
            return Err(invalid("agent_workers", "must be at most 64".into()));
        }
        if self.agent_timeout_secs == 0 {
            return Err(invalid("agent_timeout_secs", "must be at least 1".into()));
        }
        for (agent, secs) in &self.agent_timeouts {
            if caseyos_agents::find(agent).is_none() {
                return Err(invalid(
                    &format!("agent_timeouts.{agent}"),
                    "names no agent (see `caseyos agents list`)".into(),
                ));
            }
            if *secs == 0 {
                return Err(invalid(
                    &format!("agent_timeouts.{agent}"),
                    "must be at least 1".into(),
                ));
            }
        }
        if self.agent_lease_secs < 2 {
            return Err(invalid("agent_lease_secs", "must be at least 2".into()));
        }
        if self.agent_max_attempts == 0 {
            return Err(invalid("agent_max_attempts", "must be at least 1".into()));
        }
        if let Some(url) = &self.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid("database_url", "must be a postgres:// URL".into()));
            }
        }
        Ok(())
    }

    /// The time zone of an owner (their own, else the default).
    /// The per-attempt time limit of an agent, in milliseconds.
    pub fn agent_timeout_ms(&self, agent: &str) -> u64 {
        let wanted = caseyos_agents::find(agent).map(|s| s.name);
        self.agent_timeouts
            .iter()
            .find(|(name, _)| caseyos_agents::find(name).map(|s| s.name) == wanted)
            .map_or(self.agent_timeout_secs, |(_, secs)| *secs)
            .saturating_mul(1000)
    }

    /// The language-model client's settings, when a provider is configured.
    pub fn llm(&self) -> Option<caseyos_agents::LlmConfig> {
        let base_url = self.llm_base_url.as_deref()?.trim();
        if base_url.is_empty() {
            return None;
        }
        let mut llm = caseyos_agents::LlmConfig::new(
            base_url.to_string(),
            self.llm_api_key.clone().filter(|k| !k.trim().is_empty()),
            self.llm_model.clone(),
        );
        llm.timeout = std::time::Duration::from_secs(self.llm_timeout_secs);
        llm.max_retries = self.llm_max_retries;
        Some(llm)
    }

    /// The secret HubSpot's webhook signatures are checked with; `None` (unset or blank)
    /// means webhooks are not connected.
    /// Who a Slack user acts as: their CaseyOS name and role, when `slack_users` lists them.
    pub fn slack_user(&self, slack_user: &str) -> Option<(String, caseyos_domain::api::Role)> {
        let (name, role) = self.slack_users.get(slack_user)?.rsplit_once(':')?;
        let name = caseyos_domain::kernel::UserName::parse(name.trim()).ok()?;
        let role = caseyos_domain::api::Role::parse(role)?;
        Some((name.as_str().to_string(), role))
    }

    /// The channel notifications of `kind` go to, if any.
    pub fn slack_channel(&self, kind: &str) -> Option<&str> {
        self.slack_channels
            .get(kind)
            .or_else(|| self.slack_channels.get("default"))
            .map(String::as_str)
            .filter(|c| !c.trim().is_empty())
    }

    pub fn hubspot_client_secret(&self) -> Option<&str> {
        self.hubspot_client_secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The secret form `form` is signed with; `None` for a form not configured.
    pub fn form_secret(&self, form: &str) -> Option<&str> {
        self.form_secrets
            .get(form)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// The HubSpot client's settings, when a token is configured; `None` means HubSpot is
    /// not connected (`connector.not_connected`).
    pub fn hubspot(&self) -> Option<HubSpotConfig> {
        let token = self.hubspot_token.as_deref()?.trim();
        if token.is_empty() {
            return None;
        }
        Some(HubSpotConfig::new(self.hubspot_base_url.trim(), token))
    }

    /// The Slack client's settings, when a bot token is configured.
    pub fn slack(&self) -> Option<SlackConfig> {
        let token = self.slack_bot_token.as_deref()?.trim();
        if token.is_empty() {
            return None;
        }
        Some(SlackConfig {
            base_url: self.slack_base_url.trim().to_string(),
            bot_token: token.to_string(),
            policy: self.slack_policy(),
        })
    }

    /// The web search provider, when its API key is set.
    pub fn web_search(&self) -> Option<WebSearchConfig> {
        let key = self.web_search_api_key.as_deref()?.trim();
        if key.is_empty() {
            return None;
        }
        Some(WebSearchConfig {
            base_url: self.web_search_base_url.trim().to_string(),
            api_key: key.to_string(),
            policy: self.slack_policy(),
        })
    }

    /// How calls to Slack go: HubSpot's timings (short, bounded, `Retry-After` honoured).
    pub fn slack_policy(&self) -> CallPolicy {
        CallPolicy {
            connect_timeout: HubSpotConfig::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: HubSpotConfig::DEFAULT_REQUEST_TIMEOUT,
            max_attempts: HubSpotConfig::DEFAULT_MAX_ATTEMPTS,
            base_backoff: HubSpotConfig::DEFAULT_BASE_BACKOFF,
            max_backoff: HubSpotConfig::DEFAULT_MAX_BACKOFF,
            max_retry_after: HubSpotConfig::DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// The Gmail and Google Calendar clients' settings (their API roots and timings). Whether
    /// Google is connected is the credential store's to say, not the configuration's.
    pub fn google(&self) -> GoogleConfig {
        GoogleConfig::new(self.gmail_base_url.trim(), self.calendar_base_url.trim())
    }

    pub fn timezone_of(&self, owner: &str) -> Tz {
        self.owner_timezones
            .get(owner)
            .and_then(|tz| parse_tz(tz).ok())
            .or_else(|| parse_tz(&self.default_timezone).ok())
            .unwrap_or(Tz::UTC)
    }

    /// Whether people reach CaseyOS over HTTPS (`public_url` is an `https` URL): the
    /// session cookie is then `Secure` and `__Host-`-prefixed.
    pub fn serves_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// The base URL people open.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let host = if bound.ip().is_unspecified() {
                    "127.0.0.1".to_string()
                } else {
                    bound.ip().to_string()
                };
                format!("http://{host}:{}", bound.port())
            }
        }
    }
}

/// Every field, by name, with the secrets hidden: the LLM API key, the HubSpot token and
/// client secret, the credentials key, the Google client secret, and the password of the
/// database URL. (Read from the serialized tree, so a new field is shown without
/// anyone remembering to add it here.)
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut tree = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => return f.write_str("Config { <unprintable> }"),
        };
        for secret in [
            "llm_api_key",
            "hubspot_token",
            "hubspot_client_secret",
            "credentials_key",
            "google_client_secret",
            "gmail_push_token",
            "slack_bot_token",
            "slack_signing_secret",
            "web_search_api_key",
        ] {
            if let Some(key) = tree.get_mut(secret).filter(|k| !k.is_null()) {
                *key = serde_json::Value::String("<redacted>".into());
            }
        }
        if let Some(serde_json::Value::Object(forms)) = tree.get_mut("form_secrets") {
            for secret in forms.values_mut() {
                *secret = serde_json::Value::String("<redacted>".into());
            }
        }
        if let Some(url) = &self.database_url {
            tree.insert(
                "database_url".into(),
                serde_json::Value::String(redact_database_url(url)),
            );
        }
        let mut out = f.debug_struct("Config");
        for (name, value) in &tree {
            out.field(name, &format_args!("{value}"));
        }
        out.finish()
    }
}

/// A database URL without its password (in the user part or a `password=` parameter), for
/// messages and logs.
pub fn redact_database_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _)) => format!("{user}:***{}", &authority[at..]),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{}{authority}{tail}", &url[..scheme_end])
}

pub fn parse_tz(raw: &str) -> Result<Tz, String> {
    raw.parse::<Tz>()
        .map_err(|_| format!("`{raw}` is not an IANA time zone (e.g. Europe/Berlin)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn invalid_values_name_their_field() {
        let mut config = Config::default();
        config
            .owner_timezones
            .insert("casey".into(), "Mars/Olympus".into());
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("owner_timezones.casey"), "{error}");

        let config = Config {
            log_format: "xml".into(),
            ..Config::default()
        };
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("log_format"));
    }

    #[test]
    fn passwords_never_appear_in_database_urls_shown() {
        // (url, as shown)
        let table = [
            (
                "postgres://app:s3cret@db:5432/caseyos",
                "postgres://app:***@db:5432/caseyos",
            ),
            ("postgres://app@db/caseyos", "postgres://app@db/caseyos"),
            (
                "postgres:///caseyos?host=/tmp/x",
                "postgres:///caseyos?host=/tmp/x",
            ),
            (
                "postgres://app:p@ss@db/caseyos",
                "postgres://app:***@db/caseyos",
            ),
            (
                "postgresql://db/caseyos?user=app&password=s3cret&sslmode=require",
                "postgresql://db/caseyos?user=app&password=***&sslmode=require",
            ),
            (
                "postgres://app:s3cret@db/caseyos?options=a@b",
                "postgres://app:***@db/caseyos?options=a@b",
            ),
            ("not a url", "not a url"),
        ];
        for (url, shown) in table {
            assert_eq!(redact_database_url(url), shown, "{url}");
        }
    }

    #[test]
    fn debug_output_hides_the_llm_key_and_the_database_password() {
        let config = Config {
            database_url: Some("postgres://app:db-s3cret@db:5432/caseyos".into()),
            llm_base_url: Some("https://api.example/v1".into()),
            llm_api_key: Some("sk-live-s3cret".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("llm_api_key: \"<redacted>\""), "{shown}");
        assert!(
            shown.contains("postgres://app:***@db:5432/caseyos"),
            "{shown}"
        );
        // Everything else is there, by name.
        assert!(shown.starts_with("Config {"), "{shown}");
        assert!(
            shown.contains("llm_base_url: \"https://api.example/v1\""),
            "{shown}"
        );
        assert!(shown.contains("agent_workers: 4"), "{shown}");
        let alternate = format!("{config:#?}");
        assert!(!alternate.contains("s3cret"), "{alternate}");

        let unset = format!("{:?}", Config::default());
        assert!(unset.contains("llm_api_key: null"), "{unset}");
    }

    #[test]
    fn hubspot_is_connected_only_with_a_token_and_its_token_is_never_shown() {
        assert!(
            Config::default().hubspot().is_none(),
            "no token: not connected"
        );
        let blank = Config {
            hubspot_token: Some("  ".into()),
            ..Config::default()
        };
        assert!(blank.hubspot().is_none(), "a blank token: not connected");

        let config = Config {
            hubspot_token: Some("pat-na1-s3cret".into()),
            hubspot_client_secret: Some("client-s3cret".into()),
            ..Config::default()
        };
        config.validate().unwrap();
        assert_eq!(config.hubspot_client_secret(), Some("client-s3cret"));
        let hubspot = config.hubspot().expect("a token connects HubSpot");
        assert_eq!(hubspot.base_url, "https://api.hubapi.com");
        assert_eq!(hubspot.token(), "pat-na1-s3cret");
        assert_eq!(hubspot.connect_timeout, std::time::Duration::from_secs(5));
        assert_eq!(hubspot.request_timeout, std::time::Duration::from_secs(30));
        for shown in [
            format!("{config:?}"),
            format!("{config:#?}"),
            format!("{hubspot:?}"),
        ] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }

        let bad = Config {
            hubspot_base_url: "api.hubapi.com".into(),
            ..Config::default()
        };
        let error = bad.validate().unwrap_err().to_string();
        assert!(error.contains("hubspot_base_url"), "{error}");
        let bad = Config {
            hubspot_token: Some("pat na1".into()),
            ..Config::default()
        };
        let error = bad.validate().unwrap_err().to_string();
        assert!(error.contains("hubspot_token"), "{error}");
        assert!(!error.contains("pat na1"), "{error}");
    }

    #[test]
    fn google_base_urls_default_to_googles_and_must_be_http_urls() {
        let google = Config::default().google();
        assert_eq!(google.gmail_base_url, "https://gmail.googleapis.com");
        assert_eq!(
            google.calendar_base_url,
            "https://www.googleapis.com/calendar/v3"
        );
        let policy = google.call_policy();
        assert_eq!(policy.connect_timeout, std::time::Duration::from_secs(5));
        assert_eq!(policy.request_timeout, std::time::Duration::from_secs(30));
        assert_eq!(policy.max_attempts, 4);
        assert_eq!(policy.max_retry_after, std::time::Duration::from_secs(60));
        for (field, config) in [
            (
                "gmail_base_url",
                Config {
                    gmail_base_url: "gmail.googleapis.com".into(),
                    ..Config::default()
                },
            ),
            (
                "calendar_base_url",
                Config {
                    calendar_base_url: "ftp://x".into(),
                    ..Config::default()
                },
            ),
        ] {
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(field), "{error}");
        }
    }

    #[test]
    fn form_secrets_are_checked_found_by_form_and_never_shown() {
        let mut config = Config::default();
        config
            .form_secrets
            .insert("demo".into(), "form-s3cret-0123456789".into());
        config.validate().unwrap();
        assert_eq!(config.form_secret("demo"), Some("form-s3cret-0123456789"));
        assert_eq!(config.form_secret("pricing"), None);
        for shown in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("demo"), "{shown}");
        }
        // (form, secret, the field an error names)
        let table = [
            ("demo", "short", "form_secrets.demo"),
            (
                "no spaces",
                "form-s3cret-0123456789",
                "form_secrets.no spaces",
            ),
        ];
        for (form, secret, field) in table {
            let mut bad = Config::default();
            bad.form_secrets.insert(form.into(), secret.into());
            let error = bad.validate().unwrap_err().to_string();
            assert!(error.contains(field), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn owners_fall_back_to_the_default_time_zone() {
        let mut config = Config {
            default_timezone: "Europe/Berlin".into(),
            ..Config::default()
        };
        config
            .owner_timezones
            .insert("casey".into(), "America/New_York".into());
        assert_eq!(config.timezone_of("casey"), chrono_tz::America::New_York);
        assert_eq!(config.timezone_of("alex"), chrono_tz::Europe::Berlin);
    }
}
