//! Values that come with a schema: Kafka Connect Structs (JsonConverter with `schemas.enable`)
//! and Avro datums (AvroConverter). Both decode into [`Typed`], so the mapping and the
//! conversions see one model whatever the wire format.
//!
//! The model keeps what the schema says about a value and nothing more: integers of any width
//! are `Int` (narrowing into a column is checked exactly later), `float32` is widened exactly into
//! `Float`, enums are `Text`, fixed is `Bytes`. The logical types that CQL has a type for keep
//! their meaning (spec "Where we deliberately differ" §8): `Decimal` (exact text with its scale),
//! `Date`, `Time` and `Timestamp`.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveTime};

/// One value of a schema-typed record.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Null,
    Bool(bool),
    /// Connect INT8/16/32/64, Avro int and long.
    Int(i64),
    /// Connect FLOAT32 (widened exactly) and FLOAT64, Avro float and double.
    Float(f64),
    /// Connect STRING, Avro string and enum symbols (up to 24 bytes kept inline).
    Text(Name),
    /// Connect BYTES, Avro bytes and fixed.
    Bytes(Vec<u8>),
    /// An exact decimal as plain text with its scale kept (`-12.50`, `1E+3` for a negative
    /// scale): Connect `Decimal`, Avro `decimal`.
    Decimal(String),
    /// Days since 1970-01-01: Connect `Date`, Avro `date`.
    Date(i32),
    /// Nanoseconds since midnight: Connect `Time`, Avro `time-millis` / `time-micros`.
    Time(i64),
    /// Microseconds since 1970-01-01T00:00:00Z: Connect `Timestamp`, Avro `timestamp-millis` /
    /// `timestamp-micros` (and `timestamp-nanos`, truncated to microseconds).
    Timestamp(i64),
    Array(Vec<Typed>),
    /// Entries in their order on the wire; keys are typed (Avro keys are always text).
    Map(Vec<(Typed, Typed)>),
    Struct(Struct),
}

/// A field or schema name of a decoded record: names up to 24 bytes are kept inline, so a
/// record's names cost no allocation.
pub type Name = compact_str::CompactString;

/// A Connect Struct or an Avro record: named fields in schema order. Every field of the schema is
/// present (a missing or null value is [`Typed::Null`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Struct {
    /// The schema's name, when it has one (for messages).
    pub name: Option<Name>,
    pub fields: Vec<(Name, Typed)>,
}

impl Struct {
    pub fn get(&self, name: &str) -> Option<&Typed> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Field `name`, looked for at `index` first (where a type of the same fields in the same
    /// order has it).
    pub fn get_at(&self, index: usize, name: &str) -> Option<&Typed> {
        match self.fields.get(index) {
            Some((n, v)) if n == name => Some(v),
            _ => self.get(name),
        }
    }
}

impl Typed {
    /// A named member: a Struct field, or a Map entry whose key is that text.
    pub fn member(&self, name: &str) -> Option<&Typed> {
        match self {
            Typed::Struct(s) => s.get(name),
            Typed::Map(entries) => {
                entries.iter().find(|(k, _)| matches!(k, Typed::Text(t) if t == name)).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// Whether the value exposes named members (a Struct with fields, a Map with text keys).
    pub fn has_members(&self) -> bool {
        match self {
            Typed::Struct(s) => !s.fields.is_empty(),
            Typed::Map(entries) => entries.iter().any(|(k, _)| matches!(k, Typed::Text(_))),
            _ => false,
        }
    }

    /// How the value is named in messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Typed::Null => "null",
            Typed::Bool(_) => "a boolean",
            Typed::Int(_) => "an integer",
            Typed::Float(_) => "a floating-point number",
            Typed::Text(_) => "text",
            Typed::Bytes(_) => "bytes",
            Typed::Decimal(_) => "a decimal",
            Typed::Date(_) => "a date",
            Typed::Time(_) => "a time",
            Typed::Timestamp(_) => "a timestamp",
            Typed::Array(_) => "an array",
            Typed::Map(_) => "a map",
            Typed::Struct(_) => "a struct",
        }
    }
}

/// `unscaled × 10^-scale` as plain decimal text (`BigDecimal.toPlainString` for scale ≥ 0,
/// `<digits>E+<n>` for a negative scale, which keeps the scale when read back).
pub fn decimal_text(unscaled: &num_bigint::BigInt, scale: i32) -> String {
    digits_decimal_text(unscaled.sign() == num_bigint::Sign::Minus, &unscaled.magnitude().to_string(), scale)
}

/// [`decimal_text`] of an unscaled value given as its decimal digits (no leading zeros, `0` for
/// zero) and its sign.
pub fn digits_decimal_text(negative: bool, digits: &str, scale: i32) -> String {
    let mut out = String::with_capacity(digits.len() + 3);
    if negative {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(digits);
        if scale < 0 {
            let _ = write!(out, "E+{}", -i64::from(scale));
        }
        return out;
    }
    // Java's BigDecimal.toString: plain notation down to an adjusted exponent of -6, scientific
    // below. The text stays as long as the digits whatever the scale (a record's schema can carry
    // any int32 scale; writing 2^31 zeros would exhaust memory).
    let adjusted = i64::from(scale.saturating_neg()) + digits.len() as i64 - 1;
    if adjusted < -6 {
        let (first, rest) = digits.split_at(digits.len().min(1));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let _ = write!(out, "E{adjusted}");
        return out;
    }
    let scale = scale.unsigned_abs() as usize;
    if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    }
    out
}

/// ISO-8601 `2024-02-27` for days since the epoch; `None` out of chrono's range.
pub fn date_text(days: i32) -> Option<String> {
    let epoch = DateTime::UNIX_EPOCH.date_naive();
    let date: NaiveDate = epoch.checked_add_signed(chrono::Duration::try_days(i64::from(days))?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// ISO-8601 `12:34:56.789` (fraction digits as needed) for nanoseconds since midnight.
pub fn time_text(nanos: i64) -> Option<String> {
    let secs = u32::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, sub)?;
    Some(t.format("%H:%M:%S%.f").to_string())
}

/// ISO-8601 `2024-03-08T10:15:30.123Z` (fraction digits as needed) for µs since the epoch.
pub fn timestamp_text(micros: i64) -> Option<String> {
    let t = DateTime::from_timestamp_micros(micros)?;
    Some(t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    #[test]
    fn decimal_texts_keep_the_scale() {
        let d = |u: i64, s: i32| decimal_text(&BigInt::from(u), s);
        assert_eq!(d(1250, 2), "12.50");
        assert_eq!(d(-1250, 2), "-12.50");
        assert_eq!(d(5, 3), "0.005");
        assert_eq!(d(-5, 3), "-0.005");
        assert_eq!(d(0, 2), "0.00");
        assert_eq!(d(42, 0), "42");
        assert_eq!(d(42, -3), "42E+3");
        assert_eq!(d(-42, -3), "-42E+3");
        // Java's BigDecimal.toString switches to scientific notation below an adjusted exponent
        // of -6, so a huge scale never expands into zeros.
        assert_eq!(d(5, 6), "0.000005");
        assert_eq!(d(5, 7), "5E-7");
        assert_eq!(d(-1234, 12), "-1.234E-9");
        assert_eq!(d(0, 8), "0E-8");
        let huge = d(7, i32::MAX);
        assert_eq!(huge, format!("7E-{}", i32::MAX));
        assert_eq!(d(1, i32::MIN), format!("1E+{}", -i64::from(i32::MIN)));
    }

    #[test]
    fn temporal_texts() {
        assert_eq!(date_text(19_780).as_deref(), Some("2024-02-27"));
        assert_eq!(date_text(-1).as_deref(), Some("1969-12-31"));
        assert_eq!(date_text(i32::MAX), None);
        assert_eq!(time_text(45_296_789_000_000).as_deref(), Some("12:34:56.789"));
        assert_eq!(time_text(0).as_deref(), Some("00:00:00"));
        assert_eq!(time_text(86_400_000_000_000), None);
        assert_eq!(time_text(-1), None);
        assert_eq!(timestamp_text(1_709_892_930_123_000).as_deref(), Some("2024-03-08T10:15:30.123Z"));
        assert_eq!(timestamp_text(1_709_892_930_123_456).as_deref(), Some("2024-03-08T10:15:30.123456Z"));
        assert_eq!(timestamp_text(i64::MIN), None);
    }

    #[test]
    fn members_of_structs_and_text_keyed_maps() {
        let s = Typed::Struct(Struct {
            name: Some("R".into()),
            fields: vec![("a".into(), Typed::Int(1)), ("b".into(), Typed::Null)],
        });
        assert_eq!(s.member("a"), Some(&Typed::Int(1)));
        assert_eq!(s.member("b"), Some(&Typed::Null));
        assert_eq!(s.member("c"), None);
        assert!(s.has_members());
        let m = Typed::Map(vec![(Typed::Text("k".into()), Typed::Bool(true)), (Typed::Int(3), Typed::Null)]);
        assert_eq!(m.member("k"), Some(&Typed::Bool(true)));
        assert_eq!(m.member("3"), None);
        assert!(m.has_members());
        assert!(!Typed::Map(vec![(Typed::Int(1), Typed::Null)]).has_members());
        assert!(!Typed::Struct(Struct::default()).has_members());
        assert!(!Typed::Int(1).has_members());
    }
}
