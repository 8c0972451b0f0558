//! Phone numbers to E.164 (`+` country code and subscriber number, at most 15 digits).
//!
//! What it accepts: digits with the usual separators (spaces, dashes, dots, slashes,
//! parentheses), a leading `+` or the `00` international prefix, a trailing extension
//! (`ext 12`, `x12`, `#12`; reported, not part of the number) and the `(0)` trunk hint of
//! European numbers (`+44 (0)20 …`). A number without a country code gets the default one
//! when it has exactly ten national digits, or is the default code followed by them
//! (`1 415 555 0100`). Anything else is a [`PhoneProblem`] with a stable code.

use serde::{Deserialize, Serialize};

/// The country calling code numbers without one get by default (North America). A default:
/// callers with contacts elsewhere pass their own.
pub const DEFAULT_COUNTRY_CALLING_CODE: &str = "1";
/// Digits of a national number without a country code that the default code completes.
pub const NATIONAL_DIGITS: usize = 10;
/// The fewest digits (country code included) of a real international number (Niue and a
/// few other small numbering plans have seven).
pub const MIN_E164_DIGITS: usize = 7;
/// The most digits E.164 allows, country code included.
pub const MAX_E164_DIGITS: usize = 15;

/// Why a phone number could not be written as E.164.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneProblem {
    /// Nothing but whitespace.
    Empty,
    /// Letters or symbols a phone number does not have, or a `+` in the middle.
    Unparseable,
    /// Fewer digits than any real number.
    TooShort,
    /// More than 15 digits.
    TooLong,
    /// A national number (not ten digits, or with a trunk `0`) whose country we cannot know.
    MissingCountryCode,
    /// A country code cannot start with 0.
    InvalidCountryCode,
}

impl PhoneProblem {
    /// The stable code of the problem, as validation reports it.
    pub fn code(self) -> &'static str {
        match self {
            PhoneProblem::Empty => "phone.empty",
            PhoneProblem::Unparseable => "phone.unparseable",
            PhoneProblem::TooShort => "phone.too_short",
            PhoneProblem::TooLong => "phone.too_long",
            PhoneProblem::MissingCountryCode => "phone.missing_country_code",
            PhoneProblem::InvalidCountryCode => "phone.invalid_country_code",
        }
    }

    /// For people.
    pub fn message(self) -> &'static str {
        match self {
            PhoneProblem::Empty => "the phone number is empty",
            PhoneProblem::Unparseable => "the phone number has characters a number cannot have",
            PhoneProblem::TooShort => "the phone number has too few digits",
            PhoneProblem::TooLong => "the phone number has more than 15 digits",
            PhoneProblem::MissingCountryCode => {
                "the phone number has no country code; write it with + and the country code"
            }
            PhoneProblem::InvalidCountryCode => "a country code cannot start with 0",
        }
    }
}

impl std::fmt::Display for PhoneProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for PhoneProblem {}

/// A phone number read by [`parse_phone`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParsedPhone {
    /// `+14155550100`.
    pub e164: String,
    /// The extension's digits, when the text had one (`ext. 12` → `12`).
    pub extension: Option<String>,
}

/// `raw` as E.164, without its extension; see [`parse_phone`].
pub fn normalise_phone(
    raw: &str,
    default_country_calling_code: &str,
) -> Result<String, PhoneProblem> {
    parse_phone(raw, default_country_calling_code).map(|p| p.e164)
}

/// `raw` as E.164 and its extension. `default_country_calling_code` (digits, e.g. `"1"`)
/// completes ten-digit national numbers.
pub fn parse_phone(
    raw: &str,
    default_country_calling_code: &str,
) -> Result<ParsedPhone, PhoneProblem> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(PhoneProblem::Empty);
    }
    let (number, extension) = split_extension(text)?;
    // `+44 (0)20 …`: the trunk zero in parentheses is not dialled internationally.
    let number = if number.starts_with('+') || number.starts_with("00") {
        number.replace("(0)", "")
    } else {
        number.to_string()
    };
    let mut digits = String::with_capacity(number.len());
    let mut plus = false;
    for (i, c) in number.trim().chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => return Err(PhoneProblem::Unparseable),
        }
    }
    if digits.is_empty() {
        return Err(PhoneProblem::Unparseable);
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        national_to_international(&digits, default_country_calling_code)?
    };
    if international.starts_with('0') {
        return Err(PhoneProblem::InvalidCountryCode);
    }
    if international.len() < MIN_E164_DIGITS {
        return Err(PhoneProblem::TooShort);
    }
    if international.len() > MAX_E164_DIGITS {
        return Err(PhoneProblem::TooLong);
    }
    Ok(ParsedPhone {
        e164: format!("+{international}"),
        extension,
    })
}

/// Whether `text` is E.164: `^\+[1-9]\d{1,14}$`.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (2..=MAX_E164_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The number and its extension's digits: `… ext 12`, `… ext. 12`, `… extension 12`,
/// `… x12`, `… #12`. Letters anywhere else make the text unparseable.
fn split_extension(text: &str) -> Result<(&str, Option<String>), PhoneProblem> {
    let lower = text.to_ascii_lowercase();
    let marker = ["extension", "ext.", "ext", "x", "#"]
        .iter()
        .filter_map(|m| lower.find(m).map(|at| (at, m.len())))
        .min_by_key(|(at, len)| (*at, std::cmp::Reverse(*len)));
    let Some((at, len)) = marker else {
        return Ok((text, None));
    };
    let rest = lower[at + len..].trim_start_matches([' ', ':', '.']);
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneProblem::Unparseable);
    }
    // The marker is ASCII, so `at` is a character boundary of `text` too.
    Ok((&text[..at], Some(rest.to_string())))
}

fn national_to_international(digits: &str, country: &str) -> Result<String, PhoneProblem> {
    if digits.len() == NATIONAL_DIGITS && !digits.starts_with('0') {
        return Ok(format!("{country}{digits}"));
    }
    if digits.len() == country.len() + NATIONAL_DIGITS && digits.starts_with(country) {
        return Ok(digits.to_string());
    }
    if digits.len() > MAX_E164_DIGITS {
        Err(PhoneProblem::TooLong)
    } else if digits.len() < NATIONAL_DIGITS && !digits.starts_with('0') {
        Err(PhoneProblem::TooShort)
    } else {
        Err(PhoneProblem::MissingCountryCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_normalise_to_e164_or_name_their_problem() {
        // (raw, expected E.164 or problem code, expected extension)
        let table: &[(&str, Result<&str, &str>, Option<&str>)] = &[
            ("(415) 555-0100", Ok("+14155550100"), None),
            ("415-555-0100", Ok("+14155550100"), None),
            ("415.555.0100", Ok("+14155550100"), None),
            ("4155550100", Ok("+14155550100"), None),
            ("1 415 555 0100", Ok("+14155550100"), None),
            ("1-415-555-0100", Ok("+14155550100"), None),
            ("+1 (415) 555-0100", Ok("+14155550100"), None),
            ("  +14155550100  ", Ok("+14155550100"), None),
            ("+44 20 7946 0958", Ok("+442079460958"), None),
            ("0044 20 7946 0958", Ok("+442079460958"), None),
            ("+44 (0)20 7946 0958", Ok("+442079460958"), None),
            ("00 49 30 901820", Ok("+4930901820"), None),
            ("+33 1 23 45 67 89", Ok("+33123456789"), None),
            ("(415) 555-0100 ext 12", Ok("+14155550100"), Some("12")),
            ("(415) 555-0100 ext. 345", Ok("+14155550100"), Some("345")),
            ("415-555-0100x7", Ok("+14155550100"), Some("7")),
            ("415-555-0100 #7", Ok("+14155550100"), Some("7")),
            (
                "+1 415 555 0100 extension: 9",
                Ok("+14155550100"),
                Some("9"),
            ),
            ("", Err("phone.empty"), None),
            ("   ", Err("phone.empty"), None),
            ("1-800-FLOWERS", Err("phone.unparseable"), None),
            ("call me", Err("phone.unparseable"), None),
            ("415 555 0100 ext", Err("phone.unparseable"), None),
            ("+1 415+555", Err("phone.unparseable"), None),
            ("()", Err("phone.unparseable"), None),
            ("555-0100", Err("phone.too_short"), None),
            ("+1 555", Err("phone.too_short"), None),
            ("+1 234 567 890 123 456", Err("phone.too_long"), None),
            ("1234567890123456", Err("phone.too_long"), None),
            ("020 7946 0958", Err("phone.missing_country_code"), None),
            ("44 20 7946 0958", Err("phone.missing_country_code"), None),
            ("+0 20 7946 0958", Err("phone.invalid_country_code"), None),
        ];
        for (raw, expected, extension) in table {
            let got = parse_phone(raw, DEFAULT_COUNTRY_CALLING_CODE);
            match (expected, &got) {
                (Ok(e164), Ok(parsed)) => {
                    assert_eq!(parsed.e164, *e164, "{raw:?}");
                    assert!(is_e164(&parsed.e164), "{raw:?} gave {:?}", parsed.e164);
                    assert_eq!(parsed.extension.as_deref(), *extension, "{raw:?}");
                }
                (Err(code), Err(problem)) => assert_eq!(problem.code(), *code, "{raw:?}"),
                _ => panic!("{raw:?}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn another_default_country_code_completes_national_numbers() {
        // (raw, default code, expected)
        let table = [
            (
                "20 7946 0958 12",
                "44",
                Err(PhoneProblem::MissingCountryCode),
            ),
            ("2079460958", "44", Ok("+442079460958".to_string())),
            ("442079460958", "44", Ok("+442079460958".to_string())),
            ("+1 415 555 0100", "44", Ok("+14155550100".to_string())),
        ];
        for (raw, code, expected) in table {
            assert_eq!(normalise_phone(raw, code), expected, "{raw:?} with +{code}");
        }
    }

    #[test]
    fn e164_is_recognised_exactly() {
        for (text, expected) in [
            ("+14155550100", true),
            ("+12", true),
            ("14155550100", false),
            ("+04155550100", false),
            ("+1415555010012345", false),
            ("+1 415", false),
            ("+", false),
        ] {
            assert_eq!(is_e164(text), expected, "{text:?}");
        }
    }
}
