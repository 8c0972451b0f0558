//! Connector credentials against local fakes of Google's and HubSpot's OAuth endpoints that
//! assert what we send: the PKCE flow (the S256 challenge matches the verifier sent, the
//! state is single use and expires), tokens sealed in the table, the key file (0600, reused
//! across restarts, refused when loose), refresh before expiry, a refused refresh and an
//! expiring token (status and alerts), disconnect (revoked and deleted, or deleted and
//! said so), "not connected" everywhere, roles, and the HubSpot private-app token.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use caseyos_backend::config::{Config, HubSpotConfig};
use caseyos_backend::connectors::credentials::NewCredential;
use caseyos_backend::connectors::hubspot::{HubSpotClient, CRM_API_VERSION};
use caseyos_backend::workers::connector_tokens::{tick, TokenSettings};
use caseyos_domain::api::{
    ConnectAuthorizationResponse, ConnectorListResponse, ConnectorResponse, ConnectorStatus,
    DisconnectResponse,
};
use caseyos_domain::connectors::{ConnectorName, CredentialKind};
use caseyos_tests::{
    assert_error, command_bus, credentials_for, error_fields, expect_dto, send, spawn_app_with,
    test_config, Instance, TestApp,
};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCESS: &str = "ya29.access-s3cret";
const REFRESH: &str = "1//refresh-s3cret";

/// Google's endpoints on `fake`, with an OAuth client.
fn google(config: &mut Config, fake: &MockServer) {
    config.google_client_id = Some("client-123.apps.googleusercontent.com".into());
    config.google_client_secret = Some("client-s3cret".into());
    config.google_authorize_url = "https://accounts.example/o/oauth2/v2/auth".into();
    config.google_token_url = format!("{}/token", fake.uri());
    config.google_revoke_url = format!("{}/revoke", fake.uri());
    config.google_userinfo_url = format!("{}/userinfo", fake.uri());
}

fn form(request: &Request) -> HashMap<String, String> {
    let body = String::from_utf8(request.body.clone()).unwrap();
    reqwest::Url::parse(&format!("http://form/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn requests_to(fake: &MockServer, wanted: &str) -> Vec<Request> {
    fake.received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == wanted)
        .collect()
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn callback(app: &TestApp, query: &str) -> String {
    let response = no_redirects()
        .get(format!(
            "{}/api/connectors/oauth/callback?{query}",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    response.headers()["location"].to_str().unwrap().to_string()
}

async fn connector(app: &TestApp, name: &str) -> ConnectorResponse {
    app.get_ok(&format!("/api/connectors/{name}"), &app.admin)
        .await
}

async fn raw_row(app: &TestApp, name: &str) -> String {
    sqlx::query_scalar::<_, String>(
        "select row_to_json(c)::text from connector_credentials c where name = $1",
    )
    .bind(name)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn stored(app: &TestApp, name: ConnectorName, credential: NewCredential) {
    app.credentials()
        .store(name, credential, "test-admin")
        .await
        .unwrap();
}

fn oauth_credential(expires_in: chrono::Duration, refresh: Option<&str>) -> NewCredential {
    NewCredential {
        kind: CredentialKind::Oauth,
        access_token: ACCESS.into(),
        refresh_token: refresh.map(str::to_string),
        expires_at: Some(caseyos_store::now() + expires_in),
        scopes: vec!["https://www.googleapis.com/auth/gmail.send".into()],
        account: Some("casey@example.com".into()),
        hub_id: None,
    }
}

#[tokio::test]
async fn the_pkce_flow_connects_gmail_with_a_single_use_state_and_seals_the_tokens() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3599,
            "scope": "openid email https://www.googleapis.com/auth/gmail.send",
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/userinfo"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"email": "casey@example.com"})),
        )
        .expect(1)
        .mount(&fake)
        .await;
    let app = spawn_app_with(|c| google(c, &fake)).await;

    let started: ConnectAuthorizationResponse = expect_dto(
        &app.post_json("/api/connectors/gmail/connect", &app.admin, &json!({}))
            .await,
        200,
    );
    let url = reqwest::Url::parse(&started.authorize_url).unwrap();
    assert!(started
        .authorize_url
        .starts_with("https://accounts.example/o/oauth2/v2/auth?"));
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "client-123.apps.googleusercontent.com");
    assert_eq!(query["access_type"], "offline");
    assert_eq!(query["prompt"], "consent");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(
        query["redirect_uri"],
        format!("{}/api/connectors/oauth/callback", app.address)
    );
    for scope in ["gmail.send", "gmail.compose", "gmail.readonly"] {
        assert!(
            query["scope"].contains(&format!("https://www.googleapis.com/auth/{scope}")),
            "{}",
            query["scope"]
        );
    }
    let state = &query["state"];
    assert_eq!(URL_SAFE_NO_PAD.decode(state).unwrap().len(), 32);
    assert!(!started.authorize_url.contains("client-s3cret"));
    let left = started.expires_at - caseyos_store::now();
    assert!(left <= chrono::Duration::minutes(10) && left > chrono::Duration::minutes(9));
    // Kept server-side, not the state itself.
    let pending: i64 = sqlx::query_scalar("select count(*) from connector_authorizations")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(pending, 1);

    let location = callback(&app, &format!("code=the-code&state={state}")).await;
    assert_eq!(
        location,
        "/settings/connectors?connector=gmail&result=connected"
    );

    // What the token endpoint got: the code, the client, and the verifier of the challenge.
    let sent = form(&requests_to(&fake, "/token").await[0]);
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(sent["code"], "the-code");
    assert_eq!(sent["client_id"], "client-123.apps.googleusercontent.com");
    assert_eq!(sent["client_secret"], "client-s3cret");
    assert_eq!(sent["redirect_uri"], query["redirect_uri"]);
    let verifier = &sent["code_verifier"];
    assert!((43..=128).contains(&verifier.len()));
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        query["code_challenge"],
        "the S256 challenge is the verifier's"
    );

    // The state was used: a second callback is refused and calls nobody.
    let again = callback(&app, &format!("code=the-code&state={state}")).await;
    assert_eq!(
        again,
        "/settings/connectors?result=error&code=connector.oauth_state_invalid"
    );
    let unknown = callback(&app, "code=x&state=never-issued").await;
    assert!(unknown.ends_with("code=connector.oauth_state_invalid"));

    let gmail = connector(&app, "gmail").await;
    assert_eq!(gmail.status, ConnectorStatus::Connected);
    assert_eq!(gmail.kind, Some(CredentialKind::Oauth));
    assert_eq!(gmail.account.as_deref(), Some("casey@example.com"));
    assert!(gmail
        .scopes
        .contains(&"https://www.googleapis.com/auth/gmail.send".to_string()));
    assert!(gmail.expires_at.is_some());

    // Sealed at rest: the raw row holds neither token.
    let row = raw_row(&app, "gmail").await;
    assert!(!row.contains("s3cret"), "{row}");
    let sealed: Vec<u8> =
        sqlx::query_scalar("select access_sealed from connector_credentials where name = 'gmail'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!sealed.windows(6).any(|w| w == b"s3cret".as_slice()));
    // … and the clients get them back.
    let token = app
        .credentials()
        .access_token(ConnectorName::Gmail)
        .await
        .unwrap();
    assert_eq!(token.secret, ACCESS);
    assert!(!format!("{token:?}").contains("s3cret"));

    // The fact is an event, without secrets; the API never shows a token.
    let (status, audit) = app.get_json("/api/audit/connector/gmail", &app.admin).await;
    assert_eq!(status, 200, "{audit}");
    assert!(audit.to_string().contains("ConnectorConnected"), "{audit}");
    let events: Vec<String> = sqlx::query_scalar("select payload::text from events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(events.iter().all(|e| !e.contains("s3cret")));
    let (_, list) = app.get_json("/api/connectors", &app.admin).await;
    assert!(!list.to_string().contains("s3cret"));
}

#[tokio::test]
async fn an_expired_or_refused_authorization_is_a_clear_error() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&fake)
        .await;
    let app = spawn_app_with(|c| google(c, &fake)).await;
    let state_of = |r: &ConnectAuthorizationResponse| {
        reqwest::Url::parse(&r.authorize_url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned()
    };
    let started: ConnectAuthorizationResponse = expect_dto(
        &app.post_json(
            "/api/connectors/google_calendar/connect",
            &app.admin,
            &json!({}),
        )
        .await,
        200,
    );
    sqlx::query("update connector_authorizations set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let location = callback(&app, &format!("code=c&state={}", state_of(&started))).await;
    assert_eq!(
        location,
        "/settings/connectors?connector=google_calendar&result=error&code=connector.oauth_state_expired"
    );

    let refused: ConnectAuthorizationResponse = expect_dto(
        &app.post_json("/api/connectors/gmail/connect", &app.admin, &json!({}))
            .await,
        200,
    );
    let location = callback(
        &app,
        &format!("error=access_denied&state={}", state_of(&refused)),
    )
    .await;
    assert!(location.ends_with("connector=gmail&result=error&code=connector.oauth_denied"));
    assert!(callback(&app, "")
        .await
        .ends_with("connector.oauth_state_invalid"));
    assert_eq!(
        connector(&app, "gmail").await.status,
        ConnectorStatus::NotConnected
    );
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_once_with_the_refresh_grant() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "ya29.fresh", "expires_in": 3600}))
                .set_delay(std::time::Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&fake)
        .await;
    let app = spawn_app_with(|c| google(c, &fake)).await;
    stored(
        &app,
        ConnectorName::Gmail,
        oauth_credential(chrono::Duration::minutes(3), Some(REFRESH)),
    )
    .await;

    // Two callers (as two instances would) at once: one refresh.
    let first = app.credentials_with(|c| google(c, &fake));
    let second = app.credentials_with(|c| google(c, &fake));
    let (one, two) = tokio::join!(
        first.access_token(ConnectorName::Gmail),
        second.access_token(ConnectorName::Gmail)
    );
    assert_eq!(one.unwrap().secret, "ya29.fresh");
    assert_eq!(two.unwrap().secret, "ya29.fresh");
    let sent = form(&requests_to(&fake, "/token").await[0]);
    assert_eq!(sent["grant_type"], "refresh_token");
    assert_eq!(sent["refresh_token"], REFRESH);
    assert_eq!(sent["client_id"], "client-123.apps.googleusercontent.com");
    assert_eq!(sent["client_secret"], "client-s3cret");

    let gmail = connector(&app, "gmail").await;
    assert_eq!(gmail.status, ConnectorStatus::Connected);
    assert!(gmail.expires_at.unwrap() > caseyos_store::now() + chrono::Duration::minutes(55));
    // Google kept its refresh token: still stored, still sealed.
    let row = raw_row(&app, "gmail").await;
    assert!(
        !row.contains("ya29.fresh") && !row.contains("s3cret"),
        "{row}"
    );
}

#[tokio::test]
async fn a_refused_refresh_turns_the_connector_to_error_and_raises_an_alert() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
        ))
        .expect(1)
        .mount(&fake)
        .await;
    let app = spawn_app_with(|c| google(c, &fake)).await;
    stored(
        &app,
        ConnectorName::Gmail,
        oauth_credential(chrono::Duration::minutes(10), Some(REFRESH)),
    )
    .await;

    // The app's own worker may get there first (it ticks at start): either way one refresh
    // is tried, and one alert raised.
    let bus = command_bus(&app.pool, 16);
    let done = tick(
        &app.credentials_with(|c| google(c, &fake)),
        &bus,
        &TokenSettings::default(),
    )
    .await
    .unwrap();
    assert!(
        done.failed.is_empty()
            || done.failed == [(ConnectorName::Gmail, "connector.invalid_grant".to_string())],
        "{done:?}"
    );

    let gmail = connector(&app, "gmail").await;
    assert_eq!(gmail.status, ConnectorStatus::Error);
    assert_eq!(
        gmail.last_error.map(|e| e.code).as_deref(),
        Some("connector.invalid_grant")
    );
    // The dead grant is not tried again: the clients hear so at once.
    let error = app
        .credentials()
        .access_token(ConnectorName::Gmail)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "connector.invalid_grant");
    // A second tick raises nothing new.
    let again = tick(
        &app.credentials_with(|c| google(c, &fake)),
        &bus,
        &TokenSettings::default(),
    )
    .await
    .unwrap();
    assert!(
        again.alerts.is_empty() && again.failed.is_empty(),
        "{again:?}"
    );

    app.settle().await;
    let (status, alerts) = app
        .get_json("/api/alerts?kind=connector.failing", &app.admin)
        .await;
    assert_eq!(status, 200, "{alerts}");
    assert_eq!(alerts["total"], 1, "{alerts}");
    assert_eq!(alerts["items"][0]["severity"], "urgent");
}

#[tokio::test]
async fn a_token_expiring_within_a_day_without_refresh_is_expiring_on_the_api_the_dashboard_and_an_alert(
) {
    let app = spawn_app_with(|_| {}).await;
    stored(
        &app,
        ConnectorName::GoogleCalendar,
        oauth_credential(chrono::Duration::hours(3), None),
    )
    .await;
    let calendar = connector(&app, "google_calendar").await;
    assert_eq!(calendar.status, ConnectorStatus::Expiring);

    let bus = command_bus(&app.pool, 16);
    let done = tick(&app.credentials(), &bus, &TokenSettings::default())
        .await
        .unwrap();
    assert!(
        done.alerts
            .iter()
            .all(|key| key.starts_with("connector.expiring/google_calendar/")),
        "{done:?}"
    );

    app.settle().await;
    let (_, alerts) = app
        .get_json("/api/alerts?kind=connector.expiring", &app.admin)
        .await;
    assert_eq!(alerts["total"], 1, "{alerts}");
    assert_eq!(alerts["items"][0]["severity"], "high");
    assert!(alerts["items"][0]["title"]
        .as_str()
        .unwrap()
        .contains("Google Calendar"));
    let (status, widget) = app.get_json("/api/dashboard/connectors", &app.admin).await;
    assert_eq!(status, 200, "{widget}");
    let items = widget
        .as_array()
        .or_else(|| widget["connectors"].as_array())
        .cloned()
        .unwrap_or_default();
    let shown = items
        .iter()
        .find(|c| c["name"] == "google_calendar")
        .unwrap_or_else(|| panic!("{widget}"));
    assert_eq!(shown["status"], "expiring", "{widget}");
    assert!(shown["expires_at"].is_string(), "{widget}");
}

#[tokio::test]
async fn disconnecting_revokes_at_the_provider_and_deletes_or_says_why_it_could_not_revoke() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&fake)
        .await;
    let app = spawn_app_with(|c| google(c, &fake)).await;
    stored(
        &app,
        ConnectorName::Gmail,
        oauth_credential(chrono::Duration::hours(2), Some(REFRESH)),
    )
    .await;
    let answer: DisconnectResponse = expect_dto(
        &send(app.request(Method::DELETE, "/api/connectors/gmail", Some(&app.admin))).await,
        200,
    );
    assert!(answer.revoked);
    assert_eq!(answer.reason, None);
    assert_eq!(
        form(&requests_to(&fake, "/revoke").await[0])["token"],
        REFRESH
    );
    let left: i64 = sqlx::query_scalar("select count(*) from connector_credentials")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the secrets are gone");
    assert_eq!(
        connector(&app, "gmail").await.status,
        ConnectorStatus::NotConnected
    );
    assert_eq!(
        app.credentials()
            .access_token(ConnectorName::Gmail)
            .await
            .unwrap_err()
            .code(),
        "connector.not_connected"
    );

    // Google unreachable: deleted all the same, and said so.
    fake.reset().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&fake)
        .await;
    stored(
        &app,
        ConnectorName::GoogleCalendar,
        oauth_credential(chrono::Duration::hours(2), Some(REFRESH)),
    )
    .await;
    let answer: DisconnectResponse = expect_dto(
        &send(app.request(
            Method::DELETE,
            "/api/connectors/google_calendar",
            Some(&app.admin),
        ))
        .await,
        200,
    );
    assert!(!answer.revoked);
    assert!(answer.reason.unwrap().contains("503"));
    assert_eq!(
        connector(&app, "google_calendar").await.status,
        ConnectorStatus::NotConnected
    );
}

#[tokio::test]
async fn without_credentials_every_connector_is_not_connected_and_says_so() {
    let app = spawn_app_with(|_| {}).await;
    let list: ConnectorListResponse = app.get_ok("/api/connectors", &app.admin).await;
    let names: Vec<&str> = list.items.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["gmail", "google_calendar", "hubspot", "llm"]);
    assert!(list
        .items
        .iter()
        .all(|c| c.status == ConnectorStatus::NotConnected && c.kind.is_none()));
    for name in [
        ConnectorName::Gmail,
        ConnectorName::GoogleCalendar,
        ConnectorName::Hubspot,
    ] {
        let error = app.credentials().access_token(name).await.unwrap_err();
        assert_eq!(error.code(), "connector.not_connected");
    }
    let answer = send(app.request(Method::DELETE, "/api/connectors/gmail", Some(&app.admin))).await;
    assert_error(&answer, 404, "connector.not_connected");
    // No OAuth client configured: connecting says which keys are missing.
    let answer = app
        .post_json("/api/connectors/gmail/connect", &app.admin, &json!({}))
        .await;
    let error = assert_error(&answer, 409, "connector.misconfigured");
    assert!(
        error.message.contains("google_client_id"),
        "{}",
        error.message
    );
    let answer = app
        .post_json("/api/connectors/llm/connect", &app.admin, &json!({}))
        .await;
    assert_error(&answer, 409, "connector.config_managed");
    let (status, _) = app.get_json("/api/connectors/slack", &app.admin).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn viewers_and_operators_read_connectors_but_cannot_connect_or_disconnect() {
    let fake = MockServer::start().await;
    let app = spawn_app_with(|c| google(c, &fake)).await;
    for role in ["viewer", "operator"] {
        let token = app.token("someone", role).await;
        let (status, _) = app.get_json("/api/connectors", &token).await;
        assert_eq!(status, 200);
        let answer = app
            .post_json("/api/connectors/gmail/connect", &token, &json!({}))
            .await;
        assert_error(&answer, 403, "auth.forbidden");
        let answer = send(
            app.request(Method::PUT, "/api/connectors/hubspot/token", Some(&token))
                .json(&json!({"token": "pat-na1-x"})),
        )
        .await;
        assert_error(&answer, 403, "auth.forbidden");
        let answer = send(app.request(Method::DELETE, "/api/connectors/gmail", Some(&token))).await;
        assert_error(&answer, 403, "auth.forbidden");
    }
    assert!(fake
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn a_private_app_token_is_checked_before_it_is_stored_and_the_hubspot_client_uses_it() {
    let fake = MockServer::start().await;
    let contacts = format!("/crm/objects/{CRM_API_VERSION}/contacts");
    Mock::given(method("GET"))
        .and(path(contacts.as_str()))
        .and(query_param("limit", "1"))
        .and(header("authorization", "Bearer pat-na1-good-s3cret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": []})))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path(contacts.as_str()))
        .and(header("authorization", "Bearer pat-na1-bad"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"category": "INVALID_AUTHENTICATION"})),
        )
        .mount(&fake)
        .await;
    let app = spawn_app_with(|c| c.hubspot_base_url = fake.uri()).await;
    let put = |token: &str| {
        app.request(
            Method::PUT,
            "/api/connectors/hubspot/token",
            Some(&app.admin),
        )
        .json(&json!({ "token": token }))
    };

    let answer = send(put("pat-na1-bad")).await;
    let error = assert_error(&answer, 422, "request.validation");
    assert_eq!(error_fields(&error), ["token"]);
    let answer = send(put("pat na1 spaces")).await;
    assert_error(&answer, 422, "request.validation");
    assert_eq!(
        connector(&app, "hubspot").await.status,
        ConnectorStatus::NotConnected
    );

    let hubspot: ConnectorResponse = expect_dto(&send(put("pat-na1-good-s3cret")).await, 200);
    assert_eq!(hubspot.status, ConnectorStatus::Connected);
    assert_eq!(hubspot.kind, Some(CredentialKind::PrivateApp));
    assert!(!raw_row(&app, "hubspot").await.contains("s3cret"));

    // The app's HubSpot client takes its token from the credentials.
    let client =
        HubSpotClient::with_credentials(HubSpotConfig::new(fake.uri(), ""), app.credentials())
            .unwrap();
    assert!(client.is_connected().await);
    client.check().await.unwrap();

    // A private-app token cannot be revoked through HubSpot's API: deleted, and said so.
    let answer: DisconnectResponse = expect_dto(
        &send(app.request(Method::DELETE, "/api/connectors/hubspot", Some(&app.admin))).await,
        200,
    );
    assert!(!answer.revoked);
    assert!(answer.reason.unwrap().contains("Private apps"));
    assert!(!client.is_connected().await);
    assert_eq!(
        client.check().await.unwrap_err().code(),
        "connector.not_connected"
    );
}

#[tokio::test]
async fn the_configured_hubspot_token_shows_as_config_and_cannot_be_disconnected_from_the_api() {
    let app = spawn_app_with(|c| c.hubspot_token = Some("pat-na1-config-s3cret".into())).await;
    let hubspot = connector(&app, "hubspot").await;
    assert_eq!(hubspot.status, ConnectorStatus::Connected);
    assert_eq!(hubspot.kind, Some(CredentialKind::Config));
    assert!(hubspot.note.unwrap().contains("hubspot_token"));
    let token = app
        .credentials_with(|c| c.hubspot_token = Some("pat-na1-config-s3cret".into()))
        .access_token(ConnectorName::Hubspot)
        .await
        .unwrap();
    assert_eq!(token.secret, "pat-na1-config-s3cret");
    let answer =
        send(app.request(Method::DELETE, "/api/connectors/hubspot", Some(&app.admin))).await;
    assert_error(&answer, 409, "connector.config_managed");
}

#[tokio::test]
async fn the_key_file_is_created_0600_and_a_restarted_app_reads_the_tokens() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("caseyos-creds-{}", uuid::Uuid::new_v4()));
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&fake)
        .await;
    let configure = |c: &mut Config| {
        c.credentials_key = None;
        c.data_dir = dir.clone();
        google(c, &fake);
    };
    let app = spawn_app_with(configure).await;
    let key_file = dir.join("credentials.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let mut config = test_config(&app.database_url);
    configure(&mut config);
    credentials_for(&app.pool, &config)
        .store(
            ConnectorName::Gmail,
            oauth_credential(chrono::Duration::hours(2), Some(REFRESH)),
            "test-admin",
        )
        .await
        .unwrap();
    let (pool, address, admin) = (app.pool.clone(), app.address.clone(), app.admin.clone());
    drop(app);

    // The same data folder after a restart: the same key, so the stored tokens open (the
    // revocation sends the refresh token it read).
    let again = Instance::start(config.clone(), pool.clone()).await;
    assert_ne!(again.address, address);
    let answer = send(
        reqwest::Client::new()
            .delete(format!("{}/api/connectors/gmail", again.address))
            .bearer_auth(&admin),
    )
    .await;
    let answer: DisconnectResponse = expect_dto(&answer, 200);
    assert!(answer.revoked);
    assert_eq!(
        form(&requests_to(&fake, "/revoke").await[0])["token"],
        REFRESH
    );
    again.stop().await;

    // Readable by others: the start is refused, naming the fix.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = caseyos_backend::Application::with_pool(config.clone(), pool.clone()).await;
    let error = refused
        .err()
        .expect("a loose key file stops the start")
        .to_string();
    assert!(error.contains("chmod 600"), "{error}");
    // The wrong length too.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&key_file, "c2hvcnQ=\n").unwrap();
    let refused = caseyos_backend::Application::with_pool(config, pool).await;
    assert!(refused
        .err()
        .expect("a short key stops the start")
        .to_string()
        .contains("32 bytes"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn hubspot_connects_by_oauth_with_its_hub_and_user_and_disconnecting_deletes_its_refresh_token(
) {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "hub-access-s3cret", "refresh_token": "hub-refresh-s3cret",
            "expires_in": 1800, "token_type": "bearer"
        })))
        .expect(1)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/oauth/v1/access-tokens/hub-access-s3cret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token": "hub-access-s3cret", "user": "casey@example.com", "hub_domain": "example.com",
            "scopes": ["oauth", "crm.objects.contacts.read"], "hub_id": 4242, "app_id": 1,
            "expires_in": 1799, "user_id": 7, "token_type": "access"
        })))
        .expect(1)
        .mount(&fake)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/oauth/v1/refresh-tokens/hub-refresh-s3cret"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&fake)
        .await;
    let app = spawn_app_with(|c| {
        c.hubspot_base_url = fake.uri();
        c.hubspot_client_id = Some("hub-client".into());
        c.hubspot_client_secret = Some("hub-client-s3cret".into());
        c.hubspot_authorize_url = "https://app.hubspot.example/oauth/authorize".into();
    })
    .await;
    let started: ConnectAuthorizationResponse = expect_dto(
        &app.post_json("/api/connectors/hubspot/connect", &app.admin, &json!({}))
            .await,
        200,
    );
    let query: HashMap<String, String> = reqwest::Url::parse(&started.authorize_url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["client_id"], "hub-client");
    assert!(
        query["scope"].contains("crm.objects.deals.write"),
        "{}",
        query["scope"]
    );
    assert!(!query.contains_key("access_type"));
    let location = callback(&app, &format!("code=hub-code&state={}", query["state"])).await;
    assert_eq!(
        location,
        "/settings/connectors?connector=hubspot&result=connected"
    );
    let sent = form(&requests_to(&fake, "/oauth/v1/token").await[0]);
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(sent["client_secret"], "hub-client-s3cret");
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(sent["code_verifier"].as_bytes())),
        query["code_challenge"]
    );

    let hubspot = connector(&app, "hubspot").await;
    assert_eq!(hubspot.status, ConnectorStatus::Connected);
    assert_eq!(
        hubspot.account.as_deref(),
        Some("hub 4242 (casey@example.com)")
    );
    assert_eq!(hubspot.scopes, ["oauth", "crm.objects.contacts.read"]);
    assert!(!raw_row(&app, "hubspot").await.contains("s3cret"));

    let answer: DisconnectResponse = expect_dto(
        &send(app.request(Method::DELETE, "/api/connectors/hubspot", Some(&app.admin))).await,
        200,
    );
    assert!(answer.revoked, "{answer:?}");
    assert_eq!(
        connector(&app, "hubspot").await.status,
        ConnectorStatus::NotConnected
    );
    let (_, audit) = app
        .get_json("/api/audit/connector/hubspot", &app.admin)
        .await;
    let text = audit.to_string();
    assert!(
        text.contains("ConnectorConnected") && text.contains("ConnectorDisconnected"),
        "{text}"
    );
    assert!(!text.contains("s3cret"));
}
