//! Key and value bytes → [`Data`], the way the worker's converters and the reference connector
//! see them (spec §3.2): a JSON object or a Struct exposes its fields, anything else only itself.

use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::json_object::JsonObject;
use super::registry::{self, Format, Registry, Schema};
use super::typed::Typed;
use super::{Datum, avro, connect_json, json_schema, protobuf};
use crate::config::ConverterKind;
use crate::mapping::FieldPath;

/// A decoded key or value.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Absent (null key, tombstone value).
    Null,
    /// A JSON object: its text (what the whole `key`/`value` maps to) and its members.
    Object(JsonObject),
    /// Schemaless JSON that is not an object (number, string, array, boolean).
    Json(Value),
    /// Text that is not a JSON object (up to 24 bytes kept inline).
    Text(super::typed::Name),
    Bytes(Vec<u8>),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A schema-typed value that is not a primitive: a Struct (JsonConverter with schemas, Avro
    /// record), or an array, map or logical type at the top level.
    Typed(Typed),
}

/// Why bytes could not be decoded by the configured converter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// A converter ready to decode: its kind, and the schema registry it reads from, if any.
#[derive(Debug, Clone)]
pub struct Converter {
    kind: ConverterKind,
    registry: Option<Arc<Registry>>,
}

/// Why a record's key or value was not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeFailure {
    /// The bytes cannot be read: a per-record error for the error policy.
    Bad(DecodeError),
    /// Shut down while waiting for the schema registry: not the record's fault, and the record
    /// is not finished (so it is not committed).
    Interrupted,
}

impl Converter {
    /// `shutdown` ends waits for an unreachable schema registry.
    pub fn new(kind: ConverterKind, shutdown: CancellationToken) -> Result<Converter, String> {
        let registry = match &kind {
            ConverterKind::Avro(settings) => Some(Arc::new(Registry::new(settings, Format::Avro, shutdown)?)),
            ConverterKind::Protobuf(settings) => Some(Arc::new(Registry::new(settings, Format::Protobuf, shutdown)?)),
            ConverterKind::JsonSchema(settings) => Some(Arc::new(Registry::new(settings, Format::Json, shutdown)?)),
            _ => None,
        };
        Ok(Converter { kind, registry })
    }

    pub fn kind(&self) -> &ConverterKind {
        &self.kind
    }

    /// Decodes a key or value. Only the converters of the schema registry (Avro, Protobuf, JSON
    /// Schema) wait (for a schema they have not seen yet).
    pub async fn decode(&self, bytes: Option<&[u8]>) -> Result<Data, DecodeFailure> {
        let (Some(bytes), Some(registry)) = (bytes, &self.registry) else {
            return Data::decode(&self.kind, bytes).map_err(DecodeFailure::Bad);
        };
        let bad = |reason: String| DecodeFailure::Bad(DecodeError(reason));
        let lookup = |id: u32| async move {
            match registry.schema(id).await {
                registry::Lookup::Found(s) => Ok(s),
                registry::Lookup::Bad(reason) => Err(bad(reason)),
                registry::Lookup::Interrupted => Err(DecodeFailure::Interrupted),
            }
        };
        let mismatch = |id: u32| bad(format!("Schema {id} is not of the converter's schema type"));
        match &self.kind {
            ConverterKind::Protobuf(_) => {
                let (id, indexes, body) = protobuf::frame(bytes).map_err(bad)?;
                let schema = lookup(id).await?;
                let Schema::Protobuf(schema) = &*schema else { return Err(mismatch(id)) };
                let value =
                    protobuf::decode(schema, &indexes, body).map_err(|e| bad(format!("{e} (schema id {id})")))?;
                Ok(Data::from_typed(value))
            }
            ConverterKind::JsonSchema(_) => {
                let (id, body) = registry::frame(bytes, "JSON text").map_err(bad)?;
                let schema = lookup(id).await?;
                let Schema::Json(schema) = &*schema else { return Err(mismatch(id)) };
                match json_schema::decode(schema, body).map_err(|e| bad(format!("{e} (schema id {id})")))? {
                    json_schema::Decoded::Typed(value) => Ok(Data::from_typed(value)),
                    json_schema::Decoded::Plain => Data::decode(&ConverterKind::Json { schemas: false }, Some(body))
                        .map_err(|e| bad(format!("{e} (schema id {id})"))),
                }
            }
            _ => {
                let (id, body) = avro::frame(bytes).map_err(bad)?;
                let schema = lookup(id).await?;
                let Schema::Avro(schema) = &*schema else { return Err(mismatch(id)) };
                let value = avro::decode(schema, body).map_err(|e| bad(format!("{e} (schema id {id})")))?;
                Ok(Data::from_typed(value))
            }
        }
    }
}

/// A record's key and value, decoded; `Err` names which of the two failed.
pub async fn decode_record(
    key_converter: &Converter,
    value_converter: &Converter,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Result<(Data, Data), (&'static str, DecodeFailure)> {
    let key = key_converter.decode(key).await.map_err(|e| ("key", e))?;
    let value = value_converter.decode(value).await.map_err(|e| ("value", e))?;
    Ok((key, value))
}

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
    /// Decodes with a converter that needs no schema registry (the Avro, Protobuf and JSON Schema
    /// converters go through [`Converter::decode`]).
    pub fn decode(converter: &ConverterKind, bytes: Option<&[u8]>) -> Result<Data, DecodeError> {
        let Some(bytes) = bytes else { return Ok(Data::Null) };
        match converter {
            ConverterKind::String => {
                let text =
                    std::str::from_utf8(bytes).map_err(|e| DecodeError(format!("not valid UTF-8 text ({e})")))?;
                Ok(Data::from_text(text))
            }
            ConverterKind::Json { schemas } => {
                // An object is read in place; anything else, and anything the fast pass leaves,
                // by serde_json (whose errors are the messages).
                if !*schemas && let Some(object) = json_object(bytes) {
                    return Ok(Data::Object(object));
                }
                let v: Value =
                    serde_json::from_slice(bytes).map_err(|e| DecodeError(format!("not valid JSON: {e}")))?;
                let (v, schemaless_envelope) = if *schemas {
                    match connect_json::split_envelope(v).map_err(DecodeError)? {
                        (Some(schema), payload) => {
                            return connect_json::decode(&schema, &payload).map(Data::from_typed).map_err(DecodeError);
                        }
                        // `"schema": null`: Kafka reads the payload as schemaless JSON.
                        (None, payload) => (payload, true),
                    }
                } else {
                    (v, false)
                };
                Ok(match v {
                    Value::Null => Data::Null,
                    Value::Object(fields) => {
                        let text = if schemaless_envelope {
                            Value::Object(fields.clone()).to_string()
                        } else {
                            // Parsed, so valid UTF-8.
                            String::from_utf8_lossy(bytes).trim().to_string()
                        };
                        Data::Object(JsonObject::from_map(fields, text))
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
            ConverterKind::Avro(_) | ConverterKind::Protobuf(_) | ConverterKind::JsonSchema(_) => {
                Err(DecodeError("this converter needs its schema registry".into()))
            }
        }
    }

    /// A schema-typed key or value: a text value is read like StringConverter text (a JSON
    /// object string exposes its fields, spec §3.2), other primitives stay primitives.
    pub fn from_typed(v: Typed) -> Data {
        match v {
            Typed::Null => Data::Null,
            Typed::Bool(b) => Data::Bool(b),
            Typed::Int(i) => Data::Int(i),
            Typed::Float(x) => Data::Float(x),
            Typed::Text(t) => Data::from_text(&t),
            Typed::Bytes(b) => Data::Bytes(b),
            other => Data::Typed(other),
        }
    }

    /// A string as the reference connector reads it: a JSON object exposes its fields, the empty
    /// string is an object without fields, anything else is plain text.
    pub fn from_text(text: &str) -> Data {
        if text.is_empty() {
            return Data::Object(JsonObject::empty(String::new()));
        }
        if text.trim_start().starts_with('{') {
            if let Some(object) = JsonObject::parse(text) {
                return Data::Object(object);
            }
            if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) {
                return Data::Object(JsonObject::from_map(fields, text.to_string()));
            }
        }
        Data::Text(text.into())
    }

    /// The whole key or value (`key` / `value` in a mapping).
    pub fn whole(&self) -> Datum<'_> {
        match self {
            Data::Null => Datum::Null,
            Data::Object(object) => Datum::Text(object.text()),
            Data::Json(v) => Datum::Json(v),
            Data::Text(t) => Datum::Text(t),
            Data::Bytes(b) => Datum::Bytes(b),
            Data::Bool(b) => Datum::Bool(*b),
            Data::Int(i) => Datum::Int(*i),
            Data::Float(f) => Datum::Float(*f),
            Data::Typed(t) => Datum::Typed(t),
        }
    }

    /// `key.<path>` / `value.<path>`: a field literally named `path` first (compatibility), else
    /// the nested path `a` → `b` → … through JSON objects.
    pub fn field(&self, path: &FieldPath) -> Lookup<'_> {
        let name = match path {
            FieldPath::Whole => return Lookup::Found(self.whole()),
            FieldPath::Named(name) => name,
        };
        if let Data::Typed(t) = self {
            return typed_field(t, name, path);
        }
        let Data::Object(object) = self else { return Lookup::NoFields };
        if object.is_empty() {
            return Lookup::NoFields;
        }
        if let Some(d) = object.get(name) {
            return Lookup::Found(d);
        }
        let segments = path.segments();
        let Some((last, parents)) = segments.split_last() else { return Lookup::Missing };
        let Some((first, parents)) = parents.split_first() else { return Lookup::Missing };
        let Some(mut current) = object.object(first) else { return Lookup::Missing };
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
        match self {
            Data::Object(object) => !object.is_empty(),
            Data::Typed(t) => t.has_members(),
            _ => false,
        }
    }
}

/// A field of a Struct (or of a map with text keys): the member literally named `name` first,
/// else the nested path through Structs and text-keyed maps. Every schema field is present,
/// null or not (spec §3.3), so a path through a null optional Struct is null, not missing.
fn typed_field<'a>(t: &'a Typed, name: &str, path: &FieldPath) -> Lookup<'a> {
    if !t.has_members() {
        return Lookup::NoFields;
    }
    if let Some(v) = t.member(name) {
        return Lookup::Found(Datum::typed(v));
    }
    let segments = path.segments();
    if segments.len() < 2 {
        return Lookup::Missing;
    }
    let mut current = t;
    for seg in segments {
        match current.member(seg) {
            Some(Typed::Null) => return Lookup::Found(Datum::Null),
            Some(v) => current = v,
            None => return Lookup::Missing,
        }
    }
    Lookup::Found(Datum::typed(current))
}

/// A JsonConverter value that is an object, read by the fast pass (`None`: not an object, or
/// left to serde_json).
fn json_object(bytes: &[u8]) -> Option<JsonObject> {
    let text = std::str::from_utf8(bytes).ok()?.trim_matches([' ', '\t', '\n', '\r']);
    if !text.starts_with('{') {
        return None;
    }
    JsonObject::parse(text)
}

fn fixed<const N: usize>(bytes: &[u8], converter: &str) -> Result<[u8; N], DecodeError> {
    bytes.try_into().map_err(|_| DecodeError(format!("{converter} expects {N} bytes, got {}", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(s: &str) -> FieldPath {
        FieldPath::Named(s.to_string())
    }

    #[test]
    fn string_converter_json_object_exposes_fields() {
        let d = Data::decode(&ConverterKind::String, Some(br#"{"a":1,"b":{"c":"x"},"d.e":true}"#)).unwrap();
        assert!(d.has_fields());
        assert!(matches!(d.field(&named("a")), Lookup::Found(Datum::JsonNum("1"))));
        assert!(matches!(d.field(&named("b.c")), Lookup::Found(Datum::Json(v)) if v == "x"));
        assert!(matches!(d.field(&named("d.e")), Lookup::Found(Datum::Json(v)) if v == &serde_json::json!(true)));
        assert!(matches!(d.field(&named("zz")), Lookup::Missing));
        assert!(matches!(d.field(&named("a.b")), Lookup::Missing));
        assert!(matches!(d.whole(), Datum::Text(t) if t == r#"{"a":1,"b":{"c":"x"},"d.e":true}"#));
    }

    /// An object's text is what a mapping of the whole key or value reads: as written for
    /// StringConverter, without surrounding whitespace for JsonConverter, the string's content
    /// for a JSON string that holds an object.
    #[test]
    fn an_object_keeps_its_text() {
        let json = ConverterKind::Json { schemas: false };
        for (kind, bytes, text) in [
            (&ConverterKind::String, &br#"{"a":1,"b":"x"}"#[..], r#"{"a":1,"b":"x"}"#),
            (&ConverterKind::String, br#" {"a":1,"b":"x"}"#, r#" {"a":1,"b":"x"}"#),
            (&json, br#" {"a":1,"b":"x"} "#, r#"{"a":1,"b":"x"}"#),
            (&json, br#""{\"a\":1,\"b\":\"x\"}""#, r#"{"a":1,"b":"x"}"#),
            // Read by serde_json: an exponent and an escaped key.
            (&json, br#"{"a":1e0,"\u0062":"x"}"#, r#"{"a":1e0,"\u0062":"x"}"#),
        ] {
            let d = Data::decode(kind, Some(bytes)).unwrap();
            assert!(matches!(d.whole(), Datum::Text(t) if t == text), "{d:?}");
            assert!(matches!(d.field(&named("b")), Lookup::Found(Datum::JsonStr("x") | Datum::Json(Value::String(_)))));
            assert!(matches!(d.field(&named("c")), Lookup::Missing));
        }
    }

    /// Objects the fast pass leaves to serde_json read the same: a JSON text serde_json accepts
    /// is an object with the same members either way.
    #[test]
    fn the_fast_pass_and_serde_json_agree() {
        let text = r#"{"s":"t","n":-1.5,"b":true,"z":null,"o":{"p":[1]},"e":2E3,"q":"a\"b"}"#;
        let fast = Data::from_text(text);
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else { panic!("an object") };
        let slow = Data::Object(JsonObject::from_map(fields, text.to_string()));
        for name in ["s", "n", "b", "z", "o", "e", "q", "o.p", "x"] {
            let value = |d: &Data| match d.field(&named(name)) {
                Lookup::Found(Datum::JsonStr(s)) => Some(Value::String(s.to_string())),
                Lookup::Found(Datum::JsonNum(n)) => Some(serde_json::from_str(n).unwrap()),
                Lookup::Found(Datum::Json(v)) => Some(v.clone()),
                Lookup::Found(other) => panic!("{other:?}"),
                Lookup::Missing | Lookup::NoFields => None,
            };
            assert_eq!(value(&fast), value(&slow), "{name}");
        }
        assert!(matches!(fast.whole(), Datum::Text(t) if t == text));
    }

    #[test]
    fn literal_dotted_name_wins_over_nested_path() {
        let d = Data::from_text(r#"{"a.b":"literal","a":{"b":"nested"}}"#);
        assert!(matches!(d.field(&named("a.b")), Lookup::Found(Datum::JsonStr("literal"))));
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
            Data::decode(&ConverterKind::Json { schemas: false }, Some(b"42")).unwrap(),
        ] {
            assert!(!d.has_fields(), "{d:?}");
            assert!(matches!(d.field(&named("a")), Lookup::NoFields), "{d:?}");
        }
        assert!(matches!(Data::from_text("").whole(), Datum::Text("")));
    }

    #[test]
    fn json_converter_schemaless_and_envelope() {
        let d = Data::decode(&ConverterKind::Json { schemas: false }, Some(br#""{\"y\":3}""#)).unwrap();
        assert!(matches!(d.field(&named("y")), Lookup::Found(_)), "{d:?}");
        let d = Data::decode(&ConverterKind::Json { schemas: false }, Some(br#""plain""#)).unwrap();
        assert_eq!(d, Data::Text("plain".into()));
        let d = Data::decode(&ConverterKind::Json { schemas: false }, Some(br#" {"x":"1"} "#)).unwrap();
        assert!(matches!(d.field(&named("x")), Lookup::Found(_)));
        assert_eq!(Data::decode(&ConverterKind::Json { schemas: false }, Some(b"null")).unwrap(), Data::Null);
        let env = br#"{"schema":null,"payload":{"x":2}}"#;
        let d = Data::decode(&ConverterKind::Json { schemas: true }, Some(env)).unwrap();
        assert!(matches!(d.field(&named("x")), Lookup::Found(Datum::Json(v)) if v == &serde_json::json!(2)));
        let e = Data::decode(&ConverterKind::Json { schemas: true }, Some(br#"{"x":2}"#)).unwrap_err();
        assert!(e.0.contains("schemas.enable=false"), "{e}");
        let e = Data::decode(&ConverterKind::Json { schemas: false }, Some(b"{\"x\":")).unwrap_err();
        assert!(e.0.starts_with("not valid JSON"), "{e}");
    }

    fn schema_json(body: &str) -> Data {
        Data::decode(&ConverterKind::Json { schemas: true }, Some(body.as_bytes())).unwrap()
    }

    #[test]
    fn json_with_schema_is_a_struct_with_every_schema_field() {
        let d = schema_json(
            r#"{"schema":{"type":"struct","fields":[
                {"field":"id","type":"int32"},
                {"field":"opt","type":"string","optional":true},
                {"field":"a.b","type":"string","optional":true},
                {"field":"a","type":"struct","optional":true,"fields":[{"field":"b","type":"int64"},{"field":"c","type":"string","optional":true}]}]},
              "payload":{"id":5,"a":{"b":7}}}"#,
        );
        assert!(d.has_fields());
        assert!(matches!(d.field(&named("id")), Lookup::Found(Datum::Int(5))));
        assert!(matches!(d.field(&named("opt")), Lookup::Found(Datum::Null)), "absent optional fields are null");
        assert!(matches!(d.field(&named("a.b")), Lookup::Found(Datum::Null)), "the literal name wins, null or not");
        assert!(matches!(d.field(&named("a.c")), Lookup::Found(Datum::Null)));
        assert!(matches!(d.field(&named("nope")), Lookup::Missing));
        assert!(matches!(d.field(&named("a.zz")), Lookup::Missing));
        assert!(matches!(d.field(&named("id.x")), Lookup::Missing));
        assert!(matches!(d.field(&named("a")), Lookup::Found(Datum::Typed(Typed::Struct(_)))));
        assert!(matches!(d.whole(), Datum::Typed(Typed::Struct(_))));
        let d = schema_json(
            r#"{"schema":{"type":"struct","fields":[{"field":"x","type":"struct","fields":[{"field":"y","type":"int8"}]}]},
              "payload":{"x":{"y":3}}}"#,
        );
        assert!(matches!(d.field(&named("x.y")), Lookup::Found(Datum::Int(3))), "nested path");
        let d = schema_json(
            r#"{"schema":{"type":"struct","fields":[{"field":"x","type":"struct","optional":true,"fields":[{"field":"y","type":"int8"}]}]},
              "payload":{"x":null}}"#,
        );
        assert!(matches!(d.field(&named("x.y")), Lookup::Found(Datum::Null)), "a path through a null struct is null");
        assert!(matches!(d.field(&named("x.y.z")), Lookup::Found(Datum::Null)));
    }

    #[test]
    fn json_with_schema_top_level_values() {
        assert_eq!(schema_json(r#"{"schema":{"type":"int64"},"payload":42}"#), Data::Int(42));
        assert_eq!(schema_json(r#"{"schema":{"type":"string","optional":true},"payload":null}"#), Data::Null);
        let d = schema_json(r#"{"schema":{"type":"string"},"payload":"{\"k\":1}"}"#);
        assert!(matches!(d.field(&named("k")), Lookup::Found(_)), "a JSON object string exposes its fields");
        let d = schema_json(
            r#"{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}},"payload":{"k":1}}"#,
        );
        assert!(matches!(d.field(&named("k")), Lookup::Found(Datum::Int(1))));
        assert!(matches!(d.field(&named("z")), Lookup::Missing));
        let d = schema_json(r#"{"schema":{"type":"struct","fields":[]},"payload":{}}"#);
        assert!(!d.has_fields());
        assert!(matches!(d.field(&named("a")), Lookup::NoFields));
        let e =
            Data::decode(&ConverterKind::Json { schemas: true }, Some(br#"{"schema":{"type":"int8"},"payload":"x"}"#))
                .unwrap_err();
        assert!(e.0.starts_with("Payload does not match its Connect schema"), "{e}");
    }

    #[tokio::test]
    async fn avro_converter_framing_errors_are_per_record() {
        use crate::config::worker::RegistrySettings;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let kind = ConverterKind::Avro(RegistrySettings { urls: vec![url], basic_auth: None });
        let shutdown = CancellationToken::new();
        let c = Converter::new(kind, shutdown.clone()).unwrap();
        assert_eq!(c.decode(None).await, Ok(Data::Null));
        let Err(DecodeFailure::Bad(e)) = c.decode(Some(b"{}")).await else { panic!() };
        assert!(e.0.starts_with("Unknown magic byte 0x7b"), "{e}");
        let Err(DecodeFailure::Bad(e)) = c.decode(Some(&[0, 1])).await else { panic!() };
        assert!(e.0.contains("too short"), "{e}");
        // The registry is down: the record waits; shutting down interrupts the wait.
        shutdown.cancel();
        assert_eq!(c.decode(Some(&[0, 0, 0, 0, 1, 2])).await, Err(DecodeFailure::Interrupted));
    }

    #[tokio::test]
    async fn protobuf_and_json_schema_converter_framing_errors_are_per_record() {
        use crate::config::worker::RegistrySettings;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let settings = RegistrySettings { urls: vec![url], basic_auth: None };
        let shutdown = CancellationToken::new();
        let proto = Converter::new(ConverterKind::Protobuf(settings.clone()), shutdown.clone()).unwrap();
        let json = Converter::new(ConverterKind::JsonSchema(settings), shutdown.clone()).unwrap();
        assert_eq!(proto.decode(None).await, Ok(Data::Null));
        let Err(DecodeFailure::Bad(e)) = proto.decode(Some(b"{}")).await else { panic!() };
        assert!(e.0.starts_with("Unknown magic byte 0x7b") && e.0.contains("message indexes"), "{e}");
        let Err(DecodeFailure::Bad(e)) = proto.decode(Some(&[0, 0, 0, 0, 1, 0x81])).await else { panic!() };
        assert!(e.0.starts_with("Invalid message indexes: truncated varint"), "{e}");
        let Err(DecodeFailure::Bad(e)) = json.decode(Some(&[0, 0])).await else { panic!() };
        assert!(e.0.contains("too short"), "{e}");
        // The registry is down: the record waits; shutting down interrupts the wait.
        shutdown.cancel();
        assert_eq!(proto.decode(Some(&[0, 0, 0, 0, 1, 0, 8, 1])).await, Err(DecodeFailure::Interrupted));
        assert_eq!(json.decode(Some(b"\0\0\0\0\x01{}")).await, Err(DecodeFailure::Interrupted));
    }

    #[test]
    fn primitive_converters_and_bad_lengths() {
        assert_eq!(Data::decode(&ConverterKind::Long, Some(&7i64.to_be_bytes())).unwrap(), Data::Int(7));
        assert_eq!(Data::decode(&ConverterKind::Integer, Some(&(-3i32).to_be_bytes())).unwrap(), Data::Int(-3));
        assert_eq!(Data::decode(&ConverterKind::Double, Some(&1.5f64.to_be_bytes())).unwrap(), Data::Float(1.5));
        assert_eq!(Data::decode(&ConverterKind::Boolean, Some(&[1])).unwrap(), Data::Bool(true));
        assert_eq!(
            Data::decode(&ConverterKind::Long, Some(&[1, 2])).unwrap_err().0,
            "LongConverter expects 8 bytes, got 2"
        );
        assert!(Data::decode(&ConverterKind::String, Some(&[0xff, 0xfe])).is_err());
        assert_eq!(Data::decode(&ConverterKind::String, None).unwrap(), Data::Null);
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(Data::decode(&ConverterKind::Json { schemas: false }, Some(deep.as_bytes())).is_err());
        let deep_obj = format!("{}{}", r#"{"a":"#.repeat(10_000), "1");
        assert!(matches!(Data::from_text(&deep_obj), Data::Text(_)));
    }
}
