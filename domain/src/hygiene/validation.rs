//! Contact validation: the seed's checks (seed-system §2.9 "Contact validation"), each a
//! pure function of plain fields, collected into one [`ValidationReport`].
//!
//! | code | severity | when |
//! |---|---|---|
//! | `email.invalid` | error | an email address is not of a plausible shape |
//! | `contact.unreachable` | error | neither an email address nor a phone number |
//! | `email.disposable` | warning | the domain is a throwaway-mail service ([`DISPOSABLE_DOMAINS`]) |
//! | `email.role` | info | a shared mailbox, not a person ([`ROLE_LOCAL_PARTS`]) |
//! | `phone.*` | warning | the number cannot be written as E.164 ([`PhoneProblem::code`]) |
//! | `phone.format` | info | it can, and is written differently (suggestion: the E.164 form) |
//! | `name.casing` | info | a name all lower case, ALL UPPER or mixed at random (suggestion) |
//! | `job_title.abbreviation` | info | `VP`, `Sr.`, … (suggestion: spelled out) |
//! | `contact.missing_field` | warning | a late-stage contact ([`STAGES_NEEDING_FULL_RECORD`]) without first name, last name or company |

use super::phone::{parse_phone, PhoneProblem, DEFAULT_COUNTRY_CALLING_CODE};
use super::report::{Severity, ValidationIssue, ValidationReport};
use crate::kernel::EmailAddress;

/// The version of these rules; a report records the one that produced it. Raise it when a
/// rule or one of its lists changes.
pub const RULES_VERSION: u32 = 1;

/// Throwaway-mail services (the seed's eight, with their sister domains and other
/// well-known ones). An address at one of them, or at a subdomain, is a warning.
pub const DISPOSABLE_DOMAINS: &[&str] = &[
    "mailinator.com",
    "mailinator.net",
    "guerrillamail.com",
    "guerrillamail.net",
    "guerrillamailblock.com",
    "sharklasers.com",
    "grr.la",
    "tempmail.com",
    "temp-mail.org",
    "tempmailo.com",
    "tempail.com",
    "tempr.email",
    "10minutemail.com",
    "20minutemail.com",
    "throwaway.email",
    "maildrop.cc",
    "yopmail.com",
    "yopmail.fr",
    "getnada.com",
    "trashmail.com",
    "trashmail.de",
    "dispostable.com",
    "mailnesia.com",
    "mintemail.com",
    "fakeinbox.com",
    "emailondeck.com",
    "spamgourmet.com",
    "mailcatch.com",
    "discard.email",
    "moakt.com",
    "burnermail.io",
    "mytemp.email",
    "getairmail.com",
    "33mail.com",
    "inboxkitten.com",
    "emailfake.com",
];

/// Local parts of shared mailboxes (the seed's list). `sales@`, `sales-emea@`,
/// `support+x@` and `info2@` are role addresses; `salesforce.admin@` is not.
pub const ROLE_LOCAL_PARTS: &[&str] = &[
    "info",
    "sales",
    "support",
    "hello",
    "contact",
    "admin",
    "help",
    "team",
    "noreply",
    "no-reply",
    "marketing",
    "press",
    "media",
];

/// Job-title abbreviations and what they stand for (the seed's list). Only the matched word
/// is replaced: `vp sales` → `Vice President sales`.
pub const JOB_TITLE_ABBREVIATIONS: &[(&str, &str)] = &[
    ("ceo", "Chief Executive Officer"),
    ("cfo", "Chief Financial Officer"),
    ("cto", "Chief Technology Officer"),
    ("cmo", "Chief Marketing Officer"),
    ("coo", "Chief Operating Officer"),
    ("cro", "Chief Revenue Officer"),
    ("vp", "Vice President"),
    ("svp", "Senior Vice President"),
    ("evp", "Executive Vice President"),
    ("dir", "Director"),
    ("mgr", "Manager"),
    ("sr", "Senior"),
    ("jr", "Junior"),
];

/// Lifecycle stages (lower case, without separators, as HubSpot writes them) at which first
/// name, last name and company are expected.
pub const STAGES_NEEDING_FULL_RECORD: &[&str] = &["opportunity", "customer", "salesqualifiedlead"];

/// Name particles written in lower case unless they open the name (`Jan van der Berg`,
/// `Van der Berg`) or close it (`Anna Le`).
pub const NAME_PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "des", "dos", "das", "la",
    "le", "ten", "ter", "bin", "ibn",
];

/// Prefixes after which a capital is right inside a name (`McDonald`, `MacLeod`, `DeVito`,
/// `LeBlanc`, `DiCaprio`, `FitzGerald`).
pub const NAME_CAPITAL_PREFIXES: &[&str] = &[
    "Mc", "Mac", "De", "Di", "Da", "Du", "La", "Le", "Van", "Von", "Fitz",
];

/// What validation reads of a contact: plain fields, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The first is the primary address.
    pub emails: Vec<String>,
    /// The text as entered and, when it was read, its E.164 form.
    pub phones: Vec<(String, Option<String>)>,
    pub job_title: Option<String>,
    pub company_name: Option<String>,
    pub lifecycle_stage: Option<String>,
}

/// Every issue of `input` under the current rules (phones without a country code get
/// [`DEFAULT_COUNTRY_CALLING_CODE`]); valid when none is an error.
pub fn validate(input: &ValidationInput) -> ValidationReport {
    let mut issues = Vec::new();
    check_emails(&input.emails, &mut issues);
    check_phones(&input.phones, &mut issues);
    check_reachable(input, &mut issues);
    for (field, value) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
    ] {
        if let Some(name) = value.as_deref() {
            check_name_casing(field, name, &mut issues);
        }
    }
    if let Some(title) = input.job_title.as_deref() {
        check_job_title(title, &mut issues);
    }
    check_required_fields(input, &mut issues);
    ValidationReport {
        valid: issues.iter().all(|i| i.severity != Severity::Error),
        issues,
        rules_version: RULES_VERSION,
    }
}

fn issue(
    field: &str,
    code: &str,
    severity: Severity,
    message: String,
    suggestion: Option<String>,
) -> ValidationIssue {
    ValidationIssue {
        field: field.to_string(),
        code: code.to_string(),
        severity,
        message,
        suggestion,
    }
}

/// `the primary email address` or `email address 2` (never the address itself).
fn email_label(index: usize) -> String {
    if index == 0 {
        "the primary email address".into()
    } else {
        format!("email address {}", index + 1)
    }
}

fn check_emails(emails: &[String], issues: &mut Vec<ValidationIssue>) {
    for (index, raw) in emails.iter().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let label = email_label(index);
        let Ok(email) = EmailAddress::parse(raw) else {
            issues.push(issue(
                "emails",
                "email.invalid",
                Severity::Error,
                format!("{label} is not a valid email address"),
                None,
            ));
            continue;
        };
        let (local, domain) = email
            .as_str()
            .split_once('@')
            .expect("a parsed address has an @");
        if is_disposable_domain(domain) {
            issues.push(issue(
                "emails",
                "email.disposable",
                Severity::Warning,
                format!("{label} is at a throwaway-mail service ({domain})"),
                None,
            ));
        }
        if is_role_local_part(local) {
            issues.push(issue(
                "emails",
                "email.role",
                Severity::Info,
                format!("{label} is a shared mailbox, not a person"),
                None,
            ));
        }
    }
}

/// Whether `domain` (lower case) is one of [`DISPOSABLE_DOMAINS`] or a subdomain of one.
pub fn is_disposable_domain(domain: &str) -> bool {
    DISPOSABLE_DOMAINS.iter().any(|d| {
        domain == *d
            || domain
                .strip_suffix(d)
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// Whether `local` (lower case) is one of [`ROLE_LOCAL_PARTS`], alone or followed by a
/// separator or digit (`sales-emea`, `support+x`, `info2`).
pub fn is_role_local_part(local: &str) -> bool {
    ROLE_LOCAL_PARTS.iter().any(|role| {
        local.strip_prefix(role).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| matches!(c, '.' | '-' | '_' | '+') || c.is_ascii_digit())
        })
    })
}

fn check_phones(phones: &[(String, Option<String>)], issues: &mut Vec<ValidationIssue>) {
    for (index, (raw, stored)) in phones.iter().enumerate() {
        if raw.trim().is_empty() && stored.is_none() {
            continue;
        }
        let label = format!("phone number {}", index + 1);
        match parse_phone(raw, DEFAULT_COUNTRY_CALLING_CODE) {
            Ok(parsed) => {
                if raw.trim() != parsed.e164 {
                    let extension = parsed
                        .extension
                        .as_ref()
                        .map(|e| format!(" (extension {e} kept apart)"))
                        .unwrap_or_default();
                    issues.push(issue(
                        "phones",
                        "phone.format",
                        Severity::Info,
                        format!(
                            "{label} can be written in the international E.164 form{extension}"
                        ),
                        Some(parsed.e164),
                    ));
                }
            }
            // The text does not parse but the number was read before (e.g. with another
            // country code): suggest that form.
            Err(_) if stored.as_deref().is_some_and(super::phone::is_e164) => {
                issues.push(issue(
                    "phones",
                    "phone.format",
                    Severity::Info,
                    format!("{label} can be written in the international E.164 form"),
                    stored.clone(),
                ));
            }
            Err(problem) => issues.push(phone_issue(&label, problem)),
        }
    }
}

fn phone_issue(label: &str, problem: PhoneProblem) -> ValidationIssue {
    issue(
        "phones",
        problem.code(),
        Severity::Warning,
        format!("{label}: {}", problem.message()),
        None,
    )
}

fn check_reachable(input: &ValidationInput, issues: &mut Vec<ValidationIssue>) {
    let has_email = input.emails.iter().any(|e| !e.trim().is_empty());
    let has_phone = input
        .phones
        .iter()
        .any(|(raw, stored)| !raw.trim().is_empty() || stored.is_some());
    if !has_email && !has_phone {
        issues.push(issue(
            "emails",
            "contact.unreachable",
            Severity::Error,
            "the contact has neither an email address nor a phone number".into(),
            None,
        ));
    }
}

fn check_name_casing(field: &str, name: &str, issues: &mut Vec<ValidationIssue>) {
    if is_well_cased(name) {
        return;
    }
    let suggestion = proper_case_name(name);
    if suggestion != name.trim() {
        issues.push(issue(
            field,
            "name.casing",
            Severity::Info,
            format!(
                "the {} is not capitalised the usual way",
                field.replace('_', " ")
            ),
            Some(suggestion),
        ));
    }
}

/// Whether `name` is capitalised as names usually are: not all lower case, not ALL UPPER
/// (beyond two-letter initials), every part capitalised with capitals inside only after
/// [`NAME_CAPITAL_PREFIXES`], lower-case [`NAME_PARTICLES`] allowed, `II`–`IV` allowed.
pub fn is_well_cased(name: &str) -> bool {
    let letters: Vec<char> = name.chars().filter(|c| c.is_alphabetic()).collect();
    let cased: Vec<char> = letters
        .iter()
        .copied()
        .filter(|c| c.is_uppercase() || c.is_lowercase())
        .collect();
    if cased.is_empty() {
        // Scripts without case (or no letters at all): nothing to say.
        return true;
    }
    if !cased.iter().any(|c| c.is_uppercase()) {
        return false;
    }
    if !cased.iter().any(|c| c.is_lowercase()) {
        return cased.len() <= 2;
    }
    name.split_whitespace().all(|word| {
        NAME_PARTICLES.contains(&word)
            || word
                .split(['-', '\''])
                .all(|part| is_well_cased_part(part.trim_end_matches('.')))
    })
}

fn is_well_cased_part(part: &str) -> bool {
    let mut chars = part.chars();
    let Some(first) = chars.next() else {
        return true;
    };
    if first.is_lowercase() {
        return false;
    }
    if ["II", "III", "IV"].contains(&part) {
        return true;
    }
    let rest = chars.as_str();
    if !rest.chars().any(char::is_uppercase) {
        return true;
    }
    // One capital inside, after a known prefix: `McDonald`.
    NAME_CAPITAL_PREFIXES.iter().any(|prefix| {
        part.strip_prefix(prefix).is_some_and(|tail| {
            let mut tail = tail.chars();
            tail.next().is_some_and(char::is_uppercase)
                && tail.clone().next().is_some()
                && !tail.any(char::is_uppercase)
        })
    })
}

/// `name` capitalised: each word capitalised, and each part after `-` or `'`
/// (`Jean-Luc`, `O'Neil`), `Mc` followed by a capital (`McDonald`), [`NAME_PARTICLES`] in
/// lower case unless first or last (`Jan van der Berg`, `Van der Berg`, `Anna Le`).
pub fn proper_case_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let last = words.len().saturating_sub(1);
    words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let lower = word.to_lowercase();
            if i > 0 && i < last && NAME_PARTICLES.contains(&lower.as_str()) {
                lower
            } else {
                capitalise_word(&lower)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalise_word(lower: &str) -> String {
    let mut out = String::with_capacity(lower.len());
    let mut part = String::new();
    let flush = |part: &mut String, out: &mut String| {
        let text = match part.strip_prefix("mc") {
            Some(rest) if !rest.is_empty() => format!("Mc{}", capitalise(rest)),
            _ => capitalise(part),
        };
        out.push_str(&text);
        part.clear();
    };
    for c in lower.chars() {
        if c == '-' || c == '\'' {
            flush(&mut part, &mut out);
            out.push(c);
        } else {
            part.push(c);
        }
    }
    flush(&mut part, &mut out);
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn check_job_title(title: &str, issues: &mut Vec<ValidationIssue>) {
    let (expanded, found) = expand_job_title(title);
    if !found.is_empty() {
        issues.push(issue(
            "job_title",
            "job_title.abbreviation",
            Severity::Info,
            format!("the job title abbreviates {}", found.join(", ")),
            Some(expanded),
        ));
    }
}

/// `title` with every word of [`JOB_TITLE_ABBREVIATIONS`] spelled out (a dot right after
/// one goes too: `Sr. VP` → `Senior Vice President`), and the abbreviations found as written.
pub fn expand_job_title(title: &str) -> (String, Vec<String>) {
    let title = title.trim();
    let mut out = String::with_capacity(title.len() + 16);
    let mut found = Vec::new();
    let mut chars = title.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            out.push(c);
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if !next.is_alphanumeric() {
                break;
            }
            end = i + next.len_utf8();
            chars.next();
        }
        let word = &title[start..end];
        let lower = word.to_lowercase();
        match JOB_TITLE_ABBREVIATIONS.iter().find(|(a, _)| *a == lower) {
            Some((_, expansion)) => {
                out.push_str(expansion);
                found.push(word.to_string());
                if chars.peek().is_some_and(|&(_, next)| next == '.') {
                    chars.next();
                }
            }
            None => out.push_str(word),
        }
    }
    (out, found)
}

fn check_required_fields(input: &ValidationInput, issues: &mut Vec<ValidationIssue>) {
    let Some(stage) = input.lifecycle_stage.as_deref() else {
        return;
    };
    let stage: String = stage
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if !STAGES_NEEDING_FULL_RECORD.contains(&stage.as_str()) {
        return;
    }
    for (field, value) in [
        ("first_name", &input.first_name),
        ("last_name", &input.last_name),
        ("company_name", &input.company_name),
    ] {
        if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
            issues.push(issue(
                field,
                "contact.missing_field",
                Severity::Warning,
                format!(
                    "a contact at stage {stage} should have a {}",
                    field.replace('_', " ")
                ),
                None,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> ValidationInput {
        ValidationInput {
            first_name: Some("Dana".into()),
            last_name: Some("Scully".into()),
            emails: vec!["dana.scully@acme.io".into()],
            phones: vec![("+14155550100".into(), Some("+14155550100".into()))],
            job_title: Some("Head of Sales".into()),
            company_name: Some("Acme".into()),
            lifecycle_stage: Some("lead".into()),
        }
    }

    /// The (code, severity, field, suggestion) of every issue.
    fn findings(report: &ValidationReport) -> Vec<(String, Severity, String, Option<String>)> {
        report
            .issues
            .iter()
            .map(|i| {
                (
                    i.code.clone(),
                    i.severity,
                    i.field.clone(),
                    i.suggestion.clone(),
                )
            })
            .collect()
    }

    type Expected = &'static [(&'static str, Severity, &'static str, Option<&'static str>)];

    #[test]
    fn each_rule_reports_its_code_severity_field_and_suggestion() {
        use Severity::*;
        type Edit = fn(&mut ValidationInput);
        // (label, change to a clean contact, expected issues in order, valid)
        let table: &[(&str, Edit, Expected, bool)] = &[
            ("a clean contact", |_| {}, &[], true),
            (
                "an invalid address",
                |c| c.emails = vec!["dana@acme".into()],
                &[("email.invalid", Error, "emails", None)],
                false,
            ),
            (
                "an invalid second address",
                |c| c.emails.push("not an email".into()),
                &[("email.invalid", Error, "emails", None)],
                false,
            ),
            (
                "no address and no phone",
                |c| {
                    c.emails.clear();
                    c.phones.clear();
                },
                &[("contact.unreachable", Error, "emails", None)],
                false,
            ),
            (
                "blank address and blank phone",
                |c| {
                    c.emails = vec!["  ".into()];
                    c.phones = vec![(" ".into(), None)];
                },
                &[("contact.unreachable", Error, "emails", None)],
                false,
            ),
            ("a phone but no address", |c| c.emails.clear(), &[], true),
            (
                "a disposable domain",
                |c| c.emails = vec!["dana@mailinator.com".into()],
                &[("email.disposable", Warning, "emails", None)],
                true,
            ),
            (
                "a subdomain of a disposable domain",
                |c| c.emails = vec!["dana@eu.yopmail.com".into()],
                &[("email.disposable", Warning, "emails", None)],
                true,
            ),
            (
                "a role address",
                |c| c.emails = vec!["Sales@acme.io".into()],
                &[("email.role", Info, "emails", None)],
                true,
            ),
            (
                "a role address with a suffix",
                |c| c.emails = vec!["support-emea@acme.io".into()],
                &[("email.role", Info, "emails", None)],
                true,
            ),
            (
                "a person whose name starts like a role",
                |c| c.emails = vec!["helena@acme.io".into(), "teamaster@acme.io".into()],
                &[],
                true,
            ),
            (
                "a role address at a disposable domain",
                |c| c.emails = vec!["info@maildrop.cc".into()],
                &[
                    ("email.disposable", Warning, "emails", None),
                    ("email.role", Info, "emails", None),
                ],
                true,
            ),
            (
                "a US number written nationally",
                |c| c.phones = vec![("(415) 555-0100".into(), None)],
                &[("phone.format", Info, "phones", Some("+14155550100"))],
                true,
            ),
            (
                "a UK number with spaces",
                |c| c.phones = vec![("+44 20 7946 0958".into(), None)],
                &[("phone.format", Info, "phones", Some("+442079460958"))],
                true,
            ),
            (
                "a number with letters",
                |c| c.phones = vec![("1-800-FLOWERS".into(), None)],
                &[("phone.unparseable", Warning, "phones", None)],
                true,
            ),
            (
                "a number too short",
                |c| c.phones = vec![("555-0100".into(), None)],
                &[("phone.too_short", Warning, "phones", None)],
                true,
            ),
            (
                "a national UK number read before with its country code",
                |c| c.phones = vec![("020 7946 0958".into(), Some("+442079460958".into()))],
                &[("phone.format", Info, "phones", Some("+442079460958"))],
                true,
            ),
            (
                "names in lower case",
                |c| {
                    c.first_name = Some("mary".into());
                    c.last_name = Some("o'neil".into());
                },
                &[
                    ("name.casing", Info, "first_name", Some("Mary")),
                    ("name.casing", Info, "last_name", Some("O'Neil")),
                ],
                true,
            ),
            (
                "names in upper case",
                |c| {
                    c.first_name = Some("JEAN-LUC".into());
                    c.last_name = Some("MCDONALD".into());
                },
                &[
                    ("name.casing", Info, "first_name", Some("Jean-Luc")),
                    ("name.casing", Info, "last_name", Some("McDonald")),
                ],
                true,
            ),
            (
                "a name cased at random",
                |c| c.first_name = Some("jOHN".into()),
                &[("name.casing", Info, "first_name", Some("John"))],
                true,
            ),
            (
                "a particle name in lower case",
                |c| c.last_name = Some("van der berg".into()),
                &[("name.casing", Info, "last_name", Some("Van der Berg"))],
                true,
            ),
            (
                "an abbreviated title",
                |c| c.job_title = Some("vp sales".into()),
                &[(
                    "job_title.abbreviation",
                    Info,
                    "job_title",
                    Some("Vice President sales"),
                )],
                true,
            ),
            (
                "several abbreviations with dots",
                |c| c.job_title = Some("Sr. Mgr, Co-founder & CEO".into()),
                &[(
                    "job_title.abbreviation",
                    Info,
                    "job_title",
                    Some("Senior Manager, Co-founder & Chief Executive Officer"),
                )],
                true,
            ),
            (
                "a title with a word that only starts like one",
                |c| c.job_title = Some("Director of Srvices".into()),
                &[],
                true,
            ),
            (
                "an opportunity without names or company",
                |c| {
                    c.lifecycle_stage = Some("opportunity".into());
                    c.first_name = None;
                    c.last_name = Some(" ".into());
                    c.company_name = None;
                },
                &[
                    ("contact.missing_field", Warning, "first_name", None),
                    ("contact.missing_field", Warning, "last_name", None),
                    ("contact.missing_field", Warning, "company_name", None),
                ],
                true,
            ),
            (
                "a sales-qualified lead written with separators",
                |c| {
                    c.lifecycle_stage = Some("Sales_Qualified_Lead".into());
                    c.company_name = None;
                },
                &[("contact.missing_field", Warning, "company_name", None)],
                true,
            ),
            (
                "a lead without a company",
                |c| c.company_name = None,
                &[],
                true,
            ),
        ];
        for (label, edit, expected, valid) in table {
            let mut input = person();
            edit(&mut input);
            let report = validate(&input);
            let expected: Vec<_> = expected
                .iter()
                .map(|(code, severity, field, suggestion)| {
                    (
                        code.to_string(),
                        *severity,
                        field.to_string(),
                        suggestion.map(str::to_string),
                    )
                })
                .collect();
            assert_eq!(findings(&report), expected, "{label}: {input:?}");
            assert_eq!(report.valid, *valid, "{label}: {report:?}");
            assert_eq!(report.rules_version, RULES_VERSION, "{label}");
        }
    }

    #[test]
    fn names_are_left_alone_when_cased_the_usual_way() {
        for name in [
            "McDonald",
            "MacLeod",
            "O'Neil",
            "Jean-Luc",
            "van der Berg",
            "Jan van der Berg",
            "Ludwig van Beethoven",
            "DeVito",
            "Anna Le",
            "José",
            "J.",
            "JJ",
            "John Smith III",
            "Zoë",
            "李",
        ] {
            assert!(is_well_cased(name), "{name:?} should pass");
        }
    }

    #[test]
    fn badly_cased_names_get_a_sensible_suggestion() {
        // (name, suggestion)
        let table = [
            ("mary o'neil", "Mary O'Neil"),
            ("MARY O'NEIL", "Mary O'Neil"),
            ("jean-luc picard", "Jean-Luc Picard"),
            ("mcdonald", "McDonald"),
            ("van der berg", "Van der Berg"),
            ("jan van der berg", "Jan van der Berg"),
            ("anna le", "Anna Le"),
            ("josé garcía", "José García"),
            ("jOHN", "John"),
            ("JoHn", "John"),
            ("  dana   scully ", "Dana Scully"),
            ("d'angelo", "D'Angelo"),
        ];
        for (name, suggestion) in table {
            assert!(!is_well_cased(name), "{name:?} should be flagged");
            assert_eq!(proper_case_name(name), suggestion, "{name:?}");
        }
    }

    #[test]
    fn the_lists_hold_the_seeds_entries() {
        for domain in [
            "mailinator.com",
            "guerrillamail.com",
            "tempmail.com",
            "10minutemail.com",
            "throwaway.email",
            "maildrop.cc",
            "yopmail.com",
            "getnada.com",
        ] {
            assert!(is_disposable_domain(domain), "{domain}");
        }
        assert!(DISPOSABLE_DOMAINS.len() >= 30);
        assert!(!is_disposable_domain("notmailinator.com"));
        assert!(!is_disposable_domain("gmail.com"));
        assert_eq!(ROLE_LOCAL_PARTS.len(), 13);
        assert_eq!(JOB_TITLE_ABBREVIATIONS.len(), 13);
    }
}
