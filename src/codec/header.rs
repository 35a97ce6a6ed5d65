//! Header bytes → [`Data`], the way Kafka Connect's `header.converter` reads them (the worker's,
//! or the connector's own, which wins).
//!
//! The default, `org.apache.kafka.connect.storage.SimpleHeaderConverter`, reads a header's UTF-8
//! text with the rules of Connect's `Values.parseString` ([`parse_text`]): `true`/`false`, `null`,
//! whole numbers as the smallest of int8…int64 that holds them, other numbers as floating point
//! (or a decimal when no double holds them), `[…]` arrays and `{…}` maps of such values (strings in
//! them quoted), ISO-8601 dates, times and timestamps, and any other text as itself. Bytes that
//! are not UTF-8 stay bytes. The other header converters are the record converters that Connect
//! also accepts as header converters (`StringConverter`, `JsonConverter`, `ByteArrayConverter` and
//! the number converters), read exactly as a key or value would be.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime, Timelike};

use super::record::{Data, DecodeError};
use super::typed::{Typed, digits_decimal_text};
use crate::config::worker::SUPPORTED_CONVERTERS;
use crate::config::{ConverterKind, Properties, invalid};

/// The setting that names the header converter, in the worker file or a connector's.
pub const KEY: &str = "header.converter";

const SIMPLE: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// How header bytes become values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HeaderConverter {
    /// `SimpleHeaderConverter`: text parsed by Connect's `Values.parseString` rules.
    #[default]
    Simple,
    /// A record converter used for headers (never one that needs a schema registry).
    Record(ConverterKind),
}

impl HeaderConverter {
    /// The classes `header.converter` accepts.
    pub fn supported() -> Vec<&'static str> {
        std::iter::once(SIMPLE)
            .chain(SUPPORTED_CONVERTERS.iter().copied().filter(|c| !c.starts_with("io.confluent.")))
            .collect()
    }

    /// `header.converter` and its `header.converter.*` settings; `None` when not set or invalid
    /// (the problem is pushed).
    pub fn from_settings(props: &Properties, problems: &mut Vec<String>) -> Option<HeaderConverter> {
        let class = props.get(KEY)?.trim();
        if class == SIMPLE {
            return Some(HeaderConverter::Simple);
        }
        let supported = HeaderConverter::supported();
        if !supported.contains(&class) {
            problems.push(invalid(
                KEY,
                class,
                &format!("unsupported header converter class; supported: {}", supported.join(", ")),
            ));
            return None;
        }
        ConverterKind::from_settings(props, KEY, problems).map(HeaderConverter::Record)
    }

    /// One header's value.
    pub fn decode(&self, bytes: Option<&[u8]>) -> Result<Data, DecodeError> {
        match self {
            HeaderConverter::Record(kind) => Data::decode(kind, bytes),
            HeaderConverter::Simple => Ok(match bytes {
                None => Data::Null,
                Some(b) => match std::str::from_utf8(b) {
                    Ok(text) => into_data(parse_text(text)),
                    Err(_) => Data::Bytes(b.to_vec()),
                },
            }),
        }
    }
}

/// A record's headers, decoded in order; `Err` names the header that could not be.
pub fn decode_headers<'a>(
    converter: &HeaderConverter,
    headers: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
) -> Result<Vec<(&'a str, Data)>, (String, DecodeError)> {
    headers
        .into_iter()
        .map(|(name, bytes)| match converter.decode(bytes) {
            Ok(d) => Ok((name, d)),
            Err(e) => Err((name.to_string(), e)),
        })
        .collect()
}

fn into_data(t: Typed) -> Data {
    match t {
        Typed::Null => Data::Null,
        Typed::Bool(b) => Data::Bool(b),
        Typed::Int(i) => Data::Int(i),
        Typed::Float(x) => Data::Float(x),
        Typed::Text(s) => Data::Text(s),
        Typed::Bytes(b) => Data::Bytes(b),
        other => Data::Typed(other),
    }
}

/// Nesting of arrays and maps beyond this reads the whole text as text.
const MAX_DEPTH: usize = 100;

/// Connect's `Values.parseString`: text → a typed value.
///
/// Where Connect's parser stops early and drops the rest (`12:30` is the number 12 there, `[1]x`
/// the array), the whole text is text here.
pub fn parse_text(text: &str) -> Typed {
    if text.is_empty() {
        return Typed::Text(Default::default());
    }
    let mut p = Parser { tokens: Tokens::new(text), depth: 0 };
    match p.parse(false) {
        Ok(v) if p.tokens.rest_is_blank() => v.map_or(Typed::Null, |v| v.value),
        _ => Typed::Text(text.into()),
    }
}

/// A parsed value and its Connect schema type, which decides how the elements of an array (and
/// the keys and values of a map) are aligned.
#[derive(Debug, Clone, PartialEq)]
struct Val {
    kind: Kind,
    value: Typed,
}

/// Connect schema types the parser produces; the logical ones stand for their base type in
/// [`merge`] and keep their meaning in [`align`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float64,
    String,
    Decimal,
    Date,
    Time,
    Timestamp,
    Array,
    Map,
}

impl Kind {
    fn base(self) -> Kind {
        match self {
            Kind::Date | Kind::Time => Kind::Int32,
            Kind::Timestamp => Kind::Int64,
            other => other,
        }
    }
}

/// Not parseable as an array or map element: the enclosing text is read as text.
#[derive(Debug)]
struct NotParsed;

type Parsed<T> = Result<T, NotParsed>;

/// Connect's `Values.Parser`: tokens split at unescaped `: , { } [ ] "` (each of which is a token
/// itself), with a one-token look-ahead that skips blank tokens.
struct Tokens<'s> {
    text: &'s str,
    pos: usize,
    /// The look-ahead token, as a byte range ending at `pos`.
    peeked: Option<(usize, usize)>,
}

/// `String.trim()`: drops leading and trailing characters up to U+0020.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn is_blank(s: &str) -> bool {
    java_trim(s).is_empty()
}

impl<'s> Tokens<'s> {
    fn new(text: &'s str) -> Tokens<'s> {
        Tokens { text, pos: 0, peeked: None }
    }

    fn slice(&self, (start, end): (usize, usize)) -> &'s str {
        self.text.get(start..end).unwrap_or("")
    }

    fn mark(&self) -> usize {
        self.peeked.map_or(self.pos, |(start, _)| start)
    }

    fn rewind_to(&mut self, position: usize) {
        self.pos = position;
        self.peeked = None;
    }

    fn can_consume_next(&self) -> bool {
        self.pos < self.text.len()
    }

    fn has_next(&self) -> bool {
        self.peeked.is_some() || self.can_consume_next()
    }

    fn consume_next(&mut self) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut escaped = false;
        while let Some(&c) = bytes.get(self.pos) {
            match c {
                b'\\' => escaped = !escaped,
                b':' | b',' | b'{' | b'}' | b'[' | b']' | b'"' if !escaped => {
                    if start < self.pos {
                        return (start, self.pos);
                    }
                    self.pos += 1;
                    return (start, start + 1);
                }
                _ => escaped = false,
            }
            self.pos += 1;
        }
        (start, self.pos)
    }

    fn next(&mut self) -> &'s str {
        let token = match self.peeked.take() {
            Some(t) => t,
            None => self.consume_next(),
        };
        self.slice(token)
    }

    /// The text of the next `n` tokens, or `None` (and nothing consumed) when there are fewer.
    fn next_n(&mut self, n: usize) -> Option<&'s str> {
        let start = self.mark();
        for _ in 0..n {
            if !self.has_next() {
                self.rewind_to(start);
                return None;
            }
            self.next();
        }
        self.text.get(start..self.pos)
    }

    fn can_consume(&mut self, expected: &str) -> bool {
        if self.is_next(expected) {
            self.peeked = None;
            return true;
        }
        false
    }

    fn is_next(&mut self, expected: &str) -> bool {
        let mut token = match self.peeked {
            Some(t) => t,
            None if !self.has_next() => return false,
            None => self.consume_next(),
        };
        while is_blank(self.slice(token)) && self.can_consume_next() {
            token = self.consume_next();
        }
        self.peeked = Some(token);
        java_trim(self.slice(token)) == expected
    }

    /// Whether only blank tokens are left.
    fn rest_is_blank(&mut self) -> bool {
        while self.has_next() {
            if !is_blank(self.next()) {
                return false;
            }
        }
        true
    }
}

struct Parser<'s> {
    tokens: Tokens<'s>,
    depth: usize,
}

impl Parser<'_> {
    /// `ValueParser.parse`: `Ok(None)` is null.
    fn parse(&mut self, embedded: bool) -> Parsed<Option<Val>> {
        if !self.tokens.has_next() {
            return Ok(None);
        }
        if embedded && self.tokens.can_consume("\"") {
            return Ok(Some(self.quoted()));
        }
        if self.single_token_literal(embedded, "null") {
            return Ok(None);
        }
        for (literal, b) in [("true", true), ("false", false)] {
            if self.single_token_literal(embedded, literal) {
                return Ok(Some(Val { kind: Kind::Boolean, value: Typed::Bool(b) }));
            }
        }
        let start = self.tokens.mark();
        let nested = if self.tokens.can_consume("[") {
            Some(self.nested(Parser::array))
        } else if self.tokens.can_consume("{") {
            Some(self.nested(Parser::map))
        } else {
            None
        };
        match nested {
            Some(Ok(v)) => return Ok(Some(v)),
            // Not an array or a map after all: read again from its start.
            Some(Err(NotParsed)) => self.tokens.rewind_to(start),
            None => {}
        }
        let token = self.tokens.next();
        if is_blank(token) {
            return Ok(Some(Val { kind: Kind::String, value: Typed::Text(token.into()) }));
        }
        self.next_token(embedded, java_trim(token))
    }

    fn nested(&mut self, parse: fn(&mut Self) -> Parsed<Val>) -> Parsed<Val> {
        if self.depth >= MAX_DEPTH {
            return Err(NotParsed);
        }
        self.depth += 1;
        let v = parse(self);
        self.depth -= 1;
        v
    }

    fn single_token_literal(&mut self, embedded: bool, literal: &str) -> bool {
        let start = self.tokens.mark();
        if self.tokens.can_consume(literal) && (embedded || !self.tokens.has_next()) {
            return true;
        }
        self.tokens.rewind_to(start);
        false
    }

    fn next_token(&mut self, embedded: bool, token: &str) -> Parsed<Option<Val>> {
        let first = token.as_bytes().first().copied().unwrap_or(b' ');
        if first.is_ascii_digit() {
            // A time or timestamp is split at its colons into five tokens.
            let position = self.tokens.mark();
            if let Some(rest) = self.tokens.next_n(4)
                && let Some(v) = temporal(&format!("{token}{rest}"))
            {
                return Ok(Some(v));
            }
            self.tokens.rewind_to(position);
            if let Some(v) = temporal(token) {
                return Ok(Some(v));
            }
        }
        if (first.is_ascii_digit() || first == b'+' || first == b'-')
            && let Some(v) = number(token)
        {
            return Ok(Some(v));
        }
        if embedded {
            return Err(NotParsed);
        }
        Ok(Some(Val { kind: Kind::String, value: Typed::Text(self.tokens.text.into()) }))
    }

    /// A string in quotes (inside an array or map), up to the next quote or the end; a date,
    /// time or timestamp in quotes is that.
    fn quoted(&mut self) -> Val {
        let mut content = String::new();
        while self.tokens.has_next() {
            if self.tokens.can_consume("\"") {
                break;
            }
            content.push_str(self.tokens.next());
        }
        temporal(&content).unwrap_or(Val { kind: Kind::String, value: Typed::Text(content.into()) })
    }

    fn array(&mut self) -> Parsed<Val> {
        let mut elements: Vec<Option<Val>> = Vec::new();
        let mut common = Merger::default();
        while self.tokens.has_next() {
            if self.tokens.can_consume("]") {
                let items = match common.kind() {
                    Some(kind) => elements.into_iter().map(|e| align(kind, e)).collect::<Parsed<_>>()?,
                    None => elements.into_iter().map(|e| e.map_or(Typed::Null, |v| v.value)).collect(),
                };
                return Ok(Val { kind: Kind::Array, value: Typed::Array(items) });
            }
            if self.tokens.can_consume(",") {
                return Err(NotParsed);
            }
            let element = self.parse(true)?;
            common.merge(element.as_ref());
            elements.push(element);
            let position = self.tokens.mark();
            if self.tokens.can_consume("]") {
                self.tokens.rewind_to(position);
            } else if !self.tokens.can_consume(",") {
                return Err(NotParsed);
            }
        }
        Err(NotParsed)
    }

    fn map(&mut self) -> Parsed<Val> {
        let mut entries = Entries::default();
        let (mut keys, mut values) = (Merger::default(), Merger::default());
        while self.tokens.has_next() {
            if self.tokens.can_consume("}") {
                let value = match (keys.kind(), values.kind()) {
                    (Some(k), Some(v)) => entries.aligned(|key, value| Ok((align(k, Some(key))?, align(v, value)?)))?,
                    (Some(k), None) => entries
                        .aligned(|key, value| Ok((align(k, Some(key))?, value.map_or(Typed::Null, |v| v.value))))?,
                    _ => entries.aligned(|key, value| Ok((key.value, value.map_or(Typed::Null, |v| v.value))))?,
                };
                return Ok(Val { kind: Kind::Map, value });
            }
            if self.tokens.can_consume(",") {
                return Err(NotParsed);
            }
            let Some(key) = self.parse(true)? else { return Err(NotParsed) };
            if !self.tokens.can_consume(":") {
                return Err(NotParsed);
            }
            let value = self.parse(true)?;
            keys.merge(Some(&key));
            values.merge(value.as_ref());
            entries.put(key, value);
            self.tokens.can_consume(",");
        }
        Err(NotParsed)
    }
}

/// Map entries in insertion order; a repeated key replaces the value in place (a Java
/// `LinkedHashMap`).
#[derive(Default)]
struct Entries {
    entries: Vec<(Val, Option<Val>)>,
    index: HashMap<String, usize>,
}

impl Entries {
    fn put(&mut self, key: Val, value: Option<Val>) {
        let id = format!("{:?}", key.value);
        match self.index.get(&id).and_then(|&i| self.entries.get_mut(i)) {
            Some(slot) => slot.1 = value,
            None => {
                self.index.insert(id, self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// The entries converted pairwise, into a new map (where converted keys may meet again).
    fn aligned(self, convert: impl Fn(Val, Option<Val>) -> Parsed<(Typed, Typed)>) -> Parsed<Typed> {
        let mut out: Vec<(Typed, Typed)> = Vec::with_capacity(self.entries.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        for (key, value) in self.entries {
            let (k, v) = convert(key, value)?;
            let id = format!("{k:?}");
            match index.get(&id).and_then(|&i| out.get_mut(i)) {
                Some(slot) => slot.1 = v,
                None => {
                    index.insert(id, out.len());
                    out.push((k, v));
                }
            }
        }
        Ok(Typed::Map(out))
    }
}

/// Connect's `SchemaMerger`: the common type of the non-null values seen, if they have one.
#[derive(Default)]
struct Merger {
    common: Option<Kind>,
    incompatible: bool,
}

impl Merger {
    fn merge(&mut self, v: Option<&Val>) {
        let Some(v) = v else { return };
        if self.incompatible {
            return;
        }
        self.common = match self.common {
            None => Some(v.kind),
            Some(previous) => merge(previous, v.kind),
        };
        self.incompatible = self.common.is_none();
    }

    fn kind(&self) -> Option<Kind> {
        self.common
    }
}

/// Connect's `Values.mergeSchemas` for the types the parser produces: numbers widen, equal base
/// types take the later one, anything else has no common type.
fn merge(previous: Kind, new: Kind) -> Option<Kind> {
    use Kind::*;
    let (p, n) = (previous.base(), new.base());
    if p == n {
        return Some(new);
    }
    match p {
        Int8 => matches!(n, Int16 | Int32 | Int64 | Float64).then_some(new),
        Int16 if n == Int8 => Some(previous),
        Int16 => matches!(n, Int32 | Int64 | Float64).then_some(new),
        Int32 if matches!(n, Int8 | Int16) => Some(previous),
        Int32 => matches!(n, Int64 | Float64).then_some(new),
        Int64 if matches!(n, Int8 | Int16 | Int32) => Some(previous),
        Int64 => (n == Float64).then_some(new),
        Float64 => matches!(n, Int8 | Int16 | Int32 | Int64).then_some(previous),
        _ => None,
    }
}

/// Connect's `Values.convertTo(kind, null, value)` for an element of an array or map with a
/// common type: numbers become that type; a number becomes a date (days), time (ms, within a
/// day) or timestamp (ms); dates, times and timestamps stay as they are; null, or a value that
/// does not convert, fails the array or map.
fn align(kind: Kind, v: Option<Val>) -> Parsed<Typed> {
    let Some(v) = v else { return Err(NotParsed) };
    let temporal = matches!(v.kind, Kind::Date | Kind::Time | Kind::Timestamp);
    Ok(match (kind, v.value) {
        (Kind::Date | Kind::Time | Kind::Timestamp, value) if temporal => value,
        (_, _) if temporal => return Err(NotParsed),
        (Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64, Typed::Int(i)) => Typed::Int(i),
        (Kind::Float64, Typed::Int(i)) => Typed::Float(i as f64),
        (Kind::Float64, Typed::Float(x)) => Typed::Float(x),
        // Java's `(int)` narrowing, as `Date.toLogical` is called with it.
        (Kind::Date, Typed::Int(i)) => Typed::Date(i as i32),
        (Kind::Time, Typed::Int(i)) => match i as i32 {
            ms @ 0..=86_400_000 => Typed::Time(i64::from(ms) * 1_000_000),
            _ => return Err(NotParsed),
        },
        (Kind::Timestamp, Typed::Int(i)) => Typed::Timestamp(i.checked_mul(1000).ok_or(NotParsed)?),
        (Kind::Boolean, value @ Typed::Bool(_))
        | (Kind::String, value @ Typed::Text(_))
        | (Kind::Decimal, value @ Typed::Decimal(_))
        | (Kind::Array, value @ Typed::Array(_))
        | (Kind::Map, value @ Typed::Map(_)) => value,
        _ => return Err(NotParsed),
    })
}

/// `yyyy-MM-dd` (Date), `HH:mm:ss.SSS'Z'` (Time) or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (Timestamp),
/// in UTC; `\:` stands for `:`.
fn temporal(token: &str) -> Option<Val> {
    let token = token.replace("\\:", ":");
    let (kind, value) = match token.len() {
        13 => (Kind::Time, Typed::Time(time_of_day(&token)?)),
        24 => {
            let (day, time) = token.split_once('T')?;
            let days = i64::from(days(day)?);
            let nanos = time_of_day(time)?;
            let micros = days.checked_mul(86_400_000_000)?.checked_add(nanos / 1000)?;
            (Kind::Timestamp, Typed::Timestamp(micros))
        }
        10 => (Kind::Date, Typed::Date(days(&token)?)),
        _ => return None,
    };
    Some(Val { kind, value })
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Days since the epoch of `yyyy-MM-dd`.
fn days(s: &str) -> Option<i32> {
    let mut parts = s.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 || ![y, m, d].iter().all(|p| all_digits(p)) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    i32::try_from(date.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days()).ok()
}

/// Nanoseconds since midnight of `HH:mm:ss.SSSZ`.
fn time_of_day(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (hms, ms) = s.split_once('.')?;
    let mut parts = hms.splitn(3, ':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if h.len() != 2 || m.len() != 2 || sec.len() != 2 || ms.len() != 3 || ![h, m, sec, ms].iter().all(|p| all_digits(p))
    {
        return None;
    }
    let t = NaiveTime::from_hms_milli_opt(h.parse().ok()?, m.parse().ok()?, sec.parse().ok()?, ms.parse().ok()?)?;
    Some(i64::from(t.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(t.nanosecond()))
}

/// A Java `BigDecimal` literal: whole numbers that fit in 64 bits are integers of the smallest
/// width, other numbers with a fraction or an exponent doubles when finite, the rest decimals.
/// Connect reads the fractional ones as float32 when finite; doubles keep their digits here.
fn number(token: &str) -> Option<Val> {
    let (negative, unsigned) = match token.as_bytes().first()? {
        b'-' => (true, token.get(1..)?),
        b'+' => (false, token.get(1..)?),
        _ => (false, token),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (unsigned.get(..i)?, Some(unsigned.get(i + 1..)?)),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !digits_ok(int_part) || !digits_ok(frac_part) {
        return None;
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let magnitude = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !all_digits(magnitude) {
                return None;
            }
            let significant = magnitude.trim_start_matches('0');
            if significant.len() > 10 {
                return None;
            }
            let n: i64 = significant.parse().unwrap_or(0);
            if e.starts_with('-') { -n } else { n }
        }
    };
    i32::try_from(exponent).ok()?;
    let scale = i32::try_from(frac_part.len() as i64 - exponent).ok()?;
    // value = ±digits × 10^-scale
    let all: String = [int_part, frac_part].concat();
    let digits = all.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    if significant.is_empty() {
        return Some(Val { kind: Kind::Int8, value: Typed::Int(0) });
    }
    // value = ±significant × 10^e
    let e = (digits.len() - significant.len()) as i64 - i64::from(scale);
    if e >= 0 && significant.len() as i64 + e <= 20 {
        let magnitude = significant.parse::<u128>().ok()?.checked_mul(10u128.checked_pow(e as u32)?)?;
        if magnitude <= 10_000_000_000_000_000_000
            && let Ok(i) = i64::try_from(if negative { -(magnitude as i128) } else { magnitude as i128 })
        {
            let kind = if i8::try_from(i).is_ok() {
                Kind::Int8
            } else if i16::try_from(i).is_ok() {
                Kind::Int16
            } else if i32::try_from(i).is_ok() {
                Kind::Int32
            } else {
                Kind::Int64
            };
            return Some(Val { kind, value: Typed::Int(i) });
        }
    }
    if scale != 0
        && let Ok(x) = token.parse::<f64>()
        && x.is_finite()
    {
        return Some(Val { kind: Kind::Float64, value: Typed::Float(x) });
    }
    let digits = if digits.is_empty() { "0" } else { digits };
    Some(Val { kind: Kind::Decimal, value: Typed::Decimal(digits_decimal_text(negative, digits, scale)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Typed {
        Typed::Text(s.into())
    }

    fn ints(v: &[i64]) -> Typed {
        Typed::Array(v.iter().map(|i| Typed::Int(*i)).collect())
    }

    #[test]
    fn literals_and_plain_text() {
        assert_eq!(parse_text("true"), Typed::Bool(true));
        assert_eq!(parse_text(" false "), Typed::Bool(false));
        assert_eq!(parse_text("null"), Typed::Null);
        assert_eq!(parse_text("True"), text("True"), "literals are case-sensitive");
        assert_eq!(parse_text("true}"), text("true}"));
        assert_eq!(parse_text(""), text(""));
        assert_eq!(parse_text("   "), text("   "));
        assert_eq!(parse_text("hello world"), text("hello world"));
        assert_eq!(parse_text("a,b"), text("a,b"));
        assert_eq!(parse_text("{a:1}"), text("{a:1}"), "unquoted strings inside a map");
        assert_eq!(parse_text("[1,2"), text("[1,2"));
        assert_eq!(parse_text("[1,,2]"), text("[1,,2]"));
        assert_eq!(parse_text("[1]x"), text("[1]x"), "nothing is dropped");
        assert_eq!(parse_text("12:30"), text("12:30"), "nothing is dropped");
    }

    #[test]
    fn numbers_take_the_smallest_integer_type_then_double_then_decimal() {
        let int = |s: &str| number(s).map(|v| (v.kind, v.value));
        assert_eq!(int("42"), Some((Kind::Int8, Typed::Int(42))));
        assert_eq!(int("-128"), Some((Kind::Int8, Typed::Int(-128))));
        assert_eq!(int("300"), Some((Kind::Int16, Typed::Int(300))));
        assert_eq!(int("+70000"), Some((Kind::Int32, Typed::Int(70_000))));
        assert_eq!(int("9223372036854775807"), Some((Kind::Int64, Typed::Int(i64::MAX))));
        assert_eq!(int("-9223372036854775808"), Some((Kind::Int64, Typed::Int(i64::MIN))));
        assert_eq!(int("1.0"), Some((Kind::Int8, Typed::Int(1))), "a whole number");
        assert_eq!(int("1e3"), Some((Kind::Int16, Typed::Int(1000))));
        assert_eq!(int("-0"), Some((Kind::Int8, Typed::Int(0))));
        assert_eq!(int("0.000"), Some((Kind::Int8, Typed::Int(0))));
        assert_eq!(int("2.5"), Some((Kind::Float64, Typed::Float(2.5))));
        assert_eq!(int(".5"), Some((Kind::Float64, Typed::Float(0.5))));
        assert_eq!(int("1e20"), Some((Kind::Float64, Typed::Float(1e20))));
        assert_eq!(int("9223372036854775808"), Some((Kind::Decimal, Typed::Decimal("9223372036854775808".into()))));
        assert_eq!(
            int("-00123456789012345678901"),
            Some((Kind::Decimal, Typed::Decimal("-123456789012345678901".into())))
        );
        assert_eq!(int("1e400"), Some((Kind::Decimal, Typed::Decimal("1E+400".into()))));
        assert_eq!(int("407127e212797209"), Some((Kind::Decimal, Typed::Decimal("407127E+212797209".into()))));
        for bad in ["1e", "1e99999999999", "--1", "1.2.3", "0x1F", "1_000", "1 2", "+", "-", ".", "1e+-2", "١"] {
            assert_eq!(int(bad), None, "{bad}");
        }
        assert_eq!(parse_text("42"), Typed::Int(42));
        assert_eq!(parse_text(" -7 "), Typed::Int(-7));
        assert_eq!(parse_text("0x1F"), text("0x1F"));
        assert_eq!(parse_text("123e4567-e89b-12d3-a456-426614174000"), text("123e4567-e89b-12d3-a456-426614174000"));
    }

    #[test]
    fn dates_times_and_timestamps() {
        assert_eq!(parse_text("2024-02-27"), Typed::Date(19_780));
        assert_eq!(parse_text("1969-12-31"), Typed::Date(-1));
        assert_eq!(parse_text("12:34:56.789Z"), Typed::Time(45_296_789_000_000));
        assert_eq!(parse_text("12\\:34\\:56.789Z"), Typed::Time(45_296_789_000_000));
        assert_eq!(parse_text("2024-03-08T10:15:30.123Z"), Typed::Timestamp(1_709_892_930_123_000));
        assert_eq!(parse_text("2024-13-01"), text("2024-13-01"), "not a date");
        assert_eq!(parse_text("2024-03-08T10:15:30Z"), text("2024-03-08T10:15:30Z"), "milliseconds are required");
        assert_eq!(parse_text("25:00:00.000Z"), text("25:00:00.000Z"));
        assert_eq!(parse_text("1709892930123"), Typed::Int(1_709_892_930_123), "epoch milliseconds are a number");
        assert_eq!(parse_text("1709892930"), Typed::Int(1_709_892_930));
    }

    #[test]
    fn arrays_align_their_elements_to_a_common_type() {
        assert_eq!(parse_text("[1,2,3]"), ints(&[1, 2, 3]));
        assert_eq!(parse_text("[ 1 , 300 , 70000 ]"), ints(&[1, 300, 70_000]));
        assert_eq!(parse_text("[]"), Typed::Array(vec![]));
        assert_eq!(parse_text("[1, 2.5]"), Typed::Array(vec![Typed::Float(1.0), Typed::Float(2.5)]));
        assert_eq!(parse_text(r#"["a", "b c", "x,y"]"#), Typed::Array(vec![text("a"), text("b c"), text("x,y")]));
        assert_eq!(parse_text(r#"[1, "a"]"#), Typed::Array(vec![Typed::Int(1), text("a")]), "no common type");
        assert_eq!(parse_text("[null, null]"), Typed::Array(vec![Typed::Null, Typed::Null]));
        assert_eq!(parse_text("[1, null]"), text("[1, null]"), "null does not take a common type");
        assert_eq!(parse_text("[true, false]"), Typed::Array(vec![Typed::Bool(true), Typed::Bool(false)]));
        assert_eq!(parse_text("[[1], [2, 3]]"), Typed::Array(vec![ints(&[1]), ints(&[2, 3])]));
        assert_eq!(
            parse_text(r#"["2024-02-27", 1]"#),
            Typed::Array(vec![Typed::Date(19_780), Typed::Date(1)]),
            "a number among dates is days"
        );
        assert_eq!(
            parse_text("[12:34:56.789Z, 2024-03-08T10:15:30.123Z]"),
            Typed::Array(vec![Typed::Time(45_296_789_000_000), Typed::Timestamp(1_709_892_930_123_000)])
        );
        assert_eq!(parse_text("[2024-02-27, 3000000000]"), text("[2024-02-27, 3000000000]"));
        assert_eq!(parse_text("[a]"), text("[a]"));
    }

    #[test]
    fn maps_align_keys_and_values() {
        assert_eq!(
            parse_text(r#"{"a": 1, "b": 300}"#),
            Typed::Map(vec![(text("a"), Typed::Int(1)), (text("b"), Typed::Int(300))])
        );
        assert_eq!(
            parse_text("{1: true, 2: false}"),
            Typed::Map(vec![(Typed::Int(1), Typed::Bool(true)), (Typed::Int(2), Typed::Bool(false))])
        );
        assert_eq!(
            parse_text(r#"{"k": 1, "k": 2, "j": 3}"#),
            Typed::Map(vec![(text("k"), Typed::Int(2)), (text("j"), Typed::Int(3))]),
            "a repeated key keeps its place and takes the last value"
        );
        assert_eq!(
            parse_text(r#"{"a": null, "b": null}"#),
            Typed::Map(vec![(text("a"), Typed::Null), (text("b"), Typed::Null)])
        );
        assert_eq!(parse_text(r#"{"a": 1, "b": null}"#), text(r#"{"a": 1, "b": null}"#));
        assert_eq!(parse_text("{}"), Typed::Map(vec![]));
        assert_eq!(parse_text(r#"{"a": [1, 2]}"#), Typed::Map(vec![(text("a"), ints(&[1, 2]))]));
        assert_eq!(parse_text("{null: 1}"), text("{null: 1}"));
        assert_eq!(parse_text(r#"{"a" 1}"#), text(r#"{"a" 1}"#));
    }

    #[test]
    fn the_simple_converter_keeps_non_utf8_bytes_and_null() {
        let c = HeaderConverter::Simple;
        assert_eq!(c.decode(None), Ok(Data::Null));
        assert_eq!(c.decode(Some(&[0xff, 0x00])), Ok(Data::Bytes(vec![0xff, 0x00])));
        assert_eq!(c.decode(Some(b"42")), Ok(Data::Int(42)));
        assert_eq!(c.decode(Some(b"[1]")), Ok(Data::Typed(ints(&[1]))));
        assert_eq!(c.decode(Some(b"abc")), Ok(Data::Text("abc".into())));
    }

    #[test]
    fn record_converters_read_headers_as_they_read_values() {
        let s = HeaderConverter::Record(ConverterKind::String);
        assert_eq!(s.decode(Some(b"42")), Ok(Data::Text("42".into())));
        assert!(s.decode(Some(&[0xff])).is_err());
        let b = HeaderConverter::Record(ConverterKind::ByteArray);
        assert_eq!(b.decode(Some(b"42")), Ok(Data::Bytes(b"42".to_vec())));
        let j = HeaderConverter::Record(ConverterKind::Json { schemas: true });
        let env = br#"{"schema":{"type":"struct","fields":[{"field":"a","type":"int32"}]},"payload":{"a":1}}"#;
        assert!(matches!(j.decode(Some(env)), Ok(Data::Typed(Typed::Struct(_)))));
        assert!(j.decode(Some(b"42")).is_err(), "schemas.enable wants the envelope");
        let headers = vec![("a", Some(&env[..])), ("b", Some(&b"{"[..]))];
        assert_eq!(decode_headers(&j, headers).unwrap_err().0, "b");
        let ok = decode_headers(&HeaderConverter::Simple, vec![("a", Some(&b"1"[..])), ("n", None)]).unwrap();
        assert_eq!(ok, vec![("a", Data::Int(1)), ("n", Data::Null)]);
    }

    #[test]
    fn settings() {
        let read = |text: &str| {
            let props = Properties::parse(text.as_bytes()).unwrap();
            let mut problems = Vec::new();
            (HeaderConverter::from_settings(&props, &mut problems), problems)
        };
        assert_eq!(read(""), (None, vec![]));
        assert_eq!(
            read("header.converter=org.apache.kafka.connect.storage.SimpleHeaderConverter"),
            (Some(HeaderConverter::Simple), vec![])
        );
        assert_eq!(
            read("header.converter=org.apache.kafka.connect.json.JsonConverter\nheader.converter.schemas.enable=false"),
            (Some(HeaderConverter::Record(ConverterKind::Json { schemas: false })), vec![])
        );
        assert_eq!(
            read("header.converter=org.apache.kafka.connect.converters.ByteArrayConverter"),
            (Some(HeaderConverter::Record(ConverterKind::ByteArray)), vec![])
        );
        let (c, problems) = read("header.converter=io.confluent.connect.avro.AvroConverter");
        assert_eq!(c, None);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with(
                "Invalid value io.confluent.connect.avro.AvroConverter for configuration header.converter: unsupported header converter class; supported: org.apache.kafka.connect.storage.SimpleHeaderConverter, org.apache.kafka.connect.storage.StringConverter"
            ) && !problems[0].contains("io.confluent.connect.protobuf"),
            "{problems:?}"
        );
    }

    proptest::proptest! {
        /// Any text: a value, never a panic; nothing but text when it is not made of the pieces
        /// the parser knows.
        #[test]
        fn never_panics(s in proptest::string::string_regex(r#"[\[\]{}:,"\\ a-z0-9.eE+\-TZ]{0,40}"#).unwrap()) {
            let _ = parse_text(&s);
        }
    }

    #[test]
    fn deep_nesting_is_text() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_text(&deep), Typed::Text(deep.as_str().into()));
        let ok = format!("{}1{}", "[".repeat(50), "]".repeat(50));
        assert!(matches!(parse_text(&ok), Typed::Array(_)));
        let long = format!("[{}1]", "1,".repeat(200_000));
        assert!(matches!(parse_text(&long), Typed::Array(v) if v.len() == 200_001));
        let map = format!("{{{}}}", (0..50_000).map(|i| format!("{i}:{i}")).collect::<Vec<_>>().join(","));
        assert!(matches!(parse_text(&map), Typed::Map(v) if v.len() == 50_000));
    }
}
