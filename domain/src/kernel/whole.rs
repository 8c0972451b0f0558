//! Whole numbers as JSON writes them: `367` or `367.0`.

/// Deserializes a whole number written as an integer (`367`) or as a number with no
/// fraction (`367.0`, which JSON Schema also calls an integer), refusing fractions and
/// values out of `T`'s range. Use with `#[serde(deserialize_with = "whole")]`.
pub fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    struct Whole<T>(std::marker::PhantomData<T>);
    impl<T: TryFrom<i64>> serde::de::Visitor<'_> for Whole<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number in range")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
            T::try_from(v).map_err(|_| E::custom("out of range"))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
            i64::try_from(v)
                .map_err(|_| E::custom("out of range"))
                .and_then(|v| self.visit_i64(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
            // i64::MIN is exactly representable; i64::MAX + 1 is the first f64 beyond.
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            if v.fract() != 0.0 || !(-LIMIT..LIMIT).contains(&v) {
                return Err(E::custom("must be a whole number in range"));
            }
            self.visit_i64(v as i64)
        }
    }
    deserializer.deserialize_any(Whole(std::marker::PhantomData))
}

/// [`whole`] for an optional field: `null` or absent (with `#[serde(default)]`) is `None`.
pub fn whole_opt<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::Deserialize;
    Option::<serde_json::Number>::deserialize(deserializer)?
        .map(|n| whole(n).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_read_as_integers_or_numbers_without_a_fraction() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct N {
            #[serde(deserialize_with = "whole")]
            n: u8,
        }
        let read = |raw: &str| serde_json::from_str::<N>(raw).map(|n| n.n).ok();
        assert_eq!(read(r#"{"n": 94}"#), Some(94));
        assert_eq!(read(r#"{"n": 94.0}"#), Some(94));
        assert_eq!(read(r#"{"n": 94.5}"#), None);
        assert_eq!(read(r#"{"n": 256}"#), None);
        assert_eq!(read(r#"{"n": -1.0}"#), None);
        assert_eq!(read(r#"{"n": "94"}"#), None);
        assert_eq!(read(r#"{"n": 1e300}"#), None);
    }

    #[test]
    fn optional_whole_numbers_are_none_when_null_or_absent() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct N {
            #[serde(default, deserialize_with = "whole_opt")]
            n: Option<u32>,
        }
        let read = |raw: &str| serde_json::from_str::<N>(raw).map(|n| n.n).map_err(|_| ());
        assert_eq!(read(r#"{"n": 90}"#), Ok(Some(90)));
        assert_eq!(read(r#"{"n": 90.0}"#), Ok(Some(90)));
        assert_eq!(read(r#"{"n": null}"#), Ok(None));
        assert_eq!(read("{}"), Ok(None));
        assert_eq!(read(r#"{"n": 0.5}"#), Err(()));
        assert_eq!(read(r#"{"n": -1}"#), Err(()));
    }
}
