//! Auto-approval rules as the write side needs them: the first start's seed rules.

use caseyos_domain::auto_approval::{seed_rules, AutoApprovalRule, RuleCommand, RuleError};
use caseyos_domain::kernel::Actor;
use caseyos_store::bus::{CommandBus, CommandError, CommandMeta};
use caseyos_store::now;

/// Who defines the seed rules.
const FIRST_START: &str = "first-start";

/// Defines the seed's three rules, **disabled**, unless each exists (whatever an admin has
/// made of it since, deleted included). Safe on every start and on several instances.
pub async fn ensure_seed_rules(bus: &CommandBus) -> Result<(), CommandError<RuleError>> {
    for (rule_id, definition) in seed_rules() {
        let command = RuleCommand::Create {
            rule_id,
            definition,
            by: Actor::system(FIRST_START),
            at: now(),
        };
        match bus
            .execute::<AutoApprovalRule>(rule_id, command, &CommandMeta::system(FIRST_START))
            .await
        {
            Ok(_) | Err(CommandError::Rejected(RuleError::AlreadyExists)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}
