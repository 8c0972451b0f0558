//! Decide and apply: `defined → updated*`. Both are pure: time and actor come in with the
//! command. Every command is safe to retry: repeating one that already took effect decides
//! no events.

use super::command::PipelineCommand;
use super::error::PipelineError;
use super::event::*;
use super::state::{PipelineDefinition, PipelineView};
use crate::aggregate::Aggregate;

impl Aggregate for PipelineDefinition {
    const TYPE: &'static str = "pipeline";
    const EVENT_VERSION: &'static str = PIPELINE_EVENT_VERSION;
    type Command = PipelineCommand;
    type Event = PipelineEvent;
    type Error = PipelineError;
    type View = PipelineView;

    fn command_name(command: &PipelineCommand) -> &'static str {
        match command {
            PipelineCommand::Define(_) => "define",
            PipelineCommand::Update(_) => "update",
        }
    }

    fn event_name(event: &PipelineEvent) -> &'static str {
        event.name()
    }

    fn view(&self) -> Option<&PipelineView> {
        self.pipeline.as_ref()
    }

    fn into_view(self) -> Option<PipelineView> {
        self.pipeline
    }

    fn decide(&self, command: PipelineCommand) -> Result<Vec<PipelineEvent>, PipelineError> {
        let event = match command {
            PipelineCommand::Define(define) => match &self.pipeline {
                Some(current) if current.pipeline == define.pipeline => return Ok(Vec::new()),
                Some(_) => return Err(PipelineError::AlreadyExists),
                None => PipelineEvent::PipelineDefined(PipelineDefined {
                    pipeline: define.pipeline,
                    source: define.source,
                    by: define.by,
                    at: define.at,
                }),
            },
            PipelineCommand::Update(update) => {
                let current = self.pipeline.as_ref().ok_or(PipelineError::NotFound)?;
                if current.pipeline.id() != update.pipeline.id() {
                    return Err(PipelineError::invalid(
                        "id",
                        "must be the pipeline's own id",
                    ));
                }
                if current.pipeline == update.pipeline && current.source == update.source {
                    return Ok(Vec::new());
                }
                PipelineEvent::PipelineUpdated(PipelineUpdated {
                    pipeline: update.pipeline,
                    source: update.source,
                    by: update.by,
                    at: update.at,
                })
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: PipelineEvent) {
        match event {
            PipelineEvent::PipelineDefined(e) => {
                self.pipeline = Some(PipelineView {
                    pipeline: e.pipeline,
                    source: e.source,
                    created_by: e.by,
                    created_at: e.at,
                    updated_at: e.at,
                    version: 1,
                });
            }
            PipelineEvent::PipelineUpdated(e) => {
                if let Some(view) = self.pipeline.as_mut() {
                    view.pipeline = e.pipeline;
                    view.source = e.source;
                    view.updated_at = e.at;
                    view.version += 1;
                }
            }
        }
    }
}
