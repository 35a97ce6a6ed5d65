//! Confluent's wire format and Avro binary decoding into [`Typed`].
//!
//! A record is `0x00`, a 4-byte big-endian schema id, then one Avro binary datum written with
//! that (writer) schema. The datum is read with the writer schema alone, as Kafka Connect's
//! AvroConverter reads it; the schema comes from the registry ([`super::registry`]).
//!
//! Mapping (Confluent's `AvroData.toConnectData`, with the logical types kept, spec "Where we
//! deliberately differ" §8): record → Struct (nested records → UDTs), enum → its symbol as
//! text, fixed → bytes, array, map (text keys), `[null, T]` unions → an optional T; a union of
//! several types gives the value of the branch written (Confluent wraps it in a Struct with a
//! field per branch). Logical types: `decimal` (bytes or fixed) → Decimal, `date` → Date,
//! `time-millis`/`time-micros` → Time, `timestamp-millis`/`-micros`/`-nanos` → Timestamp (the
//! nanoseconds truncated to microseconds), `uuid` → its text. `local-timestamp-*` stay numbers
//! (they name no instant), `duration` stays bytes.
//!
//! Records are untrusted: lengths are checked against the bytes left before anything is
//! allocated, nesting is bounded by [`MAX_DEPTH`], and the values one datum may produce are
//! bounded by its size (so a block of a billion zero-byte items fails fast), and bytes after the
//! datum are an error (they mean the schema id does not match what was written).

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, Name, RecordSchema, UuidSchema};
use num_bigint::BigInt;

use super::failure::{Failure, Res};
use super::typed::{Name as TypedName, Struct, Typed, decimal_text};

/// Nesting (records, arrays, maps, unions) beyond which a datum is refused.
pub const MAX_DEPTH: usize = 100;

/// Longest decimal accepted, in bytes of the unscaled value.
pub const MAX_DECIMAL_BYTES: usize = 1024;

/// Splits a Confluent-framed record into its schema id and Avro body.
pub fn frame(bytes: &[u8]) -> Result<(u32, &[u8]), String> {
    super::registry::frame(bytes, "Avro data")
}

/// A writer schema with its named types, ready to decode with.
#[derive(Debug)]
pub struct AvroSchema {
    root: Schema,
    names: HashMap<Name, Schema>,
}

impl AvroSchema {
    /// Parses a schema; `references` are the texts of the schemas it refers to by name
    /// (the registry's schema references).
    pub fn parse(text: &str, references: &[String]) -> Result<AvroSchema, String> {
        let (root, others) = if references.is_empty() {
            (Schema::parse_str(text).map_err(|e| e.to_string())?, Vec::new())
        } else {
            Schema::parse_str_with_list(text, references).map_err(|e| e.to_string())?
        };
        let mut names = HashMap::new();
        for s in others.iter().chain(std::iter::once(&root)) {
            collect_names(s, &mut names, 0);
        }
        Ok(AvroSchema { root, names })
    }

    pub fn root(&self) -> &Schema {
        &self.root
    }
}

/// Every named type (record, enum, fixed) under `s`, by full name, for `Schema::Ref`.
fn collect_names(s: &Schema, names: &mut HashMap<Name, Schema>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match s {
        Schema::Record(r) => {
            if names.contains_key(&r.name) {
                return;
            }
            names.insert(r.name.clone(), s.clone());
            for f in &r.fields {
                collect_names(&f.schema, names, depth + 1);
            }
        }
        Schema::Enum(e) => {
            names.insert(e.name.clone(), s.clone());
        }
        Schema::Fixed(f) | Schema::Duration(f) => {
            names.insert(f.name.clone(), s.clone());
        }
        Schema::Decimal(d) => {
            if let InnerDecimalSchema::Fixed(f) = &d.inner {
                names.insert(f.name.clone(), Schema::Fixed(f.clone()));
            }
        }
        Schema::Uuid(UuidSchema::Fixed(f)) => {
            names.insert(f.name.clone(), Schema::Fixed(f.clone()));
        }
        Schema::Array(a) => collect_names(&a.items, names, depth + 1),
        Schema::Map(m) => collect_names(&m.types, names, depth + 1),
        Schema::Union(u) => {
            for v in u.variants() {
                collect_names(v, names, depth + 1);
            }
        }
        _ => {}
    }
}

/// `namespace.name`, as `Name`'s `Display` writes it, without formatting machinery.
fn full_name(n: &Name) -> TypedName {
    let mut out = TypedName::default();
    if let Some(ns) = n.namespace().filter(|ns| !ns.is_empty()) {
        out.push_str(ns);
        out.push('.');
    }
    out.push_str(n.name());
    out
}

/// Decodes one Avro binary datum (the body after the Confluent header).
pub fn decode(schema: &AvroSchema, body: &[u8]) -> Result<Typed, String> {
    let mut r = Reader {
        buf: body,
        pos: 0,
        // Every value costs one unit: a datum yields at most a few values per byte, plus slack
        // for zero-byte values (null, empty records).
        fuel: body.len().saturating_mul(4).saturating_add(1024),
        names: &schema.names,
    };
    let value = r.value(&schema.root, 0).map_err(|f| avro_message(f, r.pos, body.len()))?;
    if r.pos != body.len() {
        return Err(format!(
            "{} bytes left after the Avro datum ({} bytes read): the data does not match the writer schema of its id",
            body.len() - r.pos,
            r.pos
        ));
    }
    Ok(value)
}

/// The message of a failure at byte `pos` of `len`.
fn avro_message(f: Failure, pos: usize, len: usize) -> String {
    let (at, reason) = f.in_field();
    format!("Invalid Avro data{at} at byte {pos} of {len}: {reason}")
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    fuel: usize,
    names: &'a HashMap<Name, Schema>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or_else(|| {
            Failure::new(format!("truncated: {n} bytes needed, {} left", self.buf.len().saturating_sub(self.pos)))
        })?;
        let out = self.buf.get(self.pos..end).ok_or_else(|| Failure::new("truncated"))?;
        self.pos = end;
        Ok(out)
    }

    /// A zig-zag varint of at most 64 bits.
    fn long(&mut self) -> Res<i64> {
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let byte = *self.take(1)?.first().ok_or_else(|| Failure::new("truncated"))?;
            if i == 9 && byte > 1 {
                return Err(Failure::new("varint longer than 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(Failure::new("varint longer than 64 bits"))
    }

    fn int(&mut self) -> Res<i32> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| Failure::new(format!("int value {v} is out of the 32-bit range")))
    }

    fn length(&mut self) -> Res<usize> {
        let n = self.long()?;
        let n = usize::try_from(n).map_err(|_| Failure::new(format!("negative length {n}")))?;
        let left = self.buf.len() - self.pos.min(self.buf.len());
        if n > left {
            return Err(Failure::new(format!("truncated: a length of {n} bytes with {left} left")));
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Res<&'a [u8]> {
        let n = self.length()?;
        self.take(n)
    }

    fn string(&mut self) -> Res<TypedName> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map(TypedName::from).map_err(|_| Failure::new("string is not valid UTF-8"))
    }

    /// The item count of the next block of an array or map; 0 ends it.
    fn block_count(&mut self) -> Res<usize> {
        let n = self.long()?;
        if n < 0 {
            // A negative count is followed by the block's size in bytes, which is not needed.
            self.long()?;
        }
        usize::try_from(n.unsigned_abs()).map_err(|_| Failure::new("block count out of range"))
    }

    fn value(&mut self, schema: &Schema, depth: usize) -> Res<Typed> {
        if depth > MAX_DEPTH {
            return Err(Failure::new(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.fuel =
            self.fuel.checked_sub(1).ok_or_else(|| Failure::new("more values than a datum of this size can hold"))?;
        Ok(match schema {
            Schema::Null => Typed::Null,
            Schema::Boolean => match self.take(1)? {
                [0] => Typed::Bool(false),
                [1] => Typed::Bool(true),
                other => return Err(Failure::new(format!("invalid boolean byte {other:?}"))),
            },
            Schema::Int => Typed::Int(i64::from(self.int()?)),
            Schema::Long
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => Typed::Int(self.long()?),
            Schema::Float => {
                let b = self.take(4)?;
                let arr: [u8; 4] = b.try_into().map_err(|_| Failure::new("truncated float"))?;
                Typed::Float(f64::from(f32::from_le_bytes(arr)))
            }
            Schema::Double => {
                let b = self.take(8)?;
                let arr: [u8; 8] = b.try_into().map_err(|_| Failure::new("truncated double"))?;
                Typed::Float(f64::from_le_bytes(arr))
            }
            Schema::Bytes | Schema::BigDecimal => Typed::Bytes(self.bytes()?.to_vec()),
            Schema::String => Typed::Text(self.string()?),
            Schema::Fixed(f) | Schema::Duration(f) => Typed::Bytes(self.take(f.size)?.to_vec()),
            Schema::Enum(e) => {
                let i = self.int()?;
                let symbol = usize::try_from(i).ok().and_then(|i| e.symbols.get(i)).ok_or_else(|| {
                    Failure::new(format!("enum index {i} out of range for {} ({} symbols)", e.name, e.symbols.len()))
                })?;
                Typed::Text(symbol.as_str().into())
            }
            Schema::Uuid(kind) => {
                let raw = match kind {
                    UuidSchema::String => return Ok(Typed::Text(self.string()?)),
                    UuidSchema::Bytes => self.bytes()?,
                    UuidSchema::Fixed(f) => self.take(f.size)?,
                };
                let uuid = uuid::Uuid::from_slice(raw)
                    .map_err(|_| Failure::new(format!("a uuid must be 16 bytes, got {}", raw.len())))?;
                Typed::Text(compact_str::format_compact!("{uuid}"))
            }
            Schema::Decimal(d) => {
                let raw = match &d.inner {
                    InnerDecimalSchema::Bytes => self.bytes()?,
                    InnerDecimalSchema::Fixed(f) => self.take(f.size)?,
                };
                if raw.len() > MAX_DECIMAL_BYTES {
                    return Err(Failure::new(format!(
                        "a decimal of {} bytes is longer than the {MAX_DECIMAL_BYTES} bytes accepted",
                        raw.len()
                    )));
                }
                let scale = i32::try_from(d.scale).map_err(|_| Failure::new("decimal scale out of range"))?;
                Typed::Decimal(decimal_text(&BigInt::from_signed_bytes_be(raw), scale))
            }
            Schema::Date => Typed::Date(self.int()?),
            Schema::TimeMillis => {
                let ms = self.int()?;
                Typed::Time(i64::from(ms) * 1_000_000)
            }
            Schema::TimeMicros => {
                let us = self.long()?;
                Typed::Time(us.checked_mul(1000).ok_or_else(|| Failure::new(format!("time-micros {us} out of range")))?)
            }
            Schema::TimestampMillis => {
                let ms = self.long()?;
                Typed::Timestamp(
                    ms.checked_mul(1000).ok_or_else(|| Failure::new(format!("timestamp-millis {ms} out of range")))?,
                )
            }
            Schema::TimestampMicros => Typed::Timestamp(self.long()?),
            Schema::TimestampNanos => Typed::Timestamp(self.long()?.div_euclid(1000)),
            Schema::Array(a) => {
                let mut items = Vec::new();
                loop {
                    let n = self.block_count()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        let i = items.len();
                        items.push(self.value(&a.items, depth + 1).map_err(|f| f.within(format!("[{i}]")))?);
                    }
                }
                Typed::Array(items)
            }
            Schema::Map(m) => {
                let mut entries = Vec::new();
                loop {
                    let n = self.block_count()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        let key = self.string()?;
                        let value = self.value(&m.types, depth + 1).map_err(|f| f.within(key.clone()))?;
                        entries.push((Typed::Text(key), value));
                    }
                }
                Typed::Map(entries)
            }
            Schema::Union(u) => {
                let i = self.long()?;
                let branch = usize::try_from(i).ok().and_then(|i| u.variants().get(i)).ok_or_else(|| {
                    Failure::new(format!("union branch {i} out of range ({} branches)", u.variants().len()))
                })?;
                self.value(branch, depth + 1)?
            }
            Schema::Record(r) => self.record(r, depth)?,
            Schema::Ref { name } => {
                let names = self.names;
                let target = names.get(name).ok_or_else(|| Failure::new(format!("unknown named type {name}")))?;
                self.value(target, depth + 1)?
            }
        })
    }

    fn record(&mut self, r: &RecordSchema, depth: usize) -> Res<Typed> {
        let mut fields = Vec::with_capacity(r.fields.len());
        for f in &r.fields {
            let v = self.value(&f.schema, depth + 1).map_err(|e| e.within(f.name.clone()))?;
            fields.push((f.name.as_str().into(), v));
        }
        Ok(Typed::Struct(Struct { name: Some(full_name(&r.name)), fields }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A tiny Avro encoder for tests of the decoder's edges; real encodings from an independent
    /// encoder (fastavro) are checked in `tests/it/formats.rs`.
    fn zz(v: i64) -> Vec<u8> {
        let mut n = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn s(text: &str) -> Vec<u8> {
        let mut out = zz(text.len() as i64);
        out.extend_from_slice(text.as_bytes());
        out
    }

    fn schema(text: &str) -> AvroSchema {
        AvroSchema::parse(text, &[]).unwrap()
    }

    #[test]
    fn framing() {
        assert_eq!(frame(&[0, 0, 0, 1, 2, 9, 9]), Ok((258, &[9u8, 9][..])));
        assert_eq!(frame(&[0, 0, 0, 0, 7]), Ok((7, &[][..])));
        assert!(frame(&[]).unwrap_err().starts_with("Empty payload"));
        assert!(frame(b"{\"a\":1}").unwrap_err().starts_with("Unknown magic byte 0x7b"));
        assert!(frame(&[0, 1, 2]).unwrap_err().contains("too short"));
    }

    #[test]
    fn records_with_every_primitive() {
        let sc = schema(
            r#"{"type":"record","name":"R","namespace":"ns","fields":[
                {"name":"n","type":"null"},{"name":"b","type":"boolean"},{"name":"i","type":"int"},
                {"name":"l","type":"long"},{"name":"f","type":"float"},{"name":"d","type":"double"},
                {"name":"by","type":"bytes"},{"name":"s","type":"string"},
                {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
                {"name":"fx","type":{"type":"fixed","name":"F","size":2}}]}"#,
        );
        let mut body = vec![1];
        body.extend(zz(-3));
        body.extend(zz(1 << 40));
        body.extend(1.5f32.to_le_bytes());
        body.extend(0.1f64.to_le_bytes());
        body.extend(zz(2));
        body.extend([7, 8]);
        body.extend(s("hé"));
        body.extend(zz(1));
        body.extend([5, 6]);
        let t = decode(&sc, &body).unwrap();
        let Typed::Struct(st) = &t else { panic!("{t:?}") };
        assert_eq!(st.name.as_deref(), Some("ns.R"));
        assert_eq!(
            st.fields.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            vec![
                Typed::Null,
                Typed::Bool(true),
                Typed::Int(-3),
                Typed::Int(1 << 40),
                Typed::Float(1.5),
                Typed::Float(0.1),
                Typed::Bytes(vec![7, 8]),
                Typed::Text("hé".into()),
                Typed::Text("B".into()),
                Typed::Bytes(vec![5, 6]),
            ]
        );
    }

    #[test]
    fn logical_types() {
        let sc = schema(
            r#"{"type":"record","name":"R","fields":[
                {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
                {"name":"fdec","type":{"type":"fixed","name":"FD","size":2,"logicalType":"decimal","precision":4,"scale":1}},
                {"name":"day","type":{"type":"int","logicalType":"date"}},
                {"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
                {"name":"tu","type":{"type":"long","logicalType":"time-micros"}},
                {"name":"tsm","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"tsu","type":{"type":"long","logicalType":"timestamp-micros"}},
                {"name":"id","type":{"type":"string","logicalType":"uuid"}}]}"#,
        );
        let mut body = zz(2);
        body.extend([0x30, 0x39]); // 12345
        body.extend([0xff, 0x85]); // -123
        body.extend(zz(19_780));
        body.extend(zz(45_296_789));
        body.extend(zz(45_296_789_012));
        body.extend(zz(1_709_892_930_123));
        body.extend(zz(1_709_892_930_123_456));
        body.extend(s("123e4567-e89b-12d3-a456-426614174000"));
        let t = decode(&sc, &body).unwrap();
        assert_eq!(t.member("dec"), Some(&Typed::Decimal("123.45".into())));
        assert_eq!(t.member("fdec"), Some(&Typed::Decimal("-12.3".into())));
        assert_eq!(t.member("day"), Some(&Typed::Date(19_780)));
        assert_eq!(t.member("tm"), Some(&Typed::Time(45_296_789_000_000)));
        assert_eq!(t.member("tu"), Some(&Typed::Time(45_296_789_012_000)));
        assert_eq!(t.member("tsm"), Some(&Typed::Timestamp(1_709_892_930_123_000)));
        assert_eq!(t.member("tsu"), Some(&Typed::Timestamp(1_709_892_930_123_456)));
        assert_eq!(t.member("id"), Some(&Typed::Text("123e4567-e89b-12d3-a456-426614174000".into())));
    }

    #[test]
    fn collections_unions_and_recursion() {
        let sc = schema(
            r#"{"type":"record","name":"Node","fields":[
                {"name":"v","type":["null","int"]},
                {"name":"tags","type":{"type":"array","items":"string"}},
                {"name":"m","type":{"type":"map","values":"long"}},
                {"name":"next","type":["null","Node"]}]}"#,
        );
        let mut body = zz(1);
        body.extend(zz(5));
        // Array in two blocks, the second with a negative count and a byte size.
        body.extend(zz(1));
        body.extend(s("a"));
        body.extend(zz(-1));
        body.extend(zz(2));
        body.extend(s("b"));
        body.extend(zz(0));
        body.extend(zz(1));
        body.extend(s("k"));
        body.extend(zz(9));
        body.extend(zz(0));
        // next: a Node with nulls and empties.
        body.extend(zz(1));
        body.extend(zz(0));
        body.extend(zz(0));
        body.extend(zz(0));
        body.extend(zz(0));
        let t = decode(&sc, &body).unwrap();
        assert_eq!(t.member("v"), Some(&Typed::Int(5)));
        assert_eq!(t.member("tags"), Some(&Typed::Array(vec![Typed::Text("a".into()), Typed::Text("b".into())])));
        assert_eq!(t.member("m"), Some(&Typed::Map(vec![(Typed::Text("k".into()), Typed::Int(9))])));
        let next = t.member("next").unwrap();
        assert_eq!(next.member("v"), Some(&Typed::Null));
        assert_eq!(next.member("next"), Some(&Typed::Null));
    }

    #[test]
    fn bad_data_is_an_error_naming_the_field() {
        let sc =
            schema(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"s","type":"string"}]}"#);
        let e = decode(&sc, &zz(1)).unwrap_err();
        assert!(e.starts_with("Invalid Avro data in field 's' at byte 1 of 1: truncated"), "{e}");
        let mut body = zz(1);
        body.extend(zz(1_000_000));
        let e = decode(&sc, &body).unwrap_err();
        assert!(e.contains("a length of 1000000 bytes with 0 left"), "{e}");
        let mut body = zz(1);
        body.extend(s("x"));
        body.push(0);
        assert!(decode(&sc, &body).unwrap_err().contains("1 bytes left after the Avro datum"));
        let e = decode(&sc, &[0xff; 11]).unwrap_err();
        assert!(e.contains("varint longer than 64 bits"), "{e}");
        let sc = schema(r#"{"type":"enum","name":"E","symbols":["A"]}"#);
        assert!(decode(&sc, &zz(3)).unwrap_err().contains("enum index 3 out of range"));
        let sc = schema(r#"["null","int"]"#);
        assert!(decode(&sc, &zz(2)).unwrap_err().contains("union branch 2 out of range"));
        let sc = schema(r#"{"type":"int"}"#);
        assert!(decode(&sc, &zz(1 << 40)).unwrap_err().contains("out of the 32-bit range"));
        let sc = schema(r#""string""#);
        assert!(decode(&sc, &[4, 0xff, 0xfe]).unwrap_err().contains("UTF-8"));
        let sc = schema(r#""boolean""#);
        assert!(decode(&sc, &[2]).unwrap_err().contains("invalid boolean"));
    }

    #[test]
    fn zero_byte_items_and_deep_recursion_are_bounded() {
        let sc = schema(r#"{"type":"array","items":"null"}"#);
        let mut body = zz(i64::MAX);
        body.extend(zz(0));
        let e = decode(&sc, &body).unwrap_err();
        assert!(e.contains("more values than a datum of this size can hold"), "{e}");
        let sc = schema(r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}"#);
        let mut body = vec![2u8; 10_000];
        body.push(0);
        let e = decode(&sc, &body).unwrap_err();
        assert!(e.contains("nested deeper than"), "{e}");
        let sc = schema(r#"{"type":"record","name":"T","fields":[{"name":"c","type":{"type":"array","items":"T"}}]}"#);
        let e = decode(&sc, &[2u8; 100_000]).unwrap_err();
        assert!(e.contains("nested deeper than"), "{e}");
    }

    #[test]
    fn schema_references_and_namespaced_refs() {
        let addr = r#"{"type":"record","name":"Addr","namespace":"com.x","fields":[{"name":"zip","type":"int"}]}"#;
        let person = r#"{"type":"record","name":"P","namespace":"com.x","fields":[{"name":"home","type":"com.x.Addr"},{"name":"work","type":"Addr"}]}"#;
        let sc = AvroSchema::parse(person, &[addr.to_string()]).unwrap();
        let mut body = zz(1);
        body.extend(zz(2));
        let t = decode(&sc, &body).unwrap();
        assert_eq!(t.member("home").and_then(|h| h.member("zip")), Some(&Typed::Int(1)));
        assert_eq!(t.member("work").and_then(|h| h.member("zip")), Some(&Typed::Int(2)));
        assert!(AvroSchema::parse("{not json", &[]).is_err());
    }

    /// Records encoded by fastavro (tests/fixtures/avro/make_fixtures.py), an encoder
    /// independent of this decoder; expected values written by hand.
    #[test]
    fn fastavro_encodings() {
        let fixtures: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/avro/items.json")).unwrap();
        let schema_of =
            |id: u32| AvroSchema::parse(fixtures["schemas"][id.to_string()].as_str().unwrap(), &[]).unwrap();
        let records: Vec<Vec<u8>> = fixtures["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let h = h.as_str().unwrap();
                (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
            })
            .collect();
        let (id, body) = frame(&records[0]).unwrap();
        assert_eq!(id, 1);
        let t = decode(&schema_of(1), body).unwrap();
        let Typed::Struct(st) = &t else { panic!("{t:?}") };
        assert_eq!(st.name.as_deref(), Some("com.example.Item"));
        let text = |s: &str| Typed::Text(s.into());
        let expected = vec![
            ("id", Typed::Int(1)),
            ("name", text("Zoë ✓")),
            ("price", Typed::Decimal("1234.56".into())),
            ("fprice", Typed::Decimal("-12.345".into())),
            ("day", Typed::Date(19_780)),
            ("at_ms", Typed::Time(45_296_789_000_000)),
            ("at_us", Typed::Time(45_296_789_012_000)),
            ("ts_ms", Typed::Timestamp(1_709_892_930_123_000)),
            ("ts_us", Typed::Timestamp(1_709_892_930_123_456)),
            ("uid", text("123e4567-e89b-12d3-a456-426614174000")),
            ("tags", Typed::Array(vec![text("a"), text("b")])),
            ("attrs", Typed::Map(vec![(text("x"), Typed::Int(1)), (text("y"), Typed::Int(-2))])),
            ("kind", text("GOLD")),
            ("hash", Typed::Bytes(vec![1, 2, 3, 4])),
            ("note", text("hello")),
            ("score", Typed::Float(1.5)),
            ("ratio", Typed::Float(0.1)),
            ("flag", Typed::Bool(true)),
            ("big", Typed::Int(1 << 40)),
            (
                "addr",
                Typed::Struct(Struct {
                    name: Some("com.example.Address".into()),
                    fields: vec![
                        ("street".into(), text("Main St")),
                        ("zip".into(), Typed::Int(12345)),
                        (
                            "geo".into(),
                            Typed::Struct(Struct {
                                name: Some("com.example.Point".into()),
                                fields: vec![("lat".into(), Typed::Float(48.85)), ("lon".into(), Typed::Float(2.35))],
                            }),
                        ),
                    ],
                }),
            ),
        ];
        assert_eq!(st.fields.len(), expected.len());
        for ((name, value), (want_name, want)) in st.fields.iter().zip(expected) {
            assert_eq!((name.as_str(), value), (want_name, &want));
        }
        let (_, body) = frame(&records[1]).unwrap();
        let t = decode(&schema_of(1), body).unwrap();
        assert_eq!(t.member("price"), Some(&Typed::Decimal("-0.01".into())));
        assert_eq!(t.member("fprice"), Some(&Typed::Decimal("0.000".into())));
        assert_eq!(t.member("day"), Some(&Typed::Date(-1)));
        assert_eq!(t.member("ts_ms"), Some(&Typed::Timestamp(-1000)));
        assert_eq!(t.member("ts_us"), Some(&Typed::Timestamp(1)));
        assert_eq!(t.member("at_us"), Some(&Typed::Time(86_399_999_999_000)));
        assert_eq!(t.member("note"), Some(&Typed::Null));
        assert_eq!(t.member("tags"), Some(&Typed::Array(vec![])));
        assert_eq!(t.member("ratio"), Some(&Typed::Float(-1e300)));
        let (id, body) = frame(&records[2]).unwrap();
        assert_eq!(id, 2);
        let t = decode(&schema_of(2), body).unwrap();
        assert_eq!(t.member("big"), Some(&Typed::Int(i64::MAX)));
        assert_eq!(t.member("extra"), Some(&text("ignored")));
        // Read with the wrong writer schema, the bytes do not line up.
        assert!(decode(&schema_of(1), body).is_err());
        // Every truncation of a real record is an error, never a panic.
        let (_, body) = frame(&records[0]).unwrap();
        for cut in 0..body.len() {
            assert!(decode(&schema_of(1), &body[..cut]).is_err(), "cut at {cut}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let sc = schema(r#"{"type":"record","name":"R","fields":[
                {"name":"u","type":["null","string","long",{"type":"array","items":"R"},{"type":"map","values":"double"}]},
                {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":3}},
                {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
                {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"f","type":{"type":"fixed","name":"F","size":3}}]}"#);
            let _ = decode(&sc, &body);
            let _ = frame(&body);
        }
    }
}
