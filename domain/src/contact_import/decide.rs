//! Decide and apply. Both are pure; every command is safe to repeat (a batch recorded
//! already, a finish already recorded, decide no events).

use super::command::ContactImportCommand;
use super::error::ContactImportError;
use super::event::*;
use super::state::{ContactImport, ContactImportView, ImportStatus, MAX_ERRORS_KEPT};
use crate::aggregate::Aggregate;

impl Aggregate for ContactImport {
    const TYPE: &'static str = "contact_import";
    const EVENT_VERSION: &'static str = CONTACT_IMPORT_EVENT_VERSION;
    type Command = ContactImportCommand;
    type Event = ContactImportEvent;
    type Error = ContactImportError;
    type View = ContactImportView;

    fn command_name(command: &ContactImportCommand) -> &'static str {
        match command {
            ContactImportCommand::Start(_) => "start",
            ContactImportCommand::RecordProgress(_) => "record_progress",
            ContactImportCommand::Complete { .. } => "complete",
            ContactImportCommand::Fail { .. } => "fail",
        }
    }

    fn event_name(event: &ContactImportEvent) -> &'static str {
        event.name()
    }

    fn view(&self) -> Option<&ContactImportView> {
        self.import.as_ref()
    }

    fn into_view(self) -> Option<ContactImportView> {
        self.import
    }

    fn decide(
        &self,
        command: ContactImportCommand,
    ) -> Result<Vec<ContactImportEvent>, ContactImportError> {
        if let ContactImportCommand::Start(start) = command {
            if self.import.is_some() {
                return Err(ContactImportError::AlreadyExists);
            }
            return Ok(vec![ContactImportEvent::ContactImportStarted(
                ContactImportStarted {
                    import_id: start.id,
                    file_name: start.file_name.map(|n| n.into_string()),
                    size: start.size,
                    by: start.by,
                    at: start.at,
                },
            )]);
        }
        let import = self.import.as_ref().ok_or(ContactImportError::NotFound)?;
        let event = match command {
            ContactImportCommand::Start(_) => return Err(ContactImportError::AlreadyExists),
            ContactImportCommand::RecordProgress(progress) => {
                if progress.resume.offset <= import.resume.offset {
                    // This batch (or a later one) is recorded already.
                    return Ok(vec![]);
                }
                if import.status != ImportStatus::Running {
                    return Err(ContactImportError::Finished);
                }
                if progress.from != import.resume {
                    return Err(ContactImportError::OutOfOrder);
                }
                ContactImportEvent::ContactImportProgressed(ContactImportProgressed {
                    counts: progress.counts,
                    errors: progress.errors,
                    resume: progress.resume,
                    at: progress.at,
                })
            }
            ContactImportCommand::Complete { at } => match import.status {
                ImportStatus::Completed => return Ok(vec![]),
                ImportStatus::Failed => return Err(ContactImportError::Finished),
                ImportStatus::Running => {
                    ContactImportEvent::ContactImportCompleted(ContactImportCompleted { at })
                }
            },
            ContactImportCommand::Fail { error, at } => match import.status {
                ImportStatus::Failed => return Ok(vec![]),
                ImportStatus::Completed => return Err(ContactImportError::Finished),
                ImportStatus::Running => {
                    ContactImportEvent::ContactImportFailed(ContactImportFailed {
                        error: error.into_string(),
                        at,
                    })
                }
            },
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: ContactImportEvent) {
        if let ContactImportEvent::ContactImportStarted(e) = event {
            self.import = Some(ContactImportView {
                id: e.import_id,
                status: ImportStatus::Running,
                file_name: e.file_name,
                size: e.size,
                counts: ImportCounts::default(),
                errors: Vec::new(),
                resume: Default::default(),
                error: None,
                started_by: e.by,
                started_at: e.at,
                finished_at: None,
                updated_at: e.at,
                version: 1,
            });
            return;
        }
        let Some(import) = self.import.as_mut() else {
            return;
        };
        import.version += 1;
        match event {
            ContactImportEvent::ContactImportStarted(_) => {}
            ContactImportEvent::ContactImportProgressed(e) => {
                import.counts.add(&e.counts);
                let room = MAX_ERRORS_KEPT.saturating_sub(import.errors.len());
                import.errors.extend(e.errors.into_iter().take(room));
                import.resume = e.resume;
                import.updated_at = e.at;
            }
            ContactImportEvent::ContactImportCompleted(e) => {
                import.status = ImportStatus::Completed;
                import.finished_at = Some(e.at);
                import.updated_at = e.at;
            }
            ContactImportEvent::ContactImportFailed(e) => {
                import.status = ImportStatus::Failed;
                import.error = Some(e.error);
                import.finished_at = Some(e.at);
                import.updated_at = e.at;
            }
        }
    }
}
