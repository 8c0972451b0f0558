//! The operator's switches over execution (aggregate `execution_settings`, one, id
//! [`SETTINGS_ID`]): the global kill switch and send mode. Every change is an event with
//! who made it and why; the starting state is send mode `draft_only`, kill switch released,
//! auto-approval on (its rules ship disabled) — its emergency stop turns it off at once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::guardrails::SendMode;
use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::Actor;

/// The one settings aggregate's id.
pub const SETTINGS_ID: Uuid = Uuid::from_u128(0x0e5c_a7f1_6b2d_4c80_9f13_8d4e_2a6b_c751);

pub const SETTINGS_EVENT_VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq)]
pub enum SettingsCommand {
    SetKillSwitch {
        engaged: bool,
        reason: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
    SetSendMode {
        mode: SendMode,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// The emergency stop of auto-approval (`enabled: false`) and its release.
    SetAutoApproval {
        enabled: bool,
        reason: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SettingsEvent {
    KillSwitchEngaged(SwitchChanged),
    KillSwitchReleased(SwitchChanged),
    SendModeChanged(SendModeChanged),
    AutoApprovalStopped(SwitchChanged),
    AutoApprovalResumed(SwitchChanged),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwitchChanged {
    pub reason: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendModeChanged {
    pub mode: SendMode,
    pub from: SendMode,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// Who last changed a switch, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Change {
    pub by: Actor,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The switches as the API shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SettingsView {
    pub kill_switch: bool,
    pub send_mode: SendMode,
    /// Whether enabled auto-approval rules may approve moves (true from the start; false
    /// while the emergency stop is on: every move needs review).
    #[serde(default = "on")]
    pub auto_approval: bool,
    /// The last change of each; absent while it has its starting value.
    pub kill_switch_changed: Option<Change>,
    pub send_mode_changed: Option<Change>,
    #[serde(default)]
    pub auto_approval_changed: Option<Change>,
    pub version: u64,
}

fn on() -> bool {
    true
}

impl Default for SettingsView {
    fn default() -> Self {
        SettingsView {
            kill_switch: false,
            send_mode: SendMode::default(),
            auto_approval: true,
            kill_switch_changed: None,
            send_mode_changed: None,
            auto_approval_changed: None,
            version: 0,
        }
    }
}

/// The settings aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecutionSettings {
    /// The starting values before any change.
    pub settings: SettingsView,
}

impl ExecutionSettings {
    /// The switches now.
    pub fn current(&self) -> SettingsView {
        self.settings.clone()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {}

impl DomainError for SettingsError {
    fn code(&self) -> &'static str {
        match *self {}
    }

    fn kind(&self) -> RejectionKind {
        match *self {}
    }
}

impl Aggregate for ExecutionSettings {
    const TYPE: &'static str = "execution_settings";
    const EVENT_VERSION: &'static str = SETTINGS_EVENT_VERSION;
    type Command = SettingsCommand;
    type Event = SettingsEvent;
    type Error = SettingsError;
    type View = SettingsView;

    fn command_name(command: &SettingsCommand) -> &'static str {
        match command {
            SettingsCommand::SetKillSwitch { .. } => "set_kill_switch",
            SettingsCommand::SetSendMode { .. } => "set_send_mode",
            SettingsCommand::SetAutoApproval { .. } => "set_auto_approval",
        }
    }

    fn event_name(event: &SettingsEvent) -> &'static str {
        match event {
            SettingsEvent::KillSwitchEngaged(_) => "KillSwitchEngaged",
            SettingsEvent::KillSwitchReleased(_) => "KillSwitchReleased",
            SettingsEvent::SendModeChanged(_) => "SendModeChanged",
            SettingsEvent::AutoApprovalStopped(_) => "AutoApprovalStopped",
            SettingsEvent::AutoApprovalResumed(_) => "AutoApprovalResumed",
        }
    }

    /// The switches always have a value: the starting one before any change.
    fn view(&self) -> Option<&SettingsView> {
        Some(&self.settings)
    }

    fn into_view(self) -> Option<SettingsView> {
        Some(self.settings)
    }

    fn decide(&self, command: SettingsCommand) -> Result<Vec<SettingsEvent>, SettingsError> {
        let now = self.current();
        Ok(match command {
            SettingsCommand::SetKillSwitch {
                engaged,
                reason,
                by,
                at,
            } => {
                if engaged == now.kill_switch {
                    return Ok(Vec::new());
                }
                let change = SwitchChanged { reason, by, at };
                vec![if engaged {
                    SettingsEvent::KillSwitchEngaged(change)
                } else {
                    SettingsEvent::KillSwitchReleased(change)
                }]
            }
            SettingsCommand::SetSendMode { mode, by, at } => {
                if mode == now.send_mode {
                    return Ok(Vec::new());
                }
                vec![SettingsEvent::SendModeChanged(SendModeChanged {
                    mode,
                    from: now.send_mode,
                    by,
                    at,
                })]
            }
            SettingsCommand::SetAutoApproval {
                enabled,
                reason,
                by,
                at,
            } => {
                if enabled == now.auto_approval {
                    return Ok(Vec::new());
                }
                let change = SwitchChanged { reason, by, at };
                vec![if enabled {
                    SettingsEvent::AutoApprovalResumed(change)
                } else {
                    SettingsEvent::AutoApprovalStopped(change)
                }]
            }
        })
    }

    fn apply(&mut self, event: SettingsEvent) {
        let view = &mut self.settings;
        view.version += 1;
        match event {
            SettingsEvent::KillSwitchEngaged(e) | SettingsEvent::KillSwitchReleased(e) => {
                view.kill_switch = !view.kill_switch;
                view.kill_switch_changed = Some(Change {
                    by: e.by,
                    at: e.at,
                    reason: e.reason,
                });
            }
            SettingsEvent::AutoApprovalStopped(e) | SettingsEvent::AutoApprovalResumed(e) => {
                view.auto_approval = !view.auto_approval;
                view.auto_approval_changed = Some(Change {
                    by: e.by,
                    at: e.at,
                    reason: e.reason,
                });
            }
            SettingsEvent::SendModeChanged(e) => {
                view.send_mode = e.mode;
                view.send_mode_changed = Some(Change {
                    by: e.by,
                    at: e.at,
                    reason: None,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::testing::Scenario;

    fn admin() -> Actor {
        Actor::user("ada")
    }

    fn at() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn sending_starts_draft_only_and_the_kill_switch_released() {
        let s = ExecutionSettings::default().current();
        assert_eq!((s.send_mode, s.kill_switch), (SendMode::DraftOnly, false));
    }

    #[test]
    fn auto_approval_starts_on_and_the_emergency_stop_turns_it_off_with_its_reason() {
        assert!(ExecutionSettings::default().current().auto_approval);
        let set = |enabled| SettingsCommand::SetAutoApproval {
            enabled,
            reason: Some("a rule approved the wrong moves".into()),
            by: admin(),
            at: at(),
        };
        let stopped = Scenario::<ExecutionSettings>::given_no_previous_events()
            .when(set(false))
            .inspect_result()
            .unwrap();
        assert!(matches!(
            stopped[..],
            [SettingsEvent::AutoApprovalStopped(_)]
        ));
        let state = Scenario::<ExecutionSettings>::given(stopped.clone())
            .when(set(false))
            .state_after();
        let view = state.current();
        assert!(!view.auto_approval);
        assert_eq!(
            view.auto_approval_changed.and_then(|c| c.reason).as_deref(),
            Some("a rule approved the wrong moves")
        );
        Scenario::<ExecutionSettings>::given(stopped.clone())
            .when(set(false))
            .then_expect_events(vec![]);
        let resumed = Scenario::<ExecutionSettings>::given(stopped)
            .when(set(true))
            .inspect_result()
            .unwrap();
        assert!(matches!(
            resumed[..],
            [SettingsEvent::AutoApprovalResumed(_)]
        ));
    }

    #[test]
    fn settings_stored_before_the_auto_approval_switch_read_it_as_on() {
        let old = serde_json::json!({"kill_switch": false, "send_mode": "draft_only",
            "kill_switch_changed": null, "send_mode_changed": null, "version": 0});
        let view: SettingsView = serde_json::from_value(old).unwrap();
        assert!(view.auto_approval);
    }

    #[test]
    fn engaging_twice_records_once_and_releasing_flips_it_back() {
        let engage = |engaged| SettingsCommand::SetKillSwitch {
            engaged,
            reason: Some("bad template".into()),
            by: admin(),
            at: at(),
        };
        let engaged = Scenario::<ExecutionSettings>::given_no_previous_events()
            .when(engage(true))
            .inspect_result()
            .unwrap();
        assert_eq!(engaged.len(), 1);
        let state = Scenario::<ExecutionSettings>::given(engaged.clone())
            .when(engage(true))
            .state_after();
        assert!(state.current().kill_switch);
        Scenario::<ExecutionSettings>::given(engaged.clone())
            .when(engage(true))
            .then_expect_events(vec![]);
        let released = Scenario::<ExecutionSettings>::given(engaged)
            .when(engage(false))
            .state_after();
        assert!(!released.current().kill_switch);
    }
}
