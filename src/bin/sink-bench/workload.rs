//! The benchmark workloads, generated deterministically from a record number so the topic loader,
//! the ceiling loader, the row checks and the micro-benchmarks agree on every byte:
//!
//! - `ticks`, the reference connector's perf workload: table `ticks (symbol text, ts timestamp,
//!   exchange text, industry text, name text, value double, PRIMARY KEY (symbol, ts))`, key = the
//!   company name, value = a JSON object.
//! - `quotes`: the same keys and primary key, values in Avro (Confluent framing) holding ten
//!   records of ten strings each, mapped to ten `frozen<fields10>` columns (a UDT of ten texts).
//!
//! Record `i` belongs to symbol `i % SYMBOLS` and is that symbol's tick number `i / SYMBOLS`, one
//! second apart: every record is its own row, and a symbol's records share one Kafka partition
//! (`symbol % partitions`) and one Cassandra partition.

#![allow(dead_code)]

/// Distinct symbols (Cassandra partitions).
pub const SYMBOLS: u64 = 1000;
/// 2026-12-01T09:30:00Z in milliseconds.
pub const BASE_MS: i64 = 1_796_117_400_000;

pub const TABLE_COLUMNS: &str =
    "symbol text, ts timestamp, exchange text, industry text, name text, value double, PRIMARY KEY (symbol, ts)";
pub const MAPPING: &str = "name=key, symbol=value.symbol, ts=value.datetime, exchange=value.exchange, \
                           industry=value.industry, value=value.value";

const EXCHANGES: [&str; 5] = ["NYSE", "NASDAQ", "LSE", "TSE", "HKEX"];
const INDUSTRIES: [&str; 10] = [
    "Technology",
    "Energy",
    "Healthcare",
    "Financials",
    "Utilities",
    "Materials",
    "Industrials",
    "Real Estate",
    "Consumer Staples",
    "Telecommunications",
];

/// Key + value bytes of a record without padding (the key is 21 bytes, the value ~115).
pub const BASE_RECORD_BYTES: usize = 136;

/// Record-size runs: `BENCH_RECORD_BYTES=N` makes each record about N bytes (key + value) by
/// padding its `industry` text, which is mapped, so each row grows by as much. Read once.
pub fn padding() -> usize {
    static PAD: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PAD.get_or_init(|| {
        std::env::var("BENCH_RECORD_BYTES")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .map_or(0, |n| n.saturating_sub(BASE_RECORD_BYTES))
    })
}

/// One record of the workload, as its number describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub n: u64,
    pub symbol: u64,
    pub seq: u64,
}

impl Tick {
    pub fn new(n: u64) -> Tick {
        Tick { n, symbol: n % SYMBOLS, seq: n / SYMBOLS }
    }

    /// The tick of `symbol` number `seq` (the inverse of [`Tick::new`]).
    pub fn of(symbol: u64, seq: u64) -> Tick {
        Tick { n: seq * SYMBOLS + symbol, symbol, seq }
    }

    pub fn partition(&self, partitions: i32) -> i32 {
        (self.symbol % partitions.max(1) as u64) as i32
    }

    pub fn symbol_text(&self) -> String {
        format!("SYM{:04}", self.symbol)
    }

    /// The Kafka key (StringConverter): the company name.
    pub fn name(&self) -> String {
        format!("Company {:04} Holdings", self.symbol)
    }

    /// The Kafka key for sinks that need a map key (JsonConverter, schemaless): `{"name": ...}`.
    pub fn json_key(&self) -> String {
        format!("{{\"name\":\"{}\"}}", self.name())
    }

    pub fn exchange(&self) -> &'static str {
        EXCHANGES[(self.symbol % EXCHANGES.len() as u64) as usize]
    }

    pub fn industry(&self) -> String {
        let name = INDUSTRIES[((self.symbol / 7) % INDUSTRIES.len() as u64) as usize];
        let pad = padding();
        let mut s = String::with_capacity(name.len() + pad);
        s.push_str(name);
        // Plain letters: nothing to escape in JSON.
        s.extend((0..pad).map(|i| (b'a' + (i % 26) as u8) as char));
        s
    }

    pub fn ts_ms(&self) -> i64 {
        BASE_MS + self.seq as i64 * 1000
    }

    /// Prices in whole cents, so the JSON text is exact (`123.45`, never `123.45000000000002`).
    pub fn value(&self) -> f64 {
        let cents = 1_000 + (self.n.wrapping_mul(2_654_435_761) % 900_000) as i64;
        cents as f64 / 100.0
    }

    pub fn datetime(&self) -> String {
        match chrono::DateTime::from_timestamp_millis(self.ts_ms()) {
            Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            None => String::new(),
        }
    }

    /// The Kafka value: a JSON object, ~120 bytes. The value is written as a double always is
    /// in Java (`12.0`, not `12`), which JsonConverter reads back as a double, not a long.
    pub fn json_value(&self) -> String {
        format!(
            "{{\"symbol\":\"{}\",\"datetime\":\"{}\",\"exchange\":\"{}\",\"industry\":\"{}\",\"value\":{:?}}}",
            self.symbol_text(),
            self.datetime(),
            self.exchange(),
            self.industry(),
            self.value()
        )
    }
}

/// How many of `records` records belong to `symbol`.
pub fn ticks_of(symbol: u64, records: u64) -> u64 {
    records / SYMBOLS + u64::from(symbol < records % SYMBOLS)
}

/// Which workload a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Ticks,
    Quotes,
}

impl std::str::FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Workload, String> {
        match s {
            "ticks" => Ok(Workload::Ticks),
            "quotes" => Ok(Workload::Quotes),
            other => Err(format!("workload {other}: ticks or quotes")),
        }
    }
}

/// UDT columns of a `quotes` row, and text fields of each.
pub const UDT_COLUMNS: usize = 10;
pub const UDT_FIELDS: usize = 10;
/// The UDT of the `quotes` table.
pub const UDT_NAME: &str = "fields10";
/// The schema id the `quotes` values are framed with.
pub const QUOTES_SCHEMA_ID: u32 = 1;

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Ticks => "ticks",
            Workload::Quotes => "quotes",
        }
    }

    /// Statements creating the user types the table needs, in `keyspace`.
    pub fn types(self, keyspace: &str) -> Vec<String> {
        match self {
            Workload::Ticks => Vec::new(),
            Workload::Quotes => {
                let fields = listed(UDT_FIELDS, ", ", |k| format!("f{k} text"));
                vec![format!("CREATE TYPE IF NOT EXISTS {keyspace}.{UDT_NAME} ({fields})")]
            }
        }
    }

    /// The table's column definitions (inside `CREATE TABLE t (...)`).
    pub fn table_columns(self) -> String {
        match self {
            Workload::Ticks => TABLE_COLUMNS.to_string(),
            Workload::Quotes => {
                let udts = listed(UDT_COLUMNS, ", ", |j| format!("u{j} frozen<{UDT_NAME}>"));
                format!("symbol text, ts timestamp, {udts}, PRIMARY KEY (symbol, ts)")
            }
        }
    }

    /// The connector's mapping.
    pub fn mapping(self) -> String {
        match self {
            Workload::Ticks => MAPPING.to_string(),
            Workload::Quotes => {
                let udts = listed(UDT_COLUMNS, ", ", |j| format!("u{j}=value.u{j}"));
                format!("symbol=value.symbol, ts=value.ts, {udts}")
            }
        }
    }

    /// About how many bytes a row's values take in a request (batches stay under 40 KiB).
    pub fn row_bytes(self) -> u64 {
        match self {
            Workload::Ticks => 60 + padding() as u64,
            Workload::Quotes => 30 + (UDT_COLUMNS * UDT_FIELDS) as u64 * 16,
        }
    }
}

/// `item(0)`, …, `item(n - 1)`, joined by `sep`.
pub fn listed(n: usize, sep: &str, item: impl Fn(usize) -> String) -> String {
    (0..n).map(item).collect::<Vec<_>>().join(sep)
}

/// The Avro schema of the `quotes` values.
pub fn quotes_schema() -> String {
    let fields = listed(UDT_FIELDS, ",", |k| format!(r#"{{"name":"f{k}","type":"string"}}"#));
    let mut columns = vec![
        r#"{"name":"symbol","type":"string"}"#.to_string(),
        r#"{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}"#.to_string(),
        format!(r#"{{"name":"u0","type":{{"type":"record","name":"Fields10","fields":[{fields}]}}}}"#),
    ];
    columns.extend((1..UDT_COLUMNS).map(|j| format!(r#"{{"name":"u{j}","type":"Fields10"}}"#)));
    format!(r#"{{"type":"record","name":"Quote","namespace":"bench","fields":[{}]}}"#, columns.join(","))
}

impl Tick {
    /// Text field `k` of UDT column `j` of a `quotes` row (12–13 bytes).
    pub fn udt_text(&self, j: usize, k: usize) -> String {
        format!("{:04}.{j}{k}.{:05}", self.symbol, self.seq)
    }

    /// The Kafka value of a `quotes` record: Confluent framing (magic byte, schema id) + Avro.
    pub fn avro_value(
        &self,
        writer: &apache_avro::writer::datum::GenericDatumWriter<'_>,
    ) -> Result<Vec<u8>, apache_avro::Error> {
        use apache_avro::types::Value;
        let udt = |j: usize| {
            Value::Record((0..UDT_FIELDS).map(|k| (format!("f{k}"), Value::String(self.udt_text(j, k)))).collect())
        };
        let mut fields = vec![
            ("symbol".to_string(), Value::String(self.symbol_text())),
            ("ts".into(), Value::TimestampMillis(self.ts_ms())),
        ];
        fields.extend((0..UDT_COLUMNS).map(|j| (format!("u{j}"), udt(j))));
        let mut out = vec![0u8];
        out.extend_from_slice(&QUOTES_SCHEMA_ID.to_be_bytes());
        writer.write_value(&mut out, Value::Record(fields))?;
        Ok(out)
    }
}
