//! Positions in the global order of the event store, and the consistency tokens built from
//! them: what a command response hands back and a query (or the SPA) may wait for.

use std::fmt;
use std::str::FromStr;

/// A position in the global order: the committing transaction and the event's position.
/// Ordered lexicographically, as projectors read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checkpoint {
    pub tx_id: i64,
    pub position: i64,
}

impl Checkpoint {
    pub const ZERO: Checkpoint = Checkpoint {
        tx_id: 0,
        position: 0,
    };
}

/// The checkpoint of a command's last event, written `<tx_id>.<position>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsistencyToken(pub Checkpoint);

impl fmt::Display for ConsistencyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0.tx_id, self.0.position)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a consistency token looks like `1234.56`")]
pub struct InvalidToken;

impl FromStr for ConsistencyToken {
    type Err = InvalidToken;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Exactly `digits.digits`, 1–18 digits each (so both always fit an i64): what
        // `Display` writes, and what the API's `after` parameter documents.
        let number = |part: &str| -> Result<i64, InvalidToken> {
            if (1..=18).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| InvalidToken)
            } else {
                Err(InvalidToken)
            }
        };
        let (tx, pos) = s.split_once('.').ok_or(InvalidToken)?;
        Ok(ConsistencyToken(Checkpoint {
            tx_id: number(tx)?,
            position: number(pos)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let token = ConsistencyToken(Checkpoint {
            tx_id: 7731,
            position: 42,
        });
        assert_eq!(token.to_string(), "7731.42");
        assert_eq!("7731.42".parse::<ConsistencyToken>(), Ok(token));
        for bad in [
            "",
            "7731",
            "a.b",
            "-1.2",
            "1.-2",
            "1.2.3",
            "+1.2",
            " 1.2",
            "1.2 ",
            "1234567890123456789.1",
        ] {
            assert!(bad.parse::<ConsistencyToken>().is_err(), "{bad}");
        }
    }

    #[test]
    fn checkpoints_order_by_transaction_then_position() {
        let a = Checkpoint {
            tx_id: 10,
            position: 99,
        };
        let b = Checkpoint {
            tx_id: 11,
            position: 5,
        };
        assert!(a < b);
        assert!(
            Checkpoint {
                tx_id: 11,
                position: 6
            } > b
        );
    }
}
