//! New mail in the connected Gmail mailbox, read through its history (Gmail's "Synchronizing
//! clients" guide): every `gmail_poll_interval_secs` and whenever a Pub/Sub push wakes it
//! (`POST /api/webhooks/gmail`), the poller lists `users.history.list?startHistoryId=<stored>
//! &historyTypes=messageAdded` and reads each added message's metadata.
//!
//! - **Where it reads from** is the `gmail_history` table (one row per mailbox): the first
//!   poll stores the profile's current `historyId` and reads nothing older (no replay of the
//!   mailbox); each finished listing stores the history id it reached, after its messages
//!   were handled, so a restart resumes there. Handling a message twice records nothing
//!   twice: signals are keyed by the message id, outcomes by the execution.
//! - **A reply** (a message with `In-Reply-To` / `References`, not from the mailbox itself,
//!   not automatic) from a known contact, or answering an email CaseyOS sent, is recorded as a
//!   Gmail `reply_received` signal ([`gmail_reply_signal`]; the signals reactor proposes the
//!   meeting, pricing or unsubscribe move). When its headers name the `Message-ID` of one of
//!   our executions (`<{execution id}@{message_id_domain}>`, a draft's `….draft@…`) — or,
//!   failing that, it is in the Gmail thread of one — the outcome `email_replied` is recorded
//!   for that execution's move and contact (key `execution:<id>:email_replied`), which
//!   unenrolls the contact's pending follow-ups.
//! - **A bounce** (from `mailer-daemon` / `postmaster`, a `multipart/report;
//!   report-type=delivery-status`, or an `X-Failed-Recipients` header) that names our
//!   `Message-ID` or sits in our email's thread is the outcome `email_bounced` (key
//!   `execution:<id>:email_bounced`).
//! - **A history id Gmail no longer has** (404 on `history.list`): the poller starts again
//!   from the profile's current `historyId`, logs a warning and raises the
//!   `connector.resynced` alert (once per day): mail that arrived in between is not read.
//!
//! Nothing is read while Gmail is not connected. One instance polls at a time (an advisory
//! lock); a push that reaches an instance while another polls is covered by the next poll.

use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::alerts::{AlertKind, AlertSeverity};
use caseyos_domain::connectors::ConnectorName;
use caseyos_domain::executions::{ActionExecution, Effect, ExecutionStatus, ExecutionView};
use caseyos_domain::kernel::EmailAddress;
use caseyos_domain::outcomes::{OutcomeSource, OutcomeType};
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandMeta};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::outcomes::record_of_execution;
use crate::commands::signals::{gmail_reply_signal, record as record_signal};
use crate::config::GoogleConfig;
use crate::connectors::credentials::Credentials;
use crate::connectors::gmail::{GmailClient, MessageMeta};
use crate::connectors::ConnectorError;

/// Its actor (`system:gmail_poller`) and lock name.
pub const ACTOR: &str = "gmail_poller";
/// Listings one poll reads at most (each up to the client's page limit) before it stops
/// and leaves the rest to the next poll.
pub const MAX_LISTINGS: usize = 5;

/// The poller's parts.
#[derive(Clone)]
pub struct GmailPoller {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub credentials: Credentials,
    pub google: GoogleConfig,
    /// The domain of the `Message-ID`s CaseyOS writes (`message_id_domain`).
    pub message_domain: String,
}

/// What one poll did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Poll {
    /// Another instance was polling: nothing done.
    pub skipped: bool,
    /// The first poll of this mailbox: it stored the profile's history id and read nothing.
    pub started: bool,
    /// The stored history id was too old: started again from the profile's.
    pub reset: bool,
    /// Messages read.
    pub messages: usize,
    /// Reply signals recorded (not recorded before).
    pub replies: usize,
    /// Outcomes recorded (or found recorded) for our executions: `email_replied`,
    /// `email_bounced`.
    pub outcomes: usize,
    /// The history id stored at the end.
    pub history_id: String,
}

/// Runs a poll at start and every `interval`, and whenever `wake` is notified, until
/// shutdown (with no interval only when woken: push only); supervised (started again if it
/// panics).
pub fn spawn(
    poller: GmailPoller,
    interval: Option<Duration>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    super::supervisor::supervise_every(ACTOR, interval, Some(wake), shutdown, move || {
        let poller = poller.clone();
        async move {
            if poller.credentials.is_connected(ConnectorName::Gmail).await {
                let poll = poller.poll().await?;
                tracing::debug!(
                    gmail.messages = poll.messages,
                    gmail.replies = poll.replies,
                    gmail.outcomes = poll.outcomes,
                    "gmail poll done"
                );
            }
            Ok(())
        }
    })
}

/// What a message is to the poller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A delivery failure; the executions its headers name, first the likeliest.
    Bounce { executions: Vec<Uuid> },
    /// A reply from someone else; the executions its headers name.
    Reply {
        from: EmailAddress,
        executions: Vec<Uuid>,
    },
    /// Nothing to record, and why.
    Ignored(&'static str),
}

/// The address of a `From` header (`Dana Lee <dana@acme.io>` or `dana@acme.io`).
pub fn address_of(header: &str) -> Option<EmailAddress> {
    let raw = match (header.rfind('<'), header.rfind('>')) {
        (Some(open), Some(close)) if open < close => &header[open + 1..close],
        _ => header,
    };
    EmailAddress::parse(raw.trim()).ok()
}

/// The executions whose `Message-ID`s (`<{id}@{domain}>`, a draft's `<{id}.draft@{domain}>`)
/// `In-Reply-To` and then `References` name, each once.
pub fn our_executions(message: &MessageMeta, domain: &str) -> Vec<Uuid> {
    let mut found = Vec::new();
    let headers = [message.in_reply_to(), message.references()];
    for value in headers.into_iter().flatten() {
        for id in value
            .split(|c: char| c == '<' || c == '>' || c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
        {
            let Some((local, host)) = id.rsplit_once('@') else {
                continue;
            };
            if !host.eq_ignore_ascii_case(domain) {
                continue;
            }
            let local = local.strip_suffix(".draft").unwrap_or(local);
            if let Ok(uuid) = Uuid::parse_str(local) {
                if !found.contains(&uuid) {
                    found.push(uuid);
                }
            }
        }
    }
    found
}

/// Whether a message is a delivery-status notification.
pub fn is_bounce(message: &MessageMeta) -> bool {
    let from_daemon = message
        .from()
        .and_then(address_of)
        .map(|a| {
            let local = a.as_str().split('@').next().unwrap_or_default();
            local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
        })
        .unwrap_or(false);
    let report = message.content_type().is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("multipart/report") && t.contains("delivery-status")
    });
    from_daemon || report || message.failed_recipients().is_some()
}

/// What `message` is to the mailbox `account` (lower case), whose emails CaseyOS writes
/// with `Message-ID`s at `domain`.
pub fn classify(message: &MessageMeta, account: &str, domain: &str) -> Incoming {
    if message
        .label_ids
        .iter()
        .any(|l| l == "SENT" || l == "DRAFT")
    {
        return Incoming::Ignored("ours");
    }
    let executions = our_executions(message, domain);
    if is_bounce(message) {
        return Incoming::Bounce { executions };
    }
    let Some(from) = message.from().and_then(address_of) else {
        return Incoming::Ignored("no sender");
    };
    if from.as_str().eq_ignore_ascii_case(account) {
        return Incoming::Ignored("ours");
    }
    if message
        .auto_submitted()
        .is_some_and(|a| !a.trim().eq_ignore_ascii_case("no"))
    {
        return Incoming::Ignored("automatic");
    }
    if message.in_reply_to().is_none() && message.references().is_none() {
        return Incoming::Ignored("not a reply");
    }
    Incoming::Reply { from, executions }
}

/// The stored history id of `account`.
pub async fn stored_history_id(pool: &PgPool, account: &str) -> anyhow::Result<Option<String>> {
    Ok(
        sqlx::query_scalar("select history_id from gmail_history where account = $1")
            .bind(account)
            .fetch_optional(pool)
            .await?,
    )
}

async fn store_history_id(
    pool: &PgPool,
    account: &str,
    history_id: &str,
    reset: bool,
) -> anyhow::Result<()> {
    sqlx::query(
        "insert into gmail_history (account, history_id, polled_at, reset_at) \
         values ($1, $2, now(), case when $3 then now() end) \
         on conflict (account) do update set history_id = excluded.history_id, \
           polled_at = now(), updated_at = now(), \
           reset_at = case when $3 then now() else gmail_history.reset_at end",
    )
    .bind(account)
    .bind(history_id)
    .bind(reset)
    .execute(pool)
    .await?;
    Ok(())
}

fn meta() -> CommandMeta {
    CommandMeta::system(ACTOR)
}

impl GmailPoller {
    /// One poll, if no other instance is polling (see the module's documentation).
    pub async fn poll(&self) -> anyhow::Result<Poll> {
        let polled =
            super::reactor::locked(&self.pool, ACTOR, false, async || self.poll_locked().await)
                .await?;
        Ok(polled.unwrap_or(Poll {
            skipped: true,
            ..Poll::default()
        }))
    }

    /// A call's result, reported to the connector's health.
    async fn recorded<T>(&self, result: Result<T, ConnectorError>) -> Result<T, ConnectorError> {
        self.credentials
            .record_call(ConnectorName::Gmail, result.as_ref().map(|_| ()))
            .await;
        result
    }

    /// A failed call, reported to the connector's health.
    async fn failed(&self, error: ConnectorError) -> anyhow::Error {
        self.credentials
            .record_call(ConnectorName::Gmail, Err(&error))
            .await;
        error.into()
    }

    async fn poll_locked(&self) -> anyhow::Result<Poll> {
        let token = self.credentials.access_token(ConnectorName::Gmail).await?;
        let client = GmailClient::new(&self.google, token.secret)?;
        let account = match token.account {
            Some(account) => account,
            None => self.recorded(client.profile().await).await?.email_address,
        }
        .trim()
        .to_ascii_lowercase();
        let mut poll = Poll::default();
        let Some(mut start) = stored_history_id(&self.pool, &account).await? else {
            let profile = self.recorded(client.profile().await).await?;
            store_history_id(&self.pool, &account, &profile.history_id, false).await?;
            tracing::info!(
                gmail.history_id = %profile.history_id,
                "gmail poller starts at the mailbox's current history"
            );
            poll.started = true;
            poll.history_id = profile.history_id;
            return Ok(poll);
        };
        for _ in 0..MAX_LISTINGS {
            let history = match client.history_since(&start).await {
                Ok(history) => {
                    self.recorded::<()>(Ok(())).await?;
                    history
                }
                Err(ConnectorError::HistoryExpired) => {
                    let profile = self.recorded(client.profile().await).await?;
                    tracing::warn!(
                        gmail.stale_history_id = %start,
                        gmail.history_id = %profile.history_id,
                        "the stored Gmail history id is too old (404 on history.list): reading \
                         again from the mailbox's current history; mail received in between \
                         is not read"
                    );
                    store_history_id(&self.pool, &account, &profile.history_id, true).await?;
                    self.raise_resynced().await;
                    poll.reset = true;
                    poll.history_id = profile.history_id;
                    return Ok(poll);
                }
                Err(error) => return Err(self.failed(error).await),
            };
            for added in &history.added {
                if added.label_ids.iter().any(|l| l == "SENT" || l == "DRAFT") {
                    continue;
                }
                let message = match client.message(&added.id).await {
                    Ok(message) => message,
                    // Deleted since it was added: nothing to read.
                    Err(ConnectorError::NotFound { .. }) => continue,
                    Err(error) => return Err(self.failed(error).await),
                };
                poll.messages += 1;
                self.handle(&message, &account, &mut poll).await?;
            }
            store_history_id(&self.pool, &account, &history.history_id, false).await?;
            poll.history_id = history.history_id.clone();
            if !history.truncated || history.history_id == start {
                break;
            }
            start = history.history_id;
        }
        Ok(poll)
    }

    async fn raise_resynced(&self) {
        let at = now();
        let key = format!(
            "{}/gmail/{}",
            AlertKind::ConnectorResynced.as_str(),
            at.date_naive()
        );
        if let Err(error) = super::connector_tokens::raise(
            &self.bus,
            AlertKind::ConnectorResynced,
            AlertSeverity::Normal,
            &key,
            "Gmail's history was read again from now",
            "Gmail no longer had the history CaseyOS last read from (it keeps about a week), so \
             the poller started again from the mailbox's current history. Replies and bounces \
             that arrived in between were not read; check the inbox for them.",
            at,
        )
        .await
        {
            tracing::warn!(error = %format!("{error:#}"), "raising the connector.resynced alert failed");
        }
    }

    /// Records what `message` is: a reply's signal and outcome, a bounce's outcome.
    async fn handle(
        &self,
        message: &MessageMeta,
        account: &str,
        poll: &mut Poll,
    ) -> anyhow::Result<()> {
        let occurred_at = message.internal_date.unwrap_or_else(now);
        match classify(message, account, &self.message_domain) {
            Incoming::Ignored(why) => {
                tracing::debug!(gmail.message_id = %message.id, why, "gmail message skipped");
            }
            Incoming::Bounce { executions } => {
                if let Some(execution) = self.execution_of(message, &executions).await? {
                    self.record_outcome(&execution, OutcomeType::EmailBounced, occurred_at)
                        .await?;
                    poll.outcomes += 1;
                }
            }
            Incoming::Reply { from, executions } => {
                let execution = self.execution_of(message, &executions).await?;
                if execution.is_none() && !self.is_contact(&from).await? {
                    tracing::debug!(gmail.message_id = %message.id, "a reply from someone who is not a contact");
                    return Ok(());
                }
                let signal = gmail_reply_signal(
                    &message.thread_id,
                    &message.id,
                    from,
                    message.subject().unwrap_or_default(),
                    &message.snippet,
                    occurred_at,
                );
                let recorded = record_signal(&self.bus, signal, &meta())
                    .await
                    .map_err(|e| anyhow::anyhow!("recording the reply signal: {e}"))?;
                if !recorded.duplicate {
                    poll.replies += 1;
                }
                if let Some(execution) = execution {
                    self.record_outcome(&execution, OutcomeType::EmailReplied, occurred_at)
                        .await?;
                    poll.outcomes += 1;
                }
            }
        }
        Ok(())
    }

    /// The first of `named` that is an email CaseyOS sent or drafted, else the one whose
    /// Gmail thread the message is in.
    async fn execution_of(
        &self,
        message: &MessageMeta,
        named: &[Uuid],
    ) -> anyhow::Result<Option<ExecutionView>> {
        for id in named {
            if let Some(view) = self.email_execution(*id).await? {
                return Ok(Some(view));
            }
        }
        if message.thread_id.is_empty() {
            return Ok(None);
        }
        match caseyos_projections::executions::email_of_gmail_thread(&self.pool, &message.thread_id)
            .await?
        {
            Some(id) => self.email_execution(id).await,
            None => Ok(None),
        }
    }

    /// The execution `id` as the event store has it, if it sent or drafted an email.
    async fn email_execution(&self, id: Uuid) -> anyhow::Result<Option<ExecutionView>> {
        let state: ActionExecution = state_at(&self.pool, &id.to_string(), i64::MAX).await?;
        Ok(state.into_view().filter(|e| {
            e.status == ExecutionStatus::Succeeded
                && matches!(e.effect, Some(Effect::EmailSent | Effect::DraftCreated))
        }))
    }

    /// Whether `email` is one of a contact's addresses.
    async fn is_contact(&self, email: &EmailAddress) -> anyhow::Result<bool> {
        Ok(sqlx::query_scalar(
            "select exists (select 1 from contacts where $1 = any(emails) and status <> 'merged')",
        )
        .bind(email.as_str().to_ascii_lowercase())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Records `outcome_type` for the execution's move and contact, once per execution.
    async fn record_outcome(
        &self,
        execution: &ExecutionView,
        outcome_type: OutcomeType,
        occurred_at: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<()> {
        let source = OutcomeSource::Gmail;
        record_of_execution(
            &self.pool,
            &self.bus,
            execution,
            outcome_type,
            source,
            occurred_at,
            ACTOR,
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(labels: &[&str], headers: &[(&str, &str)]) -> MessageMeta {
        MessageMeta {
            id: "m1".into(),
            thread_id: "t1".into(),
            label_ids: labels.iter().map(|l| l.to_string()).collect(),
            internal_date: None,
            snippet: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    const ID: &str = "0b6f3c2e8b475d199e057c3b2a61f0d8";

    #[test]
    fn our_message_ids_are_found_in_in_reply_to_and_references() {
        let id = Uuid::parse_str(ID).unwrap();
        let other = Uuid::from_u128(7);
        // (in-reply-to, references, found)
        let table: Vec<(Option<String>, Option<String>, Vec<Uuid>)> = vec![
            (Some(format!("<{ID}@caseyos.local>")), None, vec![id]),
            (Some(format!("<{ID}.draft@CaseyOS.local>")), None, vec![id]),
            (
                Some("<abc@mail.acme.io>".into()),
                Some(format!(
                    "<x@y> <{ID}@caseyos.local>\r\n <{}@caseyos.local>",
                    other.simple()
                )),
                vec![id, other],
            ),
            (Some(format!("<{ID}@elsewhere.io>")), None, vec![]),
            (Some("<not-a-uuid@caseyos.local>".into()), None, vec![]),
            (None, None, vec![]),
        ];
        for (i, (in_reply_to, references, found)) in table.into_iter().enumerate() {
            let mut headers = Vec::new();
            if let Some(v) = &in_reply_to {
                headers.push(("In-Reply-To", v.as_str()));
            }
            if let Some(v) = &references {
                headers.push(("References", v.as_str()));
            }
            let m = message(&["INBOX"], &headers);
            assert_eq!(our_executions(&m, "caseyos.local"), found, "row {i}");
        }
    }

    /// (labels, headers, what)
    type Row<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, Incoming);

    #[test]
    fn messages_are_replies_bounces_or_nothing() {
        let reply_to = format!("<{ID}@caseyos.local>");
        let id = Uuid::parse_str(ID).unwrap();
        let dana = EmailAddress::parse("dana@acme.io").unwrap();
        // (labels, headers, what)
        let table: Vec<Row> = vec![
            (
                vec!["INBOX"],
                vec![
                    ("From", "Dana Lee <Dana@Acme.io>"),
                    ("In-Reply-To", &reply_to),
                ],
                Incoming::Reply {
                    from: dana.clone(),
                    executions: vec![id],
                },
            ),
            (
                vec!["INBOX"],
                vec![("From", "dana@acme.io"), ("References", "<a@b>")],
                Incoming::Reply {
                    from: dana.clone(),
                    executions: vec![],
                },
            ),
            (
                vec!["INBOX"],
                vec![("From", "dana@acme.io"), ("Subject", "Hello")],
                Incoming::Ignored("not a reply"),
            ),
            (
                vec!["SENT"],
                vec![("From", "dana@acme.io"), ("In-Reply-To", &reply_to)],
                Incoming::Ignored("ours"),
            ),
            (
                vec!["INBOX"],
                vec![
                    ("From", "Casey <casey@example.com>"),
                    ("In-Reply-To", &reply_to),
                ],
                Incoming::Ignored("ours"),
            ),
            (
                vec!["INBOX"],
                vec![
                    ("From", "dana@acme.io"),
                    ("In-Reply-To", &reply_to),
                    ("Auto-Submitted", "auto-replied"),
                ],
                Incoming::Ignored("automatic"),
            ),
            (
                vec!["INBOX"],
                vec![
                    ("From", "dana@acme.io"),
                    ("In-Reply-To", &reply_to),
                    ("Auto-Submitted", "no"),
                ],
                Incoming::Reply {
                    from: dana.clone(),
                    executions: vec![id],
                },
            ),
            (
                vec!["INBOX"],
                vec![
                    (
                        "From",
                        "Mail Delivery Subsystem <MAILER-DAEMON@googlemail.com>",
                    ),
                    ("References", &reply_to),
                ],
                Incoming::Bounce {
                    executions: vec![id],
                },
            ),
            (
                vec!["INBOX"],
                vec![
                    ("From", "postmaster@acme.io"),
                    (
                        "Content-Type",
                        "multipart/report; report-type=delivery-status; boundary=x",
                    ),
                ],
                Incoming::Bounce { executions: vec![] },
            ),
            (
                vec!["INBOX"],
                vec![
                    ("From", "relay@acme.io"),
                    ("X-Failed-Recipients", "dana@acme.io"),
                ],
                Incoming::Bounce { executions: vec![] },
            ),
            (
                vec!["INBOX"],
                vec![("In-Reply-To", &reply_to)],
                Incoming::Ignored("no sender"),
            ),
        ];
        for (i, (labels, headers, what)) in table.into_iter().enumerate() {
            let m = message(&labels, &headers);
            assert_eq!(
                classify(&m, "casey@example.com", "caseyos.local"),
                what,
                "row {i}: {headers:?}"
            );
        }
    }
}
