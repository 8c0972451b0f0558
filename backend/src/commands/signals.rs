//! Signals as every entry point records them — the manual API, the form webhook, the
//! HubSpot webhook reactor, the rule sweep (and the Gmail poller, which records
//! `reply_received` signals made by [`gmail_reply_signal`]): one command on the signal whose id is
//! `Signal::id_of(source, dedup_key)`, so a signal received twice, even at the same
//! instant, is recorded once and the second receipt is answered as a duplicate.

use caseyos_domain::deals::DealView;
use caseyos_domain::kernel::{Actor, EmailAddress, Text};
use caseyos_domain::signals::processors::{DealSnapshot, ReplyPayload};
use caseyos_domain::signals::{
    RecordSignal, Signal, SignalCommand, SignalEntities, SignalError, SignalKind, SignalSource,
    SignalView, MAX_DEDUP_KEY_CHARS,
};
use caseyos_store::{now, CommandBus, CommandError, CommandMeta, Committed};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

/// A signal recorded, or found recorded already.
#[derive(Debug)]
pub struct Recorded {
    pub committed: Committed<Signal>,
    /// Recorded before: this receipt recorded nothing.
    pub duplicate: bool,
}

impl Recorded {
    pub fn view(&self) -> Option<&SignalView> {
        self.committed.state.signal.as_ref()
    }
}

/// What to record.
#[derive(Clone, Debug)]
pub struct NewSignal {
    pub source: SignalSource,
    pub dedup_key: String,
    pub kind: SignalKind,
    pub payload: Value,
    pub entities: SignalEntities,
    pub occurred_at: DateTime<Utc>,
    pub by: Actor,
}

impl NewSignal {
    /// Its id.
    pub fn id(&self) -> Uuid {
        Signal::id_of(self.source, &self.dedup_key)
    }
}

/// Records a signal once per source and dedup key.
pub async fn record(
    bus: &CommandBus,
    signal: NewSignal,
    meta: &CommandMeta,
) -> Result<Recorded, CommandError<SignalError>> {
    let id = signal.id();
    let dedup_key = Text::parse(&signal.dedup_key, MAX_DEDUP_KEY_CHARS).map_err(|message| {
        CommandError::Rejected(SignalError::Invalid {
            field: "dedup_key",
            message,
        })
    })?;
    let command = SignalCommand::Record(Box::new(RecordSignal {
        source: signal.source,
        dedup_key,
        kind: signal.kind,
        payload: signal.payload,
        entities: signal.entities,
        occurred_at: signal.occurred_at,
        by: signal.by,
        at: now(),
    }));
    // New in the common case: the first attempt skips the load; a receipt that lost the
    // race is decided again on the stored state (no events: a duplicate).
    let committed = bus
        .execute_new::<Signal>(id, command, meta, |_| Ok(()))
        .await?;
    Ok(Recorded {
        duplicate: committed.events == 0,
        committed,
    })
}

/// The `reply_received` signal of a Gmail message (what the Gmail poller records): dedup key
/// the message id, so a message seen by two polls is one signal; the sender as
/// `contact_email`; the payload `{thread_id, message_id, from_email, subject, snippet}`.
pub fn gmail_reply_signal(
    thread_id: &str,
    message_id: &str,
    from_email: EmailAddress,
    subject: &str,
    snippet: &str,
    occurred_at: DateTime<Utc>,
) -> NewSignal {
    let payload = serde_json::to_value(ReplyPayload {
        thread_id: thread_id.to_string(),
        message_id: message_id.to_string(),
        from_email: from_email.clone(),
        subject: subject.to_string(),
        snippet: snippet.to_string(),
    })
    .unwrap_or_default();
    NewSignal {
        source: SignalSource::Gmail,
        dedup_key: message_id.to_string(),
        kind: SignalKind::ReplyReceived,
        payload,
        entities: SignalEntities {
            contact_email: Some(from_email),
            ..SignalEntities::default()
        },
        occurred_at,
        by: Actor::system("gmail_poller"),
    }
}

/// A deal as a signal records it: `after` the change, with the stage and amount `before`
/// it when they differ.
pub fn deal_snapshot(after: &DealView, before: Option<&DealView>) -> DealSnapshot {
    DealSnapshot {
        deal_id: after.id,
        name: after.name.clone(),
        owner: after.owner.clone(),
        pipeline: after.pipeline.clone(),
        stage: after.stage.clone(),
        previous_stage: before
            .filter(|b| b.stage.id != after.stage.id)
            .map(|b| b.stage.clone()),
        amount: after.amount,
        previous_amount: before
            .filter(|b| b.amount != after.amount)
            .and_then(|b| b.amount),
        close_date: after.close_date,
        crm_id: after.crm_id.clone(),
    }
}

/// The signal a HubSpot webhook event about a deal is, once the deal is applied (`after`;
/// `before`: the deal before this batch applied it): deal creation, a `dealstage` change or
/// an `amount` change; `None` for any other event.
pub fn hubspot_deal_signal(
    event_id: &str,
    subscription_type: &str,
    property_name: Option<&str>,
    occurred_at: Option<DateTime<Utc>>,
    before: Option<&DealView>,
    after: &DealView,
) -> Option<NewSignal> {
    let kind = match (subscription_type, property_name) {
        ("deal.creation", _) => SignalKind::DealCreated,
        ("deal.propertyChange", Some("dealstage")) => SignalKind::DealStageChanged,
        ("deal.propertyChange", Some("amount")) => SignalKind::DealAmountChanged,
        _ => return None,
    };
    let payload = serde_json::to_value(deal_snapshot(after, before)).ok()?;
    Some(NewSignal {
        source: SignalSource::Hubspot,
        dedup_key: event_id.to_string(),
        kind,
        payload,
        entities: SignalEntities {
            deal_id: Some(after.id),
            ..SignalEntities::default()
        },
        occurred_at: occurred_at.unwrap_or_else(now),
        by: Actor::system("hubspot_webhooks"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gmail_reply_is_one_signal_per_message_with_the_processors_payload() {
        let at = now();
        let from = EmailAddress::parse("Dana@Acme.io").unwrap();
        let signal = gmail_reply_signal("t1", "m1", from, "Re: pricing", "Can we meet?", at);
        assert_eq!(signal.id(), Signal::id_of(SignalSource::Gmail, "m1"));
        assert_eq!(
            signal.payload,
            serde_json::json!({"thread_id": "t1", "message_id": "m1",
                               "from_email": "dana@acme.io", "subject": "Re: pricing",
                               "snippet": "Can we meet?"})
        );
        assert_eq!(
            signal.entities.contact_email.as_ref().map(|e| e.as_str()),
            Some("dana@acme.io")
        );
        let again = gmail_reply_signal(
            "t1",
            "m1",
            EmailAddress::parse("dana@acme.io").unwrap(),
            "",
            "",
            at,
        );
        assert_eq!(again.id(), signal.id());
    }
}
