//! The persona computed from voice samples: tone and style descriptors, sentence and word
//! statistics, common phrases and word frequency, the usual greeting and sign-off. Pure
//! arithmetic over the samples' text; samples rated below 3 ("not my voice") are left out.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Ratings below this leave a sample out of the persona.
pub const MIN_PERSONA_RATING: u8 = 3;
const TOP_WORDS: usize = 20;
const TOP_PHRASES: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PersonaStats {
    pub avg_words_per_sample: f64,
    pub avg_sentence_words: f64,
    /// Share of sentences that are questions (0–1).
    pub question_rate: f64,
    /// Share of sentences with a contraction (`I'm`, `don't`) (0–1).
    pub contraction_rate: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PhraseCount {
    pub phrase: String,
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WordCount {
    pub word: String,
    pub count: u32,
}

/// What the samples say about how the operator writes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PersonaTraits {
    /// Samples the persona was computed from.
    pub used_count: u32,
    pub tone: Vec<String>,
    pub style: Vec<String>,
    pub stats: PersonaStats,
    /// Two- and three-word phrases used at least twice, most used first.
    pub common_phrases: Vec<PhraseCount>,
    /// The most used words, common English words left out.
    pub word_frequency: Vec<WordCount>,
    /// The greeting most samples open with (`Hi`), when they open with one.
    pub greeting: Option<String>,
    /// The sign-off most samples end with (`Cheers,`), when they end with one.
    pub sign_off: Option<String>,
}

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had",
    "has", "have", "he", "her", "here", "him", "his", "how", "i", "i'd", "i'll", "i'm", "i've",
    "if", "in", "into", "is", "it", "it's", "its", "just", "me", "more", "my", "no", "not", "of",
    "on", "or", "our", "out", "over", "re", "she", "so", "some", "than", "that", "that's", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "was",
    "we", "we're", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would",
    "you", "you're", "your",
];

fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Lower-cased words (letters, digits, inner apostrophes; `’` read as `'`).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '’').replace('’', "'"))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Sentences: split after `.`, `!` or `?`, and at line breaks.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut start = 0;
        for (i, c) in line.char_indices() {
            if matches!(c, '.' | '!' | '?') {
                let end = i + c.len_utf8();
                let next = line[end..].chars().next();
                if next.is_none_or(char::is_whitespace) {
                    out.push(line[start..end].trim());
                    start = end;
                }
            }
        }
        out.push(line[start..].trim());
    }
    out.retain(|s| !words(s).is_empty());
    out
}

/// The first line when it is a greeting: at most four words, ending with `,` (or `!`).
fn greeting_of(text: &str) -> Option<String> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let short = first.split_whitespace().count() <= 4;
    (short && (first.ends_with(',') || first.ends_with('!'))).then(|| {
        first
            .split_whitespace()
            .next()
            .unwrap_or(first)
            .trim_end_matches([',', '!'])
            .to_string()
    })
}

/// The sign-off: among the last three lines, a short one (at most four words) ending with
/// `,` (`Cheers,` `Best,` `Talk soon,`).
fn sign_off_of(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .take(3)
        .find(|l| l.ends_with(',') && l.split_whitespace().count() <= 4)
        .map(|l| l.to_string())
}

fn most_common(values: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|(a, x), (b, y)| x.cmp(y).then_with(|| b.cmp(a)))
        .map(|(v, _)| v)
}

fn rounded(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The persona of `samples` (each sample's text and rating).
pub fn traits(samples: &[(&str, Option<u8>)]) -> PersonaTraits {
    let used: Vec<&str> = samples
        .iter()
        .filter(|(_, rating)| rating.is_none_or(|r| r >= MIN_PERSONA_RATING))
        .map(|(text, _)| *text)
        .collect();
    if used.is_empty() {
        return PersonaTraits::default();
    }
    let mut word_counts: HashMap<String, u32> = HashMap::new();
    let mut phrase_counts: HashMap<String, u32> = HashMap::new();
    let (mut total_words, mut sentence_count, mut questions, mut contractions, mut exclaims) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    for text in &used {
        for sentence in sentences(text) {
            let ws = words(sentence);
            sentence_count += 1;
            total_words += ws.len();
            questions += usize::from(sentence.ends_with('?'));
            exclaims += usize::from(sentence.ends_with('!'));
            contractions += usize::from(ws.iter().any(|w| w.contains('\'')));
            for w in ws
                .iter()
                .filter(|w| !is_stopword(w) && w.chars().any(char::is_alphabetic))
            {
                *word_counts.entry(w.clone()).or_default() += 1;
            }
            for n in [2, 3] {
                for window in ws.windows(n) {
                    let edges = [&window[0], &window[n - 1]];
                    if edges.iter().any(|w| is_stopword(w)) {
                        continue;
                    }
                    *phrase_counts.entry(window.join(" ")).or_default() += 1;
                }
            }
        }
    }
    let top = |counts: HashMap<String, u32>, min: u32, n: usize| {
        let mut v: Vec<(String, u32)> = counts.into_iter().filter(|(_, c)| *c >= min).collect();
        v.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
        v.truncate(n);
        v
    };
    let sentences_f = sentence_count.max(1) as f64;
    let stats = PersonaStats {
        avg_words_per_sample: rounded(total_words as f64 / used.len() as f64),
        avg_sentence_words: rounded(total_words as f64 / sentences_f),
        question_rate: rounded(questions as f64 / sentences_f),
        contraction_rate: rounded(contractions as f64 / sentences_f),
    };
    let greeting = most_common(used.iter().filter_map(|t| greeting_of(t)));
    let sign_off = most_common(used.iter().filter_map(|t| sign_off_of(t)));
    let mut tone = vec![match stats.avg_sentence_words {
        w if w < 12.0 => "concise".to_string(),
        w if w > 20.0 => "expansive".to_string(),
        _ => "measured".to_string(),
    }];
    tone.push(if stats.contraction_rate >= 0.15 {
        "conversational".into()
    } else {
        "formal".into()
    });
    if stats.question_rate >= 0.2 {
        tone.push("inquisitive".into());
    }
    if exclaims as f64 / sentences_f >= 0.1 {
        tone.push("enthusiastic".into());
    }
    let mut style = vec![format!(
        "about {} words per message, {} per sentence",
        stats.avg_words_per_sample.round(),
        stats.avg_sentence_words.round()
    )];
    if let Some(g) = &greeting {
        style.push(format!("opens with \"{g}\""));
    }
    if let Some(s) = &sign_off {
        style.push(format!("signs off with \"{s}\""));
    }
    if stats.question_rate > 0.0 {
        style.push(format!(
            "{}% of sentences are questions",
            (stats.question_rate * 100.0).round()
        ));
    }
    PersonaTraits {
        used_count: used.len() as u32,
        tone,
        style,
        stats,
        common_phrases: top(phrase_counts, 2, TOP_PHRASES)
            .into_iter()
            .map(|(phrase, count)| PhraseCount { phrase, count })
            .collect(),
        word_frequency: top(word_counts, 1, TOP_WORDS)
            .into_iter()
            .map(|(word, count)| WordCount { word, count })
            .collect(),
        greeting,
        sign_off,
    }
}
