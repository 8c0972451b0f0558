//! The SPA's reader of the API's unit-only enums (`"pending"`, `"sales"`, …).
//!
//! serde's derived reader of such an enum is the enum's own copy of serde_json's enum
//! reading (which also takes `{"pending": null}`, which the server never writes): about 1 KB
//! of the SPA's wasm for each. In the SPA (wasm32) they are read instead by [`read_unit_enum!`]
//! through one shared name lookup; the server keeps the derived readers.

/// Each listed enum is read by its name on wasm32: `read_unit_enum!(QueueStatus { Pending =
/// "pending", … })`, every variant with the name serde writes for it (the tests check both
/// ways against the derived reader and writer). The enum derives `Deserialize` only off
/// wasm32: `#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]`.
macro_rules! read_unit_enum {
    ($type:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $type {
            /// The names serde reads and writes, and their variants, in the same order.
            #[cfg(any(test, target_arch = "wasm32"))]
            pub(crate) const NAMES: &'static [&'static str] = &[$($name),+];
            #[cfg(any(test, target_arch = "wasm32"))]
            pub(crate) const VARIANTS: &'static [$type] = &[$($type::$variant),+];

            /// The variant serde names `name`, if any (the SPA reads a name it holds as text).
            #[cfg(any(test, target_arch = "wasm32"))]
            pub fn named(name: &str) -> Option<$type> {
                $type::NAMES.iter().position(|n| *n == name).map(|i| $type::VARIANTS[i])
            }
        }

        /// Fails to build when a variant is not listed.
        #[allow(dead_code)]
        const _: () = {
            fn every_variant_is_listed(variant: $type) {
                match variant {
                    $($type::$variant)|+ => {}
                }
            }
        };

        #[cfg(target_arch = "wasm32")]
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::kernel::unit_enum::variant_index(deserializer, $type::NAMES)
                    .map(|i| $type::VARIANTS[i])
            }
        }
    };
}

pub(crate) use read_unit_enum;

/// Reads a string that is one of `names`: its index, else serde's "unknown variant" error.
#[cfg(target_arch = "wasm32")]
pub fn variant_index<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    names: &'static [&'static str],
) -> Result<usize, D::Error> {
    deserializer.deserialize_str(Names(names))
}

#[cfg(target_arch = "wasm32")]
struct Names(&'static [&'static str]);

#[cfg(target_arch = "wasm32")]
impl<'de> serde::de::Visitor<'de> for Names {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| E::unknown_variant(name, self.0))
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::json;

    use crate::agent_run::{AgentDomain, AttemptOutcome, RunStatus, RunTrigger};
    use crate::api::{ConnectorStatus, Role};
    use crate::connectors::{ConnectMethod, ConnectorName, CredentialKind};
    use crate::executions::Effect;
    use crate::kernel::ActorKind;
    use crate::queue::aps::InputBasis;
    use crate::queue::{DraftOrigin, QueueDomain, QueueStatus};

    fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(names: &[&str], variants: &[T]) {
        assert_eq!(names.len(), variants.len(), "{names:?}");
        for (name, variant) in names.iter().zip(variants) {
            assert_eq!(serde_json::to_value(variant).unwrap(), json!(name));
            assert_eq!(&serde_json::from_value::<T>(json!(name)).unwrap(), variant);
        }
    }

    #[test]
    fn the_names_the_spa_reads_are_the_ones_serde_writes_and_reads() {
        check(QueueDomain::NAMES, QueueDomain::VARIANTS);
        check(QueueStatus::NAMES, QueueStatus::VARIANTS);
        check(DraftOrigin::NAMES, DraftOrigin::VARIANTS);
        check(InputBasis::NAMES, InputBasis::VARIANTS);
        check(ActorKind::NAMES, ActorKind::VARIANTS);
        check(Role::NAMES, Role::VARIANTS);
        check(AgentDomain::NAMES, AgentDomain::VARIANTS);
        check(RunTrigger::NAMES, RunTrigger::VARIANTS);
        check(RunStatus::NAMES, RunStatus::VARIANTS);
        check(AttemptOutcome::NAMES, AttemptOutcome::VARIANTS);
        check(ConnectorName::NAMES, ConnectorName::VARIANTS);
        check(CredentialKind::NAMES, CredentialKind::VARIANTS);
        check(ConnectMethod::NAMES, ConnectMethod::VARIANTS);
        check(ConnectorStatus::NAMES, ConnectorStatus::VARIANTS);
        check(Effect::NAMES, Effect::VARIANTS);
        assert_eq!(Effect::named("email_sent"), Some(Effect::EmailSent));
        assert_eq!(Effect::named("sent"), None);
        assert_eq!(ConnectorName::VARIANTS, ConnectorName::ALL);
        assert_eq!(QueueDomain::VARIANTS, QueueDomain::ALL);
        assert_eq!(QueueStatus::VARIANTS, QueueStatus::ALL);
        assert_eq!(AgentDomain::VARIANTS, AgentDomain::ALL);
        assert_eq!(RunTrigger::VARIANTS, RunTrigger::ALL);
        assert_eq!(RunStatus::VARIANTS, RunStatus::ALL);
    }
}
