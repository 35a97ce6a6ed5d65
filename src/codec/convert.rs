//! One input value → a CQL value of a column's type, as the DataStax connector converts it
//! (spec §3.10 A–E, with its fixed conversion defaults of §1.6).
//!
//! Contract:
//! * `Ok(None)` is null: absent and JSON null inputs, and every value that would encode to no
//!   bytes (§3.5): the empty string for any type but text/ascii, an empty blob, an empty JSON
//!   array or object for a UDT or tuple, a non-array for a vector.
//! * Numbers never round or wrap (REJECT, UNNECESSARY): see the `number` submodule.
//! * Text is read as the connector reads JSON text nodes, whatever the source (a JSON string, a
//!   raw string key or value, a header); collections, UDTs and tuples in text are JSON, leniently
//!   parsed, with `[...]`/`{...}` added around list, set and map text that lacks them.
//! * Messages are the connector's where the spec quotes one (`Invalid boolean value: 2`,
//!   `Could not parse '…'; accepted formats are: …`, `Expecting ARRAY node, got OBJECT`).
//!
//! Deliberate differences from the connector, for safety on untrusted records: a JSON array or
//! object into a scalar column is an error rather than null; host names are not resolved for
//! `inet` (no I/O here); varint/decimal inputs over 10 000 digits and nesting
//! deeper than [`MAX_DEPTH`] are refused; a vector of the wrong dimension is refused here
//! rather than by the server. Two extensions: numeric primitives go into `date`/`time` when
//! `codec.date`/`codec.time` is `UNITS_SINCE_EPOCH` (the connector has no converter), and a
//! floating-point primitive holding an exact `float` value (a widened FLOAT32) goes into `float`.
//!
//! Schema-typed inputs ([`Typed`]: Connect Structs, Avro) convert as the reference converts the
//! Java objects behind them (§3.10 C–G): primitives as primitives, `List` → list/set/tuple/UDT/
//! vector, `Map` → map/UDT, Struct → UDT only (field sets must match). The logical types, which
//! the reference does not recognise, convert to the matching CQL types (spec "Where we
//! deliberately differ" §8): a decimal like a JSON number (exact, scale kept); a date into
//! date, timestamp (its midnight in `codec.timeZone`) or text (ISO-8601); a time into time or
//! text; a timestamp into timestamp (to the millisecond, sub-millisecond digits dropped), date
//! and time (in `codec.timeZone`), timeuuid/uuid (a version-1 UUID of that instant), the integer
//! types (a whole number of `codec.unit` since the epoch) or text (ISO-8601, UTC).

mod duration;
mod lenient_json;
mod number;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use scylla::cluster::metadata::{CollectionType, ColumnType, NativeType, UserDefinedType};
use scylla::serialize::SerializationError;
use scylla::serialize::value::SerializeValue;
use scylla::serialize::writers::{CellWriter, WrittenCellProof};
use scylla::value::{Counter, CqlDate, CqlTime, CqlTimestamp, CqlTimeuuid, CqlValue};
use serde_json::Value;
use uuid::Uuid;

use super::temporal::{self, TemporalFormat, parse_time_zone};
use super::typed::{self, Typed};
use super::{Datum, TimeUnit};
use number::{Dec, Num, NumError, Symbols};

/// The per-topic `codec.*` settings (spec §1.6).
#[derive(Debug, Clone)]
pub struct CodecSettings {
    /// `codec.locale`: number grouping and decimal separators (`2,147,483,647` in `en_US`).
    pub locale: String,
    /// `codec.timeZone`: the zone of temporal text without one, and of dates/times taken from
    /// instants.
    pub time_zone: chrono_tz::Tz,
    /// `codec.timestamp`: text → timestamp, and the temporal step of text → number.
    pub timestamp: TemporalFormat,
    /// `codec.date`: text → date.
    pub date: TemporalFormat,
    /// `codec.time`: text → time.
    pub time: TemporalFormat,
    /// `codec.unit`: the unit of `UNITS_SINCE_EPOCH` and of numbers into timestamp/timeuuid.
    pub unit: TimeUnit,
}

impl Default for CodecSettings {
    fn default() -> CodecSettings {
        CodecSettings {
            locale: "en_US".to_string(),
            time_zone: chrono_tz::UTC,
            timestamp: TemporalFormat::CqlTimestamp,
            date: TemporalFormat::iso_local_date(),
            time: TemporalFormat::iso_local_time(),
            unit: TimeUnit::Milliseconds,
        }
    }
}

impl CodecSettings {
    /// From the per-topic `codec.*` settings; `Err((setting, reason))` names what is wrong with
    /// which value.
    pub fn from_settings(
        locale: Option<&str>,
        time_zone: Option<&str>,
        timestamp: Option<&str>,
        date: Option<&str>,
        time: Option<&str>,
        unit: Option<&str>,
    ) -> Result<CodecSettings, (String, String)> {
        let mut settings = CodecSettings::default();
        if let Some(l) = locale {
            check_locale(l).map_err(|r| ("codec.locale".to_string(), r))?;
            settings.locale = l.to_string();
        }
        if let Some(z) = time_zone {
            settings.time_zone = parse_time_zone(z).map_err(|r| ("codec.timeZone".to_string(), r))?;
        }
        let format = |name: &str, value: Option<&str>, slot: &mut TemporalFormat| {
            if let Some(v) = value {
                *slot = TemporalFormat::parse(v).map_err(|r| {
                    (
                        name.to_string(),
                        format!("'{v}' is neither CQL_TIMESTAMP, UNITS_SINCE_EPOCH, a DateTimeFormatter constant nor a valid pattern: {r}"),
                    )
                })?;
            }
            Ok::<_, (String, String)>(())
        };
        format("codec.timestamp", timestamp, &mut settings.timestamp)?;
        format("codec.date", date, &mut settings.date)?;
        format("codec.time", time, &mut settings.time)?;
        if let Some(u) = unit {
            settings.unit = TimeUnit::parse(u).ok_or_else(|| {
                (
                    "codec.unit".to_string(),
                    format!("'{u}' is not a time unit; expected one of {}", TimeUnit::NAMES.join(", ")),
                )
            })?;
        }
        Ok(settings)
    }
}

/// `lang[_COUNTRY[_VARIANT]]`, as `java.util.Locale` takes it.
fn check_locale(l: &str) -> Result<(), String> {
    let mut parts = l.split(['_', '-']);
    let lang_ok =
        parts.next().is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_alphabetic()));
    if lang_ok && parts.all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric())) {
        Ok(())
    } else {
        Err(format!("'{l}' is not a locale; expected lang[_COUNTRY[_VARIANT]], e.g. en_US"))
    }
}

/// A conversion failure, worded as the connector words it where the spec quotes a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ConvertError(pub String);

/// Nesting of collections, UDTs and tuples beyond which conversion stops.
pub const MAX_DEPTH: usize = 64;

/// Converts one input into a value of `target`; `Ok(None)` is null (spec §3.5).
pub fn convert(
    datum: Datum<'_>,
    target: &ColumnType<'_>,
    settings: &CodecSettings,
) -> Result<Option<CqlValue>, ConvertError> {
    convert_at(datum, target, settings, 0)
}

/// A bound value: a converted value, or a UDT column's field values in the type's order.
///
/// A `CqlValue::UserDefinedType` carries its keyspace, type and field names, copied for every
/// row, and the driver matches its fields to the type's by name through a hash map built per
/// value. A [`Cell::Udt`] shares the definition and is written field by field in order.
///
/// A text column's text is borrowed from the record (`Cell::Text`): the row is serialized
/// while the record is at hand, so the text is copied once, into the row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Value(CqlValue),
    Text(&'a str),
    Udt { definition: Arc<UserDefinedType<'static>>, fields: Vec<Option<Cell<'a>>> },
}

impl From<CqlValue> for Cell<'_> {
    fn from(v: CqlValue) -> Self {
        Cell::Value(v)
    }
}

impl Cell<'_> {
    /// The value as the driver's model has it.
    pub fn to_cql(&self) -> CqlValue {
        match self {
            Cell::Value(v) => v.clone(),
            Cell::Text(s) => CqlValue::Text(s.to_string()),
            Cell::Udt { definition, fields } => {
                udt_value(definition, fields.iter().map(|f| f.as_ref().map(Cell::to_cql)).collect())
            }
        }
    }
}

/// A column type that is not the UDT a [`Cell::Udt`] was converted for.
#[derive(Debug, thiserror::Error)]
#[error("a value of UDT {keyspace}.{name} cannot be written to a column of type {found}")]
struct UdtMismatch {
    keyspace: String,
    name: String,
    found: String,
}

impl SerializeValue for Cell<'_> {
    fn serialize<'b>(
        &self,
        typ: &ColumnType,
        writer: CellWriter<'b>,
    ) -> Result<WrittenCellProof<'b>, SerializationError> {
        let (definition, fields) = match self {
            Cell::Value(v) => return v.serialize(typ, writer),
            Cell::Text(s) => return s.serialize(typ, writer),
            Cell::Udt { definition, fields } => (definition, fields),
        };
        let target = match typ {
            ColumnType::UserDefinedType { definition: target, .. }
                if target.keyspace == definition.keyspace
                    && target.name == definition.name
                    && target.field_types.len() == fields.len() =>
            {
                target
            }
            _ => {
                return Err(SerializationError::new(UdtMismatch {
                    keyspace: definition.keyspace.to_string(),
                    name: definition.name.to_string(),
                    found: type_name(typ),
                }));
            }
        };
        let mut builder = writer.into_value_builder();
        for ((_, field_type), value) in target.field_types.iter().zip(fields) {
            let w = builder.make_sub_writer();
            match value {
                None => {
                    w.set_null();
                }
                Some(v) => {
                    v.serialize(field_type, w)?;
                }
            }
        }
        builder.finish().map_err(SerializationError::new)
    }
}

/// Converts one input into a bound value of `target`, as [`convert`] does; but a text column's
/// text is borrowed from the input, and a UDT column's value becomes a [`Cell::Udt`].
pub fn convert_cell<'a>(
    datum: Datum<'a>,
    target: &ColumnType<'static>,
    settings: &CodecSettings,
) -> Result<Option<Cell<'a>>, ConvertError> {
    convert_cell_at(datum, target, settings, 0)
}

fn convert_cell_at<'a>(
    datum: Datum<'a>,
    target: &ColumnType<'static>,
    settings: &CodecSettings,
    depth: usize,
) -> Result<Option<Cell<'a>>, ConvertError> {
    match target {
        // Text into text is the text itself (`convert_native`).
        ColumnType::Native(NativeType::Text) => {
            if let Scalar::Str(s) = Scalar::of(datum) {
                return Ok(Some(Cell::Text(s)));
            }
        }
        ColumnType::UserDefinedType { definition, .. } if depth <= MAX_DEPTH => {
            let cell = |d, t: &ColumnType<'static>, depth| convert_cell_at(d, t, settings, depth);
            let fields = match datum {
                Datum::Typed(t @ (Typed::Array(_) | Typed::Map(_) | Typed::Struct(_))) => {
                    typed_udt(t, definition, target, depth, cell)?
                }
                _ => match Node::of(datum, None, target)? {
                    None => None,
                    Some(Node::Borrowed(v)) => udt(v, definition, depth, cell)?,
                    // JSON text parsed here: its values are converted, not borrowed.
                    Some(Node::Owned(v)) => udt(&v, definition, depth, |d, t: &ColumnType<'static>, depth| {
                        Ok(convert_at(d, t, settings, depth)?.map(Cell::Value))
                    })?,
                },
            };
            return Ok(fields.map(|fields| Cell::Udt { definition: definition.clone(), fields }));
        }
        _ => {}
    }
    Ok(convert_at(datum, target, settings, depth)?.map(Cell::Value))
}

fn err<T>(message: impl Into<String>) -> Result<T, ConvertError> {
    Err(ConvertError(message.into()))
}

/// Input text as shown in messages: records are untrusted, so long values are cut.
pub(crate) fn excerpt(s: &str) -> Cow<'_, str> {
    const MAX_CHARS: usize = 200;
    match s.char_indices().nth(MAX_CHARS) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}…", s.get(..cut).unwrap_or(""))),
    }
}

fn convert_at(
    datum: Datum<'_>,
    target: &ColumnType<'_>,
    settings: &CodecSettings,
    depth: usize,
) -> Result<Option<CqlValue>, ConvertError> {
    if depth > MAX_DEPTH {
        return err(format!("Value nested deeper than {MAX_DEPTH} levels"));
    }
    if let Datum::Typed(t @ (Typed::Array(_) | Typed::Map(_) | Typed::Struct(_))) = datum {
        return typed_composite(t, target, settings, depth);
    }
    match target {
        ColumnType::Native(native) => convert_native(Scalar::of(datum), native, settings),
        ColumnType::Collection { typ, .. } => match typ {
            CollectionType::List(elem) => {
                let Some(node) = Node::of(datum, Some(('[', ']')), target)? else {
                    return Ok(None);
                };
                sequence(node.get(), elem, settings, depth, "list").map(|v| Some(CqlValue::List(v)))
            }
            CollectionType::Set(elem) => {
                let Some(node) = Node::of(datum, Some(('[', ']')), target)? else {
                    return Ok(None);
                };
                let items = sequence(node.get(), elem, settings, depth, "set")?;
                Ok(Some(CqlValue::Set(dedup(items))))
            }
            CollectionType::Map(key, value) => {
                let Some(node) = Node::of(datum, Some(('{', '}')), target)? else {
                    return Ok(None);
                };
                map(node.get(), key, value, settings, depth).map(Some)
            }
            _ => err(format!("Unsupported CQL type {}", type_name(target))),
        },
        ColumnType::Vector { typ, dimensions } => {
            let Some(node) = Node::of(datum, Some(('[', ']')), target)? else {
                return Ok(None);
            };
            // The connector sends null for anything but an array.
            if !node.get().is_array() {
                return Ok(None);
            }
            let items = sequence(node.get(), typ, settings, depth, "vector")?;
            if items.len() != usize::from(*dimensions) {
                return err(format!("Expecting {dimensions} elements for {}, got {}", type_name(target), items.len()));
            }
            Ok(Some(CqlValue::Vector(items)))
        }
        ColumnType::UserDefinedType { definition, .. } => {
            let Some(node) = Node::of(datum, None, target)? else {
                return Ok(None);
            };
            let field = |d, t: &ColumnType<'_>, depth| convert_at(d, t, settings, depth);
            Ok(udt(node.get(), definition, depth, field)?.map(|fields| udt_value(definition, fields)))
        }
        ColumnType::Tuple(types) => {
            let Some(node) = Node::of(datum, None, target)? else {
                return Ok(None);
            };
            tuple(node.get(), types, settings, depth)
        }
        _ => err(format!("Unsupported CQL type {}", type_name(target))),
    }
}

/// A JSON node for a composite target: borrowed from the record, or parsed from text.
enum Node<'a> {
    Borrowed(&'a Value),
    Owned(Value),
}

impl Node<'_> {
    fn get(&self) -> &Value {
        match self {
            Node::Borrowed(v) => v,
            Node::Owned(v) => v,
        }
    }

    /// `None` for null and empty inputs. Text is parsed as JSON, `brackets` added when missing.
    fn of<'a>(
        datum: Datum<'a>,
        brackets: Option<(char, char)>,
        target: &ColumnType<'_>,
    ) -> Result<Option<Node<'a>>, ConvertError> {
        let text = match datum {
            Datum::Null | Datum::Json(Value::Null) => return Ok(None),
            Datum::Json(Value::String(s)) if s.is_empty() => return Ok(None),
            Datum::Json(v) => return Ok(Some(Node::Borrowed(v))),
            // Scalars: composite targets refuse them by their JSON node type.
            Datum::JsonStr("") => return Ok(None),
            Datum::JsonStr(s) => return Ok(Some(Node::Owned(Value::String(s.to_owned())))),
            Datum::JsonNum(n) => {
                let number = n.parse().map_err(|e| ConvertError(format!("Could not read number {n}: {e}")))?;
                return Ok(Some(Node::Owned(Value::Number(number))));
            }
            Datum::Text("") => return Ok(None),
            Datum::Text(t) => t,
            Datum::Typed(t) => return err(format!("Cannot convert {} to {}", t.kind(), type_name(target))),
            other => return mismatch(&Scalar::of(other), target),
        };
        let trimmed = text.trim();
        let parsed = match brackets {
            Some((open, close)) if !(trimmed.starts_with(open) && trimmed.ends_with(close)) => {
                let mut wrapped = String::with_capacity(text.len() + 2);
                wrapped.push(open);
                wrapped.push_str(text);
                wrapped.push(close);
                lenient_json::parse(&wrapped)
            }
            _ => lenient_json::parse(text),
        };
        match parsed {
            Ok(Value::Null) => Ok(None),
            Ok(v) => Ok(Some(Node::Owned(v))),
            Err(e) => err(format!("Could not parse '{}' as JSON for {}: {e}", excerpt(text), type_name(target))),
        }
    }
}

/// Jackson's `JsonNodeType` names, as the connector's messages show them.
fn node_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(_) => "NUMBER",
        Value::String(_) => "STRING",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}

fn sequence(
    node: &Value,
    elem: &ColumnType<'_>,
    settings: &CodecSettings,
    depth: usize,
    kind: &str,
) -> Result<Vec<CqlValue>, ConvertError> {
    let Value::Array(items) = node else {
        return err(format!("Expecting ARRAY node, got {}", node_type(node)));
    };
    items
        .iter()
        .map(|item| match convert_at(Datum::Json(item), elem, settings, depth + 1)? {
            Some(v) => Ok(v),
            None => err(format!("Null elements are not allowed in a {kind}")),
        })
        .collect()
}

fn map(
    node: &Value,
    key_type: &ColumnType<'_>,
    value_type: &ColumnType<'_>,
    settings: &CodecSettings,
    depth: usize,
) -> Result<CqlValue, ConvertError> {
    let Value::Object(entries) = node else {
        return err(format!("Expecting OBJECT node, got {}", node_type(node)));
    };
    let mut out: Vec<(CqlValue, CqlValue)> = Vec::with_capacity(entries.len());
    // Keys that differ as text may convert to one value ("1" and "01"): the last value wins.
    let mut positions: HashMap<Vec<u8>, usize> = HashMap::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(key) = convert_at(Datum::Text(k), key_type, settings, depth + 1)? else {
            return err("Null map keys are not allowed");
        };
        let Some(value) = convert_at(Datum::Json(v), value_type, settings, depth + 1)? else {
            return err(format!("Null map values are not allowed (key '{}')", excerpt(k)));
        };
        let mut identity = Vec::new();
        identity_bytes(&key, &mut identity);
        match positions.get(&identity) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    slot.1 = value;
                }
            }
            None => {
                positions.insert(identity, out.len());
                out.push((key, value));
            }
        }
    }
    Ok(CqlValue::Map(out))
}

fn dedup(items: Vec<CqlValue>) -> Vec<CqlValue> {
    let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(items.len());
    items
        .into_iter()
        .filter(|item| {
            let mut identity = Vec::new();
            identity_bytes(item, &mut identity);
            seen.insert(identity)
        })
        .collect()
}

/// An unambiguous byte identity of a value, for set and map-key de-duplication (CqlValue has no
/// `Hash`; floats compare by bits, as Cassandra compares them by serialized form).
fn identity_bytes(v: &CqlValue, out: &mut Vec<u8>) {
    fn bytes(tag: u8, b: &[u8], out: &mut Vec<u8>) {
        out.push(tag);
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    }
    fn all<'a>(tag: u8, items: impl ExactSizeIterator<Item = &'a CqlValue>, out: &mut Vec<u8>) {
        out.push(tag);
        out.extend_from_slice(&(items.len() as u64).to_le_bytes());
        for item in items {
            identity_bytes(item, out);
        }
    }
    fn optional(v: &Option<CqlValue>, out: &mut Vec<u8>) {
        match v {
            Some(v) => identity_bytes(v, out),
            None => out.push(0),
        }
    }
    match v {
        CqlValue::Ascii(s) | CqlValue::Text(s) => bytes(1, s.as_bytes(), out),
        CqlValue::Boolean(b) => bytes(2, &[u8::from(*b)], out),
        CqlValue::Blob(b) => bytes(3, b, out),
        CqlValue::Counter(c) => bytes(4, &c.0.to_be_bytes(), out),
        CqlValue::Decimal(d) => {
            let (digits, scale) = d.as_signed_be_bytes_slice_and_exponent();
            bytes(5, digits, out);
            out.extend_from_slice(&scale.to_be_bytes());
        }
        CqlValue::Date(d) => bytes(6, &d.0.to_be_bytes(), out),
        CqlValue::Double(x) => bytes(7, &x.to_bits().to_be_bytes(), out),
        CqlValue::Duration(d) => {
            out.push(8);
            out.extend_from_slice(&d.months.to_be_bytes());
            out.extend_from_slice(&d.days.to_be_bytes());
            out.extend_from_slice(&d.nanoseconds.to_be_bytes());
        }
        CqlValue::Float(x) => bytes(9, &x.to_bits().to_be_bytes(), out),
        CqlValue::Int(i) => bytes(10, &i.to_be_bytes(), out),
        CqlValue::BigInt(i) => bytes(11, &i.to_be_bytes(), out),
        CqlValue::Timestamp(t) => bytes(12, &t.0.to_be_bytes(), out),
        CqlValue::Inet(ip) => match ip {
            IpAddr::V4(a) => bytes(13, &a.octets(), out),
            IpAddr::V6(a) => bytes(13, &a.octets(), out),
        },
        CqlValue::List(items) => all(14, items.iter(), out),
        CqlValue::Set(items) => all(15, items.iter(), out),
        CqlValue::Vector(items) => all(16, items.iter(), out),
        CqlValue::Map(entries) => {
            out.push(17);
            out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
            for (k, v) in entries {
                identity_bytes(k, out);
                identity_bytes(v, out);
            }
        }
        CqlValue::UserDefinedType { fields, .. } => {
            out.push(18);
            out.extend_from_slice(&(fields.len() as u64).to_le_bytes());
            for (_, v) in fields {
                optional(v, out);
            }
        }
        CqlValue::Tuple(items) => {
            out.push(19);
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for v in items {
                optional(v, out);
            }
        }
        CqlValue::SmallInt(i) => bytes(20, &i.to_be_bytes(), out),
        CqlValue::TinyInt(i) => bytes(21, &i.to_be_bytes(), out),
        CqlValue::Time(t) => bytes(22, &t.0.to_be_bytes(), out),
        CqlValue::Timeuuid(u) => bytes(23, u.as_bytes(), out),
        CqlValue::Uuid(u) => bytes(24, u.as_bytes(), out),
        CqlValue::Varint(v) => bytes(25, v.as_signed_bytes_be_slice(), out),
        CqlValue::Empty => out.push(26),
        other => bytes(27, format!("{other:?}").as_bytes(), out),
    }
}

fn tuple(
    node: &Value,
    types: &[ColumnType<'_>],
    settings: &CodecSettings,
    depth: usize,
) -> Result<Option<CqlValue>, ConvertError> {
    let Value::Array(items) = node else {
        return err(format!("Expecting ARRAY node, got {}", node_type(node)));
    };
    if items.is_empty() {
        return Ok(None);
    }
    if items.len() != types.len() {
        return err(format!(
            "JSON array does not match tuple definition: expecting {} elements, got {}",
            types.len(),
            items.len()
        ));
    }
    let values = items
        .iter()
        .zip(types)
        .map(|(item, t)| convert_at(Datum::Json(item), t, settings, depth + 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(CqlValue::Tuple(values)))
}

/// A JSON object or array into a UDT's field values, in the type's order.
fn udt<'v, 'd, T>(
    node: &'v Value,
    definition: &UserDefinedType<'d>,
    depth: usize,
    field: impl Fn(Datum<'v>, &ColumnType<'d>, usize) -> Result<Option<T>, ConvertError>,
) -> Result<Option<Vec<Option<T>>>, ConvertError> {
    let fields = &definition.field_types;
    let values: Vec<Option<T>> = match node {
        Value::Object(entries) => {
            if entries.is_empty() {
                return Ok(None);
            }
            let extraneous: Vec<&str> =
                entries.keys().map(String::as_str).filter(|k| !fields.iter().any(|(name, _)| name == k)).collect();
            if !extraneous.is_empty() {
                return err(format!(
                    "JSON object does not match UDT definition: found {} extraneous field{}: {}",
                    extraneous.len(),
                    plural(extraneous.len()),
                    quoted_list(&extraneous)
                ));
            }
            let missing: Vec<&str> =
                fields.iter().map(|(name, _)| name.as_ref()).filter(|name| !entries.contains_key(*name)).collect();
            if !missing.is_empty() {
                return err(format!(
                    "JSON object does not match UDT definition: found {} missing field{}: {}",
                    missing.len(),
                    plural(missing.len()),
                    quoted_list(&missing)
                ));
            }
            fields
                .iter()
                .map(|(name, t)| match entries.get(name.as_ref()) {
                    Some(v) => field(Datum::Json(v), t, depth + 1),
                    None => Ok(None),
                })
                .collect::<Result<_, _>>()?
        }
        Value::Array(items) => {
            if items.is_empty() {
                return Ok(None);
            }
            if items.len() != fields.len() {
                return err(format!(
                    "JSON array does not match UDT definition: expecting {} elements, got {}",
                    fields.len(),
                    items.len()
                ));
            }
            items
                .iter()
                .zip(fields)
                .map(|(item, (_, t))| field(Datum::Json(item), t, depth + 1))
                .collect::<Result<_, _>>()?
        }
        other => {
            return err(format!("Expecting OBJECT or ARRAY node, got {}", node_type(other)));
        }
    };
    Ok(Some(values))
}

/// A schema-typed array, map or Struct into a collection, tuple, vector or UDT (spec §3.10 E, F).
fn typed_composite(
    t: &Typed,
    target: &ColumnType<'_>,
    settings: &CodecSettings,
    depth: usize,
) -> Result<Option<CqlValue>, ConvertError> {
    let cannot = || err(format!("Cannot convert {} to {}", t.kind(), type_name(target)));
    match (t, target) {
        (Typed::Array(items), ColumnType::Collection { typ, .. }) => match typ {
            CollectionType::List(elem) => {
                typed_sequence(items, elem, settings, depth, "list").map(|v| Some(CqlValue::List(v)))
            }
            CollectionType::Set(elem) => {
                typed_sequence(items, elem, settings, depth, "set").map(|v| Some(CqlValue::Set(dedup(v))))
            }
            _ => cannot(),
        },
        (Typed::Array(items), ColumnType::Vector { typ, dimensions }) => {
            let values = typed_sequence(items, typ, settings, depth, "vector")?;
            if values.len() != usize::from(*dimensions) {
                return err(format!("Expecting {dimensions} elements for {}, got {}", type_name(target), values.len()));
            }
            Ok(Some(CqlValue::Vector(values)))
        }
        (Typed::Array(items), ColumnType::Tuple(types)) => {
            if items.is_empty() {
                return Ok(None);
            }
            if items.len() != types.len() {
                return err(format!("Expecting {} elements, got {}", types.len(), items.len()));
            }
            let values = items
                .iter()
                .zip(types)
                .map(|(item, t)| convert_at(Datum::typed(item), t, settings, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(CqlValue::Tuple(values)))
        }
        (Typed::Map(entries), ColumnType::Collection { typ: CollectionType::Map(key_type, value_type), .. }) => {
            let mut out: Vec<(CqlValue, CqlValue)> = Vec::with_capacity(entries.len());
            let mut positions: HashMap<Vec<u8>, usize> = HashMap::with_capacity(entries.len());
            for (k, v) in entries {
                let Some(key) = convert_at(Datum::typed(k), key_type, settings, depth + 1)? else {
                    return err("Null map keys are not allowed");
                };
                let Some(value) = convert_at(Datum::typed(v), value_type, settings, depth + 1)? else {
                    return err("Null map values are not allowed");
                };
                let mut identity = Vec::new();
                identity_bytes(&key, &mut identity);
                match positions.get(&identity) {
                    Some(&i) => {
                        if let Some(slot) = out.get_mut(i) {
                            slot.1 = value;
                        }
                    }
                    None => {
                        positions.insert(identity, out.len());
                        out.push((key, value));
                    }
                }
            }
            Ok(Some(CqlValue::Map(out)))
        }
        (_, ColumnType::UserDefinedType { definition, .. }) => {
            let field = |d, t: &ColumnType<'_>, depth| convert_at(d, t, settings, depth);
            Ok(typed_udt(t, definition, target, depth, field)?.map(|fields| udt_value(definition, fields)))
        }
        _ => cannot(),
    }
}

/// A schema-typed array, map or Struct into a UDT's field values, in the type's order.
fn typed_udt<'v, 'd, T>(
    t: &'v Typed,
    definition: &UserDefinedType<'d>,
    target: &ColumnType<'_>,
    depth: usize,
    field: impl Fn(Datum<'v>, &ColumnType<'d>, usize) -> Result<Option<T>, ConvertError>,
) -> Result<Option<Vec<Option<T>>>, ConvertError> {
    let fields = &definition.field_types;
    match t {
        Typed::Array(items) => {
            if items.is_empty() {
                return Ok(None);
            }
            if items.len() != fields.len() {
                return err(format!("Expecting {} fields, got {}", fields.len(), items.len()));
            }
            let values = items
                .iter()
                .zip(fields.iter())
                .map(|(item, (_, t))| field(Datum::typed(item), t, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(values))
        }
        Typed::Map(entries) => {
            if entries.is_empty() {
                return Ok(None);
            }
            if entries.len() != fields.len() {
                return err(format!("Expecting {} fields, got {}", fields.len(), entries.len()));
            }
            let values = fields
                .iter()
                .map(|(name, t)| {
                    let found = entries.iter().find(|(k, _)| key_text(k).as_deref() == Some(name.as_ref()));
                    match found {
                        Some((_, v)) => field(Datum::typed(v), t, depth + 1),
                        None => err(format!("Field {name} in UDT {} not found in input map", definition.name)),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(values))
        }
        Typed::Struct(st) => {
            if st.fields.len() != fields.len() {
                return err(format!("Expecting {} fields, got {}", fields.len(), st.fields.len()));
            }
            let values = fields
                .iter()
                .enumerate()
                .map(|(i, (name, t))| match st.get_at(i, name) {
                    Some(v) => field(Datum::typed(v), t, depth + 1),
                    None => err(format!("Field {name} in UDT {} not found in input struct", definition.name)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(values))
        }
        _ => err(format!("Cannot convert {} to {}", t.kind(), type_name(target))),
    }
}

fn typed_sequence(
    items: &[Typed],
    elem: &ColumnType<'_>,
    settings: &CodecSettings,
    depth: usize,
    kind: &str,
) -> Result<Vec<CqlValue>, ConvertError> {
    items
        .iter()
        .map(|item| match convert_at(Datum::typed(item), elem, settings, depth + 1)? {
            Some(v) => Ok(v),
            None => err(format!("Null elements are not allowed in a {kind}")),
        })
        .collect()
}

/// A map key as a UDT field name (the reference converts keys to text to match them).
fn key_text(k: &Typed) -> Option<Cow<'_, str>> {
    match k {
        Typed::Text(s) => Some(Cow::Borrowed(s)),
        Typed::Int(i) => Some(Cow::Owned(i.to_string())),
        Typed::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

fn udt_value(definition: &UserDefinedType<'_>, values: Vec<Option<CqlValue>>) -> CqlValue {
    CqlValue::UserDefinedType {
        keyspace: definition.keyspace.to_string(),
        name: definition.name.to_string(),
        fields: definition.field_types.iter().map(|(name, _)| name.to_string()).zip(values).collect(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `'a', 'b'`, at most ten names.
fn quoted_list(names: &[&str]) -> String {
    const MAX_NAMES: usize = 10;
    let mut out = String::new();
    for (i, name) in names.iter().take(MAX_NAMES).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "'{}'", excerpt(name));
    }
    if names.len() > MAX_NAMES {
        let _ = write!(out, " and {} more", names.len() - MAX_NAMES);
    }
    out
}

/// A scalar input with JSON scalars unwrapped: what native targets dispatch on.
#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Null,
    /// Text: a JSON string or a raw string.
    Str(&'a str),
    /// A JSON number, as written.
    Num(&'a str),
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(&'a [u8]),
    /// A JSON array or object.
    Node(&'a Value),
    /// Days since the epoch (a logical date).
    Date(i32),
    /// Nanoseconds since midnight (a logical time).
    Time(i64),
    /// Microseconds since the epoch (a logical timestamp).
    Timestamp(i64),
    /// A schema-typed array, map or Struct (only composite targets take them).
    Composite(&'a Typed),
}

impl<'a> Scalar<'a> {
    fn of(datum: Datum<'a>) -> Scalar<'a> {
        match datum {
            Datum::Null | Datum::Json(Value::Null) => Scalar::Null,
            Datum::Json(Value::String(s)) => Scalar::Str(s),
            Datum::Json(Value::Number(n)) => Scalar::Num(n.as_str()),
            Datum::Json(Value::Bool(b)) => Scalar::Bool(*b),
            Datum::Json(v) => Scalar::Node(v),
            Datum::JsonStr(s) => Scalar::Str(s),
            Datum::JsonNum(n) => Scalar::Num(n),
            Datum::Text(s) => Scalar::Str(s),
            Datum::Bytes(b) => Scalar::Bytes(b),
            Datum::Bool(b) => Scalar::Bool(b),
            Datum::Int(i) => Scalar::Int(i),
            Datum::Float(x) => Scalar::Float(x),
            Datum::Typed(t) => match t {
                Typed::Null => Scalar::Null,
                Typed::Bool(b) => Scalar::Bool(*b),
                Typed::Int(i) => Scalar::Int(*i),
                Typed::Float(x) => Scalar::Float(*x),
                Typed::Text(s) => Scalar::Str(s),
                Typed::Bytes(b) => Scalar::Bytes(b),
                // A decimal reads like a JSON number: exact, its scale kept.
                Typed::Decimal(text) => Scalar::Num(text),
                Typed::Date(d) => Scalar::Date(*d),
                Typed::Time(n) => Scalar::Time(*n),
                Typed::Timestamp(us) => Scalar::Timestamp(*us),
                Typed::Array(_) | Typed::Map(_) | Typed::Struct(_) => Scalar::Composite(t),
            },
        }
    }

    /// The text the connector reads for text-parsed targets (`JsonNode.asText()`).
    fn text(&self) -> Option<&'a str> {
        match *self {
            Scalar::Str(s) | Scalar::Num(s) => Some(s),
            Scalar::Bool(true) => Some("true"),
            Scalar::Bool(false) => Some("false"),
            _ => None,
        }
    }

    fn describe(&self) -> Cow<'static, str> {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Str(_) => "text".into(),
            Scalar::Num(_) => "a JSON number".into(),
            Scalar::Bool(_) => "a boolean".into(),
            Scalar::Int(_) => "an integer".into(),
            Scalar::Float(_) => "a floating-point number".into(),
            Scalar::Bytes(_) => "bytes".into(),
            Scalar::Node(v) => format!("a JSON {} node", node_type(v)).into(),
            Scalar::Date(_) => "a date".into(),
            Scalar::Time(_) => "a time".into(),
            Scalar::Timestamp(_) => "a timestamp".into(),
            Scalar::Composite(t) => t.kind().into(),
        }
    }

    /// The value as shown in messages.
    fn shown(&self) -> Cow<'a, str> {
        match *self {
            Scalar::Str(s) | Scalar::Num(s) => excerpt(s),
            Scalar::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Scalar::Int(i) => i.to_string().into(),
            Scalar::Float(x) => number::java_double_string(x).into(),
            Scalar::Date(d) => typed::date_text(d).unwrap_or_else(|| format!("date {d}")).into(),
            Scalar::Time(n) => typed::time_text(n).unwrap_or_else(|| format!("time {n} ns")).into(),
            Scalar::Timestamp(us) => typed::timestamp_text(us).unwrap_or_else(|| format!("timestamp {us} µs")).into(),
            _ => self.describe(),
        }
    }
}

fn mismatch<T>(input: &Scalar<'_>, target: &ColumnType<'_>) -> Result<T, ConvertError> {
    err(format!("Cannot convert {} to {}", input.describe(), type_name(target)))
}

fn convert_native(
    input: Scalar<'_>,
    native: &NativeType,
    settings: &CodecSettings,
) -> Result<Option<CqlValue>, ConvertError> {
    match input {
        Scalar::Null => return Ok(None),
        Scalar::Str("") => {
            return Ok(match native {
                NativeType::Text => Some(CqlValue::Text(String::new())),
                NativeType::Ascii => Some(CqlValue::Ascii(String::new())),
                _ => None,
            });
        }
        _ => {}
    }
    let target = || ColumnType::Native(native.clone());
    let value = match native {
        NativeType::Text => CqlValue::Text(text_of(&input, &target())?),
        NativeType::Ascii => {
            let text = text_of(&input, &target())?;
            if !text.is_ascii() {
                return err(format!("Text '{}' is not valid ASCII", excerpt(&text)));
            }
            CqlValue::Ascii(text)
        }
        NativeType::Boolean => CqlValue::Boolean(boolean_of(&input, &target())?),
        NativeType::TinyInt => {
            CqlValue::TinyInt(integer_of(&input, native, settings, i8::MIN.into(), i8::MAX.into())? as i8)
        }
        NativeType::SmallInt => {
            CqlValue::SmallInt(integer_of(&input, native, settings, i16::MIN.into(), i16::MAX.into())? as i16)
        }
        NativeType::Int => {
            CqlValue::Int(integer_of(&input, native, settings, i32::MIN.into(), i32::MAX.into())? as i32)
        }
        NativeType::BigInt => CqlValue::BigInt(integer_of(&input, native, settings, i64::MIN, i64::MAX)?),
        NativeType::Counter => CqlValue::Counter(Counter(integer_of(&input, native, settings, i64::MIN, i64::MAX)?)),
        NativeType::Varint => {
            let n = number_of(&input, native, settings)?;
            CqlValue::Varint(number::to_varint(n).map_err(|e| narrowing(e, &input, native))?)
        }
        NativeType::Decimal => {
            let n = number_of(&input, native, settings)?;
            CqlValue::Decimal(number::to_decimal(n).map_err(|e| narrowing(e, &input, native))?)
        }
        NativeType::Float => {
            let n = number_of(&input, native, settings)?;
            CqlValue::Float(number::to_float(n).map_err(|e| narrowing(e, &input, native))?)
        }
        NativeType::Double => {
            let n = number_of(&input, native, settings)?;
            CqlValue::Double(number::to_double(n).map_err(|e| narrowing(e, &input, native))?)
        }
        NativeType::Timestamp => CqlValue::Timestamp(timestamp_of(&input, settings, &target())?),
        NativeType::Date => CqlValue::Date(date_of(&input, settings, &target())?),
        NativeType::Time => CqlValue::Time(time_of(&input, settings, &target())?),
        NativeType::Uuid => CqlValue::Uuid(uuid_of(&input, settings, &target(), false)?),
        NativeType::Timeuuid => CqlValue::Timeuuid(CqlTimeuuid::from(uuid_of(&input, settings, &target(), true)?)),
        NativeType::Blob => match blob_of(&input, &target())? {
            // An empty blob encodes to no bytes: null (§3.5).
            b if b.is_empty() => return Ok(None),
            b => CqlValue::Blob(b),
        },
        NativeType::Inet => CqlValue::Inet(inet_of(&input, &target())?),
        NativeType::Duration => match input.text() {
            Some(t) => CqlValue::Duration(duration::parse(t).map_err(ConvertError)?),
            None => return mismatch(&input, &target()),
        },
        _ => return err(format!("Unsupported CQL type {}", type_name(&target()))),
    };
    Ok(Some(value))
}

fn text_of(input: &Scalar<'_>, target: &ColumnType<'_>) -> Result<String, ConvertError> {
    Ok(match *input {
        Scalar::Str(s) | Scalar::Num(s) => s.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(x) => number::java_double_string(x),
        Scalar::Node(v) => serde_json::to_string(v).map_err(|e| ConvertError(e.to_string()))?,
        Scalar::Date(d) => typed::date_text(d).ok_or_else(|| ConvertError(format!("Date {d} is out of range")))?,
        Scalar::Time(n) => typed::time_text(n)
            .ok_or_else(|| ConvertError(format!("Time {n} ns is not a time of day (0 to 86399999999999 ns)")))?,
        Scalar::Timestamp(us) => {
            typed::timestamp_text(us).ok_or_else(|| ConvertError(format!("Timestamp {us} µs is out of range")))?
        }
        Scalar::Bytes(_) | Scalar::Null | Scalar::Composite(_) => return mismatch(input, target),
    })
}

const TRUE_WORDS: [&str; 5] = ["1", "y", "t", "yes", "true"];
const FALSE_WORDS: [&str; 5] = ["0", "n", "f", "no", "false"];

fn boolean_word(s: &str) -> Option<bool> {
    if TRUE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

fn boolean_of(input: &Scalar<'_>, target: &ColumnType<'_>) -> Result<bool, ConvertError> {
    match *input {
        Scalar::Bool(b) => Ok(b),
        Scalar::Str(s) | Scalar::Num(s) => {
            boolean_word(s).ok_or_else(|| ConvertError(format!("Invalid boolean value: {}", excerpt(s))))
        }
        Scalar::Int(1) => Ok(true),
        Scalar::Int(0) => Ok(false),
        Scalar::Float(1.0) => Ok(true),
        Scalar::Float(0.0) => Ok(false),
        Scalar::Int(_) | Scalar::Float(_) => {
            err(format!("Invalid boolean number {}, accepted values are 1 (true) and 0 (false)", input.shown()))
        }
        _ => mismatch(input, target),
    }
}

/// A number from any scalar: JSON numbers exactly, text through the connector's parse order.
fn number_of<'a>(input: &Scalar<'a>, native: &NativeType, settings: &CodecSettings) -> Result<Num<'a>, ConvertError> {
    match *input {
        Scalar::Num(lit) => match Dec::parse(lit) {
            Some(d) => Ok(Num::Dec(d)),
            None => number_from_text(lit, settings),
        },
        Scalar::Str(s) => number_from_text(s, settings),
        Scalar::Bool(b) => Ok(Num::Int(i64::from(b))),
        Scalar::Int(i) => Ok(Num::Int(i)),
        Scalar::Float(x) => Ok(Num::Float(x)),
        Scalar::Timestamp(us) => {
            let nanos = i128::from(us) * 1000;
            let unit = settings.unit.nanos();
            if nanos % unit != 0 {
                return err(format!(
                    "Cannot convert timestamp {} to {} exactly: not a whole number of {} (codec.unit) since the epoch",
                    input.shown(),
                    native_name(native),
                    unit_name(settings.unit)
                ));
            }
            i64::try_from(nanos / unit)
                .map(Num::Int)
                .map_err(|_| ConvertError(format!("Timestamp {} is out of range", input.shown())))
        }
        _ => mismatch(input, &ColumnType::Native(native.clone())),
    }
}

/// Text → number in the connector's order: the locale pattern (grouping allowed), `BigDecimal`,
/// `Double`, a temporal in `codec.timestamp` as `codec.unit` since the epoch, a boolean word.
fn number_from_text<'a>(s: &'a str, settings: &CodecSettings) -> Result<Num<'a>, ConvertError> {
    if let Some(d) = Dec::parse_grouped(s, Symbols::of_locale(&settings.locale)) {
        return Ok(Num::Dec(d));
    }
    if let Some(d) = Dec::parse(s) {
        return Ok(Num::Dec(d));
    }
    if let Some(x) = number::parse_java_double(s) {
        return Ok(Num::Float(x));
    }
    if !matches!(settings.timestamp, TemporalFormat::UnitsSinceEpoch)
        && let Ok(instant) = settings.timestamp.parse_instant(s, settings.time_zone)
        && let Some(units) = instant_to_units(instant, settings.unit)
    {
        return Ok(Num::Int(units));
    }
    if let Some(b) = boolean_word(s) {
        return Ok(Num::Int(i64::from(b)));
    }
    let example = settings.timestamp.format(y2k(), settings.time_zone, settings.unit);
    err(format!(
        "Could not parse '{}'; accepted formats are: a valid number (e.g. '1234.56'), a valid Java numeric format (e.g. '-123.45e6'), a valid date-time pattern (e.g. '{example}'), or a valid boolean word",
        excerpt(s)
    ))
}

fn y2k() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or_default()
}

/// `TimeUnit.convert` of the seconds plus of the nanoseconds since the epoch, as the connector
/// computes it (each part truncated toward zero).
fn instant_to_units(instant: DateTime<Utc>, unit: TimeUnit) -> Option<i64> {
    let secs = i128::from(instant.timestamp()) * 1_000_000_000 / unit.nanos();
    let nanos = i128::from(instant.timestamp_subsec_nanos()) / unit.nanos();
    i64::try_from(secs + nanos).ok()
}

fn narrowing(e: NumError, input: &Scalar<'_>, native: &NativeType) -> ConvertError {
    let shown = input.shown();
    let name = native_name(native);
    ConvertError(match e {
        NumError::Fraction => format!("Cannot convert {shown} to {name} without losing its fractional part"),
        NumError::Overflow => format!("Value {shown} is out of range for {name}"),
        NumError::Inexact => format!("Cannot convert {shown} to {name} exactly"),
        NumError::NotFinite => format!("Cannot convert {shown} to {name}: not a finite number"),
        NumError::TooManyDigits => format!("Cannot convert {shown} to {name}: more than {} digits", number::MAX_DIGITS),
    })
}

fn integer_of(
    input: &Scalar<'_>,
    native: &NativeType,
    settings: &CodecSettings,
    lo: i64,
    hi: i64,
) -> Result<i64, ConvertError> {
    let n = number_of(input, native, settings)?;
    number::to_integer(n, lo, hi).map_err(|e| narrowing(e, input, native))
}

/// Nanoseconds since the epoch: instants here are kept in i128 so that any `i64` of any unit
/// converts without overflow.
type EpochNanos = i128;

/// An integral number of `unit` since the epoch, from a numeric scalar.
fn epoch_units(input: &Scalar<'_>, settings: &CodecSettings, what: &str) -> Result<EpochNanos, ConvertError> {
    let n = match *input {
        Scalar::Int(i) => Num::Int(i),
        Scalar::Float(x) => Num::Float(x),
        Scalar::Str(s) | Scalar::Num(s) => {
            match Dec::parse_grouped(s, Symbols::of_locale(&settings.locale)).or_else(|| Dec::parse(s)) {
                Some(d) => Num::Dec(d),
                None => {
                    return err(format!(
                        "Text '{}' could not be parsed: expected a number of {} since the epoch for {what}",
                        excerpt(s),
                        unit_name(settings.unit)
                    ));
                }
            }
        }
        _ => return err(format!("Cannot convert {} to {what}", input.describe())),
    };
    let units = number::to_integer(n, i64::MIN, i64::MAX).map_err(|e| {
        ConvertError(format!(
            "Cannot convert {} to {what}: expected an integral number of {} since the epoch ({})",
            input.shown(),
            unit_name(settings.unit),
            match e {
                NumError::Fraction => "it has a fractional part",
                _ => "out of range",
            }
        ))
    })?;
    Ok(i128::from(units) * settings.unit.nanos())
}

fn unit_name(unit: TimeUnit) -> &'static str {
    let i = match unit {
        TimeUnit::Nanoseconds => 0,
        TimeUnit::Microseconds => 1,
        TimeUnit::Milliseconds => 2,
        TimeUnit::Seconds => 3,
        TimeUnit::Minutes => 4,
        TimeUnit::Hours => 5,
        TimeUnit::Days => 6,
    };
    TimeUnit::NAMES[i]
}

/// An instant from text: `codec.timestamp`, or a number of `codec.unit` for UNITS_SINCE_EPOCH.
fn instant_from_text(input: &Scalar<'_>, text: &str, settings: &CodecSettings) -> Result<EpochNanos, ConvertError> {
    match &settings.timestamp {
        TemporalFormat::UnitsSinceEpoch => epoch_units(input, settings, "timestamp"),
        format => format.parse_instant_nanos(text, settings.time_zone).map_err(ConvertError),
    }
}

fn timestamp_of(
    input: &Scalar<'_>,
    settings: &CodecSettings,
    target: &ColumnType<'_>,
) -> Result<CqlTimestamp, ConvertError> {
    let nanos = match *input {
        Scalar::Int(_) | Scalar::Float(_) => epoch_units(input, settings, "timestamp")?,
        Scalar::Str(s) | Scalar::Num(s) => instant_from_text(input, s, settings)?,
        Scalar::Timestamp(us) => i128::from(us) * 1000,
        Scalar::Date(d) => date_midnight(d, settings, input)?,
        _ => return mismatch(input, target),
    };
    i64::try_from(nanos.div_euclid(1_000_000))
        .map(CqlTimestamp)
        .map_err(|_| ConvertError(format!("Value {} is out of range for timestamp", input.shown())))
}

/// The first instant of a logical date in `codec.timeZone`.
fn date_midnight(days: i32, settings: &CodecSettings, input: &Scalar<'_>) -> Result<EpochNanos, ConvertError> {
    use chrono::TimeZone as _;
    let out_of_range = || ConvertError(format!("Date {} is out of range for timestamp", input.shown()));
    let date = DateTime::UNIX_EPOCH
        .date_naive()
        .checked_add_signed(chrono::Duration::try_days(i64::from(days)).ok_or_else(out_of_range)?)
        .ok_or_else(out_of_range)?;
    let local = date.and_time(NaiveTime::MIN);
    let instant = settings.time_zone.from_local_datetime(&local).earliest().ok_or_else(out_of_range)?;
    Ok(temporal::epoch_nanos(instant.with_timezone(&Utc)))
}

/// The date or time of an epoch-based instant in `codec.timeZone`.
fn zoned(
    nanos: EpochNanos,
    settings: &CodecSettings,
    input: &Scalar<'_>,
    what: &str,
) -> Result<chrono::NaiveDateTime, ConvertError> {
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).ok();
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    secs.and_then(|s| DateTime::from_timestamp(s, sub))
        .map(|i| i.with_timezone(&settings.time_zone).naive_local())
        .ok_or_else(|| ConvertError(format!("Value {} is out of range for {what}", input.shown())))
}

fn date_of(input: &Scalar<'_>, settings: &CodecSettings, target: &ColumnType<'_>) -> Result<CqlDate, ConvertError> {
    let date: NaiveDate = match (&settings.date, *input) {
        (TemporalFormat::UnitsSinceEpoch, Scalar::Int(_) | Scalar::Float(_) | Scalar::Str(_) | Scalar::Num(_)) => {
            zoned(epoch_units(input, settings, "date")?, settings, input, "date")?.date()
        }
        (format, Scalar::Str(s) | Scalar::Num(s)) => format.parse_date(s, settings.time_zone).map_err(ConvertError)?,
        (_, Scalar::Date(d)) => {
            return u32::try_from(i64::from(d) + (1i64 << 31))
                .map(CqlDate)
                .map_err(|_| ConvertError(format!("Date {d} is out of range for date")));
        }
        (_, Scalar::Timestamp(us)) => zoned(i128::from(us) * 1000, settings, input, "date")?.date(),
        _ => return mismatch(input, target),
    };
    // CQL dates count days from 2^31 days before the epoch.
    let days = date.signed_duration_since(DateTime::UNIX_EPOCH.date_naive()).num_days();
    u32::try_from(days + (1i64 << 31))
        .map(CqlDate)
        .map_err(|_| ConvertError(format!("Date {date} is out of range for date")))
}

fn time_of(input: &Scalar<'_>, settings: &CodecSettings, target: &ColumnType<'_>) -> Result<CqlTime, ConvertError> {
    let time: NaiveTime = match (&settings.time, *input) {
        (TemporalFormat::UnitsSinceEpoch, Scalar::Int(_) | Scalar::Float(_) | Scalar::Str(_) | Scalar::Num(_)) => {
            zoned(epoch_units(input, settings, "time")?, settings, input, "time")?.time()
        }
        (format, Scalar::Str(s) | Scalar::Num(s)) => format.parse_time(s, settings.time_zone).map_err(ConvertError)?,
        (_, Scalar::Time(n)) => {
            if !(0..86_400_000_000_000).contains(&n) {
                return err(format!("Time {n} ns is not a time of day (0 to 86399999999999 ns)"));
            }
            return Ok(CqlTime(n));
        }
        (_, Scalar::Timestamp(us)) => zoned(i128::from(us) * 1000, settings, input, "time")?.time(),
        _ => return mismatch(input, target),
    };
    Ok(CqlTime(i64::from(time.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(time.nanosecond())))
}

/// 100 ns intervals between the Gregorian epoch of version-1 UUIDs (1582-10-15) and 1970.
const GREGORIAN_OFFSET_TICKS: i128 = 0x01B2_1DD2_1381_4000;

/// A version-1 UUID for an instant, with random clock sequence and node (the connector's RANDOM
/// generator): unique per call, ordered by time.
fn time_uuid(nanos: EpochNanos, input: &Scalar<'_>) -> Result<Uuid, ConvertError> {
    let ticks = GREGORIAN_OFFSET_TICKS + nanos.div_euclid(100);
    let ticks = u64::try_from(ticks).ok().filter(|t| *t < 1 << 60).ok_or_else(|| {
        ConvertError(format!("Cannot generate a time-based UUID for {}: instant out of range", input.shown()))
    })?;
    let random: [u8; 8] = rand::random();
    let clock_seq = u16::from_be_bytes([random[0], random[1]]) & 0x3fff;
    // A random node sets the multicast bit so it cannot collide with a real MAC (RFC 4122 §4.5).
    let node = [random[2] | 0x01, random[3], random[4], random[5], random[6], random[7]];
    Ok(uuid::Builder::from_gregorian_timestamp(ticks, clock_seq, &node).into_uuid())
}

fn uuid_of(
    input: &Scalar<'_>,
    settings: &CodecSettings,
    target: &ColumnType<'_>,
    time_based: bool,
) -> Result<Uuid, ConvertError> {
    match *input {
        Scalar::Str(s) | Scalar::Num(s) => {
            if let Ok(u) = Uuid::try_parse(s) {
                if time_based && u.get_version_num() != 1 {
                    return err(format!(
                        "Invalid timeuuid '{}': version {} UUID, expected a time-based (version 1) UUID",
                        excerpt(s),
                        u.get_version_num()
                    ));
                }
                return Ok(u);
            }
            match instant_from_text(input, s, settings) {
                Ok(nanos) => time_uuid(nanos, input),
                Err(_) => err(format!("Invalid UUID string: {}", excerpt(s))),
            }
        }
        Scalar::Int(_) | Scalar::Float(_) => {
            time_uuid(epoch_units(input, settings, type_name(target).as_str())?, input)
        }
        Scalar::Timestamp(us) => time_uuid(i128::from(us) * 1000, input),
        _ => mismatch(input, target),
    }
}

/// Base64 as `java.util.Base64.getDecoder()` reads it: standard alphabet, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn blob_of(input: &Scalar<'_>, target: &ColumnType<'_>) -> Result<Vec<u8>, ConvertError> {
    match *input {
        Scalar::Bytes(b) => Ok(b.to_vec()),
        Scalar::Str(s) | Scalar::Num(s) => {
            if let Some(hex) = s.strip_prefix("0x") {
                return decode_hex(hex).ok_or_else(|| {
                    ConvertError(format!(
                        "Cannot convert '{}' to blob: invalid hexadecimal (a CQL blob literal is 0x followed by an even number of hex digits)",
                        excerpt(s)
                    ))
                });
            }
            BASE64.decode(s).map_err(|_| {
                ConvertError(format!(
                    "Cannot convert '{}' to blob: neither a CQL blob literal (0x…) nor Base64",
                    excerpt(s)
                ))
            })
        }
        _ => mismatch(input, target),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let b = hex.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks_exact(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

fn inet_of(input: &Scalar<'_>, target: &ColumnType<'_>) -> Result<IpAddr, ConvertError> {
    let Some(s) = input.text() else {
        return mismatch(input, target);
    };
    let literal = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
    literal.parse::<IpAddr>().map_err(|_| {
        ConvertError(format!(
            "Cannot convert '{}' to inet: not an IP address literal (host names are not resolved)",
            excerpt(s)
        ))
    })
}

fn native_name(n: &NativeType) -> &'static str {
    match n {
        NativeType::Ascii => "ascii",
        NativeType::Boolean => "boolean",
        NativeType::Blob => "blob",
        NativeType::Counter => "counter",
        NativeType::Date => "date",
        NativeType::Decimal => "decimal",
        NativeType::Double => "double",
        NativeType::Duration => "duration",
        NativeType::Float => "float",
        NativeType::Int => "int",
        NativeType::BigInt => "bigint",
        NativeType::Text => "text",
        NativeType::Timestamp => "timestamp",
        NativeType::Inet => "inet",
        NativeType::SmallInt => "smallint",
        NativeType::TinyInt => "tinyint",
        NativeType::Time => "time",
        NativeType::Timeuuid => "timeuuid",
        NativeType::Uuid => "uuid",
        NativeType::Varint => "varint",
        _ => "unknown",
    }
}

/// The CQL spelling of a type, for messages.
pub fn type_name(t: &ColumnType<'_>) -> String {
    match t {
        ColumnType::Native(n) => native_name(n).to_string(),
        ColumnType::Collection { typ, .. } => match typ {
            CollectionType::List(e) => format!("list<{}>", type_name(e)),
            CollectionType::Set(e) => format!("set<{}>", type_name(e)),
            CollectionType::Map(k, v) => format!("map<{}, {}>", type_name(k), type_name(v)),
            _ => "collection".to_string(),
        },
        ColumnType::Vector { typ, dimensions } => format!("vector<{}, {dimensions}>", type_name(typ)),
        ColumnType::UserDefinedType { definition, .. } => {
            format!("{}.{}", definition.keyspace, definition.name)
        }
        ColumnType::Tuple(types) => {
            let inner: Vec<String> = types.iter().map(type_name).collect();
            format!("tuple<{}>", inner.join(", "))
        }
        _ => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::sync::Arc;

    use bigdecimal::BigDecimal;
    use num_bigint::BigInt;
    use proptest::prelude::*;
    use scylla::value::{CqlDecimal, CqlDuration, CqlVarint};

    fn n(t: NativeType) -> ColumnType<'static> {
        ColumnType::Native(t)
    }

    fn list(e: ColumnType<'static>) -> ColumnType<'static> {
        ColumnType::Collection { frozen: false, typ: CollectionType::List(Box::new(e)) }
    }

    fn set(e: ColumnType<'static>) -> ColumnType<'static> {
        ColumnType::Collection { frozen: false, typ: CollectionType::Set(Box::new(e)) }
    }

    fn map_of(k: ColumnType<'static>, v: ColumnType<'static>) -> ColumnType<'static> {
        ColumnType::Collection { frozen: false, typ: CollectionType::Map(Box::new(k), Box::new(v)) }
    }

    fn udt_ab() -> ColumnType<'static> {
        ColumnType::UserDefinedType {
            frozen: true,
            definition: Arc::new(UserDefinedType {
                name: Cow::Borrowed("pair"),
                keyspace: Cow::Borrowed("ks"),
                field_types: vec![(Cow::Borrowed("a"), n(NativeType::Int)), (Cow::Borrowed("b"), n(NativeType::Text))],
            }),
        }
    }

    fn udt_value(a: Option<CqlValue>, b: Option<CqlValue>) -> CqlValue {
        CqlValue::UserDefinedType {
            keyspace: "ks".into(),
            name: "pair".into(),
            fields: vec![("a".into(), a), ("b".into(), b)],
        }
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn with(settings: &CodecSettings, datum: Datum<'_>, t: &ColumnType<'_>) -> Result<Option<CqlValue>, ConvertError> {
        convert(datum, t, settings)
    }

    /// Converts a JSON document (a field of a JSON record) with default settings.
    fn j(text: &str, t: &ColumnType<'_>) -> Result<Option<CqlValue>, ConvertError> {
        convert(Datum::Json(&json(text)), t, &CodecSettings::default())
    }

    /// Converts raw text (a string key, value or header) with default settings.
    fn s(text: &str, t: &ColumnType<'_>) -> Result<Option<CqlValue>, ConvertError> {
        convert(Datum::Text(text), t, &CodecSettings::default())
    }

    fn d(datum: Datum<'_>, t: &ColumnType<'_>) -> Result<Option<CqlValue>, ConvertError> {
        convert(datum, t, &CodecSettings::default())
    }

    fn fails<T: std::fmt::Debug>(r: Result<T, ConvertError>) -> String {
        r.expect_err("expected an error").0
    }

    fn text(v: &str) -> Option<CqlValue> {
        Some(CqlValue::Text(v.to_string()))
    }

    fn settings(
        timestamp: Option<&str>,
        date: Option<&str>,
        time: Option<&str>,
        zone: Option<&str>,
        unit: Option<&str>,
    ) -> CodecSettings {
        CodecSettings::from_settings(None, zone, timestamp, date, time, unit).unwrap()
    }

    type Converted = Result<Option<CqlValue>, ConvertError>;

    fn decimal(unscaled: i64, scale: i32) -> Converted {
        let bytes = BigInt::from(unscaled).to_signed_bytes_be();
        Ok(Some(CqlValue::Decimal(CqlDecimal::from_signed_be_bytes_and_exponent(bytes, scale))))
    }

    fn ms(rfc3339: &str) -> Converted {
        let t = DateTime::parse_from_rfc3339(rfc3339).unwrap();
        Ok(Some(CqlValue::Timestamp(CqlTimestamp(t.timestamp_millis()))))
    }

    fn date(y: i32, m: u32, day: u32) -> Converted {
        let days = NaiveDate::from_ymd_opt(y, m, day).unwrap().signed_duration_since(NaiveDate::default()).num_days();
        Ok(Some(CqlValue::Date(CqlDate((days + (1 << 31)) as u32))))
    }

    fn time(h: i64, m: i64, sec: i64, nanos: i64) -> Converted {
        Ok(Some(CqlValue::Time(CqlTime(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos))))
    }

    const NOT_PARSED: &str = "accepted formats are: a valid number (e.g. '1234.56'), a valid Java numeric format (e.g. '-123.45e6'), a valid date-time pattern (e.g. '2000-01-01T00:00:00Z'), or a valid boolean word";

    #[test]
    fn settings_defaults_and_validation() {
        let def = CodecSettings::default();
        assert_eq!(def.locale, "en_US");
        assert_eq!(def.time_zone, chrono_tz::UTC);
        assert_eq!(def.timestamp, TemporalFormat::CqlTimestamp);
        assert_eq!(def.date.name(), "ISO_LOCAL_DATE");
        assert_eq!(def.time.name(), "ISO_LOCAL_TIME");
        assert_eq!(def.unit, TimeUnit::Milliseconds);
        let all = CodecSettings::from_settings(
            Some("fr_FR"),
            Some("Europe/Paris"),
            Some("UNITS_SINCE_EPOCH"),
            Some("dd/MM/yyyy"),
            Some("HHmmssSSS"),
            Some("SECONDS"),
        )
        .unwrap();
        assert_eq!(all.locale, "fr_FR");
        assert_eq!(all.time_zone, chrono_tz::Europe::Paris);
        assert_eq!(all.timestamp, TemporalFormat::UnitsSinceEpoch);
        assert_eq!(all.date.name(), "dd/MM/yyyy");
        assert_eq!(all.unit, TimeUnit::Seconds);

        let bad = |r: Result<CodecSettings, (String, String)>| r.unwrap_err();
        assert_eq!(
            bad(CodecSettings::from_settings(Some("e"), None, None, None, None, None)),
            ("codec.locale".into(), "'e' is not a locale; expected lang[_COUNTRY[_VARIANT]], e.g. en_US".into())
        );
        assert_eq!(
            bad(CodecSettings::from_settings(None, Some("Mars/Base"), None, None, None, None)),
            ("codec.timeZone".into(), "Unknown time-zone ID: Mars/Base".into())
        );
        assert_eq!(
            bad(CodecSettings::from_settings(None, None, Some("yyyy-QQ"), None, None, None)),
            (
                "codec.timestamp".into(),
                "'yyyy-QQ' is neither CQL_TIMESTAMP, UNITS_SINCE_EPOCH, a DateTimeFormatter constant nor a valid pattern: unsupported pattern letter 'Q'".into()
            )
        );
        assert_eq!(bad(CodecSettings::from_settings(None, None, None, Some("ddd"), None, None)).0, "codec.date");
        assert_eq!(bad(CodecSettings::from_settings(None, None, None, None, Some("HH:mm'"), None)).0, "codec.time");
        assert_eq!(
            bad(CodecSettings::from_settings(None, None, None, None, None, Some("millis"))),
            (
                "codec.unit".into(),
                "'millis' is not a time unit; expected one of NANOSECONDS, MICROSECONDS, MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS".into()
            )
        );
    }

    #[test]
    fn nulls_and_empty_strings() {
        let every = [
            n(NativeType::Ascii),
            n(NativeType::Text),
            n(NativeType::Boolean),
            n(NativeType::Int),
            n(NativeType::Varint),
            n(NativeType::Double),
            n(NativeType::Decimal),
            n(NativeType::Timestamp),
            n(NativeType::Date),
            n(NativeType::Time),
            n(NativeType::Uuid),
            n(NativeType::Timeuuid),
            n(NativeType::Blob),
            n(NativeType::Inet),
            n(NativeType::Duration),
            list(n(NativeType::Int)),
            map_of(n(NativeType::Int), n(NativeType::Int)),
            udt_ab(),
            ColumnType::Tuple(vec![n(NativeType::Int)]),
            ColumnType::Vector { typ: Box::new(n(NativeType::Float)), dimensions: 2 },
        ];
        for t in &every {
            assert_eq!(d(Datum::Null, t), Ok(None), "{t:?}");
            assert_eq!(j("null", t), Ok(None), "{t:?}");
            let empty = j("\"\"", t);
            let raw_empty = s("", t);
            match t {
                ColumnType::Native(NativeType::Text) => {
                    assert_eq!((empty, raw_empty), (Ok(text("")), Ok(text(""))));
                }
                ColumnType::Native(NativeType::Ascii) => {
                    let e = Some(CqlValue::Ascii(String::new()));
                    assert_eq!((empty, raw_empty), (Ok(e.clone()), Ok(e)));
                }
                _ => assert_eq!((empty, raw_empty), (Ok(None), Ok(None)), "{t:?}"),
            }
        }
        // "NULL" is just text (no null strings).
        assert_eq!(s("NULL", &n(NativeType::Text)), Ok(text("NULL")));
        assert_eq!(d(Datum::Bytes(&[]), &n(NativeType::Blob)), Ok(None));
        assert_eq!(s("0x", &n(NativeType::Blob)), Ok(None));
    }

    #[test]
    fn text_targets() {
        let t = n(NativeType::Text);
        assert_eq!(j("42", &t), Ok(text("42")));
        assert_eq!(j("42.0", &t), Ok(text("42.0")));
        assert_eq!(j("true", &t), Ok(text("true")));
        assert_eq!(j("\"héllo\"", &t), Ok(text("héllo")));
        assert_eq!(j(r#"{"b": [1, "x"], "a": null}"#, &t), Ok(text(r#"{"a":null,"b":[1,"x"]}"#)));
        assert_eq!(d(Datum::Int(90), &t), Ok(text("90")));
        assert_eq!(d(Datum::Float(1.0), &t), Ok(text("1.0")));
        assert_eq!(d(Datum::Float(1e7), &t), Ok(text("1.0E7")));
        assert_eq!(d(Datum::Bool(false), &t), Ok(text("false")));
        assert_eq!(fails(d(Datum::Bytes(b"x"), &t)), "Cannot convert bytes to text");
        let a = n(NativeType::Ascii);
        assert_eq!(s("plain", &a), Ok(Some(CqlValue::Ascii("plain".into()))));
        assert_eq!(fails(s("héllo", &a)), "Text 'héllo' is not valid ASCII");
    }

    #[test]
    fn booleans() {
        let b = n(NativeType::Boolean);
        let yes = Ok(Some(CqlValue::Boolean(true)));
        let no = Ok(Some(CqlValue::Boolean(false)));
        assert_eq!(j("true", &b), yes);
        assert_eq!(j("false", &b), no);
        for word in ["1", "y", "T", "yes", "TRUE", "True"] {
            assert_eq!(s(word, &b), yes, "{word}");
        }
        for word in ["0", "N", "f", "No", "false"] {
            assert_eq!(s(word, &b), no, "{word}");
        }
        assert_eq!(j("1", &b), yes);
        assert_eq!(j("0", &b), no);
        assert_eq!(fails(j("2", &b)), "Invalid boolean value: 2");
        assert_eq!(fails(s("maybe", &b)), "Invalid boolean value: maybe");
        assert_eq!(fails(s(" true", &b)), "Invalid boolean value:  true");
        assert_eq!(d(Datum::Bool(true), &b), yes);
        assert_eq!(d(Datum::Int(1), &b), yes);
        assert_eq!(d(Datum::Int(0), &b), no);
        assert_eq!(d(Datum::Float(1.0), &b), yes);
        assert_eq!(fails(d(Datum::Int(2), &b)), "Invalid boolean number 2, accepted values are 1 (true) and 0 (false)");
        assert_eq!(
            fails(d(Datum::Float(0.5), &b)),
            "Invalid boolean number 0.5, accepted values are 1 (true) and 0 (false)"
        );
        assert_eq!(fails(j("[true]", &b)), "Cannot convert a JSON ARRAY node to boolean");
    }

    #[test]
    fn integers() {
        let int = n(NativeType::Int);
        let i = |v: i32| Ok(Some(CqlValue::Int(v)));
        assert_eq!(j("2147483647", &int), i(i32::MAX));
        assert_eq!(j("-2147483648", &int), i(i32::MIN));
        assert_eq!(fails(j("2147483648", &int)), "Value 2147483648 is out of range for int");
        assert_eq!(j("1.0", &int), i(1));
        assert_eq!(j("1e2", &int), i(100));
        assert_eq!(fails(j("1.2", &int)), "Cannot convert 1.2 to int without losing its fractional part");
        assert_eq!(s("2,147,483,647", &int), i(i32::MAX));
        assert_eq!(s("-123.45e6", &int), i(-123_450_000));
        assert_eq!(s("+7", &int), i(7));
        assert_eq!(s("12d", &int), i(12));
        assert_eq!(fails(s("1.5d", &int)), "Cannot convert 1.5d to int without losing its fractional part");
        assert_eq!(fails(s("NaN", &int)), "Cannot convert NaN to int: not a finite number");
        assert_eq!(s("1970-01-01T00:00:00Z", &int), i(0));
        assert_eq!(s("1970-01-01T00:00:01.999Z", &int), i(1999));
        assert_eq!(s("TRUE", &int), i(1));
        assert_eq!(s("false", &int), i(0));
        assert_eq!(j("true", &int), i(1));
        assert_eq!(d(Datum::Bool(true), &int), i(1));
        assert_eq!(d(Datum::Int(-5), &int), i(-5));
        assert_eq!(d(Datum::Float(3.0), &int), i(3));
        assert_eq!(fails(d(Datum::Float(3.5), &int)), "Cannot convert 3.5 to int without losing its fractional part");
        assert_eq!(fails(d(Datum::Int(1 << 40), &int)), "Value 1099511627776 is out of range for int");
        assert_eq!(fails(s("abc", &int)), format!("Could not parse 'abc'; {NOT_PARSED}"));
        assert_eq!(fails(s("1,2,", &int)), format!("Could not parse '1,2,'; {NOT_PARSED}"));
        assert_eq!(fails(j(r#"{"a": 1}"#, &int)), "Cannot convert a JSON OBJECT node to int");
        assert_eq!(fails(d(Datum::Bytes(b"1"), &int)), "Cannot convert bytes to int");

        let tiny = n(NativeType::TinyInt);
        assert_eq!(j("-128", &tiny), Ok(Some(CqlValue::TinyInt(-128))));
        assert_eq!(fails(j("128", &tiny)), "Value 128 is out of range for tinyint");
        let small = n(NativeType::SmallInt);
        assert_eq!(s("32,767", &small), Ok(Some(CqlValue::SmallInt(32767))));
        assert_eq!(fails(s("32768", &small)), "Value 32768 is out of range for smallint");
        let big = n(NativeType::BigInt);
        assert_eq!(s("2000-01-01", &big), Ok(Some(CqlValue::BigInt(946_684_800_000))));
        assert_eq!(j("9223372036854775807", &big), Ok(Some(CqlValue::BigInt(i64::MAX))));
        assert_eq!(fails(j("9223372036854775808", &big)), "Value 9223372036854775808 is out of range for bigint");
        let counter = n(NativeType::Counter);
        assert_eq!(j("-3", &counter), Ok(Some(CqlValue::Counter(Counter(-3)))));

        // The temporal step uses codec.timestamp, codec.timeZone and codec.unit.
        let paris = settings(None, None, None, Some("Europe/Paris"), Some("SECONDS"));
        assert_eq!(with(&paris, Datum::Text("2000-01-01 01:00"), &big), Ok(Some(CqlValue::BigInt(946_684_800))));
        assert_eq!(
            fails(with(&paris, Datum::Text("x"), &big)),
            "Could not parse 'x'; accepted formats are: a valid number (e.g. '1234.56'), a valid Java numeric format (e.g. '-123.45e6'), a valid date-time pattern (e.g. '2000-01-01T01:00:00+01:00'), or a valid boolean word"
        );
        let epoch = settings(Some("UNITS_SINCE_EPOCH"), None, None, None, None);
        assert!(fails(with(&epoch, Datum::Text("x"), &big)).contains("(e.g. '946684800000')"));
        let pattern = settings(Some("yyyy-MM-dd HH:mm"), None, None, None, None);
        assert!(fails(with(&pattern, Datum::Text("x"), &big)).contains("(e.g. '2000-01-01 00:00')"));
        // A locale with a decimal comma.
        let de = CodecSettings::from_settings(Some("de_DE"), None, None, None, None, None).unwrap();
        assert_eq!(with(&de, Datum::Text("1.234.567"), &big), Ok(Some(CqlValue::BigInt(1_234_567))));
    }

    #[test]
    fn varints_and_decimals() {
        let v = n(NativeType::Varint);
        let varint = |text: &str| {
            let big: BigInt = text.parse().unwrap();
            Ok(Some(CqlValue::Varint(CqlVarint::from_signed_bytes_be(big.to_signed_bytes_be()))))
        };
        let huge = "123456789012345678901234567890123456789012345678901234567890";
        assert_eq!(j(huge, &v), varint(huge));
        assert_eq!(s("-1,000", &v), varint("-1000"));
        assert_eq!(j("1e3", &v), varint("1000"));
        assert_eq!(d(Datum::Int(-1), &v), varint("-1"));
        assert_eq!(fails(j("0.5", &v)), "Cannot convert 0.5 to varint without losing its fractional part");
        assert_eq!(fails(j("1e100000", &v)), "Cannot convert 1e+100000 to varint: more than 10000 digits");

        let dec = n(NativeType::Decimal);
        assert_eq!(j("1.50", &dec), decimal(150, 2));
        assert_eq!(j("1E+3", &dec), decimal(1, -3));
        assert_eq!(s("1,234.50", &dec), decimal(123_450, 2));
        assert_eq!(s("0.000", &dec), decimal(0, 3));
        assert_eq!(d(Datum::Int(42), &dec), decimal(42, 0));
        assert_eq!(d(Datum::Float(1.0), &dec), decimal(10, 1));
        assert_eq!(d(Datum::Float(0.1), &dec), decimal(1, 1));
        assert_eq!(s("true", &dec), decimal(1, 0));
        assert_eq!(fails(s("NaN", &dec)), "Cannot convert NaN to decimal: not a finite number");
    }

    #[test]
    fn floats_and_doubles() {
        let f = n(NativeType::Float);
        let dbl = n(NativeType::Double);
        assert_eq!(j("1234568.000000", &f), Ok(Some(CqlValue::Float(1_234_568.0))));
        assert_eq!(fails(j("3.14159265", &f)), "Cannot convert 3.14159265 to float exactly");
        assert_eq!(j("0.1", &f), Ok(Some(CqlValue::Float(0.1))));
        assert_eq!(j("0.1", &dbl), Ok(Some(CqlValue::Double(0.1))));
        assert_eq!(j("1.23456789", &dbl), Ok(Some(CqlValue::Double(1.23456789))));
        assert_eq!(fails(j("1e39", &f)), "Value 1e+39 is out of range for float");
        assert_eq!(fails(d(Datum::Int(16_777_217), &f)), "Cannot convert 16777217 to float exactly");
        assert_eq!(d(Datum::Float(f64::from(0.1f32)), &f), Ok(Some(CqlValue::Float(0.1))));
        assert_eq!(s("Infinity", &f), Ok(Some(CqlValue::Float(f32::INFINITY))));
        assert_eq!(s("-Infinity", &dbl), Ok(Some(CqlValue::Double(f64::NEG_INFINITY))));
        assert!(matches!(s("NaN", &dbl), Ok(Some(CqlValue::Double(x))) if x.is_nan()));
        assert_eq!(s("1.5f", &dbl), Ok(Some(CqlValue::Double(1.5))));
        assert_eq!(s("1,234.5", &dbl), Ok(Some(CqlValue::Double(1234.5))));
        assert_eq!(fails(j("0.30000000000000001", &dbl)), "Cannot convert 0.30000000000000001 to double exactly");
        assert_eq!(s("1970-01-01T00:00:00.001Z", &dbl), Ok(Some(CqlValue::Double(1.0))));
    }

    #[test]
    fn timestamps() {
        let ts = n(NativeType::Timestamp);
        assert_eq!(j("\"2020-01-01T10:00:00Z\"", &ts), ms("2020-01-01T10:00:00Z"));
        assert_eq!(s("2020-01-01", &ts), ms("2020-01-01T00:00:00Z"));
        assert_eq!(s("2020-01-01 10:00:00.123+01:00", &ts), ms("2020-01-01T09:00:00.123Z"));
        assert_eq!(s("2020-01-01T10:00:00.123456Z", &ts), ms("2020-01-01T10:00:00.123Z"));
        assert_eq!(s("1969-12-31T23:59:59.9999Z", &ts), Ok(Some(CqlValue::Timestamp(CqlTimestamp(-1)))));
        let paris = settings(None, None, None, Some("Europe/Paris"), None);
        assert_eq!(with(&paris, Datum::Text("2020-07-01 10:00"), &ts), ms("2020-07-01T08:00:00Z"));
        assert_eq!(fails(s("2020-13-01", &ts)), "Text '2020-13-01' could not be parsed: Invalid date 2020-13-01");
        // With the default format a JSON number is parsed as text, and fails.
        assert_eq!(fails(j("1000", &ts)), "Text '1000' could not be parsed at index 4");
        // Numeric primitives are codec.unit since the epoch, whatever the format.
        assert_eq!(
            d(Datum::Int(1_600_000_000_000), &ts),
            Ok(Some(CqlValue::Timestamp(CqlTimestamp(1_600_000_000_000))))
        );
        assert_eq!(d(Datum::Float(5.0), &ts), Ok(Some(CqlValue::Timestamp(CqlTimestamp(5)))));
        assert_eq!(
            fails(d(Datum::Float(5.5), &ts)),
            "Cannot convert 5.5 to timestamp: expected an integral number of MILLISECONDS since the epoch (it has a fractional part)"
        );
        let secs = settings(None, None, None, None, Some("SECONDS"));
        assert_eq!(with(&secs, Datum::Int(1), &ts), Ok(Some(CqlValue::Timestamp(CqlTimestamp(1000)))));
        let nanos = settings(None, None, None, None, Some("NANOSECONDS"));
        assert_eq!(with(&nanos, Datum::Int(-1), &ts), Ok(Some(CqlValue::Timestamp(CqlTimestamp(-1)))));
        let days = settings(None, None, None, None, Some("DAYS"));
        assert_eq!(
            fails(with(&days, Datum::Int(i64::MAX), &ts)),
            "Value 9223372036854775807 is out of range for timestamp"
        );
        let epoch = settings(Some("UNITS_SINCE_EPOCH"), None, None, None, Some("SECONDS"));
        assert_eq!(
            with(&epoch, Datum::Json(&json("1000")), &ts),
            Ok(Some(CqlValue::Timestamp(CqlTimestamp(1_000_000))))
        );
        assert_eq!(with(&epoch, Datum::Text("1,000"), &ts), Ok(Some(CqlValue::Timestamp(CqlTimestamp(1_000_000)))));
        assert_eq!(
            fails(with(&epoch, Datum::Text("2020-01-01"), &ts)),
            "Text '2020-01-01' could not be parsed: expected a number of SECONDS since the epoch for timestamp"
        );
        assert_eq!(
            fails(with(&epoch, Datum::Text("1.5"), &ts)),
            "Cannot convert 1.5 to timestamp: expected an integral number of SECONDS since the epoch (it has a fractional part)"
        );
        let pattern = settings(Some("dd/MM/yyyy HH:mm"), None, None, Some("America/New_York"), None);
        assert_eq!(with(&pattern, Datum::Text("01/07/2020 10:00"), &ts), ms("2020-07-01T14:00:00Z"));
        let compact = settings(Some("yyyyMMdd"), None, None, None, None);
        assert_eq!(with(&compact, Datum::Json(&json("20200102")), &ts), ms("2020-01-02T00:00:00Z"));
        let instant = settings(Some("ISO_INSTANT"), None, None, None, None);
        assert_eq!(with(&instant, Datum::Text("2020-01-02T03:04:05Z"), &ts), ms("2020-01-02T03:04:05Z"));
        assert_eq!(fails(d(Datum::Bool(true), &ts)), "Cannot convert a boolean to timestamp");
    }

    #[test]
    fn dates_and_times() {
        let dt = n(NativeType::Date);
        let tm = n(NativeType::Time);
        assert_eq!(j("\"2016-07-24\"", &dt), date(2016, 7, 24));
        assert_eq!(s("1970-01-01", &dt), Ok(Some(CqlValue::Date(CqlDate(1 << 31)))));
        assert_eq!(fails(s("2016-7-24", &dt)), "Text '2016-7-24' could not be parsed at index 5");
        assert_eq!(fails(d(Datum::Int(1), &dt)), "Cannot convert an integer to date");
        let fr = settings(None, Some("dd/MM/yyyy"), None, None, None);
        assert_eq!(with(&fr, Datum::Text("24/07/2016"), &dt), date(2016, 7, 24));
        let zoned = settings(None, Some("ISO_DATE_TIME"), Some("ISO_DATE_TIME"), Some("Europe/Paris"), None);
        assert_eq!(with(&zoned, Datum::Text("2016-07-24T23:30:00Z"), &dt), date(2016, 7, 25));
        assert_eq!(with(&zoned, Datum::Text("2016-07-24T23:30:00Z"), &tm), time(1, 30, 0, 0));
        assert_eq!(with(&zoned, Datum::Text("2016-07-24T23:30:00"), &dt), date(2016, 7, 24));
        let epoch_days = settings(None, Some("UNITS_SINCE_EPOCH"), None, None, Some("DAYS"));
        assert_eq!(with(&epoch_days, Datum::Int(1), &dt), date(1970, 1, 2));
        assert_eq!(with(&epoch_days, Datum::Json(&json("-1")), &dt), date(1969, 12, 31));

        assert_eq!(s("17:12:32.584", &tm), time(17, 12, 32, 584_000_000));
        assert_eq!(s("17:12", &tm), time(17, 12, 0, 0));
        assert_eq!(
            fails(s("25:00", &tm)),
            "Text '25:00' could not be parsed: Invalid value for HourOfDay (valid values 0 - 23): 25"
        );
        // A JSON number is parsed as its text (spec example).
        let compact = settings(None, None, Some("HHmmssSSS"), None, None);
        assert_eq!(with(&compact, Datum::Json(&json("171232584")), &tm), time(17, 12, 32, 584_000_000));
        let epoch_ms = settings(None, None, Some("UNITS_SINCE_EPOCH"), None, None);
        assert_eq!(with(&epoch_ms, Datum::Int(3_600_001), &tm), time(1, 0, 0, 1_000_000));
        assert_eq!(fails(d(Datum::Float(1.0), &tm)), "Cannot convert a floating-point number to time");
    }

    #[test]
    fn uuids() {
        let u = n(NativeType::Uuid);
        let tu = n(NativeType::Timeuuid);
        let v4 = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
        let parsed = Uuid::parse_str(v4).unwrap();
        assert_eq!(j(&format!("\"{v4}\""), &u), Ok(Some(CqlValue::Uuid(parsed))));
        assert_eq!(s(&v4.to_uppercase(), &u), Ok(Some(CqlValue::Uuid(parsed))));
        assert_eq!(
            fails(s(v4, &tu)),
            format!("Invalid timeuuid '{v4}': version 4 UUID, expected a time-based (version 1) UUID")
        );
        let v1 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
        assert_eq!(s(v1, &tu), Ok(Some(CqlValue::Timeuuid(CqlTimeuuid::from(Uuid::parse_str(v1).unwrap())))));
        assert_eq!(fails(s("not-a-uuid", &u)), "Invalid UUID string: not-a-uuid");
        assert_eq!(fails(j("1", &u)), "Invalid UUID string: 1");

        let generated = |r: Result<Option<CqlValue>, ConvertError>| match r {
            Ok(Some(CqlValue::Timeuuid(t))) => Uuid::from_bytes(*t.as_bytes()),
            Ok(Some(CqlValue::Uuid(t))) => t,
            other => panic!("{other:?}"),
        };
        let a = generated(s("2020-01-01T00:00:00.123Z", &tu));
        let b = generated(s("2020-01-01T00:00:00.123Z", &u));
        assert_eq!(a.get_version_num(), 1);
        assert_ne!(a, b, "clock sequence and node are random");
        let (secs, nanos) = a.get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos), (1_577_836_800, 123_000_000));
        let c = generated(d(Datum::Int(1_577_836_800_123), &tu));
        assert_eq!(c.get_timestamp().unwrap().to_unix(), (1_577_836_800, 123_000_000));
        let epoch = settings(Some("UNITS_SINCE_EPOCH"), None, None, None, Some("SECONDS"));
        let e = generated(with(&epoch, Datum::Json(&json("1577836800")), &tu));
        assert_eq!(e.get_timestamp().unwrap().to_unix(), (1_577_836_800, 0));
        assert_eq!(
            fails(s("1500-01-01", &tu)),
            "Cannot generate a time-based UUID for 1500-01-01: instant out of range"
        );
        assert_eq!(fails(d(Datum::Bytes(&[0; 16]), &u)), "Cannot convert bytes to uuid");
    }

    #[test]
    fn blobs_inets_durations() {
        let b = n(NativeType::Blob);
        let blob = |v: &[u8]| Ok(Some(CqlValue::Blob(v.to_vec())));
        assert_eq!(s("0x0102ff", &b), blob(&[1, 2, 255]));
        assert_eq!(s("0x0A0b", &b), blob(&[10, 11]));
        assert_eq!(s("AQI=", &b), blob(&[1, 2]));
        assert_eq!(s("AQI", &b), blob(&[1, 2]));
        assert_eq!(j("\"AQI=\"", &b), blob(&[1, 2]));
        assert_eq!(d(Datum::Bytes(&[9, 8]), &b), blob(&[9, 8]));
        assert_eq!(
            fails(s("0x123", &b)),
            "Cannot convert '0x123' to blob: invalid hexadecimal (a CQL blob literal is 0x followed by an even number of hex digits)"
        );
        assert!(fails(s("0xzz", &b)).contains("invalid hexadecimal"));
        assert_eq!(fails(s("!!", &b)), "Cannot convert '!!' to blob: neither a CQL blob literal (0x…) nor Base64");
        assert_eq!(fails(d(Datum::Int(1), &b)), "Cannot convert an integer to blob");

        let inet = n(NativeType::Inet);
        assert_eq!(s("127.0.0.1", &inet), Ok(Some(CqlValue::Inet("127.0.0.1".parse().unwrap()))));
        assert_eq!(s("::1", &inet), Ok(Some(CqlValue::Inet("::1".parse().unwrap()))));
        assert_eq!(s("[fe80::1]", &inet), Ok(Some(CqlValue::Inet("fe80::1".parse().unwrap()))));
        assert_eq!(
            fails(s("example.com", &inet)),
            "Cannot convert 'example.com' to inet: not an IP address literal (host names are not resolved)"
        );
        assert_eq!(fails(d(Datum::Int(1), &inet)), "Cannot convert an integer to inet");

        let dur = n(NativeType::Duration);
        let ninety = Ok(Some(CqlValue::Duration(CqlDuration { months: 0, days: 0, nanoseconds: 5_400_000_000_000 })));
        assert_eq!(s("1h30m", &dur), ninety);
        assert_eq!(j("\"PT1H30M\"", &dur), ninety);
        assert_eq!(s("P0000-00-00T01:30:00", &dur), ninety);
        assert_eq!(fails(s("90 minutes", &dur)), "Unable to convert '90 minutes' to a duration");
        assert_eq!(fails(d(Datum::Int(5), &dur)), "Cannot convert an integer to duration");
    }

    #[test]
    fn lists_and_sets() {
        let ints = list(n(NativeType::Int));
        let l = |v: &[i32]| Ok(Some(CqlValue::List(v.iter().map(|i| CqlValue::Int(*i)).collect())));
        assert_eq!(j("[1, 2, 3]", &ints), l(&[1, 2, 3]));
        assert_eq!(j("[]", &ints), l(&[]));
        assert_eq!(j("[\"1\", \"2,000\"]", &ints), l(&[1, 2000]));
        assert_eq!(fails(j(r#"{"a": 1}"#, &ints)), "Expecting ARRAY node, got OBJECT");
        assert_eq!(fails(j("\"[1]\"", &ints)), "Expecting ARRAY node, got STRING");
        assert_eq!(fails(j("5", &ints)), "Expecting ARRAY node, got NUMBER");
        assert_eq!(fails(j("[1, null]", &ints)), "Null elements are not allowed in a list");
        assert_eq!(fails(j("[1, \"\"]", &ints)), "Null elements are not allowed in a list");
        assert_eq!(fails(j("[1, 2147483648]", &ints)), "Value 2147483648 is out of range for int");
        assert_eq!(s("1,2,3", &ints), l(&[1, 2, 3]));
        assert_eq!(s(" [1, 2] ", &ints), l(&[1, 2]));
        assert_eq!(s("[]", &ints), l(&[]));
        assert!(fails(s("1,,2", &ints)).starts_with("Could not parse '1,,2' as JSON for list<int>: "));
        assert_eq!(fails(d(Datum::Int(1), &ints)), "Cannot convert an integer to list<int>");
        let texts = list(n(NativeType::Text));
        assert_eq!(
            s("'a', \"b\"", &texts),
            Ok(Some(CqlValue::List(vec![CqlValue::Text("a".into()), CqlValue::Text("b".into())])))
        );
        let nested = list(list(n(NativeType::Int)));
        assert_eq!(
            j("[[1], [2, 3]]", &nested),
            Ok(Some(CqlValue::List(vec![
                CqlValue::List(vec![CqlValue::Int(1)]),
                CqlValue::List(vec![CqlValue::Int(2), CqlValue::Int(3)]),
            ])))
        );
        let ints_set = set(n(NativeType::Int));
        let st = |v: &[i32]| Ok(Some(CqlValue::Set(v.iter().map(|i| CqlValue::Int(*i)).collect())));
        assert_eq!(j("[1, 2, 1, \"2\"]", &ints_set), st(&[1, 2]));
        assert_eq!(s("3,1,3", &ints_set), st(&[3, 1]));
        assert_eq!(fails(j("[null]", &ints_set)), "Null elements are not allowed in a set");
        let doubles = set(n(NativeType::Double));
        assert_eq!(
            j("[0.0, -0.0, 0.0]", &doubles),
            Ok(Some(CqlValue::Set(vec![CqlValue::Double(0.0), CqlValue::Double(-0.0)])))
        );
    }

    #[test]
    fn maps() {
        let m = map_of(n(NativeType::Int), n(NativeType::Text));
        let pairs = |v: &[(i32, &str)]| {
            Ok(Some(CqlValue::Map(v.iter().map(|(k, t)| (CqlValue::Int(*k), CqlValue::Text(t.to_string()))).collect())))
        };
        assert_eq!(j(r#"{"37": "a", "2": "b"}"#, &m), pairs(&[(2, "b"), (37, "a")]));
        assert_eq!(j("{}", &m), pairs(&[]));
        assert_eq!(j(r#"{"1": "a", "01": "b"}"#, &m), pairs(&[(1, "a")]));
        assert_eq!(fails(j("[1]", &m)), "Expecting OBJECT node, got ARRAY");
        assert_eq!(fails(j(r#"{"x": "a"}"#, &m)), format!("Could not parse 'x'; {NOT_PARSED}"));
        assert_eq!(fails(j(r#"{"1": null}"#, &m)), "Null map values are not allowed (key '1')");
        assert_eq!(s("\"1\": 'a'", &m), pairs(&[(1, "a")]));
        assert_eq!(s("{'1': 'a'}", &m), pairs(&[(1, "a")]));
        let by_name = map_of(n(NativeType::Text), n(NativeType::Int));
        assert_eq!(
            s("{a: 1, b: '2'}", &by_name),
            Ok(Some(CqlValue::Map(vec![
                (CqlValue::Text("a".into()), CqlValue::Int(1)),
                (CqlValue::Text("b".into()), CqlValue::Int(2)),
            ])))
        );
        let list_keys = map_of(list(n(NativeType::Int)), n(NativeType::Int));
        assert_eq!(
            j(r#"{"[1,2]": 3}"#, &list_keys),
            Ok(Some(CqlValue::Map(vec![(CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)]), CqlValue::Int(3))])))
        );
    }

    #[test]
    fn tuples() {
        let t = ColumnType::Tuple(vec![n(NativeType::Int), n(NativeType::Text)]);
        let tuple = |a: Option<CqlValue>, b: Option<CqlValue>| Ok(Some(CqlValue::Tuple(vec![a, b])));
        assert_eq!(j("[1, \"x\"]", &t), tuple(Some(CqlValue::Int(1)), text("x")));
        assert_eq!(j("[null, \"x\"]", &t), tuple(None, text("x")));
        assert_eq!(j("[]", &t), Ok(None));
        assert_eq!(fails(j("[1]", &t)), "JSON array does not match tuple definition: expecting 2 elements, got 1");
        assert_eq!(
            fails(j("[1, \"x\", 3]", &t)),
            "JSON array does not match tuple definition: expecting 2 elements, got 3"
        );
        assert_eq!(fails(j(r#"{"a": 1}"#, &t)), "Expecting ARRAY node, got OBJECT");
        assert_eq!(s("[1, 'x']", &t), tuple(Some(CqlValue::Int(1)), text("x")));
        assert!(fails(s("1, 'x'", &t)).starts_with("Could not parse '1, 'x'' as JSON for tuple<int, text>"));
    }

    #[test]
    fn udts() {
        let u = udt_ab();
        let both = Ok(Some(udt_value(Some(CqlValue::Int(1)), text("x"))));
        assert_eq!(j(r#"{"a": 1, "b": "x"}"#, &u), both);
        assert_eq!(j(r#"{"b": "x", "a": "1"}"#, &u), both);
        assert_eq!(j(r#"[1, "x"]"#, &u), both);
        assert_eq!(j(r#"{"a": null, "b": "x"}"#, &u), Ok(Some(udt_value(None, text("x")))));
        assert_eq!(j("{}", &u), Ok(None));
        assert_eq!(j("[]", &u), Ok(None));
        assert_eq!(
            fails(j(r#"{"a": 1, "b": "x", "c": 2}"#, &u)),
            "JSON object does not match UDT definition: found 1 extraneous field: 'c'"
        );
        assert_eq!(
            fails(j(r#"{"a": 1, "c": 2, "d": 3}"#, &u)),
            "JSON object does not match UDT definition: found 2 extraneous fields: 'c', 'd'"
        );
        assert_eq!(
            fails(j(r#"{"a": 1}"#, &u)),
            "JSON object does not match UDT definition: found 1 missing field: 'b'"
        );
        assert_eq!(
            fails(j(r#"{"A": 1, "b": "x"}"#, &u)),
            "JSON object does not match UDT definition: found 1 extraneous field: 'A'"
        );
        assert_eq!(fails(j("[1]", &u)), "JSON array does not match UDT definition: expecting 2 elements, got 1");
        assert_eq!(fails(j("\"x\"", &u)), "Expecting OBJECT or ARRAY node, got STRING");
        assert_eq!(
            fails(j(r#"{"a": 1.5, "b": "x"}"#, &u)),
            "Cannot convert 1.5 to int without losing its fractional part"
        );
        // Whole JSON values arrive as their text, parsed leniently.
        assert_eq!(s(r#"{"a": 1, "b": "x"}"#, &u), both);
        assert_eq!(s("{a: 1, b: 'x'}", &u), both);
        assert!(fails(s("a=1", &u)).starts_with("Could not parse 'a=1' as JSON for ks.pair: "));
        let many: String = (0..12).map(|i| format!("\"f{i}\": 1,")).collect();
        let message = fails(j(&format!("{{{many} \"a\": 1, \"b\": \"x\"}}"), &u));
        assert!(
            message.starts_with("JSON object does not match UDT definition: found 12 extraneous fields: 'f0', 'f1'")
        );
        assert!(message.ends_with(" and 2 more"));
    }

    /// Converts a schema-typed value (Struct field, Avro datum) with default settings.
    fn t(v: &Typed, target: &ColumnType<'_>) -> Converted {
        convert(Datum::typed(v), target, &CodecSettings::default())
    }

    fn tx(s: &str) -> Typed {
        Typed::Text(s.into())
    }

    #[test]
    fn typed_primitives_convert_as_java_primitives() {
        // §3.10 C: numbers narrow exactly; D: booleans; G: bytes into blob only.
        assert_eq!(t(&Typed::Int(127), &n(NativeType::TinyInt)), Ok(Some(CqlValue::TinyInt(127))));
        assert_eq!(fails(t(&Typed::Int(128), &n(NativeType::TinyInt))), "Value 128 is out of range for tinyint");
        assert_eq!(t(&Typed::Int(1), &n(NativeType::Boolean)), Ok(Some(CqlValue::Boolean(true))));
        assert_eq!(t(&Typed::Int(90), &n(NativeType::Text)), Ok(text("90")));
        assert_eq!(t(&Typed::Float(f64::from(0.1f32)), &n(NativeType::Float)), Ok(Some(CqlValue::Float(0.1))));
        assert_eq!(t(&Typed::Int(1_000), &n(NativeType::Timestamp)), Ok(Some(CqlValue::Timestamp(CqlTimestamp(1000)))));
        assert_eq!(t(&Typed::Bool(true), &n(NativeType::Int)), Ok(Some(CqlValue::Int(1))));
        assert_eq!(t(&Typed::Bytes(vec![1, 2]), &n(NativeType::Blob)), Ok(Some(CqlValue::Blob(vec![1, 2]))));
        assert_eq!(fails(t(&Typed::Bytes(vec![1]), &n(NativeType::Text))), "Cannot convert bytes to text");
        assert_eq!(t(&tx("42"), &n(NativeType::Int)), Ok(Some(CqlValue::Int(42))));
        assert_eq!(t(&Typed::Null, &n(NativeType::Int)), Ok(None));
    }

    #[test]
    fn typed_decimals() {
        let dec = |s: &str| Typed::Decimal(s.to_string());
        assert_eq!(t(&dec("123.45"), &n(NativeType::Decimal)), decimal(12345, 2));
        assert_eq!(t(&dec("-0.010"), &n(NativeType::Decimal)), decimal(-10, 3));
        assert_eq!(t(&dec("42E+3"), &n(NativeType::Decimal)), decimal(42, -3));
        assert_eq!(t(&dec("12.00"), &n(NativeType::Int)), Ok(Some(CqlValue::Int(12))));
        assert_eq!(
            fails(t(&dec("12.50"), &n(NativeType::Int))),
            "Cannot convert 12.50 to int without losing its fractional part"
        );
        assert_eq!(t(&dec("0.5"), &n(NativeType::Double)), Ok(Some(CqlValue::Double(0.5))));
        assert_eq!(t(&dec("12.50"), &n(NativeType::Text)), Ok(text("12.50")));
        assert_eq!(fails(t(&dec("1.5"), &list(n(NativeType::Int)))), "Cannot convert a decimal to list<int>");
    }

    #[test]
    fn typed_dates_times_and_timestamps() {
        let day = Typed::Date(19_780);
        assert_eq!(t(&day, &n(NativeType::Date)), date(2024, 2, 27));
        assert_eq!(t(&Typed::Date(-1), &n(NativeType::Date)), date(1969, 12, 31));
        assert_eq!(t(&day, &n(NativeType::Text)), Ok(text("2024-02-27")));
        assert_eq!(t(&day, &n(NativeType::Timestamp)), ms("2024-02-27T00:00:00Z"));
        let paris = settings(None, None, None, Some("Europe/Paris"), None);
        assert_eq!(with(&paris, Datum::typed(&day), &n(NativeType::Timestamp)), ms("2024-02-26T23:00:00Z"));
        assert_eq!(fails(t(&day, &n(NativeType::Int))), "Cannot convert a date to int");
        assert_eq!(fails(t(&day, &n(NativeType::Time))), "Cannot convert a date to time");

        let at = Typed::Time(45_296_789_000_000);
        assert_eq!(t(&at, &n(NativeType::Time)), time(12, 34, 56, 789_000_000));
        assert_eq!(t(&at, &n(NativeType::Text)), Ok(text("12:34:56.789")));
        assert!(fails(t(&Typed::Time(86_400_000_000_000), &n(NativeType::Time))).contains("not a time of day"));
        assert_eq!(fails(t(&at, &n(NativeType::Timestamp))), "Cannot convert a time to timestamp");

        let ts = Typed::Timestamp(1_709_892_930_123_456);
        assert_eq!(t(&ts, &n(NativeType::Timestamp)), ms("2024-03-08T10:15:30.123Z"), "µs beyond the ms are dropped");
        assert_eq!(
            t(&Typed::Timestamp(-1), &n(NativeType::Timestamp)),
            Ok(Some(CqlValue::Timestamp(CqlTimestamp(-1))))
        );
        assert_eq!(t(&ts, &n(NativeType::Text)), Ok(text("2024-03-08T10:15:30.123456Z")));
        assert_eq!(t(&ts, &n(NativeType::Date)), date(2024, 3, 8));
        assert_eq!(t(&ts, &n(NativeType::Time)), time(10, 15, 30, 123_456_000));
        assert_eq!(with(&paris, Datum::typed(&ts), &n(NativeType::Time)), time(11, 15, 30, 123_456_000));
        let ms_ts = Typed::Timestamp(1_709_892_930_123_000);
        assert_eq!(t(&ms_ts, &n(NativeType::BigInt)), Ok(Some(CqlValue::BigInt(1_709_892_930_123))));
        assert!(fails(t(&ts, &n(NativeType::BigInt))).contains("not a whole number of MILLISECONDS"));
        let secs = settings(None, None, None, None, Some("SECONDS"));
        assert_eq!(
            with(&secs, Datum::typed(&Typed::Timestamp(1_000_000_000_000)), &n(NativeType::BigInt)),
            Ok(Some(CqlValue::BigInt(1_000_000)))
        );
        assert!(fails(t(&ms_ts, &n(NativeType::Int))).contains("out of range for int"));
        let Ok(Some(CqlValue::Timeuuid(u))) = t(&ms_ts, &n(NativeType::Timeuuid)) else { panic!() };
        let (secs, nanos) = Uuid::from(u).get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos), (1_709_892_930, 123_000_000));
        assert_eq!(fails(t(&ts, &n(NativeType::Boolean))), "Cannot convert a timestamp to boolean");
        assert!(fails(t(&Typed::Timestamp(i64::MAX), &n(NativeType::Text))).contains("out of range"));
    }

    #[test]
    fn typed_arrays_into_lists_sets_tuples_vectors_and_udts() {
        let arr = Typed::Array(vec![Typed::Int(2), Typed::Int(1), Typed::Int(2)]);
        let ints = |v: &[i32]| v.iter().map(|i| CqlValue::Int(*i)).collect::<Vec<_>>();
        assert_eq!(t(&arr, &list(n(NativeType::Int))), Ok(Some(CqlValue::List(ints(&[2, 1, 2])))));
        assert_eq!(t(&arr, &set(n(NativeType::Int))), Ok(Some(CqlValue::Set(ints(&[2, 1])))));
        assert_eq!(t(&Typed::Array(vec![]), &list(n(NativeType::Int))), Ok(Some(CqlValue::List(vec![]))));
        assert_eq!(
            fails(t(&Typed::Array(vec![Typed::Null]), &list(n(NativeType::Int)))),
            "Null elements are not allowed in a list"
        );
        assert_eq!(
            fails(t(&Typed::Array(vec![tx("x")]), &list(n(NativeType::Int)))),
            format!("Could not parse 'x'; {NOT_PARSED}")
        );
        let tup = ColumnType::Tuple(vec![n(NativeType::Int), n(NativeType::Text)]);
        let pair = Typed::Array(vec![Typed::Int(1), tx("x")]);
        assert_eq!(t(&pair, &tup), Ok(Some(CqlValue::Tuple(vec![Some(CqlValue::Int(1)), text("x")]))));
        assert_eq!(fails(t(&Typed::Array(vec![Typed::Int(1)]), &tup)), "Expecting 2 elements, got 1");
        assert_eq!(t(&Typed::Array(vec![]), &tup), Ok(None));
        assert_eq!(t(&pair, &udt_ab()), Ok(Some(udt_value(Some(CqlValue::Int(1)), text("x")))));
        assert_eq!(fails(t(&arr, &udt_ab())), "Expecting 2 fields, got 3");
        assert_eq!(t(&Typed::Array(vec![]), &udt_ab()), Ok(None));
        let v = ColumnType::Vector { typ: Box::new(n(NativeType::Float)), dimensions: 2 };
        let floats = Typed::Array(vec![Typed::Float(1.5), Typed::Float(2.5)]);
        assert_eq!(t(&floats, &v), Ok(Some(CqlValue::Vector(vec![CqlValue::Float(1.5), CqlValue::Float(2.5)]))));
        assert_eq!(fails(t(&arr, &v)), "Expecting 2 elements for vector<float, 2>, got 3");
        assert_eq!(fails(t(&arr, &n(NativeType::Text))), "Cannot convert an array to text");
        assert_eq!(
            fails(t(&arr, &map_of(n(NativeType::Int), n(NativeType::Int)))),
            "Cannot convert an array to map<int, int>"
        );
    }

    #[test]
    fn typed_maps_into_maps_and_udts() {
        let m = Typed::Map(vec![(tx("37"), tx("a")), (tx("038"), tx("b")), (tx("38"), tx("c"))]);
        assert_eq!(
            t(&m, &map_of(n(NativeType::Int), n(NativeType::Text))),
            Ok(Some(CqlValue::Map(vec![
                (CqlValue::Int(37), CqlValue::Text("a".into())),
                (CqlValue::Int(38), CqlValue::Text("c".into())),
            ])))
        );
        let typed_keys = Typed::Map(vec![(Typed::Int(1), Typed::Bool(true))]);
        assert_eq!(
            t(&typed_keys, &map_of(n(NativeType::BigInt), n(NativeType::Boolean))),
            Ok(Some(CqlValue::Map(vec![(CqlValue::BigInt(1), CqlValue::Boolean(true))])))
        );
        assert_eq!(
            fails(t(&Typed::Map(vec![(tx("k"), Typed::Null)]), &map_of(n(NativeType::Text), n(NativeType::Int)))),
            "Null map values are not allowed"
        );
        let as_udt = Typed::Map(vec![(tx("b"), tx("x")), (tx("a"), Typed::Int(1))]);
        assert_eq!(t(&as_udt, &udt_ab()), Ok(Some(udt_value(Some(CqlValue::Int(1)), text("x")))));
        assert_eq!(fails(t(&Typed::Map(vec![(tx("a"), Typed::Int(1))]), &udt_ab())), "Expecting 2 fields, got 1");
        assert_eq!(
            fails(t(&Typed::Map(vec![(tx("a"), Typed::Int(1)), (tx("c"), Typed::Int(1))]), &udt_ab())),
            "Field b in UDT pair not found in input map"
        );
        assert_eq!(t(&Typed::Map(vec![]), &udt_ab()), Ok(None));
        assert_eq!(fails(t(&as_udt, &list(n(NativeType::Text)))), "Cannot convert a map to list<text>");
    }

    #[test]
    fn structs_into_udts_only() {
        use super::typed::Struct;
        let st = |fields: Vec<(&str, Typed)>| {
            Typed::Struct(Struct { name: None, fields: fields.into_iter().map(|(n, v)| (n.into(), v)).collect() })
        };
        let ok = st(vec![("b", tx("x")), ("a", Typed::Int(1))]);
        assert_eq!(t(&ok, &udt_ab()), Ok(Some(udt_value(Some(CqlValue::Int(1)), text("x")))));
        let with_null = st(vec![("a", Typed::Null), ("b", tx("x"))]);
        assert_eq!(t(&with_null, &udt_ab()), Ok(Some(udt_value(None, text("x")))));
        assert_eq!(fails(t(&st(vec![("a", Typed::Int(1))]), &udt_ab())), "Expecting 2 fields, got 1");
        assert_eq!(
            fails(t(&st(vec![("a", Typed::Int(1)), ("c", tx("x"))]), &udt_ab())),
            "Field b in UDT pair not found in input struct"
        );
        assert_eq!(
            fails(t(&st(vec![("a", tx("one")), ("b", tx("x"))]), &udt_ab())),
            format!("Could not parse 'one'; {NOT_PARSED}")
        );
        assert_eq!(fails(t(&ok, &n(NativeType::Text))), "Cannot convert a struct to text");
        assert_eq!(
            fails(t(&ok, &map_of(n(NativeType::Text), n(NativeType::Text)))),
            "Cannot convert a struct to map<text, text>"
        );
        // Nested Structs become nested UDTs.
        let inner = udt_ab();
        let outer = ColumnType::UserDefinedType {
            frozen: true,
            definition: Arc::new(UserDefinedType {
                name: Cow::Borrowed("outer"),
                keyspace: Cow::Borrowed("ks"),
                field_types: vec![(Cow::Borrowed("p"), inner), (Cow::Borrowed("ps"), list(udt_ab()))],
            }),
        };
        let nested = st(vec![("p", ok.clone()), ("ps", Typed::Array(vec![ok.clone(), with_null]))]);
        let Ok(Some(CqlValue::UserDefinedType { fields, .. })) = t(&nested, &outer) else { panic!() };
        assert_eq!(fields[0].1, Some(udt_value(Some(CqlValue::Int(1)), text("x"))));
        assert_eq!(
            fields[1].1,
            Some(CqlValue::List(vec![udt_value(Some(CqlValue::Int(1)), text("x")), udt_value(None, text("x"))]))
        );
    }

    #[test]
    fn typed_nesting_is_bounded() {
        let mut v = Typed::Int(1);
        let mut target = n(NativeType::Int);
        for _ in 0..70 {
            v = Typed::Array(vec![v]);
            target = list(target);
        }
        assert!(fails(t(&v, &target)).contains("nested deeper than"));
    }

    #[test]
    fn vectors() {
        let v = ColumnType::Vector { typ: Box::new(n(NativeType::Float)), dimensions: 2 };
        let vector = Ok(Some(CqlValue::Vector(vec![CqlValue::Float(1.5), CqlValue::Float(2.5)])));
        assert_eq!(j("[1.5, 2.5]", &v), vector);
        assert_eq!(s("[1.5, 2.5]", &v), vector);
        assert_eq!(s("1.5, 2.5", &v), vector);
        assert_eq!(j("\"x\"", &v), Ok(None));
        assert_eq!(j(r#"{"a": 1}"#, &v), Ok(None));
        assert_eq!(fails(j("[1.5]", &v)), "Expecting 2 elements for vector<float, 2>, got 1");
        assert_eq!(fails(j("[1.5, null]", &v)), "Null elements are not allowed in a vector");
    }

    #[test]
    fn nesting_is_bounded() {
        let mut t = n(NativeType::Int);
        for _ in 0..70 {
            t = list(t);
        }
        let doc = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        assert_eq!(fails(j(&doc, &t)), "Value nested deeper than 64 levels");
        let mut ok = n(NativeType::Int);
        for _ in 0..60 {
            ok = list(ok);
        }
        let doc = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        assert!(j(&doc, &ok).is_ok());
    }

    #[test]
    fn long_inputs_are_cut_in_messages() {
        let long = "x".repeat(10_000);
        let message = fails(s(&long, &n(NativeType::Boolean)));
        assert!(message.len() < 300);
        assert!(message.ends_with("x…"));
        assert_eq!(excerpt("é".repeat(300).as_str()).chars().count(), 201);
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name(&map_of(n(NativeType::Text), set(n(NativeType::Uuid)))), "map<text, set<uuid>>");
        assert_eq!(type_name(&udt_ab()), "ks.pair");
    }

    fn every_native() -> Vec<ColumnType<'static>> {
        use NativeType::*;
        [
            Ascii, Boolean, Blob, Counter, Date, Decimal, Double, Duration, Float, Int, BigInt, Text, Timestamp, Inet,
            SmallInt, TinyInt, Time, Timeuuid, Uuid, Varint,
        ]
        .into_iter()
        .map(ColumnType::Native)
        .collect()
    }

    proptest! {
        #[test]
        fn any_i32_into_int(i in any::<i32>()) {
            let t = n(NativeType::Int);
            let expected = Ok(Some(CqlValue::Int(i)));
            prop_assert_eq!(j(&i.to_string(), &t), expected.clone());
            prop_assert_eq!(s(&i.to_string(), &t), expected.clone());
            prop_assert_eq!(d(Datum::Int(i64::from(i)), &t), expected);
        }

        #[test]
        fn any_i64_into_bigint_and_varint(i in any::<i64>()) {
            prop_assert_eq!(s(&i.to_string(), &n(NativeType::BigInt)), Ok(Some(CqlValue::BigInt(i))));
            let v = CqlVarint::from_signed_bytes_be(BigInt::from(i).to_signed_bytes_be());
            prop_assert_eq!(j(&i.to_string(), &n(NativeType::Varint)), Ok(Some(CqlValue::Varint(v))));
        }

        #[test]
        fn any_finite_f64_into_double(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let t = n(NativeType::Double);
            prop_assert_eq!(d(Datum::Float(x), &t), Ok(Some(CqlValue::Double(x))));
            let shown = number::java_double_string(x);
            prop_assert_eq!(s(&shown, &t), Ok(Some(CqlValue::Double(x))));
            prop_assert_eq!(j(&format!("{x:e}"), &t), Ok(Some(CqlValue::Double(x))));
        }

        #[test]
        fn any_finite_f32_into_float(x in any::<f32>().prop_filter("finite", |x| x.is_finite())) {
            let t = n(NativeType::Float);
            prop_assert_eq!(d(Datum::Float(f64::from(x)), &t), Ok(Some(CqlValue::Float(x))));
            prop_assert_eq!(j(&format!("{x:e}"), &t), Ok(Some(CqlValue::Float(x))));
        }

        #[test]
        fn random_uuids(bytes in any::<[u8; 16]>()) {
            let u = uuid::Builder::from_random_bytes(bytes).into_uuid();
            prop_assert_eq!(s(&u.to_string(), &n(NativeType::Uuid)), Ok(Some(CqlValue::Uuid(u))));
            let t = uuid::Builder::from_gregorian_timestamp(u64::from_be_bytes(bytes[..8].try_into().unwrap()) >> 4, 7, &[1, 2, 3, 4, 5, 6]).into_uuid();
            prop_assert_eq!(
                j(&format!("\"{t}\""), &n(NativeType::Timeuuid)),
                Ok(Some(CqlValue::Timeuuid(CqlTimeuuid::from(t))))
            );
        }

        #[test]
        fn timestamps_round_trip(millis in -62_135_596_800_000i64..253_402_300_799_999) {
            let instant = DateTime::from_timestamp_millis(millis).unwrap();
            let expected = Ok(Some(CqlValue::Timestamp(CqlTimestamp(millis))));
            let ts = n(NativeType::Timestamp);
            prop_assert_eq!(s(&instant.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), &ts), expected.clone());
            let paris = settings(Some("yyyy-MM-dd HH:mm:ss.SSS XXXXX"), None, None, None, None);
            let local = instant.with_timezone(&chrono_tz::Europe::Paris).format("%Y-%m-%d %H:%M:%S%.3f %::z").to_string();
            prop_assert_eq!(with(&paris, Datum::Text(&local), &ts), expected.clone());
            prop_assert_eq!(d(Datum::Int(millis), &ts), expected);
        }

        #[test]
        fn dates_round_trip(days in -719_162i64..2_932_896) {
            let date = NaiveDate::default() + chrono::Duration::days(days);
            let expected = Ok(Some(CqlValue::Date(CqlDate((days + (1 << 31)) as u32))));
            prop_assert_eq!(s(&date.format("%Y-%m-%d").to_string(), &n(NativeType::Date)), expected);
        }

        #[test]
        fn decimals_keep_scale(unscaled in any::<i64>(), scale in 0i32..20) {
            let text = BigDecimal::new(BigInt::from(unscaled), i64::from(scale)).to_string();
            let got = match j(&text, &n(NativeType::Decimal)) {
                Ok(Some(CqlValue::Decimal(d))) => BigDecimal::from(d),
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            prop_assert_eq!(got.as_bigint_and_exponent(), (BigInt::from(unscaled), i64::from(scale)));
        }

        #[test]
        fn never_panics_on_text(input in "\\PC{0,40}") {
            let s8 = CodecSettings::default();
            for t in every_native().iter().chain([
                list(n(NativeType::Int)),
                map_of(n(NativeType::Text), n(NativeType::Double)),
                udt_ab(),
                ColumnType::Tuple(vec![n(NativeType::Int), n(NativeType::Text)]),
            ].iter()) {
                let _ = convert(Datum::Text(&input), t, &s8);
                let _ = convert(Datum::Json(&Value::String(input.clone())), t, &s8);
            }
        }

        #[test]
        fn never_panics_on_primitives(i in any::<i64>(), x in any::<f64>(), b in any::<bool>(), bytes in any::<Vec<u8>>()) {
            let units = ["NANOSECONDS", "DAYS"];
            for unit in units {
                let st = settings(None, Some("UNITS_SINCE_EPOCH"), Some("UNITS_SINCE_EPOCH"), None, Some(unit));
                for t in every_native() {
                    for datum in [Datum::Int(i), Datum::Float(x), Datum::Bool(b), Datum::Bytes(&bytes)] {
                        let _ = convert(datum, &t, &st);
                    }
                }
            }
        }
    }

    /// A UDT column's [`Cell`] is the value `convert` makes, written byte for byte as the driver
    /// writes that value, whatever order the input's fields come in.
    #[test]
    fn udt_cells_are_written_as_the_driver_writes_udt_values() {
        let u = udt_ab();
        let settings = CodecSettings::default();
        let written = |v: &dyn SerializeValue, t: &ColumnType<'_>| {
            let mut buf = Vec::new();
            let written = v.serialize(t, CellWriter::new(&mut buf)).map(|_| ());
            written.map(|()| buf)
        };
        let reordered = Typed::Struct(typed::Struct {
            name: Some("ks.pair".into()),
            fields: vec![("b".into(), tx("x")), ("a".into(), Typed::Int(1))],
        });
        let object = json(r#"{"b": null, "a": 2}"#);
        let int = |i| Some(Cell::Value(CqlValue::Int(i)));
        let inputs = [
            (Datum::typed(&reordered), vec![int(1), Some(Cell::Text("x"))]),
            (Datum::Json(&object), vec![int(2), None]),
            // JSON text, parsed for the conversion: its values are not borrowed.
            (Datum::Text(r#"{"a": 3, "b": "y"}"#), vec![int(3), Some(Cell::Value(CqlValue::Text("y".into())))]),
        ];
        for (datum, fields) in inputs {
            let cell = convert_cell(datum, &u, &settings).unwrap().unwrap();
            let Cell::Udt { fields: got, .. } = &cell else { panic!("{cell:?} is not a UDT cell") };
            assert_eq!(got, &fields, "fields in the type's order");
            let value = convert(datum, &u, &settings).unwrap().unwrap();
            assert_eq!(cell.to_cql(), value);
            assert_eq!(written(&cell, &u).unwrap(), written(&value, &u).unwrap());
        }
        assert_eq!(convert_cell(Datum::Json(&json("{}")), &u, &settings), Ok(None));
        let t = n(NativeType::Text);
        assert_eq!(convert_cell(Datum::Text("abc"), &t, &settings), Ok(Some(Cell::Text("abc"))), "borrowed");
        assert_eq!(convert_cell(Datum::Int(5), &t, &settings), Ok(Some(Cell::Value(CqlValue::Text("5".into())))));
        let written_text = written(&Cell::Text("abc"), &t).unwrap();
        assert_eq!(written_text, written(&CqlValue::Text("abc".into()), &t).unwrap());
        assert!(written(&Cell::Text("abc"), &n(NativeType::Int)).is_err());
        assert_eq!(
            convert_cell(Datum::Json(&json("7")), &n(NativeType::Int), &settings),
            Ok(Some(Cell::Value(CqlValue::Int(7))))
        );
        let cell = convert_cell(Datum::typed(&reordered), &u, &settings).unwrap().unwrap();
        let other = ColumnType::UserDefinedType {
            frozen: true,
            definition: Arc::new(UserDefinedType {
                name: Cow::Borrowed("other"),
                keyspace: Cow::Borrowed("ks"),
                field_types: vec![(Cow::Borrowed("a"), n(NativeType::Int)), (Cow::Borrowed("b"), n(NativeType::Text))],
            }),
        };
        let refused = written(&cell, &other).unwrap_err().to_string();
        assert!(refused.contains("UDT ks.pair") && refused.contains("ks.other"), "{refused}");
        assert!(written(&cell, &n(NativeType::Text)).is_err());
    }
}
