//! Answers kept in memory for as long as the read model they were read from is unchanged:
//! a read that settles on version `v` of a read model (see
//! `ReadQuery::settle_versioned`) is
//! answered with the bytes of an earlier read at exactly `v` with the same parameters,
//! which are what reading again would return. Time-dependent answers say until when they
//! hold (a snoozed move waking). Bounded; per instance; nothing in it is the only copy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use caseyos_projections::runner::ReadVersion;
use chrono::{DateTime, Utc};

/// Entries kept at most; a full cache drops what older versions it holds, then everything.
const CAPACITY: usize = 4096;

struct Entry {
    version: ReadVersion,
    until: Option<DateTime<Utc>>,
    body: Arc<[u8]>,
}

#[derive(Default)]
pub struct AnswerCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl AnswerCache {
    /// The answer read at exactly `version` for `key`, if it still holds at `now`.
    pub fn get(&self, key: &str, version: ReadVersion, now: DateTime<Utc>) -> Option<Arc<[u8]>> {
        let entries = self.entries.lock().expect("answer cache lock");
        let entry = entries.get(key)?;
        (entry.version == version && entry.until.is_none_or(|until| now < until))
            .then(|| entry.body.clone())
    }

    /// Keeps an answer read at `version`, holding until `until` (if it depends on time).
    pub fn put(
        &self,
        key: String,
        version: ReadVersion,
        until: Option<DateTime<Utc>>,
        body: Arc<[u8]>,
    ) {
        let mut entries = self.entries.lock().expect("answer cache lock");
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, e| e.version.checkpoint >= version.checkpoint);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                version,
                until,
                body,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use caseyos_domain::kernel::Checkpoint;
    use chrono::TimeDelta;

    use super::*;

    fn version(position: i64) -> ReadVersion {
        ReadVersion {
            checkpoint: Checkpoint {
                tx_id: position,
                position,
            },
            changed_at: None,
        }
    }

    #[test]
    fn an_answer_is_served_only_at_its_version_and_before_it_expires() {
        let cache = AnswerCache::default();
        let now = Utc::now();
        cache.put(
            "k".into(),
            version(5),
            Some(now + TimeDelta::seconds(10)),
            Arc::from(&b"a"[..]),
        );
        assert_eq!(cache.get("k", version(5), now), Some(Arc::from(&b"a"[..])));
        assert_eq!(cache.get("k", version(6), now), None, "another version");
        assert_eq!(cache.get("other", version(5), now), None, "another key");
        assert_eq!(
            cache.get("k", version(5), now + TimeDelta::seconds(10)),
            None,
            "a snoozed move woke"
        );
        let rebuilt = ReadVersion {
            changed_at: Some(now),
            ..version(5)
        };
        assert_eq!(
            cache.get("k", rebuilt, now),
            None,
            "same checkpoint, rebuilt tables"
        );
    }

    #[test]
    fn a_full_cache_stays_bounded() {
        let cache = AnswerCache::default();
        let now = Utc::now();
        for i in 0..(CAPACITY * 2) {
            cache.put(
                format!("k{i}"),
                version(i as i64),
                None,
                Arc::from(&b"x"[..]),
            );
        }
        let len = cache.entries.lock().unwrap().len();
        assert!(len <= CAPACITY, "{len} entries");
        let last = CAPACITY * 2 - 1;
        assert!(cache
            .get(&format!("k{last}"), version(last as i64), now)
            .is_some());
    }
}
