//! The per-record path of the benchmark workloads without I/O: Kafka key and value bytes → decode
//! (StringConverter key; `ticks`: schemaless JsonConverter value, `quotes`: AvroConverter value,
//! as `scripts/bench` configures the sink) → map (the workload's mapping, each field converted to
//! its column's CQL type, plus the write time) → serialize (the bound values written as a row
//! keeps them and the driver copies them into a request).
//!
//! `cargo bench --bench record_path` reports records per second on one core (criterion's
//! throughput) and counts allocations per record with a counting global allocator, then checks
//! both against targets (`BENCH_TARGET_RECORDS_PER_CORE`, `BENCH_TARGET_ALLOCS_PER_RECORD`). Under
//! `cargo test` the routines run once each and nothing is timed or checked.
//!
//! The map step mirrors `TablePlan::evaluate` for these mappings (field lookup, `convert_cell`,
//! the Kafka timestamp as write time) rather than calling it: a `TablePlan` is only built from a
//! live session's prepared statements today. The Avro schema is parsed once, as the sink caches
//! the registry's schemas.

#[path = "../src/bin/sink-bench/workload.rs"]
mod workload;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cassandra_sink::codec::avro::{self, AvroSchema};
use cassandra_sink::codec::convert::{Cell, CodecSettings, convert_cell};
use cassandra_sink::codec::record::{Data, Lookup};
use cassandra_sink::config::{ConnectorConfig, ConverterKind, Properties, WorkerConfig};
use cassandra_sink::mapping::{Column, Field};
use criterion::{Criterion, Throughput};
use scylla::cluster::metadata::UserDefinedType;
use scylla::frame::response::result::{ColumnSpec, ColumnType, NativeType, TableSpec};
use scylla::serialize::row::{RowSerializationContext, SerializeRow};
use scylla::serialize::writers::RowWriter;
use scylla::value::{CqlValue, MaybeUnset};

use workload::{Tick, UDT_FIELDS, UDT_NAME, Workload, quotes_schema};

/// Counts every allocation (and reallocation) of the process.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: delegates to the system allocator; the counters have no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size.saturating_sub(layout.size()) as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One bound column: where its value comes from and its CQL type.
struct Bind {
    field: Field,
    typ: ColumnType<'static>,
}

struct Fixture {
    /// The `quotes` values' writer schema (the sink's registry cache holds it).
    avro: Option<AvroSchema>,
    key_converter: ConverterKind,
    value_converter: ConverterKind,
    codec: CodecSettings,
    binds: Vec<Bind>,
    /// The bind variables in statement order: the mapped columns, then the write time.
    specs: Vec<ColumnSpec<'static>>,
}

fn column_type(name: &str) -> ColumnType<'static> {
    let text = ColumnType::Native(NativeType::Text);
    match name {
        "ts" => ColumnType::Native(NativeType::Timestamp),
        "value" => ColumnType::Native(NativeType::Double),
        udt if udt.starts_with('u') => ColumnType::UserDefinedType {
            frozen: true,
            definition: std::sync::Arc::new(UserDefinedType {
                name: UDT_NAME.into(),
                keyspace: "bench".into(),
                field_types: (0..UDT_FIELDS).map(|k| (format!("f{k}").into(), text.clone())).collect(),
            }),
        },
        _ => text,
    }
}

impl Fixture {
    fn new(workload: Workload) -> Fixture {
        let value_converter = match workload {
            Workload::Ticks => {
                "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n"
            }
            Workload::Quotes => {
                "value.converter=io.confluent.connect.avro.AvroConverter\n\
                 value.converter.schema.registry.url=http://127.0.0.1:1\n"
            }
        };
        let worker = WorkerConfig::from_properties(
            &Properties::parse(
                format!("key.converter=org.apache.kafka.connect.storage.StringConverter\n{value_converter}").as_bytes(),
            )
            .expect("worker properties"),
        )
        .expect("worker config");
        let text = format!("name=bench\ntopics=t\ntopic.t.bench.{}.mapping={}\n", workload.name(), workload.mapping());
        let connector = ConnectorConfig::from_properties(&Properties::parse(text.as_bytes()).expect("properties"))
            .expect("connector config");
        let table = &connector.tables[0];
        let mut binds = Vec::new();
        let mut specs = Vec::new();
        for e in &table.mapping.entries {
            let Column::Named(name) = &e.column else { continue };
            let typ = column_type(name);
            specs.push(ColumnSpec::owned(name.clone(), typ.clone(), TableSpec::owned("bench".into(), "ticks".into())));
            binds.push(Bind { field: e.field.clone(), typ });
        }
        specs.push(ColumnSpec::owned(
            "message_internal_timestamp".into(),
            ColumnType::Native(NativeType::BigInt),
            TableSpec::owned("bench".into(), "ticks".into()),
        ));
        let avro = (workload == Workload::Quotes).then(|| AvroSchema::parse(&quotes_schema(), &[]).expect("schema"));
        Fixture {
            avro,
            key_converter: worker.key_converter,
            value_converter: worker.value_converter,
            codec: connector.codec("t"),
            binds,
            specs,
        }
    }
}

/// Kafka records of the workload: (key, value, timestamp ms).
fn records(workload: Workload, n: u64) -> Vec<(Vec<u8>, Vec<u8>, i64)> {
    let schema = apache_avro::Schema::parse_str(&quotes_schema()).expect("schema");
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&schema).build().expect("writer");
    (0..n)
        .map(|i| {
            let t = Tick::new(i);
            let value = match workload {
                Workload::Ticks => t.json_value().into_bytes(),
                Workload::Quotes => t.avro_value(&writer).expect("encodes"),
            };
            (t.name().into_bytes(), value, 1_796_200_000_000 + i as i64)
        })
        .collect()
}

fn decode(f: &Fixture, key: &[u8], value: &[u8]) -> (Data, Data) {
    let key = Data::decode(&f.key_converter, Some(key)).expect("key decodes");
    let value = match &f.avro {
        // As `Converter::decode` does with a schema from the registry's cache.
        Some(schema) => {
            let (_, body) = avro::frame(value).expect("framed");
            Data::from_typed(avro::decode(schema, body).expect("value decodes"))
        }
        None => Data::decode(&f.value_converter, Some(value)).expect("value decodes"),
    };
    (key, value)
}

fn map<'a>(f: &Fixture, key: &'a Data, value: &'a Data, timestamp_ms: i64) -> Vec<MaybeUnset<Option<Cell<'a>>>> {
    let mut out = Vec::with_capacity(f.binds.len() + 1);
    for b in &f.binds {
        let found = match &b.field {
            Field::Key(p) => key.field(p),
            Field::Value(p) => value.field(p),
            _ => Lookup::Missing,
        };
        let Lookup::Found(d) = found else { panic!("field {} missing", b.field) };
        let v = convert_cell(d, &b.typ, &f.codec).expect("converts");
        out.push(MaybeUnset::Set(v));
    }
    out.push(MaybeUnset::Set(Some(CqlValue::BigInt(timestamp_ms * 1000).into())));
    out
}

fn serialize(f: &Fixture, values: &Vec<MaybeUnset<Option<Cell<'_>>>>, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let ctx = RowSerializationContext::from_specs(&f.specs);
    values.serialize(&ctx, &mut RowWriter::new(buf)).expect("serializes");
    buf.len()
}

/// The whole path for one record; the serialized size.
fn process(f: &Fixture, key: &[u8], value: &[u8], ts: i64, buf: &mut Vec<u8>) -> usize {
    let (k, v) = decode(f, key, value);
    let values = map(f, &k, &v, ts);
    serialize(f, &values, buf)
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let mut c = Criterion::default().configure_from_args();
    for workload in [Workload::Ticks, Workload::Quotes] {
        run(&mut c, workload, bench_mode);
    }
    c.final_summary();
}

/// The criterion groups of one workload, then its allocations per record and its best pass.
fn run(c: &mut Criterion, workload: Workload, bench_mode: bool) {
    let f = Fixture::new(workload);
    let recs = records(workload, 1_000);
    let mut buf = Vec::with_capacity(256);
    let group = match workload {
        Workload::Ticks => "ticks_json",
        Workload::Quotes => "quotes_avro",
    };

    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(recs.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            for (k, v, _) in &recs {
                black_box(decode(&f, k, v));
            }
        })
    });
    g.bench_function("decode_map", |b| {
        b.iter(|| {
            for (k, v, ts) in &recs {
                let (kd, vd) = decode(&f, k, v);
                black_box(map(&f, &kd, &vd, *ts));
            }
        })
    });
    g.bench_function("decode_map_serialize", |b| {
        b.iter(|| {
            for (k, v, ts) in &recs {
                black_box(process(&f, k, v, *ts, &mut buf));
            }
        })
    });
    g.finish();

    // Where map's time goes: each column's conversion alone, over the same decoded records.
    let decoded: Vec<(Data, Data)> = recs.iter().map(|(k, v, _)| decode(&f, k, v)).collect();
    let mut g = c.benchmark_group(format!("{group}_convert"));
    g.throughput(Throughput::Elements(decoded.len() as u64));
    for b in &f.binds {
        g.bench_function(b.field.to_string(), |bencher| {
            bencher.iter(|| {
                for (k, v) in &decoded {
                    let found = match &b.field {
                        Field::Key(p) => k.field(p),
                        Field::Value(p) => v.field(p),
                        _ => Lookup::Missing,
                    };
                    if let Lookup::Found(d) = found {
                        black_box(convert_cell(d, &b.typ, &f.codec).expect("converts"));
                    }
                }
            })
        });
    }
    g.finish();

    // Allocations per record, over records already generated (the buffer is reused as the
    // driver reuses its request buffer).
    let sample = records(workload, 10_000);
    let mut bytes_out = 0;
    let (a0, b0) = (ALLOCATIONS.load(Ordering::Relaxed), ALLOCATED_BYTES.load(Ordering::Relaxed));
    for (k, v, ts) in &sample {
        bytes_out += process(&f, k, v, *ts, &mut buf);
    }
    let allocs = (ALLOCATIONS.load(Ordering::Relaxed) - a0) as f64 / sample.len() as f64;
    let alloc_bytes = (ALLOCATED_BYTES.load(Ordering::Relaxed) - b0) as f64 / sample.len() as f64;
    let in_bytes: usize = sample.iter().map(|(k, v, _)| k.len() + v.len()).sum();
    println!(
        "record_path {group}: {allocs:.1} allocations ({alloc_bytes:.0} bytes) per record; {:.0} bytes in, {:.0} bytes of bound values out per record",
        in_bytes as f64 / sample.len() as f64,
        bytes_out as f64 / sample.len() as f64
    );
    if !bench_mode {
        return;
    }

    // Records per second on one core: best of 5 passes over 200,000 records.
    let many = records(workload, 200_000);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t0 = Instant::now();
        for (k, v, ts) in &many {
            black_box(process(&f, k, v, *ts, &mut buf));
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let per_core = many.len() as f64 / best;
    println!(
        "record_path {group}: {per_core:.0} records/s on one core (decode → map → serialize, best of 5 × 200,000)"
    );

    // The targets are the JSON workload's.
    if workload != Workload::Ticks {
        return;
    }
    let target_rps = env_f64("BENCH_TARGET_RECORDS_PER_CORE", 1_500_000.0);
    let target_allocs = env_f64("BENCH_TARGET_ALLOCS_PER_RECORD", 32.0);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("record_path target: ≥ {target_rps:.0} records/s per core: {}", verdict(per_core >= target_rps));
    println!("record_path target: ≤ {target_allocs:.0} allocations per record: {}", verdict(allocs <= target_allocs));
}
