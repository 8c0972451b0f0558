//! Value types parsed from strings deserialize through their `parse`.

/// `Deserialize` through the type's own `parse`, so a value that could not be parsed never
/// gets in through JSON either.
macro_rules! deserialize_by_parse {
    ($type:ty) => {
        $crate::kernel::parsed::deserialize_by_parse!($type, parse);
    };
    ($type:ty, $parse:ident) => {
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
                <$type>::$parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use deserialize_by_parse;
