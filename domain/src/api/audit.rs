//! Audit replay: an aggregate's history, event by event, with the state after each.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One event of an aggregate's history, with the state after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub sequence: i64,
    pub event_id: Uuid,
    pub global_position: i64,
    pub event_type: String,
    pub event_version: String,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub recorded_at: DateTime<Utc>,
    /// `kind:id`, e.g. `user:casey`.
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// Everything recorded with the event: actor, request, correlation and causation ids,
    /// idempotency key, command id.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub metadata: Value,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub payload: Value,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub state_after: Value,
}

/// A page of an aggregate's history, and its state at the requested point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditResponse {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// This page of the events up to the requested point (all of them without `at` /
    /// `as_of`), oldest first: those after `cursor`, at most `limit`.
    pub events: Vec<AuditEntry>,
    /// The sequence the state is at: the requested point (the last event without `at` /
    /// `as_of`), whichever page this is.
    pub sequence: i64,
    /// The aggregate's state at `sequence`; `null` before its first event (`at=0`).
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub state: Value,
    /// Events recorded in total, including any after the requested point.
    pub total_events: i64,
    /// Pass as `cursor` (with the same `at` / `as_of`) for the next page: the events after
    /// this page's last. `null` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

impl AuditResponse {
    /// Adds the next page (read with this page's `next_cursor`) to this one: its events
    /// follow these, and its cursor and state replace these.
    pub fn append(&mut self, next: AuditResponse) {
        let last = self.events.last().map_or(0, |e| e.sequence);
        self.events
            .extend(next.events.into_iter().filter(|e| e.sequence > last));
        self.next_cursor = next.next_cursor;
        self.sequence = next.sequence;
        self.state = next.state;
        self.total_events = next.total_events;
    }

    /// Events up to the requested point that no page read so far holds.
    pub fn unread(&self) -> i64 {
        let last = self.events.last().map_or(0, |e| e.sequence);
        (self.sequence - last).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(sequence: i64) -> AuditEntry {
        AuditEntry {
            sequence,
            event_id: Uuid::from_u128(sequence as u128),
            global_position: sequence,
            event_type: "QueueItemEdited".into(),
            event_version: "1".into(),
            recorded_at: DateTime::<Utc>::UNIX_EPOCH,
            actor: None,
            request_id: None,
            correlation_id: None,
            causation_id: None,
            idempotency_key: None,
            metadata: json!({}),
            payload: json!({}),
            state_after: json!({ "version": sequence }),
        }
    }

    fn page(sequences: std::ops::RangeInclusive<i64>, next: Option<&str>) -> AuditResponse {
        AuditResponse {
            aggregate_type: "queue_item".into(),
            aggregate_id: "x".into(),
            events: sequences.map(entry).collect(),
            sequence: 5,
            state: json!({ "version": 5 }),
            total_events: 5,
            next_cursor: next.map(str::to_string),
        }
    }

    #[test]
    fn pages_append_into_one_history_without_gaps_or_repeats() {
        let mut history = page(1..=2, Some("2"));
        assert_eq!(history.unread(), 3);
        history.append(page(3..=4, Some("4")));
        // A page read twice adds nothing twice.
        history.append(page(3..=4, Some("4")));
        history.append(page(5..=5, None));
        let sequences: Vec<i64> = history.events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, [1, 2, 3, 4, 5]);
        assert_eq!(history.next_cursor, None);
        assert_eq!(history.unread(), 0);
    }
}
