//! The Gmail client: send a raw RFC 2822 message ([`super::mime`] builds them), create and
//! delete drafts, find a message or a draft by the `Message-ID` we set (so a retried send
//! reconciles before sending again), read a thread or a message's headers, list the
//! messages added since a history id, and the mailbox's profile. The account's OAuth access
//! token is passed in by the caller (the credential store refreshes it); one client per
//! token.
//!
//! **Shapes** (Gmail API v1 reference, developers.google.com/workspace/gmail/api/reference/rest):
//! - `users.messages.send`: `POST /gmail/v1/users/me/messages/send` with a `Message`
//!   `{raw, threadId?}`; `raw` is "the entire email message in an RFC 2822 formatted and
//!   base64url encoded string" (we send it padded, as Google's own samples'
//!   `urlsafe_b64encode` does). Answers the `Message` `{id, threadId, labelIds}`.
//! - `users.drafts.create`: `POST /gmail/v1/users/me/drafts` with a `Draft`
//!   `{message: {raw, threadId?}}`, answering `{id, message: {id, threadId, labelIds}}`;
//!   `users.drafts.delete`: `DELETE /gmail/v1/users/me/drafts/{id}` (empty answer).
//! - `users.messages.list` / `users.drafts.list`: `GET …/messages` / `…/drafts` with `q`
//!   (the search box's syntax; `rfc822msgid:<id>` finds a message by its `Message-ID`,
//!   Gmail's "Search operators" help) and `includeSpamTrash`, answering `{messages: [{id,
//!   threadId}], nextPageToken, resultSizeEstimate}` / `{drafts: [{id, message: {id,
//!   threadId}}], …}`; no match answers no list at all.
//! - `users.threads.get`: `GET …/threads/{id}?format=metadata&metadataHeaders=…` answering
//!   `{id, historyId, messages: [Message]}`; `users.messages.get`: `GET …/messages/{id}` with
//!   the same parameters. A `Message` with `format=metadata` has `id, threadId, labelIds,
//!   snippet, historyId, internalDate` (epoch milliseconds as a string) and
//!   `payload.headers: [{name, value}]`.
//! - `users.history.list`: `GET …/history?startHistoryId=…&historyTypes=messageAdded
//!   &pageToken=…` answering `{history: [{id, messagesAdded: [{message: {id, threadId,
//!   labelIds}}]}], nextPageToken, historyId}`; "a `startHistoryId` [that] is outside the
//!   available range … returns an HTTP 404": `gmail.history_expired` here, so the poller
//!   starts again from the profile's `historyId` (the "Synchronizing clients" guide).
//! - `users.getProfile`: `GET …/profile` answering `{emailAddress, messagesTotal,
//!   threadsTotal, historyId}`.
//!
//! **Retries.** Reads repeat on 429, 5xx, timeouts and refused connections; a send or a
//! draft creation only when Gmail cannot have acted on it (429 / `403
//! userRateLimitExceeded`, a refused connection). A send that timed out is reported: the
//! caller looks for its `Message-ID` ([`GmailClient::find_message_by_message_id`]) before
//! sending it again.

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::call::{Answer, CallStats, Caller, Replay, Request};
use super::google::{self, GoogleHooks};
use super::{ConnectorError, Provider};
use crate::config::GoogleConfig;

const PROVIDER: Provider = Provider::Gmail;

/// The headers [`GmailClient::thread`] and [`GmailClient::message`] ask for.
pub const METADATA_HEADERS: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Content-Type",
    "X-Failed-Recipients",
];
/// History records per page (Gmail's maximum is 500).
pub const HISTORY_PAGE_SIZE: u32 = 500;
/// Pages a history listing reads before it stops and answers what it has (with the last
/// history id it fully read), so one poll stays bounded.
pub const HISTORY_MAX_PAGES: u32 = 20;

/// A message as an id and its thread.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    pub id: String,
    pub thread_id: String,
    #[serde(default)]
    pub label_ids: Vec<String>,
}

/// A draft and the message it holds.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Draft {
    pub id: String,
    pub message: MessageRef,
}

/// A message's metadata: ids, labels, time, the headers asked for, the snippet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageMeta {
    pub id: String,
    pub thread_id: String,
    pub label_ids: Vec<String>,
    /// When Gmail received it (`internalDate`).
    pub internal_date: Option<DateTime<Utc>>,
    pub snippet: String,
    /// The headers in the order Gmail gave them, names as written.
    pub headers: Vec<(String, String)>,
}

impl MessageMeta {
    /// The first header of this name (compared ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn from(&self) -> Option<&str> {
        self.header("From")
    }
    pub fn to(&self) -> Option<&str> {
        self.header("To")
    }
    pub fn subject(&self) -> Option<&str> {
        self.header("Subject")
    }
    pub fn message_id(&self) -> Option<&str> {
        self.header("Message-ID")
    }
    pub fn in_reply_to(&self) -> Option<&str> {
        self.header("In-Reply-To")
    }
    pub fn references(&self) -> Option<&str> {
        self.header("References")
    }
    /// `Auto-Submitted` (RFC 3834): anything but `no` marks an automatic reply.
    pub fn auto_submitted(&self) -> Option<&str> {
        self.header("Auto-Submitted")
    }
    /// `Content-Type` (a bounce is `multipart/report; report-type=delivery-status`).
    pub fn content_type(&self) -> Option<&str> {
        self.header("Content-Type")
    }
    /// `X-Failed-Recipients`, which many mail servers add to a bounce.
    pub fn failed_recipients(&self) -> Option<&str> {
        self.header("X-Failed-Recipients")
    }
}

/// A thread and its messages, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    pub id: String,
    pub messages: Vec<MessageMeta>,
}

/// The messages added since a history id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    /// Where the next listing starts: the mailbox's history id after these changes (when
    /// `truncated`, the last history record read).
    pub history_id: String,
    /// Each added message once, in the order Gmail listed them.
    pub added: Vec<MessageRef>,
    /// [`HISTORY_MAX_PAGES`] were read and more remain: list again from `history_id`.
    pub truncated: bool,
}

/// The mailbox the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub email_address: String,
    #[serde(deserialize_with = "text")]
    pub history_id: String,
    #[serde(default)]
    pub messages_total: u64,
    #[serde(default)]
    pub threads_total: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    id: String,
    #[serde(default)]
    thread_id: String,
    #[serde(default)]
    label_ids: Vec<String>,
    #[serde(default)]
    snippet: String,
    #[serde(default, deserialize_with = "optional_text")]
    internal_date: Option<String>,
    #[serde(default)]
    payload: Option<RawPayload>,
}

#[derive(Deserialize)]
struct RawPayload {
    #[serde(default)]
    headers: Vec<RawHeader>,
}

#[derive(Deserialize)]
struct RawHeader {
    name: String,
    #[serde(default)]
    value: String,
}

impl From<RawMessage> for MessageMeta {
    fn from(raw: RawMessage) -> Self {
        MessageMeta {
            internal_date: raw
                .internal_date
                .and_then(|ms| ms.trim().parse::<i64>().ok())
                .and_then(DateTime::from_timestamp_millis),
            headers: raw
                .payload
                .map(|p| p.headers.into_iter().map(|h| (h.name, h.value)).collect())
                .unwrap_or_default(),
            id: raw.id,
            thread_id: raw.thread_id,
            label_ids: raw.label_ids,
            snippet: raw.snippet,
        }
    }
}

#[derive(Deserialize)]
struct RawThread {
    id: String,
    #[serde(default)]
    messages: Vec<RawMessage>,
}

#[derive(Deserialize)]
struct MessageList {
    #[serde(default)]
    messages: Vec<MessageRef>,
}

#[derive(Deserialize)]
struct DraftList {
    #[serde(default)]
    drafts: Vec<Draft>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryPage {
    #[serde(default)]
    history: Vec<HistoryRecord>,
    next_page_token: Option<String>,
    #[serde(default, deserialize_with = "optional_text")]
    history_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryRecord {
    #[serde(default, deserialize_with = "optional_text")]
    id: Option<String>,
    #[serde(default)]
    messages_added: Vec<MessageAdded>,
}

#[derive(Deserialize)]
struct MessageAdded {
    message: MessageRef,
}

/// A history id, sent as a string (uint64 in JSON is a string in Google's APIs) or a number.
fn text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("an id Gmail should not send")),
    }
}

fn optional_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(serde::de::Error::custom("an id Gmail should not send")),
    }
}

/// The Gmail client of one account (`users/me` of its token).
#[derive(Debug)]
pub struct GmailClient {
    caller: Caller,
    base: reqwest::Url,
}

impl GmailClient {
    /// A client at `config.gmail_base_url` sending `Authorization: Bearer <access_token>`;
    /// `connector.not_connected` for a blank token, `connector.misconfigured` for a base
    /// URL that is not http(s).
    pub fn new(
        config: &GoogleConfig,
        access_token: impl Into<String>,
    ) -> Result<Self, ConnectorError> {
        let (caller, base) = google::caller(
            PROVIDER,
            config,
            &config.gmail_base_url,
            &access_token.into(),
        )?;
        Ok(GmailClient { caller, base })
    }

    /// How this client's calls went.
    pub fn stats(&self) -> CallStats {
        self.caller.stats()
    }

    /// Sends `raw` (an RFC 2822 message, e.g. [`OutgoingMessage::to_bytes`]), in
    /// `thread_id`'s thread when given. Not repeated after a timeout or a 5xx: Gmail may
    /// have sent it; find it by its `Message-ID` first.
    ///
    /// [`OutgoingMessage::to_bytes`]: super::mime::OutgoingMessage::to_bytes
    pub async fn send(
        &self,
        raw: &[u8],
        thread_id: Option<&str>,
    ) -> Result<MessageRef, ConnectorError> {
        let body = raw_message(raw, thread_id);
        self.call(
            "messages.send",
            Method::POST,
            &["messages", "send"],
            &[],
            Some(&body),
            Replay::OnlyIfUnsent,
        )
        .await?
        .json(PROVIDER)
    }

    /// Creates a draft of `raw`, in `thread_id`'s thread when given. Not repeated after a
    /// timeout or a 5xx: find it with [`find_draft_by_message_id`](Self::find_draft_by_message_id).
    pub async fn create_draft(
        &self,
        raw: &[u8],
        thread_id: Option<&str>,
    ) -> Result<Draft, ConnectorError> {
        let body = json!({ "message": raw_message(raw, thread_id) });
        self.call(
            "drafts.create",
            Method::POST,
            &["drafts"],
            &[],
            Some(&body),
            Replay::OnlyIfUnsent,
        )
        .await?
        .json(PROVIDER)
    }

    /// Deletes a draft (for good, not to the trash). `gmail.not_found` when there is none —
    /// also when a retry follows a delete whose answer was lost: gone either way.
    pub async fn delete_draft(&self, id: &str) -> Result<(), ConnectorError> {
        self.call(
            "drafts.delete",
            Method::DELETE,
            &["drafts", id],
            &[],
            None,
            Replay::Safe,
        )
        .await?;
        Ok(())
    }

    /// The message whose `Message-ID` is `message_id` (with or without its angle brackets),
    /// searched in every folder, spam and trash included. A draft's message counts too: a
    /// draft and a send of the same execution need different ids.
    pub async fn find_message_by_message_id(
        &self,
        message_id: &str,
    ) -> Result<Option<MessageRef>, ConnectorError> {
        let q = rfc822msgid(message_id);
        let list: MessageList = self
            .call(
                "messages.find",
                Method::GET,
                &["messages"],
                &[("q", &q), ("includeSpamTrash", "true")],
                None,
                Replay::Safe,
            )
            .await?
            .json(PROVIDER)?;
        Ok(list.messages.into_iter().next())
    }

    /// The draft whose message's `Message-ID` is `message_id`.
    pub async fn find_draft_by_message_id(
        &self,
        message_id: &str,
    ) -> Result<Option<Draft>, ConnectorError> {
        let q = rfc822msgid(message_id);
        let list: DraftList = self
            .call(
                "drafts.find",
                Method::GET,
                &["drafts"],
                &[("q", &q), ("includeSpamTrash", "true")],
                None,
                Replay::Safe,
            )
            .await?
            .json(PROVIDER)?;
        Ok(list.drafts.into_iter().next())
    }

    /// A thread's messages with their [`METADATA_HEADERS`] and snippets.
    pub async fn thread(&self, id: &str) -> Result<Thread, ConnectorError> {
        let query = metadata_query();
        let raw: RawThread = self
            .call(
                "threads.get",
                Method::GET,
                &["threads", id],
                &query,
                None,
                Replay::Safe,
            )
            .await?
            .json(PROVIDER)?;
        Ok(Thread {
            id: raw.id,
            messages: raw.messages.into_iter().map(Into::into).collect(),
        })
    }

    /// One message's [`METADATA_HEADERS`], labels and snippet (for the reply and bounce
    /// detectors).
    pub async fn message(&self, id: &str) -> Result<MessageMeta, ConnectorError> {
        let query = metadata_query();
        let raw: RawMessage = self
            .call(
                "messages.get",
                Method::GET,
                &["messages", id],
                &query,
                None,
                Replay::Safe,
            )
            .await?
            .json(PROVIDER)?;
        Ok(raw.into())
    }

    /// The messages added since `start_history_id`, every page (at most
    /// [`HISTORY_MAX_PAGES`]), each message once. `gmail.history_expired` when Gmail no
    /// longer has history that old: start again from [`profile`](Self::profile)'s.
    pub async fn history_since(&self, start_history_id: &str) -> Result<History, ConnectorError> {
        let page_size = HISTORY_PAGE_SIZE.to_string();
        let mut added: Vec<MessageRef> = Vec::new();
        let mut history_id = start_history_id.to_string();
        // The last record read: where a listing cut short resumes (the pages' `historyId`
        // is the mailbox's latest, past records not read yet).
        let mut last_record = start_history_id.to_string();
        let mut page_token: Option<String> = None;
        for _ in 0..HISTORY_MAX_PAGES {
            let mut query = vec![
                ("startHistoryId", start_history_id),
                ("historyTypes", "messageAdded"),
                ("maxResults", page_size.as_str()),
            ];
            if let Some(token) = &page_token {
                query.push(("pageToken", token.as_str()));
            }
            let page: HistoryPage = match self
                .call(
                    "history.list",
                    Method::GET,
                    &["history"],
                    &query,
                    None,
                    Replay::Safe,
                )
                .await
            {
                Ok(answer) => answer.json(PROVIDER)?,
                Err(ConnectorError::NotFound { .. }) => return Err(ConnectorError::HistoryExpired),
                Err(error) => return Err(error),
            };
            for record in page.history {
                if let Some(id) = record.id {
                    last_record = id;
                }
                for MessageAdded { message } in record.messages_added {
                    if !added.iter().any(|m| m.id == message.id) {
                        added.push(message);
                    }
                }
            }
            if let Some(id) = page.history_id {
                history_id = id;
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                // A token that does not move would loop.
                Some(next) if page_token.as_deref() != Some(next.as_str()) => {
                    page_token = Some(next)
                }
                _ => {
                    return Ok(History {
                        history_id,
                        added,
                        truncated: false,
                    })
                }
            }
        }
        Ok(History {
            history_id: last_record,
            added,
            truncated: true,
        })
    }

    /// The mailbox's address and current history id.
    pub async fn profile(&self) -> Result<Profile, ConnectorError> {
        self.call(
            "profile.get",
            Method::GET,
            &["profile"],
            &[],
            None,
            Replay::Safe,
        )
        .await?
        .json(PROVIDER)
    }

    /// `{base}/gmail/v1/users/me/{segments…}`.
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
        replay: Replay,
    ) -> Result<Answer, ConnectorError> {
        let mut path = vec!["gmail", "v1", "users", "me"];
        path.extend_from_slice(segments);
        self.caller
            .call(
                &GoogleHooks(PROVIDER),
                Request {
                    operation,
                    method,
                    url: super::call::url(&self.base, &path),
                    query,
                    body,
                    replay,
                    authorization: None,
                },
            )
            .await
    }
}

/// `{"raw": base64url(raw), "threadId"?}`.
/// The message a send or a draft carries: `{raw: base64url, threadId?}` (also what a dry
/// run shows).
pub fn raw_message(raw: &[u8], thread_id: Option<&str>) -> Value {
    let mut message = json!({ "raw": URL_SAFE.encode(raw) });
    if let Some(thread_id) = thread_id.filter(|t| !t.trim().is_empty()) {
        message["threadId"] = Value::String(thread_id.to_string());
    }
    message
}

/// `rfc822msgid:<id>` without the angle brackets (as Gmail's examples write it).
fn rfc822msgid(message_id: &str) -> String {
    let id = message_id.trim();
    let id = id
        .strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .unwrap_or(id);
    format!("rfc822msgid:{id}")
}

/// `format=metadata` and one `metadataHeaders` per header asked for.
fn metadata_query() -> Vec<(&'static str, &'static str)> {
    let mut query = vec![("format", "metadata")];
    query.extend(METADATA_HEADERS.iter().map(|h| ("metadataHeaders", *h)));
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_searched_without_their_brackets() {
        // (id, query)
        let table = [
            ("<abc@caseyos>", "rfc822msgid:abc@caseyos"),
            ("abc@caseyos", "rfc822msgid:abc@caseyos"),
            (" <abc@caseyos> ", "rfc822msgid:abc@caseyos"),
        ];
        for (id, q) in table {
            assert_eq!(rfc822msgid(id), q, "{id:?}");
        }
    }

    #[test]
    fn raw_messages_are_base64url_with_an_optional_thread() {
        let raw = b"Subject: ?>?\r\n\r\n\xff\xfe";
        let body = raw_message(raw, Some("t1"));
        let encoded = body["raw"].as_str().unwrap();
        assert!(!encoded.contains(['+', '/']), "{encoded}");
        assert_eq!(URL_SAFE.decode(encoded).unwrap(), raw);
        assert_eq!(body["threadId"], "t1");
        assert!(raw_message(raw, None).get("threadId").is_none());
        assert!(raw_message(raw, Some(" ")).get("threadId").is_none());
    }
}
