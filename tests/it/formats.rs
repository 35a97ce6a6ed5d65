//! Record formats end to end: JsonConverter with schemas (Connect Structs and logical types), and
//! the AvroConverter, ProtobufConverter and JsonSchemaConverter (Confluent wire format, schema
//! registry), against the real Kafka and Cassandra, with the real binary.
//!
//! The Avro records are encoded by fastavro, the Protobuf records by Google's protobuf runtime
//! for Python, encoders independent of the sink's decoders (`tests/fixtures/*/make_fixtures.py`
//! wrote the `items.json` files); the expected values below are written by hand.
//!
//! The schema registry is [`RegistryDouble`], a test double serving the calls the sink makes
//! (`GET /schemas/ids/{id}`, and `GET /subjects/{subject}/versions/{version}` for references). No real registry can run on this machine: Confluent Schema Registry
//! is not on Maven Central; Apicurio Registry's application jar is (2.6.13.Final, 3.3.3) but it
//! is not packaged to run, and a Quarkus build of it fails because its dependency
//! `io.apicurio:apicurio-registry-schema-util-provider` is not published there; Karapace is not
//! on PyPI.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bigdecimal::BigDecimal;
use rdkafka::Message;
use scylla::value::{CqlDate, CqlTime, CqlTimestamp, CqlValue};
use serde_json::{Value, json};

use crate::common::*;

const TS0: i64 = 1_700_000_000_000;

/// A test double of a Confluent-compatible schema registry: `GET /schemas/ids/{id}` and `GET
/// /subjects/{subject}/versions/{version}` (for references). It can be switched "down" (HTTP
/// 503) and counts requests per id.
struct RegistryDouble {
    url: String,
    state: Arc<Mutex<RegistryState>>,
}

#[derive(Default)]
struct RegistryState {
    /// The answer for each id (`schema`, and `schemaType` and `references` when not Avro).
    schemas: HashMap<u32, Value>,
    /// `subject/version` → id.
    subjects: HashMap<String, u32>,
    down: bool,
    hits: HashMap<u32, usize>,
}

impl RegistryDouble {
    /// Avro schemas by id.
    fn start(schemas: HashMap<u32, String>) -> RegistryDouble {
        let answers = schemas.into_iter().map(|(id, s)| (id, json!({ "schema": s }))).collect();
        RegistryDouble::start_with(answers, HashMap::new())
    }

    /// Answers by id, and the ids of `subject/version`s.
    fn start_with(schemas: HashMap<u32, Value>, subjects: HashMap<String, u32>) -> RegistryDouble {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the registry double");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(RegistryState { schemas, subjects, ..RegistryState::default() }));
        let shared = state.clone();
        // Lives until the test process ends; one connection at a time is plenty.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body) = {
                    let mut st = shared.lock().unwrap_or_else(|e| e.into_inner());
                    let id = path.strip_prefix("/schemas/ids/").and_then(|i| i.parse::<u32>().ok()).or_else(|| {
                        let (subject, version) = path.strip_prefix("/subjects/")?.split_once("/versions/")?;
                        st.subjects.get(&format!("{subject}/{version}")).copied()
                    });
                    if st.down {
                        ("503 Service Unavailable", json!({"error_code": 50301, "message": "down"}).to_string())
                    } else {
                        match id {
                            Some(id) => {
                                *st.hits.entry(id).or_default() += 1;
                                match st.schemas.get(&id) {
                                    Some(answer) => ("200 OK", answer.to_string()),
                                    None => (
                                        "404 Not Found",
                                        json!({"error_code": 40403, "message": "Schema not found"}).to_string(),
                                    ),
                                }
                            }
                            None => ("404 Not Found", json!({"error_code": 404, "message": "HTTP 404"}).to_string()),
                        }
                    }
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        RegistryDouble { url, state }
    }

    fn set_down(&self, down: bool) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).down = down;
    }

    fn hits(&self, id: u32) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).hits.get(&id).copied().unwrap_or(0)
    }
}

/// fastavro's records (Confluent-framed) and the schemas of their ids.
struct Fixtures {
    schemas: HashMap<u32, String>,
    records: Vec<Vec<u8>>,
}

fn fixtures() -> Fixtures {
    let v: Value = serde_json::from_str(include_str!("../fixtures/avro/items.json")).expect("fixtures");
    let schemas = v["schemas"]
        .as_object()
        .expect("schemas")
        .iter()
        .map(|(id, s)| (id.parse().expect("id"), s.as_str().expect("schema text").to_string()))
        .collect();
    let records = v["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|h| {
            let h = h.as_str().expect("hex");
            (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex")).collect()
        })
        .collect();
    Fixtures { schemas, records }
}

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).expect("decimal")
}

fn date(days: i64) -> CqlDate {
    CqlDate(((1i64 << 31) + days) as u32)
}

fn udt_fields(v: &Option<CqlValue>) -> HashMap<String, Option<CqlValue>> {
    match v {
        Some(CqlValue::UserDefinedType { fields, .. }) => fields.iter().cloned().collect(),
        other => panic!("expected a UDT, got {other:?}"),
    }
}

/// A format test's case: its topic (one partition), keyspace and connector are all its id.
async fn format_case(prefix: &str, schema: &[&str]) -> Case {
    let c = Case::new(prefix, schema).await;
    c.topic("", &[]).await;
    c
}

/// What the format tests do with their case: `worker_extra` goes to the worker file, `body` to
/// the connector file after `topics=<id>`.
trait FormatRuns {
    fn files(&self, worker_extra: &str, body: &str) -> (PathBuf, PathBuf);
    /// Runs the sink until `total` records are committed, then stops it; its log.
    async fn run_until(&self, worker_extra: &str, body: &str, total: i64) -> String;
    /// Runs the sink until it stops by itself at a record no policy tolerates; its log.
    fn run_until_held(&self, worker_extra: &str, body: &str) -> String;
    /// Connector settings: the `items` table's mapping and a value converter reading `registry`.
    fn registry_connector(&self, mapping: &str, converter: &str, registry: &str, extra: &str) -> String;
    /// After a run stopped by the record at offset 1 failing with `reason`: that record is
    /// logged, the one before it written and committed, nothing after it.
    async fn assert_stopped_at_offset_1(&self, table: &str, log: &str, reason: &str);
}

impl FormatRuns for Case {
    fn files(&self, worker_extra: &str, body: &str) -> (PathBuf, PathBuf) {
        (self.worker(worker_extra), self.connector(&format!("topics={}\n{body}", self.id)))
    }

    async fn run_until(&self, worker_extra: &str, body: &str, total: i64) -> String {
        let connector = self.connector(&format!("topics={}\n{body}", self.id));
        self.run_with(worker_extra, &connector, &[(&self.id, total)]).await
    }

    fn run_until_held(&self, worker_extra: &str, body: &str) -> String {
        run_until_held(&self.files(worker_extra, body), LAND)
    }

    fn registry_connector(&self, mapping: &str, converter: &str, registry: &str, extra: &str) -> String {
        let id = &self.id;
        format!(
            "topic.{id}.{id}.items.mapping={mapping}\n\
             value.converter={converter}\nvalue.converter.schema.registry.url={registry}\n{extra}"
        )
    }

    async fn assert_stopped_at_offset_1(&self, table: &str, log: &str, reason: &str) {
        assert!(log.contains(&format!("(topic={}, partition=0, offset=1, field=value): {reason}", self.id)), "{log}");
        assert_eq!(self.committed(&self.id), 1, "stopped at the bad record");
        assert_eq!(self.count(table).await, 1);
    }
}

/// Dead letters of the decode stage, one per `(key, offset, reason)`, each naming its record.
fn assert_decode_dead_letters(dlq: &str, topic: &str, expected: &[(&str, i64, &str)]) {
    let letters = consume(dlq, expected.len(), Duration::from_secs(30));
    assert_eq!(letters.len(), expected.len(), "one dead letter per bad record");
    for (key, offset, reason) in expected {
        let m =
            letters.iter().find(|m| m.key() == Some(key.as_bytes())).unwrap_or_else(|| panic!("no letter for {key}"));
        assert_eq!(header(m, "__connect.errors.stage").as_deref(), Some("decode"));
        assert_eq!(header(m, "__connect.errors.offset"), Some(offset.to_string()));
        let message = header(m, "__connect.errors.exception.message").unwrap_or_default();
        let context = format!("(topic={topic}, partition=0, offset={offset}, field=value): ");
        assert!(message.contains(&context) && message.contains(reason), "{message}");
    }
}

/// The error-policy settings that send failures to the dead-letter topic `dlq`.
fn dead_letters(dlq: &str) -> String {
    format!(
        "errors.tolerance=all\nerrors.deadletterqueue.topic.name={dlq}\nerrors.deadletterqueue.topic.replication.factor=1\n"
    )
}

/// The JsonConverter envelope of one record of the `cj` table's schema.
fn connect_envelope(payload: Value) -> Vec<u8> {
    let f = |name: &str, schema: Value| {
        let mut s = schema;
        s["field"] = json!(name);
        s
    };
    let schema = json!({
        "type": "struct", "name": "com.example.Item", "optional": false,
        "fields": [
            f("id", json!({"type": "int64"})),
            f("i8", json!({"type": "int8"})),
            f("i16", json!({"type": "int16"})),
            f("i32", json!({"type": "int32"})),
            f("f32", json!({"type": "float32"})),
            f("f64", json!({"type": "float64"})),
            f("flag", json!({"type": "boolean"})),
            f("name", json!({"type": "string"})),
            f("raw", json!({"type": "bytes"})),
            f("price", json!({"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
                "parameters": {"scale": "2", "connect.decimal.precision": "10"}})),
            f("price_num", json!({"type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
                "parameters": {"scale": "3"}})),
            f("day", json!({"type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1})),
            f("at", json!({"type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1})),
            f("ts", json!({"type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1})),
            f("tags", json!({"type": "array", "items": {"type": "string"}})),
            f("counts", json!({"type": "map", "keys": {"type": "string"}, "values": {"type": "int32"}})),
            f("addr", json!({"type": "struct", "name": "com.example.Addr", "optional": true, "fields": [
                {"field": "street", "type": "string"},
                {"field": "zip", "type": "int32", "optional": true},
            ]})),
            f("opt", json!({"type": "string", "optional": true})),
            f("def", json!({"type": "int32", "optional": true, "default": 7})),
        ]
    });
    json!({"schema": schema, "payload": payload}).to_string().into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn json_converter_with_schemas_writes_typed_rows() {
    let c = format_case(
        "fmt_cj",
        &[
            "CREATE TYPE {ks}.addr (street text, zip int)",
            "CREATE TABLE {ks}.cj (id bigint PRIMARY KEY, i8 tinyint, i16 smallint, i32 int, f32 float, f64 double, \
             flag boolean, name text, raw blob, price decimal, price_num decimal, day date, at time, ts timestamp, \
             tags list<text>, counts map<text, int>, addr frozen<addr>, zip int, opt text, def int, ts_text text)",
        ],
    )
    .await;
    let (topic, ks) = (&c.id, &c.id);
    let full = json!({
        "id": 1, "i8": -128, "i16": 32767, "i32": -5, "f32": 0.1, "f64": 0.1, "flag": true, "name": "Zoë",
        // Base64 of [1, 2, 3]; of 12345 (0x3039), scale 2 → 123.45 (decimal.format=BASE64).
        "raw": "AQID", "price": "MDk=",
        // decimal.format=NUMERIC.
        "price_num": 12.345,
        "day": 19780, "at": 45296789, "ts": 1709892930123i64,
        "tags": ["a", "b"], "counts": {"x": 1, "y": 2},
        "addr": {"street": "Main", "zip": 12345}, "opt": "o", "def": 3
    });
    let sparse = json!({
        "id": 2, "i8": 0, "i16": 0, "i32": 0, "f32": -2.5, "f64": 1e300, "flag": false, "name": "",
        // -1 (0xff), scale 2 → -0.01.
        "raw": "", "price": "/w==", "price_num": -0.5,
        "day": -1, "at": 0, "ts": 1000,
        "tags": [], "counts": {}, "addr": null
    });
    produce(
        topic,
        &[Rec::kv("k1", connect_envelope(full)).ts(TS0), Rec::kv("k2", connect_envelope(sparse)).ts(TS0 + 1)],
    )
    .await;

    let mapping = "id=value.id, i8=value.i8, i16=value.i16, i32=value.i32, f32=value.f32, f64=value.f64, \
        flag=value.flag, name=value.name, raw=value.raw, price=value.price, price_num=value.price_num, \
        day=value.day, at=value.at, ts=value.ts, tags=value.tags, counts=value.counts, addr=value.addr, \
        zip=value.addr.zip, opt=value.opt, def=value.def, ts_text=value.ts, __timestamp=value.ts";
    let worker = "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=true\n";
    c.run_until(worker, &format!("topic.{topic}.{ks}.cj.mapping={mapping}\n"), 2).await;

    type Scalars = (i64, i8, i16, i32, f32, f64, bool, String, Option<Vec<u8>>, BigDecimal, BigDecimal, CqlDate);
    let rows: Vec<Scalars> = c
        .select(&format!(
            "SELECT id, i8, i16, i32, f32, f64, flag, name, raw, price, price_num, day FROM {ks}.cj WHERE id = 1"
        ))
        .await;
    assert_eq!(
        rows,
        vec![(
            1,
            -128,
            32767,
            -5,
            0.1f32,
            0.1,
            true,
            "Zoë".to_string(),
            Some(vec![1, 2, 3]),
            dec("123.45"),
            dec("12.345"),
            date(19_780)
        )]
    );
    type Rest = (
        CqlTime,
        CqlTimestamp,
        Option<Vec<String>>,
        Option<HashMap<String, i32>>,
        Option<CqlValue>,
        Option<i32>,
        Option<String>,
        Option<i32>,
        String,
        i64,
    );
    let rows: Vec<Rest> = c
        .select(&format!(
            "SELECT at, ts, tags, counts, addr, zip, opt, def, ts_text, writetime(name) FROM {ks}.cj WHERE id = 1"
        ))
        .await;
    let (at, ts, tags, counts, addr, zip, opt, def, ts_text, write_time) = rows.into_iter().next().expect("row 1");
    assert_eq!(at, CqlTime(45_296_789_000_000));
    assert_eq!(ts, CqlTimestamp(1_709_892_930_123));
    assert_eq!(tags, Some(vec!["a".to_string(), "b".to_string()]));
    assert_eq!(counts, Some(HashMap::from([("x".to_string(), 1), ("y".to_string(), 2)])));
    let addr = udt_fields(&addr);
    assert_eq!(addr.get("street"), Some(&Some(CqlValue::Text("Main".into()))));
    assert_eq!(addr.get("zip"), Some(&Some(CqlValue::Int(12345))));
    assert_eq!(zip, Some(12345), "nested path value.addr.zip");
    assert_eq!(opt.as_deref(), Some("o"));
    assert_eq!(def, Some(3));
    assert_eq!(ts_text, "2024-03-08T10:15:30.123Z");
    assert_eq!(write_time, 1_709_892_930_123_000, "__timestamp from a Connect Timestamp is that instant");

    type Sparse = (f32, f64, Option<Vec<u8>>, BigDecimal, BigDecimal, CqlDate, CqlTimestamp, Option<Vec<String>>);
    let rows: Vec<Sparse> =
        c.select(&format!("SELECT f32, f64, raw, price, price_num, day, ts, tags FROM {ks}.cj WHERE id = 2")).await;
    assert_eq!(rows, vec![(-2.5, 1e300, None, dec("-0.01"), dec("-0.5"), date(-1), CqlTimestamp(1000), None)]);
    type Nulls = (Option<CqlValue>, Option<i32>, Option<String>, Option<i32>, String);
    let rows: Vec<Nulls> = c.select(&format!("SELECT addr, zip, opt, def, name FROM {ks}.cj WHERE id = 2")).await;
    assert_eq!(
        rows,
        vec![(None, None, None, Some(7), String::new())],
        "null struct, null nested path, absent optional, the schema default, an empty text"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_converter_schema_errors_name_the_record() {
    let c = format_case("fmt_cj_bad", &["CREATE TABLE {ks}.t (id bigint PRIMARY KEY, n int)"]).await;
    let (topic, ks) = (&c.id, &c.id);
    let schema =
        json!({"type": "struct", "fields": [{"field": "id", "type": "int64"}, {"field": "n", "type": "int8"}]});
    let good = |i: i64| json!({"schema": schema, "payload": {"id": i, "n": 1}}).to_string();
    produce(
        topic,
        &[
            Rec::kv("a", good(1)).ts(TS0),
            Rec::kv("b", json!({"schema": schema, "payload": {"id": 2, "n": 300}}).to_string()).ts(TS0),
            Rec::kv("c", good(3)).ts(TS0),
        ],
    )
    .await;
    let log = c.run_until_held(
        "value.converter=org.apache.kafka.connect.json.JsonConverter\n",
        &format!("topic.{topic}.{ks}.t.mapping=id=value.id, n=value.n\n"),
    );
    let reason = "Payload does not match its Connect schema at 'n': 300 is out of range for a INT8 field";
    c.assert_stopped_at_offset_1("t", &log, reason).await;
}

const POINT: &str = "CREATE TYPE {ks}.point (lat double, lon double)";
const ADDRESS_GEO: &str = "CREATE TYPE {ks}.address (street text, zip int, geo frozen<point>)";

const AVRO_ITEMS: [&str; 3] = [
    POINT,
    ADDRESS_GEO,
    "CREATE TABLE {ks}.items (id int PRIMARY KEY, name text, price decimal, fprice decimal, day date, \
     at_ms time, at_us time, ts_ms timestamp, ts_us timestamp, uid uuid, tags list<text>, \
     attrs map<text, bigint>, kind text, hash blob, note text, score float, ratio double, flag boolean, \
     big bigint, addr frozen<address>, zip int, day_text text, ts_text text)",
];

const AVRO_MAPPING: &str = "id=value.id, name=value.name, price=value.price, fprice=value.fprice, day=value.day, \
    at_ms=value.at_ms, at_us=value.at_us, ts_ms=value.ts_ms, ts_us=value.ts_us, uid=value.uid, tags=value.tags, \
    attrs=value.attrs, kind=value.kind, hash=value.hash, note=value.note, score=value.score, ratio=value.ratio, \
    flag=value.flag, big=value.big, addr=value.addr, zip=value.addr.zip, day_text=value.day, ts_text=value.ts_us";

/// The connector settings of the Avro tests: the mapping, and the converter as a connector
/// override of the worker's StringConverter.
fn avro_connector(c: &Case, registry: &str, extra: &str) -> String {
    c.registry_connector(AVRO_MAPPING, "io.confluent.connect.avro.AvroConverter", registry, extra)
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_records_land_with_logical_types_and_nested_udts() {
    let c = format_case("fmt_avro", &AVRO_ITEMS).await;
    let (topic, ks) = (&c.id, &c.id);
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    let records: Vec<Rec> =
        fx.records.iter().enumerate().map(|(i, r)| Rec::kv(format!("k{i}"), r.clone()).ts(TS0 + i as i64)).collect();
    produce(topic, &records).await;
    c.run_until("", &avro_connector(&c, &registry.url, ""), 3).await;
    assert_eq!((registry.hits(1), registry.hits(2)), (1, 1), "each schema fetched once");

    type Row1 = (String, BigDecimal, BigDecimal, CqlDate, CqlTime, CqlTime, CqlTimestamp, CqlTimestamp, uuid::Uuid);
    let rows: Vec<Row1> = c
        .select(&format!(
            "SELECT name, price, fprice, day, at_ms, at_us, ts_ms, ts_us, uid FROM {ks}.items WHERE id = 1"
        ))
        .await;
    assert_eq!(
        rows,
        vec![(
            "Zoë ✓".to_string(),
            dec("1234.56"),
            dec("-12.345"),
            date(19_780),
            CqlTime(45_296_789_000_000),
            CqlTime(45_296_789_012_000),
            CqlTimestamp(1_709_892_930_123),
            // timestamp-micros: the microseconds beyond CQL's milliseconds are dropped.
            CqlTimestamp(1_709_892_930_123),
            uuid::Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").expect("uuid"),
        )]
    );
    type Row2 = (
        Option<Vec<String>>,
        Option<HashMap<String, i64>>,
        String,
        Vec<u8>,
        Option<String>,
        f32,
        f64,
        bool,
        i64,
        Option<i32>,
        String,
        String,
    );
    let rows: Vec<Row2> = c.select(&format!(
            "SELECT tags, attrs, kind, hash, note, score, ratio, flag, big, zip, day_text, ts_text FROM {ks}.items WHERE id = 1"
        ),
    )
    .await;
    assert_eq!(
        rows,
        vec![(
            Some(vec!["a".to_string(), "b".to_string()]),
            Some(HashMap::from([("x".to_string(), 1), ("y".to_string(), -2)])),
            "GOLD".to_string(),
            vec![1, 2, 3, 4],
            Some("hello".to_string()),
            1.5,
            0.1,
            true,
            1 << 40,
            Some(12345),
            "2024-02-27".to_string(),
            "2024-03-08T10:15:30.123456Z".to_string(),
        )]
    );
    let rows: Vec<(Option<CqlValue>,)> = c.select(&format!("SELECT addr FROM {ks}.items WHERE id = 1")).await;
    let addr = udt_fields(&rows[0].0);
    assert_eq!(addr.get("street"), Some(&Some(CqlValue::Text("Main St".into()))));
    assert_eq!(addr.get("zip"), Some(&Some(CqlValue::Int(12345))));
    let geo = udt_fields(addr.get("geo").expect("geo"));
    assert_eq!(geo.get("lat"), Some(&Some(CqlValue::Double(48.85))));
    assert_eq!(geo.get("lon"), Some(&Some(CqlValue::Double(2.35))));

    type Row3 = (
        String,
        BigDecimal,
        BigDecimal,
        CqlDate,
        CqlTime,
        CqlTimestamp,
        CqlTimestamp,
        Option<Vec<String>>,
        Option<String>,
        f64,
        i64,
    );
    let rows: Vec<Row3> = c
        .select(&format!(
            "SELECT name, price, fprice, day, at_us, ts_ms, ts_us, tags, note, ratio, big FROM {ks}.items WHERE id = 2"
        ))
        .await;
    assert_eq!(
        rows,
        vec![(
            String::new(),
            dec("-0.01"),
            dec("0.000"),
            date(-1),
            CqlTime(86_399_999_999_000),
            CqlTimestamp(-1),
            CqlTimestamp(0),
            None,
            None,
            -1e300,
            -1,
        )]
    );
    // Written with the second schema id (one more field, unmapped).
    let rows: Vec<(String, i64, BigDecimal)> =
        c.select(&format!("SELECT name, big, price FROM {ks}.items WHERE id = 3")).await;
    assert_eq!(rows, vec![("v2".to_string(), i64::MAX, dec("99999999.99"))]);
}

async fn wait_for_log(sink: &Sink, text: &str) {
    let deadline = Instant::now() + LAND;
    while !sink.log().contains(text) {
        assert!(Instant::now() < deadline, "«{text}» not logged:\n{}", sink.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A Confluent frame of schema `id` around `body`.
fn framed(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_bad_framing_stops_the_connector_under_the_default_policy() {
    let c = format_case("fmt_avro_stop", &AVRO_ITEMS).await;
    let (topic, ks) = (&c.id, &c.id);
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    produce(
        topic,
        &[
            Rec::kv("k0", fx.records[0].clone()).ts(TS0),
            Rec::kv("k1", br#"{"id":9}"#.to_vec()).ts(TS0),
            Rec::kv("k2", fx.records[1].clone()).ts(TS0),
        ],
    )
    .await;
    // The converter set in the worker file this time.
    let log = c.run_until_held(
        &format!(
            "value.converter=io.confluent.connect.avro.AvroConverter\nvalue.converter.schema.registry.url={}\n",
            registry.url
        ),
        &format!("topic.{topic}.{ks}.items.mapping={AVRO_MAPPING}\n"),
    );
    assert!(log.contains("Error decoding/mapping Kafka record (topic="), "{log}");
    c.assert_stopped_at_offset_1("items", &log, "Unknown magic byte 0x7b").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_bad_framing_is_dead_lettered_under_errors_tolerance_all() {
    let c = format_case("fmt_avro_dlq", &AVRO_ITEMS).await;
    let s = &c.s;
    let (topic, ks, dlq) = (&c.id, &c.id, format!("{}_dlq", c.id));
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    let body0 = &fx.records[0][5..];
    produce(
        topic,
        &[
            Rec::kv("k0", fx.records[0].clone()).ts(TS0),
            Rec::kv("magic", br#"{"id":9}"#.to_vec()).ts(TS0),
            Rec::kv("unknown", framed(99, body0)).ts(TS0),
            Rec::kv("truncated", fx.records[0][..fx.records[0].len() / 2].to_vec()).ts(TS0),
            Rec::kv("short", vec![0, 0, 1]).ts(TS0),
            Rec::kv("k1", fx.records[1].clone()).ts(TS0),
            Rec::kv("k2", fx.records[2].clone()).ts(TS0),
        ],
    )
    .await;
    c.run_until("", &avro_connector(&c, &registry.url, &dead_letters(&dlq)), 7).await;
    assert_eq!(count(s, &format!("{ks}.items")).await, 3);
    assert_decode_dead_letters(
        &dlq,
        topic,
        &[
            ("magic", 1, "Unknown magic byte 0x7b"),
            ("unknown", 2, "Schema 99 not found in the schema registry (HTTP 404, error_code 40403: Schema not found)"),
            ("truncated", 3, "Invalid Avro data in field '"),
            ("short", 4, "too short for the Confluent wire format"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_that_is_down_holds_records_back_instead_of_failing_them() {
    let c = format_case("fmt_avro_down", &AVRO_ITEMS).await;
    let s = &c.s;
    let (topic, ks) = (&c.id, &c.id);
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    registry.set_down(true);
    produce(topic, &[Rec::kv("k0", fx.records[0].clone()).ts(TS0), Rec::kv("k2", fx.records[2].clone()).ts(TS0)]).await;
    // Even a policy that tolerates every failure must not skip records for a registry outage.
    let (worker, conn) = c.files("", &avro_connector(&c, &registry.url, "errors.tolerance=all\n"));
    let group = format!("connect-{topic}");

    // 1. Down: the sink keeps running and retrying, writes nothing, commits nothing; a graceful
    //    stop leaves the records for later.
    let sink = Sink::start(&worker, &[&conn]);
    wait_for_log(&sink, "schema registry unavailable").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    sink.signal("0"); // still running
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("schema registry unavailable, records wait and are retried"), "{log}");
    assert!(log.contains("HTTP 503"), "{log}");
    assert_eq!(count(s, &format!("{ks}.items")).await, 0);
    assert_eq!(c.committed(&c.id), 0, "nothing skipped or committed");

    // 2. Down at start, back up later: the records land once it answers.
    let sink = Sink::start(&worker, &[&conn]);
    wait_for_log(&sink, "schema registry unavailable").await;
    registry.set_down(false);
    assert_eq!(wait_committed(&group, topic, 1, 2, LAND).await, 2, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(count(s, &format!("{ks}.items")).await, 2);
    assert!(log.contains("schema registry reachable again"), "{log}");
}

/// Records (key, Confluent-framed value) and registry answers of a fixture file written by one
/// of the `make_fixtures.py` generators.
struct Framed {
    schemas: HashMap<u32, Value>,
    subjects: HashMap<String, u32>,
    records: Vec<(String, Vec<u8>)>,
}

fn framed_fixtures(text: &str) -> Framed {
    let v: Value = serde_json::from_str(text).expect("fixtures");
    let schemas =
        v["schemas"].as_object().expect("schemas").iter().map(|(id, s)| (id.parse().expect("id"), s.clone())).collect();
    let subjects = v["subjects"]
        .as_object()
        .map(|m| m.iter().map(|(k, id)| (k.clone(), id.as_u64().expect("id") as u32)).collect())
        .unwrap_or_default();
    let records = v["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let h = r["value"].as_str().expect("hex");
            let bytes = (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex")).collect();
            (r["key"].as_str().expect("key").to_string(), bytes)
        })
        .collect();
    Framed { schemas, subjects, records }
}

fn protobuf_fixtures() -> Framed {
    framed_fixtures(include_str!("../fixtures/protobuf/items.json"))
}

const PROTOBUF_ITEMS: [&str; 3] = [
    POINT,
    ADDRESS_GEO,
    "CREATE TABLE {ks}.items (id int PRIMARY KEY, name text, addr frozen<address>, zip int, tags list<text>, \
     attrs map<text, bigint>, kind text, ts timestamp, day date, hash blob, note text, ratio double, \
     score float, flag boolean, big bigint, choice_text text, choice_number bigint, \
     history list<frozen<address>>, delta int, ts_text text)",
];

const PROTOBUF_MAPPING: &str = "id=value.id, name=value.name, addr=value.addr, zip=value.addr.zip, \
    tags=value.tags, attrs=value.attrs, kind=value.kind, ts=value.ts, day=value.day, hash=value.hash, \
    note=value.note, ratio=value.ratio, score=value.score, flag=value.flag, big=value.big, \
    choice_text=value.choice_0.text, choice_number=value.choice_0.number, history=value.history, \
    delta=value.delta, ts_text=value.ts";

/// The connector settings of the Protobuf tests: the mapping and the converter.
fn protobuf_connector(c: &Case, registry: &str, extra: &str) -> String {
    c.registry_connector(PROTOBUF_MAPPING, "io.confluent.connect.protobuf.ProtobufConverter", registry, extra)
}

#[tokio::test(flavor = "multi_thread")]
async fn protobuf_records_land_with_nested_udts_lists_maps_and_well_known_types() {
    let c = format_case("fmt_proto", &PROTOBUF_ITEMS).await;
    let (topic, ks) = (&c.id, &c.id);
    let fx = protobuf_fixtures();
    let registry = RegistryDouble::start_with(fx.schemas.clone(), fx.subjects.clone());
    let records: Vec<Rec> = fx.records[..3]
        .iter()
        .enumerate()
        .map(|(i, (k, v))| Rec::kv(k.clone(), v.clone()).ts(TS0 + i as i64))
        .collect();
    produce(topic, &records).await;
    c.run_until("", &protobuf_connector(&c, &registry.url, ""), 3).await;
    assert_eq!((registry.hits(1), registry.hits(2)), (1, 1), "the schema and its reference, fetched once");

    type Row1 = (
        String,
        Option<i32>,
        Option<Vec<String>>,
        Option<HashMap<String, i64>>,
        String,
        CqlTimestamp,
        CqlDate,
        Vec<u8>,
        Option<String>,
        Option<f64>,
        f32,
        bool,
    );
    let rows: Vec<Row1> = c
        .select(&format!(
            "SELECT name, zip, tags, attrs, kind, ts, day, hash, note, ratio, score, flag FROM {ks}.items WHERE id = 1"
        ))
        .await;
    assert_eq!(
        rows,
        vec![(
            "Zoë ✓".to_string(),
            Some(12345),
            Some(vec!["a".to_string(), "b".to_string()]),
            Some(HashMap::from([("x".to_string(), 1), ("y".to_string(), -2)])),
            "GOLD".to_string(),
            CqlTimestamp(1_709_892_930_123),
            date(19_780),
            vec![1, 2, 3, 4],
            Some("hello".to_string()),
            Some(0.1),
            1.5,
            true,
        )]
    );
    type Row2 = (i64, Option<String>, Option<i64>, Option<Vec<CqlValue>>, i32, String, Option<CqlValue>);
    let rows: Vec<Row2> = c
        .select(&format!(
            "SELECT big, choice_text, choice_number, history, delta, ts_text, addr FROM {ks}.items WHERE id = 1"
        ))
        .await;
    let (big, choice_text, choice_number, history, delta, ts_text, addr) = rows.into_iter().next().expect("row 1");
    assert_eq!((big, choice_text.as_deref(), choice_number, delta), (1 << 40, Some("chosen"), None, -5));
    assert_eq!(ts_text, "2024-03-08T10:15:30.123456Z");
    let addr = udt_fields(&addr);
    assert_eq!(addr.get("street"), Some(&Some(CqlValue::Text("Main St".into()))));
    let geo = udt_fields(addr.get("geo").expect("geo"));
    assert_eq!(geo.get("lat"), Some(&Some(CqlValue::Double(48.85))));
    let history = history.expect("history");
    assert_eq!(history.len(), 2);
    let old = udt_fields(&Some(history[1].clone()));
    assert_eq!(old.get("street"), Some(&Some(CqlValue::Text("Old".into()))));
    assert_eq!(old.get("zip"), Some(&Some(CqlValue::Int(1))));
    assert_eq!(old.get("geo"), Some(&None));

    // Absent proto3 scalars are their defaults; absent messages, optional fields and wrappers null.
    type Row3 = (
        String,
        Option<CqlValue>,
        Option<Vec<String>>,
        String,
        Option<CqlTimestamp>,
        Option<CqlDate>,
        Option<Vec<u8>>,
        Option<String>,
        Option<f64>,
        f32,
        bool,
        i64,
    );
    let rows: Vec<Row3> = c
        .select(&format!(
            "SELECT name, addr, tags, kind, ts, day, hash, note, ratio, score, flag, big FROM {ks}.items WHERE id = 2"
        ))
        .await;
    assert_eq!(
        rows,
        vec![(String::new(), None, None, "BASIC".to_string(), None, None, None, None, None, 0.0, false, 0)]
    );
    type Row4 = (Option<i64>, Option<String>, Option<f64>, CqlDate, CqlTimestamp, Option<i32>);
    let rows: Vec<Row4> =
        c.select(&format!("SELECT choice_number, note, ratio, day, ts, zip FROM {ks}.items WHERE id = 3")).await;
    assert_eq!(rows, vec![(Some(42), Some(String::new()), Some(0.0), date(-1), CqlTimestamp(-1), Some(0))]);
}

#[tokio::test(flavor = "multi_thread")]
async fn protobuf_bad_framing_is_dead_lettered_with_the_reason() {
    let c = format_case("fmt_proto_dlq", &PROTOBUF_ITEMS).await;
    let s = &c.s;
    let (topic, ks, dlq) = (&c.id, &c.id, format!("{}_dlq", c.id));
    let fx = protobuf_fixtures();
    let registry = RegistryDouble::start_with(fx.schemas.clone(), fx.subjects.clone());
    let good = fx.records[0].1.clone();
    // Schema 1, message indexes [1] (Item), then the body.
    let body = &good[7..];
    let mut bad_index = vec![0, 0, 0, 0, 1, 2, 10];
    bad_index.extend_from_slice(body);
    let mut unknown = vec![0, 0, 0, 0, 99, 0];
    unknown.extend_from_slice(body);
    produce(
        topic,
        &[
            Rec::kv("k1", good.clone()).ts(TS0),
            Rec::kv("magic", br#"{"id":9}"#.to_vec()).ts(TS0),
            Rec::kv("unknown", unknown).ts(TS0),
            Rec::kv("index", bad_index).ts(TS0),
            Rec::kv("truncated", good[..good.len() - 3].to_vec()).ts(TS0),
            Rec::kv("k3", fx.records[2].1.clone()).ts(TS0),
        ],
    )
    .await;
    c.run_until("", &protobuf_connector(&c, &registry.url, &dead_letters(&dlq)), 6).await;
    assert_eq!(count(s, &format!("{ks}.items")).await, 2);
    assert_decode_dead_letters(
        &dlq,
        topic,
        &[
            ("magic", 1, "Unknown magic byte 0x7b"),
            ("unknown", 2, "Schema 99 not found in the schema registry (HTTP 404, error_code 40403: Schema not found)"),
            ("index", 3, "Invalid message indexes [5]: index 5 is out of range (2 messages)"),
            ("truncated", 4, "Invalid Protobuf data for message com.example.Item"),
        ],
    );
}

fn json_schema_fixtures() -> Framed {
    framed_fixtures(include_str!("../fixtures/jsonschema/items.json"))
}

const ADDRESS: &str = "CREATE TYPE {ks}.address (street text, zip int)";

const JSON_SCHEMA_ORDERS: [&str; 2] = [
    ADDRESS,
    "CREATE TABLE {ks}.orders (id int PRIMARY KEY, customer text, price decimal, day date, at time, \
     ts timestamp, qty smallint, ratio double, tags list<text>, counts map<text, int>, \
     addr frozen<address>, zip int, raw blob, flag boolean, shipped date, ts_text text)",
];

const JSON_SCHEMA_MAPPING: &str = "id=value.id, customer=value.customer, price=value.price, day=value.day, \
    at=value.at, ts=value.ts, qty=value.qty, ratio=value.ratio, tags=value.tags, counts=value.counts, \
    addr=value.addr, zip=value.addr.zip, raw=value.raw, flag=value.flag, shipped=value.shipped, ts_text=value.ts, \
    __timestamp=value.ts";

#[tokio::test(flavor = "multi_thread")]
async fn json_schema_records_land_typed_by_their_schema() {
    let c = format_case("fmt_jsonschema", &JSON_SCHEMA_ORDERS).await;
    let (topic, ks) = (&c.id, &c.id);
    let fx = json_schema_fixtures();
    let registry = RegistryDouble::start_with(fx.schemas.clone(), fx.subjects.clone());
    let records: Vec<Rec> =
        fx.records.iter().enumerate().map(|(i, (k, v))| Rec::kv(k.clone(), v.clone()).ts(TS0 + i as i64)).collect();
    produce(topic, &records).await;
    // The converter set in the worker file.
    let worker = format!(
        "value.converter=io.confluent.connect.json.JsonSchemaConverter\nvalue.converter.schema.registry.url={}\n",
        registry.url
    );
    c.run_until(&worker, &format!("topic.{topic}.{ks}.orders.mapping={JSON_SCHEMA_MAPPING}\n"), 3).await;
    assert_eq!(registry.hits(1), 1);

    type RowA = (Option<String>, BigDecimal, CqlDate, CqlTime, CqlTimestamp, i16, f64, Option<Vec<String>>);
    type RowB = (Option<HashMap<String, i32>>, Option<i32>, Option<Vec<u8>>, bool, Option<CqlDate>, String, i64);
    let query_a =
        |id: i32| format!("SELECT customer, price, day, at, ts, qty, ratio, tags FROM {ks}.orders WHERE id = {id}");
    let query_b = |id: i32| {
        format!("SELECT counts, zip, raw, flag, shipped, ts_text, writetime(price) FROM {ks}.orders WHERE id = {id}")
    };
    let rows: Vec<RowA> = c.select(&query_a(1)).await;
    assert_eq!(
        rows,
        vec![(
            Some("Zoë".to_string()),
            dec("1234.56"),
            date(19_780),
            CqlTime(45_296_789_000_000),
            CqlTimestamp(1_709_892_930_123),
            -7,
            0.1,
            Some(vec!["a".to_string(), "b".to_string()]),
        )]
    );
    let rows: Vec<RowB> = c.select(&query_b(1)).await;
    assert_eq!(
        rows,
        vec![(
            Some(HashMap::from([("x".to_string(), 1), ("y".to_string(), 2)])),
            Some(12345),
            Some(vec![1, 2, 3]),
            true,
            Some(date(19_783)),
            "2024-03-08T10:15:30.123Z".to_string(),
            1_709_892_930_123_000,
        )]
    );
    let rows: Vec<(Option<CqlValue>,)> = c.select(&format!("SELECT addr FROM {ks}.orders WHERE id = 1")).await;
    let addr = udt_fields(&rows[0].0);
    assert_eq!(addr.get("street"), Some(&Some(CqlValue::Text("Main St".into()))));
    let rows: Vec<RowA> = c.select(&query_a(2)).await;
    assert_eq!(rows, vec![(None, dec("-0.01"), date(-1), CqlTime(0), CqlTimestamp(0), 0, -1e300, None)]);
    let rows: Vec<RowB> = c.select(&query_b(2)).await;
    assert_eq!(rows, vec![(None, None, None, false, None, "1970-01-01T00:00:00Z".to_string(), 0)]);
    // The Base64 form of a decimal, and absent fields.
    let rows: Vec<(BigDecimal, CqlDate, Option<String>, Option<i16>)> =
        c.select(&format!("SELECT price, day, customer, qty FROM {ks}.orders WHERE id = 3")).await;
    assert_eq!(rows, vec![(dec("123.45"), date(0), None, None)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_schema_mismatches_stop_the_connector_under_the_default_policy() {
    let c = format_case("fmt_jsonschema_stop", &JSON_SCHEMA_ORDERS).await;
    let (topic, ks) = (&c.id, &c.id);
    let fx = json_schema_fixtures();
    let registry = RegistryDouble::start_with(fx.schemas.clone(), fx.subjects.clone());
    let mut wrong = vec![0, 0, 0, 0, 1];
    wrong.extend_from_slice(br#"{"id": 4, "qty": 40000}"#);
    produce(
        topic,
        &[
            Rec::kv("k1", fx.records[0].1.clone()).ts(TS0),
            Rec::kv("wrong", wrong).ts(TS0),
            Rec::kv("k2", fx.records[1].1.clone()).ts(TS0),
        ],
    )
    .await;
    let log = c.run_until_held(
        "",
        &format!(
            "topic.{topic}.{ks}.orders.mapping={JSON_SCHEMA_MAPPING}\n\
             value.converter=io.confluent.connect.json.JsonSchemaConverter\n\
             value.converter.schema.registry.url={}\n",
            registry.url
        ),
    );
    let reason = "JSON value does not match its JSON Schema at 'qty': 40000 is out of range for int16 (schema id 1)";
    c.assert_stopped_at_offset_1("orders", &log, reason).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_header_converter_types_headers() {
    let c = format_case(
        "fmt_hdr",
        &["CREATE TABLE {ks}.h (k text PRIMARY KEY, n int, flag boolean, nums list<int>, attrs map<text, int>, \
           at timestamp, at_ms bigint, day date, ratio double, label text, raw blob)"],
    )
    .await;
    let s = &c.s;
    let (topic, ks) = (&c.id, &c.id);
    let with_headers = |key: &str, n: &str| {
        let mut r = Rec::kv(key, "{}")
            .ts(TS0)
            .header("n", n)
            .header("flag", "true")
            .header("nums", "[1, 2, 300]")
            .header("attrs", r#"{"x": 1, "y": 70000}"#)
            .header("at", "2024-03-08T10:15:30.123Z")
            .header("day", "2024-02-27")
            .header("ratio", "0.25")
            .header("label", "hello, world");
        r.headers.push(("raw".into(), vec![0xff, 0x00, 0x01]));
        r
    };
    produce(topic, &[with_headers("a", "42"), with_headers("bad", "4x2"), with_headers("c", "-7")]).await;
    let mapping = "k=key, n=header.n, flag=header.flag, nums=header.nums, attrs=header.attrs, at=header.at, \
        at_ms=header.at, day=header.day, ratio=header.ratio, label=header.label, raw=header.raw";
    // The worker's default header converter: SimpleHeaderConverter.
    let log = c.run_until("", &format!("topic.{topic}.{ks}.h.mapping={mapping}\nerrors.tolerance=all\n"), 3).await;
    assert!(
        log.contains(&format!("(topic={topic}, partition=0, offset=1, table={ks}.h, column=n, field=header.n)")),
        "{log}"
    );

    type Row =
        (i32, bool, Option<Vec<i32>>, Option<HashMap<String, i32>>, CqlTimestamp, i64, CqlDate, f64, String, Vec<u8>);
    let rows: Vec<Row> = c
        .select(&format!("SELECT n, flag, nums, attrs, at, at_ms, day, ratio, label, raw FROM {ks}.h WHERE k = 'a'"))
        .await;
    assert_eq!(
        rows,
        vec![(
            42,
            true,
            Some(vec![1, 2, 300]),
            Some(HashMap::from([("x".to_string(), 1), ("y".to_string(), 70_000)])),
            CqlTimestamp(1_709_892_930_123),
            // A timestamp header into an integer column: its milliseconds (codec.unit).
            1_709_892_930_123,
            date(19_780),
            0.25,
            "hello, world".to_string(),
            vec![0xff, 0x00, 0x01],
        )]
    );
    let rows: Vec<(i32,)> = c.select(&format!("SELECT n FROM {ks}.h WHERE k = 'c'")).await;
    assert_eq!(rows, vec![(-7,)]);
    assert_eq!(count(s, &format!("{ks}.h")).await, 2, "the record whose header is not a number is skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_header_converter_reads_connect_structs_into_udts() {
    let c = format_case(
        "fmt_hdr_json",
        &[ADDRESS, "CREATE TABLE {ks}.hj (k text PRIMARY KEY, addr frozen<address>, n bigint)"],
    )
    .await;
    let (topic, ks) = (&c.id, &c.id);
    let addr = |payload: Value| {
        json!({"schema": {"type": "struct", "name": "com.example.Addr", "fields": [
            {"field": "street", "type": "string"},
            {"field": "zip", "type": "int32", "optional": true},
        ]}, "payload": payload})
        .to_string()
    };
    let n = json!({"schema": {"type": "int64"}, "payload": 5}).to_string();
    produce(
        topic,
        &[
            Rec::kv("a", "{}").ts(TS0).header("addr", &addr(json!({"street": "Main", "zip": 12345}))).header("n", &n),
            Rec::kv("bad", "{}").ts(TS0).header("addr", "not JSON").header("n", &n),
            Rec::kv("c", "{}").ts(TS0).header("addr", &addr(json!({"street": "Side"}))).header("n", &n),
        ],
    )
    .await;
    // The connector's header converter wins over the worker's.
    let log = c
        .run_until(
            "header.converter=org.apache.kafka.connect.storage.StringConverter\n",
            &format!(
                "topic.{topic}.{ks}.hj.mapping=k=key, addr=header.addr, n=header.n\n\
                 header.converter=org.apache.kafka.connect.json.JsonConverter\nerrors.tolerance=all\n"
            ),
            3,
        )
        .await;
    assert!(
        log.contains(&format!("(topic={topic}, partition=0, offset=1, field=header.addr): not valid JSON")),
        "{log}"
    );

    let rows: Vec<(String, Option<CqlValue>, i64)> = c.select(&format!("SELECT k, addr, n FROM {ks}.hj")).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (k, addr, n) in rows {
        let fields = udt_fields(&addr);
        let (street, zip) = if k == "a" { ("Main", Some(CqlValue::Int(12345))) } else { ("Side", None) };
        assert_eq!(fields.get("street"), Some(&Some(CqlValue::Text(street.into()))), "{k}");
        assert_eq!(fields.get("zip"), Some(&zip), "{k}");
        assert_eq!(n, 5);
    }
}

#[test]
fn an_unknown_header_converter_is_a_startup_error() {
    let id = unique("fmt_hdr_unknown");
    let (worker, conn) = sink_files(
        &id,
        &id,
        "header.converter=com.example.NoSuchConverter\n",
        &format!("topic.{id}.{id}.t.mapping=k=key\n"),
    );
    let args = [std::ffi::OsStr::new("standalone"), worker.as_os_str(), conn.as_os_str()];
    let (code, stderr) = run_to_exit(&args, Duration::from_secs(60));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "Invalid value com.example.NoSuchConverter for configuration header.converter: unsupported header \
             converter class; supported: org.apache.kafka.connect.storage.SimpleHeaderConverter, "
        ),
        "{stderr}"
    );
}
