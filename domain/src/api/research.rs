//! Research and voice training over HTTP.

use serde::{Deserialize, Serialize};

use crate::research::{ResearchDepth, ResearchSessionView};
use crate::voice::persona::PersonaTraits;
use crate::voice::{PersonaSummary, SampleSource, VoiceSampleView};

/// Research a question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartResearchRequest {
    /// The question (3–500 characters).
    #[cfg_attr(feature = "server", schema(min_length = 3, max_length = 500))]
    pub question: String,
    /// `standard` (default) or `deep`: narrower questions too, more sources.
    #[serde(default)]
    pub depth: Option<ResearchDepth>,
}

/// A research after a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResearchSessionResponse {
    #[serde(flatten)]
    pub session: ResearchSessionView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// A research as `GET /api/research/{id}` answers it: the research, and its report as
/// Markdown (what the export holds after its header), once there is one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResearchReadResponse {
    #[serde(flatten)]
    pub session: ResearchSessionView,
    pub report_markdown: Option<String>,
}

/// A research as the history lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResearchSummary {
    pub id: uuid::Uuid,
    pub question: String,
    pub depth: ResearchDepth,
    pub status: crate::research::ResearchStatus,
    pub requested_by: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub source_count: u32,
}

impl From<&ResearchSessionView> for ResearchSummary {
    fn from(s: &ResearchSessionView) -> Self {
        ResearchSummary {
            id: s.id,
            question: s.question.clone(),
            depth: s.depth,
            status: s.status,
            requested_by: s.requested_by.clone(),
            started_at: s.started_at,
            finished_at: s.finished_at,
            source_count: s.source_count() as u32,
        }
    }
}

/// The caller's researches, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResearchListResponse {
    pub items: Vec<ResearchSummary>,
}

/// Paste a sample of your writing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddVoiceSampleRequest {
    /// The text (100–20,000 characters).
    #[cfg_attr(feature = "server", schema(min_length = 100, max_length = 20000))]
    pub content: String,
    /// `manual` (default) or `draft` (sent emails are collected, not pasted).
    #[serde(default)]
    pub source: Option<PastedSource>,
    #[serde(default, deserialize_with = "crate::kernel::whole_opt")]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 5))]
    pub rating: Option<u8>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub feedback: Option<String>,
}

/// Where a pasted sample comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PastedSource {
    #[default]
    Manual,
    Draft,
}

impl From<PastedSource> for SampleSource {
    fn from(source: PastedSource) -> Self {
        match source {
            PastedSource::Manual => SampleSource::Manual,
            PastedSource::Draft => SampleSource::Draft,
        }
    }
}

/// Rate a sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RateVoiceSampleRequest {
    /// 1 (not my voice) to 5 (exactly my voice).
    #[serde(deserialize_with = "crate::kernel::whole")]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 5))]
    pub rating: u8,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub feedback: Option<String>,
}

/// The voice samples, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VoiceSampleListResponse {
    pub items: Vec<VoiceSampleView>,
}

/// How the operator writes, computed from the samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PersonaResponse {
    pub sample_count: u32,
    pub rated_count: u32,
    /// Samples rated 4 or 5: DraftWriter's examples.
    pub top_rated_count: u32,
    #[serde(flatten)]
    pub traits: PersonaTraits,
    /// The language model's summary, when one was written.
    pub summary: Option<PersonaSummary>,
    /// `connected` or `not_connected`: whether a summary can be written.
    pub llm: String,
}
