//! Kafka Connect's JsonConverter with `schemas.enable=true`: the `{"schema": …, "payload": …}`
//! envelope → a [`Typed`] value, as `JsonConverter.toConnectData` reads it.
//!
//! Schema types: `boolean`, `int8`…`int64`, `float32`, `float64`, `string`, `bytes` (Base64
//! text), `array` (`items`), `map` (`keys`, `values`; a JSON object when the keys are strings,
//! else a JSON array of `[key, value]` pairs), `struct` (`fields`, each with a `field` name), and
//! `optional`, `default`, `name`, `parameters`. The logical types `…connect.data.Decimal` (bytes,
//! parameter `scale`), `…Date` (int32 days), `…Time` (int32 ms of the day) and `…Timestamp`
//! (int64 ms since the epoch) keep their meaning (spec "Where we deliberately differ" §8).
//! Decimals are read in both encodings whatever `decimal.format` says, as Kafka does (KIP-481):
//! Base64 of the two's-complement unscaled value (BASE64), or a JSON number (NUMERIC).
//!
//! Deliberately stricter than Kafka, whose Jackson accessors turn a wrong node type into 0,
//! false or null and wrap out-of-range integers: here those are per-record errors that name the
//! field.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use num_bigint::BigInt;
use serde_json::{Map, Value};

use super::failure::{Failure, Res};
use super::typed::{Struct, Typed, decimal_text};

pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";

/// Longest Base64 decimal accepted (bytes of the unscaled value): about 2 400 digits, well
/// inside what the conversions accept, and bounded work on untrusted input.
pub const MAX_DECIMAL_BYTES: usize = 1024;

/// Base64 as Jackson's `binaryValue()` reads it: standard alphabet, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A parsed Connect schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub kind: Kind,
    pub optional: bool,
    /// `default`, already converted with this schema.
    pub default: Option<Typed>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Boolean,
    /// `int8`..`int64`: the bit width.
    Int(u8),
    Float32,
    Float64,
    String,
    Bytes,
    Decimal {
        scale: i32,
    },
    Date,
    Time,
    Timestamp,
    Array(Box<Schema>),
    Map(Box<Schema>, Box<Schema>),
    Struct(Vec<(String, Schema)>),
}

impl Kind {
    /// Kafka's `Schema.Type` name, as its messages show it.
    fn type_name(&self) -> &'static str {
        match self {
            Kind::Boolean => "BOOLEAN",
            Kind::Int(8) => "INT8",
            Kind::Int(16) => "INT16",
            Kind::Int(32) | Kind::Date | Kind::Time => "INT32",
            Kind::Int(_) | Kind::Timestamp => "INT64",
            Kind::Float32 => "FLOAT32",
            Kind::Float64 => "FLOAT64",
            Kind::String => "STRING",
            Kind::Bytes | Kind::Decimal { .. } => "BYTES",
            Kind::Array(_) => "ARRAY",
            Kind::Map(..) => "MAP",
            Kind::Struct(_) => "STRUCT",
        }
    }
}

/// The envelope's parts: the schema (`None` for `"schema": null`, which Kafka reads as
/// schemaless) and the payload.
pub fn split_envelope(v: Value) -> Result<(Option<Value>, Value), String> {
    match v {
        Value::Object(mut m) if m.len() == 2 && m.contains_key("schema") && m.contains_key("payload") => {
            let schema = m.remove("schema").filter(|s| !s.is_null());
            Ok((schema, m.remove("payload").unwrap_or(Value::Null)))
        }
        _ => Err(
            "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.".into(),
        ),
    }
}

/// The payload of an envelope read with its schema.
pub fn decode(schema: &Value, payload: &Value) -> Result<Typed, String> {
    let schema = parse_schema(schema).map_err(|f| f.message("Invalid Connect schema"))?;
    to_typed(&schema, Some(payload)).map_err(|f| f.message("Payload does not match its Connect schema"))
}

/// `JsonConverter.asConnectSchema`.
pub fn parse_schema_value(v: &Value) -> Result<Schema, String> {
    parse_schema(v).map_err(|f| f.message("Invalid Connect schema"))
}

fn parse_schema(v: &Value) -> Res<Schema> {
    let Value::Object(o) = v else {
        return Err(Failure::new(format!("a schema must be a JSON object, got {}", node_type(v))));
    };
    let type_name = match o.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => return Err(Failure::new(format!("'type' must be a string, got {}", node_type(other)))),
        None => return Err(Failure::new("Schema must contain 'type' field")),
    };
    let optional = match o.get("optional") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(Failure::new(format!("'optional' must be a boolean, got {}", node_type(other)))),
    };
    let name = match o.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(other) => return Err(Failure::new(format!("'name' must be a string, got {}", node_type(other)))),
    };
    let mut kind = match type_name {
        "boolean" => Kind::Boolean,
        "int8" => Kind::Int(8),
        "int16" => Kind::Int(16),
        "int32" => Kind::Int(32),
        "int64" => Kind::Int(64),
        "float32" => Kind::Float32,
        "float64" => Kind::Float64,
        "string" => Kind::String,
        "bytes" => Kind::Bytes,
        "array" => {
            let items = o.get("items").ok_or_else(|| Failure::new("Array schema did not specify the element type"))?;
            Kind::Array(Box::new(parse_schema(items).map_err(|f| f.within("<items>"))?))
        }
        "map" => {
            let keys = o.get("keys").ok_or_else(|| Failure::new("Map schema did not specify the key type"))?;
            let values = o.get("values").ok_or_else(|| Failure::new("Map schema did not specify the value type"))?;
            Kind::Map(
                Box::new(parse_schema(keys).map_err(|f| f.within("<keys>"))?),
                Box::new(parse_schema(values).map_err(|f| f.within("<values>"))?),
            )
        }
        "struct" => {
            let Some(Value::Array(fields)) = o.get("fields") else {
                return Err(Failure::new("Struct schema's \"fields\" argument is not an array."));
            };
            let mut out: Vec<(String, Schema)> = Vec::with_capacity(fields.len());
            for f in fields {
                let field_name = match f.get("field") {
                    Some(Value::String(n)) => n.clone(),
                    _ => return Err(Failure::new("Struct schema's field name not specified properly")),
                };
                if out.iter().any(|(n, _)| *n == field_name) {
                    return Err(Failure::new(format!("Duplicate field name '{field_name}' in struct schema")));
                }
                let schema = parse_schema(f).map_err(|e| e.within(field_name.clone()))?;
                out.push((field_name, schema));
            }
            Kind::Struct(out)
        }
        other => return Err(Failure::new(format!("Unknown schema type: {other}"))),
    };
    if let Some(logical) = name.as_deref() {
        kind = logical_kind(logical, kind, o)?;
    }
    let mut schema = Schema { kind, optional, default: None, name };
    if let Some(d) = o.get("default").filter(|d| !d.is_null()) {
        let default = to_typed(&schema, Some(d)).map_err(|f| f.within("<default>"))?;
        schema.default = Some(default);
    }
    Ok(schema)
}

/// The logical types named by the schema; other names are kept as names only.
fn logical_kind(name: &str, kind: Kind, o: &Map<String, Value>) -> Res<Kind> {
    let expect = |wanted: Kind| -> Res<Kind> {
        if kind == wanted {
            Ok(kind.clone())
        } else {
            Err(Failure::new(format!(
                "logical type {name} must have type {}, got {}",
                wanted.type_name().to_ascii_lowercase(),
                kind.type_name().to_ascii_lowercase()
            )))
        }
    };
    Ok(match name {
        DECIMAL => {
            expect(Kind::Bytes)?;
            let scale = match o.get("parameters").and_then(|p| p.get("scale")) {
                Some(Value::String(s)) => s.trim().parse::<i32>().ok(),
                Some(Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                _ => return Err(Failure::new("Invalid Decimal schema: scale parameter not found.")),
            };
            Kind::Decimal {
                scale: scale
                    .ok_or_else(|| Failure::new("Invalid Decimal schema: scale parameter is not an integer."))?,
            }
        }
        DATE => {
            expect(Kind::Int(32))?;
            Kind::Date
        }
        TIME => {
            expect(Kind::Int(32))?;
            Kind::Time
        }
        TIMESTAMP => {
            expect(Kind::Int(64))?;
            Kind::Timestamp
        }
        _ => kind,
    })
}

fn node_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `JsonConverter.convertToConnect`: `None` is an absent struct member.
fn to_typed(schema: &Schema, v: Option<&Value>) -> Res<Typed> {
    let v = match v {
        None | Some(Value::Null) => {
            if let Some(d) = &schema.default {
                return Ok(d.clone());
            }
            if schema.optional {
                return Ok(Typed::Null);
            }
            return Err(Failure::new(format!("Invalid null value for required {} field", schema.kind.type_name())));
        }
        Some(v) => v,
    };
    let wrong = |expected: &str| {
        Failure::new(format!("expected {expected} for a {} field, got {}", schema.kind.type_name(), shown(v)))
    };
    Ok(match &schema.kind {
        Kind::Boolean => match v {
            Value::Bool(b) => Typed::Bool(*b),
            _ => return Err(wrong("a boolean")),
        },
        Kind::Int(bits) => {
            let i = integer(v).ok_or_else(|| wrong("an integer"))?;
            let (lo, hi) = match bits {
                8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
                16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
                32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            if !(lo..=hi).contains(&i) {
                return Err(Failure::new(format!("{i} is out of range for a {} field", schema.kind.type_name())));
            }
            Typed::Int(i)
        }
        Kind::Float32 => match v {
            // `floatValue()`: the nearest float, widened back exactly.
            Value::Number(n) => Typed::Float(f64::from(n.as_f64().ok_or_else(|| wrong("a number"))? as f32)),
            _ => return Err(wrong("a number")),
        },
        Kind::Float64 => match v {
            Value::Number(n) => Typed::Float(n.as_f64().ok_or_else(|| wrong("a number"))?),
            _ => return Err(wrong("a number")),
        },
        Kind::String => match v {
            Value::String(s) => Typed::Text(s.as_str().into()),
            _ => return Err(wrong("a string")),
        },
        Kind::Bytes => match v {
            Value::String(s) => {
                Typed::Bytes(BASE64.decode(s).map_err(|_| Failure::new(format!("{} is not valid Base64", shown(v))))?)
            }
            _ => return Err(wrong("a Base64 string")),
        },
        Kind::Decimal { scale } => match v {
            // NUMERIC: the number as written, its scale kept.
            Value::Number(n) => Typed::Decimal(n.as_str().to_string()),
            // BASE64: the two's-complement big-endian unscaled value.
            Value::String(s) => {
                let bytes = BASE64.decode(s).map_err(|_| Failure::new(format!("{} is not valid Base64", shown(v))))?;
                Typed::Decimal(decimal_of(&bytes, *scale)?)
            }
            _ => return Err(wrong("a Base64 string or a number")),
        },
        Kind::Date => Typed::Date(int32(v).ok_or_else(|| wrong("an int32 number of days"))?),
        Kind::Time => {
            let ms = int32(v).ok_or_else(|| wrong("an int32 number of milliseconds"))?;
            if !(0..86_400_000).contains(&ms) {
                return Err(Failure::new(format!(
                    "{ms} is not a time of day: Time values are milliseconds since midnight (0 to 86399999)"
                )));
            }
            Typed::Time(i64::from(ms) * 1_000_000)
        }
        Kind::Timestamp => {
            let ms = integer(v).ok_or_else(|| wrong("an int64 number of milliseconds"))?;
            Typed::Timestamp(
                ms.checked_mul(1000).ok_or_else(|| Failure::new(format!("timestamp {ms} ms is out of range")))?,
            )
        }
        Kind::Array(items) => match v {
            Value::Array(elements) => Typed::Array(
                elements
                    .iter()
                    .enumerate()
                    .map(|(i, e)| to_typed(items, Some(e)).map_err(|f| f.within(format!("[{i}]"))))
                    .collect::<Res<_>>()?,
            ),
            _ => return Err(wrong("an array")),
        },
        Kind::Map(keys, values) => {
            match v {
                Value::Object(entries) if keys.kind == Kind::String => Typed::Map(
                    entries
                        .iter()
                        .map(|(k, e)| {
                            Ok((Typed::Text(k.as_str().into()), to_typed(values, Some(e)).map_err(|f| f.within(k))?))
                        })
                        .collect::<Res<_>>()?,
                ),
                Value::Array(pairs) => Typed::Map(
                    pairs
                        .iter()
                        .enumerate()
                        .map(|(i, pair)| match pair {
                            Value::Array(kv) if kv.len() == 2 => Ok((
                                to_typed(keys, kv.first()).map_err(|f| f.within(format!("[{i}].<key>")))?,
                                to_typed(values, kv.get(1)).map_err(|f| f.within(format!("[{i}].<value>")))?,
                            )),
                            _ => Err(Failure::new("a map entry must be a JSON array of [key, value]")
                                .within(format!("[{i}]"))),
                        })
                        .collect::<Res<_>>()?,
                ),
                _ if keys.kind == Kind::String => return Err(wrong("an object")),
                _ => return Err(wrong("an array of [key, value] pairs")),
            }
        }
        Kind::Struct(fields) => match v {
            Value::Object(members) => Typed::Struct(Struct {
                name: schema.name.as_deref().map(Into::into),
                fields: fields
                    .iter()
                    .map(|(name, s)| Ok((name.into(), to_typed(s, members.get(name)).map_err(|f| f.within(name))?)))
                    .collect::<Res<_>>()?,
            }),
            _ => return Err(wrong("an object")),
        },
    })
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn int32(v: &Value) -> Option<i32> {
    integer(v).and_then(|i| i32::try_from(i).ok())
}

fn decimal_of(bytes: &[u8], scale: i32) -> Res<String> {
    if bytes.len() > MAX_DECIMAL_BYTES {
        return Err(Failure::new(format!(
            "a decimal of {} bytes is longer than the {MAX_DECIMAL_BYTES} bytes accepted",
            bytes.len()
        )));
    }
    Ok(decimal_text(&BigInt::from_signed_bytes_be(bytes), scale))
}

/// A JSON value for a message, cut when long.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(100) {
        None => text,
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(schema: Value, payload: Value) -> Result<Typed, String> {
        decode(&schema, &payload)
    }

    fn st(fields: Vec<(&str, Typed)>) -> Typed {
        Typed::Struct(Struct { name: None, fields: fields.into_iter().map(|(n, v)| (n.into(), v)).collect() })
    }

    fn field(name: &str, schema: Value) -> Value {
        let mut s = schema;
        s["field"] = json!(name);
        s
    }

    #[test]
    fn primitives() {
        let schema = json!({"type": "struct", "fields": [
            field("b", json!({"type": "boolean"})),
            field("i8", json!({"type": "int8"})),
            field("i16", json!({"type": "int16"})),
            field("i32", json!({"type": "int32"})),
            field("i64", json!({"type": "int64"})),
            field("f32", json!({"type": "float32"})),
            field("f64", json!({"type": "float64"})),
            field("s", json!({"type": "string"})),
            field("bytes", json!({"type": "bytes"})),
        ]});
        let payload = json!({"b": true, "i8": -128, "i16": 32767, "i32": -5, "i64": 9007199254740993i64,
            "f32": 0.1, "f64": 0.1, "s": "x", "bytes": "AQID"});
        assert_eq!(
            read(schema, payload).unwrap(),
            st(vec![
                ("b", Typed::Bool(true)),
                ("i8", Typed::Int(-128)),
                ("i16", Typed::Int(32767)),
                ("i32", Typed::Int(-5)),
                ("i64", Typed::Int(9_007_199_254_740_993)),
                ("f32", Typed::Float(f64::from(0.1f32))),
                ("f64", Typed::Float(0.1)),
                ("s", Typed::Text("x".into())),
                ("bytes", Typed::Bytes(vec![1, 2, 3])),
            ])
        );
    }

    #[test]
    fn optional_fields_defaults_and_required_nulls() {
        let schema = json!({"type": "struct", "name": "R", "fields": [
            field("opt", json!({"type": "string", "optional": true})),
            field("def", json!({"type": "int32", "optional": true, "default": 7})),
            field("req_def", json!({"type": "string", "default": "d"})),
        ]});
        let t = read(schema.clone(), json!({})).unwrap();
        assert_eq!(
            t,
            Typed::Struct(Struct {
                name: Some("R".into()),
                fields: vec![
                    ("opt".into(), Typed::Null),
                    ("def".into(), Typed::Int(7)),
                    ("req_def".into(), Typed::Text("d".into()))
                ]
            })
        );
        let t = read(schema, json!({"opt": "o", "def": null, "req_def": "x", "extra": 1})).unwrap();
        assert_eq!(t.member("opt"), Some(&Typed::Text("o".into())));
        assert_eq!(t.member("def"), Some(&Typed::Int(7)));
        assert_eq!(t.member("extra"), None, "payload members outside the schema are ignored");
        let e =
            read(json!({"type": "struct", "fields": [field("a", json!({"type": "int64"}))]}), json!({})).unwrap_err();
        assert_eq!(e, "Payload does not match its Connect schema at 'a': Invalid null value for required INT64 field");
    }

    #[test]
    fn logical_types() {
        let schema = json!({"type": "struct", "fields": [
            field("price", json!({"type": "bytes", "name": DECIMAL, "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "10"}})),
            field("num", json!({"type": "bytes", "name": DECIMAL, "parameters": {"scale": "3"}})),
            field("neg", json!({"type": "bytes", "name": DECIMAL, "parameters": {"scale": "2"}})),
            field("day", json!({"type": "int32", "name": DATE, "version": 1})),
            field("at", json!({"type": "int32", "name": TIME, "version": 1})),
            field("ts", json!({"type": "int64", "name": TIMESTAMP, "version": 1})),
        ]});
        // 12345 = 0x3039 → "MDk="; -1 = 0xff → "/w==".
        let payload = json!({"price": "MDk=", "num": 12.345, "neg": "/w==", "day": 19780, "at": 45296789, "ts": 1709892930123i64});
        assert_eq!(
            read(schema, payload).unwrap(),
            st(vec![
                ("price", Typed::Decimal("123.45".into())),
                ("num", Typed::Decimal("12.345".into())),
                ("neg", Typed::Decimal("-0.01".into())),
                ("day", Typed::Date(19_780)),
                ("at", Typed::Time(45_296_789_000_000)),
                ("ts", Typed::Timestamp(1_709_892_930_123_000)),
            ])
        );
    }

    #[test]
    fn logical_type_errors() {
        let bad = |s: Value, p: Value| {
            read(json!({"type": "struct", "fields": [field("x", s)]}), json!({"x": p})).unwrap_err()
        };
        assert_eq!(
            bad(json!({"type": "bytes", "name": DECIMAL}), json!("AA==")),
            "Invalid Connect schema at 'x': Invalid Decimal schema: scale parameter not found."
        );
        assert_eq!(
            bad(json!({"type": "int64", "name": DATE}), json!(1)),
            "Invalid Connect schema at 'x': logical type org.apache.kafka.connect.data.Date must have type int32, got int64"
        );
        assert!(bad(json!({"type": "int32", "name": TIME}), json!(86_400_000)).contains("not a time of day"));
        assert!(
            bad(json!({"type": "bytes", "name": DECIMAL, "parameters": {"scale": "2"}}), json!("***"))
                .contains("not valid Base64")
        );
        assert!(
            bad(json!({"type": "bytes", "name": DECIMAL, "parameters": {"scale": "2"}}), json!(true))
                .contains("Base64 string or a number")
        );
        let huge = BASE64.encode(vec![1u8; MAX_DECIMAL_BYTES + 1]);
        assert!(
            bad(json!({"type": "bytes", "name": DECIMAL, "parameters": {"scale": "2"}}), json!(huge))
                .contains("longer than")
        );
        assert!(bad(json!({"type": "int64", "name": TIMESTAMP}), json!(i64::MAX)).contains("out of range"));
    }

    #[test]
    fn collections_and_nested_structs() {
        let schema = json!({"type": "struct", "fields": [
            field("tags", json!({"type": "array", "items": {"type": "string"}})),
            field("counts", json!({"type": "map", "keys": {"type": "string"}, "values": {"type": "int32"}})),
            field("by_id", json!({"type": "map", "keys": {"type": "int32"}, "values": {"type": "string"}})),
            field("addr", json!({"type": "struct", "name": "Addr", "optional": true, "fields": [
                field("street", json!({"type": "string"})),
                field("zip", json!({"type": "int32", "optional": true})),
            ]})),
        ]});
        let payload = json!({"tags": ["a", "b"], "counts": {"x": 1}, "by_id": [[1, "one"], [2, "two"]],
            "addr": {"street": "Main", "zip": null}});
        let t = read(schema.clone(), payload).unwrap();
        assert_eq!(t.member("tags"), Some(&Typed::Array(vec![Typed::Text("a".into()), Typed::Text("b".into())])));
        assert_eq!(t.member("counts"), Some(&Typed::Map(vec![(Typed::Text("x".into()), Typed::Int(1))])));
        assert_eq!(
            t.member("by_id"),
            Some(&Typed::Map(vec![
                (Typed::Int(1), Typed::Text("one".into())),
                (Typed::Int(2), Typed::Text("two".into()))
            ]))
        );
        assert_eq!(
            t.member("addr"),
            Some(&Typed::Struct(Struct {
                name: Some("Addr".into()),
                fields: vec![("street".into(), Typed::Text("Main".into())), ("zip".into(), Typed::Null)]
            }))
        );
        let e = read(schema.clone(), json!({"tags": ["a", 1], "counts": {}, "by_id": [], "addr": null})).unwrap_err();
        assert_eq!(
            e,
            "Payload does not match its Connect schema at 'tags.[1]': expected a string for a STRING field, got 1"
        );
        let e = read(schema, json!({"tags": [], "counts": {}, "by_id": [[1]], "addr": null})).unwrap_err();
        assert!(e.contains("'by_id.[0]'") && e.contains("[key, value]"), "{e}");
    }

    #[test]
    fn wrong_types_and_ranges_are_errors() {
        let one = |t: &str, p: Value| read(json!({"type": t}), p);
        assert!(one("int8", json!(128)).unwrap_err().contains("128 is out of range for a INT8 field"));
        assert!(one("int32", json!(1.5)).unwrap_err().contains("expected an integer"));
        assert!(one("int32", json!("1")).unwrap_err().contains("expected an integer"));
        assert!(one("boolean", json!(1)).is_err());
        assert!(one("string", json!(1)).is_err());
        assert!(one("bytes", json!("not base64!")).is_err());
        assert_eq!(one("string", json!("top")), Ok(Typed::Text("top".into())));
        assert_eq!(read(json!({"type": "string", "optional": true}), Value::Null), Ok(Typed::Null));
    }

    #[test]
    fn schema_errors() {
        let e = |s: Value| read(s, json!({})).unwrap_err();
        assert_eq!(e(json!({})), "Invalid Connect schema: Schema must contain 'type' field");
        assert_eq!(e(json!({"type": "nope"})), "Invalid Connect schema: Unknown schema type: nope");
        assert_eq!(
            e(json!({"type": "struct"})),
            "Invalid Connect schema: Struct schema's \"fields\" argument is not an array."
        );
        assert_eq!(
            e(json!({"type": "array"})),
            "Invalid Connect schema: Array schema did not specify the element type"
        );
        assert_eq!(
            e(json!({"type": "map", "keys": {"type": "string"}})),
            "Invalid Connect schema: Map schema did not specify the value type"
        );
        assert!(e(json!({"type": "struct", "fields": [{"type": "int32"}]})).contains("field name"));
        assert!(e(json!({"type": "struct", "fields": [field("a", json!({"type": "int32"})), field("a", json!({"type": "int32"}))]})).contains("Duplicate"));
        assert!(e(json!({"type": "int32", "default": "x"})).contains("<default>"));
        assert!(e(json!("int32")).contains("must be a JSON object"));
    }

    proptest::proptest! {
        /// Any schema and payload built from a few JSON pieces: an error or a value, never a panic.
        #[test]
        fn never_panics(
            types in proptest::collection::vec(proptest::sample::select(vec![
                "int8", "int32", "int64", "float32", "boolean", "string", "bytes", "array", "map", "struct", "nope",
            ]), 1..4),
            payload in proptest::sample::select(vec![
                "null", "1", "-129", "1.5", "1e400", "\"AQID\"", "\"x\"", "true", "[1,2]", "{\"a\":1}", "[[1,\"a\"]]", "{}",
            ]),
            names in proptest::sample::select(vec![None, Some(DECIMAL), Some(DATE), Some(TIME), Some(TIMESTAMP)]),
        ) {
            let mut schema = json!({"type": types[types.len() - 1]});
            for t in types.iter().rev().skip(1) {
                schema = match *t {
                    "array" => json!({"type": "array", "items": schema}),
                    "map" => json!({"type": "map", "keys": {"type": "string"}, "values": schema}),
                    "struct" => json!({"type": "struct", "fields": [field("a", schema)]}),
                    other => json!({"type": other}),
                };
            }
            if let Some(n) = names {
                schema["name"] = json!(n);
                schema["parameters"] = json!({"scale": "2"});
            }
            let payload: Value = serde_json::from_str(payload).unwrap();
            let _ = read(schema, payload);
        }
    }

    #[test]
    fn envelopes() {
        let (s, p) = split_envelope(json!({"schema": null, "payload": {"a": 1}})).unwrap();
        assert_eq!((s, p), (None, json!({"a": 1})));
        assert!(split_envelope(json!({"payload": 1})).unwrap_err().contains("schemas.enable=false"));
        assert!(split_envelope(json!({"schema": {}, "payload": 1, "x": 2})).is_err());
        assert!(split_envelope(json!(null)).is_err());
    }
}
