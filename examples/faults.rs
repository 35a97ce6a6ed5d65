//! The fault suite (`scripts/faults` builds and runs this): against a real Kafka and Cassandra of
//! its own, it produces a known keyed stream, injects one fault at a time while records flow, lets
//! the sink recover and drain, and checks the table against the final state the produced log
//! implies. One line of figures per scenario:
//!
//! ```text
//! kill9: lost=0 wrong=0 extra=0 committed=4000/4000 time=71s
//! ```
//!
//! The stream: JSON keys `{"b":<bucket>,"id":"k00042"}` (the Cassandra partition and clustering
//! key), JSON values `{"seq":…,"n":…,"s":…}` that insert, update the same keys (some fields null:
//! left unset, `nullToUnset`), and delete them (tombstones and all-null values). Each key stays in
//! one Kafka partition; Kafka timestamps increase by 1 ms per record, so the sink's write times
//! (the record timestamps) order every key's writes the way the log does. The expected table is
//! computed from the log read back from Kafka, cell by cell with write times, as Cassandra
//! resolves them; `wrong` counts rows whose values or write times differ.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use serde_json::{Value, json};

/// Kafka partitions of each scenario's topic.
const PARTITIONS: i32 = 6;
/// Cassandra partitions (`b`) the keys are spread over, so rows get batched together.
const BUCKETS: u64 = 16;
/// The sink's in-flight limits in the connector file: `maxConcurrentRequests`,
/// `maxNumberOfRecordsInBatch` and the worker's `consumer.max.poll.records`.
const MAX_REQUESTS: u64 = 20;
const MAX_BATCH: u64 = 32;
const MAX_POLL: u64 = 500;
/// Records a paused sink may hold: every request slot full, plus the poll being dispatched.
const HELD_BOUND: u64 = MAX_REQUESTS * MAX_BATCH + MAX_POLL;
/// A SIGTERM must end the process within this (the sink's drain timeout is 30 s).
const STOP_BOUND: Duration = Duration::from_secs(35);
const KEYSPACE: &str = "faults";

#[derive(Parser)]
#[command(about = "Fault suite for cassandra-sink (run it through scripts/faults)")]
struct Cli {
    /// Scenarios to run, in order (default: all).
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
    /// The short version of each scenario (CI): a few thousand records, 2-3 cycles.
    #[arg(long)]
    short: bool,
    /// Cycles for kill9, rebalance and sigterm (default: 20 / 10 / 5, short 3 / 2 / 3).
    #[arg(long)]
    cycles: Option<u32>,
    /// Records per scenario (default: per scenario, more in the full version).
    #[arg(long)]
    records: Option<usize>,
    /// Stream seed (the stream is a function of it).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The cassandra-sink binary.
    #[arg(long)]
    sink: PathBuf,
    /// scripts/services, run with the environment of the suite's own servers.
    #[arg(long)]
    services: PathBuf,
    #[arg(long, default_value = "127.0.0.1:19092")]
    kafka: String,
    #[arg(long, default_value = "127.0.0.1:19042")]
    cassandra: String,
    /// Where configuration files and sink logs go.
    #[arg(long)]
    work: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    CassandraDown,
    KafkaRestart,
    Kill9,
    Rebalance,
    Sigterm,
    CassandraUnreachableAtStart,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::CassandraDown,
        Scenario::KafkaRestart,
        Scenario::Kill9,
        Scenario::Rebalance,
        Scenario::Sigterm,
        Scenario::CassandraUnreachableAtStart,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::CassandraDown => "cassandra-down",
            Scenario::KafkaRestart => "kafka-restart",
            Scenario::Kill9 => "kill9",
            Scenario::Rebalance => "rebalance",
            Scenario::Sigterm => "sigterm",
            Scenario::CassandraUnreachableAtStart => "cassandra-unreachable-at-start",
        }
    }
}

fn say(msg: impl AsRef<str>) {
    eprintln!("[faults] {}", msg.as_ref());
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

// ---------------------------------------------------------------------------------------------
// The stream

/// SplitMix64: a tiny deterministic generator (the stream must not depend on a crate's version).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A duration in [lo, hi) milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo))
    }
}

/// One record of the stream, as produced.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rec {
    partition: i32,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    ts: i64,
}

const WORDS: [&str; 8] =
    ["plain", "naïve café", "quote\"d", "back\\slash", "emoji 🚀", "comma, semi;colon", "tab\there", "línea\nnueva"];

/// `n` records over `n / 5` keys (a few hot ones get more traffic): 55 % full upserts, 20 %
/// updates with one field null (left unset), 13 % tombstones, 12 % all-null values (deletes).
fn generate(n: usize, seed: u64, base_ts: i64) -> Vec<Rec> {
    let mut rng = Rng(seed);
    let keys = (n as u64 / 5).max(10);
    let hot = (keys / 20).max(1);
    (0..n)
        .map(|i| {
            let k = if rng.below(100) < 20 { rng.below(hot) } else { rng.below(keys) };
            let key = json!({"b": (k * 7) % BUCKETS, "id": format!("k{k:05}")}).to_string().into_bytes();
            let seq = i as i64;
            let num = rng.next() as i64;
            let text = format!("{}-{i}", WORDS[rng.below(WORDS.len() as u64) as usize]);
            let op = rng.below(100);
            let value = match op {
                0..55 => Some(json!({"seq": seq, "n": num, "s": text})),
                55..65 => Some(json!({"seq": seq, "n": null, "s": text})),
                65..75 => Some(json!({"seq": seq, "n": num, "s": null})),
                75..88 => None,
                _ => Some(json!({"seq": null, "n": null, "s": null})),
            };
            Rec {
                partition: (k % PARTITIONS as u64) as i32,
                key,
                value: value.map(|v| v.to_string().into_bytes()),
                ts: base_ts + i as i64,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The expected table: Cassandra's rules, cell by cell

type Key = (i32, String);

/// One row as Cassandra would hold it: each cell with its write time (µs), the row marker of
/// the last INSERT, the last row deletion.
#[derive(Default, Debug)]
struct RowModel {
    marker: Option<i64>,
    deleted: Option<i64>,
    seq: Option<(i64, i64)>,
    n: Option<(i64, i64)>,
    s: Option<(String, i64)>,
}

/// What a row reads as: each column's value and write time.
#[derive(Debug, PartialEq, Eq, Clone)]
struct RowView {
    seq: Option<(i64, i64)>,
    n: Option<(i64, i64)>,
    s: Option<(String, i64)>,
}

impl RowView {
    fn values(&self) -> (Option<i64>, Option<i64>, Option<&str>) {
        (self.seq.map(|c| c.0), self.n.map(|c| c.0), self.s.as_ref().map(|c| c.0.as_str()))
    }
}

fn newer<T>(cell: &mut Option<(T, i64)>, value: Option<T>, ts: i64) {
    if let Some(v) = value
        && cell.as_ref().is_none_or(|(_, t)| ts > *t)
    {
        *cell = Some((v, ts));
    }
}

impl RowModel {
    fn insert(&mut self, ts: i64, seq: Option<i64>, n: Option<i64>, s: Option<String>) {
        self.marker = Some(self.marker.map_or(ts, |m| m.max(ts)));
        newer(&mut self.seq, seq, ts);
        newer(&mut self.n, n, ts);
        newer(&mut self.s, s, ts);
    }

    fn delete(&mut self, ts: i64) {
        self.deleted = Some(self.deleted.map_or(ts, |d| d.max(ts)));
    }

    fn view(&self) -> Option<RowView> {
        let live = |ts: i64| self.deleted.is_none_or(|d| ts > d);
        let view = RowView {
            seq: self.seq.filter(|c| live(c.1)),
            n: self.n.filter(|c| live(c.1)),
            s: self.s.clone().filter(|c| live(c.1)),
        };
        let exists = self.marker.is_some_and(live) || view.seq.is_some() || view.n.is_some() || view.s.is_some();
        exists.then_some(view)
    }
}

fn field_i64(v: &Value, name: &str) -> Result<Option<i64>, String> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x.as_i64().map(Some).ok_or_else(|| format!("field {name} is not an integer: {x}")),
    }
}

/// The table the log implies: for each cell, the newest write time wins (the sink writes each
/// record at its Kafka timestamp). The stream's timestamps grow with its order, so this is "the
/// last record of each key wins"; duplicates (a record produced twice) change nothing. Two
/// different records of a key with the same timestamp would make the outcome depend on
/// Cassandra's tie rule, so they are refused.
fn expected(log: &[Rec]) -> Result<HashMap<Key, RowView>, String> {
    let mut rows: HashMap<Key, RowModel> = HashMap::new();
    let mut seen: HashMap<(Key, i64), &Option<Vec<u8>>> = HashMap::new();
    for r in log {
        let k: Value = serde_json::from_slice(&r.key).map_err(|e| format!("unreadable key: {e}"))?;
        let key = (
            k.get("b").and_then(Value::as_i64).ok_or("key without b")? as i32,
            k.get("id").and_then(Value::as_str).ok_or("key without id")?.to_string(),
        );
        if let Some(other) = seen.insert((key.clone(), r.ts), &r.value)
            && *other != r.value
        {
            return Err(format!("key {key:?}: two different records with timestamp {}", r.ts));
        }
        let ts = r.ts * 1000;
        let row = rows.entry(key).or_default();
        match &r.value {
            None => row.delete(ts),
            Some(bytes) => {
                let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("unreadable value: {e}"))?;
                let (seq, n) = (field_i64(&v, "seq")?, field_i64(&v, "n")?);
                let s = v.get("s").and_then(Value::as_str).map(str::to_string);
                if seq.is_none() && n.is_none() && s.is_none() {
                    row.delete(ts);
                } else {
                    row.insert(ts, seq, n, s);
                }
            }
        }
    }
    Ok(rows.into_iter().filter_map(|(k, m)| m.view().map(|v| (k, v))).collect())
}

#[derive(Default, Debug)]
struct Diff {
    lost: usize,
    wrong: usize,
    /// Of `wrong`, rows whose values are right but some write time is not.
    wrong_write_time: usize,
    extra: usize,
    expected_rows: usize,
    actual_rows: usize,
    examples: Vec<String>,
}

impl Diff {
    fn clean(&self) -> bool {
        self.lost == 0 && self.wrong == 0 && self.extra == 0
    }
}

fn compare(expected: &HashMap<Key, RowView>, actual: &HashMap<Key, RowView>) -> Diff {
    let mut d = Diff { expected_rows: expected.len(), actual_rows: actual.len(), ..Diff::default() };
    let mut keys: Vec<&Key> = expected.keys().chain(actual.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let example = match (expected.get(k), actual.get(k)) {
            (Some(_), None) => {
                d.lost += 1;
                format!("lost  {k:?}: expected {:?}", expected[k])
            }
            (None, Some(a)) => {
                d.extra += 1;
                format!("extra {k:?}: found {a:?}")
            }
            (Some(e), Some(a)) if e != a => {
                d.wrong += 1;
                if e.values() == a.values() {
                    d.wrong_write_time += 1;
                    format!("wrong {k:?} (write time only): expected {e:?}, found {a:?}")
                } else {
                    format!("wrong {k:?}: expected {e:?}, found {a:?}")
                }
            }
            _ => continue,
        };
        if d.examples.len() < 8 {
            d.examples.push(example);
        }
    }
    d
}

// ---------------------------------------------------------------------------------------------
// Kafka and Cassandra access

/// The harness's Kafka clients log to `<work>/harness.log`.
fn kafka_config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    c
}

async fn create_topic(bootstrap: &str, topic: &str) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> =
        kafka_config(bootstrap).create().map_err(|e| format!("admin client: {e}"))?;
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, PARTITIONS, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .map_err(|e| format!("create topic {topic}: {e}"))?;
    for r in results {
        r.map_err(|(t, e)| format!("create topic {t}: {e}"))?;
    }
    Ok(())
}

/// Produces `records[range]` in order at `rate` records/s (as fast as possible without one),
/// acks=all with one request in flight, so nothing is reordered. A record that cannot be
/// delivered within the message timeout (a stuck client after a broker restart) is sent again,
/// with the records after it, by a new producer: the log may then hold duplicates, which the
/// check allows (they are replays, as far as the sink is concerned). `acked` counts deliveries.
async fn produce(
    bootstrap: String,
    topic: String,
    records: Arc<Vec<Rec>>,
    range: Range<usize>,
    rate: Option<f64>,
    acked: Arc<AtomicUsize>,
) -> Result<(), String> {
    let mut delivered = vec![false; range.len()];
    for attempt in 1..=4 {
        let todo: Vec<usize> = range.clone().filter(|i| !delivered[i - range.start]).collect();
        if todo.is_empty() {
            return Ok(());
        }
        let pace = if attempt == 1 { rate } else { None };
        match produce_once(&bootstrap, &topic, &records, &todo, pace, &mut delivered, range.start, &acked).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                let left = delivered.iter().filter(|d| !**d).count();
                say(format!("producer: {e}; sending the {left} undelivered records again with a new producer"));
            }
        }
    }
    Err("records still undelivered after 4 producers".into())
}

#[allow(clippy::too_many_arguments)]
async fn produce_once(
    bootstrap: &str,
    topic: &str,
    records: &[Rec],
    todo: &[usize],
    rate: Option<f64>,
    delivered: &mut [bool],
    base: usize,
    acked: &AtomicUsize,
) -> Result<(), String> {
    let producer: FutureProducer = kafka_config(bootstrap)
        .set("enable.idempotence", "false")
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "1")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "120000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .map_err(|e| format!("producer: {e}"))?;
    let started = Instant::now();
    let mut pending = FuturesUnordered::new();
    let mut next = 0;
    let mut failure = None;
    while (next < todo.len() && failure.is_none()) || !pending.is_empty() {
        let due = match rate {
            Some(r) => ((started.elapsed().as_secs_f64() * r) as usize + 1).min(todo.len()),
            None => todo.len(),
        };
        while next < due && pending.len() < 10_000 && failure.is_none() {
            let i = todo[next];
            let r = &records[i];
            let mut fr: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(topic).partition(r.partition).key(r.key.as_slice()).timestamp(r.ts);
            if let Some(v) = &r.value {
                fr = fr.payload(v.as_slice());
            }
            match producer.send_result(fr) {
                Ok(f) => {
                    pending.push(f.map(move |d| (i, d)));
                    next += 1;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => break,
                Err((e, _)) => failure = Some(format!("cannot enqueue record {i}: {e}")),
            }
        }
        tokio::select! {
            Some((i, d)) = pending.next(), if !pending.is_empty() => match d {
                Ok(Ok(_)) => {
                    delivered[i - base] = true;
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Err((e, _))) => {
                    failure.get_or_insert_with(|| format!("record {i} was not delivered: {e}"));
                }
                Err(_) => {
                    failure.get_or_insert_with(|| "the producer went away".to_string());
                }
            },
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
    }
    match failure {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Reads every partition of `topic` from the start up to (not including) `until`.
fn read_log(bootstrap: &str, topic: &str, until: &BTreeMap<i32, i64>) -> Result<Vec<Rec>, String> {
    let consumer: BaseConsumer = kafka_config(bootstrap)
        .set("group.id", "faults-log-reader")
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| format!("log reader: {e}"))?;
    let mut tpl = TopicPartitionList::new();
    for (&p, &end) in until {
        if end > 0 {
            tpl.add_partition_offset(topic, p, Offset::Beginning).map_err(|e| e.to_string())?;
        }
    }
    let mut per_partition: BTreeMap<i32, Vec<Rec>> = BTreeMap::new();
    if tpl.count() == 0 {
        return Ok(Vec::new());
    }
    consumer.assign(&tpl).map_err(|e| format!("assign: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = |pp: &BTreeMap<i32, Vec<Rec>>| until.iter().all(|(p, end)| pp.get(p).map_or(0, Vec::len) as i64 >= *end);
    while !done(&per_partition) {
        if Instant::now() > deadline {
            return Err("timed out reading the topic back".into());
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let end = until.get(&m.partition()).copied().unwrap_or(0);
                let list = per_partition.entry(m.partition()).or_default();
                if m.offset() >= end {
                    continue;
                }
                if m.offset() != list.len() as i64 {
                    return Err(format!(
                        "partition {}: offset {} after {} records",
                        m.partition(),
                        m.offset(),
                        list.len()
                    ));
                }
                list.push(Rec {
                    partition: m.partition(),
                    key: m.key().unwrap_or_default().to_vec(),
                    value: m.payload().map(<[u8]>::to_vec),
                    ts: m.timestamp().to_millis().unwrap_or(-1),
                });
            }
            Some(Err(e)) => say(format!("reading the log: {e}")),
            None => {}
        }
    }
    Ok(per_partition.into_values().flatten().collect())
}

async fn cassandra_session(node: &str) -> Result<Session, String> {
    SessionBuilder::new().known_node(node).build().await.map_err(|e| format!("cannot connect to Cassandra: {e}"))
}

type TableRow = (i32, String, Option<i64>, Option<i64>, Option<String>, Option<i64>, Option<i64>, Option<i64>);

/// The whole table, each column with its write time.
async fn read_table(node: &str, table: &str) -> Result<HashMap<Key, RowView>, String> {
    let session = cassandra_session(node).await?;
    let query = format!("SELECT b, id, seq, n, s, writetime(seq), writetime(n), writetime(s) FROM {table}");
    let mut rows = session
        .query_iter(query.as_str(), ())
        .await
        .map_err(|e| format!("{query}: {e}"))?
        .rows_stream::<TableRow>()
        .map_err(|e| format!("{query}: {e}"))?;
    let mut out = HashMap::new();
    while let Some(row) = rows.next().await {
        let (b, id, seq, n, s, wseq, wn, ws) = row.map_err(|e| format!("{query}: {e}"))?;
        let cell = |v: Option<i64>, w: Option<i64>| v.map(|v| (v, w.unwrap_or(-1)));
        let view = RowView { seq: cell(seq, wseq), n: cell(n, wn), s: s.map(|s| (s, ws.unwrap_or(-1))) };
        out.insert((b, id), view);
    }
    Ok(out)
}

fn port_open(addr: &str) -> bool {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

/// A minimal HTTP GET (the sink's REST API): the body.
fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::Write;
    let sock: SocketAddr = addr.parse().ok()?;
    let mut stream = TcpStream::connect_timeout(&sock, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

// ---------------------------------------------------------------------------------------------
// The sink process

struct SinkProc {
    label: String,
    child: Child,
    log: PathBuf,
    rest: Option<String>,
    connector: String,
}

impl SinkProc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the log, indented, for a failure report.
    fn log_tail(&self, n: usize) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(n)..].join("\n      ");
        format!("last lines of {}:\n      {tail}", self.log.display())
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn rest(&mut self) -> Option<String> {
        if self.rest.is_none() {
            let text = self.log_text();
            let addr = text.split("REST API listening on http://").nth(1)?.split_whitespace().next()?.to_string();
            self.rest = Some(addr);
        }
        self.rest.clone()
    }

    fn status(&mut self) -> Option<Value> {
        let addr = self.rest()?;
        serde_json::from_str(&http_get(&addr, &format!("/connectors/{}/status", self.connector))?).ok()
    }

    /// Rows written and rows failed so far (the `cassandra_sink_records` and
    /// `cassandra_sink_failed_records` counters of `/metrics`).
    fn written(&mut self) -> Option<(u64, u64)> {
        let addr = self.rest()?;
        let text = http_get(&addr, "/metrics")?;
        let sum = |name: &str| -> u64 {
            text.lines()
                .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>() as u64
        };
        Some((sum("cassandra_sink_records_total"), sum("cassandra_sink_failed_records_total")))
    }

    /// Records the process has taken from Kafka.
    fn received(&mut self) -> Option<u64> {
        self.status()?.get("records_received")?.as_u64()
    }

    /// Partitions assigned to the process.
    fn assigned(&mut self) -> Option<usize> {
        Some(self.status()?.get("assigned_partitions")?.as_array()?.len())
    }

    fn rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status();
    }

    /// SIGTERM, then wait (SIGKILL after `bound`): the exit status (None if it had to be
    /// killed), how long the stop took, the end of the log.
    fn terminate(mut self, bound: Duration) -> (Option<ExitStatus>, Duration, String) {
        let started = Instant::now();
        self.signal("TERM");
        loop {
            if let Some(status) = self.exited() {
                return (Some(status), started.elapsed(), self.log_tail(15));
            }
            if started.elapsed() > bound {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return (None, started.elapsed(), self.log_tail(15));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SinkProc {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One scenario run

struct Ctx {
    cli: Cli,
    rt: tokio::runtime::Runtime,
    run_id: String,
}

impl Ctx {
    /// Runs `scripts/services ARGS` (with the suite's environment); how long it took.
    fn services(&self, args: &[&str]) -> Result<Duration, String> {
        let started = Instant::now();
        say(format!("scripts/services {}", args.join(" ")));
        let status = Command::new(&self.cli.services)
            .args(args)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", self.cli.services.display()))?;
        if !status.success() {
            return Err(format!("scripts/services {} failed: {status}", args.join(" ")));
        }
        Ok(started.elapsed())
    }

    /// Both servers up (a scenario that failed half-way may have left one down).
    fn ensure_up(&self) -> Result<(), String> {
        if !port_open(&self.cli.kafka) {
            self.services(&["start", "kafka"])?;
        }
        if !port_open(&self.cli.cassandra) {
            self.services(&["start", "cassandra"])?;
        }
        Ok(())
    }
}

/// A server started again.
struct Restarted {
    /// How long `scripts/services start` took (until the server answered requests).
    took: Duration,
    /// When its port opened.
    open_at: Instant,
    /// How long after the port opened the sink made progress.
    progress_after: Option<Duration>,
}

struct Producing {
    handle: tokio::task::JoinHandle<Result<(), String>>,
}

struct Case<'a> {
    ctx: &'a Ctx,
    scenario: Scenario,
    topic: String,
    table: String,
    connector: String,
    dir: PathBuf,
    worker: PathBuf,
    conn: PathBuf,
    stream: Arc<Vec<Rec>>,
    acked: Arc<AtomicUsize>,
    producing: Option<Producing>,
    offsets: BaseConsumer,
    rng: Rng,
    started: Instant,
    instances: usize,
    failures: Vec<String>,
    notes: Vec<String>,
}

impl<'a> Case<'a> {
    fn new(ctx: &'a Ctx, scenario: Scenario, records: usize) -> Result<Case<'a>, String> {
        let started = Instant::now();
        ctx.ensure_up()?;
        let slug = format!("{}_{}", scenario.name().replace('-', "_"), ctx.run_id);
        let topic = format!("faults_{slug}");
        let table = format!("{KEYSPACE}.{slug}");
        let connector = format!("faults-{}-{}", scenario.name(), ctx.run_id);
        let dir = ctx.cli.work.join(scenario.name());
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

        let node = ctx.cli.cassandra.clone();
        let ddl = [
            format!(
                "CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = \
                 {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
            ),
            format!("CREATE TABLE {table} (b int, id text, seq bigint, n bigint, s text, PRIMARY KEY ((b), id))"),
        ];
        ctx.rt.block_on(async {
            let session = cassandra_session(&node).await?;
            for statement in &ddl {
                session.query_unpaged(statement.as_str(), ()).await.map_err(|e| format!("{statement}: {e}"))?;
            }
            create_topic(&ctx.cli.kafka, &topic).await
        })?;

        let (host, port) = ctx.cli.cassandra.rsplit_once(':').ok_or("--cassandra must be host:port")?;
        let worker = dir.join("worker.properties");
        let conn = dir.join("connector.properties");
        let write = |path: &Path, text: String| fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()));
        write(
            &worker,
            format!(
                "bootstrap.servers={}\n\
                 key.converter=org.apache.kafka.connect.json.JsonConverter\n\
                 key.converter.schemas.enable=false\n\
                 value.converter=org.apache.kafka.connect.json.JsonConverter\n\
                 value.converter.schemas.enable=false\n\
                 offset.flush.interval.ms=1000\n\
                 listeners=http://127.0.0.1:0\n\
                 consumer.session.timeout.ms=6000\n\
                 consumer.heartbeat.interval.ms=2000\n\
                 consumer.max.poll.records={MAX_POLL}\n",
                ctx.cli.kafka
            ),
        )?;
        let short = table.split('.').nth(1).unwrap_or_default();
        write(
            &conn,
            format!(
                "name={connector}\n\
                 connector.class=com.datastax.oss.kafka.sink.CassandraSinkConnector\n\
                 tasks.max=1\n\
                 topics={topic}\n\
                 contactPoints={host}\n\
                 port={port}\n\
                 loadBalancing.localDc=datacenter1\n\
                 maxConcurrentRequests={MAX_REQUESTS}\n\
                 maxNumberOfRecordsInBatch={MAX_BATCH}\n\
                 topic.{topic}.{KEYSPACE}.{short}.mapping=b=key.b, id=key.id, seq=value.seq, n=value.n, s=value.s\n"
            ),
        )?;

        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        // Timestamps 1 ms apart, all in the past (the broker refuses records far in the future).
        let base_ts = now_ms - records as i64 - 60_000;
        let seed = ctx.cli.seed ^ (scenario as u64 + 1).wrapping_mul(0x5851_F42D_4C95_7F2D);
        let stream = Arc::new(generate(records, seed, base_ts));
        let offsets: BaseConsumer = kafka_config(&ctx.cli.kafka)
            .set("group.id", format!("connect-{connector}"))
            .set("enable.auto.commit", "false")
            .create()
            .map_err(|e| format!("offsets consumer: {e}"))?;
        say(format!("{}: topic {topic}, table {table}, {records} records", scenario.name()));
        Ok(Case {
            ctx,
            scenario,
            topic,
            table,
            connector,
            dir,
            worker,
            conn,
            stream,
            acked: Arc::new(AtomicUsize::new(0)),
            producing: None,
            offsets,
            rng: Rng(seed ^ 0xABCD),
            started,
            instances: 0,
            failures: Vec::new(),
            notes: Vec::new(),
        })
    }

    fn fail(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        say(format!("{}: FAILURE: {msg}", self.scenario.name()));
        self.failures.push(msg);
    }

    fn note(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        say(format!("{}: {msg}", self.scenario.name()));
        self.notes.push(msg);
    }

    fn n(&self) -> usize {
        self.stream.len()
    }

    /// Produces `range` now, as fast as possible.
    fn produce_now(&mut self, range: Range<usize>) -> Result<(), String> {
        let task = produce(
            self.ctx.cli.kafka.clone(),
            self.topic.clone(),
            self.stream.clone(),
            range,
            None,
            self.acked.clone(),
        );
        self.ctx.rt.block_on(task)
    }

    /// Produces `range` in the background at `rate` records/s.
    fn produce_background(&mut self, range: Range<usize>, rate: f64) {
        let task = produce(
            self.ctx.cli.kafka.clone(),
            self.topic.clone(),
            self.stream.clone(),
            range,
            Some(rate),
            self.acked.clone(),
        );
        self.producing = Some(Producing { handle: self.ctx.rt.spawn(task) });
    }

    /// Waits for the background producer.
    fn finish_producing(&mut self) {
        let Some(p) = self.producing.take() else { return };
        match self.ctx.rt.block_on(p.handle) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.fail(format!("producer (harness, not the sink): {e}")),
            Err(e) => self.fail(format!("producer task: {e}")),
        }
    }

    fn start_sink(&mut self, label: &str) -> SinkProc {
        self.instances += 1;
        let log = self.dir.join(format!("sink-{:02}-{label}.log", self.instances));
        let err = fs::File::create(&log).expect("sink log file");
        let child = Command::new(&self.ctx.cli.sink)
            .arg("standalone")
            .arg(&self.worker)
            .arg(&self.conn)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.ctx.cli.sink.display()));
        say(format!("{}: sink {label} started (pid {}, log {})", self.scenario.name(), child.id(), log.display()));
        SinkProc { label: label.to_string(), child, log, rest: None, connector: self.connector.clone() }
    }

    /// SIGTERM: exit code 0 within [`STOP_BOUND`] is required. How long it took.
    fn stop_sink(&mut self, mut sink: SinkProc) -> Duration {
        let label = sink.label.clone();
        if let Some(status) = sink.exited() {
            let tail = sink.log_tail(20);
            self.fail(format!("sink {label} had exited by itself ({status}) before its SIGTERM; {tail}"));
            return Duration::ZERO;
        }
        let (status, took, tail) = sink.terminate(STOP_BOUND);
        match status {
            Some(s) if s.success() => say(format!("{}: sink {label} stopped in {}", self.scenario.name(), secs(took))),
            Some(s) => self.fail(format!("sink {label}: SIGTERM ended it with {s}, expected exit 0; {tail}")),
            None => self.fail(format!("sink {label}: not stopped {} after SIGTERM (killed); {tail}", secs(STOP_BOUND))),
        }
        took
    }

    /// Records a sink that ended by itself, and starts it again.
    fn check_alive(&mut self, sink: &mut SinkProc) {
        if let Some(status) = sink.exited() {
            let tail = sink.log_tail(20);
            self.fail(format!("sink {} exited by itself with {status}; {tail}", sink.label));
            let label = format!("{}-restarted", sink.label);
            *sink = self.start_sink(&label);
        }
    }

    fn committed(&self) -> Result<BTreeMap<i32, i64>, String> {
        let mut tpl = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            tpl.add_partition(&self.topic, p);
        }
        let got = self.offsets.committed_offsets(tpl, Duration::from_secs(5)).map_err(|e| e.to_string())?;
        Ok(got
            .elements()
            .iter()
            .map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { o } else { 0 }))
            .collect())
    }

    fn committed_sum(&self) -> Option<i64> {
        self.committed().ok().map(|c| c.values().sum())
    }

    fn ends(&self) -> Result<BTreeMap<i32, i64>, String> {
        (0..PARTITIONS)
            .map(|p| {
                self.offsets
                    .fetch_watermarks(&self.topic, p, Duration::from_secs(5))
                    .map(|(_, high)| (p, high))
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    /// Waits until the committed offsets pass `target` in total; how long that took, or None.
    fn wait_committed_over(&mut self, target: i64, timeout: Duration, sinks: &mut [&mut SinkProc]) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.committed_sum().is_some_and(|c| c > target) {
                return Some(started.elapsed());
            }
            for s in sinks.iter_mut() {
                self.check_alive(s);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    }

    /// Whether the sink has moved on since `baseline` (committed offsets past it), or has nothing
    /// left to do (production over and every record committed).
    fn progressed(&self, baseline: i64) -> bool {
        let Ok(committed) = self.committed() else { return false };
        let sum: i64 = committed.values().sum();
        if sum > baseline {
            return true;
        }
        let producer_done = self.producing.as_ref().is_none_or(|p| p.handle.is_finished());
        producer_done && self.ends().is_ok_and(|e| e == committed)
    }

    /// Starts a server (`scripts/services start kafka|cassandra`), watching meanwhile its port
    /// and the committed offsets: when the port opened, how long the script took, and how long
    /// after the port opened the sink made progress past `baseline` (waiting up to `timeout`).
    fn restart_server(
        &mut self,
        which: &str,
        baseline: i64,
        timeout: Duration,
        sinks: &mut [&mut SinkProc],
    ) -> Result<Restarted, String> {
        let started = Instant::now();
        say(format!("scripts/services start {which}"));
        let mut child = Command::new(&self.ctx.cli.services)
            .args(["start", which])
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.ctx.cli.services.display()))?;
        let addr = if which == "kafka" { self.ctx.cli.kafka.clone() } else { self.ctx.cli.cassandra.clone() };
        let (mut open_at, mut script_took, mut progress_at) = (None, None, None);
        loop {
            if open_at.is_none() && port_open(&addr) {
                open_at = Some(Instant::now());
            }
            if script_took.is_none()
                && let Ok(Some(status)) = child.try_wait()
            {
                if !status.success() {
                    return Err(format!("scripts/services start {which} failed: {status}"));
                }
                script_took = Some(started.elapsed());
            }
            if progress_at.is_none() && open_at.is_some() && self.progressed(baseline) {
                progress_at = Some(Instant::now());
            }
            for s in sinks.iter_mut() {
                self.check_alive(s);
            }
            if let (Some(took), Some(open)) = (script_took, open_at)
                && (progress_at.is_some() || open.elapsed() > timeout)
            {
                return Ok(Restarted {
                    took,
                    open_at: open,
                    progress_after: progress_at.map(|p| p.saturating_duration_since(open)),
                });
            }
            if started.elapsed() > Duration::from_secs(600) {
                let _ = child.kill();
                return Err(format!("scripts/services start {which} did not finish within 600 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a sink has taken records from Kafka (it is busy).
    fn wait_busy(&mut self, sink: &mut SinkProc, timeout: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if sink.received().is_some_and(|r| r > 0) {
                return Some(started.elapsed());
            }
            self.check_alive(sink);
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sleeps, watching that the sinks keep running.
    fn hold(&mut self, d: Duration, sinks: &mut [&mut SinkProc]) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            for s in sinks.iter_mut() {
                self.check_alive(s);
            }
            std::thread::sleep(Duration::from_millis(100).min(until.saturating_duration_since(Instant::now())));
        }
    }

    /// After the producer is done: waits until the committed offsets reach the end offsets.
    fn wait_drained(&mut self, sinks: &mut [&mut SinkProc], timeout: Duration) -> bool {
        self.finish_producing();
        let started = Instant::now();
        let mut last_report = Instant::now();
        loop {
            let (ends, committed) = (self.ends(), self.committed());
            if let (Ok(ends), Ok(committed)) = (&ends, &committed) {
                if ends.iter().all(|(p, e)| committed.get(p) == Some(e)) {
                    say(format!(
                        "{}: committed offsets reached the end offsets ({} records) in {}",
                        self.scenario.name(),
                        ends.values().sum::<i64>(),
                        secs(started.elapsed())
                    ));
                    return true;
                }
                if last_report.elapsed() > Duration::from_secs(10) {
                    last_report = Instant::now();
                    say(format!(
                        "{}: waiting: committed {}/{}",
                        self.scenario.name(),
                        committed.values().sum::<i64>(),
                        ends.values().sum::<i64>()
                    ));
                }
            }
            if started.elapsed() > timeout {
                let show = |r: &Result<BTreeMap<i32, i64>, String>| format!("{r:?}");
                let tails: Vec<String> = sinks.iter().map(|s| s.log_tail(15)).collect();
                self.fail(format!(
                    "committed offsets did not reach the end offsets within {}: committed {} ends {}; {}",
                    secs(timeout),
                    show(&committed),
                    show(&ends),
                    tails.join("; ")
                ));
                return false;
            }
            for s in sinks.iter_mut() {
                self.check_alive(s);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The table against the state implied by the log up to `until` (default: all of it).
    fn check_table(&mut self, until: Option<&BTreeMap<i32, i64>>) -> Result<Diff, String> {
        let ends = self.ends()?;
        let limit = until.cloned().unwrap_or_else(|| ends.clone());
        let log = read_log(&self.ctx.cli.kafka, &self.topic, &limit)?;
        if until.is_none() {
            // The log must hold the generated stream: otherwise the harness (or Kafka) is at fault.
            // Timestamps are unique per generated record.
            let by_ts: HashMap<i64, &Rec> = self.stream.iter().map(|r| (r.ts, r)).collect();
            let mut seen = HashSet::new();
            let mut newest: HashMap<i32, i64> = HashMap::new();
            let (mut duplicates, mut reordered, mut foreign) = (0, 0, 0);
            for r in &log {
                match by_ts.get(&r.ts) {
                    Some(g) if *g == r => {
                        if !seen.insert(r.ts) {
                            duplicates += 1;
                        } else if newest.get(&r.partition).is_some_and(|n| *n > r.ts) {
                            reordered += 1;
                        }
                        let n = newest.entry(r.partition).or_insert(r.ts);
                        *n = (*n).max(r.ts);
                    }
                    _ => foreign += 1,
                }
            }
            let missing = self.stream.len() - seen.len();
            if missing > 0 || foreign > 0 {
                self.fail(format!(
                    "the produced log differs from the generated stream (harness or Kafka problem, not the sink): \
                     {missing} generated records missing, {foreign} unknown records"
                ));
            }
            if duplicates > 0 || reordered > 0 {
                self.note(format!(
                    "the log holds {duplicates} duplicate records and {reordered} out of order (sent again after a \
                     delivery timeout); the expected table accounts for them"
                ));
            }
        }
        let want = expected(&log)?;
        let node = self.ctx.cli.cassandra.clone();
        let table = self.table.clone();
        let mut attempt = 0;
        let got = loop {
            attempt += 1;
            match self.ctx.rt.block_on(read_table(&node, &table)) {
                Ok(rows) => break rows,
                Err(e) if attempt < 5 => {
                    say(format!("reading the table failed ({e}); retrying"));
                    std::thread::sleep(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        };
        Ok(compare(&want, &got))
    }

    /// The figures line; whether the scenario passed.
    fn finish(mut self) -> bool {
        self.finish_producing();
        let committed = self.committed().map(|c| c.values().sum::<i64>()).unwrap_or(-1);
        let end = self.ends().map(|e| e.values().sum::<i64>()).unwrap_or(-1);
        let diff = match self.check_table(None) {
            Ok(d) => d,
            Err(e) => {
                self.fail(format!("cannot check the table: {e}"));
                Diff { lost: usize::MAX, ..Diff::default() }
            }
        };
        let pass = self.failures.is_empty() && diff.clean() && committed == end && end >= self.n() as i64;
        let shown = |v: usize| if v == usize::MAX { "?".to_string() } else { v.to_string() };
        println!(
            "{}: lost={} wrong={} extra={} committed={committed}/{end} time={:.0}s",
            self.scenario.name(),
            shown(diff.lost),
            shown(diff.wrong),
            shown(diff.extra),
            self.started.elapsed().as_secs_f64()
        );
        println!(
            "    records={} rows expected={} found={} sink instances={} {}",
            self.n(),
            diff.expected_rows,
            diff.actual_rows,
            self.instances,
            if pass { "PASS" } else { "FAIL" }
        );
        if diff.wrong_write_time > 0 {
            println!("    {} of the wrong rows hold the right values with a wrong write time", diff.wrong_write_time);
        }
        for n in &self.notes {
            println!("    {n}");
        }
        for e in &diff.examples {
            println!("    {e}");
        }
        for f in &self.failures {
            println!("    FAILURE: {f}");
        }
        pass
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

struct Sizes {
    records: usize,
    rate: f64,
    cycles: u32,
    /// How long a fault lasts (an outage).
    outage: Duration,
    drain_timeout: Duration,
}

fn sizes(cli: &Cli, scenario: Scenario) -> Sizes {
    let short = cli.short;
    let (records, rate, cycles, outage) = match (scenario, short) {
        (Scenario::CassandraDown, true) => (3_000, 250.0, 1, 12),
        (Scenario::CassandraDown, false) => (60_000, 300.0, 3, 30),
        (Scenario::KafkaRestart, true) => (4_000, 200.0, 1, 5),
        (Scenario::KafkaRestart, false) => (16_000, 200.0, 3, 15),
        (Scenario::Kill9, true) => (8_000, 200.0, 3, 0),
        (Scenario::Kill9, false) => (42_000, 200.0, 20, 0),
        (Scenario::Rebalance, true) => (6_000, 300.0, 2, 0),
        (Scenario::Rebalance, false) => (40_000, 300.0, 10, 0),
        (Scenario::Sigterm, true) => (8_000, 200.0, 3, 0),
        (Scenario::Sigterm, false) => (22_000, 200.0, 10, 0),
        (Scenario::CassandraUnreachableAtStart, true) => (2_000, 100.0, 1, 12),
        (Scenario::CassandraUnreachableAtStart, false) => (10_000, 200.0, 1, 40),
    };
    Sizes {
        records: cli.records.unwrap_or(records),
        rate,
        cycles: match scenario {
            Scenario::Kill9 | Scenario::Rebalance | Scenario::Sigterm => cli.cycles.unwrap_or(cycles),
            _ => cycles,
        },
        outage: Duration::from_secs(outage),
        drain_timeout: Duration::from_secs(if short { 180 } else { 600 }),
    }
}

/// Cassandra stopped under load: the sink holds a bounded number of records (consumption
/// pauses), stays up, resumes by itself within seconds of Cassandra's return, drains the backlog.
fn cassandra_down(c: &mut Case, z: &Sizes) -> Result<(), String> {
    let n = c.n();
    c.produce_background(0..n, z.rate);
    let mut sink = c.start_sink("a");
    let per_outage = n / (z.cycles as usize + 1);
    for cycle in 0..z.cycles as usize {
        let target = (per_outage * cycle + per_outage / 2) as i64;
        if c.wait_committed_over(target, Duration::from_secs(120), &mut [&mut sink]).is_none() {
            c.fail(format!("no progress before outage {}: committed {:?}", cycle + 1, c.committed_sum()));
        }
        let rss_before = sink.rss_kib().unwrap_or(0);
        let stop_at = Instant::now();
        let took = c.ctx.services(&["stop", "cassandra"])?;
        let down_at = Instant::now();
        let mut rss_max = rss_before;
        while down_at.elapsed() < z.outage {
            c.hold(Duration::from_millis(500), &mut [&mut sink]);
            rss_max = rss_max.max(sink.rss_kib().unwrap_or(0));
        }
        let committed = c.committed_sum().unwrap_or(0);
        let received = sink.received().unwrap_or(0) as i64;
        let (written, failed) = sink.written().unwrap_or((0, 0));
        let end: i64 = c.ends().map(|e| e.values().sum()).unwrap_or(0);
        // Taken from Kafka and not written: what the sink holds in memory (one row per record).
        let held = received - written as i64 - failed as i64;
        let waiting = end - received;
        if held > HELD_BOUND as i64 {
            c.fail(format!(
                "outage {}: the sink holds {held} unwritten records, more than its in-flight limits allow \
                 ({HELD_BOUND} = maxConcurrentRequests {MAX_REQUESTS} × maxNumberOfRecordsInBatch {MAX_BATCH} + \
                 max.poll.records {MAX_POLL})",
                cycle + 1
            ));
        }
        if failed > 0 {
            c.fail(format!("outage {}: {failed} rows counted as failed by the sink", cycle + 1));
        }
        if waiting <= 0 {
            c.note(format!("outage {}: no backlog built up in Kafka (backpressure not exercised)", cycle + 1));
        }
        let up = c.restart_server("cassandra", committed, Duration::from_secs(60), &mut [&mut sink])?;
        rss_max = rss_max.max(sink.rss_kib().unwrap_or(0));
        c.note(format!(
            "outage {}: CQL port closed for {} (stop took {}, start {}); meanwhile the sink held {held} \
             unwritten records (bound {HELD_BOUND}; its committed position {} behind what it took) with \
             {waiting} more waiting in Kafka, rss {} -> max {} MiB; commits resumed {} after the CQL port opened",
            cycle + 1,
            secs(up.open_at.saturating_duration_since(stop_at)),
            secs(took),
            secs(up.took),
            received - committed,
            rss_before / 1024,
            rss_max / 1024,
            up.progress_after.map_or("NEVER (60 s)".into(), secs)
        ));
        match up.progress_after {
            Some(d) if d > Duration::from_secs(30) => {
                c.fail(format!("outage {}: writes resumed only {} after Cassandra returned", cycle + 1, secs(d)))
            }
            None => c.fail(format!("outage {}: writes did not resume within 60 s of Cassandra's return", cycle + 1)),
            _ => {}
        }
    }
    let drained_at = Instant::now();
    if c.wait_drained(&mut [&mut sink], z.drain_timeout) {
        c.note(format!("backlog drained {} after production ended", secs(drained_at.elapsed())));
    }
    let took = c.stop_sink(sink);
    c.note(format!("final SIGTERM stop {}", secs(took)));
    Ok(())
}

/// The Kafka broker restarted under load, N times: the consumer reconnects, nothing is lost or
/// skipped. Each cycle produces a burst and stops the broker as soon as the sink works on it, so
/// the sink loses its group session with records written but not committed (they are consumed
/// again after the restart); the last chunk is produced at a steady rate after the last restart.
fn kafka_restart(c: &mut Case, z: &Sizes) -> Result<(), String> {
    let parts = chunks(c.n(), z.cycles as usize + 1);
    let mut sink = c.start_sink("a");
    for (cycle, part) in parts[..parts.len() - 1].iter().enumerate() {
        let before = sink.received().unwrap_or(0);
        c.produce_now(part.clone())?;
        let started = Instant::now();
        while sink.received().unwrap_or(0) <= before && started.elapsed() < Duration::from_secs(60) {
            c.hold(Duration::from_millis(20), &mut [&mut sink]);
        }
        let baseline = c.committed_sum().unwrap_or(0);
        let stop_at = Instant::now();
        let took = c.ctx.services(&["stop", "kafka"])?;
        c.hold(z.outage, &mut [&mut sink]);
        let up = c.restart_server("kafka", baseline, Duration::from_secs(90), &mut [&mut sink])?;
        c.note(format!(
            "restart {}: broker stopped with {} of {} records committed; port closed for {} (stop took {}, start {}); \
             commits resumed {} after the port opened",
            cycle + 1,
            baseline,
            part.end,
            secs(up.open_at.saturating_duration_since(stop_at)),
            secs(took),
            secs(up.took),
            up.progress_after.map_or("NEVER (90 s)".into(), secs)
        ));
        if up.progress_after.is_none() {
            c.fail(format!("restart {}: no commit within 90 s of the broker's return", cycle + 1));
        }
    }
    c.produce_background(parts[parts.len() - 1].clone(), z.rate);
    c.wait_drained(&mut [&mut sink], z.drain_timeout);
    let took = c.stop_sink(sink);
    c.note(format!("final SIGTERM stop {}", secs(took)));
    Ok(())
}

/// The stream in `parts` consecutive chunks (the last one takes the remainder).
fn chunks(n: usize, parts: usize) -> Vec<Range<usize>> {
    let size = n / parts.max(1);
    (0..parts).map(|i| i * size..if i + 1 == parts { n } else { (i + 1) * size }).collect()
}

/// kill -9 while busy, restart at once, N times: everything lands, replays are harmless. Each
/// cycle produces a burst, so the kill lands while the instance works through a backlog (its
/// replays included); the last chunk is produced at a steady rate while the last instance runs.
fn kill9(c: &mut Case, z: &Sizes) -> Result<(), String> {
    let parts = chunks(c.n(), z.cycles as usize + 1);
    let mut sink = c.start_sink("run1");
    let mut taken = Vec::new();
    let mut busy_kills = 0;
    for (cycle, part) in parts[..parts.len() - 1].iter().enumerate() {
        c.produce_now(part.clone())?;
        if c.wait_busy(&mut sink, Duration::from_secs(60)).is_none() {
            c.fail(format!("cycle {}: the sink took no records within 60 s", cycle + 1));
        }
        let hold = c.rng.millis(0, 400);
        c.hold(hold, &mut [&mut sink]);
        let received = sink.received().unwrap_or(0);
        sink.kill9();
        let committed = c.committed_sum().unwrap_or(0);
        if committed < part.end as i64 {
            busy_kills += 1;
        }
        taken.push(format!("{received}"));
        say(format!(
            "kill9: cycle {}: kill -9 after taking {received} records (committed {committed}, produced {})",
            cycle + 1,
            part.end
        ));
        sink = c.start_sink(&format!("run{}", cycle + 2));
    }
    c.note(format!(
        "{} kill -9 cycles, {busy_kills} of them with records produced but not committed; records each killed \
         instance had taken (replays included): {}",
        z.cycles,
        taken.join(" ")
    ));
    c.produce_background(parts[parts.len() - 1].clone(), z.rate);
    c.wait_drained(&mut [&mut sink], z.drain_timeout);
    let took = c.stop_sink(sink);
    c.note(format!("final SIGTERM stop {}", secs(took)));
    Ok(())
}

/// Waits until the number of partitions `sink` owns satisfies `pred`.
fn wait_assigned(
    c: &mut Case,
    sink: &mut SinkProc,
    pred: impl Fn(usize) -> bool,
    timeout: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if sink.assigned().is_some_and(&pred) {
            return Some(started.elapsed());
        }
        c.check_alive(sink);
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// A second instance with the same files joins and leaves under load, N times; on odd cycles
/// the first instance leaves instead (the newcomer stays).
fn rebalance(c: &mut Case, z: &Sizes) -> Result<(), String> {
    let n = c.n();
    let backlog = n / 5;
    c.produce_now(0..backlog)?;
    c.produce_background(backlog..n, z.rate);
    let mut stay = c.start_sink("i1");
    if wait_assigned(c, &mut stay, |a| a == PARTITIONS as usize, Duration::from_secs(60)).is_none() {
        c.fail("the first instance was not assigned every partition within 60 s");
    }
    let mut joins = Vec::new();
    let mut stops = Vec::new();
    for cycle in 0..z.cycles as usize {
        let mut join = c.start_sink(&format!("i{}", cycle + 2));
        let joined = wait_assigned(c, &mut join, |a| a > 0, Duration::from_secs(60));
        let busy = c.wait_busy(&mut join, Duration::from_secs(30));
        if joined.is_none() || busy.is_none() {
            c.fail(format!(
                "cycle {}: the joining instance got no partitions or records (assigned {:?}, received {:?})",
                cycle + 1,
                join.assigned(),
                join.received()
            ));
        }
        let (a1, a2) = (stay.assigned().unwrap_or(0), join.assigned().unwrap_or(0));
        let hold = c.rng.millis(1000, 3000);
        c.hold(hold, &mut [&mut stay, &mut join]);
        // Even cycles: the newcomer leaves; odd cycles: the incumbent leaves.
        let leaver = if cycle % 2 == 0 { join } else { std::mem::replace(&mut stay, join) };
        let leaver_label = leaver.label.clone();
        let took = c.stop_sink(leaver);
        let back = wait_assigned(c, &mut stay, |a| a == PARTITIONS as usize, Duration::from_secs(60));
        if back.is_none() {
            c.fail(format!("cycle {}: the remaining instance did not get every partition back within 60 s", cycle + 1));
        }
        joins.push(format!(
            "{}:{}+{} joined {} left({leaver_label}) {} regained {}",
            cycle + 1,
            a1,
            a2,
            joined.map_or("-".into(), secs),
            secs(took),
            back.map_or("-".into(), secs)
        ));
        stops.push(took);
        c.hold(Duration::from_secs(1), &mut [&mut stay]);
    }
    c.note(format!(
        "join/leave cycles (partitions split, join time, leaver stop time, regain time): {}",
        joins.join(", ")
    ));
    c.wait_drained(&mut [&mut stay], z.drain_timeout);
    let took = c.stop_sink(stay);
    c.note(format!("final SIGTERM stop {}", secs(took)));
    Ok(())
}

/// SIGTERM while busy, N times: each stop exits 0 in bounded time, and the table then holds
/// exactly what the committed offsets say (in-flight writes finished, and were committed). Each
/// cycle produces a burst first, so the signal lands while the instance works through it.
fn sigterm(c: &mut Case, z: &Sizes) -> Result<(), String> {
    let parts = chunks(c.n(), z.cycles as usize + 1);
    let mut stops = Vec::new();
    let mut mid_backlog = 0;
    for (cycle, part) in parts[..parts.len() - 1].iter().enumerate() {
        c.produce_now(part.clone())?;
        let mut sink = c.start_sink(&format!("run{}", cycle + 1));
        if c.wait_busy(&mut sink, Duration::from_secs(60)).is_none() {
            c.fail(format!("cycle {}: the sink took no records within 60 s", cycle + 1));
        }
        let hold = c.rng.millis(0, 400);
        c.hold(hold, &mut [&mut sink]);
        let took = c.stop_sink(sink);
        let committed = c.committed()?;
        if committed.values().sum::<i64>() < part.end as i64 {
            mid_backlog += 1;
        }
        let diff = c.check_table(Some(&committed))?;
        stops.push(format!("{}:{} committed={}", cycle + 1, secs(took), committed.values().sum::<i64>()));
        if !diff.clean() {
            c.fail(format!(
                "after graceful stop {} the table does not match its committed offsets: lost={} wrong={} extra={} \
                 (writes done but not committed, or committed but not written): {}",
                cycle + 1,
                diff.lost,
                diff.wrong,
                diff.extra,
                diff.examples.join("; ")
            ));
        }
    }
    c.note(format!(
        "{} stops under load, {mid_backlog} of them in the middle of a backlog; each table matched its committed \
         offsets exactly (stop time, committed afterwards): {}",
        z.cycles,
        stops.join(", ")
    ));
    c.produce_background(parts[parts.len() - 1].clone(), z.rate);
    let mut sink = c.start_sink("final");
    c.wait_drained(&mut [&mut sink], z.drain_timeout);
    let took = c.stop_sink(sink);
    c.note(format!("final SIGTERM stop {}", secs(took)));
    Ok(())
}

/// Cassandra down when the sink starts: it keeps retrying with backoff (a clear log line per
/// attempt, no crash loop) and gets going by itself when Cassandra comes up.
fn cassandra_unreachable(c: &mut Case, z: &Sizes) -> Result<(), String> {
    let n = c.n();
    c.ctx.services(&["stop", "cassandra"])?;
    let backlog = n / 2;
    c.produce_now(0..backlog)?;
    c.produce_background(backlog..n, z.rate);
    let mut sink = c.start_sink("a");
    let started = Instant::now();
    c.hold(z.outage, &mut [&mut sink]);
    let text = sink.log_text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("cannot connect to Cassandra"))
        .map(|l| l.split_once(" WARN ").map_or(l, |(_, m)| m).trim())
        .collect();
    let retry_lines = lines.iter().filter(|l| l.contains("retrying in")).count();
    let window = started.elapsed().as_secs_f64();
    // Backoff from 0.5 s doubling (each wait jittered to 50-100 %), capped at 30 s.
    let max_attempts = (window / 0.25).log2().ceil() as usize + (window / 15.0) as usize + 3;
    c.note(format!(
        "{} connection attempts logged in {window:.0}s (at most {max_attempts} with backoff); first: {}",
        lines.len(),
        lines.first().copied().unwrap_or("none")
    ));
    if retry_lines == 0 {
        c.fail("no 'cannot connect to Cassandra ...; retrying in ...' line while Cassandra was down");
    }
    if lines.len() > max_attempts {
        c.fail(format!("{} connection attempts in {window:.0}s: not backing off", lines.len()));
    }
    let up = c.restart_server("cassandra", 0, Duration::from_secs(90), &mut [&mut sink])?;
    let connected = up.progress_after;
    c.note(format!(
        "Cassandra started (took {}); first commit {} after the CQL port opened",
        secs(up.took),
        connected.map_or("NEVER (90 s)".into(), secs)
    ));
    match connected {
        None => c.fail("no commit within 90 s of Cassandra's return"),
        Some(d) if d > Duration::from_secs(45) => {
            c.fail(format!("first commit only {} after Cassandra's return (backoff is capped at 30 s)", secs(d)))
        }
        _ => {}
    }
    c.wait_drained(&mut [&mut sink], z.drain_timeout);
    let took = c.stop_sink(sink);
    c.note(format!("final SIGTERM stop {}", secs(took)));
    Ok(())
}

fn run(ctx: &Ctx, scenario: Scenario) -> bool {
    let z = sizes(&ctx.cli, scenario);
    let mut case = match Case::new(ctx, scenario, z.records) {
        Ok(c) => c,
        Err(e) => {
            println!("{}: lost=? wrong=? extra=? committed=?/? time=0s", scenario.name());
            println!("    FAILURE: cannot set up: {e}");
            return false;
        }
    };
    let result = match scenario {
        Scenario::CassandraDown => cassandra_down(&mut case, &z),
        Scenario::KafkaRestart => kafka_restart(&mut case, &z),
        Scenario::Kill9 => kill9(&mut case, &z),
        Scenario::Rebalance => rebalance(&mut case, &z),
        Scenario::Sigterm => sigterm(&mut case, &z),
        Scenario::CassandraUnreachableAtStart => cassandra_unreachable(&mut case, &z),
    };
    if let Err(e) = result {
        case.fail(format!("harness: {e}"));
    }
    if let Err(e) = ctx.ensure_up() {
        case.fail(format!("cannot bring the servers back: {e}"));
    }
    case.finish()
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let run_id =
        format!("{}", SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) % 1_000_000_000);
    let scenarios = if cli.scenarios.is_empty() { Scenario::ALL.to_vec() } else { cli.scenarios.clone() };
    let work = cli.work.join(&run_id);
    if let Err(e) = fs::create_dir_all(&work) {
        say(format!("cannot create {}: {e}", work.display()));
        return std::process::ExitCode::FAILURE;
    }
    match fs::File::create(work.join("harness.log")) {
        Ok(file) => tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                std::env::var("FAULTS_LOG").unwrap_or_else(|_| "info,librdkafka=debug".into()),
            ))
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init(),
        Err(e) => say(format!("no harness log: {e}")),
    }
    let ctx = Ctx { cli: Cli { work, ..cli }, rt, run_id };
    say(format!(
        "{} version, run {}: {} (logs in {})",
        if ctx.cli.short { "short" } else { "full" },
        ctx.run_id,
        scenarios.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
        ctx.cli.work.display()
    ));
    let started = Instant::now();
    let mut failed = Vec::new();
    let total = scenarios.len();
    for s in scenarios {
        let t = Instant::now();
        say(format!("=== {}", s.name()));
        if !run(&ctx, s) {
            failed.push(s.name());
        }
        say(format!("=== {} done in {}", s.name(), secs(t.elapsed())));
    }
    println!(
        "faults: {} in {:.0}s",
        if failed.is_empty() { "all scenarios passed".to_string() } else { format!("FAILED: {}", failed.join(", ")) },
        started.elapsed().as_secs_f64()
    );
    // The plain closing line test runners print.
    println!("faults: {} passed, {} failed", total - failed.len(), failed.len());
    if failed.is_empty() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
}
