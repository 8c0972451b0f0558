//! Nested objects of requests and events, read only from JSON objects: serde's derived
//! structs would also read a JSON array as their fields in order, which the API documents as
//! invalid and nobody means.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Visitor};

/// `Option<T>` for a field holding an object: absent or `null` is `None`, an object is `T`,
/// anything else is refused. Errors inside keep their path (`aps.urgency`).
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    deserializer.deserialize_option(OptionOfObject(PhantomData))
}

struct OptionOfObject<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OptionOfObject<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        T::deserialize(MapOnly(deserializer)).map(Some)
    }
}

/// A deserializer that reads structs from maps only (serde_json's would take a sequence).
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: Option<u8>,
        b: Option<u8>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        #[serde(default, deserialize_with = "super::object")]
        inner: Option<Inner>,
    }

    #[test]
    fn nested_objects_are_read_from_objects_only() {
        let read = |json: &str| serde_json::from_str::<Outer>(json);
        assert_eq!(read("{}").unwrap().inner, None);
        assert_eq!(read(r#"{"inner": null}"#).unwrap().inner, None);
        assert_eq!(
            read(r#"{"inner": {"a": 1}}"#).unwrap().inner,
            Some(Inner {
                a: Some(1),
                b: None
            })
        );
        for refused in [
            r#"{"inner": [1, 2]}"#,
            r#"{"inner": [null, null]}"#,
            r#"{"inner": 3}"#,
        ] {
            assert!(read(refused).is_err(), "{refused}");
        }
    }
}
