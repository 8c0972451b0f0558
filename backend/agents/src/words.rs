//! Whole-word, case-insensitive matching of words and phrases in free text.
//!
//! The seed matched substrings, so "promise" flagged "compromise", "cro" matched
//! "micro" and "must" matched "mustard". Here a match must start and end at a word
//! boundary; a phrase's words may be separated by any run of spaces.

/// Lower-cased words of `text`, keeping apostrophes inside words (`won't`).
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '’').replace('’', "'"))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
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
    fn found_keeps_the_given_order() {
        assert_eq!(
            found("urgent: you must act", &["must", "demand", "urgent"]),
            vec!["must", "urgent"]
        );
    }
}
