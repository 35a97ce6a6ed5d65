//! The reference connector's perf workload, generated deterministically from a record number so
//! the topic loader, the ceiling loader, the row checks and the micro-benchmarks agree on every
//! byte: table `ticks (symbol text, ts timestamp, exchange text, industry text, name text, value
//! double, PRIMARY KEY (symbol, ts))`, key = the company name, value = a JSON object.
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

    /// The Kafka value: a JSON object, ~120 bytes.
    pub fn json_value(&self) -> String {
        format!(
            "{{\"symbol\":\"{}\",\"datetime\":\"{}\",\"exchange\":\"{}\",\"industry\":\"{}\",\"value\":{}}}",
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
