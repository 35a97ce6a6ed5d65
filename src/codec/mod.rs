//! Kafka bytes → typed values → CQL values.
//!
//! [`record`] turns key and value bytes, and [`header`] header bytes, into [`record::Data`]
//! according to the worker's converters; [`convert`] turns one [`Datum`] into a `CqlValue` of a
//! column's type. Schema-typed formats ([`connect_json`], [`avro`], [`protobuf`],
//! [`json_schema`]) decode into the [`typed`] model.
//!
//! Everything here is pure except [`registry`], the schema-registry client that the Avro,
//! Protobuf and JSON Schema converters need (HTTP, a per-id schema cache, retries while the
//! registry is down).

pub mod avro;
pub mod connect_json;
pub mod convert;
mod failure;
pub mod header;
pub mod json_object;
pub mod json_schema;
pub mod protobuf;
pub mod record;
pub mod registry;
pub mod temporal;
pub mod typed;

use typed::Typed;

/// One input value as the converters deliver it, borrowed from the decoded record.
#[derive(Debug, Clone, Copy)]
pub enum Datum<'a> {
    /// No value (JSON null, a null field, an absent Kafka key or value).
    Null,
    /// A JSON node: a field of a JSON object value, or a whole schemaless JSON value.
    Json(&'a serde_json::Value),
    /// A JSON string node read in place: its content (what `Json(Value::String(..))` holds).
    JsonStr(&'a str),
    /// A JSON number node read in place, as written (what `Json(Value::Number(..))` holds).
    JsonNum(&'a str),
    /// A string: StringConverter key/value that is not a JSON object, a string header.
    Text(&'a str),
    /// Raw bytes (ByteArrayConverter, a bytes header).
    Bytes(&'a [u8]),
    /// A boolean primitive.
    Bool(bool),
    /// An integral primitive.
    Int(i64),
    /// A floating-point primitive.
    Float(f64),
    /// A schema-typed value that no primitive above carries: a Struct, an array, a map, or a
    /// logical type (decimal, date, time, timestamp). Built by [`Datum::typed`].
    Typed(&'a Typed),
}

impl<'a> Datum<'a> {
    /// A schema-typed value as a datum: primitives become the primitive variants (so they
    /// convert exactly as the reference converts Java primitives, spec §3.10 C–G), the rest
    /// stays [`Datum::Typed`].
    pub fn typed(v: &'a Typed) -> Datum<'a> {
        match v {
            Typed::Null => Datum::Null,
            Typed::Bool(b) => Datum::Bool(*b),
            Typed::Int(i) => Datum::Int(*i),
            Typed::Float(x) => Datum::Float(*x),
            Typed::Text(s) => Datum::Text(s),
            Typed::Bytes(b) => Datum::Bytes(b),
            other => Datum::Typed(other),
        }
    }
}

/// `java.util.concurrent.TimeUnit` names, as the DataStax settings spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeUnit {
    Nanoseconds,
    Microseconds,
    #[default]
    Milliseconds,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    /// The accepted spellings (case-sensitive, as Java's `TimeUnit.valueOf`).
    pub const NAMES: [&'static str; 7] =
        ["NANOSECONDS", "MICROSECONDS", "MILLISECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS"];

    pub fn parse(s: &str) -> Option<TimeUnit> {
        Some(match s {
            "NANOSECONDS" => TimeUnit::Nanoseconds,
            "MICROSECONDS" => TimeUnit::Microseconds,
            "MILLISECONDS" => TimeUnit::Milliseconds,
            "SECONDS" => TimeUnit::Seconds,
            "MINUTES" => TimeUnit::Minutes,
            "HOURS" => TimeUnit::Hours,
            "DAYS" => TimeUnit::Days,
            _ => return None,
        })
    }

    /// Nanoseconds in one unit.
    pub fn nanos(self) -> i128 {
        match self {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
            TimeUnit::Seconds => 1_000_000_000,
            TimeUnit::Minutes => 60_000_000_000,
            TimeUnit::Hours => 3_600_000_000_000,
            TimeUnit::Days => 86_400_000_000_000,
        }
    }

    /// Converts `amount` of this unit into `to`, truncating toward zero like
    /// `TimeUnit.convert`; `None` when the result does not fit in an i64.
    pub fn convert(self, amount: i64, to: TimeUnit) -> Option<i64> {
        let n = (amount as i128) * self.nanos() / to.nanos();
        i64::try_from(n).ok()
    }
}
