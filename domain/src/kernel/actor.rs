//! Who did something: a person, an agent, or CaseyOS itself.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::unit_enum::read_unit_enum;

/// Who did something: a person, an agent run, or CaseyOS itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    Agent,
    System,
}

read_unit_enum!(ActorKind {
    User = "user",
    Agent = "agent",
    System = "system",
});

impl Actor {
    pub fn user(id: impl Into<String>) -> Self {
        Actor {
            kind: ActorKind::User,
            id: id.into(),
        }
    }

    pub fn agent(id: impl Into<String>) -> Self {
        Actor {
            kind: ActorKind::Agent,
            id: id.into(),
        }
    }

    pub fn system(id: impl Into<String>) -> Self {
        Actor {
            kind: ActorKind::System,
            id: id.into(),
        }
    }

    /// Parses the `kind:id` form used in event metadata.
    pub fn parse(raw: &str) -> Option<Self> {
        let (kind, id) = raw.split_once(':')?;
        let kind = match kind {
            "user" => ActorKind::User,
            "agent" => ActorKind::Agent,
            "system" => ActorKind::System,
            _ => return None,
        };
        Some(Actor {
            kind,
            id: id.to_string(),
        })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ActorKind::User => "user",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
        };
        write!(f, "{kind}:{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_their_metadata_form() {
        let table = [
            (Actor::user("casey"), "user:casey"),
            (Actor::agent("DraftWriter"), "agent:DraftWriter"),
            (Actor::system("expiry"), "system:expiry"),
        ];
        for (actor, text) in table {
            assert_eq!(actor.to_string(), text);
            assert_eq!(Actor::parse(text), Some(actor), "{text}");
        }
        assert_eq!(Actor::parse("robot:x"), None);
        assert_eq!(Actor::parse("casey"), None);
    }
}
