//! A message's length in tokens, for the context window: the model family's own tokenizer
//! where one is built in — OpenAI's byte-pair encodings through tiktoken-rs (`o200k_base`
//! for gpt-4o, gpt-4.1, gpt-5 and the o-series, `cl100k_base` for gpt-4 and gpt-3.5, …) —,
//! else the documented estimate (characters / 4, rounded up). The text is counted as
//! ordinary text (a special token's spelling is plain text here), without the few tokens a
//! provider adds per message for its role.

use caseyos_domain::chat::estimate_tokens;
use tiktoken_rs::tokenizer::{get_tokenizer, Tokenizer};

/// Tokens of `text` for `model`, and how they were counted: `tiktoken:<encoding>`, or
/// `estimate` for a model family without a tokenizer here.
pub fn count(model: &str, text: &str) -> (u32, String) {
    match encoding(model) {
        Some((tokenizer, name)) => match tiktoken_rs::bpe_for_tokenizer(tokenizer) {
            Ok(bpe) => {
                let n = bpe.encode_ordinary(text).len();
                (
                    u32::try_from(n).unwrap_or(u32::MAX),
                    format!("tiktoken:{name}"),
                )
            }
            Err(e) => {
                tracing::warn!(model, error = %e, "tokenizer failed to load: estimating");
                (estimate_tokens(text), "estimate".into())
            }
        },
        None => (estimate_tokens(text), "estimate".into()),
    }
}

/// Loads `model`'s tokenizer now (it is read once per process, a fraction of a second), so
/// that the first message is not the one to wait for it.
pub fn warm(model: &str) {
    if encoding(model).is_some() {
        count(model, "");
    }
}

/// The encoding of `model` (an OpenAI model name, a fine-tune's `ft:` name included).
fn encoding(model: &str) -> Option<(Tokenizer, &'static str)> {
    let tokenizer = get_tokenizer(model.trim())?;
    let name = match tokenizer {
        Tokenizer::O200kHarmony => "o200k_harmony",
        Tokenizer::O200kBase => "o200k_base",
        Tokenizer::Cl100kBase => "cl100k_base",
        Tokenizer::P50kBase => "p50k_base",
        Tokenizer::P50kEdit => "p50k_edit",
        Tokenizer::R50kBase => "r50k_base",
        Tokenizer::Gpt2 => "gpt2",
    };
    Some((tokenizer, name))
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn openai_models_are_counted_by_their_own_encoding() {
        // Counts from OpenAI's tokenizer (tiktoken) for these texts.
        let (n, method) = count("gpt-4o-mini", "hello world");
        assert_eq!((n, method.as_str()), (2, "tiktoken:o200k_base"));
        let (n, method) = count("gpt-4", "hello world");
        assert_eq!((n, method.as_str()), (2, "tiktoken:cl100k_base"));
        // A long word the estimate would call 8 tokens is a few.
        let (n, _) = count("gpt-4o", "internationalization internationalization");
        assert!(n < 8, "{n}");
        assert_eq!(count("gpt-4o", "").0, 0);
        // Special tokens' spellings are text.
        let (n, _) = count("gpt-4o", "<|endoftext|>");
        assert!(n > 1, "{n}");
    }

    #[test]
    fn other_families_are_estimated() {
        for model in ["llama-3.1-70b", "claude-sonnet-4", "mistral-large"] {
            assert_eq!(count(model, "abcde"), (2, "estimate".into()), "{model}");
        }
    }
}
