//! Kafka bytes → typed values → CQL values. No I/O.
//!
//! [`record`] turns key, value and header bytes into [`record::Data`] according to the worker's
//! converters; [`convert`] turns one [`Datum`] into a `CqlValue` of a column's type.

pub mod convert;
pub mod record;
pub mod temporal;

/// One input value as the converters deliver it, borrowed from the decoded record.
#[derive(Debug, Clone, Copy)]
pub enum Datum<'a> {
    /// No value (JSON null, a null field, an absent Kafka key or value).
    Null,
    /// A JSON node: a field of a JSON object value, or a whole schemaless JSON value.
    Json(&'a serde_json::Value),
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
