//! The operator's voice profile: how drafts must read. The defaults are the seed's
//! built-in `casey_larkin` profile ("provocative-professional").

use serde::{Deserialize, Serialize};

/// How CaseyOS writes for the operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoiceProfile {
    /// The operator's name, used to sign drafts.
    pub sender_name: String,
    pub tone: String,
    pub style_notes: Vec<String>,
    /// Words and phrases a draft must not use (matched as whole words).
    pub prohibited_words: Vec<String>,
    /// Character sequences a draft must not contain (the em dash, `!!`, `???`).
    pub prohibited_punctuation: Vec<String>,
    pub use_contractions: bool,
    pub max_paragraphs: usize,
    /// Exactly one call to action per draft.
    pub single_cta: bool,
    pub include_ps: bool,
    /// Where meetings are booked, offered as the call to action when set.
    pub calendar_link: Option<String>,
    /// Longest subject line, in characters.
    pub max_subject_chars: usize,
    /// Longest body, in words.
    pub max_body_words: usize,
}

impl Default for VoiceProfile {
    fn default() -> Self {
        VoiceProfile {
            sender_name: "Casey".into(),
            tone: "provocative-professional: direct, curious, warm, never pushy".into(),
            style_notes: vec![
                "Open with an observation about them, not about us".into(),
                "Ask one sharp question".into(),
                "Short sentences; no jargon".into(),
            ],
            prohibited_words: [
                "synergy",
                "leverage",
                "circle back",
                "touch base",
                "low-hanging fruit",
                "move the needle",
                "bandwidth",
            ]
            .map(String::from)
            .to_vec(),
            prohibited_punctuation: ["—", "!!", "???"].map(String::from).to_vec(),
            use_contractions: true,
            max_paragraphs: 3,
            single_cta: true,
            include_ps: false,
            calendar_link: None,
            max_subject_chars: 60,
            max_body_words: 150,
        }
    }
}

impl VoiceProfile {
    /// The profile as instructions for a language model.
    pub fn instructions(&self) -> String {
        let mut lines = vec![
            format!("Write as {} in this tone: {}.", self.sender_name, self.tone),
            format!(
                "At most {} short paragraphs and {} words; subject at most {} characters.",
                self.max_paragraphs, self.max_body_words, self.max_subject_chars
            ),
        ];
        lines.extend(self.style_notes.iter().map(|n| format!("- {n}")));
        if self.single_cta {
            lines.push("Exactly one call to action.".into());
        }
        if self.use_contractions {
            lines.push("Use contractions.".into());
        }
        lines.extend(self.prohibitions());
        lines.join("\n")
    }

    /// The prohibited words and characters as instructions (none when nothing is
    /// prohibited).
    pub(crate) fn prohibitions(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.prohibited_words.is_empty() {
            lines.push(format!(
                "Never use these words: {}.",
                self.prohibited_words.join(", ")
            ));
        }
        if !self.prohibited_punctuation.is_empty() {
            lines.push(format!(
                "Never use these characters: {}.",
                self.prohibited_punctuation.join(" ")
            ));
        }
        lines
    }
}

/// A voice sample DraftWriter may take as an example of how the operator writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceExample {
    pub id: uuid::Uuid,
    pub content: String,
    pub rating: u8,
}

/// The operator's top-rated voice samples (rated 4 or 5), best and newest first.
#[async_trait::async_trait]
pub trait VoiceExamples: Send + Sync {
    async fn top_rated(&self, limit: usize) -> Result<Vec<VoiceExample>, String>;
}

/// No samples: runs not given any.
pub struct NoExamples;

#[async_trait::async_trait]
impl VoiceExamples for NoExamples {
    async fn top_rated(&self, _: usize) -> Result<Vec<VoiceExample>, String> {
        Ok(Vec::new())
    }
}
