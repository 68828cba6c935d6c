//! JSON that keeps non-finite numbers.
//!
//! `serde_json` writes `NaN` and `±inf` as `null`, which a `f64` field cannot read back: a
//! metrics file with one undefined value (an AUROC without positives, a diverged loss) would
//! make the whole file unreadable. [`to_string_pretty`] writes them as the strings `"NaN"`,
//! `"Infinity"` and `"-Infinity"` (the proto3 JSON mapping's spelling; Python reads them with
//! `float(s)`), and [`from_str`] reads them back into any float field. Everything else is
//! plain `serde_json` output, byte for byte.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize, Serializer};
use serde_json::{Map, Value};

/// The spelling of a non-finite float, or `None` for a finite one.
fn non_finite_name(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("Infinity")
    } else if v == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

fn parse_non_finite(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Serialises `value` as pretty JSON, non-finite floats as strings.
///
/// # Errors
///
/// `serde_json`'s error when `value` cannot be serialised (a map with non-string keys).
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::pretty(&mut out);
    value.serialize(Keep(&mut ser))?;
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// Parses JSON written by [`to_string_pretty`] (or plain JSON).
///
/// # Errors
///
/// `serde_json`'s error, with line and column when the text is not JSON.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(first) if first.is_data() => {
            // A float field may hold "NaN"/"Infinity"/"-Infinity": read through the value
            // tree, which accepts them; report serde_json's own error if that fails too.
            let value: Value = serde_json::from_str(text)?;
            T::deserialize(Lenient(value)).map_err(|_| first)
        }
        Err(e) => Err(e),
    }
}

/// A serializer that writes non-finite floats as strings and forwards everything else.
struct Keep<S>(S);

/// A value serialised through [`Keep`].
struct Wrap<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Wrap<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Keep(s))
    }
}

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
            self.0.$name($($arg),*)
        }
    )*};
}

impl<S: Serializer> Serializer for Keep<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Keep<S::SerializeSeq>;
    type SerializeTuple = Keep<S::SerializeTuple>;
    type SerializeTupleStruct = Keep<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Keep<S::SerializeTupleVariant>;
    type SerializeMap = Keep<S::SerializeMap>;
    type SerializeStruct = Keep<S::SerializeStruct>;
    type SerializeStructVariant = Keep<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool); serialize_i8(v: i8); serialize_i16(v: i16);
        serialize_i32(v: i32); serialize_i64(v: i64); serialize_i128(v: i128);
        serialize_u8(v: u8); serialize_u16(v: u16); serialize_u32(v: u32);
        serialize_u64(v: u64); serialize_u128(v: u128); serialize_char(v: char);
        serialize_str(v: &str); serialize_bytes(v: &[u8]); serialize_none();
        serialize_unit(); serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        match non_finite_name(v as f64) {
            Some(name) => self.0.serialize_str(name),
            None => self.0.serialize_f32(v),
        }
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        match non_finite_name(v) {
            Some(name) => self.0.serialize_str(name),
            None => self.0.serialize_f64(v),
        }
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Wrap(v))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Wrap(v))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Wrap(v))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Keep)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Keep)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Keep)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Keep)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Keep)
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Keep)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Keep)
    }
}

macro_rules! compound {
    ($tr:ident, $elem:ident $(, $key:ty)?) => {
        impl<S: ser::$tr> ser::$tr for Keep<S> {
            type Ok = S::Ok;
            type Error = S::Error;
            fn $elem<T: Serialize + ?Sized>(&mut self, $(key: $key,)? v: &T) -> Result<(), S::Error> {
                self.0.$elem($(key as $key,)? &Wrap(v))
            }
            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    };
}
compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, serialize_field, &'static str);
compound!(SerializeStructVariant, serialize_field, &'static str);

impl<S: ser::SerializeMap> ser::SerializeMap for Keep<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Wrap(k))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Wrap(v))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

/// A deserializer over a JSON value tree whose float fields also accept the strings
/// `"NaN"`, `"Infinity"` and `"-Infinity"`.
struct Lenient(Value);

type DeError = serde_json::Error;

impl<'de> de::Deserializer<'de> for Lenient {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => n.deserialize_any(visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(a) => visitor.visit_seq(Seq(a.into_iter())),
            Value::Object(m) => visitor.visit_map(MapAcc(m.into_iter(), None)),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0 {
            Value::String(s) => match parse_non_finite(s) {
                Some(v) => visitor.visit_f64(v),
                None => self.deserialize_any(visitor),
            },
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Object(m) if m.len() == 1 => {
                let (variant, value) = m.into_iter().next().expect("one entry");
                visitor.visit_enum(Enum(variant, value))
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &"an enum")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("a number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for Seq {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.0
            .next()
            .map(|v| seed.deserialize(Lenient(v)))
            .transpose()
    }
}

struct MapAcc(
    <Map<String, Value> as IntoIterator>::IntoIter,
    Option<Value>,
);

impl<'de> de::MapAccess<'de> for MapAcc {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.0.next() {
            Some((k, v)) => {
                self.1 = Some(v);
                seed.deserialize(Lenient(Value::String(k))).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let v = self
            .1
            .take()
            .ok_or_else(|| de::Error::custom("a map value without its key"))?;
        seed.deserialize(Lenient(v))
    }
}

struct Enum(String, Value);

impl<'de> de::EnumAccess<'de> for Enum {
    type Error = DeError;
    type Variant = Lenient;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Lenient), DeError> {
        let name: de::value::StringDeserializer<DeError> = self.0.into_deserializer();
        let variant = seed.deserialize(name)?;
        Ok((variant, Lenient(self.1)))
    }
}

impl<'de> de::VariantAccess<'de> for Lenient {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    enum Kind {
        Plain,
        Scaled(f64),
        Pair { a: f32, b: Option<f64> },
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct Record {
        loss: f64,
        weights: Vec<f32>,
        metrics: BTreeMap<String, f64>,
        last: Option<f64>,
        kinds: Vec<Kind>,
        name: String,
        steps: u64,
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn non_finite_numbers_round_trip() {
        let r = Record {
            loss: f64::NAN,
            weights: vec![0.5, f32::INFINITY, f32::NEG_INFINITY],
            metrics: [("auroc".to_string(), f64::NAN), ("r1".into(), 12.5)].into(),
            last: Some(f64::NEG_INFINITY),
            kinds: vec![
                Kind::Plain,
                Kind::Scaled(f64::INFINITY),
                Kind::Pair {
                    a: f32::NAN,
                    b: None,
                },
            ],
            name: "NaN".into(),
            steps: u64::MAX,
        };
        let text = to_string_pretty(&r).unwrap();
        assert!(!text.contains("null,"), "{text}");
        assert!(text.contains("\"Infinity\"") && text.contains("\"-Infinity\""));
        let back: Record = from_str(&text).unwrap();
        assert!(back.loss.is_nan());
        assert!(same(back.weights[1] as f64, f64::INFINITY));
        assert!(same(back.weights[2] as f64, f64::NEG_INFINITY));
        assert!(back.metrics["auroc"].is_nan() && back.metrics["r1"] == 12.5);
        assert_eq!(back.last, Some(f64::NEG_INFINITY));
        assert_eq!(back.kinds[0], Kind::Plain);
        assert!(matches!(back.kinds[1], Kind::Scaled(v) if v == f64::INFINITY));
        assert!(matches!(back.kinds[2], Kind::Pair { a, b: None } if a.is_nan()));
        assert_eq!(back.name, "NaN", "a string field keeps its text");
        assert_eq!(back.steps, u64::MAX);
    }

    #[test]
    fn finite_output_equals_serde_json_and_errors_keep_positions() {
        let v = serde_json::json!({"a": [1.5, 2, "x"], "b": {"c": null}});
        assert_eq!(
            to_string_pretty(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
        let err = from_str::<Vec<f64>>("[1.0,\n \"nope\"]").unwrap_err();
        assert_eq!(err.line(), 2, "{err}");
        let err = from_str::<Vec<f64>>("[1.0, ").unwrap_err();
        assert!(err.is_eof(), "{err}");
    }
}
