//! Decide and apply. Both are pure: time and actor come in with the command. Every command
//! is safe to retry: repeating one that already took effect decides no events.

use super::command::{fields_of, ContactCommand};
use super::error::ContactError;
use super::event::*;
use super::fields::{diff, ContactFields};
use super::merge::{merge_changes, unmerge_fields};
use super::state::{Absorbed, Archived, Contact, ContactView, MergedInto, Validation};
use super::types::ContactStatus;
use crate::aggregate::Aggregate;

/// Longest first name, last name, job title or company name, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest custom property value or archive reason, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most custom properties on one contact.
pub const MAX_CUSTOM_PROPERTIES: usize = 100;
/// Most emails, and most phones, on one contact.
pub const MAX_LIST_ITEMS: usize = 20;

fn check(fields: &ContactFields) -> Result<(), ContactError> {
    if fields.first_name.is_none()
        && fields.last_name.is_none()
        && fields.emails.is_empty()
        && fields.phones.is_empty()
    {
        return Err(ContactError::WouldBeEmpty);
    }
    if fields.custom.len() > MAX_CUSTOM_PROPERTIES {
        return Err(ContactError::invalid(
            "custom",
            format!("may hold at most {MAX_CUSTOM_PROPERTIES} properties"),
        ));
    }
    if fields.emails.len() > MAX_LIST_ITEMS {
        return Err(ContactError::invalid(
            "emails",
            format!("may hold at most {MAX_LIST_ITEMS} addresses"),
        ));
    }
    if fields.phones.len() > MAX_LIST_ITEMS {
        return Err(ContactError::invalid(
            "phones",
            format!("may hold at most {MAX_LIST_ITEMS} numbers"),
        ));
    }
    Ok(())
}

impl Contact {
    fn current(&self) -> Result<&ContactView, ContactError> {
        self.contact.as_ref().ok_or(ContactError::NotFound)
    }

    /// The contact, if it may change: not merged away, not archived.
    fn editable(&self) -> Result<&ContactView, ContactError> {
        let contact = self.current()?;
        match contact.status {
            ContactStatus::Active => Ok(contact),
            ContactStatus::Archived => Err(ContactError::Archived),
            ContactStatus::Merged => Err(ContactError::Merged),
        }
    }
}

impl Aggregate for Contact {
    const TYPE: &'static str = "contact";
    const EVENT_VERSION: &'static str = CONTACT_EVENT_VERSION;
    type Command = ContactCommand;
    type Event = ContactEvent;
    type Error = ContactError;
    type View = ContactView;

    fn command_name(command: &ContactCommand) -> &'static str {
        match command {
            ContactCommand::Create(_) => "create",
            ContactCommand::Edit(_) => "edit",
            ContactCommand::RecordValidation { .. } => "record_validation",
            ContactCommand::MergeInto(_) => "merge_into",
            ContactCommand::Absorb(_) => "absorb",
            ContactCommand::Unmerge { .. } => "unmerge",
            ContactCommand::Unabsorb { .. } => "unabsorb",
            ContactCommand::Archive { .. } => "archive",
            ContactCommand::Restore { .. } => "restore",
        }
    }

    fn event_name(event: &ContactEvent) -> &'static str {
        event.name()
    }

    fn view(&self) -> Option<&ContactView> {
        self.contact.as_ref()
    }

    fn into_view(self) -> Option<ContactView> {
        self.contact
    }

    fn decide(&self, command: ContactCommand) -> Result<Vec<ContactEvent>, ContactError> {
        let event = match command {
            ContactCommand::Create(create) => {
                if self.contact.is_some() {
                    return Err(ContactError::AlreadyExists);
                }
                let create = *create;
                let fields = fields_of(create.fields);
                // A new contact with nothing to know it by is a bad request, not a conflict.
                check(&fields).map_err(|e| match e {
                    ContactError::WouldBeEmpty => ContactError::invalid(
                        "fields",
                        "a contact needs a name, an email or a phone",
                    ),
                    other => other,
                })?;
                ContactEvent::ContactCreated(Box::new(ContactCreated {
                    contact_id: create.id,
                    fields,
                    source: create.source,
                    import_id: create.import_id,
                    demo: create.demo,
                    by: create.by,
                    at: create.at,
                }))
            }
            ContactCommand::Edit(edit) => {
                let contact = self.editable()?;
                let mut after = contact.fields.clone();
                for value in edit.fields {
                    value.apply_to(&mut after);
                }
                check(&after)?;
                let changes = diff(&contact.fields, &after);
                if changes.is_empty() {
                    return Ok(Vec::new());
                }
                ContactEvent::ContactFieldsChanged(ContactFieldsChanged {
                    changes,
                    source: edit.source,
                    by: edit.by,
                    at: edit.at,
                })
            }
            ContactCommand::RecordValidation { report, by, at } => {
                let contact = self.editable()?;
                if contact
                    .validation
                    .as_ref()
                    .is_some_and(|v| v.report == report)
                {
                    return Ok(Vec::new());
                }
                ContactEvent::ContactValidated(ContactValidated { report, by, at })
            }
            ContactCommand::MergeInto(merge) => {
                let contact = self.current()?;
                if merge.primary == contact.id {
                    return Err(ContactError::MergeWithItself);
                }
                if let Some(merged) = &contact.merged_into {
                    return if merged.merge_id == merge.merge_id {
                        Ok(Vec::new())
                    } else {
                        Err(ContactError::Merged)
                    };
                }
                if contact.unmerged.contains(&merge.merge_id) {
                    return Ok(Vec::new());
                }
                self.editable()?;
                ContactEvent::ContactMergedInto(ContactMergedInto {
                    primary: merge.primary,
                    merge_id: merge.merge_id,
                    choices: merge.choices,
                    pair_id: merge.pair_id,
                    by: merge.by,
                    at: merge.at,
                })
            }
            ContactCommand::Absorb(absorb) => {
                let contact = self.current()?;
                if absorb.absorbed == contact.id {
                    return Err(ContactError::MergeWithItself);
                }
                if contact
                    .absorbed
                    .iter()
                    .any(|a| a.merge_id == absorb.merge_id)
                {
                    return Ok(Vec::new());
                }
                let contact = self.editable()?;
                let changes =
                    merge_changes(&contact.fields, &absorb.absorbed_fields, &absorb.choices);
                ContactEvent::ContactAbsorbed(Box::new(ContactAbsorbed {
                    absorbed: absorb.absorbed,
                    merge_id: absorb.merge_id,
                    choices: absorb.choices,
                    absorbed_fields: absorb.absorbed_fields,
                    changes,
                    pair_id: absorb.pair_id,
                    by: absorb.by,
                    at: absorb.at,
                }))
            }
            ContactCommand::Unmerge { merge_id, by, at } => {
                let contact = self.current()?;
                match &contact.merged_into {
                    Some(merged) if merged.merge_id == merge_id => {
                        ContactEvent::ContactUnmerged(ContactUnmerged {
                            primary: merged.primary,
                            merge_id,
                            by,
                            at,
                        })
                    }
                    _ if contact.unmerged.contains(&merge_id) => return Ok(Vec::new()),
                    _ => return Err(ContactError::NotMerged),
                }
            }
            ContactCommand::Unabsorb { merge_id, by, at } => {
                let contact = self.current()?;
                let absorbed = contact
                    .absorbed
                    .iter()
                    .find(|a| a.merge_id == merge_id)
                    .ok_or(ContactError::MergeNotFound)?;
                if absorbed.unmerged_at.is_some() {
                    return Ok(Vec::new());
                }
                if contact.status == ContactStatus::Merged {
                    return Err(ContactError::Merged);
                }
                let restored = unmerge_fields(&contact.fields, &absorbed.changes);
                ContactEvent::ContactUnabsorbed(ContactUnabsorbed {
                    absorbed: absorbed.contact,
                    merge_id,
                    changes: diff(&contact.fields, &restored),
                    by,
                    at,
                })
            }
            ContactCommand::Archive { reason, by, at } => {
                let contact = self.current()?;
                match contact.status {
                    ContactStatus::Archived => return Ok(Vec::new()),
                    ContactStatus::Merged => return Err(ContactError::Merged),
                    ContactStatus::Active => ContactEvent::ContactArchived(ContactArchived {
                        reason: reason.map(|r| r.into_string()),
                        by,
                        at,
                    }),
                }
            }
            ContactCommand::Restore { by, at } => {
                let contact = self.current()?;
                match contact.status {
                    ContactStatus::Active => return Ok(Vec::new()),
                    ContactStatus::Merged => return Err(ContactError::Merged),
                    ContactStatus::Archived => {
                        ContactEvent::ContactRestored(ContactRestored { by, at })
                    }
                }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: ContactEvent) {
        if let ContactEvent::ContactCreated(created) = event {
            let created = *created;
            self.contact = Some(ContactView {
                id: created.contact_id,
                status: ContactStatus::Active,
                fields: created.fields,
                source: created.source,
                import_id: created.import_id,
                demo: created.demo,
                validation: None,
                merged_into: None,
                absorbed: Vec::new(),
                unmerged: Vec::new(),
                archived: None,
                created_by: created.by,
                created_at: created.at,
                updated_at: created.at,
                version: 1,
            });
            return;
        }
        let Some(contact) = self.contact.as_mut() else {
            return;
        };
        contact.version += 1;
        match event {
            ContactEvent::ContactCreated(_) => {}
            ContactEvent::ContactFieldsChanged(e) => {
                contact.fields.apply(&e.changes);
                contact.updated_at = e.at;
            }
            ContactEvent::ContactValidated(e) => {
                contact.updated_at = e.at;
                contact.validation = Some(Validation {
                    report: e.report,
                    by: e.by,
                    at: e.at,
                });
            }
            ContactEvent::ContactMergedInto(e) => {
                contact.status = ContactStatus::Merged;
                contact.updated_at = e.at;
                contact.merged_into = Some(MergedInto {
                    primary: e.primary,
                    merge_id: e.merge_id,
                    choices: e.choices,
                    pair_id: e.pair_id,
                    by: e.by,
                    at: e.at,
                });
            }
            ContactEvent::ContactAbsorbed(e) => {
                let e = *e;
                contact.fields.apply(&e.changes);
                contact.updated_at = e.at;
                contact.absorbed.push(Absorbed {
                    contact: e.absorbed,
                    merge_id: e.merge_id,
                    changes: e.changes,
                    pair_id: e.pair_id,
                    by: e.by,
                    at: e.at,
                    unmerged_at: None,
                });
            }
            ContactEvent::ContactUnmerged(e) => {
                contact.status = if contact.archived.is_some() {
                    ContactStatus::Archived
                } else {
                    ContactStatus::Active
                };
                contact.merged_into = None;
                contact.unmerged.push(e.merge_id);
                contact.updated_at = e.at;
            }
            ContactEvent::ContactUnabsorbed(e) => {
                contact.fields.apply(&e.changes);
                contact.updated_at = e.at;
                if let Some(absorbed) = contact
                    .absorbed
                    .iter_mut()
                    .find(|a| a.merge_id == e.merge_id)
                {
                    absorbed.unmerged_at = Some(e.at);
                }
            }
            ContactEvent::ContactArchived(e) => {
                contact.status = ContactStatus::Archived;
                contact.updated_at = e.at;
                contact.archived = Some(Archived {
                    reason: e.reason,
                    by: e.by,
                    at: e.at,
                });
            }
            ContactEvent::ContactRestored(e) => {
                contact.status = ContactStatus::Active;
                contact.archived = None;
                contact.updated_at = e.at;
            }
        }
    }
}
