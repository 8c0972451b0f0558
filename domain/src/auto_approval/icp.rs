//! The ICP score (ideal customer profile), 0–100, computed by CaseyOS from the contact as it
//! stands — never taken from a request (the seed trusted the caller's). Each part has its
//! points and its reason, so a decision can say why:
//!
//! | part | points |
//! |---|---|
//! | seniority of the job title, by whole words: C-level, founder, owner, president | 40 |
//! | … VP, head of | 30 |
//! | … director | 22 |
//! | … manager | 14 |
//! | … any other title | 5 |
//! | lifecycle stage: opportunity 20, SQL 18, customer or evangelist 15, MQL 12, lead 6, subscriber 2 | ≤ 20 |
//! | a company domain that is not free mail or throwaway | 15 |
//! | a valid validation report | 15 |
//! | a phone number that reads as one | 10 |

use serde::{Deserialize, Serialize};

use crate::contacts::{ContactView, LifecycleStage};
use crate::hygiene::matching::is_company_domain;

/// The most an ICP score can be.
pub const MAX_ICP: u8 = 100;

const C_LEVEL: u8 = 40;
const VP: u8 = 30;
const DIRECTOR: u8 = 22;
const MANAGER: u8 = 14;
const OTHER_TITLE: u8 = 5;
const COMPANY_DOMAIN: u8 = 15;
const VALIDATED: u8 = 15;
const PHONE: u8 = 10;

/// Whole words of a title that make it C-level.
const C_LEVEL_WORDS: &[&str] = &[
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "cro",
    "cio",
    "ciso",
    "cpo",
    "chief",
    "founder",
    "cofounder",
    "owner",
    "president",
];
const VP_WORDS: &[&str] = &["vp", "svp", "evp", "avp", "vice", "head"];
const DIRECTOR_WORDS: &[&str] = &["director", "directors"];
const MANAGER_WORDS: &[&str] = &["manager", "mgr"];

/// One part of the score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct IcpPart {
    /// `seniority`, `lifecycle_stage`, `company_domain`, `validation`, `phone`.
    pub part: String,
    pub points: u8,
    pub reason: String,
}

/// A contact's ICP score with its parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct IcpScore {
    /// 0–100: the sum of the parts.
    pub score: u8,
    pub parts: Vec<IcpPart>,
}

/// How senior a job title is, by its whole words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seniority {
    CLevel,
    Vp,
    Director,
    Manager,
    Other,
}

impl Seniority {
    /// The title's seniority (`None`: no title). "Vice President" is a VP, not a president;
    /// "Headhunter" is not a head.
    pub fn of(title: &str) -> Option<Seniority> {
        let lower = title.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return None;
        }
        let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
        let vice = words.contains(&"vice");
        Some(if has(C_LEVEL_WORDS) && !vice {
            Seniority::CLevel
        } else if has(VP_WORDS) {
            Seniority::Vp
        } else if has(DIRECTOR_WORDS) {
            Seniority::Director
        } else if has(MANAGER_WORDS) {
            Seniority::Manager
        } else {
            Seniority::Other
        })
    }

    pub const fn points(self) -> u8 {
        match self {
            Seniority::CLevel => C_LEVEL,
            Seniority::Vp => VP,
            Seniority::Director => DIRECTOR,
            Seniority::Manager => MANAGER,
            Seniority::Other => OTHER_TITLE,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Seniority::CLevel => "C-level, founder or owner",
            Seniority::Vp => "VP or head",
            Seniority::Director => "director",
            Seniority::Manager => "manager",
            Seniority::Other => "individual contributor or other",
        }
    }
}

/// The points of a lifecycle stage.
pub const fn stage_points(stage: LifecycleStage) -> u8 {
    match stage {
        LifecycleStage::Opportunity => 20,
        LifecycleStage::SalesQualifiedLead => 18,
        LifecycleStage::Customer | LifecycleStage::Evangelist => 15,
        LifecycleStage::MarketingQualifiedLead => 12,
        LifecycleStage::Lead => 6,
        LifecycleStage::Subscriber => 2,
        LifecycleStage::Other => 0,
    }
}

fn part(part: &str, points: u8, reason: String) -> IcpPart {
    IcpPart {
        part: part.to_string(),
        points,
        reason,
    }
}

/// The contact's ICP score.
pub fn icp_score(contact: &ContactView) -> IcpScore {
    let fields = &contact.fields;
    let title = fields
        .job_title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let seniority = match title.and_then(|t| Seniority::of(t).map(|s| (t, s))) {
        Some((t, s)) => part("seniority", s.points(), format!("\"{t}\" is {}", s.label())),
        None => part("seniority", 0, "no job title".into()),
    };
    let stage = match fields.lifecycle_stage {
        Some(stage) => part(
            "lifecycle_stage",
            stage_points(stage),
            format!("lifecycle stage {}", stage.as_str()),
        ),
        None => part("lifecycle_stage", 0, "no lifecycle stage".into()),
    };
    let domain = match fields
        .company_domain
        .as_deref()
        .map(|d| d.trim().to_lowercase())
        .filter(|d| !d.is_empty())
    {
        Some(d) if is_company_domain(&d) => part(
            "company_domain",
            COMPANY_DOMAIN,
            format!("{d} is a company domain"),
        ),
        Some(d) => part(
            "company_domain",
            0,
            format!("{d} is free or throwaway mail"),
        ),
        None => part("company_domain", 0, "no company domain".into()),
    };
    let validation = match &contact.validation {
        Some(v) if v.report.valid => part("validation", VALIDATED, "validated".into()),
        Some(v) => part(
            "validation",
            0,
            format!("failed validation ({} issues)", v.report.issues.len()),
        ),
        None => part("validation", 0, "not validated yet".into()),
    };
    let phone = if fields.phones.iter().any(|p| p.e164.is_some()) {
        part("phone", PHONE, "has a phone number".into())
    } else if fields.phones.is_empty() {
        part("phone", 0, "no phone number".into())
    } else {
        part("phone", 0, "no phone number that reads as one".into())
    };
    let parts = vec![seniority, stage, domain, validation, phone];
    let score = parts
        .iter()
        .map(|p| u32::from(p.points))
        .sum::<u32>()
        .min(u32::from(MAX_ICP)) as u8;
    IcpScore { score, parts }
}

/// The domain of an address, lower-cased (`dana@Acme.io` → `acme.io`).
pub fn email_domain(email: &str) -> Option<String> {
    email
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_lowercase())
        .filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seniority_reads_whole_words() {
        let rows: &[(&str, Option<Seniority>)] = &[
            ("CEO", Some(Seniority::CLevel)),
            ("Co-Founder & CTO", Some(Seniority::CLevel)),
            ("Owner", Some(Seniority::CLevel)),
            ("President", Some(Seniority::CLevel)),
            ("Vice President, Sales", Some(Seniority::Vp)),
            ("VP Engineering", Some(Seniority::Vp)),
            ("Head of Growth", Some(Seniority::Vp)),
            ("Headhunter", Some(Seniority::Other)),
            ("Director of Marketing", Some(Seniority::Director)),
            ("Directory Admin", Some(Seniority::Other)),
            ("Account Manager", Some(Seniority::Manager)),
            ("Chief of Staff", Some(Seniority::CLevel)),
            ("Ownership analyst", Some(Seniority::Other)),
            ("Software Engineer", Some(Seniority::Other)),
            ("  ", None),
        ];
        for (title, expected) in rows {
            assert_eq!(Seniority::of(title), *expected, "{title:?}");
        }
    }

    #[test]
    fn stage_points_are_at_most_twenty() {
        for stage in LifecycleStage::ALL {
            assert!(stage_points(*stage) <= 20, "{stage:?}");
        }
        assert_eq!(
            C_LEVEL + 20 + COMPANY_DOMAIN + VALIDATED + PHONE,
            MAX_ICP,
            "the best contact scores exactly 100"
        );
    }

    #[test]
    fn email_domain_is_lower_case() {
        assert_eq!(email_domain("dana@Acme.IO").as_deref(), Some("acme.io"));
        assert_eq!(email_domain("nobody"), None);
    }
}
