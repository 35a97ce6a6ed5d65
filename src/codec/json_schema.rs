//! Confluent's JsonSchemaConverter: the wire format (magic byte 0, 4-byte schema id) around JSON
//! text, typed by the JSON Schema the registry holds for the id (`schemaType` `JSON`).
//!
//! The schema types the value as Confluent's `JsonSchemaData.toConnectData` does:
//! `"type": "object"` with `properties` → Struct (every property a field, absent ones null or
//! their `default`; members the schema does not name are ignored); an object with only
//! `additionalProperties` (or `"connect.type": "map"`) → map with text keys; `"array"` → array
//! (`"connect.type": "map"` with `key`/`value` items → map); `"integer"` → a 64-bit integer
//! (`"connect.type"` `int8`, `int16`, `int32` narrow it, out-of-range values are errors);
//! `"number"` → double (`float32` rounds to a float); `"string"` → text (`"connect.type":
//! "bytes"` → Base64-decoded bytes); `"boolean"`; a `type` list or a `oneOf`/`anyOf` of `null`
//! and one other schema → that schema, nullable. Connect's logical types are read from `title`:
//! `org.apache.kafka.connect.data.Decimal` (a JSON number as written, or Base64 of the unscaled
//! value with the `scale` of `connect.parameters`), `…Date` (days), `…Time` (ms of the day),
//! `…Timestamp` (ms since the epoch). `format` (`date`, `date-time`, …) does not change the
//! type, as in Confluent: such strings stay text (and convert into CQL like any text).
//! `$ref` is followed within the schema (`#/definitions/…`, `#/$defs/…`, any JSON pointer) and
//! into the schema's references by their names.
//!
//! Anything else (no `type`, `allOf`, several non-null branches, `true`) is read without a
//! schema: as the JsonConverter with `schemas.enable=false` reads it at the top level, and as
//! untyped values (objects → maps, numbers exactly as written) below it.
//!
//! The value is not validated against the schema (Confluent's `json.fail.invalid.schema`
//! defaults to `false`); a value of another JSON type than its schema says is a per-record error
//! that names the field.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use num_bigint::BigInt;
use serde_json::{Map, Value};

use super::connect_json::{DATE, DECIMAL, TIME, TIMESTAMP};
use super::failure::{Failure, Res};
use super::registry::Reference;
use super::typed::{Struct, Typed, decimal_text};

/// Nesting (of values and of `$ref` hops) beyond which a record is refused.
pub const MAX_DEPTH: usize = 100;

/// Longest Base64 decimal accepted, in bytes of the unscaled value.
pub const MAX_DECIMAL_BYTES: usize = 1024;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A JSON Schema document with the documents it refers to, by reference name.
#[derive(Debug)]
pub struct JsonSchema {
    root: Value,
    resources: HashMap<String, Value>,
}

impl JsonSchema {
    pub fn parse(text: &str, references: &[Reference]) -> Result<JsonSchema, String> {
        let root = document(text)?;
        let mut resources = HashMap::new();
        for r in references {
            let doc = document(&r.text).map_err(|e| format!("reference {}: {e}", r.name))?;
            if let Some(id) = doc.get("$id").and_then(Value::as_str) {
                resources.insert(id.to_string(), doc.clone());
            }
            resources.insert(r.name.clone(), doc);
        }
        Ok(JsonSchema { root, resources })
    }
}

fn document(text: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match v {
        Value::Object(_) | Value::Bool(_) => Ok(v),
        _ => Err("a JSON Schema must be an object or a boolean".into()),
    }
}

/// A decoded value: typed by the schema, or to be read as schemaless JSON.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    Typed(Typed),
    /// The schema does not type the value: read the JSON text as the JsonConverter with
    /// `schemas.enable=false` does.
    Plain,
}

/// Decodes the JSON body of a record (after the Confluent header).
pub fn decode(schema: &JsonSchema, body: &[u8]) -> Result<Decoded, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not valid JSON: {e}"))?;
    let walker = Walker { schema };
    let typed_root = walker.resolve(&schema.root, &schema.root).map(|(s, d)| walker.types(s, d, 0)).unwrap_or(false);
    if !typed_root {
        return Ok(Decoded::Plain);
    }
    walker
        .typed(&schema.root, &schema.root, Some(&v), 0)
        .map(Decoded::Typed)
        .map_err(|f| f.message("JSON value does not match its JSON Schema"))
}

struct Walker<'s> {
    schema: &'s JsonSchema,
}

fn is_null_schema(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

/// The single non-null type of a schema's `type` (a string, or a list with `null`).
fn single_type(o: &Map<String, Value>) -> Option<&str> {
    match o.get("type") {
        Some(Value::String(t)) => Some(t),
        Some(Value::Array(types)) => {
            let mut non_null = types.iter().filter_map(Value::as_str).filter(|t| *t != "null");
            match (non_null.next(), non_null.next()) {
                (Some(t), None) => Some(t),
                (None, None) => Some("null"),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The one non-null branch of a `oneOf`/`anyOf`, if there is exactly one.
fn single_branch(o: &Map<String, Value>) -> Option<&Value> {
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = o.get(key) {
            let mut non_null = branches.iter().filter(|b| !is_null_schema(b));
            return match (non_null.next(), non_null.next()) {
                (Some(b), None) => Some(b),
                _ => None,
            };
        }
    }
    None
}

fn connect_type(o: &Map<String, Value>) -> Option<&str> {
    o.get("connect.type").and_then(Value::as_str)
}

impl<'s> Walker<'s> {
    /// Follows `$ref`s: the schema they lead to and the document it is in.
    fn resolve<'a>(&self, mut schema: &'a Value, mut doc: &'a Value) -> Res<(&'a Value, &'a Value)>
    where
        's: 'a,
    {
        let mut hops = 0;
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            hops += 1;
            if hops > MAX_DEPTH {
                return Err(Failure::new(format!("more than {MAX_DEPTH} nested $ref")));
            }
            let (resource, fragment) = r.split_once('#').unwrap_or((r, ""));
            if !resource.is_empty() {
                doc = self
                    .schema
                    .resources
                    .get(resource)
                    .ok_or_else(|| Failure::new(format!("$ref {r}: no reference named {resource}")))?;
            }
            schema = if fragment.is_empty() {
                doc
            } else {
                doc.pointer(fragment).ok_or_else(|| Failure::new(format!("$ref {r} does not resolve")))?
            };
        }
        Ok((schema, doc))
    }

    /// Whether a (resolved) schema types its value.
    fn types(&self, schema: &Value, doc: &Value, depth: usize) -> bool {
        let Value::Object(o) = schema else { return false };
        if let Some(branch) = single_branch(o).filter(|_| !o.contains_key("type")) {
            return depth < MAX_DEPTH
                && self.resolve(branch, doc).map(|(s, d)| self.types(s, d, depth + 1)).unwrap_or(false);
        }
        matches!(single_type(o), Some("object" | "array" | "integer" | "number" | "string" | "boolean"))
            || (o.contains_key("properties") && !o.contains_key("type"))
    }

    /// `v` typed by `schema` (in `doc`); `None` is an absent object member.
    fn typed(&self, schema: &Value, doc: &Value, v: Option<&Value>, depth: usize) -> Res<Typed> {
        if depth > MAX_DEPTH {
            return Err(Failure::new(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let (schema, doc) = self.resolve(schema, doc)?;
        let Value::Object(o) = schema else { return untyped(v, depth) };
        let v = match v {
            None => match o.get("default") {
                Some(d) if !d.is_null() => return self.typed(schema, doc, Some(d), depth + 1),
                _ => return Ok(Typed::Null),
            },
            Some(Value::Null) => return Ok(Typed::Null),
            Some(v) => v,
        };
        let title = o.get("title").and_then(Value::as_str);
        if let Some(logical) = title.and_then(|t| logical(t, o, v).transpose()) {
            return logical;
        }
        let Some(ty) = single_type(o) else {
            if !o.contains_key("type") {
                if let Some(branch) = single_branch(o) {
                    return self.typed(branch, doc, Some(v), depth + 1);
                }
                if o.contains_key("properties") {
                    return self.object(o, doc, v, title, depth);
                }
            }
            return untyped(Some(v), depth);
        };
        let wrong = |expected: &str| Failure::new(format!("expected {expected}, got {}", shown(v)));
        Ok(match ty {
            "object" => return self.object(o, doc, v, title, depth),
            "array" => {
                let Value::Array(items) = v else { return Err(wrong("an array")) };
                if connect_type(o) == Some("map") {
                    return self.entries(o, doc, items, depth);
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let item_schema = match (o.get("prefixItems"), o.get("items")) {
                        (Some(Value::Array(prefix)), rest) => prefix.get(i).or(rest),
                        (_, Some(Value::Array(tuple))) => tuple.get(i).or(o.get("additionalItems")),
                        (_, items) => items,
                    };
                    let t = match item_schema {
                        Some(s) => self.typed(s, doc, Some(item), depth + 1),
                        None => untyped(Some(item), depth + 1),
                    };
                    out.push(t.map_err(|f| f.within(format!("[{i}]")))?);
                }
                Typed::Array(out)
            }
            "integer" => {
                let Value::Number(n) = v else { return Err(wrong("an integer")) };
                let i = n.as_i64().ok_or_else(|| wrong("an integer"))?;
                let (lo, hi) = match connect_type(o) {
                    Some("int8") => (i64::from(i8::MIN), i64::from(i8::MAX)),
                    Some("int16") => (i64::from(i16::MIN), i64::from(i16::MAX)),
                    Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
                    _ => (i64::MIN, i64::MAX),
                };
                if !(lo..=hi).contains(&i) {
                    return Err(Failure::new(format!(
                        "{i} is out of range for {}",
                        connect_type(o).unwrap_or("an integer")
                    )));
                }
                Typed::Int(i)
            }
            "number" => {
                let Value::Number(n) = v else { return Err(wrong("a number")) };
                let x = n.as_f64().ok_or_else(|| wrong("a number"))?;
                if connect_type(o) == Some("float32") { Typed::Float(f64::from(x as f32)) } else { Typed::Float(x) }
            }
            "string" => {
                let Value::String(s) = v else { return Err(wrong("a string")) };
                if connect_type(o) == Some("bytes") {
                    Typed::Bytes(
                        BASE64.decode(s).map_err(|_| Failure::new(format!("{} is not valid Base64", shown(v))))?,
                    )
                } else {
                    Typed::Text(s.as_str().into())
                }
            }
            "boolean" => match v {
                Value::Bool(b) => Typed::Bool(*b),
                _ => return Err(wrong("a boolean")),
            },
            "null" => return Err(wrong("null")),
            _ => return untyped(Some(v), depth),
        })
    }

    fn object(&self, o: &Map<String, Value>, doc: &Value, v: &Value, title: Option<&str>, depth: usize) -> Res<Typed> {
        let Value::Object(members) = v else {
            return Err(Failure::new(format!("expected an object, got {}", shown(v))));
        };
        let additional = o.get("additionalProperties").filter(|a| a.is_object());
        match o.get("properties") {
            Some(Value::Object(props)) if connect_type(o) != Some("map") => {
                let mut props: Vec<(&String, &Value)> = props.iter().collect();
                // `connect.index` gives Connect's field order when the schema has it.
                props.sort_by_key(|(_, s)| s.get("connect.index").and_then(Value::as_i64).unwrap_or(i64::MAX));
                let mut fields = Vec::with_capacity(props.len());
                for (name, s) in props {
                    let t = self.typed(s, doc, members.get(name.as_str()), depth + 1).map_err(|f| f.within(name))?;
                    fields.push((name.into(), t));
                }
                Ok(Typed::Struct(Struct { name: title.map(Into::into), fields }))
            }
            _ => {
                let mut entries = Vec::with_capacity(members.len());
                for (k, m) in members {
                    let t = match additional {
                        Some(s) => self.typed(s, doc, Some(m), depth + 1),
                        None => untyped(Some(m), depth + 1),
                    };
                    entries.push((Typed::Text(k.as_str().into()), t.map_err(|f| f.within(k))?));
                }
                Ok(Typed::Map(entries))
            }
        }
    }

    /// Connect's map with non-text keys: an array of `{"key": …, "value": …}` objects.
    fn entries(&self, o: &Map<String, Value>, doc: &Value, items: &[Value], depth: usize) -> Res<Typed> {
        let entry = match o.get("items") {
            Some(s) => self.resolve(s, doc)?.0,
            None => &Value::Null,
        };
        let key_schema = entry.get("properties").and_then(|p| p.get("key"));
        let value_schema = entry.get("properties").and_then(|p| p.get("value"));
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(kv) = item else {
                return Err(Failure::new(format!("a map entry must be an object, got {}", shown(item)))
                    .within(format!("[{i}]")));
            };
            let field = |s: Option<&Value>, name: &str| match s {
                Some(s) => self.typed(s, doc, kv.get(name), depth + 1),
                None => untyped(kv.get(name), depth + 1),
            };
            let key = field(key_schema, "key").map_err(|f| f.within(format!("[{i}].key")))?;
            let value = field(value_schema, "value").map_err(|f| f.within(format!("[{i}].value")))?;
            out.push((key, value));
        }
        Ok(Typed::Map(out))
    }
}

/// Connect's logical types, named by `title`; `None` for other titles.
fn logical(title: &str, o: &Map<String, Value>, v: &Value) -> Res<Option<Typed>> {
    let wrong = |expected: &str| Failure::new(format!("expected {expected} for a {title}, got {}", shown(v)));
    let int = || match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    Ok(Some(match title {
        DECIMAL => match v {
            Value::Number(n) => Typed::Decimal(n.as_str().to_string()),
            Value::String(s) => {
                let scale = match o.get("connect.parameters").and_then(|p| p.get("scale")) {
                    Some(Value::String(s)) => s.trim().parse::<i32>().ok(),
                    Some(Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
                    _ => None,
                }
                .ok_or_else(|| Failure::new("a Base64 decimal needs the scale parameter in connect.parameters"))?;
                let bytes = BASE64.decode(s).map_err(|_| Failure::new(format!("{} is not valid Base64", shown(v))))?;
                if bytes.len() > MAX_DECIMAL_BYTES {
                    return Err(Failure::new(format!(
                        "a decimal of {} bytes is longer than the {MAX_DECIMAL_BYTES} bytes accepted",
                        bytes.len()
                    )));
                }
                Typed::Decimal(decimal_text(&BigInt::from_signed_bytes_be(&bytes), scale))
            }
            _ => return Err(wrong("a number or a Base64 string")),
        },
        DATE => Typed::Date(int().and_then(|d| i32::try_from(d).ok()).ok_or_else(|| wrong("an int32 number of days"))?),
        TIME => {
            let ms = int().ok_or_else(|| wrong("an int32 number of milliseconds"))?;
            if !(0..86_400_000).contains(&ms) {
                return Err(Failure::new(format!(
                    "{ms} is not a time of day: Time values are milliseconds since midnight (0 to 86399999)"
                )));
            }
            Typed::Time(ms * 1_000_000)
        }
        TIMESTAMP => {
            let ms = int().ok_or_else(|| wrong("an int64 number of milliseconds"))?;
            Typed::Timestamp(
                ms.checked_mul(1000).ok_or_else(|| Failure::new(format!("timestamp {ms} ms is out of range")))?,
            )
        }
        _ => return Ok(None),
    }))
}

/// A value without a schema: objects → maps with text keys, numbers as written.
fn untyped(v: Option<&Value>, depth: usize) -> Res<Typed> {
    if depth > MAX_DEPTH {
        return Err(Failure::new(format!("nested deeper than {MAX_DEPTH} levels")));
    }
    Ok(match v {
        None | Some(Value::Null) => Typed::Null,
        Some(Value::Bool(b)) => Typed::Bool(*b),
        Some(Value::Number(n)) => Typed::Decimal(n.as_str().to_string()),
        Some(Value::String(s)) => Typed::Text(s.as_str().into()),
        Some(Value::Array(items)) => {
            Typed::Array(items.iter().map(|i| untyped(Some(i), depth + 1)).collect::<Res<_>>()?)
        }
        Some(Value::Object(members)) => Typed::Map(
            members
                .iter()
                .map(|(k, m)| Ok((Typed::Text(k.as_str().into()), untyped(Some(m), depth + 1)?)))
                .collect::<Res<_>>()?,
        ),
    })
}

/// A JSON value for a message, cut when long.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= 60 {
        return text;
    }
    let cut: String = text.chars().take(57).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(v: Value) -> JsonSchema {
        JsonSchema::parse(&v.to_string(), &[]).unwrap()
    }

    fn typed(s: &JsonSchema, v: Value) -> Typed {
        match decode(s, v.to_string().as_bytes()).unwrap() {
            Decoded::Typed(t) => t,
            Decoded::Plain => panic!("not typed"),
        }
    }

    fn field<'a>(t: &'a Typed, name: &str) -> &'a Typed {
        t.member(name).unwrap_or_else(|| panic!("no field {name} in {t:?}"))
    }

    fn item_schema() -> JsonSchema {
        schema(json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "com.example.Item", "type": "object",
            "properties": {
                "id": {"type": "integer", "connect.index": 0, "connect.type": "int32"},
                "name": {"type": "string", "connect.index": 1},
                "price": {"type": "number", "connect.index": 2, "title": "org.apache.kafka.connect.data.Decimal",
                          "connect.version": 1, "connect.type": "bytes", "connect.parameters": {"scale": "2"}},
                "day": {"type": "integer", "connect.index": 3, "title": "org.apache.kafka.connect.data.Date",
                        "connect.version": 1, "connect.type": "int32"},
                "at": {"type": "integer", "connect.index": 4, "title": "org.apache.kafka.connect.data.Time",
                       "connect.type": "int32"},
                "ts": {"type": "integer", "connect.index": 5, "title": "org.apache.kafka.connect.data.Timestamp",
                       "connect.type": "int64"},
                "ratio": {"type": "number", "connect.index": 6, "connect.type": "float32"},
                "raw": {"type": "string", "connect.index": 7, "connect.type": "bytes"},
                "tags": {"type": "array", "connect.index": 8, "items": {"type": "string"}},
                "counts": {"type": "object", "connect.index": 9, "connect.type": "map",
                           "additionalProperties": {"type": "integer"}},
                "addr": {"connect.index": 10, "oneOf": [{"type": "null"}, {"$ref": "#/definitions/Addr"}]},
                "note": {"type": ["string", "null"], "connect.index": 11},
                "byid": {"type": "array", "connect.index": 12, "connect.type": "map",
                         "items": {"type": "object", "properties": {"key": {"type": "integer"},
                                                                     "value": {"type": "string"}}}},
                "extra": {"connect.index": 13},
                "def": {"type": "integer", "connect.index": 14, "default": 7},
                "day_text": {"type": "string", "format": "date", "connect.index": 15}
            },
            "definitions": {"Addr": {"type": "object", "title": "Addr",
                "properties": {"street": {"type": "string"}, "zip": {"type": "integer"}}}}
        }))
    }

    #[test]
    fn typed_by_the_schema_and_its_connect_annotations() {
        let t = typed(
            &item_schema(),
            json!({"id": 5, "name": "x", "price": 12.50, "day": 19780, "at": 45296789, "ts": 1709892930123i64,
                   "ratio": 0.1, "raw": "AQID", "tags": ["a"], "counts": {"k": 2}, "addr": {"street": "S", "zip": 7},
                   "note": null, "byid": [{"key": 1, "value": "one"}], "extra": {"a": [1.5]},
                   "day_text": "2024-02-27", "unknown": 1}),
        );
        let Typed::Struct(st) = &t else { panic!("{t:?}") };
        assert_eq!(st.name.as_deref(), Some("com.example.Item"));
        assert_eq!(st.fields[0].0, "id", "connect.index orders the fields");
        assert_eq!(st.fields[15].0, "day_text");
        assert!(t.member("unknown").is_none());
        assert_eq!(field(&t, "id"), &Typed::Int(5));
        assert_eq!(field(&t, "price"), &Typed::Decimal("12.5".into()));
        let Ok(Decoded::Typed(exact)) = decode(&item_schema(), br#"{"price": 12.50}"#) else { panic!() };
        assert_eq!(field(&exact, "price"), &Typed::Decimal("12.50".into()), "a decimal number as written");
        assert_eq!(field(&t, "day"), &Typed::Date(19_780));
        assert_eq!(field(&t, "at"), &Typed::Time(45_296_789_000_000));
        assert_eq!(field(&t, "ts"), &Typed::Timestamp(1_709_892_930_123_000));
        assert_eq!(field(&t, "ratio"), &Typed::Float(f64::from(0.1f32)));
        assert_eq!(field(&t, "raw"), &Typed::Bytes(vec![1, 2, 3]));
        assert_eq!(field(&t, "tags"), &Typed::Array(vec![Typed::Text("a".into())]));
        assert_eq!(field(&t, "counts"), &Typed::Map(vec![(Typed::Text("k".into()), Typed::Int(2))]));
        assert_eq!(field(field(&t, "addr"), "zip"), &Typed::Int(7));
        assert_eq!(field(&t, "note"), &Typed::Null);
        assert_eq!(field(&t, "byid"), &Typed::Map(vec![(Typed::Int(1), Typed::Text("one".into()))]));
        assert_eq!(
            field(&t, "extra"),
            &Typed::Map(vec![(Typed::Text("a".into()), Typed::Array(vec![Typed::Decimal("1.5".into())]))])
        );
        assert_eq!(field(&t, "def"), &Typed::Int(7), "an absent property takes its default");
        assert_eq!(field(&t, "day_text"), &Typed::Text("2024-02-27".into()));
        // Base64 decimals use the scale parameter.
        let t = typed(&item_schema(), json!({"price": "MDk="}));
        assert_eq!(field(&t, "price"), &Typed::Decimal("123.45".into()));
        assert_eq!(field(&t, "addr"), &Typed::Null);
    }

    #[test]
    fn mismatches_name_the_field() {
        let s = item_schema();
        let e = decode(&s, br#"{"id": 3000000000}"#).unwrap_err();
        assert_eq!(e, "JSON value does not match its JSON Schema at 'id': 3000000000 is out of range for int32");
        let e = decode(&s, br#"{"addr": {"zip": "x"}}"#).unwrap_err();
        assert_eq!(e, "JSON value does not match its JSON Schema at 'addr.zip': expected an integer, got \"x\"");
        let e = decode(&s, br#"{"at": 86400000}"#).unwrap_err();
        assert!(e.contains("not a time of day"), "{e}");
        assert!(decode(&s, b"{").unwrap_err().starts_with("not valid JSON"));
        assert!(decode(&s, b"[1]").unwrap_err().contains("expected an object"));
    }

    #[test]
    fn untyped_schemas_read_plain_json() {
        for s in
            [json!(true), json!({}), json!({"allOf": [{"type": "object"}]}), json!({"type": ["string", "integer"]})]
        {
            assert_eq!(decode(&schema(s), br#"{"a":1}"#), Ok(Decoded::Plain));
        }
        assert!(matches!(decode(&schema(json!({"type": "integer"})), b"5"), Ok(Decoded::Typed(Typed::Int(5)))));
    }

    #[test]
    fn references_and_recursion() {
        let refs = [Reference {
            name: "addr.json".into(),
            text: json!({"type": "object", "properties": {"zip": {"type": "integer"}}}).to_string(),
        }];
        let s = JsonSchema::parse(
            &json!({"type": "object", "properties": {"a": {"$ref": "addr.json"}}}).to_string(),
            &refs,
        )
        .unwrap();
        let t = typed(&s, json!({"a": {"zip": 3}}));
        assert_eq!(field(field(&t, "a"), "zip"), &Typed::Int(3));
        let looped = schema(json!({"$ref": "#"}));
        assert!(decode(&looped, b"1").is_ok(), "a $ref loop is not a typed schema");
        let list = schema(json!({"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#"}}}));
        let mut deep = json!({"v": 1});
        for _ in 0..120 {
            deep = json!({"v": 1, "next": deep});
        }
        assert!(decode(&list, deep.to_string().as_bytes()).unwrap_err().contains("nested deeper"));
        let t = typed(&list, json!({"v": 1, "next": {"v": 2}}));
        assert_eq!(field(field(&t, "next"), "v"), &Typed::Int(2));
        assert!(
            decode(&schema(json!({"type": "object", "properties": {"a": {"$ref": "#/nope"}}})), br#"{"a":1}"#)
                .unwrap_err()
                .contains("does not resolve")
        );
        assert!(JsonSchema::parse("[1]", &[]).is_err());
        assert!(JsonSchema::parse("{", &[]).is_err());
    }

    /// Records and schema written by tests/fixtures/jsonschema/make_fixtures.py.
    #[test]
    fn fixture_records() {
        let fx: Value = serde_json::from_str(include_str!("../../tests/fixtures/jsonschema/items.json")).unwrap();
        let s = JsonSchema::parse(fx["schemas"]["1"]["schema"].as_str().unwrap(), &[]).unwrap();
        let record = |i: usize| -> Typed {
            let hex = fx["records"][i]["value"].as_str().unwrap();
            let bytes: Vec<u8> =
                (0..hex.len()).step_by(2).map(|j| u8::from_str_radix(&hex[j..j + 2], 16).unwrap()).collect();
            let (id, body) = super::super::registry::frame(&bytes, "JSON text").unwrap();
            assert_eq!(id, 1);
            match decode(&s, body).unwrap() {
                Decoded::Typed(t) => t,
                Decoded::Plain => panic!("not typed"),
            }
        };
        let v = record(0);
        assert_eq!(field(&v, "price"), &Typed::Decimal("1234.56".into()));
        assert_eq!(field(&v, "qty"), &Typed::Int(-7));
        assert_eq!(field(field(&v, "addr"), "street"), &Typed::Text("Main St".into()));
        assert_eq!(field(&v, "shipped"), &Typed::Text("2024-03-01".into()));
        let v = record(2);
        assert_eq!(field(&v, "price"), &Typed::Decimal("123.45".into()));
        assert_eq!(field(&v, "customer"), &Typed::Null);
        assert_eq!(field(&v, "tags"), &Typed::Null);
    }
}
