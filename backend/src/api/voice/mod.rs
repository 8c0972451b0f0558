//! Voice training over HTTP: the samples (emails CaseyOS sent or drafted, collected; texts
//! pasted by hand), their ratings, and the persona computed from them — with the language
//! model's summary when one is configured.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use caseyos_agents::{ChatMessage, LlmClient};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    AddVoiceSampleRequest, ErrorEnvelope, PersonaResponse, RateVoiceSampleRequest,
    VoiceSampleListResponse,
};
use caseyos_domain::kernel::Text;
use caseyos_domain::voice::persona::{traits, PersonaTraits};
use caseyos_domain::voice::{
    PersonaCommand, PersonaSummary, SampleSource, VoicePersona, VoiceSample, VoiceSampleCommand,
    VoiceSampleView, MAX_FEEDBACK_CHARS, MAX_SAMPLE_CHARS, MIN_SAMPLE_CHARS, PERSONA_ID,
    TOP_RATING,
};
use caseyos_projections::projector::RowProjector;
use caseyos_projections::voice::{self as views, VoiceSamplesProjector};
use caseyos_store::history::state_at;
use caseyos_store::now;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::http::consistency::ReadQuery;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::response::command_response;
use crate::state::AppState;

/// Samples the persona reads at most (the newest).
const PERSONA_SAMPLES: i64 = 500;
/// Samples the model's summary reads at most (the best rated, then the newest).
const SUMMARY_SAMPLES: usize = 12;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_samples, add_sample))
        .routes(routes!(delete_sample))
        .routes(routes!(rate_sample))
        .routes(routes!(get_persona))
        .routes(routes!(summarise_persona))
}

fn not_found() -> ApiError {
    ApiError::not_found("voice.not_found", "voice sample not found")
}

const SAMPLE_EXAMPLE: &str = "Hi Dana,\n\nSaw Northwind doubled its SDR team this quarter. \
    Curious how you keep pipeline reviews honest as it grows?\n\nTalk soon,\nCasey";

/// The voice samples, newest first.
#[utoipa::path(
    get,
    path = "/api/voice/samples",
    tag = "voice",
    params(ReadQuery),
    responses(
        (status = 200, description = "The samples", body = VoiceSampleListResponse, example = json!({
            "items": [{"id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21", "content": SAMPLE_EXAMPLE,
                "subject": "Pipeline reviews at Northwind", "source": "sent_email", "rating": 5,
                "feedback": "exactly how I write", "added_by": "voice-samples",
                "added_at": "2026-12-01T09:00:00Z", "rated_at": "2026-12-01T09:10:00Z",
                "origin": "execution:0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b0c", "removed": false,
                "version": 2}]
        })),
    ),
    security(("bearer" = []))
)]
async fn list_samples(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<VoiceSampleListResponse>, ApiError> {
    read.settle(&state, &[VoiceSamplesProjector::NAME]).await?;
    Ok(Json(VoiceSampleListResponse {
        items: views::list(&state.pool, PERSONA_SAMPLES).await?,
    }))
}

/// Paste a sample of your writing (at least 100 characters). Emails CaseyOS sends or
/// drafts for approved moves are collected on their own.
#[utoipa::path(
    post,
    path = "/api/voice/samples",
    tag = "voice",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = AddVoiceSampleRequest, example = json!({
        "content": SAMPLE_EXAMPLE, "source": "manual", "rating": 5})),
    responses(
        (status = 201, description = "Added", body = VoiceSampleView, example = json!({"id": "0193a0c4-3f4a-7b5c-8d6e-7f8a9b0c1d2e", "content": SAMPLE_EXAMPLE,
            "subject": null, "source": "manual", "rating": 5, "feedback": null, "added_by": "casey",
            "added_at": "2026-12-01T09:00:00Z", "rated_at": "2026-12-01T09:00:00Z", "origin": null,
            "removed": false, "version": 1})),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot add samples", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: content shorter than 100 or longer than 20,000 characters, a rating outside 1–5, or feedback over 2,000 characters", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn add_sample(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<AddVoiceSampleRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let content = Text::parse(&request.content, MAX_SAMPLE_CHARS)
        .map_err(|m| ApiError::field("content", m))?;
    if request.content.chars().count() < MIN_SAMPLE_CHARS {
        return Err(ApiError::field(
            "content",
            format!("must be at least {MIN_SAMPLE_CHARS} characters"),
        ));
    }
    let source = SampleSource::from(request.source.unwrap_or_default());
    let feedback = feedback(request.feedback.as_deref())?;
    // The same text pasted again is the same sample.
    let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, content.as_str().as_bytes());
    let add = VoiceSampleCommand::Add {
        id,
        content: content.into_string(),
        subject: None,
        source,
        rating: request.rating,
        feedback,
        origin: None,
        by: ctx.principal.actor(),
        at: now(),
    };
    let answer = ctx
        .execute_once(&state.pool, &request, async |meta| {
            Ok(state.bus.execute::<VoiceSample>(id, add, meta).await?)
        })
        .await?;
    Ok(command_response(
        StatusCode::CREATED,
        answer.replayed,
        None,
        answer.view,
    ))
}

fn feedback(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    Ok(Text::parse_optional(raw, MAX_FEEDBACK_CHARS)
        .map_err(|m| ApiError::field("feedback", m))?
        .map(Text::into_string))
}

/// Rate a sample 1–5 (with feedback): samples rated 4 or 5 are DraftWriter's examples;
/// those rated 1 or 2 are left out of the persona.
#[utoipa::path(
    put,
    path = "/api/voice/samples/{id}/rating",
    tag = "voice",
    params(("id" = Uuid, Path, description = "The sample's id")),
    request_body(content = RateVoiceSampleRequest, example = json!({"rating": 4, "feedback": "a little long"})),
    responses(
        (status = 200, description = "The sample", body = VoiceSampleView, example = json!({
            "id": "0193a0c4-3f4a-7b5c-8d6e-7f8a9b0c1d2e", "content": SAMPLE_EXAMPLE,
            "subject": null, "source": "manual", "rating": 4, "feedback": "a little long",
            "added_by": "casey", "added_at": "2026-12-01T09:00:00Z",
            "rated_at": "2026-12-01T09:10:00Z", "origin": null, "removed": false, "version": 2})),
        (status = 400, description = "Not JSON, or not a sample id", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot rate samples", body = ErrorEnvelope),
        (status = 404, description = "No such sample (`voice.not_found`)", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: a rating outside 1–5 or feedback over 2,000 characters", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn rate_sample(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RateVoiceSampleRequest>,
) -> Result<Json<VoiceSampleView>, ApiError> {
    ctx.principal.require(Role::Operator)?;
    if !(1..=5).contains(&request.rating) {
        return Err(ApiError::field(
            "rating",
            "must be a whole number from 1 to 5",
        ));
    }
    let rate = VoiceSampleCommand::Rate {
        rating: request.rating,
        feedback: feedback(request.feedback.as_deref())?,
        by: ctx.principal.actor(),
        at: now(),
    };
    let answer = ctx
        .execute_once(&state.pool, &request, async |meta| {
            Ok(state.bus.execute::<VoiceSample>(id, rate, meta).await?)
        })
        .await?;
    Ok(Json(answer.view))
}

/// Remove a sample (its events stay in the audit history).
#[utoipa::path(
    delete,
    path = "/api/voice/samples/{id}",
    tag = "voice",
    params(("id" = Uuid, Path, description = "The sample's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Not a sample id", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot remove samples", body = ErrorEnvelope),
        (status = 404, description = "No such sample (`voice.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn delete_sample(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let remove = VoiceSampleCommand::Remove {
        by: ctx.principal.actor(),
        at: now(),
    };
    match state
        .bus
        .execute::<VoiceSample>(id, remove, &ctx.meta)
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(caseyos_store::CommandError::Rejected(_)) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}

/// The persona as it stands: what the samples say, and the last summary.
async fn persona(state: &AppState) -> Result<(PersonaResponse, Vec<VoiceSampleView>), ApiError> {
    let samples = views::list(&state.pool, PERSONA_SAMPLES).await?;
    let texts: Vec<(&str, Option<u8>)> = samples
        .iter()
        .map(|s| (s.content.as_str(), s.rating))
        .collect();
    let traits: PersonaTraits = traits(&texts);
    let summary: VoicePersona = state_at(&state.pool, &PERSONA_ID.to_string(), i64::MAX).await?;
    let count =
        |keep: fn(&VoiceSampleView) -> bool| samples.iter().filter(|s| keep(s)).count() as u32;
    let response = PersonaResponse {
        sample_count: samples.len() as u32,
        rated_count: count(|s| s.rating.is_some()),
        top_rated_count: count(|s| s.rating.is_some_and(|r| r >= TOP_RATING)),
        traits,
        summary: summary.into_view(),
        llm: if state.config.llm().is_some() {
            "connected".into()
        } else {
            "not_connected".into()
        },
    };
    Ok((response, samples))
}

/// How you write, computed from the samples (those rated 1 or 2 left out): tone and style,
/// sentence statistics, common phrases, word frequency, your usual greeting and sign-off;
/// and the language model's last summary of it, when one was written.
#[utoipa::path(
    get,
    path = "/api/voice/persona",
    tag = "voice",
    params(ReadQuery),
    responses(
        (status = 200, description = "The persona", body = PersonaResponse,
         example = json!({"sample_count": 3, "rated_count": 2, "top_rated_count": 2,
            "used_count": 3, "tone": ["concise", "conversational", "inquisitive"],
            "style": ["about 38 words per message, 9 per sentence", "opens with \"Hi\"", "signs off with \"Talk soon,\""],
            "stats": {"avg_words_per_sample": 38.0, "avg_sentence_words": 8.67, "question_rate": 0.22, "contraction_rate": 0.33},
            "common_phrases": [{"phrase": "pipeline reviews", "count": 2}],
            "word_frequency": [{"word": "casey", "count": 3}, {"word": "pipeline", "count": 2}],
            "greeting": "Hi", "sign_off": "Talk soon,", "summary": null, "llm": "not_connected"})),
    ),
    security(("bearer" = []))
)]
async fn get_persona(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<PersonaResponse>, ApiError> {
    read.settle(&state, &[VoiceSamplesProjector::NAME]).await?;
    Ok(Json(persona(&state).await?.0))
}

/// Ask the language model to summarise the persona from the best-rated samples and the
/// computed traits; the summary is recorded and shown with the persona.
#[utoipa::path(
    post,
    path = "/api/voice/persona/summary",
    tag = "voice",
    responses(
        (status = 200, description = "The persona with its new summary", body = PersonaResponse, example = json!({
            "sample_count": 1, "rated_count": 1, "top_rated_count": 1, "used_count": 1,
            "tone": ["concise", "conversational", "inquisitive"],
            "style": ["about 24 words per message, 6 per sentence", "opens with \"Hi\"", "signs off with \"Talk soon,\""],
            "stats": {"avg_words_per_sample": 24.0, "avg_sentence_words": 6.0, "question_rate": 0.25, "contraction_rate": 0.0},
            "common_phrases": [], "word_frequency": [{"word": "northwind", "count": 1}],
            "greeting": "Hi", "sign_off": "Talk soon,",
            "summary": {"text": "- Opens with the reader's first name\n- One sharp question", "model": "gpt-4o-mini",
                "written_at": "2026-12-01T09:20:00Z", "sample_count": 1},
            "llm": "connected"})),
        (status = 403, description = "Viewers cannot write the summary", body = ErrorEnvelope),
        (status = 409, description = "`llm.not_connected`: no language model is configured; `voice.no_samples`: nothing to summarise yet", body = ErrorEnvelope),
        (status = 502, description = "The language model failed (`llm.*`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn summarise_persona(
    State(state): State<AppState>,
    ctx: CommandContext,
) -> Result<Json<PersonaResponse>, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let Some(config) = state.config.llm() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "llm.not_connected",
            "no language model is configured (llm_base_url): the persona's summary needs one",
        ));
    };
    let (mut response, mut samples) = persona(&state).await?;
    samples.retain(|s| s.rating.is_none_or(|r| r >= 3));
    if samples.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "voice.no_samples",
            "no voice samples to summarise yet",
        ));
    }
    samples.sort_by_key(|s| std::cmp::Reverse((s.rating.unwrap_or(0), s.added_at)));
    samples.truncate(SUMMARY_SAMPLES);
    let mut prompt = format!(
        "Computed from the samples: tone {:?}; style {:?}; common phrases {:?}.\n\nSamples:",
        response.traits.tone,
        response.traits.style,
        response
            .traits
            .common_phrases
            .iter()
            .map(|p| p.phrase.as_str())
            .collect::<Vec<_>>()
    );
    for sample in &samples {
        prompt.push_str(&format!("\n---\n{}", sample.content.trim()));
    }
    let client = LlmClient::new(config).map_err(|e| ApiError::internal(e.to_string()))?;
    let messages = [
        ChatMessage::system(
            "Describe how this person writes, for someone who must write in their voice: \
             tone, rhythm, openings and sign-offs, words they favour and avoid. Five short \
             bullet points, nothing else.",
        ),
        ChatMessage::user(&prompt),
    ];
    let completion = client
        .chat(&messages, 400)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.code(), e.to_string()))?;
    let summary = PersonaSummary {
        text: completion.text.trim().to_string(),
        model: completion.usage.model,
        written_at: now(),
        sample_count: samples.len() as u32,
    };
    let command = PersonaCommand::Summarise {
        summary,
        by: ctx.principal.actor(),
    };
    let committed = state
        .bus
        .execute::<VoicePersona>(PERSONA_ID, command, &ctx.meta)
        .await?;
    response.summary = committed.state.into_view();
    Ok(Json(response))
}
