//! Reading the server's JSON answers: [`from_str`], serde_json's reader with structs read
//! from JSON objects only, at every depth.
//!
//! serde_json reads a struct from an object or, field by field in order, from an array. The
//! server never writes a struct as an array, but each derived struct's array reader is in the
//! wasm all the same; [`Objects`] asks serde_json for a map wherever a struct is wanted, so
//! that reader is never used and the linker leaves it out. Every answer is read through here,
//! so each type has one reader in the wasm.

use std::fmt;

use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

/// Reads `text` as serde_json's `from_str` does (the whole text, one value), except that a
/// struct is read from a JSON object only.
pub fn from_str<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Objects(&mut deserializer))?;
    deserializer.end()?;
    Ok(value)
}

/// A deserializer (or a visitor, seed, map, sequence or enum of one) whose structs are read
/// from maps: the same calls as the one it wraps, with everything handed on wrapped again.
struct Objects<D>(D);

macro_rules! forward {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.$method(Objects(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Objects<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, Objects(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, Objects(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(len, Objects(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(name, len, Objects(visitor))
    }

    /// The one change: a struct is read as a map.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(Objects(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, Objects(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visits {
    ($($method:ident: $type:ty)*) => {
        $(
            fn $method<E: serde::de::Error>(self, v: $type) -> Result<Self::Value, E> {
                self.0.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Objects<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visits! {
        visit_bool: bool visit_i8: i8 visit_i16: i16 visit_i32: i32 visit_i64: i64
        visit_i128: i128 visit_u8: u8 visit_u16: u16 visit_u32: u32 visit_u64: u64
        visit_u128: u128 visit_f32: f32 visit_f64: f64 visit_char: char visit_str: &str
        visit_borrowed_str: &'de str visit_string: String visit_bytes: &[u8]
        visit_borrowed_bytes: &'de [u8] visit_byte_buf: Vec<u8>
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(Objects(deserializer))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(Objects(deserializer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(Objects(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(Objects(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.0.visit_enum(Objects(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Objects<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Objects(deserializer))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Objects<A> {
    type Error = A::Error;

    /// Keys are names, never structs: read as they are.
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Objects(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Objects<A> {
    type Error = A::Error;
    type Variant = Objects<A::Variant>;

    /// The variant's name is read as it is; its contents, wrapped.
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(seed)?;
        Ok((value, Objects(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Objects<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Objects(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Objects(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Objects(visitor))
    }
}

#[cfg(test)]
mod tests {
    use caseyos_domain::api::QueueListResponse;
    use caseyos_domain::queue::{ContactRef, Target};
    use serde_json::{json, Value};
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::from_str;
    use crate::test_support::queue_item;

    #[wasm_bindgen_test]
    fn answers_read_back_as_the_server_writes_them() {
        let mut item = queue_item(3);
        item.payload = json!({"to": "dana@example.com", "n": [1, 2.5, null, {"a": true}]});
        item.target = Target {
            contact: Some(ContactRef {
                id: caseyos_domain::kernel::CrmId::parse("c-1").unwrap(),
                name: Some("Dana \"D\" Lee".into()),
                email: None,
            }),
            ..Target::default()
        };
        let page = QueueListResponse {
            items: vec![item, queue_item(4)],
            next_cursor: Some("c".into()),
            total: 2,
        };
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(from_str::<QueueListResponse>(&text).unwrap(), page);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(from_str::<Value>(&text).unwrap(), value);
    }

    #[wasm_bindgen_test]
    fn what_serde_json_refuses_is_refused_and_structs_are_objects_only() {
        let page = serde_json::to_string(&QueueListResponse {
            items: vec![queue_item(1)],
            next_cursor: None,
            total: 1,
        })
        .unwrap();
        let refused = [
            String::new(),
            "null".into(),
            "[[], null, 0]".into(),
            r#"{"items": [], "next_cursor": null}"#.into(),
            r#"{"items": {}, "next_cursor": null, "total": 0}"#.into(),
            r#"{"items": [], "next_cursor": 1, "total": 0}"#.into(),
            format!("{page} 1"),
            page.replacen(r#""title":"#, r#""title":1,"x":"#, 1),
            page.replacen(r#""status":"pending""#, r#""status":"lost""#, 1),
        ];
        for text in refused {
            assert!(from_str::<QueueListResponse>(&text).is_err(), "{text}");
        }
        // serde_json alone would read this one's fields in order.
        assert!(serde_json::from_str::<QueueListResponse>("[[], null, 0]").is_ok());
        assert_eq!(
            from_str::<QueueListResponse>(r#"{"items": [], "next_cursor": null, "total": 0}"#)
                .unwrap()
                .total,
            0
        );
    }

    #[wasm_bindgen_test]
    fn unit_enums_read_their_names_and_name_the_others_in_errors() {
        use caseyos_domain::queue::QueueStatus;
        for status in QueueStatus::ALL {
            let text = serde_json::to_string(status).unwrap();
            assert_eq!(from_str::<QueueStatus>(&text).unwrap(), *status);
        }
        assert_eq!(
            from_str::<QueueStatus>(r#""lost""#)
                .unwrap_err()
                .to_string(),
            "unknown variant `lost`, expected one of `pending`, `snoozed`, `approved`, \
             `rejected`, `expired` at line 1 column 6"
        );
        for refused in [r#"{"pending": null}"#, "1", "null", r#""Pending""#] {
            assert!(from_str::<QueueStatus>(refused).is_err(), "{refused}");
        }
    }
}
