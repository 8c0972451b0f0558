//! ContractReview: finds red-flag phrases by severity and the required clauses a contract of
//! its type lacks, rates the overall risk, and suggests redlines.
//!
//! Detection is deterministic and matches whole words ([`crate::words`]), so "sole
//! discretionary fund" is not "sole discretion". Redlines come from the language model when
//! one is configured (kept as text, never parsed into structure we can't trust); without
//! one, from a table of suggested replacements, marked `offline`.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::{self, InputSchema};
use crate::text_fields::{is_blank, optional_text_not_blank};
use crate::{field_error, words, AgentError, Ctx, Outcome, Prompt, Written};

pub const NAME: &str = "ContractReview";
pub const DOMAIN: AgentDomain = AgentDomain::Contracts;
pub const DESCRIPTION: &str =
    "Reviews a contract for red-flag terms and missing required clauses, rates its risk and suggests redlines.";
pub const USES_LLM: bool = true;
pub const PROPOSES_MOVES: bool = false;

/// Contract text length bounds, in characters.
pub const MIN_TEXT_CHARS: usize = 50;
pub const MAX_TEXT_CHARS: usize = 200_000;
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest excerpt shown for a flag, in characters.
pub const MAX_EXCERPT_CHARS: usize = 300;
/// A matched sentence of at most this many words is read as a heading, and the excerpt
/// goes on to the next sentence.
pub const HEADING_MAX_WORDS: usize = 4;
/// Upper bound on the language model's redlines, in tokens.
pub const REDLINE_MAX_TOKENS: u32 = 1200;

/// A red-flag phrase (and the other wordings of it), how bad it is, why, and what to ask
/// for instead.
pub struct RedFlagRule {
    pub phrase: &'static str,
    pub wordings: &'static [&'static str],
    pub severity: Severity,
    pub explanation: &'static str,
    pub suggestion: &'static str,
}

/// The seed's red flags, worst first.
pub const RED_FLAGS: &[RedFlagRule] = &[
    RedFlagRule {
        phrase: "unlimited liability",
        wordings: &["unlimited liability", "liability shall be unlimited", "liability is unlimited"],
        severity: Severity::Critical,
        explanation: "Exposes us to losses with no ceiling, far beyond the value of the contract.",
        suggestion: "Cap each party's total liability at the fees paid or payable in the 12 months before the claim, excluding fraud and wilful misconduct.",
    },
    RedFlagRule {
        phrase: "indemnify and hold harmless",
        wordings: &["indemnify and hold harmless", "indemnify defend and hold harmless"],
        severity: Severity::High,
        explanation: "A broad indemnity can make us pay for the other side's losses, including ones we did not cause.",
        suggestion: "Make the indemnity mutual and limit it to third-party claims caused by the indemnifying party's breach, negligence or wilful misconduct.",
    },
    RedFlagRule {
        phrase: "perpetual license",
        wordings: &["perpetual license", "perpetual licence"],
        severity: Severity::High,
        explanation: "Grants rights to our materials forever, even after the engagement or payment stops.",
        suggestion: "License deliverables for the client's internal use once paid in full; keep our pre-existing materials and methods licensed only for the term.",
    },
    RedFlagRule {
        phrase: "exclusive rights",
        wordings: &["exclusive rights", "exclusive right", "exclusive license", "exclusive licence"],
        severity: Severity::High,
        explanation: "Exclusivity can stop us from working with other clients in the same market.",
        suggestion: "Make rights non-exclusive, or limit exclusivity to a named deliverable, territory and period.",
    },
    RedFlagRule {
        phrase: "waive any claims",
        wordings: &["waive any claims", "waives any claims", "waive all claims", "waives all claims"],
        severity: Severity::High,
        explanation: "Gives up our right to recover for problems we may not know about yet.",
        suggestion: "Delete the waiver, or limit it to claims known and disclosed in writing at signing.",
    },
    RedFlagRule {
        phrase: "sole discretion",
        wordings: &["sole discretion", "absolute discretion"],
        severity: Severity::Medium,
        explanation: "Lets the other side decide alone, with no standard we can hold them to.",
        suggestion: "Replace with \"reasonable discretion, exercised in good faith\" and require written reasons for the decision.",
    },
    RedFlagRule {
        phrase: "without limitation",
        wordings: &["without limitation"],
        severity: Severity::Medium,
        explanation: "Open-ended lists can widen an obligation beyond what was discussed; check what follows.",
        suggestion: "Replace the open-ended list with a complete list of what is intended, or add \"to the extent reasonably related to the Services\".",
    },
    RedFlagRule {
        phrase: "automatic renewal",
        wordings: &["automatic renewal", "automatically renew", "automatically renews", "auto renew", "auto renewal"],
        severity: Severity::Medium,
        explanation: "The contract can roll over into a new term, and a new bill, without anyone deciding to.",
        suggestion: "Renew only by written agreement, or require a reminder 60 days before renewal and let either party opt out with 30 days' notice.",
    },
    RedFlagRule {
        phrase: "non-refundable",
        wordings: &["non-refundable", "nonrefundable"],
        severity: Severity::Medium,
        explanation: "Money paid stays paid even if the work is cancelled or never delivered.",
        suggestion: "Make prepaid fees refundable pro rata for work not performed when the agreement ends for the other party's breach.",
    },
    RedFlagRule {
        phrase: "governing law",
        wordings: &["governing law", "governed by the laws"],
        severity: Severity::Low,
        explanation: "Check the chosen law and courts are ones we can realistically use.",
        suggestion: "Choose our home jurisdiction's law and courts, or a neutral venue both parties accept.",
    },
];

/// A required clause and the headings or phrases that show it is there.
pub struct Clause {
    pub name: &'static str,
    pub signs: &'static [&'static str],
}

const GOVERNING_LAW: Clause = Clause {
    name: "governing law",
    signs: &["governing law", "governed by the laws", "jurisdiction"],
};
const CONFIDENTIALITY: Clause = Clause {
    name: "confidentiality",
    signs: &["confidentiality", "confidential information"],
};

pub const SERVICES_AGREEMENT_CLAUSES: &[Clause] = &[
    Clause {
        name: "scope of services",
        signs: &[
            "scope of services",
            "scope of work",
            "statement of work",
            "description of services",
        ],
    },
    Clause {
        name: "payment terms",
        signs: &["payment terms", "payment", "fees", "invoice", "invoices"],
    },
    Clause {
        name: "term and termination",
        signs: &["term and termination", "termination", "terminate"],
    },
    CONFIDENTIALITY,
    Clause {
        name: "limitation of liability",
        signs: &[
            "limitation of liability",
            "limitation on liability",
            "limit of liability",
            "aggregate liability",
            "total liability",
        ],
    },
    Clause {
        name: "intellectual property",
        signs: &[
            "intellectual property",
            "work product",
            "ownership of deliverables",
        ],
    },
    GOVERNING_LAW,
];

pub const NDA_CLAUSES: &[Clause] = &[
    Clause {
        name: "definition of confidential information",
        signs: &[
            "definition of confidential information",
            "confidential information means",
            "confidential information shall mean",
            "confidential information includes",
        ],
    },
    Clause {
        name: "obligations",
        signs: &[
            "obligations",
            "shall not disclose",
            "will not disclose",
            "agrees to keep",
        ],
    },
    Clause {
        name: "exclusions",
        signs: &[
            "exclusions",
            "shall not include",
            "does not include",
            "publicly available",
            "public domain",
        ],
    },
    Clause {
        name: "term",
        signs: &["term", "duration", "remain in effect", "shall survive"],
    },
    Clause {
        name: "return of materials",
        signs: &[
            "return of materials",
            "return or destroy",
            "return all",
            "destroy all",
        ],
    },
    Clause {
        name: "remedies",
        signs: &[
            "remedies",
            "injunctive relief",
            "equitable relief",
            "irreparable harm",
        ],
    },
];

pub const EMPLOYMENT_CLAUSES: &[Clause] = &[
    Clause {
        name: "position and duties",
        signs: &[
            "position and duties",
            "position",
            "duties",
            "job title",
            "responsibilities",
        ],
    },
    Clause {
        name: "compensation",
        signs: &["compensation", "salary", "base pay", "wages"],
    },
    Clause {
        name: "benefits",
        signs: &[
            "benefits",
            "paid time off",
            "vacation",
            "health insurance",
            "pension",
        ],
    },
    Clause {
        name: "termination",
        signs: &["termination", "terminate", "notice period"],
    },
    CONFIDENTIALITY,
    Clause {
        name: "non-solicitation",
        signs: &["non-solicitation", "non-solicit", "not solicit"],
    },
    GOVERNING_LAW,
];

/// The kind of contract; it decides which clauses are required.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractType {
    ServicesAgreement,
    Nda,
    Employment,
}

impl ContractType {
    pub fn required_clauses(self) -> &'static [Clause] {
        match self {
            ContractType::ServicesAgreement => SERVICES_AGREEMENT_CLAUSES,
            ContractType::Nda => NDA_CLAUSES,
            ContractType::Employment => EMPLOYMENT_CLAUSES,
        }
    }

    const fn label(self) -> &'static str {
        match self {
            ContractType::ServicesAgreement => "services agreement",
            ContractType::Nda => "NDA",
            ContractType::Employment => "employment contract",
        }
    }
}

/// How bad one flag is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// How risky the whole contract is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl From<Severity> for RiskLevel {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Low => RiskLevel::Low,
            Severity::Medium => RiskLevel::Medium,
            Severity::High => RiskLevel::High,
            Severity::Critical => RiskLevel::Critical,
        }
    }
}

impl RiskLevel {
    const fn label(self) -> &'static str {
        match self {
            RiskLevel::None => "none",
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

/// A contract to review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The kind of contract: services_agreement, nda or employment.
    #[schema(inline)]
    pub contract_type: ContractType,
    /// The full contract text (50 to 200,000 characters, not blank).
    pub text: String,
    /// A name for the review, e.g. "Acme MSA v3".
    #[serde(default)]
    pub title: Option<String>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({
        "contract_type": "services_agreement",
        "title": "Northwind Analytics: event program services",
        "text": "1. Scope of Services. Consultant will plan and run four field events and the follow-up campaigns described in Statement of Work 1.\n\
    2. Fees and Payment. Client pays a monthly fee of $12,000, invoiced on the first business day of each month. All fees are non-refundable.\n\
    3. Term and Termination. This agreement runs for twelve months and will automatically renew for successive twelve-month terms. Either party may terminate for material breach on 30 days' written notice.\n\
    4. Confidentiality. Each party will protect the other's Confidential Information with reasonable care.\n\
    5. Liability. Consultant accepts unlimited liability for any loss arising from the Services. Consultant shall indemnify and hold harmless Client against all claims, including without limitation claims by attendees.\n\
    6. Governing Law. This agreement is governed by the laws of the State of New York."
    })
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .field_rules(
            "text",
            schema::non_blank_text(MIN_TEXT_CHARS, MAX_TEXT_CHARS),
        )
        .non_blank_text("title", MAX_TITLE_CHARS)
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let chars = input.text.chars().count();
    if is_blank(&input.text) {
        errors.push(field_error("text", "must not be empty"));
    } else if !(MIN_TEXT_CHARS..=MAX_TEXT_CHARS).contains(&chars) {
        errors.push(field_error(
            "text",
            format!("must be {MIN_TEXT_CHARS} to {MAX_TEXT_CHARS} characters (it is {chars})"),
        ));
    }
    optional_text_not_blank(
        &mut errors,
        "title",
        input.title.as_deref(),
        MAX_TITLE_CHARS,
    );
    errors
}

/// A red flag found in the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RedFlag {
    pub phrase: &'static str,
    pub severity: Severity,
    /// The first sentence it occurs in.
    pub excerpt: String,
    /// How many sentences it occurs in.
    pub occurrences: usize,
    pub explanation: &'static str,
}

/// A suggested replacement for a flagged passage (offline suggestions only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Redline {
    pub phrase: &'static str,
    pub excerpt: String,
    pub suggestion: &'static str,
}

/// What the review found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Findings {
    pub red_flags: Vec<RedFlag>,
    pub present_clauses: Vec<&'static str>,
    pub missing_clauses: Vec<&'static str>,
    pub risk_level: RiskLevel,
}

/// The review shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    pub title: Option<String>,
    pub contract_type: ContractType,
    pub risk_level: RiskLevel,
    pub red_flags: Vec<RedFlag>,
    pub missing_clauses: Vec<&'static str>,
    pub present_clauses: Vec<&'static str>,
    /// The redlines as written (markdown), by the language model or the offline writer.
    pub redlines_text: String,
    /// Structured suggestions, only when the offline writer wrote the redlines.
    pub redlines: Option<Vec<Redline>>,
    /// `llm` or `offline`.
    pub writer: &'static str,
}

/// The text's sentences: split after `.`, `!`, `?` or `;` followed by white space, and at
/// line breaks (so headings stand alone). Trimmed, empty ones dropped.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        let end = match c {
            '\n' | '\r' => Some(i),
            '.' | '!' | '?' | ';' if next_is_space => Some(i + c.len_utf8()),
            _ => None,
        };
        if let Some(end) = end {
            out.push(&text[start..end]);
            start = i + c.len_utf8();
        }
    }
    out.push(&text[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// At most [`MAX_EXCERPT_CHARS`], marked with `…` when cut.
fn excerpt(sentence: &str) -> String {
    if sentence.chars().count() <= MAX_EXCERPT_CHARS {
        sentence.to_string()
    } else {
        let cut: String = sentence.chars().take(MAX_EXCERPT_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Every red flag in the text, worst first (ties in table order).
pub fn red_flags(text: &str) -> Vec<RedFlag> {
    let sentences = sentences(text);
    let mut flags: Vec<RedFlag> = RED_FLAGS
        .iter()
        .filter(|rule| !words::found(text, rule.wordings).is_empty())
        .filter_map(|rule| {
            let hits: Vec<usize> = (0..sentences.len())
                .filter(|&i| !words::found(sentences[i], rule.wordings).is_empty())
                .collect();
            let &first = hits.first()?;
            // A heading ("Governing Law.") says little alone: show the sentence after it too.
            let shown = match sentences.get(first + 1) {
                Some(next) if sentences[first].split_whitespace().count() <= HEADING_MAX_WORDS => {
                    format!("{} {next}", sentences[first])
                }
                _ => sentences[first].to_string(),
            };
            Some(RedFlag {
                phrase: rule.phrase,
                severity: rule.severity,
                excerpt: excerpt(&shown),
                occurrences: hits.len(),
                explanation: rule.explanation,
            })
        })
        .collect();
    flags.sort_by_key(|f| std::cmp::Reverse(f.severity));
    flags
}

/// The required clauses of the type that are present and missing, in the type's order.
pub fn clauses(contract_type: ContractType, text: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    contract_type
        .required_clauses()
        .iter()
        .map(|clause| (clause.name, !words::found(text, clause.signs).is_empty()))
        .fold(
            (Vec::new(), Vec::new()),
            |(mut present, mut missing), (name, found)| {
                if found {
                    present.push(name);
                } else {
                    missing.push(name);
                }
                (present, missing)
            },
        )
}

/// The worst flag's severity; any missing clause makes it at least medium.
pub fn risk_level(flags: &[RedFlag], missing_clauses: &[&str]) -> RiskLevel {
    let worst = flags
        .iter()
        .map(|f| RiskLevel::from(f.severity))
        .max()
        .unwrap_or(RiskLevel::None);
    if missing_clauses.is_empty() {
        worst
    } else {
        worst.max(RiskLevel::Medium)
    }
}

pub fn review(contract_type: ContractType, text: &str) -> Findings {
    let red_flags = red_flags(text);
    let (present_clauses, missing_clauses) = clauses(contract_type, text);
    let risk_level = risk_level(&red_flags, &missing_clauses);
    Findings {
        red_flags,
        present_clauses,
        missing_clauses,
        risk_level,
    }
}

/// The table's suggestion for each flag.
pub fn offline_redlines(flags: &[RedFlag]) -> Vec<Redline> {
    flags
        .iter()
        .filter_map(|flag| {
            RED_FLAGS
                .iter()
                .find(|rule| rule.phrase == flag.phrase)
                .map(|rule| Redline {
                    phrase: flag.phrase,
                    excerpt: flag.excerpt.clone(),
                    suggestion: rule.suggestion,
                })
        })
        .collect()
}

fn offline_text(redlines: &[Redline], missing: &[&str]) -> String {
    let mut out = String::new();
    for r in redlines {
        out.push_str(&format!(
            "- **{}**: \"{}\"\n  Suggested: {}\n",
            r.phrase, r.excerpt, r.suggestion
        ));
    }
    for clause in missing {
        out.push_str(&format!(
            "- **Missing {clause}**: add a clause on {clause}.\n"
        ));
    }
    out
}

fn prompt(contract_type: ContractType, title: Option<&str>, findings: &Findings) -> Prompt {
    let mut user = format!("Contract type: {}\n", contract_type.label());
    if let Some(title) = title {
        user.push_str(&format!("Title: {title}\n"));
    }
    if !findings.red_flags.is_empty() {
        user.push_str("\nFlagged passages:\n");
        for (n, flag) in findings.red_flags.iter().enumerate() {
            user.push_str(&format!(
                "{}. [{:?}] \"{}\" in: \"{}\"\n",
                n + 1,
                flag.severity,
                flag.phrase,
                flag.excerpt
            ));
        }
    }
    if !findings.missing_clauses.is_empty() {
        user.push_str(&format!(
            "\nMissing clauses: {}\n",
            findings.missing_clauses.join(", ")
        ));
    }
    Prompt {
        system: "You review contracts for a small B2B go-to-market consultancy, the service \
                 provider in these contracts. For each flagged passage, quote it, give \
                 replacement wording that protects the consultancy while staying reasonable \
                 for the client, and one sentence on why. Then give short wording for each \
                 missing clause. Answer in markdown, one bullet per item, with no preamble."
            .into(),
        user,
        max_tokens: REDLINE_MAX_TOKENS,
    }
}

fn render(review: &Review) -> String {
    let mut out = format!(
        "# Contract review{}\n\n**Risk: {}** ({})\n",
        review
            .title
            .as_deref()
            .map(|t| format!(": {t}"))
            .unwrap_or_default(),
        review.risk_level.label(),
        review.contract_type.label()
    );
    out.push_str("\n## Red flags\n\n");
    if review.red_flags.is_empty() {
        out.push_str("None found.\n");
    }
    for flag in &review.red_flags {
        out.push_str(&format!(
            "- **{:?}: {}**{}. {}\n  > {}\n",
            flag.severity,
            flag.phrase,
            if flag.occurrences > 1 {
                format!(" ({} places)", flag.occurrences)
            } else {
                String::new()
            },
            flag.explanation,
            flag.excerpt
        ));
    }
    out.push_str("\n## Required clauses\n\n");
    if review.missing_clauses.is_empty() {
        out.push_str("All present.\n");
    } else {
        out.push_str(&format!(
            "Missing: {}.\n",
            review.missing_clauses.join(", ")
        ));
    }
    if !review.present_clauses.is_empty() {
        out.push_str(&format!(
            "Present: {}.\n",
            review.present_clauses.join(", ")
        ));
    }
    let by = if review.writer == "llm" {
        "written by the language model"
    } else {
        "offline suggestions"
    };
    out.push_str(&format!(
        "\n## Redlines ({by})\n\n{}\n",
        review.redlines_text.trim_end()
    ));
    out
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let findings = review(input.contract_type, &input.text);
    let title = input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let suggestions = offline_redlines(&findings.red_flags);
    let written = if findings.red_flags.is_empty() && findings.missing_clauses.is_empty() {
        // Nothing to redline: no reason to ask a model.
        Written {
            text: "Nothing to redline: no red flags and no missing clauses.".into(),
            offline: true,
            model: None,
        }
    } else {
        let prompt = prompt(input.contract_type, title.as_deref(), &findings);
        ctx.write(&prompt, || {
            offline_text(&suggestions, &findings.missing_clauses)
        })
        .await?
    };
    let review = Review {
        title,
        contract_type: input.contract_type,
        risk_level: findings.risk_level,
        red_flags: findings.red_flags,
        missing_clauses: findings.missing_clauses,
        present_clauses: findings.present_clauses,
        redlines: written.offline.then_some(suggestions),
        writer: written.writer(),
        redlines_text: written.text,
    };
    Outcome::report(&review, render(&review))
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::llm::testing::Harness;

    fn flagged(text: &str) -> Vec<(&'static str, Severity)> {
        red_flags(text)
            .into_iter()
            .map(|f| (f.phrase, f.severity))
            .collect()
    }

    #[test]
    fn each_red_flag_is_found_with_its_severity() {
        let table: [(&str, &[(&str, Severity)]); 12] = [
            (
                "Vendor accepts unlimited liability.",
                &[("unlimited liability", Severity::Critical)],
            ),
            (
                "Vendor shall indemnify and hold harmless the Client.",
                &[("indemnify and hold harmless", Severity::High)],
            ),
            (
                "Vendor shall indemnify, defend and hold harmless the Client.",
                &[("indemnify and hold harmless", Severity::High)],
            ),
            (
                "Client receives a perpetual licence to all materials.",
                &[("perpetual license", Severity::High)],
            ),
            (
                "Client has exclusive rights to the method.",
                &[("exclusive rights", Severity::High)],
            ),
            (
                "Vendor waives all claims.",
                &[("waive any claims", Severity::High)],
            ),
            (
                "Approval is at the Client's sole discretion.",
                &[("sole discretion", Severity::Medium)],
            ),
            (
                "Costs include, without limitation, travel.",
                &[("without limitation", Severity::Medium)],
            ),
            (
                "This agreement automatically renews each year.",
                &[("automatic renewal", Severity::Medium)],
            ),
            (
                "The deposit is Non-Refundable.",
                &[("non-refundable", Severity::Medium)],
            ),
            (
                "Governing law: Delaware.",
                &[("governing law", Severity::Low)],
            ),
            ("Payment is due in 30 days.", &[]),
        ];
        for (text, expected) in table {
            assert_eq!(flagged(text), expected.to_vec(), "{text}");
        }
    }

    #[test]
    fn red_flags_match_whole_words_only() {
        let table = [
            "Paid from the sole discretionary fund.",
            "The exclusive-rightsholder list is public.",
            "Liability is limited; unlimitedliability is a typo.",
            "Refundable deposits only.",
        ];
        for text in table {
            assert_eq!(flagged(text), vec![], "{text}");
        }
    }

    #[test]
    fn flags_are_ordered_worst_first_and_counted_per_sentence() {
        let text = "Fees are non-refundable. Decisions are at our sole discretion; \
                    refunds are at our sole discretion.\nVendor accepts unlimited liability.";
        let flags = red_flags(text);
        let phrases: Vec<_> = flags.iter().map(|f| f.phrase).collect();
        assert_eq!(
            phrases,
            vec!["unlimited liability", "sole discretion", "non-refundable"]
        );
        assert_eq!(flags[1].occurrences, 2);
        assert_eq!(flags[1].excerpt, "Decisions are at our sole discretion;");
        assert_eq!(flags[0].excerpt, "Vendor accepts unlimited liability.");
    }

    #[test]
    fn sentences_split_at_terminators_followed_by_space_and_at_line_breaks() {
        let table: [(&str, &[&str]); 5] = [
            (
                "One. Two! Three? Four; five",
                &["One.", "Two!", "Three?", "Four;", "five"],
            ),
            ("Fees are $1.5k. Next", &["Fees are $1.5k.", "Next"]),
            ("1. Scope\nThe services.", &["1.", "Scope", "The services."]),
            ("  \n\n ", &[]),
            ("No terminator", &["No terminator"]),
        ];
        for (text, expected) in table {
            assert_eq!(sentences(text), expected.to_vec(), "{text:?}");
        }
    }

    #[test]
    fn a_heading_excerpt_runs_on_to_the_next_sentence() {
        let table = [
            (
                "6. Governing Law.\nThis agreement is governed by the laws of Ohio.",
                "Governing Law. This agreement is governed by the laws of Ohio.",
            ),
            (
                "Governing law is the law of Ohio, as both parties agree today. Next.",
                "Governing law is the law of Ohio, as both parties agree today.",
            ),
            ("Governing Law", "Governing Law"),
        ];
        for (text, expected) in table {
            assert_eq!(red_flags(text)[0].excerpt, expected, "{text:?}");
        }
    }

    #[test]
    fn long_excerpts_are_cut_and_marked() {
        let long = format!("{} unlimited liability.", "word ".repeat(100));
        let flag = &red_flags(&long)[0];
        assert_eq!(flag.excerpt.chars().count(), MAX_EXCERPT_CHARS);
        assert!(flag.excerpt.ends_with('…'));
    }

    #[test]
    fn required_clauses_are_detected_per_contract_type() {
        let table: [(ContractType, &str, &[&str]); 4] = [
            (
                ContractType::ServicesAgreement,
                "Scope of Work. Fees are invoiced monthly. Either party may terminate. \
                 Confidential Information stays private. Total liability is capped. \
                 Intellectual Property stays with the Consultant. Governed by the laws of Ohio.",
                &[],
            ),
            (
                ContractType::ServicesAgreement,
                "Scope of Services. Fees are invoiced monthly.",
                &[
                    "term and termination",
                    "confidentiality",
                    "limitation of liability",
                    "intellectual property",
                    "governing law",
                ],
            ),
            (
                ContractType::Nda,
                "\"Confidential Information\" means any business information. The Recipient \
                 shall not disclose it. Exclusions: information in the public domain. \
                 This agreement shall survive for three years. The Recipient will return or \
                 destroy all copies.",
                &["remedies"],
            ),
            (
                ContractType::Employment,
                "Position and Duties: Account Executive. Salary: $90,000. Benefits: health \
                 insurance. Termination on four weeks' notice.",
                &["confidentiality", "non-solicitation", "governing law"],
            ),
        ];
        for (contract_type, text, missing) in table {
            let (present, found_missing) = clauses(contract_type, text);
            assert_eq!(found_missing, missing.to_vec(), "{contract_type:?}: {text}");
            assert_eq!(
                present.len() + found_missing.len(),
                contract_type.required_clauses().len()
            );
        }
    }

    #[test]
    fn risk_is_the_worst_flag_raised_to_medium_by_a_missing_clause() {
        let flag = |severity| RedFlag {
            phrase: "x",
            severity,
            excerpt: String::new(),
            occurrences: 1,
            explanation: "",
        };
        let table = [
            (vec![], vec![], RiskLevel::None),
            (vec![flag(Severity::Low)], vec![], RiskLevel::Low),
            (vec![], vec!["term"], RiskLevel::Medium),
            (vec![flag(Severity::Low)], vec!["term"], RiskLevel::Medium),
            (
                vec![flag(Severity::Medium), flag(Severity::High)],
                vec![],
                RiskLevel::High,
            ),
            (
                vec![flag(Severity::Critical)],
                vec!["term"],
                RiskLevel::Critical,
            ),
        ];
        for (flags, missing, expected) in table {
            assert_eq!(
                risk_level(&flags, &missing),
                expected,
                "{flags:?} {missing:?}"
            );
        }
    }

    #[test]
    fn every_red_flag_has_an_offline_suggestion() {
        let text: String = RED_FLAGS
            .iter()
            .map(|r| format!("Clause with {}.\n", r.phrase))
            .collect();
        let flags = red_flags(&text);
        assert_eq!(flags.len(), RED_FLAGS.len());
        assert_eq!(offline_redlines(&flags).len(), RED_FLAGS.len());
    }

    #[test]
    fn check_bounds_the_text_and_title() {
        let ok = "x".repeat(MIN_TEXT_CHARS);
        let table = [
            (ok.clone(), None, 0),
            ("x".repeat(MIN_TEXT_CHARS - 1), None, 1),
            // Characters are counted as given (as the schema's `minLength` counts them)…
            (format!("   {}   ", "x".repeat(MIN_TEXT_CHARS - 1)), None, 0),
            // …and blank text is refused whatever its length.
            (" ".repeat(MIN_TEXT_CHARS), None, 1),
            ("x".repeat(MAX_TEXT_CHARS + 1), None, 1),
            (ok.clone(), Some(" ".to_string()), 1),
            (ok, Some("x".repeat(MAX_TITLE_CHARS + 1)), 1),
        ];
        for (text, title, errors) in table {
            let input = Input {
                contract_type: ContractType::Nda,
                text,
                title,
            };
            assert_eq!(check(&input).len(), errors);
        }
    }

    #[tokio::test]
    async fn offline_runs_mark_the_writer_and_return_structured_suggestions() {
        let harness = Harness::offline();
        let ctx = harness.ctx();
        let input: Input = serde_json::from_value(example()).unwrap();
        let outcome = run(input, &ctx).await.unwrap();
        let out = &outcome.output;
        assert_eq!(out["writer"], "offline");
        assert_eq!(out["risk_level"], "critical");
        assert_eq!(out["red_flags"][0]["phrase"], "unlimited liability");
        assert_eq!(
            out["missing_clauses"],
            serde_json::json!(["limitation of liability", "intellectual property"])
        );
        let redlines = out["redlines"].as_array().unwrap();
        assert_eq!(redlines.len(), out["red_flags"].as_array().unwrap().len());
        assert!(out["redlines_text"].as_str().unwrap().contains("12 months"));
        let text = outcome.text.unwrap();
        assert!(text.contains("**Risk: critical**"));
        assert!(text.contains("## Redlines (offline suggestions)"));
        assert!(outcome.proposals.is_empty());
    }

    #[tokio::test]
    async fn a_clean_contract_has_nothing_to_redline() {
        let harness = Harness::offline();
        let ctx = harness.ctx();
        let input = Input {
            contract_type: ContractType::Nda,
            text: "\"Confidential Information\" means business information. The Recipient \
                   shall not disclose it. Exclusions: public domain information. The term is \
                   two years. Return or destroy all copies on request. Remedies include \
                   injunctive relief."
                .into(),
            title: None,
        };
        let outcome = run(input, &ctx).await.unwrap();
        assert_eq!(outcome.output["risk_level"], "none");
        assert_eq!(outcome.output["redlines"], serde_json::json!([]));
        assert!(outcome.output["redlines_text"]
            .as_str()
            .unwrap()
            .starts_with("Nothing to redline"));
    }
}
