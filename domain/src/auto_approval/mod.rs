//! Auto-approval as rules: rules as data (aggregate `auto_approval_rule`: replied before,
//! known good recipient, high ICP score — the ICP computed here, [`icp`], never taken from a
//! caller), each with a confidence, a priority and on/off; and the decision on every
//! proposed move (aggregate `auto_approval_decision`), approved by which rule or needing
//! review, with every rule's check. The seed's three rules ship disabled ([`seed_rules`]).

pub mod decision;
pub mod icp;
pub mod rule;

#[cfg(test)]
mod tests;

pub use decision::*;
pub use rule::*;

use uuid::Uuid;

const SEED_NAMESPACE: Uuid = Uuid::from_u128(0x6a1e_44d0_8c3b_4f95_b217_5e9c_0d8a_32b4);

/// The seed's rules, defined on first start, **disabled**: nothing auto-approves until an
/// admin enables one. Their ids are fixed (v5 of their kind), so every start names the
/// same rules.
pub fn seed_rules() -> Vec<(Uuid, RuleDefinition)> {
    let rule = |name: &str, condition: RuleCondition, confidence, priority| {
        (
            Uuid::new_v5(&SEED_NAMESPACE, condition.kind().as_bytes()),
            RuleDefinition {
                name: name.to_string(),
                condition,
                confidence,
                priority,
                enabled: false,
                action_types: default_action_types(),
            },
        )
    };
    vec![
        rule(
            "Replied before",
            RuleCondition::RepliedBefore {
                days_lookback: DEFAULT_DAYS_LOOKBACK,
            },
            95,
            1,
        ),
        rule(
            "Known good recipient",
            RuleCondition::KnownGoodRecipient {
                min_sends: DEFAULT_MIN_SENDS,
            },
            90,
            2,
        ),
        rule(
            "High ICP score",
            RuleCondition::HighIcpScore {
                min_score: DEFAULT_MIN_SCORE,
                require_domain_match: true,
            },
            85,
            3,
        ),
    ]
}
