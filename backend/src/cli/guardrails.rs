//! `caseyos kill-switch`: the global kill switch from a shell, as `POST /api/admin/kill-switch`
//! changes it — the same command on the `execution_settings` aggregate, recorded with the
//! configured operator as its actor. It works with the server down: the executor reads the
//! switch from the event store before every start.

use anyhow::Context;
use caseyos_domain::executions::settings::{
    ExecutionSettings, SettingsCommand, SettingsView, SETTINGS_ID,
};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::queue::MAX_TEXT_CHARS;
use caseyos_store::bus::Unobserved;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandMeta};
use sqlx::PgPool;

use crate::config::Config;

/// What to do with the switch.
pub enum Change {
    Engage { reason: Option<String> },
    Release { reason: Option<String> },
    Status,
}

pub async fn kill_switch(
    pool: &PgPool,
    config: &Config,
    change: Change,
    json: bool,
) -> anyhow::Result<()> {
    let (engaged, reason) = match change {
        Change::Engage { reason } => (true, reason),
        Change::Release { reason } => (false, reason),
        Change::Status => {
            let settings: ExecutionSettings = state_at(pool, &SETTINGS_ID.to_string(), i64::MAX)
                .await
                .context("reading the guardrails")?;
            return print(&settings.current(), None, json);
        }
    };
    let reason = Text::parse_optional(reason.as_deref(), MAX_TEXT_CHARS)
        .map_err(|m| anyhow::anyhow!("--reason {m}"))?;
    let bus = CommandBus::new(
        pool.clone(),
        config.snapshot_every,
        config.command_retries,
        std::sync::Arc::new(Unobserved),
    );
    let by = Actor::user(config.operator.clone());
    let mut meta = CommandMeta::system("cli");
    meta.actor = by.clone();
    let command = SettingsCommand::SetKillSwitch {
        engaged,
        reason: reason.map(Text::into_string),
        by,
        at: now(),
    };
    let committed = bus
        .execute::<ExecutionSettings>(SETTINGS_ID, command, &meta)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    print(&committed.state.current(), Some(committed.events), json)
}

fn print(settings: &SettingsView, events: Option<usize>, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(settings)?);
        return Ok(());
    }
    let state = if settings.kill_switch {
        "ENGAGED: nothing executes"
    } else {
        "released: approved moves execute"
    };
    let unchanged = if events == Some(0) {
        " (it already was; nothing changed)"
    } else {
        ""
    };
    println!("Kill switch {state}{unchanged}.");
    if let Some(change) = &settings.kill_switch_changed {
        let reason = change
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        println!(
            "Last changed by {} at {}{reason}.",
            change.by,
            change.at.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    println!("Send mode: {}.", settings.send_mode.as_str());
    Ok(())
}
