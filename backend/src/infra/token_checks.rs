//! Bearer tokens checked in the last second, so a busy client's every request is not also a
//! database round trip (`auth::token_cache` checks through it). A token revoked through
//! this instance stops working at once (everything is forgotten); revoked through another
//! instance or the CLI, or expired, within [`RECHECK`] at most.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use caseyos_domain::api::Role;
use chrono::{DateTime, Utc};

/// How long a check of a token is relied on.
pub const RECHECK: Duration = Duration::from_secs(1);

/// Tokens kept at most; a full cache is emptied.
const CAPACITY: usize = 10_000;

/// What a check found: the caller a valid token stands for, and when the token expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedToken {
    pub user: String,
    pub role: Role,
    pub credential: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Recent checks, by the token's hash.
#[derive(Default)]
pub struct TokenChecks {
    entries: Mutex<HashMap<Vec<u8>, (CheckedToken, Instant)>>,
}

impl TokenChecks {
    /// The check of the token with this hash, if it is less than [`RECHECK`] old and the
    /// token has not expired since.
    pub fn fresh(&self, hash: &[u8]) -> Option<CheckedToken> {
        let entries = self.entries.lock().expect("token checks lock");
        let (checked, at) = entries.get(hash)?;
        let unexpired = checked
            .expires_at
            .is_none_or(|expires| expires > Utc::now());
        (at.elapsed() < RECHECK && unexpired).then(|| checked.clone())
    }

    /// Records a check: `Some` for a valid token, `None` for one that was refused.
    pub fn record(&self, hash: Vec<u8>, checked: Option<CheckedToken>) {
        let mut entries = self.entries.lock().expect("token checks lock");
        match checked {
            Some(checked) => {
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
                entries.insert(hash, (checked, Instant::now()));
            }
            None => {
                entries.remove(&hash);
            }
        }
    }

    /// Forgets every check (a token was revoked here).
    pub fn forget_all(&self) {
        self.entries.lock().expect("token checks lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(expires_at: Option<DateTime<Utc>>) -> CheckedToken {
        CheckedToken {
            user: "casey".into(),
            role: Role::Admin,
            credential: "token:laptop".into(),
            expires_at,
        }
    }

    #[test]
    fn a_check_is_relied_on_until_the_token_expires_or_is_forgotten() {
        let checks = TokenChecks::default();
        checks.record(b"a".to_vec(), Some(checked(None)));
        assert_eq!(checks.fresh(b"a"), Some(checked(None)));
        assert_eq!(checks.fresh(b"b"), None);
        let past = Utc::now() - chrono::TimeDelta::seconds(1);
        checks.record(b"c".to_vec(), Some(checked(Some(past))));
        assert_eq!(checks.fresh(b"c"), None, "expired since it was checked");
        checks.record(b"a".to_vec(), None);
        assert_eq!(checks.fresh(b"a"), None, "refused on its last check");
        checks.record(b"a".to_vec(), Some(checked(None)));
        checks.forget_all();
        assert_eq!(checks.fresh(b"a"), None);
    }
}
