//! `POST /api/webhooks/hubspot`: HubSpot's webhook deliveries, verified with its v3
//! signature, stored once per `eventId`, answered 200 at once; `workers::hubspot_webhooks`
//! processes them from the table.
//!
//! **The v3 signature**, as HubSpot's "Validating requests" page
//! (developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation)
//! and its changelog "Introducing version 3 of Webhook signatures" describe it (stored
//! copies, read 2026-11): refuse a request whose `X-HubSpot-Request-Timestamp` (epoch
//! milliseconds) is older than 5 minutes; concatenate, UTF-8, `method + URI + body +
//! timestamp`; HMAC-SHA256 it with the app's client secret; base64 the result; compare it
//! with `X-HubSpot-Signature-v3` in constant time. The URI is the full URL HubSpot called,
//! with these percent-encodings decoded first: `%3A :`, `%2F /`, `%3F ?`, `%40 @`, `%21 !`,
//! `%24 $`, `%27 '`, `%28 (`, `%29 )`, `%2A *`, `%2C ,`, `%3B ;` (the table of that page;
//! the excerpt of it we could read stops before the table, which we took from a summary of
//! the page — see [`decode_uri`]). We also refuse a timestamp more than 5 minutes in the
//! future. HubSpot's docs give worked examples for the v1 and v2 signatures only, none for
//! v3. Its official Python SDK (`hubspot/utils/signature.py`) computes v3 the same way and
//! compares with `hmac.compare_digest`.
//!
//! The URL is ours to know, not the request's to say: `public_url` (configuration) + the
//! path and query as received. Without `hubspot_client_secret` nothing can be verified:
//! 401 `connector.not_connected` (a 401 rather than a 503: the request cannot be
//! authenticated, and nothing is wrong with the server).

use axum::extract::{Request, State};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use caseyos_domain::api::ErrorEnvelope;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::Sha256;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::extract::{body_bytes, invalid_json, json_content_type};
use crate::state::AppState;
use crate::workers::hubspot_webhooks::{self, IncomingEvent};

/// The header carrying the v3 signature.
pub const SIGNATURE_HEADER: &str = "x-hubspot-signature-v3";
/// The header carrying the request's timestamp, epoch milliseconds.
pub const TIMESTAMP_HEADER: &str = "x-hubspot-request-timestamp";
/// How far a timestamp may be from now, either way: 5 minutes.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;
/// Longest event id, object id, subscription type or property name kept.
const MAX_FIELD_CHARS: usize = 256;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_hubspot_webhook))
}

/// One event of a HubSpot webhook delivery. Other fields HubSpot sends (`subscriptionId`,
/// `appId`, `changeSource`, `changeFlag`, `sourceId`, `propertyValue`, …) are accepted and
/// not kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotWebhookEvent {
    /// HubSpot's id of the event: a delivery whose event was stored already is not stored
    /// again.
    #[serde(deserialize_with = "id_text")]
    #[schema(value_type = i64)]
    pub event_id: String,
    /// `deal.creation`, `deal.propertyChange`, `deal.deletion`, …; a type CaseyOS does not
    /// act on is stored as ignored.
    pub subscription_type: String,
    /// The record the event is about (for `deal.*`, the deal's id).
    #[serde(deserialize_with = "id_text")]
    #[schema(value_type = i64)]
    pub object_id: String,
    /// When it happened in HubSpot, epoch milliseconds.
    #[serde(default)]
    pub occurred_at: Option<i64>,
    #[serde(default)]
    pub property_name: Option<String>,
    #[serde(default)]
    pub portal_id: Option<i64>,
    /// 0 for HubSpot's first delivery of the event.
    #[serde(default)]
    pub attempt_number: Option<i32>,
}

/// An id HubSpot sends as a number (or, leniently, a string of it).
fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s),
        _ => Err(serde::de::Error::custom("must be a number")),
    }
}

/// What was done with a delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HubSpotWebhookResponse {
    /// Events in the delivery.
    pub received: u64,
    /// Events stored now (to be processed, or stored as ignored).
    pub stored: u64,
    /// Events whose `eventId` was stored already: not stored again.
    pub duplicates: u64,
}

/// Receive a HubSpot webhook delivery. No bearer token or session: the request is
/// authenticated by HubSpot's v3 signature (`X-HubSpot-Signature-v3`: base64 of
/// HMAC-SHA256, keyed with the app's client secret, over method + URL + body +
/// `X-HubSpot-Request-Timestamp`), which must be at most 5 minutes old (or ahead). Each
/// event is stored once per `eventId` and processed in the background (a deal event reads
/// the deal from HubSpot and applies it); the answer does not wait for that.
#[utoipa::path(
    post,
    path = "/api/webhooks/hubspot",
    tag = "webhooks",
    params(
        ("X-HubSpot-Signature-v3" = Option<String>, Header,
         description = "base64(HMAC-SHA256(client secret, method + URL + body + timestamp)); \
                        required: without it the answer is 401 `webhook.bad_signature`"),
        ("X-HubSpot-Request-Timestamp" = Option<String>, Header,
         description = "When HubSpot sent the request, epoch milliseconds; required, and at \
                        most 5 minutes from the server's clock (else 401 `webhook.stale`)"),
    ),
    request_body(
        content = Vec<HubSpotWebhookEvent>,
        description = "The delivery: a JSON array of events, as HubSpot sends it",
        example = json!([
            {"eventId": 100, "subscriptionId": 2345, "portalId": 62515, "appId": 54321,
             "occurredAt": 1764460800000_i64, "subscriptionType": "deal.propertyChange",
             "attemptNumber": 0, "objectId": 9001, "propertyName": "dealstage",
             "propertyValue": "contractsent", "changeSource": "CRM"},
            {"eventId": 101, "subscriptionId": 2346, "portalId": 62515, "appId": 54321,
             "occurredAt": 1764460805000_i64, "subscriptionType": "deal.creation",
             "attemptNumber": 0, "objectId": 9002, "changeSource": "CRM"}
        ])
    ),
    responses(
        (status = 200, description = "Stored (or recognized as already stored); processed in the background",
         body = HubSpotWebhookResponse,
         example = json!({"received": 2, "stored": 2, "duplicates": 0})),
        (status = 401, description = "Not from HubSpot as far as we can tell: \
            `webhook.bad_signature` (no, malformed or wrong `X-HubSpot-Signature-v3`, or no or \
            malformed `X-HubSpot-Request-Timestamp`), `webhook.stale` (the timestamp is more \
            than 5 minutes old or ahead), or `connector.not_connected` (no HubSpot client \
            secret is configured, so nothing can be verified)", body = ErrorEnvelope),
        (status = 422, description = "Signed, but an event lacks `eventId`, `subscriptionType` \
            or `objectId`, or a field has the wrong type or holds U+0000 \
            (`request.validation`, naming the field)", body = ErrorEnvelope),
    )
)]
async fn receive_hubspot_webhook(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<HubSpotWebhookResponse>, ApiError> {
    let Some(secret) = state.config.hubspot_client_secret() else {
        return Err(ApiError::unauthorized(
            "connector.not_connected",
            "HubSpot webhooks are not connected: no client secret is configured \
             (hubspot_client_secret)",
        ));
    };
    let secret = secret.to_string();
    let method = request.method().as_str().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let (signature, timestamp, media_type) = {
        let headers = request.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (
            header(SIGNATURE_HEADER),
            header(TIMESTAMP_HEADER),
            json_content_type(headers),
        )
    };
    let body = body_bytes(request, &state).await?;
    let uri = format!("{}{path}", state.public_url);
    verify_v3(
        &secret,
        &method,
        &uri,
        &body,
        timestamp.as_deref(),
        signature.as_deref(),
        Utc::now().timestamp_millis(),
    )
    .map_err(|refused| match refused {
        Refused::BadSignature => ApiError::unauthorized(
            "webhook.bad_signature",
            "the X-HubSpot-Signature-v3 signature is missing or does not match this request",
        ),
        Refused::Stale => ApiError::unauthorized(
            "webhook.stale",
            "X-HubSpot-Request-Timestamp is more than 5 minutes from now",
        ),
    })?;
    media_type?;
    let events = parse_events(&body)?;
    let stored = hubspot_webhooks::store(&state.pool, &events).await?;
    tracing::info!(
        webhook.events = events.len(),
        webhook.stored = stored.stored,
        webhook.duplicates = stored.duplicates,
        "hubspot webhook delivery stored"
    );
    Ok(Json(HubSpotWebhookResponse {
        received: events.len() as u64,
        stored: stored.stored,
        duplicates: stored.duplicates,
    }))
}

/// Why a request is not taken as HubSpot's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    BadSignature,
    Stale,
}

/// The URI as HubSpot signs it: these percent-encodings decoded (either hex case).
pub fn decode_uri(uri: &str) -> String {
    const DECODED: &[(&str, char)] = &[
        ("3A", ':'),
        ("2F", '/'),
        ("3F", '?'),
        ("40", '@'),
        ("21", '!'),
        ("24", '$'),
        ("27", '\''),
        ("28", '('),
        ("29", ')'),
        ("2A", '*'),
        ("2C", ','),
        ("3B", ';'),
    ];
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3);
        match code.and_then(|c| DECODED.iter().find(|(hex, _)| hex.eq_ignore_ascii_case(c))) {
            Some((_, decoded)) => {
                out.push(*decoded);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks a request against HubSpot's v3 signature (see the module's documentation):
/// `now_ms` is the server's clock, epoch milliseconds.
pub fn verify_v3(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_ms: i64,
) -> Result<(), Refused> {
    let timestamp = timestamp.map(str::trim).ok_or(Refused::BadSignature)?;
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refused::BadSignature);
    }
    let sent_ms: i64 = timestamp.parse().map_err(|_| Refused::BadSignature)?;
    if now_ms.abs_diff(sent_ms) > MAX_SKEW_MS.unsigned_abs() {
        return Err(Refused::Stale);
    }
    let signature = STANDARD
        .decode(signature.ok_or(Refused::BadSignature)?.trim())
        .map_err(|_| Refused::BadSignature)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Refused::BadSignature)?;
    mac.update(method.as_bytes());
    mac.update(decode_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| Refused::BadSignature)
}

/// The delivery's events: 400 when it is not JSON, 422 naming the field that does not fit.
fn parse_events(body: &[u8]) -> Result<Vec<IncomingEvent>, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let events: Vec<HubSpotWebhookEvent> = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    invalid_json(&inner)
                }
                _ => ApiError::field(
                    if path == "." { "body" } else { &path },
                    "must be an array of HubSpot webhook events (eventId, subscriptionType, \
                     objectId)",
                ),
            }
        })?;
    deserializer.end().map_err(|inner| invalid_json(&inner))?;
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let field = |name: &str, value: &str, required: bool| {
                if (required && value.trim().is_empty())
                    || value.contains('\0')
                    || value.chars().count() > MAX_FIELD_CHARS
                {
                    Err(ApiError::field(
                        &format!("[{i}].{name}"),
                        format!("must be 1–{MAX_FIELD_CHARS} characters without U+0000"),
                    ))
                } else {
                    Ok(())
                }
            };
            field("eventId", &event.event_id, true)?;
            field("subscriptionType", &event.subscription_type, true)?;
            field("objectId", &event.object_id, true)?;
            if let Some(name) = &event.property_name {
                field("propertyName", name, false)?;
            }
            Ok(IncomingEvent {
                event_id: event.event_id.trim().to_string(),
                subscription_type: event.subscription_type.trim().to_string(),
                object_id: event.object_id.trim().to_string(),
                property_name: event.property_name,
                occurred_at: event.occurred_at.and_then(DateTime::from_timestamp_millis),
                portal_id: event.portal_id,
                attempt_number: event.attempt_number,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://caseyos.example/api/webhooks/hubspot";
    const BODY: &[u8] = br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":123}]"#;
    const NOW: i64 = 1_764_460_800_000;

    /// The signature HubSpot would send, computed here from the definition.
    fn sign(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{method}{uri}").as_bytes());
        mac.update(body);
        mac.update(timestamp.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    /// (secret, method, uri, body, timestamp, signature, outcome)
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a [u8],
        Option<String>,
        Option<String>,
        Result<(), Refused>,
    );

    #[test]
    fn a_signature_verifies_only_for_its_request_within_five_minutes() {
        let ts = NOW.to_string();
        let good = sign(SECRET, "POST", URI, BODY, &ts);
        let minutes = |m: i64| (NOW + m * 60_000).to_string();
        let old = minutes(-6);
        let ahead = minutes(6);
        let edge = minutes(-5);
        // (secret, method, uri, body, timestamp, signature, outcome)
        let table: Vec<Row> = vec![
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some(ts.clone()),
                Some(good.clone()),
                Ok(()),
            ),
            (
                SECRET,
                "POST",
                URI,
                b"[]",
                Some(ts.clone()),
                Some(good.clone()),
                Err(Refused::BadSignature),
            ),
            (
                "another secret",
                "POST",
                URI,
                BODY,
                Some(ts.clone()),
                Some(good.clone()),
                Err(Refused::BadSignature),
            ),
            (
                SECRET,
                "PUT",
                URI,
                BODY,
                Some(ts.clone()),
                Some(good.clone()),
                Err(Refused::BadSignature),
            ),
            (
                SECRET,
                "POST",
                "https://other.example/api/webhooks/hubspot",
                BODY,
                Some(ts.clone()),
                Some(good.clone()),
                Err(Refused::BadSignature),
            ),
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some(ts.clone()),
                None,
                Err(Refused::BadSignature),
            ),
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some(ts.clone()),
                Some("not base64!".into()),
                Err(Refused::BadSignature),
            ),
            (
                SECRET,
                "POST",
                URI,
                BODY,
                None,
                Some(good.clone()),
                Err(Refused::BadSignature),
            ),
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some("soon".into()),
                Some(good.clone()),
                Err(Refused::BadSignature),
            ),
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some(old.clone()),
                Some(sign(SECRET, "POST", URI, BODY, &old)),
                Err(Refused::Stale),
            ),
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some(ahead.clone()),
                Some(sign(SECRET, "POST", URI, BODY, &ahead)),
                Err(Refused::Stale),
            ),
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some(edge.clone()),
                Some(sign(SECRET, "POST", URI, BODY, &edge)),
                Ok(()),
            ),
            // Signed with another timestamp than the one sent.
            (
                SECRET,
                "POST",
                URI,
                BODY,
                Some(minutes(-1)),
                Some(good.clone()),
                Err(Refused::BadSignature),
            ),
        ];
        for (i, (secret, method, uri, body, timestamp, signature, outcome)) in
            table.into_iter().enumerate()
        {
            assert_eq!(
                verify_v3(
                    secret,
                    method,
                    uri,
                    body,
                    timestamp.as_deref(),
                    signature.as_deref(),
                    NOW
                ),
                outcome,
                "row {i}"
            );
        }
    }

    #[test]
    fn the_uri_is_signed_with_hubspots_percent_encodings_decoded() {
        // (as received, as signed)
        let table = [
            ("https://x.example/a?b=c", "https://x.example/a?b=c"),
            (
                "https://x.example/a?t=a%3Ab%2Fc%3Fd%40e",
                "https://x.example/a?t=a:b/c?d@e",
            ),
            (
                "https://x.example/a?t=%21%24%27%28%29%2a%2C%3b",
                "https://x.example/a?t=!$'()*,;",
            ),
            (
                "https://x.example/a?t=%20%25%",
                "https://x.example/a?t=%20%25%",
            ),
        ];
        for (received, signed) in table {
            assert_eq!(decode_uri(received), signed, "{received}");
        }
        let uri = "https://x.example/api/webhooks/hubspot?from=a%3Ab";
        let ts = NOW.to_string();
        let signature = sign(SECRET, "POST", &decode_uri(uri), BODY, &ts);
        assert_eq!(
            verify_v3(SECRET, "POST", uri, BODY, Some(&ts), Some(&signature), NOW),
            Ok(())
        );
    }

    #[test]
    fn a_delivery_reads_as_events_and_a_bad_one_names_its_field() {
        let events = parse_events(
            br#"[{"eventId": 7, "subscriptionType": "deal.propertyChange", "objectId": "9001",
                  "occurredAt": 1764460800000, "propertyName": "amount", "propertyValue": "5",
                  "attemptNumber": 1, "portalId": 62515, "changeSource": "CRM"}]"#,
        )
        .unwrap();
        assert_eq!(
            events,
            [IncomingEvent {
                event_id: "7".into(),
                subscription_type: "deal.propertyChange".into(),
                object_id: "9001".into(),
                property_name: Some("amount".into()),
                occurred_at: DateTime::from_timestamp_millis(1_764_460_800_000),
                portal_id: Some(62515),
                attempt_number: Some(1),
            }]
        );
        // (body, status, code)
        let table: [(&[u8], u16, &str); 4] = [
            (b"[{", 400, "request.invalid_json"),
            (br#"{"eventId": 1}"#, 422, "request.validation"),
            (
                br#"[{"eventId": 1, "objectId": 2}]"#,
                422,
                "request.validation",
            ),
            (
                br#"[{"eventId": 1, "objectId": 2, "subscriptionType": "a\u0000"}]"#,
                422,
                "request.validation",
            ),
        ];
        for (body, status, code) in table {
            let error = parse_events(body).unwrap_err();
            assert_eq!(
                (error.status.as_u16(), error.code),
                (status, code),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
