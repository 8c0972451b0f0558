//! Browser sessions (DESIGN §6): sign-in links and tokens exchanged for an HttpOnly,
//! SameSite=Strict cookie, CSRF protection for cookie requests that change something,
//! expiry and sign-out, the `caseyos signin-link` CLI and the first-run link; and the
//! quick-stats bar over Today's Moves.

use std::time::Duration;

use caseyos_domain::api::{QueueItemResponse, QueueStatsResponse, Role, SessionResponse};
use caseyos_tests::{
    assert_error, dto, error_body, error_fields, expect_dto, query_i64, send, session_cookie,
    session_set_cookie, spawn_app, spawn_app_with, status_and_json, BrowserSession, TestApp,
};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::process::{caseyos, http, run, Server};

/// Signs in with `body` (`{"link"}` or `{"token"}`): the answer.
async fn sign_in(app: &TestApp, body: Value) -> (u16, Value) {
    status_and_json(app.sign_in(body).await).await
}

/// Asserts a sign-in answer (or `GET /api/session`) is a 200 session for `user` as `role`.
#[track_caller]
fn assert_session(answer: &(u16, Value), user: &str, role: Role) -> SessionResponse {
    let session: SessionResponse = expect_dto(answer, 200);
    assert_eq!(session.user, user, "{}", answer.1);
    assert_eq!(session.role, role, "{}", answer.1);
    session
}

/// Whether the database holds `secret` only as its SHA-256 in `table.column`.
async fn stored_hashed(app: &TestApp, table: &str, column: &str, secret: &str) -> bool {
    sqlx::query_scalar(&format!(
        "select exists(select 1 from {table} where {column} = sha256(convert_to($1, 'UTF8')))"
    ))
    .bind(secret)
    .fetch_one(&app.pool)
    .await
    .expect("look the hash up")
}

#[tokio::test]
async fn signing_in_with_a_link_sets_an_httponly_strict_cookie_for_seven_days() {
    let app = spawn_app().await;
    let link = app.sign_in_link("casey", "admin").await;
    assert!(stored_hashed(&app, "sign_in_links", "token_hash", &link).await);

    let response = app.sign_in(json!({ "link": link })).await;
    let set_cookie = session_set_cookie(&response).expect("a Set-Cookie for the session");
    let cookie = session_cookie(&response).expect("a session cookie value");
    let session = assert_session(&status_and_json(response).await, "casey", Role::Admin);
    assert!(session.csrf_token.len() >= 32);

    assert_eq!(cookie.len(), 43, "256 bits of base64url: {cookie}");
    assert!(cookie
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).skip(1).collect();
    for expected in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
        assert!(attributes.contains(&expected), "{expected} in {set_cookie}");
    }
    assert!(
        !attributes.contains(&"Secure"),
        "no Secure over plain HTTP: {set_cookie}"
    );

    // Only the hash is stored, and the session lasts 7 days from sign-in.
    assert!(stored_hashed(&app, "sessions", "id_hash", &cookie).await);
    let (lasts_a_week, expires_at): (bool, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "select expires_at - created_at = interval '7 days', expires_at from sessions",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(lasts_a_week);
    assert_eq!(session.expires_at, expires_at);
}

#[tokio::test]
async fn a_used_unknown_or_expired_link_is_refused() {
    let app = spawn_app().await;
    let link = app.sign_in_link("casey", "operator").await;
    let (status, _) = sign_in(&app, json!({ "link": link })).await;
    assert_eq!(status, 200);

    let expired = app.sign_in_link("casey", "operator").await;
    sqlx::query("update sign_in_links set expires_at = now() - interval '1 second' where token_hash = sha256(convert_to($1, 'UTF8'))")
        .bind(&expired)
        .execute(&app.pool)
        .await
        .unwrap();

    for (case, link) in [
        ("used", link.as_str()),
        ("unknown", "not-a-link"),
        ("expired", expired.as_str()),
    ] {
        let response = app.sign_in(json!({ "link": link })).await;
        assert!(session_set_cookie(&response).is_none(), "{case}");
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(error_body(&body).code, "auth.invalid_link", "{case}");
    }
    let sessions = query_i64(&app.pool, "select count(*) from sessions").await;
    assert_eq!(sessions, 1, "only the first use started a session");
}

#[tokio::test]
async fn signing_in_with_an_api_token_starts_a_session_that_ends_with_the_token() {
    let app = spawn_app().await;
    let olga = app.token("olga", "operator").await;
    let session = BrowserSession::from_sign_in(app.sign_in(json!({ "token": olga })).await).await;
    let signed_in: SessionResponse = dto(&session.body);
    assert_eq!(signed_in.user, "olga");
    assert_eq!(signed_in.role, Role::Operator);
    let today = || send(app.with_cookie(Method::GET, "/api/queue/today", &session));
    assert_eq!(today().await.0, 200);

    // Revoking the token ends the sessions started with it.
    sqlx::query("update api_tokens set revoked_at = now() where user_name = 'olga'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_error(&today().await, 401, "auth.session_expired");

    let unknown = sign_in(&app, json!({ "token": "cos_not-a-real-token" })).await;
    assert_error(&unknown, 401, "auth.invalid_token");
}

#[tokio::test]
async fn neither_or_both_of_link_and_token_is_a_422_naming_the_fields() {
    let app = spawn_app().await;
    let link = app.sign_in_link("casey", "admin").await;
    for body in [
        json!({}),
        json!({ "link": "", "token": "  " }),
        json!({ "link": link, "token": app.admin }),
    ] {
        let (status, error) = sign_in(&app, body.clone()).await;
        assert_eq!(status, 422, "{body}: {error}");
        let error = error_body(&error);
        assert_eq!(error.code, "request.validation");
        assert_eq!(error_fields(&error), vec!["link", "token"], "{body}");
    }
    // The link was not used up by the refused request that also named a token.
    let (status, _) = sign_in(&app, json!({ "link": link })).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_cookie_reads_freely_and_writes_only_with_the_csrf_header() {
    let app = spawn_app().await;
    let session = app.browser_session("casey", "admin").await;

    let (status, body) = send(app.with_cookie(Method::GET, "/api/queue/today", &session)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(app.with_cookie(Method::GET, "/api/session", &session)).await;
    assert_eq!(status, 200);
    assert_eq!(body, session.body, "GET /api/session repeats the session");

    let propose = json!({"action_type": "send_email", "title": "from the browser"});
    for csrf in [None, Some("wrong"), Some("")] {
        let mut request = app
            .with_cookie(Method::POST, "/api/queue", &session)
            .json(&propose);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        let (status, body) = send(request).await;
        assert_eq!(status, 403, "CSRF {csrf:?}: {body}");
        assert_eq!(error_body(&body).code, "auth.csrf_failed");
    }
    assert_eq!(caseyos_tests::event_count(&app.pool).await, 0);

    let proposed = send(
        app.with_cookie(Method::POST, "/api/queue", &session)
            .header("x-csrf-token", &session.csrf)
            .json(&propose),
    )
    .await;
    let proposed = expect_dto::<QueueItemResponse>(&proposed, 201).item;
    assert_eq!(proposed.owner, "casey");
    let events = app.events_of(proposed.id).await;
    assert_eq!(
        events[0].meta("actor"),
        Some("user:casey"),
        "the session's user is the actor"
    );
}

#[tokio::test]
async fn an_expired_or_revoked_session_is_401_session_expired() {
    let app = spawn_app().await;
    let expired = app.browser_session("casey", "admin").await;
    let revoked = app.browser_session("casey", "admin").await;
    for (session, change) in [
        (&expired, "expires_at = now() - interval '1 second'"),
        (&revoked, "revoked_at = now()"),
    ] {
        sqlx::query(&format!(
            "update sessions set {change} where id_hash = sha256(convert_to($1, 'UTF8'))"
        ))
        .bind(&session.cookie)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let unknown = BrowserSession {
        cookie: "never-issued".into(),
        ..expired.clone()
    };
    for session in [&expired, &revoked, &unknown] {
        for path in ["/api/queue/today", "/api/session", "/api/events"] {
            let (status, body) = send(app.with_cookie(Method::GET, path, session)).await;
            assert_eq!(status, 401, "{path}: {body}");
            assert_eq!(error_body(&body).code, "auth.session_expired", "{path}");
        }
    }
}

#[tokio::test]
async fn signing_out_needs_the_csrf_header_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let session = app.browser_session("casey", "admin").await;

    let no_csrf = send(app.with_cookie(Method::DELETE, "/api/session", &session)).await;
    assert_error(&no_csrf, 403, "auth.csrf_failed");

    let response = app
        .with_cookie(Method::DELETE, "/api/session", &session)
        .header("x-csrf-token", &session.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let cleared = session_set_cookie(&response).expect("the cookie is cleared");
    assert!(cleared.starts_with("caseyos_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let revoked: bool = sqlx::query_scalar("select revoked_at is not null from sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(revoked);

    let after = send(app.with_cookie(Method::GET, "/api/queue/today", &session)).await;
    assert_error(&after, 401, "auth.session_expired");
    // Signing out again: no session is left to end (401, as for any request with that
    // cookie), and the stale cookie is cleared all the same.
    for cookie in [session.cookie.as_str(), "never-issued"] {
        let again = app
            .request(Method::DELETE, "/api/session", None)
            .header("cookie", format!("caseyos_session={cookie}"))
            .header("x-csrf-token", &session.csrf)
            .send()
            .await
            .unwrap();
        let cleared = session_set_cookie(&again).expect("the stale cookie is cleared");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert_error(&status_and_json(again).await, 401, "auth.session_expired");
    }
    let nothing = send(app.request(Method::DELETE, "/api/session", None)).await;
    assert_error(&nothing, 401, "auth.missing_credentials");
    // With a bearer token there is no session to end: 204, the token goes on working.
    let olga = app.token("olga", "operator").await;
    let bearer = send(app.request(Method::DELETE, "/api/session", Some(&olga))).await;
    assert_eq!(bearer.0, 204, "{}", bearer.1);
    assert_eq!(app.get_json("/api/queue/today", &olga).await.0, 200);
}

#[tokio::test]
async fn the_openapi_document_says_what_signing_out_answers() {
    let app = spawn_app().await;
    let (status, document) = app.get_json("/api/openapi.json", &app.admin).await;
    assert_eq!(status, 200);
    let sign_out = &document["paths"]["/api/session"]["delete"];
    let mut statuses: Vec<&str> = sign_out["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    statuses.sort_unstable();
    assert!(
        ["204", "401", "403"].iter().all(|s| statuses.contains(s)),
        "{statuses:?}"
    );
    let unauthorized = sign_out["responses"]["401"]["description"]
        .as_str()
        .unwrap();
    assert!(
        unauthorized.contains("auth.session_expired") && unauthorized.contains("cleared"),
        "{unauthorized}"
    );
    // Authentication is required, as the 401 says: no anonymous (`{}`) alternative.
    let security = sign_out["security"].as_array().unwrap();
    assert!(!security.is_empty());
    assert!(
        security.iter().all(|s| !s.as_object().unwrap().is_empty()),
        "{security:?}"
    );
}

#[tokio::test]
async fn bearer_requests_need_no_csrf_token_and_win_over_a_cookie() {
    let app = spawn_app().await;
    let olga = app.token("olga", "operator").await;
    app.propose(
        &olga,
        json!({"action_type": "check_in", "title": "no csrf needed"}),
    )
    .await;

    let answer = app.get_json("/api/session", &olga).await;
    let session = assert_session(&answer, "olga", Role::Operator);
    assert_eq!(session.csrf_token, "");
    // Raw: the never-expiring session's time, spelled exactly so.
    assert_eq!(answer.1["expires_at"], "9999-12-31T23:59:59Z");

    // With both, the Authorization header decides: no CSRF asked, the token's user acts.
    let session = app.browser_session("casey", "admin").await;
    let proposed = send(
        app.post(
            "/api/queue",
            &olga,
            &json!({"action_type": "check_in", "title": "both"}),
        )
        .header("cookie", format!("caseyos_session={}", session.cookie)),
    )
    .await;
    assert_eq!(
        expect_dto::<QueueItemResponse>(&proposed, 201).item.owner,
        "olga"
    );
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_host_prefixed_and_only_that_name_is_read() {
    let app = spawn_app_with(|c| c.public_url = Some("https://caseyos.example".into())).await;
    let link = app.sign_in_link("casey", "admin").await;
    let response = app.sign_in(json!({ "link": link })).await;
    let set_cookie = session_set_cookie(&response).unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(
        attributes[0].starts_with("__Host-caseyos_session="),
        "{set_cookie}"
    );
    for expected in ["Secure", "Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(attributes.contains(&expected), "{expected} in {set_cookie}");
    }
    assert!(
        !attributes.iter().any(|a| a.starts_with("Domain")),
        "{set_cookie}"
    );
    let session = BrowserSession::from_sign_in(response).await;

    let with = |name: &str| {
        app.request(Method::GET, "/api/session", None)
            .header("cookie", format!("{name}={}", session.cookie))
    };
    let signed_in = send(with("__Host-caseyos_session")).await;
    assert_session(&signed_in, "casey", Role::Admin);
    // The plain name may have been set by anyone (over HTTP, or by a sibling domain).
    assert_error(
        &send(with("caseyos_session")).await,
        401,
        "auth.missing_credentials",
    );

    let signed_out = app
        .request(Method::DELETE, "/api/session", None)
        .header(
            "cookie",
            format!("__Host-caseyos_session={}", session.cookie),
        )
        .header("x-csrf-token", &session.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    let cleared = session_set_cookie(&signed_out).unwrap();
    assert!(cleared.starts_with("__Host-caseyos_session=;"), "{cleared}");
    assert!(cleared.contains("Secure"), "{cleared}");
}

/// The `link` parameter of a printed sign-in URL.
fn link_of(url: &str) -> String {
    url.trim()
        .split_once("/sign-in?link=")
        .unwrap_or_else(|| panic!("not a sign-in URL: {url}"))
        .1
        .to_string()
}

#[tokio::test]
async fn caseyos_signin_link_prints_a_url_whose_link_signs_in() {
    let app = spawn_app().await;
    let mut command = caseyos(Some(&app.database_url));
    command.args(["signin-link", "--user", "olga", "--role", "operator"]);
    let finished = run(command, Duration::from_secs(120)).await;
    finished.assert_success("");
    let url = finished.stdout.trim();
    assert!(
        url.starts_with("http://127.0.0.1:8080/sign-in?link="),
        "{}",
        finished.describe()
    );
    let link = link_of(url);
    assert!(stored_hashed(&app, "sign_in_links", "token_hash", &link).await);

    let signed_in = sign_in(&app, json!({ "link": link })).await;
    assert_session(&signed_in, "olga", Role::Operator);

    // Defaults: the configured operator, as admin.
    let mut command = caseyos(Some(&app.database_url));
    command.env("CASEYOS_OPERATOR", "casey").arg("signin-link");
    let finished = run(command, Duration::from_secs(120)).await;
    finished.assert_success("");
    let signed_in = sign_in(&app, json!({ "link": link_of(&finished.stdout) })).await;
    assert_session(&signed_in, "casey", Role::Admin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_run_prints_a_sign_in_link_for_the_operator_beside_the_token() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let mut server = Server::start(
        || {
            let mut command = caseyos(Some(&url));
            command.env("CASEYOS_OPERATOR", "casey");
            command
        },
        Duration::from_secs(60),
    )
    .await;
    server
        .stdout_line(|l| l.contains("First run"), Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("no first-run notice\n{}", server.output()));
    let token = server
        .stdout_line(|_| true, Duration::from_secs(10))
        .await
        .unwrap_or_default();
    assert!(
        token.trim().starts_with("cos_"),
        "the token still follows the notice\n{}",
        server.output()
    );
    let line = server
        .stdout_line(
            |l| l.contains("Open this link to sign in:"),
            Duration::from_secs(10),
        )
        .await
        .unwrap_or_else(|| panic!("no sign-in link\n{}", server.output()));
    let printed = line.split_once("sign in:").unwrap().1.trim().to_string();
    assert!(
        printed.starts_with(&format!("{}/sign-in?link=", server.address)),
        "{printed}"
    );

    let response = http()
        .post(format!("{}/api/session", server.address))
        .json(&json!({ "link": link_of(&printed) }))
        .send()
        .await
        .unwrap();
    assert_session(&status_and_json(response).await, "casey", Role::Admin);

    server
        .stop_cleanly(Duration::from_secs(30), "the server exits cleanly")
        .await;
    pool.close().await;
}

/// A log line without its terminal colours (`ESC [ … m`).
fn uncoloured(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Waits (at most 20 s, looking every 50 ms) until the server's log has a line with every
/// one of `needles`; returns that line, without colours.
async fn logged(server: &Server, needles: &[&str]) -> String {
    for _ in 0..400 {
        if let Some(line) = server
            .stderr()
            .lines()
            .map(uncoloured)
            .find(|line| needles.iter().all(|n| line.contains(n)))
        {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no log line with {needles:?} within 20 s\n{}",
        server.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_log_never_records_a_sign_in_link_or_token() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = caseyos_tests::admin_token(&pool, "ops", "casey").await;
    let server = Server::start(
        || {
            let mut command = caseyos(Some(&url));
            // Debug: the request span and its start/end events are logged.
            command.env("CASEYOS_LOG", "debug,sqlx=warn,hyper=info,h2=info");
            command
        },
        Duration::from_secs(60),
    )
    .await;
    let link = "Zq9kLinkS3cretValue";
    let client = http();
    let mut request_ids = Vec::new();
    for (path, bearer) in [
        (format!("/sign-in?next=/queue&link={link}"), None),
        (
            format!("/api/queue/today?token={token}&limit=5"),
            Some(&token),
        ),
        (
            "/oauth/callback?code=C0deS3cret&state=St4teS3cret".to_string(),
            None,
        ),
    ] {
        let mut request = client.get(format!("{}{path}", server.address));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        request_ids.push(caseyos_tests::header(&response, "x-request-id"));
    }
    let line = logged(&server, &[&request_ids[0], "/sign-in?"]).await;
    assert!(
        line.contains("/sign-in?next=/queue&link=REDACTED"),
        "{line}"
    );
    let line = logged(&server, &[&request_ids[1], "/api/queue/today?"]).await;
    assert!(line.contains("token=REDACTED&limit=5"), "{line}");
    let line = logged(&server, &[&request_ids[2], "/oauth/callback?"]).await;
    assert!(line.contains("code=REDACTED&state=REDACTED"), "{line}");
    let log = server.stderr();
    for secret in [
        link,
        token.as_str(),
        &token[4..],
        "C0deS3cret",
        "St4teS3cret",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_use_that_cannot_be_recorded_is_logged_with_the_request_id() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = caseyos_tests::admin_token(&pool, "ops", "casey").await;
    // From now on, recording a token's last use fails (as a lost connection would).
    sqlx::raw_sql(
        "create function refuse_touch() returns trigger language plpgsql as \
           $$ begin raise exception 'last use refused for the test'; end $$; \
         create trigger refuse_touch before update on api_tokens \
           for each row execute function refuse_touch();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let server = Server::start(|| caseyos(Some(&url)), Duration::from_secs(60)).await;
    let response = http()
        .get(format!("{}/api/queue/counts", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the request itself is served");
    let request_id = caseyos_tests::header(&response, "x-request-id");
    assert!(!request_id.is_empty());
    let line = logged(&server, &["could not record a last use"]).await;
    assert!(
        line.contains(&format!("request_id={request_id}")),
        "{request_id}: {line}"
    );
    assert!(line.contains("last use refused for the test"), "{line}");
    assert!(line.contains("WARN"), "{line}");
    pool.close().await;
}

/// Sets when a move was decided, in the read model (to place decisions in the past).
async fn decided_at(app: &TestApp, id: Uuid, sql_time: &str) {
    sqlx::query(&format!(
        "update queue_items set decided_at = {sql_time} where id = $1::uuid"
    ))
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn quick_stats_count_open_moves_todays_decisions_and_the_weekly_approval_rate() {
    // UTC+14: "today" for admin starts at Kiritimati's midnight, not UTC's.
    let app = spawn_app_with(|c| {
        c.owner_timezones
            .insert("admin".into(), "Pacific/Kiritimati".into());
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(app.propose_simple(&format!("move {i}")).await.item.id);
    }
    for &id in &ids[0..4] {
        app.queue_command_ok(id, "approve", json!({})).await;
    }
    for &id in &ids[4..6] {
        app.queue_command_ok(id, "reject", json!({"reason": "not now"}))
            .await;
    }
    let snoozed = app
        .queue_command_ok(ids[6], "snooze", json!({"preset": "tomorrow"}))
        .await;
    app.settle().await;

    // One approval just before local midnight (yesterday, still in the week), one 8 days
    // ago (outside the week).
    decided_at(
        &app,
        ids[0],
        "(date_trunc('day', now() at time zone 'Pacific/Kiritimati') \
          at time zone 'Pacific/Kiritimati') - interval '1 minute'",
    )
    .await;
    decided_at(&app, ids[1], "now() - interval '8 days'").await;

    let token = snoozed.consistency;
    let (status, stats) = app
        .get_json(&format!("/api/queue/stats?after={token}"), &app.admin)
        .await;
    assert_eq!(status, 200, "{stats}");
    // The whole body, raw: exactly these fields and no others.
    assert_eq!(
        stats,
        json!({
            "pending": 1,
            "demo_pending": 0,
            "snoozed": 1,
            "decided_today": 4,
            "approved_today": 2,
            "rejected_today": 2,
            "demo_decided_today": 0,
            // 3 approved of 5 decided in the last 7 days.
            "approval_rate_7d": 60,
        })
    );

    // A due snooze counts as pending.
    sqlx::query(
        "update queue_items set snoozed_until = now() - interval '1 minute' where id = $1::uuid",
    )
    .bind(ids[6])
    .execute(&app.pool)
    .await
    .unwrap();
    let stats: QueueStatsResponse = app.get_ok("/api/queue/stats", &app.admin).await;
    assert_eq!((stats.pending, stats.snoozed), (2, 0));
}

#[tokio::test]
async fn quick_stats_follow_the_owner_scope_and_say_none_without_decisions() {
    let app = spawn_app().await;
    let olga = app.token("olga", "operator").await;
    let viewer = app.token("vera", "viewer").await;
    app.propose(&olga, json!({"action_type": "check_in", "title": "olga's"}))
        .await;
    app.propose_simple("admin's").await;

    let stats =
        |token: &str, query: &str| send(app.get(&format!("/api/queue/stats{query}"), token));
    let mine: QueueStatsResponse = expect_dto(&stats(&olga, "").await, 200);
    assert_eq!(mine.pending, 1);
    assert_eq!(mine.decided_today, 0);
    assert_eq!(mine.approval_rate_7d, None);
    let (status, _) = stats(&olga, "?owner=*").await;
    assert_eq!(status, 403);
    let everyone: QueueStatsResponse = expect_dto(&stats(&viewer, "?owner=*").await, 200);
    assert_eq!(everyone.pending, 2);
    let theirs = stats(&app.admin, "?owner=olga&consistency=eventual").await;
    assert_eq!(expect_dto::<QueueStatsResponse>(&theirs, 200).pending, 1);
    let (status, body) = stats(&app.admin, "?consistency=sometimes").await;
    assert_eq!(status, 400, "{body}");
}
