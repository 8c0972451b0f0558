//! Requesting an agent run: the one way a run is asked for, from the API, the CLI or
//! another agent.

use caseyos_agents::AgentSpec;
use caseyos_domain::agent_run::{
    AgentRun, AgentRunCommand, AgentRunError, RequestAgentRun, RunTrigger,
};
use caseyos_domain::kernel::Actor;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta, Committed};
use serde_json::Value;
use uuid::Uuid;

use crate::config::Config;

/// Requests a run of `spec` (input already validated).
#[allow(clippy::too_many_arguments)]
pub async fn request_run(
    bus: &CommandBus,
    config: &Config,
    spec: &AgentSpec,
    input: Value,
    trigger: RunTrigger,
    retry_of: Option<Uuid>,
    by: Actor,
    meta: &CommandMeta,
) -> Result<Committed<AgentRun>, CommandError<AgentRunError>> {
    request_run_with_id(
        bus,
        config,
        Uuid::now_v7(),
        spec,
        input,
        trigger,
        retry_of,
        by,
        meta,
    )
    .await
}

/// [`request_run`] under a given id: one derived from what the run is for (a schedule's
/// slot), so asking twice is refused with `AgentRunError::AlreadyRequested` instead of
/// making a second run.
#[allow(clippy::too_many_arguments)]
pub async fn request_run_with_id(
    bus: &CommandBus,
    config: &Config,
    id: Uuid,
    spec: &AgentSpec,
    input: Value,
    trigger: RunTrigger,
    retry_of: Option<Uuid>,
    by: Actor,
    meta: &CommandMeta,
) -> Result<Committed<AgentRun>, CommandError<AgentRunError>> {
    let command = AgentRunCommand::Request(Box::new(RequestAgentRun {
        id,
        agent: spec.name.to_string(),
        domain: spec.domain,
        input,
        trigger,
        retry_of,
        timeout_ms: config.agent_timeout_ms(spec.name),
        max_attempts: config.agent_max_attempts,
        by,
        at: now(),
    }));
    // The id is new (a derived one that is taken after all is a conflict, loaded and
    // refused as already requested): no events to load first.
    bus.execute_new(id, command, meta, |_: &AgentRun| Ok(()))
        .await
}
