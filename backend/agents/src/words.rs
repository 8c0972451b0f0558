//! Whole-word, case-insensitive matching of words and phrases in free text.
//!
//! The seed matched substrings, so "promise" flagged "compromise", "cro" matched
//! "micro" and "must" matched "mustard". Here a match must start and end at a word
//! boundary; a phrase's words may be separated by any run of spaces.

/// Lower-cased words of `text`, keeping apostrophes inside words (`won't`).
pub fn tokens(text: &str) -> Vec<String> {
    words(text).into_iter().map(|w| w.text).collect()
}

/// A word of a text as [`tokens`] reads it, and where it stands in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// Lower-cased, `’` read as `'`.
    pub text: String,
    /// Its byte range in the text.
    pub start: usize,
    pub end: usize,
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

/// The words of `text` ([`tokens`]), each with its place in `text`.
pub fn words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while !rest.is_empty() {
        let piece_len = rest
            .find(|c: char| !(c.is_alphanumeric() || is_apostrophe(c)))
            .unwrap_or(rest.len());
        let piece = &rest[..piece_len];
        let trimmed = piece.trim_start_matches(is_apostrophe);
        let start = offset + (piece.len() - trimmed.len());
        let trimmed = trimmed.trim_end_matches(is_apostrophe);
        if !trimmed.is_empty() {
            words.push(Word {
                text: trimmed.replace('’', "'").to_lowercase(),
                start,
                end: start + trimmed.len(),
            });
        }
        // Skip the piece and the separator after it.
        let separator = rest[piece_len..].chars().next().map_or(0, char::len_utf8);
        offset += piece_len + separator;
        rest = &rest[piece_len + separator..];
    }
    words
}

/// Where `phrase` (one or more words) first occurs in `words` as whole words: the index of
/// its first word.
pub fn position(words: &[Word], phrase: &str) -> Option<usize> {
    let wanted = tokens(phrase);
    if wanted.is_empty() {
        return None;
    }
    words.windows(wanted.len()).position(|window| {
        window
            .iter()
            .zip(&wanted)
            .all(|(word, want)| word.text == *want)
    })
}

/// Whether `phrase` (one or more words) occurs in `text` as whole words.
pub fn contains(text: &str, phrase: &str) -> bool {
    let words = tokens(text);
    let wanted = tokens(phrase);
    !wanted.is_empty() && words.windows(wanted.len()).any(|w| w == wanted.as_slice())
}

/// The phrases of `phrases` that occur in `text`, in the order given.
pub fn found<'p>(text: &str, phrases: &[&'p str]) -> Vec<&'p str> {
    let words = tokens(text);
    phrases
        .iter()
        .copied()
        .filter(|phrase| {
            let wanted = tokens(phrase);
            !wanted.is_empty() && words.windows(wanted.len()).any(|w| w == wanted.as_slice())
        })
        .collect()
}

/// Claims the seed's templates made up, and their kin: a template draft contains none of
/// them unless the input wrote it (lower-case substrings).
#[cfg(test)]
pub(crate) const INVENTED_CLAIMS: &[&str] = &[
    "following",
    "noticed",
    "impressed",
    "congrat",
    "saw ",
    "read your",
    "love",
    "admire",
    "up close",
    "keep this short",
    "similar teams",
    "we work on",
    "clear fit",
    "what worked",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_words_only() {
        let table = [
            ("We promise results", "promise", true),
            ("A fair compromise", "promise", false),
            ("Our CRO, Dana", "cro", true),
            ("micro-services", "cro", false),
            ("You must reply", "must", true),
            ("Mustard seeds", "must", false),
            ("We won't wait", "won't", true),
            ("We won’t wait", "won't", true),
            ("let's circle  back soon", "circle back", true),
            ("circle the back", "circle back", false),
            ("", "anything", false),
            ("anything", "", false),
        ];
        for (text, phrase, expected) in table {
            assert_eq!(contains(text, phrase), expected, "{text:?} / {phrase:?}");
        }
    }

    #[test]
    fn words_know_where_they_stand() {
        let text = "“Don’t” stop, VP—Sales";
        let found: Vec<(String, &str)> = words(text)
            .into_iter()
            .map(|w| (w.text, &text[w.start..w.end]))
            .collect();
        assert_eq!(
            found,
            vec![
                ("don't".to_string(), "Don’t"),
                ("stop".to_string(), "stop"),
                ("vp".to_string(), "VP"),
                ("sales".to_string(), "Sales"),
            ]
        );
        assert_eq!(tokens(text), vec!["don't", "stop", "vp", "sales"]);
        let found = words("head of field  marketing");
        assert_eq!(position(&found, "field marketing"), Some(2));
        assert_eq!(position(&found, "marketing field"), None);
        assert_eq!(position(&found, ""), None);
    }

    #[test]
    fn found_keeps_the_given_order() {
        assert_eq!(
            found("urgent: you must act", &["must", "demand", "urgent"]),
            vec!["must", "urgent"]
        );
    }
}
