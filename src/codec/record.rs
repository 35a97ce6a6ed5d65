//! Key and value bytes → [`Data`], the way the worker's converters and the reference connector
//! see them (spec §3.2): a JSON object exposes its top-level fields, anything else only itself.

use serde_json::{Map, Value};

use super::Datum;
use crate::config::ConverterKind;
use crate::mapping::FieldPath;

/// A decoded key or value.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Absent (null key, tombstone value).
    Null,
    /// A JSON object. `text` is what the whole `key`/`value` maps to (the original JSON text).
    Object {
        fields: Map<String, Value>,
        text: String,
    },
    /// Schemaless JSON that is not an object (number, string, array, boolean).
    Json(Value),
    /// Text that is not a JSON object.
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    Int(i64),
    Float(f64),
}

/// Why bytes could not be decoded by the configured converter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// The result of looking a mapped field up in a key or value.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    Found(Datum<'a>),
    /// The data has named fields but not this one.
    Missing,
    /// The data exposes no named fields at all (null, primitive, non-object JSON, `{}`).
    NoFields,
}

impl Data {
    pub fn decode(converter: ConverterKind, bytes: Option<&[u8]>) -> Result<Data, DecodeError> {
        let Some(bytes) = bytes else { return Ok(Data::Null) };
        match converter {
            ConverterKind::String => {
                let text =
                    std::str::from_utf8(bytes).map_err(|e| DecodeError(format!("not valid UTF-8 text ({e})")))?;
                Ok(Data::from_text(text))
            }
            ConverterKind::Json { schemas } => {
                let v: Value =
                    serde_json::from_slice(bytes).map_err(|e| DecodeError(format!("not valid JSON: {e}")))?;
                let v = if schemas { unwrap_envelope(v)? } else { v };
                Ok(match v {
                    Value::Null => Data::Null,
                    Value::Object(fields) => {
                        let text = if schemas {
                            Value::Object(fields.clone()).to_string()
                        } else {
                            String::from_utf8_lossy(bytes).trim().to_string()
                        };
                        Data::Object { fields, text }
                    }
                    // A string value is read like StringConverter text (spec §3.2: a Java String
                    // that parses as a JSON object exposes its fields).
                    Value::String(text) => Data::from_text(&text),
                    other => Data::Json(other),
                })
            }
            ConverterKind::ByteArray => Ok(Data::Bytes(bytes.to_vec())),
            ConverterKind::Integer => {
                fixed::<4>(bytes, "IntegerConverter").map(|b| Data::Int(i32::from_be_bytes(b).into()))
            }
            ConverterKind::Long => fixed::<8>(bytes, "LongConverter").map(|b| Data::Int(i64::from_be_bytes(b))),
            ConverterKind::Short => {
                fixed::<2>(bytes, "ShortConverter").map(|b| Data::Int(i16::from_be_bytes(b).into()))
            }
            ConverterKind::Float => {
                fixed::<4>(bytes, "FloatConverter").map(|b| Data::Float(f32::from_be_bytes(b).into()))
            }
            ConverterKind::Double => fixed::<8>(bytes, "DoubleConverter").map(|b| Data::Float(f64::from_be_bytes(b))),
            ConverterKind::Boolean => fixed::<1>(bytes, "BooleanConverter").map(|b| Data::Bool(b[0] != 0)),
        }
    }

    /// A string as the reference connector reads it: a JSON object exposes its fields, the empty
    /// string is an object without fields, anything else is plain text.
    pub fn from_text(text: &str) -> Data {
        if text.is_empty() {
            return Data::Object { fields: Map::new(), text: String::new() };
        }
        if text.trim_start().starts_with('{')
            && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text)
        {
            return Data::Object { fields, text: text.to_string() };
        }
        Data::Text(text.to_string())
    }

    /// The whole key or value (`key` / `value` in a mapping).
    pub fn whole(&self) -> Datum<'_> {
        match self {
            Data::Null => Datum::Null,
            Data::Object { text, .. } => Datum::Text(text),
            Data::Json(v) => Datum::Json(v),
            Data::Text(t) => Datum::Text(t),
            Data::Bytes(b) => Datum::Bytes(b),
            Data::Bool(b) => Datum::Bool(*b),
            Data::Int(i) => Datum::Int(*i),
            Data::Float(f) => Datum::Float(*f),
        }
    }

    /// `key.<path>` / `value.<path>`: a field literally named `path` first (compatibility), else
    /// the nested path `a` → `b` → … through JSON objects.
    pub fn field(&self, path: &FieldPath) -> Lookup<'_> {
        let name = match path {
            FieldPath::Whole => return Lookup::Found(self.whole()),
            FieldPath::Named(name) => name,
        };
        let Data::Object { fields, .. } = self else { return Lookup::NoFields };
        if fields.is_empty() {
            return Lookup::NoFields;
        }
        if let Some(v) = fields.get(name.as_str()) {
            return Lookup::Found(Datum::Json(v));
        }
        let segments = path.segments();
        if segments.len() < 2 {
            return Lookup::Missing;
        }
        let mut current = fields;
        let (last, parents) = match segments.split_last() {
            Some(split) => split,
            None => return Lookup::Missing,
        };
        for seg in parents {
            match current.get(*seg) {
                Some(Value::Object(inner)) => current = inner,
                _ => return Lookup::Missing,
            }
        }
        match current.get(*last) {
            Some(v) => Lookup::Found(Datum::Json(v)),
            None => Lookup::Missing,
        }
    }

    /// Whether the data exposes named fields (drives the `value.*` skip rule and deletes).
    pub fn has_fields(&self) -> bool {
        matches!(self, Data::Object { fields, .. } if !fields.is_empty())
    }
}

/// `{"schema": .., "payload": ..}` → payload; the schema-typed Struct reading comes with the
/// formats work, until then the payload is read like schemaless JSON.
fn unwrap_envelope(v: Value) -> Result<Value, DecodeError> {
    match v {
        Value::Object(mut m) if m.len() == 2 && m.contains_key("schema") && m.contains_key("payload") => {
            Ok(m.remove("payload").unwrap_or(Value::Null))
        }
        _ => Err(DecodeError(
            "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.".into(),
        )),
    }
}

fn fixed<const N: usize>(bytes: &[u8], converter: &str) -> Result<[u8; N], DecodeError> {
    bytes.try_into().map_err(|_| DecodeError(format!("{converter} expects {N} bytes, got {}", bytes.len())))
}

/// A header value: text when it is UTF-8 (the common case for Connect's SimpleHeaderConverter),
/// raw bytes otherwise.
pub fn header_datum(bytes: Option<&[u8]>) -> Datum<'_> {
    match bytes {
        None => Datum::Null,
        Some(b) => match std::str::from_utf8(b) {
            Ok(t) => Datum::Text(t),
            Err(_) => Datum::Bytes(b),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(s: &str) -> FieldPath {
        FieldPath::Named(s.to_string())
    }

    #[test]
    fn string_converter_json_object_exposes_fields() {
        let d = Data::decode(ConverterKind::String, Some(br#"{"a":1,"b":{"c":"x"},"d.e":true}"#)).unwrap();
        assert!(d.has_fields());
        assert!(matches!(d.field(&named("a")), Lookup::Found(Datum::Json(v)) if v == &serde_json::json!(1)));
        assert!(matches!(d.field(&named("b.c")), Lookup::Found(Datum::Json(v)) if v == "x"));
        assert!(matches!(d.field(&named("d.e")), Lookup::Found(Datum::Json(v)) if v == &serde_json::json!(true)));
        assert!(matches!(d.field(&named("zz")), Lookup::Missing));
        assert!(matches!(d.field(&named("a.b")), Lookup::Missing));
        assert!(matches!(d.whole(), Datum::Text(t) if t == r#"{"a":1,"b":{"c":"x"},"d.e":true}"#));
    }

    #[test]
    fn literal_dotted_name_wins_over_nested_path() {
        let d = Data::from_text(r#"{"a.b":"literal","a":{"b":"nested"}}"#);
        assert!(matches!(d.field(&named("a.b")), Lookup::Found(Datum::Json(v)) if v == "literal"));
    }

    #[test]
    fn non_objects_expose_no_fields() {
        for d in [
            Data::from_text("plain text"),
            Data::from_text("[1,2]"),
            Data::from_text("{name: Mike}"),
            Data::from_text(""),
            Data::from_text("{}"),
            Data::Null,
            Data::decode(ConverterKind::Json { schemas: false }, Some(b"42")).unwrap(),
        ] {
            assert!(!d.has_fields(), "{d:?}");
            assert!(matches!(d.field(&named("a")), Lookup::NoFields), "{d:?}");
        }
        assert!(matches!(Data::from_text("").whole(), Datum::Text("")));
    }

    #[test]
    fn json_converter_schemaless_and_envelope() {
        let d = Data::decode(ConverterKind::Json { schemas: false }, Some(br#""{\"y\":3}""#)).unwrap();
        assert!(matches!(d.field(&named("y")), Lookup::Found(_)), "{d:?}");
        let d = Data::decode(ConverterKind::Json { schemas: false }, Some(br#""plain""#)).unwrap();
        assert_eq!(d, Data::Text("plain".into()));
        let d = Data::decode(ConverterKind::Json { schemas: false }, Some(br#" {"x":"1"} "#)).unwrap();
        assert!(matches!(d.field(&named("x")), Lookup::Found(_)));
        assert_eq!(Data::decode(ConverterKind::Json { schemas: false }, Some(b"null")).unwrap(), Data::Null);
        let env = br#"{"schema":{"type":"struct"},"payload":{"x":2}}"#;
        let d = Data::decode(ConverterKind::Json { schemas: true }, Some(env)).unwrap();
        assert!(matches!(d.field(&named("x")), Lookup::Found(Datum::Json(v)) if v == &serde_json::json!(2)));
        let e = Data::decode(ConverterKind::Json { schemas: true }, Some(br#"{"x":2}"#)).unwrap_err();
        assert!(e.0.contains("schemas.enable=false"), "{e}");
        let e = Data::decode(ConverterKind::Json { schemas: false }, Some(b"{\"x\":")).unwrap_err();
        assert!(e.0.starts_with("not valid JSON"), "{e}");
    }

    #[test]
    fn primitive_converters_and_bad_lengths() {
        assert_eq!(Data::decode(ConverterKind::Long, Some(&7i64.to_be_bytes())).unwrap(), Data::Int(7));
        assert_eq!(Data::decode(ConverterKind::Integer, Some(&(-3i32).to_be_bytes())).unwrap(), Data::Int(-3));
        assert_eq!(Data::decode(ConverterKind::Double, Some(&1.5f64.to_be_bytes())).unwrap(), Data::Float(1.5));
        assert_eq!(Data::decode(ConverterKind::Boolean, Some(&[1])).unwrap(), Data::Bool(true));
        assert_eq!(
            Data::decode(ConverterKind::Long, Some(&[1, 2])).unwrap_err().0,
            "LongConverter expects 8 bytes, got 2"
        );
        assert!(Data::decode(ConverterKind::String, Some(&[0xff, 0xfe])).is_err());
        assert_eq!(Data::decode(ConverterKind::String, None).unwrap(), Data::Null);
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(Data::decode(ConverterKind::Json { schemas: false }, Some(deep.as_bytes())).is_err());
        let deep_obj = format!("{}{}", r#"{"a":"#.repeat(10_000), "1");
        assert!(matches!(Data::from_text(&deep_obj), Data::Text(_)));
    }
}
