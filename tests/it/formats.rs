//! Record formats end to end: JsonConverter with schemas (Connect Structs and logical types) and
//! the AvroConverter (Confluent wire format, schema registry), against the real Kafka and
//! Cassandra, with the real binary.
//!
//! The Avro records are encoded by fastavro, an encoder independent of the sink's decoder
//! (`tests/fixtures/avro/make_fixtures.py` wrote `items.json`); the expected values below are
//! written by hand.
//!
//! The schema registry is [`RegistryDouble`], a test double serving the one call the sink makes
//! (`GET /schemas/ids/{id}`). No real registry can run on this machine: Confluent Schema Registry
//! is not on Maven Central; Apicurio Registry's application jar is (2.6.13.Final, 3.3.3) but it
//! is not packaged to run, and a Quarkus build of it fails because its dependency
//! `io.apicurio:apicurio-registry-schema-util-provider` is not published there; Karapace is not
//! on PyPI.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bigdecimal::BigDecimal;
use rdkafka::Message;
use scylla::client::session::Session;
use scylla::deserialize::row::DeserializeRow;
use scylla::value::{CqlDate, CqlTime, CqlTimestamp, CqlValue};
use serde_json::{Value, json};

use crate::common::*;

const TS0: i64 = 1_700_000_000_000;
const LAND: Duration = Duration::from_secs(60);

/// A test double of a Confluent-compatible schema registry: `GET /schemas/ids/{id}` only.
/// It can be switched "down" (HTTP 503) and counts requests per id.
struct RegistryDouble {
    url: String,
    state: Arc<Mutex<RegistryState>>,
}

#[derive(Default)]
struct RegistryState {
    schemas: HashMap<u32, String>,
    down: bool,
    hits: HashMap<u32, usize>,
}

impl RegistryDouble {
    fn start(schemas: HashMap<u32, String>) -> RegistryDouble {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the registry double");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(RegistryState { schemas, ..RegistryState::default() }));
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
                    let id = path.strip_prefix("/schemas/ids/").and_then(|i| i.parse::<u32>().ok());
                    if st.down {
                        ("503 Service Unavailable", json!({"error_code": 50301, "message": "down"}).to_string())
                    } else {
                        match id {
                            Some(id) => {
                                *st.hits.entry(id).or_default() += 1;
                                match st.schemas.get(&id) {
                                    Some(schema) => ("200 OK", json!({ "schema": schema }).to_string()),
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

async fn select<T>(s: &Session, query: &str) -> Vec<T>
where
    T: for<'f, 'm> DeserializeRow<'f, 'm>,
{
    s.query_unpaged(query, ())
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .into_rows_result()
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .rows::<T>()
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .map(|r| r.unwrap_or_else(|e| panic!("{query}: {e}")))
        .collect()
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
    let id = unique("fmt_cj");
    let (topic, ks) = (id.clone(), id.clone());
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TYPE {ks}.addr (street text, zip int)")).await;
    cql(
        &s,
        &format!(
            "CREATE TABLE {ks}.cj (id bigint PRIMARY KEY, i8 tinyint, i16 smallint, i32 int, f32 float, f64 double, \
             flag boolean, name text, raw blob, price decimal, price_num decimal, day date, at time, ts timestamp, \
             tags list<text>, counts map<text, int>, addr frozen<addr>, zip int, opt text, def int, ts_text text)"
        ),
    )
    .await;
    create_topic(&topic, 1).await;
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
        &topic,
        &[Rec::kv("k1", connect_envelope(full)).ts(TS0), Rec::kv("k2", connect_envelope(sparse)).ts(TS0 + 1)],
    )
    .await;

    let dir = temp_dir(&id);
    let worker = worker_file(
        &dir,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=true\n",
    );
    let mapping = "id=value.id, i8=value.i8, i16=value.i16, i32=value.i32, f32=value.f32, f64=value.f64, \
        flag=value.flag, name=value.name, raw=value.raw, price=value.price, price_num=value.price_num, \
        day=value.day, at=value.at, ts=value.ts, tags=value.tags, counts=value.counts, addr=value.addr, \
        zip=value.addr.zip, opt=value.opt, def=value.def, ts_text=value.ts, __timestamp=value.ts";
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!("name={id}\ntopics={topic}\ntopic.{topic}.{ks}.cj.mapping={mapping}\n"),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let group = format!("connect-{id}");
    assert_eq!(wait_committed(&group, &topic, 1, 2, LAND).await, 2, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");

    type Scalars = (i64, i8, i16, i32, f32, f64, bool, String, Option<Vec<u8>>, BigDecimal, BigDecimal, CqlDate);
    let rows: Vec<Scalars> = select(
        &s,
        &format!("SELECT id, i8, i16, i32, f32, f64, flag, name, raw, price, price_num, day FROM {ks}.cj WHERE id = 1"),
    )
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
    let rows: Vec<Rest> = select(
        &s,
        &format!(
            "SELECT at, ts, tags, counts, addr, zip, opt, def, ts_text, writetime(name) FROM {ks}.cj WHERE id = 1"
        ),
    )
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
        select(&s, &format!("SELECT f32, f64, raw, price, price_num, day, ts, tags FROM {ks}.cj WHERE id = 2")).await;
    assert_eq!(rows, vec![(-2.5, 1e300, None, dec("-0.01"), dec("-0.5"), date(-1), CqlTimestamp(1000), None)]);
    type Nulls = (Option<CqlValue>, Option<i32>, Option<String>, Option<i32>, String);
    let rows: Vec<Nulls> = select(&s, &format!("SELECT addr, zip, opt, def, name FROM {ks}.cj WHERE id = 2")).await;
    assert_eq!(
        rows,
        vec![(None, None, None, Some(7), String::new())],
        "null struct, null nested path, absent optional, the schema default, an empty text"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_converter_schema_errors_name_the_record() {
    let id = unique("fmt_cj_bad");
    let (topic, ks) = (id.clone(), id.clone());
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (id bigint PRIMARY KEY, n int)")).await;
    create_topic(&topic, 1).await;
    let schema =
        json!({"type": "struct", "fields": [{"field": "id", "type": "int64"}, {"field": "n", "type": "int8"}]});
    let good = |i: i64| json!({"schema": schema, "payload": {"id": i, "n": 1}}).to_string();
    produce(
        &topic,
        &[
            Rec::kv("a", good(1)).ts(TS0),
            Rec::kv("b", json!({"schema": schema, "payload": {"id": 2, "n": 300}}).to_string()).ts(TS0),
            Rec::kv("c", good(3)).ts(TS0),
        ],
    )
    .await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "value.converter=org.apache.kafka.connect.json.JsonConverter\n");
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!("name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=id=value.id, n=value.n\n"),
    );
    let mut sink = Sink::start_until_end(&worker, &[&conn]);
    let status = sink.wait(LAND).expect("the connector stops by itself");
    let log = sink.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains(&format!("topic={topic}, partition=0, offset=1, field=value")), "{log}");
    assert!(
        log.contains("Payload does not match its Connect schema at 'n': 300 is out of range for a INT8 field"),
        "{log}"
    );
    assert_eq!(committed(&format!("connect-{id}"), &topic, 1).get(&0), Some(&1));
    assert_eq!(count(&s, &format!("{ks}.t")).await, 1);
}

async fn avro_items_table(ks: &str) -> Session {
    let s = cassandra().await;
    create_keyspace(&s, ks).await;
    cql(&s, &format!("CREATE TYPE {ks}.point (lat double, lon double)")).await;
    cql(&s, &format!("CREATE TYPE {ks}.address (street text, zip int, geo frozen<point>)")).await;
    cql(
        &s,
        &format!(
            "CREATE TABLE {ks}.items (id int PRIMARY KEY, name text, price decimal, fprice decimal, day date, \
             at_ms time, at_us time, ts_ms timestamp, ts_us timestamp, uid uuid, tags list<text>, \
             attrs map<text, bigint>, kind text, hash blob, note text, score float, ratio double, flag boolean, \
             big bigint, addr frozen<address>, zip int, day_text text, ts_text text)"
        ),
    )
    .await;
    s
}

const AVRO_MAPPING: &str = "id=value.id, name=value.name, price=value.price, fprice=value.fprice, day=value.day, \
    at_ms=value.at_ms, at_us=value.at_us, ts_ms=value.ts_ms, ts_us=value.ts_us, uid=value.uid, tags=value.tags, \
    attrs=value.attrs, kind=value.kind, hash=value.hash, note=value.note, score=value.score, ratio=value.ratio, \
    flag=value.flag, big=value.big, addr=value.addr, zip=value.addr.zip, day_text=value.day, ts_text=value.ts_us";

fn avro_connector(
    dir: &std::path::Path,
    id: &str,
    topic: &str,
    ks: &str,
    registry: &str,
    extra: &str,
) -> std::path::PathBuf {
    connector_file(
        dir,
        "sink.properties",
        &format!(
            "name={id}\ntopics={topic}\ntopic.{topic}.{ks}.items.mapping={AVRO_MAPPING}\n\
             value.converter=io.confluent.connect.avro.AvroConverter\n\
             value.converter.schema.registry.url={registry}\n{extra}"
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_records_land_with_logical_types_and_nested_udts() {
    let id = unique("fmt_avro");
    let (topic, ks) = (id.clone(), id.clone());
    let s = avro_items_table(&ks).await;
    create_topic(&topic, 1).await;
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    let records: Vec<Rec> =
        fx.records.iter().enumerate().map(|(i, r)| Rec::kv(format!("k{i}"), r.clone()).ts(TS0 + i as i64)).collect();
    produce(&topic, &records).await;

    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    // The converter is a connector override of the worker's StringConverter.
    let conn = avro_connector(&dir, &id, &topic, &ks, &registry.url, "");
    let sink = Sink::start(&worker, &[&conn]);
    let group = format!("connect-{id}");
    assert_eq!(wait_committed(&group, &topic, 1, 3, LAND).await, 3, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!((registry.hits(1), registry.hits(2)), (1, 1), "each schema fetched once");

    type Row1 = (String, BigDecimal, BigDecimal, CqlDate, CqlTime, CqlTime, CqlTimestamp, CqlTimestamp, uuid::Uuid);
    let rows: Vec<Row1> = select(
        &s,
        &format!("SELECT name, price, fprice, day, at_ms, at_us, ts_ms, ts_us, uid FROM {ks}.items WHERE id = 1"),
    )
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
    let rows: Vec<Row2> = select(
        &s,
        &format!(
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
    let rows: Vec<(Option<CqlValue>,)> = select(&s, &format!("SELECT addr FROM {ks}.items WHERE id = 1")).await;
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
    let rows: Vec<Row3> = select(
        &s,
        &format!(
            "SELECT name, price, fprice, day, at_us, ts_ms, ts_us, tags, note, ratio, big FROM {ks}.items WHERE id = 2"
        ),
    )
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
        select(&s, &format!("SELECT name, big, price FROM {ks}.items WHERE id = 3")).await;
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
    let id = unique("fmt_avro_stop");
    let (topic, ks) = (id.clone(), id.clone());
    let s = avro_items_table(&ks).await;
    create_topic(&topic, 1).await;
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    produce(
        &topic,
        &[
            Rec::kv("k0", fx.records[0].clone()).ts(TS0),
            Rec::kv("k1", br#"{"id":9}"#.to_vec()).ts(TS0),
            Rec::kv("k2", fx.records[1].clone()).ts(TS0),
        ],
    )
    .await;
    let dir = temp_dir(&id);
    // The converter set in the worker file this time.
    let worker = worker_file(
        &dir,
        &format!(
            "value.converter=io.confluent.connect.avro.AvroConverter\nvalue.converter.schema.registry.url={}\n",
            registry.url
        ),
    );
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!("name={id}\ntopics={topic}\ntopic.{topic}.{ks}.items.mapping={AVRO_MAPPING}\n"),
    );
    let mut sink = Sink::start_until_end(&worker, &[&conn]);
    let status = sink.wait(LAND).expect("the connector stops by itself");
    let log = sink.log();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!(
            "Error decoding/mapping Kafka record (topic={topic}, partition=0, offset=1, field=value): Unknown magic byte 0x7b"
        )),
        "{log}"
    );
    assert_eq!(committed(&format!("connect-{id}"), &topic, 1).get(&0), Some(&1), "stopped at the bad record");
    assert_eq!(count(&s, &format!("{ks}.items")).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_bad_framing_is_dead_lettered_under_errors_tolerance_all() {
    let id = unique("fmt_avro_dlq");
    let (topic, ks, dlq) = (id.clone(), id.clone(), format!("{id}_dlq"));
    let s = avro_items_table(&ks).await;
    create_topic(&topic, 1).await;
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    let body0 = &fx.records[0][5..];
    produce(
        &topic,
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
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let conn = avro_connector(
        &dir,
        &id,
        &topic,
        &ks,
        &registry.url,
        &format!(
            "errors.tolerance=all\nerrors.deadletterqueue.topic.name={dlq}\nerrors.deadletterqueue.topic.replication.factor=1\n"
        ),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let group = format!("connect-{id}");
    assert_eq!(wait_committed(&group, &topic, 1, 7, LAND).await, 7, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(count(&s, &format!("{ks}.items")).await, 3);

    let letters = consume(&dlq, 4, Duration::from_secs(30));
    assert_eq!(letters.len(), 4, "four dead letters");
    let expected = [
        ("magic", 1, "Unknown magic byte 0x7b"),
        ("unknown", 2, "Schema 99 not found in the schema registry (HTTP 404, error_code 40403: Schema not found)"),
        ("truncated", 3, "Invalid Avro data in field '"),
        ("short", 4, "too short for the Confluent wire format"),
    ];
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

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_that_is_down_holds_records_back_instead_of_failing_them() {
    let id = unique("fmt_avro_down");
    let (topic, ks) = (id.clone(), id.clone());
    let s = avro_items_table(&ks).await;
    create_topic(&topic, 1).await;
    let fx = fixtures();
    let registry = RegistryDouble::start(fx.schemas.clone());
    registry.set_down(true);
    produce(&topic, &[Rec::kv("k0", fx.records[0].clone()).ts(TS0), Rec::kv("k2", fx.records[2].clone()).ts(TS0)])
        .await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    // Even a policy that tolerates every failure must not skip records for a registry outage.
    let conn = avro_connector(&dir, &id, &topic, &ks, &registry.url, "errors.tolerance=all\n");
    let group = format!("connect-{id}");

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
    assert_eq!(count(&s, &format!("{ks}.items")).await, 0);
    assert_eq!(committed(&group, &topic, 1).get(&0).copied().unwrap_or(0), 0, "nothing skipped or committed");

    // 2. Down at start, back up later: the records land once it answers.
    let sink = Sink::start(&worker, &[&conn]);
    wait_for_log(&sink, "schema registry unavailable").await;
    registry.set_down(false);
    assert_eq!(wait_committed(&group, &topic, 1, 2, LAND).await, 2, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(count(&s, &format!("{ks}.items")).await, 2);
    assert!(log.contains("schema registry reachable again"), "{log}");
}
