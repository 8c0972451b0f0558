//! Value types of Today's Moves, each parsed at the edge so the aggregate never sees raw
//! strings.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::kernel::unit_enum::read_unit_enum;
use crate::kernel::{CrmId, EmailAddress};

macro_rules! action_types {
    ($( $variant:ident => $name:literal, $label:literal, $domain:ident; )+) => {
        /// What a proposed move does. A closed set: the seed's 16 UI types plus the types its
        /// signal processors and executor emitted, each under one canonical name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ActionType { $( $variant, )+ }

        impl ActionType {
            pub const ALL: &'static [ActionType] = &[ $( ActionType::$variant, )+ ];

            /// The canonical snake_case name.
            pub const fn as_str(self) -> &'static str {
                match self { $( ActionType::$variant => $name, )+ }
            }

            /// A short human label, used to derive titles: "Send email".
            pub const fn label(self) -> &'static str {
                match self { $( ActionType::$variant => $label, )+ }
            }

            /// The domain a move of this type belongs to unless the proposer says otherwise.
            pub const fn default_domain(self) -> QueueDomain {
                match self { $( ActionType::$variant => QueueDomain::$domain, )+ }
            }

            fn from_canonical(name: &str) -> Option<Self> {
                match name { $( $name => Some(ActionType::$variant), )+ _ => None }
            }
        }
    };
}

action_types! {
    // The seed UI's whitelist.
    SendEmail => "send_email", "Send email", Sales;
    BookMeeting => "book_meeting", "Book meeting", Sales;
    ReviewDeal => "review_deal", "Review deal", Sales;
    SendProposal => "send_proposal", "Send proposal", Sales;
    FollowUp => "follow_up", "Follow up", Sales;
    CheckIn => "check_in", "Check in", Sales;
    PrepMeeting => "prep_meeting", "Prepare meeting", Sales;
    ManualTask => "manual_task", "Task", Sales;
    ContentRepurpose => "content_repurpose", "Repurpose content", Marketing;
    SocialPost => "social_post", "Social post", Marketing;
    NewsletterDraft => "newsletter_draft", "Draft newsletter", Marketing;
    AssetCreate => "asset_create", "Create asset", Marketing;
    CsHealthCheck => "cs_health_check", "Health check", Cs;
    RenewalOutreach => "renewal_outreach", "Renewal outreach", Cs;
    RiskEscalation => "risk_escalation", "Escalate risk", Cs;
    OnboardingFollowUp => "onboarding_follow_up", "Onboarding follow-up", Cs;
    // Types the seed's signal processors, APS table and executor emitted.
    EmailFollowUp => "email_follow_up", "Follow up by email", Sales;
    ThreadBump => "thread_bump", "Bump thread", Sales;
    ThreadReply => "thread_reply", "Reply to thread", Sales;
    ReplyResponse => "reply_response", "Respond to reply", Sales;
    MeetingFollowUp => "meeting_follow_up", "Meeting follow-up", Sales;
    PresentationPrep => "presentation_prep", "Prepare presentation", Sales;
    ContractFollowUp => "contract_follow_up", "Contract follow-up", Sales;
    DealResearch => "deal_research", "Research deal", Sales;
    DealOutreach => "deal_outreach", "Deal outreach", Sales;
    DealProgression => "deal_progression", "Progress deal", Sales;
    UpdateDealStage => "update_deal_stage", "Update deal stage", Sales;
    WinLossAnalysis => "win_loss_analysis", "Win/loss analysis", Sales;
    UnsubscribeProcess => "unsubscribe_process", "Process unsubscribe", Sales;
    CreateDraft => "create_draft", "Create draft", Sales;
    CreateTask => "create_task", "Create task", Sales;
    CompleteTask => "complete_task", "Complete task", Sales;
    LogCall => "log_call", "Log call", Sales;
    UpdateCrm => "update_crm", "Update CRM", Sales;
    DataCleanup => "data_cleanup", "Clean up data", Sales;
    SocialEngage => "social_engage", "Engage on social", Marketing;
    SocialRespond => "social_respond", "Respond on social", Marketing;
    ThoughtLeaderEngage => "thought_leader_engage", "Engage thought leader", Marketing;
    CompetitiveIntel => "competitive_intel", "Competitive intel", Marketing;
    OnboardingKickoff => "onboarding_kickoff", "Onboarding kickoff", Cs;
}

/// Names the seed used for the same move, mapped to one canonical type.
pub const ACTION_TYPE_ALIASES: &[(&str, ActionType)] = &[
    ("schedule_meeting", ActionType::BookMeeting),
    ("deal_review", ActionType::ReviewDeal),
    ("proposal_send", ActionType::SendProposal),
    ("meeting_prep", ActionType::PrepMeeting),
    ("other", ActionType::ManualTask),
    ("custom", ActionType::ManualTask),
];

impl ActionType {
    /// Parses a type name: trimmed, case-insensitive, `-` and spaces read as `_`, the seed's
    /// aliases mapped to their canonical type. Unknown names are an error, never "other".
    pub fn parse(raw: &str) -> Result<Self, UnknownActionType> {
        let normalised: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        ActionType::from_canonical(&normalised)
            .or_else(|| {
                ACTION_TYPE_ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == normalised)
                    .map(|(_, t)| *t)
            })
            .ok_or_else(|| UnknownActionType(raw.to_string()))
    }
}

/// In OpenAPI an action type is a string enum of the canonical names.
#[cfg(feature = "server")]
impl utoipa::PartialSchema for ActionType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .enum_values(Some(ActionType::ALL.iter().map(|t| t.as_str())))
            .description(Some("What a move does; aliases such as `schedule_meeting` are accepted on input and normalised."))
            .into()
    }
}

#[cfg(feature = "server")]
impl utoipa::ToSchema for ActionType {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action type `{0}`")]
pub struct UnknownActionType(pub String);

impl fmt::Display for ActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActionType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActionType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        ActionType::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The part of the business a move serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QueueDomain {
    Sales,
    Marketing,
    Cs,
}

read_unit_enum!(QueueDomain {
    Sales = "sales",
    Marketing = "marketing",
    Cs = "cs",
});

impl QueueDomain {
    pub const ALL: &'static [QueueDomain] =
        &[QueueDomain::Sales, QueueDomain::Marketing, QueueDomain::Cs];

    pub const fn as_str(self) -> &'static str {
        match self {
            QueueDomain::Sales => "sales",
            QueueDomain::Marketing => "marketing",
            QueueDomain::Cs => "cs",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        QueueDomain::ALL
            .iter()
            .copied()
            .find(|d| d.as_str().eq_ignore_ascii_case(raw.trim()))
    }
}

/// Where a move stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    Pending,
    Snoozed,
    Approved,
    Rejected,
    Expired,
}

read_unit_enum!(QueueStatus {
    Pending = "pending",
    Snoozed = "snoozed",
    Approved = "approved",
    Rejected = "rejected",
    Expired = "expired",
});

impl QueueStatus {
    pub const ALL: &'static [QueueStatus] = &[
        QueueStatus::Pending,
        QueueStatus::Snoozed,
        QueueStatus::Approved,
        QueueStatus::Rejected,
        QueueStatus::Expired,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Pending => "pending",
            QueueStatus::Snoozed => "snoozed",
            QueueStatus::Approved => "approved",
            QueueStatus::Rejected => "rejected",
            QueueStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        QueueStatus::ALL
            .iter()
            .copied()
            .find(|s| s.as_str().eq_ignore_ascii_case(raw.trim()))
    }

    /// Still awaiting a decision.
    pub const fn is_open(self) -> bool {
        matches!(self, QueueStatus::Pending | QueueStatus::Snoozed)
    }
}

/// A contact a move is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactRef {
    pub id: CrmId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
}

/// A deal or company a move is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    pub id: CrmId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The records a move is about. Any of them may be absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::kernel::object"
    )]
    pub contact: Option<ContactRef>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::kernel::object"
    )]
    pub deal: Option<RecordRef>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::kernel::object"
    )]
    pub company: Option<RecordRef>,
}

impl Target {
    pub fn is_empty(&self) -> bool {
        self.contact.is_none() && self.deal.is_none() && self.company.is_none()
    }

    /// The most specific human name for the target: contact, then deal, then company.
    pub fn display_name(&self) -> Option<String> {
        fn named(name: &Option<String>) -> Option<String> {
            name.as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        }
        if let Some(c) = &self.contact {
            return named(&c.name)
                .or_else(|| c.email.as_ref().map(|e| e.as_str().to_string()))
                .or_else(|| Some(format!("contact {}", c.id.as_str())));
        }
        if let Some(d) = &self.deal {
            return named(&d.name).or_else(|| Some(format!("deal {}", d.id.as_str())));
        }
        self.company
            .as_ref()
            .map(|c| named(&c.name).unwrap_or_else(|| format!("company {}", c.id.as_str())))
    }
}

impl ActionType {
    /// Moves about a deal rather than a person: their titles name the deal.
    pub const fn is_about_a_deal(self) -> bool {
        matches!(
            self,
            ActionType::ReviewDeal
                | ActionType::DealResearch
                | ActionType::DealOutreach
                | ActionType::DealProgression
                | ActionType::UpdateDealStage
                | ActionType::WinLossAnalysis
                | ActionType::RenewalOutreach
                | ActionType::RiskEscalation
        )
    }
}

/// The title of a move with none given: "Send email — Dana Lee", "Review deal — Acme
/// expansion", or just the label.
pub fn derive_title(action: ActionType, target: &Target) -> String {
    let subject = match &target.deal {
        Some(deal) if action.is_about_a_deal() => Target {
            deal: Some(deal.clone()),
            ..Target::default()
        }
        .display_name(),
        _ => target.display_name(),
    };
    match subject {
        Some(name) => format!("{} — {}", action.label(), name),
        None => action.label().to_string(),
    }
}

/// Where a proposed move came from.
///
/// In the SPA (wasm32) it is read by [`wasm_source`]'s single pass instead of the derived
/// reader: an internally tagged enum's derived reader buffers the object in serde's generic
/// content tree first, which costs the SPA's size budget about 10 KB for this one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// Proposed by a person.
    Manual,
    /// Proposed by an agent run.
    AgentRun { run_id: uuid::Uuid },
    /// Derived from an external signal (a HubSpot change, an inbound email, a form).
    Signal { provider: String, signal_id: String },
}

/// The SPA's reader of [`Source`]: the same JSON in, the same value out, in one pass over
/// the object (the tag may come anywhere). It reads only what the server wrote; requests are
/// read by the derived reader, on the server.
#[cfg(target_arch = "wasm32")]
mod wasm_source {
    use serde::de::{Error, IgnoredAny, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    use super::Source;

    impl<'de> Deserialize<'de> for Source {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_map(SourceVisitor)
        }
    }

    struct SourceVisitor;

    impl<'de> Visitor<'de> for SourceVisitor {
        type Value = Source;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a source object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Source, A::Error> {
            let (mut kind, mut run_id, mut provider, mut signal_id) =
                (None::<String>, None, None, None);
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "kind" => kind = Some(map.next_value()?),
                    "run_id" => run_id = Some(map.next_value()?),
                    "provider" => provider = Some(map.next_value()?),
                    "signal_id" => signal_id = Some(map.next_value()?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            let missing = |field| A::Error::missing_field(field);
            match kind.as_deref() {
                Some("manual") => Ok(Source::Manual),
                Some("agent_run") => Ok(Source::AgentRun {
                    run_id: run_id.ok_or_else(|| missing("run_id"))?,
                }),
                Some("signal") => Ok(Source::Signal {
                    provider: provider.ok_or_else(|| missing("provider"))?,
                    signal_id: signal_id.ok_or_else(|| missing("signal_id"))?,
                }),
                Some(other) => Err(A::Error::unknown_variant(
                    other,
                    &["manual", "agent_run", "signal"],
                )),
                None => Err(missing("kind")),
            }
        }
    }
}

/// Who wrote a move's draft (its payload's text). People review drafts before they are
/// sent; they need to know whether a model wrote one or code filled in a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DraftOrigin {
    /// Filled in by code from a fixed template and the input's fields (the offline writer
    /// when no language model is configured, or an agent that writes no other way). No
    /// language model wrote it.
    OfflineTemplate,
    /// Written by a language model.
    Llm,
}

read_unit_enum!(DraftOrigin {
    OfflineTemplate = "offline_template",
    Llm = "llm",
});

/// How a move's draft was written. Absent on moves whose payload a person wrote (or that
/// carry no draft) and on moves proposed before this was recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub origin: DraftOrigin,
    /// The model that wrote it (the provider's name), for `llm` drafts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Draft {
    /// A draft filled in from a template.
    pub const fn offline_template() -> Self {
        Draft {
            origin: DraftOrigin::OfflineTemplate,
            model: None,
        }
    }

    /// A draft a language model wrote; `model` as the provider named it.
    pub fn llm(model: Option<String>) -> Self {
        Draft {
            origin: DraftOrigin::Llm,
            model,
        }
    }

    /// What the SPA shows on the move: "Offline template — not written by a model", or
    /// "Written by a model (gpt-4o)".
    pub fn label(&self) -> String {
        match (self.origin, self.model.as_deref()) {
            (DraftOrigin::OfflineTemplate, _) => {
                "Offline template — not written by a model".to_string()
            }
            (DraftOrigin::Llm, Some(model)) => format!("Written by a model ({model})"),
            (DraftOrigin::Llm, None) => "Written by a model".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_types_parse_case_and_separator_insensitively() {
        let table = [
            ("send_email", ActionType::SendEmail),
            ("Send-Email", ActionType::SendEmail),
            (" SEND EMAIL ", ActionType::SendEmail),
            ("schedule_meeting", ActionType::BookMeeting),
            ("meeting_prep", ActionType::PrepMeeting),
            ("proposal_send", ActionType::SendProposal),
            ("deal_review", ActionType::ReviewDeal),
            ("other", ActionType::ManualTask),
            ("social_engage", ActionType::SocialEngage),
        ];
        for (raw, expected) in table {
            assert_eq!(ActionType::parse(raw), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn unknown_action_types_are_errors_not_other() {
        for raw in ["", "launch_rocket", "send__email", "sendemail"] {
            assert!(ActionType::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn every_canonical_name_parses_back_to_itself() {
        for t in ActionType::ALL {
            assert_eq!(ActionType::parse(t.as_str()), Ok(*t));
        }
        assert_eq!(ActionType::ALL.len(), 40);
    }

    #[test]
    fn the_seeds_sixteen_ui_types_are_all_accepted() {
        for raw in [
            "send_email",
            "book_meeting",
            "review_deal",
            "send_proposal",
            "follow_up",
            "check_in",
            "prep_meeting",
            "other",
            "content_repurpose",
            "social_post",
            "newsletter_draft",
            "asset_create",
            "cs_health_check",
            "renewal_outreach",
            "risk_escalation",
            "onboarding_follow_up",
        ] {
            assert!(ActionType::parse(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn titles_are_derived_from_type_and_the_most_specific_target() {
        let contact = ContactRef {
            id: CrmId::parse("101").unwrap(),
            name: Some("Dana Lee".into()),
            email: None,
        };
        let deal = RecordRef {
            id: CrmId::parse("d-7").unwrap(),
            name: Some("Acme expansion".into()),
        };
        let with_contact = Target {
            contact: Some(contact.clone()),
            deal: Some(deal.clone()),
            company: None,
        };
        assert_eq!(
            derive_title(ActionType::SendEmail, &with_contact),
            "Send email — Dana Lee"
        );
        let with_deal = Target {
            deal: Some(deal),
            ..Target::default()
        };
        assert_eq!(
            derive_title(ActionType::ReviewDeal, &with_deal),
            "Review deal — Acme expansion"
        );
        let unnamed = Target {
            contact: Some(ContactRef {
                name: None,
                email: Some(EmailAddress::parse("Dana@Acme.io").unwrap()),
                ..contact
            }),
            ..Target::default()
        };
        assert_eq!(
            derive_title(ActionType::FollowUp, &unnamed),
            "Follow up — dana@acme.io"
        );
        assert_eq!(
            derive_title(ActionType::SocialPost, &Target::default()),
            "Social post"
        );
    }
}
