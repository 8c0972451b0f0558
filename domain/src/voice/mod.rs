//! Voice training: samples of how the operator writes (emails CaseyOS sent or drafted for
//! them, collected automatically; drafts and texts pasted by hand), rated 1–5 with feedback,
//! and the persona computed from them (`persona`). DraftWriter takes the top-rated samples
//! as its examples.
//!
//! A sample is the `voice_sample` aggregate; the persona's written summary (by the language
//! model, when one is configured) is the `voice_persona` aggregate, one per installation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::Actor;

pub mod persona;
#[cfg(test)]
mod tests;

pub const EVENT_VERSION: &str = "1";
/// A pasted sample's shortest and any sample's longest content, in characters.
pub const MIN_SAMPLE_CHARS: usize = 100;
pub const MAX_SAMPLE_CHARS: usize = 20_000;
pub const MAX_FEEDBACK_CHARS: usize = 2_000;
pub const MAX_SUBJECT_CHARS: usize = 300;
/// A sample rated this or more is top-rated: DraftWriter's examples.
pub const TOP_RATING: u8 = 4;

const COLLECTED_NAMESPACE: Uuid = Uuid::from_u128(0x7c2e_55b1_0a9d_4f63_8e17_b4d0_c6a2_39f8);

/// The id of the sample collected from an execution (one per execution).
pub fn collected_sample_id(execution: Uuid) -> Uuid {
    Uuid::new_v5(&COLLECTED_NAMESPACE, execution.as_bytes())
}

/// The id of the one persona summary.
pub const PERSONA_ID: Uuid = Uuid::from_u128(0x0b1e_7d3a_91c4_4e28_a5f6_23d8_e90c_7b41);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SampleSource {
    /// An email CaseyOS sent (collected automatically).
    SentEmail,
    /// A draft: one CaseyOS saved to Gmail for an approved move (collected), or pasted.
    Draft,
    /// Text pasted by hand.
    Manual,
}

impl SampleSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            SampleSource::SentEmail => "sent_email",
            SampleSource::Draft => "draft",
            SampleSource::Manual => "manual",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VoiceSampleView {
    pub id: Uuid,
    pub content: String,
    pub subject: Option<String>,
    pub source: SampleSource,
    /// 1–5; none until someone rates it.
    pub rating: Option<u8>,
    pub feedback: Option<String>,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
    pub rated_at: Option<DateTime<Utc>>,
    /// What it was collected from (`execution:<id>`), for collected samples.
    pub origin: Option<String>,
    pub removed: bool,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VoiceSampleCommand {
    /// Adds a sample (repeating the same content changes nothing).
    Add {
        id: Uuid,
        content: String,
        subject: Option<String>,
        source: SampleSource,
        rating: Option<u8>,
        feedback: Option<String>,
        origin: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Rates it 1–5 with optional feedback (the same rating and feedback again changes
    /// nothing).
    Rate {
        rating: u8,
        feedback: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
    Remove {
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum VoiceSampleEvent {
    VoiceSampleAdded(VoiceSampleAdded),
    VoiceSampleRated(VoiceSampleRated),
    VoiceSampleRemoved(VoiceSampleRemoved),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoiceSampleAdded {
    pub id: Uuid,
    pub content: String,
    pub subject: Option<String>,
    pub source: SampleSource,
    pub rating: Option<u8>,
    pub feedback: Option<String>,
    pub origin: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoiceSampleRated {
    pub rating: u8,
    pub feedback: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoiceSampleRemoved {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VoiceError {
    #[error("no such voice sample")]
    NotFound,
    #[error("a rating is a whole number from 1 to 5")]
    BadRating,
    #[error("this sample id holds other content")]
    OtherContent,
}

impl DomainError for VoiceError {
    fn code(&self) -> &'static str {
        match self {
            VoiceError::NotFound => "voice.not_found",
            VoiceError::BadRating => "voice.bad_rating",
            VoiceError::OtherContent => "voice.other_content",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            VoiceError::NotFound => RejectionKind::NotFound,
            VoiceError::BadRating => RejectionKind::Invalid {
                field: "rating",
                message: "must be a whole number from 1 to 5".into(),
            },
            VoiceError::OtherContent => RejectionKind::Conflict,
        }
    }
}

/// One voice sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VoiceSample {
    pub sample: Option<VoiceSampleView>,
}

impl Aggregate for VoiceSample {
    const TYPE: &'static str = "voice_sample";
    const EVENT_VERSION: &'static str = EVENT_VERSION;
    type Command = VoiceSampleCommand;
    type Event = VoiceSampleEvent;
    type Error = VoiceError;
    type View = VoiceSampleView;

    fn command_name(command: &VoiceSampleCommand) -> &'static str {
        match command {
            VoiceSampleCommand::Add { .. } => "add",
            VoiceSampleCommand::Rate { .. } => "rate",
            VoiceSampleCommand::Remove { .. } => "remove",
        }
    }

    fn event_name(event: &VoiceSampleEvent) -> &'static str {
        match event {
            VoiceSampleEvent::VoiceSampleAdded(_) => "VoiceSampleAdded",
            VoiceSampleEvent::VoiceSampleRated(_) => "VoiceSampleRated",
            VoiceSampleEvent::VoiceSampleRemoved(_) => "VoiceSampleRemoved",
        }
    }

    fn view(&self) -> Option<&VoiceSampleView> {
        self.sample.as_ref()
    }

    fn into_view(self) -> Option<VoiceSampleView> {
        self.sample
    }

    fn decide(&self, command: VoiceSampleCommand) -> Result<Vec<VoiceSampleEvent>, VoiceError> {
        let rating_ok = |r: u8| (1..=5).contains(&r);
        match command {
            VoiceSampleCommand::Add {
                id,
                content,
                subject,
                source,
                rating,
                feedback,
                origin,
                by,
                at,
            } => {
                if rating.is_some_and(|r| !rating_ok(r)) {
                    return Err(VoiceError::BadRating);
                }
                match &self.sample {
                    Some(s) if s.content == content => Ok(Vec::new()),
                    Some(_) => Err(VoiceError::OtherContent),
                    None => Ok(vec![VoiceSampleEvent::VoiceSampleAdded(VoiceSampleAdded {
                        id,
                        content,
                        subject,
                        source,
                        rating,
                        feedback,
                        origin,
                        by,
                        at,
                    })]),
                }
            }
            VoiceSampleCommand::Rate {
                rating,
                feedback,
                by,
                at,
            } => {
                let sample = self.live()?;
                if !rating_ok(rating) {
                    return Err(VoiceError::BadRating);
                }
                if sample.rating == Some(rating) && sample.feedback == feedback {
                    return Ok(Vec::new());
                }
                Ok(vec![VoiceSampleEvent::VoiceSampleRated(VoiceSampleRated {
                    rating,
                    feedback,
                    by,
                    at,
                })])
            }
            VoiceSampleCommand::Remove { by, at } => match &self.sample {
                None => Err(VoiceError::NotFound),
                Some(s) if s.removed => Ok(Vec::new()),
                Some(_) => Ok(vec![VoiceSampleEvent::VoiceSampleRemoved(
                    VoiceSampleRemoved { by, at },
                )]),
            },
        }
    }

    fn apply(&mut self, event: VoiceSampleEvent) {
        match event {
            VoiceSampleEvent::VoiceSampleAdded(e) => {
                self.sample = Some(VoiceSampleView {
                    id: e.id,
                    content: e.content,
                    subject: e.subject,
                    source: e.source,
                    rated_at: e.rating.map(|_| e.at),
                    rating: e.rating,
                    feedback: e.feedback,
                    added_by: e.by.id,
                    added_at: e.at,
                    origin: e.origin,
                    removed: false,
                    version: 1,
                });
            }
            VoiceSampleEvent::VoiceSampleRated(e) => {
                if let Some(s) = self.sample.as_mut() {
                    s.rating = Some(e.rating);
                    s.feedback = e.feedback;
                    s.rated_at = Some(e.at);
                    s.version += 1;
                }
            }
            VoiceSampleEvent::VoiceSampleRemoved(_) => {
                if let Some(s) = self.sample.as_mut() {
                    s.removed = true;
                    s.version += 1;
                }
            }
        }
    }
}

impl VoiceSample {
    fn live(&self) -> Result<&VoiceSampleView, VoiceError> {
        match &self.sample {
            Some(s) if !s.removed => Ok(s),
            _ => Err(VoiceError::NotFound),
        }
    }
}

/// The persona's summary as the language model wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PersonaSummary {
    pub text: String,
    pub model: Option<String>,
    pub written_at: DateTime<Utc>,
    /// How many samples it was written from.
    pub sample_count: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PersonaCommand {
    Summarise { summary: PersonaSummary, by: Actor },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PersonaEvent {
    PersonaSummarised { summary: PersonaSummary, by: Actor },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PersonaError {
    #[error("a summary is not empty")]
    Empty,
}

impl DomainError for PersonaError {
    fn code(&self) -> &'static str {
        "voice.empty_summary"
    }

    fn kind(&self) -> RejectionKind {
        RejectionKind::Invalid {
            field: "text",
            message: "must not be empty".into(),
        }
    }
}

/// The persona's latest written summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VoicePersona {
    pub summary: Option<PersonaSummary>,
}

impl Aggregate for VoicePersona {
    const TYPE: &'static str = "voice_persona";
    const EVENT_VERSION: &'static str = EVENT_VERSION;
    type Command = PersonaCommand;
    type Event = PersonaEvent;
    type Error = PersonaError;
    type View = PersonaSummary;

    fn command_name(_: &PersonaCommand) -> &'static str {
        "summarise"
    }

    fn event_name(_: &PersonaEvent) -> &'static str {
        "PersonaSummarised"
    }

    fn view(&self) -> Option<&PersonaSummary> {
        self.summary.as_ref()
    }

    fn into_view(self) -> Option<PersonaSummary> {
        self.summary
    }

    fn decide(&self, command: PersonaCommand) -> Result<Vec<PersonaEvent>, PersonaError> {
        let PersonaCommand::Summarise { summary, by } = command;
        if summary.text.trim().is_empty() {
            return Err(PersonaError::Empty);
        }
        if self
            .summary
            .as_ref()
            .is_some_and(|s| s.text == summary.text && s.sample_count == summary.sample_count)
        {
            return Ok(Vec::new());
        }
        Ok(vec![PersonaEvent::PersonaSummarised { summary, by }])
    }

    fn apply(&mut self, event: PersonaEvent) {
        let PersonaEvent::PersonaSummarised { summary, .. } = event;
        self.summary = Some(summary);
    }
}
