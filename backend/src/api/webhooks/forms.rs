//! `POST /api/webhooks/forms/{form}`: a form submission (a website's demo request, a
//! pricing form), signed with the form's own secret, recorded as a `form` signal and
//! answered at once; the signals reactor turns it into a follow-up move.
//!
//! **The signature.** `X-CaseyOS-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is
//! the lower- or upper-case hex of HMAC-SHA256, keyed with the form's secret
//! (`form_secrets.<form>`), over `"<t>.<body>"` (the timestamp as sent, a full stop, the
//! body's bytes as sent). `t` must be within 5 minutes of the server's clock, either way.
//! Several `v1=` entries may be sent (a secret being rotated); one must match. The
//! comparison is constant-time (`Mac::verify_slice`). A form with no configured secret, a
//! missing, malformed or wrong signature, and a stale timestamp are all answered alike —
//! 401 `webhook.bad_signature` with the same message — so a caller learns nothing about
//! which forms exist.
//!
//! **The body** is a JSON object of the form's fields (`email` is what the follow-up needs;
//! a submission without it is recorded and skipped with `missing_email`). Its dedup key is
//! the form's name and the SHA-256 of `"<t>.<body>"`: the same signed delivery sent again is
//! recorded once.

use axum::extract::{Path, Request, State};
use axum::Json;
use caseyos_domain::api::{ErrorEnvelope, FormSubmissionResponse};
use caseyos_domain::kernel::{Actor, EmailAddress};
use caseyos_domain::signals::processors::FormPayload;
use caseyos_domain::signals::{SignalEntities, SignalKind, SignalSource};
use caseyos_store::{now, CommandMeta};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::signals::{record, NewSignal};
use crate::config::valid_form_name;
use crate::http::error::ApiError;
use crate::http::extract::{body_bytes, json_content_type, parse_json};
use crate::state::AppState;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-caseyos-signature";
/// How far `t` may be from now, either way: 5 minutes.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_form_submission))
}

/// The one answer to anything that is not a submission signed for a configured form.
fn refused() -> ApiError {
    ApiError::unauthorized(
        "webhook.bad_signature",
        "the X-CaseyOS-Signature is missing, stale or does not match this form and body",
    )
}

/// Checks `X-CaseyOS-Signature` (see the module's documentation) against `secret`, the
/// body and the server's clock `now` (unix seconds).
pub fn verify(secret: &str, body: &[u8], header: Option<&str>, now: i64) -> bool {
    let Some(header) = header else {
        return false;
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => timestamp = Some(t),
            Some(("v1", v1)) => signatures.push(v1),
            _ => {}
        }
    }
    let Some(t) = timestamp.filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
    else {
        return false;
    };
    let Ok(sent) = t.parse::<i64>() else {
        return false;
    };
    if now.abs_diff(sent) > MAX_SKEW_SECS.unsigned_abs() {
        return false;
    }
    signatures.into_iter().any(|v1| {
        let Ok(expected) = hex::decode(v1) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(t.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// The timestamp a verified header carries.
fn timestamp_of(header: &str) -> &str {
    header
        .split(',')
        .find_map(|p| p.trim().strip_prefix("t="))
        .unwrap_or_default()
}

/// Whether any key or string in `value` holds U+0000 (which PostgreSQL cannot store).
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// Receive a form submission. No bearer token or session: the request is authenticated by
/// `X-CaseyOS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(form secret, "<t>.<body>")>`,
/// at most 5 minutes old (or ahead). It is recorded as a `form` signal (once per signed
/// delivery) and turned into a follow-up move in the background.
#[utoipa::path(
    post,
    path = "/api/webhooks/forms/{form}",
    tag = "webhooks",
    params(
        ("form" = String, Path, description = "The form's name, as configured in `form_secrets`"),
        ("X-CaseyOS-Signature" = Option<String>, Header,
         description = "`t=<unix seconds>,v1=<hex>`: HMAC-SHA256 keyed with the form's secret \
                        over `<t>.<body>`; required, and `t` at most 5 minutes from the \
                        server's clock"),
    ),
    request_body(
        content = std::collections::HashMap<String, serde_json::Value>,
        description = "The submission: a JSON object of the form's fields (`email` is what the \
                       follow-up needs; `name` or `first_name`/`last_name` name the person; \
                       `revenue_potential`, a number 0–1, sizes the move)",
        example = json!({"email": "dana@acme.io", "name": "Dana Lee", "company": "Acme",
                         "message": "We'd like a demo next week"})
    ),
    responses(
        (status = 200, description = "Recorded (or recognized as this delivery again); processed in the background",
         body = FormSubmissionResponse,
         example = json!({"signal_id": "6b1f3c2e-8b47-5d19-9e05-7c3b2a61f0d8", "duplicate": false})),
        (status = 401, description = "`webhook.bad_signature`: the form has no configured secret, \
            or the signature is missing, malformed, wrong or more than 5 minutes old or ahead \
            (all answered alike)", body = ErrorEnvelope),
        (status = 422, description = "Signed, but the body is not a JSON object, holds U+0000, or \
            is larger than 64 KiB (`request.validation`)", body = ErrorEnvelope),
    )
)]
async fn receive_form_submission(
    State(state): State<AppState>,
    Path(form): Path<String>,
    request: Request,
) -> Result<Json<FormSubmissionResponse>, ApiError> {
    let secret = valid_form_name(&form)
        .then(|| state.config.form_secret(&form))
        .flatten()
        .map(str::to_string);
    let (header, media_type) = {
        let headers = request.headers();
        (
            headers
                .get(SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            json_content_type(headers),
        )
    };
    let body = body_bytes(request, &state).await?;
    let Some(secret) = secret else {
        return Err(refused());
    };
    if !verify(&secret, &body, header.as_deref(), Utc::now().timestamp()) {
        return Err(refused());
    }
    media_type?;
    let fields: Value = parse_json(&body)?;
    let Value::Object(fields) = fields else {
        return Err(ApiError::field(
            "body",
            "must be a JSON object of the form's fields",
        ));
    };
    if holds_nul(&Value::Object(fields.clone())) {
        return Err(ApiError::field("body", "must not hold U+0000"));
    }
    let header = header.unwrap_or_default();
    let mut digest = Sha256::new();
    digest.update(timestamp_of(&header).as_bytes());
    digest.update(b".");
    digest.update(&body);
    let dedup_key = format!("{form}|{}", hex::encode(digest.finalize()));
    let email = email_of(&fields);
    let payload = serde_json::to_value(FormPayload {
        form: form.clone(),
        fields,
    })
    .map_err(ApiError::internal)?;
    let signal = NewSignal {
        source: SignalSource::Form,
        dedup_key,
        kind: SignalKind::FormSubmitted,
        payload,
        entities: SignalEntities {
            contact_email: email,
            ..SignalEntities::default()
        },
        occurred_at: now(),
        by: Actor::system(format!("form:{form}")),
    };
    let recorded = record(&state.bus, signal, &CommandMeta::system("form_webhook")).await?;
    let signal_id = recorded
        .view()
        .map(|s| s.id)
        .ok_or_else(|| ApiError::internal("a recorded signal has no state"))?;
    tracing::info!(signal.id = %signal_id, form = %form, duplicate = recorded.duplicate, "form submission recorded");
    Ok(Json(FormSubmissionResponse {
        signal_id,
        duplicate: recorded.duplicate,
    }))
}

/// The submitter's address, when the form has a valid `email` field.
fn email_of(fields: &Map<String, Value>) -> Option<EmailAddress> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("email"))
        .and_then(|(_, v)| v.as_str())
        .and_then(|e| EmailAddress::parse(e).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "form-secret-0123456789";
    const BODY: &[u8] = br#"{"email":"dana@acme.io"}"#;
    const NOW: i64 = 1_764_460_800;

    fn sign(secret: &str, t: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_signature_verifies_only_for_its_secret_body_and_five_minutes() {
        let t = NOW.to_string();
        let good = format!("t={t},v1={}", sign(SECRET, &t, BODY));
        let at = |secs: i64| (NOW + secs).to_string();
        let signed_at = |secs: i64| format!("t={},v1={}", at(secs), sign(SECRET, &at(secs), BODY));
        // (secret, body, header, verifies)
        let table: Vec<(&str, &[u8], Option<String>, bool)> = vec![
            (SECRET, BODY, Some(good.clone()), true),
            (
                SECRET,
                BODY,
                Some(
                    good.to_uppercase()
                        .replace("T=", "t=")
                        .replace("V1=", "v1="),
                ),
                true,
            ),
            (
                SECRET,
                br#"{"email":"eve@evil.io"}"#,
                Some(good.clone()),
                false,
            ),
            ("another-secret-0123456789", BODY, Some(good.clone()), false),
            (SECRET, BODY, Some(signed_at(-300)), true),
            (SECRET, BODY, Some(signed_at(-301)), false),
            (SECRET, BODY, Some(signed_at(301)), false),
            (
                SECRET,
                BODY,
                Some(format!("t={t},v1=00,v1={}", sign(SECRET, &t, BODY))),
                true,
            ),
            (
                SECRET,
                BODY,
                Some(format!("v1={}", sign(SECRET, &t, BODY))),
                false,
            ),
            (
                SECRET,
                BODY,
                Some(format!("t=-5,v1={}", sign(SECRET, "-5", BODY))),
                false,
            ),
            (SECRET, BODY, Some(format!("t={t},v1=zz")), false),
            (SECRET, BODY, Some(String::new()), false),
            (SECRET, BODY, None, false),
        ];
        for (secret, body, header, verifies) in table {
            assert_eq!(
                verify(secret, body, header.as_deref(), NOW),
                verifies,
                "{header:?}"
            );
        }
    }
}
