//! Agents' and runs' components: an agent's card with its Run dialog (a form generated from
//! the agent's input schema), a run's status, the dialog that cancels a run, and the
//! buttons that act on one.

pub mod agent_card;
pub mod agent_input;
pub mod cancel_dialog;
pub mod run_actions;
pub mod run_dialog;
pub mod run_status;

/// How often a run in progress is read again.
pub const POLL_MS: u32 = 700;
