//! The Gmail and Google Calendar clients against local fakes that assert every request:
//! paths, the bearer token, the exact JSON bodies and queries, the raw message decoded
//! back to its headers; retries (429 with `Retry-After` in seconds or as a date, 503 on a
//! read), what is never sent twice (a send that timed out or got a 5xx), and the error codes
//! (`gmail.unauthorized`, `gmail.not_found`, `gmail.history_expired`,
//! `google_calendar.gone`, `google_calendar.conflict`).

use std::time::Duration;

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use caseyos_backend::config::GoogleConfig;
use caseyos_backend::connectors::calendar::{
    first_free_slot, CalendarClient, Interval, NewEvent, SendUpdates, WorkingHours,
    EXECUTION_ID_PROPERTY,
};
use caseyos_backend::connectors::gmail::{GmailClient, METADATA_HEADERS};
use caseyos_backend::connectors::mime::{Mailbox, OutgoingMessage};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ya29.test-access-token";
const BEARER: &str = "Bearer ya29.test-access-token";
const MESSAGE_ID: &str = "<0193e1c2-7f00-7000-8000-00000000abcd@caseyos>";

fn config(server: &MockServer) -> GoogleConfig {
    let mut config = GoogleConfig::new(server.uri(), format!("{}/calendar/v3", server.uri()));
    config.base_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(20);
    config
}

fn gmail(server: &MockServer) -> GmailClient {
    GmailClient::new(&config(server), TOKEN).expect("a client")
}

fn calendar(server: &MockServer) -> CalendarClient {
    CalendarClient::new(&config(server), TOKEN).expect("a client")
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("a time")
        .with_timezone(&Utc)
}

fn users_me(rest: &str) -> String {
    format!("/gmail/v1/users/me{rest}")
}

/// A reply in a thread, as the execution layer would build it.
fn reply() -> OutgoingMessage {
    OutgoingMessage {
        from: Mailbox::named("Casey Jones", "casey@example.com"),
        to: vec![
            Mailbox::named("Dana Smith", "dana@acme.io"),
            Mailbox::new("ops@acme.io"),
        ],
        cc: vec![Mailbox::new("boss@example.com")],
        subject: "Re: Proposal für Acme".into(),
        date: at("2026-11-30T19:00:00Z"),
        message_id: MESSAGE_ID.into(),
        in_reply_to: Some("<CAB-first@mail.gmail.com>".into()),
        references: vec!["<CAB-first@mail.gmail.com>".into()],
        text: "Hi Dana,\nHere is the proposal.\n".into(),
        html: Some("<p>Hi Dana,</p><p>Here is the proposal.</p>".into()),
        attachments: vec![],
    }
}

/// Every request the fake received, asserting the bearer token on each.
async fn received(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.expect("recording is on");
    for request in &requests {
        assert_eq!(
            request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some(BEARER),
            "{}",
            request.url
        );
    }
    requests
}

/// The raw message of a send or draft body, decoded (padded or not, as Gmail accepts).
fn decoded_raw(raw: &str) -> String {
    let bytes = URL_SAFE
        .decode(raw)
        .or_else(|_| URL_SAFE_NO_PAD.decode(raw))
        .expect("base64url");
    String::from_utf8(bytes).expect("utf-8")
}

/// The header lines of a raw message, unfolded.
fn headers_of(message: &str) -> Vec<(String, String)> {
    let head = message.split("\r\n\r\n").next().unwrap();
    let unfolded = head.replace("\r\n ", " ");
    unfolded
        .split("\r\n")
        .map(|line| {
            let (name, value) = line.split_once(": ").expect("a header line");
            (name.to_string(), value.to_string())
        })
        .collect()
}

fn header_of<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------
// Gmail

#[tokio::test]
async fn a_reply_is_sent_as_a_base64url_raw_message_in_its_thread() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(users_me("/messages/send")))
        .and(header("authorization", BEARER))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "18c0ffee", "threadId": "18a0thread", "labelIds": ["SENT"]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let raw = reply().to_bytes().expect("a message");

    let sent = gmail(&server)
        .send(&raw, Some("18a0thread"))
        .await
        .expect("sent");

    assert_eq!(
        (sent.id.as_str(), sent.thread_id.as_str()),
        ("18c0ffee", "18a0thread")
    );
    assert_eq!(sent.label_ids, ["SENT"]);
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let body: Value = requests[0].body_json().unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["raw", "threadId"]);
    assert_eq!(body["threadId"], "18a0thread");
    let message = decoded_raw(body["raw"].as_str().unwrap());
    assert_eq!(message.as_bytes(), raw, "the exact bytes built");
    let headers = headers_of(&message);
    assert_eq!(header_of(&headers, "Message-ID"), Some(MESSAGE_ID));
    assert_eq!(
        header_of(&headers, "To"),
        Some("\"Dana Smith\" <dana@acme.io>, ops@acme.io")
    );
    assert_eq!(header_of(&headers, "Cc"), Some("boss@example.com"));
    assert_eq!(
        header_of(&headers, "In-Reply-To"),
        Some("<CAB-first@mail.gmail.com>")
    );
    assert_eq!(
        header_of(&headers, "References"),
        Some("<CAB-first@mail.gmail.com>")
    );
    let subject = header_of(&headers, "Subject").unwrap();
    let encoded = subject
        .strip_prefix("=?UTF-8?B?")
        .and_then(|s| s.strip_suffix("?="))
        .expect("an encoded word for a non-ASCII subject");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
        "Re: Proposal für Acme".as_bytes()
    );
    assert!(header_of(&headers, "Content-Type")
        .unwrap()
        .starts_with("multipart/alternative; boundary="));
}

#[tokio::test]
async fn a_new_message_is_sent_without_a_thread_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(users_me("/messages/send")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "m1", "threadId": "m1"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    gmail(&server)
        .send(b"To: a@b.io\r\n\r\nx", None)
        .await
        .unwrap();

    let body: Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(
        body,
        json!({"raw": URL_SAFE.encode(b"To: a@b.io\r\n\r\nx")})
    );
}

#[tokio::test]
async fn a_draft_is_created_with_its_message_and_deleted_by_id() {
    let server = MockServer::start().await;
    let raw = reply().to_bytes().unwrap();
    Mock::given(method("POST"))
        .and(path(users_me("/drafts")))
        .and(body_json(json!({
            "message": {"raw": URL_SAFE.encode(&raw), "threadId": "18a0thread"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "r-123", "message": {"id": "18d", "threadId": "18a0thread", "labelIds": ["DRAFT"]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(users_me("/drafts/r-123")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(users_me("/drafts/r-gone")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"code": 404, "message": "Requested entity was not found.",
                      "errors": [{"reason": "notFound", "domain": "global"}], "status": "NOT_FOUND"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = gmail(&server);

    let draft = client.create_draft(&raw, Some("18a0thread")).await.unwrap();
    assert_eq!(draft.id, "r-123");
    assert_eq!(draft.message.id, "18d");
    assert_eq!(draft.message.thread_id, "18a0thread");
    client.delete_draft("r-123").await.expect("deleted");
    let error = client.delete_draft("r-gone").await.unwrap_err();
    assert_eq!(error.code(), "gmail.not_found");
    assert!(!error.retryable());
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn a_message_and_a_draft_are_found_by_the_message_id_we_set() {
    let server = MockServer::start().await;
    for (rest, answer) in [
        (
            "/messages",
            json!({"messages": [{"id": "18c", "threadId": "18a"}], "resultSizeEstimate": 1}),
        ),
        (
            "/drafts",
            json!({"drafts": [{"id": "r-9", "message": {"id": "18d", "threadId": "18b"}}],
                   "resultSizeEstimate": 1}),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(users_me(rest)))
            .and(query_param(
                "q",
                "rfc822msgid:0193e1c2-7f00-7000-8000-00000000abcd@caseyos",
            ))
            .and(query_param("includeSpamTrash", "true"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(users_me(rest)))
            .and(query_param("q", "rfc822msgid:never-sent@caseyos"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"resultSizeEstimate": 0})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = gmail(&server);

    let found = client
        .find_message_by_message_id(MESSAGE_ID)
        .await
        .unwrap()
        .expect("the message");
    assert_eq!(
        (found.id.as_str(), found.thread_id.as_str()),
        ("18c", "18a")
    );
    let draft = client
        .find_draft_by_message_id(MESSAGE_ID)
        .await
        .unwrap()
        .expect("the draft");
    assert_eq!(
        (draft.id.as_str(), draft.message.id.as_str()),
        ("r-9", "18d")
    );
    assert_eq!(
        client
            .find_message_by_message_id("never-sent@caseyos")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        client
            .find_draft_by_message_id("<never-sent@caseyos>")
            .await
            .unwrap(),
        None
    );
}

/// A `format=metadata` message as Gmail answers it.
fn metadata_message(id: &str, from: &str, internal_date: &str) -> Value {
    json!({
        "id": id,
        "threadId": "18a",
        "labelIds": ["INBOX", "UNREAD"],
        "snippet": "Sounds good, let's talk Tuesday",
        "historyId": "4242",
        "internalDate": internal_date,
        "payload": {"mimeType": "text/plain", "headers": [
            {"name": "From", "value": from},
            {"name": "To", "value": "casey@example.com"},
            {"name": "Subject", "value": "Re: Next steps"},
            {"name": "Message-Id", "value": format!("<{id}@mail.acme.io>")},
            {"name": "In-Reply-To", "value": "<first@caseyos>"},
            {"name": "Auto-Submitted", "value": "no"}
        ]}
    })
}

/// Asserts a metadata read's query: `format=metadata` and each header asked for once.
fn assert_metadata_query(request: &Request) {
    let pairs: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut expected = vec![("format".to_string(), "metadata".to_string())];
    expected.extend(
        METADATA_HEADERS
            .iter()
            .map(|h| ("metadataHeaders".to_string(), h.to_string())),
    );
    assert_eq!(pairs, expected);
}

#[tokio::test]
async fn a_thread_and_a_message_are_read_with_their_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(users_me("/threads/18a")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "18a", "historyId": "4242",
            "messages": [
                metadata_message("m1", "Casey <casey@example.com>", "1764528000000"),
                metadata_message("m2", "Dana <dana@acme.io>", "1764531600000")
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(users_me("/messages/m2")))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata_message(
            "m2",
            "Dana <dana@acme.io>",
            "1764531600000",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let client = gmail(&server);

    let thread = client.thread("18a").await.unwrap();
    assert_eq!(thread.id, "18a");
    assert_eq!(thread.messages.len(), 2);
    let reply = &thread.messages[1];
    assert_eq!(reply.from(), Some("Dana <dana@acme.io>"));
    assert_eq!(reply.message_id(), Some("<m2@mail.acme.io>"), "any case");
    assert_eq!(reply.in_reply_to(), Some("<first@caseyos>"));
    assert_eq!(reply.internal_date, Some(at("2025-11-30T19:40:00Z")));
    assert_eq!(reply.label_ids, ["INBOX", "UNREAD"]);
    assert_eq!(reply.snippet, "Sounds good, let's talk Tuesday");
    let message = client.message("m2").await.unwrap();
    assert_eq!(&message, reply);
    assert_eq!(message.auto_submitted(), Some("no"));
    assert_eq!(message.subject(), Some("Re: Next steps"));
    for request in received(&server).await {
        assert_metadata_query(&request);
    }
}

#[tokio::test]
async fn history_is_read_page_by_page_each_added_message_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(users_me("/history")))
        .and(query_param("startHistoryId", "1000"))
        .and(query_param("historyTypes", "messageAdded"))
        .and(query_param("pageToken", "page-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "history": [
                {"id": "1003", "messagesAdded": [
                    {"message": {"id": "m2", "threadId": "t2", "labelIds": ["INBOX"]}},
                    {"message": {"id": "m3", "threadId": "t1", "labelIds": ["SENT"]}}
                ]}
            ],
            "historyId": "1010"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(users_me("/history")))
        .and(query_param("startHistoryId", "1000"))
        .and(query_param("historyTypes", "messageAdded"))
        .and(query_param("maxResults", "500"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "history": [
                {"id": "1001", "messages": [{"id": "m1", "threadId": "t1"}],
                 "messagesAdded": [{"message": {"id": "m1", "threadId": "t1", "labelIds": ["INBOX", "UNREAD"]}}]},
                {"id": "1002", "messages": [{"id": "m2", "threadId": "t2"}],
                 "messagesAdded": [{"message": {"id": "m2", "threadId": "t2", "labelIds": ["INBOX"]}}]}
            ],
            "nextPageToken": "page-2",
            "historyId": "1010"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let history = gmail(&server).history_since("1000").await.unwrap();

    assert_eq!(history.history_id, "1010");
    assert!(!history.truncated);
    assert_eq!(
        history
            .added
            .iter()
            .map(|m| (m.id.as_str(), m.thread_id.as_str()))
            .collect::<Vec<_>>(),
        [("m1", "t1"), ("m2", "t2"), ("m3", "t1")]
    );
    assert_eq!(history.added[0].label_ids, ["INBOX", "UNREAD"]);
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    assert!(
        !requests[0].url.query().unwrap().contains("pageToken"),
        "the first page has no token"
    );
}

#[tokio::test]
async fn a_history_id_too_old_is_history_expired_and_the_profile_gives_a_new_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(users_me("/history")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"code": 404, "message": "Requested entity was not found.",
                      "errors": [{"reason": "notFound"}], "status": "NOT_FOUND"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "emailAddress": "casey@example.com", "messagesTotal": 120,
            "threadsTotal": 80, "historyId": "98765"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = gmail(&server);

    let error = client.history_since("12").await.unwrap_err();
    assert_eq!(error.code(), "gmail.history_expired");
    assert!(!error.retryable(), "the same id will never work again");
    let profile = client.profile().await.unwrap();
    assert_eq!(profile.email_address, "casey@example.com");
    assert_eq!(profile.history_id, "98765");
    assert_eq!(received(&server).await.len(), 2, "a 404 is not retried");
}

#[tokio::test]
async fn a_429_on_a_send_waits_for_retry_after_then_sends_exactly_twice() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(users_me("/messages/send")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(
                    json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                    "errors": [{"reason": "rateLimitExceeded"}]}}),
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(users_me("/messages/send")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "m", "threadId": "t"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = gmail(&server);
    let started = std::time::Instant::now();

    client.send(b"To: a@b.io\r\n\r\nx", None).await.unwrap();

    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was honoured"
    );
    assert_eq!(
        received(&server).await.len(),
        2,
        "Gmail had not acted on the 429"
    );
    let stats = client.stats();
    assert_eq!((stats.calls, stats.failures, stats.retries), (2, 1, 1));
    assert_eq!(stats.last_error, Some("gmail.rate_limited"));
}

#[tokio::test]
async fn a_retry_after_given_as_a_date_is_honoured() {
    let server = MockServer::start().await;
    let when = (Utc::now() + chrono::Duration::seconds(2)).to_rfc2822();
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", when.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "emailAddress": "casey@example.com", "historyId": "1"
        })))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();

    gmail(&server).profile().await.unwrap();

    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited for the date"
    );
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_maximum_ends_the_call_naming_the_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .expect(1)
        .mount(&server)
        .await;

    let error = gmail(&server).profile().await.unwrap_err();

    assert_eq!(error.code(), "gmail.rate_limited");
    assert!(error.retryable());
    assert!(error.to_string().contains("3600 s"), "{error}");
}

#[tokio::test]
async fn a_503_on_a_read_is_retried_until_it_answers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "emailAddress": "casey@example.com", "historyId": 77
        })))
        .expect(1)
        .mount(&server)
        .await;

    let profile = gmail(&server).profile().await.unwrap();

    assert_eq!(profile.history_id, "77", "a number is read as text too");
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn a_send_that_got_a_503_is_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(users_me("/messages/send")))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;

    let error = gmail(&server)
        .send(b"To: a@b.io\r\n\r\nx", None)
        .await
        .unwrap_err();

    assert_eq!(error.code(), "gmail.server_error");
    assert!(error.retryable(), "after the caller has looked for it");
    assert_eq!(received(&server).await.len(), 1, "Gmail may have sent it");
}

#[tokio::test]
async fn a_send_that_times_out_is_reported_and_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(users_me("/messages/send")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "m", "threadId": "t"}))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.request_timeout = Duration::from_millis(300);
    let client = GmailClient::new(&config, TOKEN).unwrap();

    let error = client.send(b"To: a@b.io\r\n\r\nx", None).await.unwrap_err();

    assert_eq!(error.code(), "gmail.timeout");
    assert_eq!(
        error.to_string(),
        "Gmail did not answer in time after 1 attempt(s)"
    );
    assert_eq!(received(&server).await.len(), 1, "never sent blindly twice");
}

#[tokio::test]
async fn a_read_that_times_out_is_tried_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "emailAddress": "casey@example.com", "historyId": "5"
        })))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.request_timeout = Duration::from_millis(300);

    let profile = GmailClient::new(&config, TOKEN)
        .unwrap()
        .profile()
        .await
        .unwrap();

    assert_eq!(profile.history_id, "5");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_send_to_a_refused_connection_is_retried_because_nothing_was_sent() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = GoogleConfig::new(
        format!("http://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/calendar/v3"),
    );
    config.base_backoff = Duration::from_millis(1);
    config.max_backoff = Duration::from_millis(2);
    let client = GmailClient::new(&config, TOKEN).unwrap();

    let error = client.send(b"To: a@b.io\r\n\r\nx", None).await.unwrap_err();

    assert_eq!(error.code(), "gmail.transport");
    assert!(
        error.to_string().contains("after 4 attempt(s)"),
        "every attempt: {error}"
    );
    assert_eq!(client.stats().calls, 4);
}

#[tokio::test]
async fn an_unauthorized_token_fails_at_once_and_never_shows_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(users_me("/profile")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"code": 401, "message": "Request had invalid authentication credentials.",
                      "errors": [{"reason": "authError"}], "status": "UNAUTHENTICATED"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = gmail(&server).profile().await.unwrap_err();

    assert_eq!(error.code(), "gmail.unauthorized");
    assert!(!error.retryable());
    assert!(!error.to_string().contains(TOKEN), "{error}");
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_blank_token_is_not_connected() {
    let config = GoogleConfig::new("https://gmail.googleapis.com", "https://x/calendar/v3");
    let error = GmailClient::new(&config, " ").unwrap_err();
    assert_eq!(error.code(), "connector.not_connected");
    let error = CalendarClient::new(&config, "").unwrap_err();
    assert_eq!(error.code(), "connector.not_connected");
    let mut bad = config.clone();
    bad.gmail_base_url = "gmail.googleapis.com".into();
    assert_eq!(
        GmailClient::new(&bad, TOKEN).unwrap_err().code(),
        "connector.misconfigured"
    );
}

// ---------------------------------------------------------------------------------------
// Google Calendar

fn calendar_path(rest: &str) -> String {
    format!("/calendar/v3{rest}")
}

fn event() -> NewEvent {
    NewEvent {
        id: Some("0193e1c27f0070008000000000001234".into()),
        summary: "Acme × CaseyOS: discovery call".into(),
        description: Some("Agenda: goals, timeline, next steps".into()),
        start: at("2026-12-01T15:00:00Z"),
        end: at("2026-12-01T15:30:00Z"),
        time_zone: "America/New_York".into(),
        attendees: vec!["dana@acme.io".into(), "casey@example.com".into()],
        execution_id: "exec-0193e1c2".into(),
    }
}

#[tokio::test]
async fn an_event_is_inserted_with_attendees_and_our_execution_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(calendar_path("/calendars/primary/events")))
        .and(query_param("sendUpdates", "all"))
        .and(header("authorization", BEARER))
        .and(body_json(json!({
            "id": "0193e1c27f0070008000000000001234",
            "summary": "Acme × CaseyOS: discovery call",
            "description": "Agenda: goals, timeline, next steps",
            "start": {"dateTime": "2026-12-01T15:00:00Z", "timeZone": "America/New_York"},
            "end": {"dateTime": "2026-12-01T15:30:00Z", "timeZone": "America/New_York"},
            "attendees": [{"email": "dana@acme.io"}, {"email": "casey@example.com"}],
            "extendedProperties": {"private": {"caseyos_execution_id": "exec-0193e1c2"}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "calendar#event",
            "id": "0193e1c27f0070008000000000001234",
            "htmlLink": "https://www.google.com/calendar/event?eid=abc",
            "status": "confirmed"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let inserted = calendar(&server)
        .insert_event("primary", &event(), SendUpdates::All)
        .await
        .unwrap();

    assert_eq!(inserted.id, "0193e1c27f0070008000000000001234");
    assert_eq!(
        inserted.html_link.as_deref(),
        Some("https://www.google.com/calendar/event?eid=abc")
    );
    assert_eq!(inserted.status.as_deref(), Some("confirmed"));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn an_event_inserted_twice_is_a_conflict_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(calendar_path("/calendars/ada@example.com/events")))
        .and(query_param("sendUpdates", "none"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "error": {"code": 409, "message": "The requested identifier already exists.",
                      "errors": [{"reason": "duplicate", "domain": "global"}]}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = calendar(&server)
        .insert_event("ada@example.com", &event(), SendUpdates::None)
        .await
        .unwrap_err();

    assert_eq!(error.code(), "google_calendar.conflict");
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn an_insert_that_got_a_502_is_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(calendar_path("/calendars/primary/events")))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;

    let error = calendar(&server)
        .insert_event("primary", &event(), SendUpdates::All)
        .await
        .unwrap_err();

    assert_eq!(error.code(), "google_calendar.server_error");
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn an_event_is_found_by_its_private_property() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(calendar_path("/calendars/primary/events")))
        .and(query_param(
            "privateExtendedProperty",
            "caseyos_execution_id=exec-0193e1c2",
        ))
        .and(query_param("showDeleted", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "calendar#events",
            "items": [{"id": "ev1", "status": "confirmed", "htmlLink": "https://x/ev1"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(calendar_path("/calendars/primary/events")))
        .and(query_param(
            "privateExtendedProperty",
            "caseyos_execution_id=exec-none",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
        .expect(1)
        .mount(&server)
        .await;
    let client = calendar(&server);

    let found = client
        .find_event_by_private_property("primary", EXECUTION_ID_PROPERTY, "exec-0193e1c2")
        .await
        .unwrap()
        .expect("the event");
    assert_eq!(found.id, "ev1");
    assert_eq!(
        client
            .find_event_by_private_property("primary", EXECUTION_ID_PROPERTY, "exec-none")
            .await
            .unwrap(),
        None
    );
    let requests = received(&server).await;
    assert!(
        requests[0]
            .url
            .query()
            .unwrap()
            .contains("privateExtendedProperty=caseyos_execution_id%3Dexec-0193e1c2"),
        "{}",
        requests[0].url
    );
}

#[tokio::test]
async fn an_event_is_cancelled_and_one_already_gone_says_so() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(calendar_path("/calendars/primary/events/ev1")))
        .and(query_param("sendUpdates", "all"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(calendar_path("/calendars/primary/events/ev-deleted")))
        .respond_with(ResponseTemplate::new(410).set_body_json(json!({
            "error": {"code": 410, "message": "Resource has been deleted",
                      "errors": [{"reason": "deleted"}]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(calendar_path("/calendars/primary/events/ev-unknown")))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let client = calendar(&server);

    client
        .cancel_event("primary", "ev1", SendUpdates::All)
        .await
        .expect("cancelled");
    for id in ["ev-deleted", "ev-unknown"] {
        let error = client
            .cancel_event("primary", id, SendUpdates::None)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "google_calendar.gone", "{id}");
        assert!(!error.retryable());
    }
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn free_busy_answers_each_calendars_busy_times_and_a_free_slot_is_found_between_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(calendar_path("/freeBusy")))
        .and(body_json(json!({
            "timeMin": "2026-12-01T00:00:00Z",
            "timeMax": "2026-12-03T00:00:00Z",
            "items": [{"id": "primary"}, {"id": "dana@acme.io"}]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "calendar#freeBusy",
            "timeMin": "2026-12-01T00:00:00.000Z",
            "timeMax": "2026-12-03T00:00:00.000Z",
            "calendars": {
                "primary": {"busy": [
                    {"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"},
                    {"start": "2026-12-01T10:30:00Z", "end": "2026-12-01T12:00:00Z"}
                ]},
                "dana@acme.io": {"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let calendars = calendar(&server)
        .free_busy(
            at("2026-12-01T00:00:00Z"),
            at("2026-12-03T00:00:00Z"),
            &["primary", "dana@acme.io"],
        )
        .await
        .unwrap();

    let primary = &calendars["primary"];
    assert_eq!(
        primary.busy,
        [
            Interval {
                start: at("2026-12-01T09:00:00Z"),
                end: at("2026-12-01T10:00:00Z")
            },
            Interval {
                start: at("2026-12-01T10:30:00Z"),
                end: at("2026-12-01T12:00:00Z")
            }
        ]
    );
    assert!(primary.errors.is_empty());
    assert_eq!(calendars["dana@acme.io"].errors, ["notFound"]);
    let slot = first_free_slot(
        &primary.busy,
        at("2026-12-01T08:00:00Z"),
        chrono::Duration::minutes(45),
        &WorkingHours::nine_to_five(chrono_tz::Tz::UTC),
    );
    assert_eq!(
        slot,
        Some(at("2026-12-01T12:00:00Z")),
        "the 30-minute gap is too short"
    );
}

#[tokio::test]
async fn a_long_history_stops_after_its_page_cap_and_resumes_from_the_last_record_read() {
    use caseyos_backend::connectors::gmail::HISTORY_MAX_PAGES;
    let server = MockServer::start().await;
    // Every page links to another: page n holds record 2000 + n and message m{n}.
    Mock::given(method("GET"))
        .and(path(users_me("/history")))
        .and(query_param("startHistoryId", "2000"))
        .respond_with(|request: &Request| {
            let n: u32 = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "pageToken")
                .map_or(0, |(_, v)| v.trim_start_matches('p').parse().unwrap());
            ResponseTemplate::new(200).set_body_json(json!({
                "history": [{"id": (2001 + n).to_string(), "messagesAdded": [
                    {"message": {"id": format!("m{n}"), "threadId": "t"}}
                ]}],
                "nextPageToken": format!("p{}", n + 1),
                "historyId": "999999"
            }))
        })
        .mount(&server)
        .await;

    let history = gmail(&server).history_since("2000").await.unwrap();

    assert!(history.truncated);
    assert_eq!(history.added.len(), HISTORY_MAX_PAGES as usize);
    assert_eq!(
        history.history_id,
        (2000 + HISTORY_MAX_PAGES).to_string(),
        "the last record read, not the mailbox's latest"
    );
    assert_eq!(received(&server).await.len(), HISTORY_MAX_PAGES as usize);
}
