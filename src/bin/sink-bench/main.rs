//! `sink-bench`: the measuring half of `scripts/bench` (which starts the servers, builds, and
//! renders the contenders' configuration files).
//!
//! - `load`: fills a topic once with the perf workload (and, for sinks that need a map key, a
//!   copy whose keys are JSON objects); a topic that already holds the workload is kept.
//! - `ceiling`: the same rows written straight into Cassandra with the same driver (prepared
//!   INSERT, UNLOGGED batches per partition key, many requests in flight): the most Cassandra
//!   takes on this machine. Run as a contender process like the sinks.
//! - `run`: each contender alone, from offset 0 in a fresh consumer group, into a fresh table;
//!   timed from spawn until it exits (`end=exit`) or its group's lag is zero (`end=lag`); CPU
//!   seconds and peak RSS of its process; time to the first row in Cassandra; rows counted and
//!   sampled. Medians over repetitions, ratios, targets, written as Markdown.

mod workload;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use futures::{StreamExt, TryStreamExt};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};
use scylla::client::PoolSize;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::deserialize::row::DeserializeRow;
use scylla::serialize::row::SerializeRow;
use scylla::statement::Consistency;
use scylla::statement::batch::{Batch, BatchType};
use scylla::value::CqlTimestamp;

use workload::{QUOTES_SCHEMA_ID, SYMBOLS, Tick, UDT_COLUMNS, Workload, listed, quotes_schema, ticks_of};

#[derive(Parser)]
#[command(name = "sink-bench", about = "Benchmark harness of cassandra-sink (driven by scripts/bench)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load the workload into a topic (kept when it already holds exactly that).
    Load(LoadArgs),
    /// Write the workload's rows straight into Cassandra, no Kafka.
    Ceiling(CeilingArgs),
    /// Run and measure the contenders.
    Run(Box<RunArgs>),
    /// Print the workload's connector mapping (for the contenders' configuration files).
    Mapping {
        #[arg(long, default_value = "ticks")]
        workload: Workload,
    },
}

#[derive(Args)]
struct LoadArgs {
    #[arg(long)]
    brokers: String,
    #[arg(long)]
    topic: String,
    #[arg(long)]
    records: u64,
    #[arg(long, default_value_t = 8)]
    partitions: i32,
    /// `ticks` (JSON values) or `quotes` (Avro values, ten UDT columns).
    #[arg(long, default_value = "ticks")]
    workload: Workload,
    /// Also load this topic: the same values, keys as JSON objects `{"name": ...}`.
    #[arg(long)]
    json_key_topic: Option<String>,
}

#[derive(Args)]
struct CeilingArgs {
    /// Cassandra node, host:port.
    #[arg(long)]
    cql: String,
    /// keyspace.table, created beforehand.
    #[arg(long)]
    table: String,
    #[arg(long)]
    records: u64,
    /// Requests in flight (256 × 32-row batches overran the 5 s write timeout here).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Rows per UNLOGGED batch (all of one partition key); 1 sends single INSERTs.
    #[arg(long, default_value_t = 32)]
    batch: u64,
    /// Connections to the node.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    #[arg(long, default_value = "ticks")]
    workload: Workload,
}

#[derive(Args)]
struct RunArgs {
    #[arg(long)]
    brokers: String,
    #[arg(long)]
    cql: String,
    #[arg(long)]
    records: u64,
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// The workload the topic holds (tables are created for it, rows checked against it).
    #[arg(long, default_value = "ticks")]
    workload: Workload,
    /// Serve the `quotes` schema at this address as a Confluent schema registry does
    /// (`GET /schemas/ids/1`) while the contenders run.
    #[arg(long)]
    registry: Option<String>,
    /// `name=N;table=KS.T;group=G;topic=T;end=exit|lag;cmd=SHELL COMMAND` (cmd last). `group` is
    /// deleted before each run (so the contender starts at offset 0); `end=lag` waits for the
    /// group's committed offsets to reach the end of `topic`, then stops the process (SIGTERM).
    #[arg(long = "contender", required = true)]
    contenders: Vec<String>,
    /// A contender spec run once before the repetitions, untimed and unchecked: the servers' JIT
    /// warms up before the first measured run.
    #[arg(long)]
    warmup: Option<String>,
    /// Markdown results file.
    #[arg(long)]
    results: PathBuf,
    /// One log file per run goes here.
    #[arg(long)]
    logs: PathBuf,
    /// The command line to print with the results.
    #[arg(long, default_value = "")]
    command_line: String,
    /// A line for the results (e.g. what else ran on the machine).
    #[arg(long = "note")]
    notes: Vec<String>,
    /// `name=PIDFILE` of a server whose CPU seconds per run are reported (kafka, cassandra).
    #[arg(long = "server")]
    servers: Vec<String>,
    /// Give up on a run after this many seconds (default: 300 + 1 s per 2,000 records).
    #[arg(long)]
    timeout: Option<u64>,
    /// The product's targets; each is reported met or missed.
    #[arg(long, default_value_t = 0.9)]
    target_ours_vs_ceiling: f64,
    #[arg(long, default_value_t = 2.0)]
    target_ours_vs_peer: f64,
    #[arg(long, default_value_t = 8.0)]
    target_peer_cpu_per_record_vs_ours: f64,
    #[arg(long, default_value_t = 10.0)]
    target_peer_rss_vs_ours: f64,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sink-bench: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Cmd::Load(a) => rt.block_on(load(a)),
        Cmd::Ceiling(a) => rt.block_on(ceiling(a)),
        Cmd::Run(a) => rt.block_on(run(*a)),
        Cmd::Mapping { workload } => {
            println!("{}", workload.mapping());
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sink-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// load

struct DeliveryCounter {
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.first_error.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

fn probe_consumer(brokers: &str, group: &str) -> anyhow::Result<BaseConsumer> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .context("Kafka consumer")
}

/// Per partition: (low, high) watermarks; `None` when the topic does not exist.
fn watermarks(consumer: &BaseConsumer, topic: &str) -> anyhow::Result<Option<Vec<(i64, i64)>>> {
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).context("Kafka metadata")?;
    let Some(t) = md.topics().iter().find(|t| t.name() == topic) else { return Ok(None) };
    if t.error().is_some() || t.partitions().is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for p in 0..t.partitions().len() as i32 {
        out.push(consumer.fetch_watermarks(topic, p, Duration::from_secs(10)).context("watermarks")?);
    }
    Ok(Some(out))
}

async fn load(a: LoadArgs) -> anyhow::Result<()> {
    let mut topics = vec![(a.topic.clone(), false)];
    if let Some(t) = &a.json_key_topic {
        topics.push((t.clone(), true));
    }
    let probe = probe_consumer(&a.brokers, "sink-bench-probe")?;
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", &a.brokers).create().context("Kafka admin client")?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for (topic, json_key) in topics {
        match watermarks(&probe, &topic)? {
            Some(w)
                if w.len() == a.partitions as usize
                    && w.iter().all(|(lo, _)| *lo == 0)
                    && w.iter().map(|(_, hi)| *hi as u64).sum::<u64>() == a.records =>
            {
                eprintln!("[load] topic {topic} already holds the {} records", a.records);
                continue;
            }
            Some(_) => {
                eprintln!("[load] topic {topic} holds something else; recreating it");
                admin.delete_topics(&[topic.as_str()], &opts).await.context("delete topic")?;
            }
            None => {}
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = admin
                .create_topics(&[NewTopic::new(&topic, a.partitions, TopicReplication::Fixed(1))], &opts)
                .await
                .context("create topic")?;
            match r.into_iter().next() {
                Some(Ok(_)) => break,
                Some(Err((_, e))) if Instant::now() < deadline => {
                    eprintln!("[load] topic {topic} not created yet ({e}); retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Some(Err((_, e))) => bail!("cannot create topic {topic}: {e}"),
                None => bail!("cannot create topic {topic}: no answer"),
            }
        }
        let brokers = a.brokers.clone();
        let (records, partitions) = (a.records, a.partitions);
        let t0 = Instant::now();
        let topic2 = topic.clone();
        let workload = a.workload;
        tokio::task::spawn_blocking(move || produce(&brokers, &topic2, records, partitions, json_key, workload))
            .await
            .context("producer thread")??;
        let secs = t0.elapsed().as_secs_f64();
        let w = watermarks(&probe, &topic)?.unwrap_or_default();
        let total: i64 = w.iter().map(|(lo, hi)| hi - lo).sum();
        if total as u64 != a.records {
            bail!("topic {topic} holds {total} records after loading, not {}", a.records);
        }
        eprintln!(
            "[load] {topic}: {} records over {partitions} partitions in {secs:.1} s ({:.0} records/s)",
            a.records,
            a.records as f64 / secs
        );
    }
    Ok(())
}

fn produce(
    brokers: &str,
    topic: &str,
    records: u64,
    partitions: i32,
    json_key: bool,
    workload: Workload,
) -> anyhow::Result<()> {
    let schema = apache_avro::Schema::parse_str(&quotes_schema()).context("the quotes schema")?;
    let avro = apache_avro::writer::datum::GenericDatumWriter::builder(&schema).build().context("Avro writer")?;
    let ctx = DeliveryCounter { failed: AtomicU64::new(0), first_error: std::sync::Mutex::new(None) };
    let producer: BaseProducer<DeliveryCounter> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .create_with_context(ctx)
        .context("Kafka producer")?;
    for n in 0..records {
        let t = Tick::new(n);
        let key = if json_key { t.json_key() } else { t.name() };
        let value = match workload {
            Workload::Ticks => t.json_value().into_bytes(),
            Workload::Quotes => t.avro_value(&avro).context("encode a quotes value")?,
        };
        let mut rec = BaseRecord::to(topic).partition(t.partition(partitions)).key(&key).payload(&value);
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    rec = back;
                    producer.poll(Duration::from_millis(20));
                }
                Err((e, _)) => bail!("cannot produce to {topic}: {e}"),
            }
        }
        if n % 10_000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(300)).context("flush")?;
    let failed = producer.context().failed.load(Ordering::Relaxed);
    if failed > 0 {
        let first = producer.context().first_error.lock().ok().and_then(|f| f.clone()).unwrap_or_default();
        bail!("{failed} records were not delivered to {topic} (first error: {first})");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ceiling

type TickRow = (String, CqlTimestamp, &'static str, String, String, f64, i64);

fn row_of(t: &Tick, write_time_us: i64) -> TickRow {
    (t.symbol_text(), CqlTimestamp(t.ts_ms()), t.exchange(), t.industry(), t.name(), t.value(), write_time_us)
}

/// The `quotes` table's user type.
#[derive(Debug, Clone, PartialEq, Eq, scylla::SerializeValue, scylla::DeserializeValue)]
struct Fields10 {
    f0: String,
    f1: String,
    f2: String,
    f3: String,
    f4: String,
    f5: String,
    f6: String,
    f7: String,
    f8: String,
    f9: String,
}

impl Fields10 {
    fn of(t: &Tick, j: usize) -> Fields10 {
        let f = |k| t.udt_text(j, k);
        Fields10 { f0: f(0), f1: f(1), f2: f(2), f3: f(3), f4: f(4), f5: f(5), f6: f(6), f7: f(7), f8: f(8), f9: f(9) }
    }
}

type Udts = (Fields10, Fields10, Fields10, Fields10, Fields10, Fields10, Fields10, Fields10, Fields10, Fields10);

fn udts_of(t: &Tick) -> Udts {
    let [a, b, c, d, e, f, g, h, i, j] = std::array::from_fn::<_, UDT_COLUMNS, _>(|j| Fields10::of(t, j));
    (a, b, c, d, e, f, g, h, i, j)
}

type QuoteRow = (
    String,
    CqlTimestamp,
    Fields10,
    Fields10,
    Fields10,
    Fields10,
    Fields10,
    Fields10,
    Fields10,
    Fields10,
    Fields10,
    Fields10,
    i64,
);

fn quote_row_of(t: &Tick, write_time_us: i64) -> QuoteRow {
    let (a, b, c, d, e, f, g, h, i, j) = udts_of(t);
    (t.symbol_text(), CqlTimestamp(t.ts_ms()), a, b, c, d, e, f, g, h, i, j, write_time_us)
}

fn now_us() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

async fn cassandra(cql: &str, connections: usize) -> anyhow::Result<Session> {
    SessionBuilder::new()
        .known_node(cql)
        .pool_size(PoolSize::PerHost(
            std::num::NonZeroUsize::new(connections.max(1)).unwrap_or(std::num::NonZeroUsize::MIN),
        ))
        .build()
        .await
        .with_context(|| format!("cannot connect to Cassandra at {cql}"))
}

async fn ceiling(a: CeilingArgs) -> anyhow::Result<()> {
    match a.workload {
        Workload::Ticks => {
            let insert = format!(
                "INSERT INTO {}(symbol,ts,exchange,industry,name,value) VALUES (?,?,?,?,?,?) USING TIMESTAMP ?",
                a.table
            );
            write_rows(&a, &insert, row_of).await
        }
        Workload::Quotes => {
            let insert = format!(
                "INSERT INTO {}(symbol,ts,{}) VALUES (?,?,{}) USING TIMESTAMP ?",
                a.table,
                listed(UDT_COLUMNS, ",", |j| format!("u{j}")),
                listed(UDT_COLUMNS, ",", |_| "?".into())
            );
            write_rows(&a, &insert, quote_row_of).await
        }
    }
}

/// Writes the workload's rows with `insert`, each row as `row` makes it.
async fn write_rows<R: SerializeRow + Send + Sync>(
    a: &CeilingArgs,
    insert: &str,
    row: fn(&Tick, i64) -> R,
) -> anyhow::Result<()> {
    let session = Arc::new(cassandra(&a.cql, a.connections).await?);
    let mut insert = session.prepare(insert).await.context("prepare")?;
    insert.set_is_idempotent(true);
    // As the sink is configured (consistencyLevel=LOCAL_ONE).
    insert.set_consistency(Consistency::LocalOne);
    // Batches stay under 40 KiB, as the sink's do (Cassandra refuses batches over 50 KiB by default).
    let batch_rows = a.batch.max(1).min((40 * 1024 / a.workload.row_bytes()).max(1));
    let mut full = Batch::new(BatchType::Unlogged);
    full.set_consistency(Consistency::LocalOne);
    for _ in 0..batch_rows {
        full.append_statement(insert.clone());
    }
    let full = Arc::new(full);
    // Block-major, symbol-minor: rows arrive spread over all partitions, as from Kafka.
    let records = a.records;
    let max_seq = records.div_ceil(SYMBOLS);
    let units = (0..max_seq).step_by(batch_rows as usize).flat_map(move |from| {
        (0..SYMBOLS).filter_map(move |s| {
            let n = ticks_of(s, records);
            (from < n).then(|| (s, from, (from + batch_rows).min(n)))
        })
    });
    let t0 = Instant::now();
    let written = AtomicU64::new(0);
    let retries = AtomicU64::new(0);
    futures::stream::iter(units)
        .map(|(s, from, to)| {
            let (session, insert, full) = (session.clone(), insert.clone(), full.clone());
            let (written, retries) = (&written, &retries);
            async move {
                let us = now_us();
                let rows: Vec<R> = (from..to).map(|q| row(&Tick::of(s, q), us)).collect();
                let mut attempt = 0;
                loop {
                    let r = if rows.len() == 1 {
                        session.execute_unpaged(&insert, &rows[0]).await.map(|_| ())
                    } else if rows.len() as u64 == batch_rows {
                        session.batch(&full, &rows).await.map(|_| ())
                    } else {
                        let mut b = Batch::new(BatchType::Unlogged);
                        b.set_consistency(Consistency::LocalOne);
                        for _ in 0..rows.len() {
                            b.append_statement(insert.clone());
                        }
                        session.batch(&b, &rows).await.map(|_| ())
                    };
                    match r {
                        Ok(()) => break,
                        Err(e) if attempt < 10 => {
                            attempt += 1;
                            if retries.fetch_add(1, Ordering::Relaxed) < 3 {
                                eprintln!("[ceiling] write failed ({e}); retrying");
                            }
                            tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                        }
                        Err(e) => return Err(anyhow!("write failed: {e}")),
                    }
                }
                written.fetch_add(rows.len() as u64, Ordering::Relaxed);
                Ok::<(), anyhow::Error>(())
            }
        })
        .buffer_unordered(a.concurrency.max(1))
        .try_collect::<()>()
        .await?;
    let secs = t0.elapsed().as_secs_f64();
    let n = written.load(Ordering::Relaxed);
    eprintln!(
        "[ceiling] {n} rows in {secs:.2} s ({:.0} rows/s; batch {batch_rows}, concurrency {}, connections {}; {} retried writes)",
        n as f64 / secs,
        a.concurrency,
        a.connections,
        retries.load(Ordering::Relaxed)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// run

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Exit,
    Lag,
}

#[derive(Debug, Clone)]
struct Contender {
    name: String,
    table: String,
    group: Option<String>,
    topic: Option<String>,
    end: End,
    cmd: String,
}

fn parse_contender(spec: &str) -> anyhow::Result<Contender> {
    let (head, cmd) = spec.split_once("cmd=").ok_or_else(|| anyhow!("contender without cmd=: {spec}"))?;
    let mut fields = BTreeMap::new();
    for part in head.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| anyhow!("contender field without '=': {part}"))?;
        fields.insert(k.trim(), v.trim().to_string());
    }
    let end = match fields.get("end").map(String::as_str) {
        None | Some("exit") => End::Exit,
        Some("lag") => End::Lag,
        Some(other) => bail!("end={other}: exit or lag"),
    };
    let c = Contender {
        name: fields.get("name").cloned().ok_or_else(|| anyhow!("contender without name: {spec}"))?,
        table: fields.get("table").cloned().ok_or_else(|| anyhow!("contender without table: {spec}"))?,
        group: fields.get("group").cloned(),
        topic: fields.get("topic").cloned(),
        end,
        cmd: cmd.trim().to_string(),
    };
    if c.end == End::Lag && (c.group.is_none() || c.topic.is_none()) {
        bail!("contender {}: end=lag needs group= and topic=", c.name);
    }
    Ok(c)
}

/// What one run of one contender measured.
#[derive(Debug, Clone, Default)]
struct Measurement {
    rep: usize,
    ok: bool,
    failure: Option<String>,
    wall_s: f64,
    cpu_s: f64,
    peak_rss_mib: f64,
    first_write_s: Option<f64>,
    rows: i64,
    sample_mismatches: usize,
    /// CPU seconds of the servers during the run, by name.
    servers_cpu_s: BTreeMap<String, f64>,
    /// Busy CPU seconds of the whole machine during the run, and what the contender, the servers
    /// and this harness do not explain (other people's work).
    machine_busy_s: f64,
    other_cpu_s: f64,
}

impl Measurement {
    fn rows_per_s(&self, records: u64) -> f64 {
        if self.wall_s > 0.0 { records as f64 / self.wall_s } else { 0.0 }
    }
}

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// utime + stime of a process in seconds, from /proc.
fn proc_cpu_s(pid: i32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the command: state is index 0, utime is field 14 overall → index 11.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / clk_tck())
}

fn proc_peak_rss_mib(pid: i32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A process and its descendants (a contender may be a shell running several processes).
fn process_tree(root: i32) -> Vec<i32> {
    let mut parent_of = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // After the command: state, then the parent's pid.
            let ppid = stat.rfind(')').and_then(|i| stat[i + 2..].split_whitespace().nth(1)?.parse::<i32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree
}

/// CPU seconds and peak RSS (sum of each process's peak) of a process tree still running.
fn tree_usage(root: i32) -> (f64, f64) {
    let tree = process_tree(root);
    let cpu = tree.iter().filter_map(|p| proc_cpu_s(*p)).sum();
    let rss = tree.iter().filter_map(|p| proc_peak_rss_mib(*p)).sum();
    (cpu, rss)
}

/// Busy CPU seconds of the machine since boot (all cores).
fn machine_busy_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return 0.0 };
    let Some(line) = stat.lines().next() else { return 0.0 };
    let v: Vec<f64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle) / clk_tck()
}

struct Exited {
    status: i32,
    cpu_s: f64,
    peak_rss_mib: f64,
}

/// Reaps the child if it has exited, with its resource usage.
fn try_reap(pid: i32) -> anyhow::Result<Option<Exited>> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child; pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
    if r == 0 {
        return Ok(None);
    }
    if r < 0 {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Some(Exited {
        status: if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) },
        cpu_s: tv(ru.ru_utime) + tv(ru.ru_stime),
        peak_rss_mib: ru.ru_maxrss as f64 / 1024.0,
    }))
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: sending a signal to our own child.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// SIGTERM, then SIGKILL after `grace`; returns the exit.
async fn stop(pid: i32, grace: Duration) -> anyhow::Result<Exited> {
    signal(pid, libc::SIGTERM);
    let deadline = Instant::now() + grace;
    loop {
        if let Some(e) = try_reap(pid)? {
            return Ok(e);
        }
        if Instant::now() > deadline {
            signal(pid, libc::SIGKILL);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn cql(session: &Session, statement: &str) -> anyhow::Result<()> {
    session.query_unpaged(statement, ()).await.with_context(|| format!("CQL failed: {statement}"))?;
    Ok(())
}

async fn reset_table(session: &Session, table: &str, workload: Workload) -> anyhow::Result<()> {
    cql(session, &format!("DROP TABLE IF EXISTS {table}")).await?;
    let keyspace = table.split_once('.').map_or("bench", |(k, _)| k);
    for t in workload.types(keyspace) {
        cql(session, &t).await?;
    }
    cql(session, &format!("CREATE TABLE {table} ({})", workload.table_columns())).await
}

async fn delete_group(admin: &AdminClient<DefaultClientContext>, group: &str) -> anyhow::Result<()> {
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = admin.delete_groups(&[group], &opts).await.context("delete consumer group")?;
        match r.into_iter().next() {
            Some(Ok(_)) | None => return Ok(()),
            Some(Err((_, RDKafkaErrorCode::GroupIdNotFound))) => return Ok(()),
            Some(Err((_, e))) if Instant::now() < deadline => {
                eprintln!("[run] group {group} not deleted yet ({e}); retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Some(Err((_, e))) => bail!("cannot delete consumer group {group}: {e}"),
        }
    }
}

/// Records the group has not committed yet (all of them when it committed nothing).
fn lag(consumer: &BaseConsumer, topic: &str, ends: &[(i64, i64)]) -> anyhow::Result<i64> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..ends.len() as i32 {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, Duration::from_secs(5)).context("committed offsets")?;
    let mut lag = 0;
    for (p, (lo, hi)) in ends.iter().enumerate() {
        let pos = match committed.find_partition(topic, p as i32).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            _ => *lo,
        };
        lag += (hi - pos).max(0);
    }
    Ok(lag)
}

/// Exact row count, by token range (a plain count(*) over millions of rows times out).
async fn count_rows(session: &Session, table: &str) -> anyhow::Result<i64> {
    let mut first = session
        .prepare(format!("SELECT count(*) FROM {table} WHERE token(symbol) >= ? AND token(symbol) <= ?"))
        .await?;
    let mut rest =
        session.prepare(format!("SELECT count(*) FROM {table} WHERE token(symbol) > ? AND token(symbol) <= ?")).await?;
    first.set_request_timeout(Some(Duration::from_secs(120)));
    rest.set_request_timeout(Some(Duration::from_secs(120)));
    let splits: i128 = 32;
    let (lo, hi) = (i64::MIN as i128, i64::MAX as i128);
    let step = (hi - lo) / splits;
    let bounds: Vec<i64> = (0..=splits).map(|i| if i == splits { i64::MAX } else { (lo + i * step) as i64 }).collect();
    let counts: Vec<i64> = futures::stream::iter(0..splits as usize)
        .map(|i| {
            let st = if i == 0 { &first } else { &rest };
            let (a, b) = (bounds[i], bounds[i + 1]);
            async move {
                let r = session.execute_unpaged(st, (a, b)).await?.into_rows_result()?;
                let (n,): (i64,) = r.single_row()?;
                Ok::<i64, anyhow::Error>(n)
            }
        })
        .buffer_unordered(4)
        .try_collect()
        .await?;
    Ok(counts.into_iter().sum())
}

/// Reads `samples` rows back and compares them with the workload; the number that differ.
async fn spot_check(
    session: &Session,
    table: &str,
    workload: Workload,
    records: u64,
    samples: u64,
) -> anyhow::Result<usize> {
    match workload {
        Workload::Ticks => {
            let select = format!("SELECT exchange, industry, name, value FROM {table} WHERE symbol = ? AND ts = ?");
            let expected = |t: &Tick| (t.exchange().to_string(), t.industry(), t.name(), t.value());
            compare_rows(session, table, &select, records, samples, expected).await
        }
        Workload::Quotes => {
            let columns = listed(UDT_COLUMNS, ", ", |j| format!("u{j}"));
            let select = format!("SELECT {columns} FROM {table} WHERE symbol = ? AND ts = ?");
            compare_rows(session, table, &select, records, samples, udts_of).await
        }
    }
}

/// Reads `samples` rows with `select` (bound to a record's symbol and ts) and compares each with
/// `expected`; the number that differ.
async fn compare_rows<R>(
    session: &Session,
    table: &str,
    select: &str,
    records: u64,
    samples: u64,
    expected: impl Fn(&Tick) -> R,
) -> anyhow::Result<usize>
where
    R: for<'f, 'm> DeserializeRow<'f, 'm> + PartialEq + std::fmt::Debug,
{
    let q = session.prepare(select).await?;
    let mut bad = 0;
    for k in 0..samples.min(records) {
        let t = Tick::new(k.wrapping_mul(0x9E37_79B9_7F4A_7C15) % records);
        let r = session.execute_unpaged(&q, (t.symbol_text(), CqlTimestamp(t.ts_ms()))).await?.into_rows_result()?;
        let row: Option<R> = r.maybe_first_row()?;
        let expected = expected(&t);
        if row.as_ref() != Some(&expected) {
            if bad == 0 {
                eprintln!("[run] {table}: record {} reads back as {row:?}, expected {expected:?}", t.n);
            }
            bad += 1;
        }
    }
    Ok(bad)
}

fn read_pid(file: &str) -> Option<i32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

async fn measure(
    a: &RunArgs,
    session: &Session,
    admin: &AdminClient<DefaultClientContext>,
    servers: &[(String, String)],
    c: &Contender,
    rep: usize,
) -> anyhow::Result<Measurement> {
    reset_table(session, &c.table, a.workload).await?;
    if let Some(g) = &c.group {
        delete_group(admin, g).await?;
    }
    let lag_probe = match (&c.group, &c.topic) {
        (Some(g), Some(t)) => {
            let consumer = probe_consumer(&a.brokers, g)?;
            let ends = watermarks(&consumer, t)?.ok_or_else(|| anyhow!("topic {t} does not exist"))?;
            Some((consumer, t.clone(), ends))
        }
        _ => None,
    };
    let probe = session.prepare(format!("SELECT symbol FROM {} LIMIT 1", c.table)).await?;
    let timeout = Duration::from_secs(a.timeout.unwrap_or(300 + a.records / 2_000));
    std::fs::create_dir_all(&a.logs)?;
    let log_path = a.logs.join(format!("rep{rep}-{}.log", c.name));
    let log = File::create(&log_path).with_context(|| format!("{}", log_path.display()))?;

    let server_pids: Vec<(String, Option<i32>)> = servers.iter().map(|(n, f)| (n.clone(), read_pid(f))).collect();
    let servers_before: Vec<f64> = server_pids.iter().map(|(_, p)| p.and_then(proc_cpu_s).unwrap_or(0.0)).collect();
    let self_before = proc_cpu_s(std::process::id() as i32).unwrap_or(0.0);
    let machine_before = machine_busy_s();

    let start = Instant::now();
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {}", c.cmd))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", c.name))?;
    let pid = child.id() as i32;
    // The child is reaped with wait4 (for its resource usage), never through `child`.
    drop(child);

    let mut m = Measurement { rep, ..Measurement::default() };
    let mut last_lag = Instant::now() - Duration::from_secs(1);
    let exited = loop {
        if let Some(e) = try_reap(pid)? {
            m.wall_s = start.elapsed().as_secs_f64();
            if e.status != 0 {
                m.failure = Some(format!("exited with status {} (log: {})", e.status, log_path.display()));
            } else if c.end == End::Lag {
                m.failure = Some(format!("exited before its lag reached zero (log: {})", log_path.display()));
            }
            m.cpu_s = e.cpu_s;
            m.peak_rss_mib = e.peak_rss_mib;
            break e;
        }
        if m.first_write_s.is_none() {
            let sent = start.elapsed().as_secs_f64();
            if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), session.execute_unpaged(&probe, ())).await
                && r.into_rows_result().is_ok_and(|r| r.rows_num() > 0)
            {
                m.first_write_s = Some(sent);
            }
        }
        if c.end == End::Lag
            && last_lag.elapsed() >= Duration::from_millis(200)
            && let Some((consumer, topic, ends)) = &lag_probe
        {
            last_lag = Instant::now();
            if lag(consumer, topic, ends)? == 0 {
                m.wall_s = start.elapsed().as_secs_f64();
                (m.cpu_s, m.peak_rss_mib) = tree_usage(pid);
                break stop(pid, Duration::from_secs(60)).await?;
            }
        }
        if start.elapsed() > timeout {
            m.wall_s = start.elapsed().as_secs_f64();
            m.failure = Some(format!("no end after {timeout:?}; stopped (log: {})", log_path.display()));
            break stop(pid, Duration::from_secs(30)).await?;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let _ = exited;
    let machine_after = machine_busy_s();
    let self_after = proc_cpu_s(std::process::id() as i32).unwrap_or(0.0);
    let mut servers_total = 0.0;
    for ((name, pid), before) in server_pids.iter().zip(servers_before) {
        let used = pid.and_then(proc_cpu_s).map(|after| after - before).unwrap_or(0.0);
        servers_total += used;
        m.servers_cpu_s.insert(name.clone(), used);
    }
    m.machine_busy_s = machine_after - machine_before;
    m.other_cpu_s = (m.machine_busy_s - m.cpu_s - servers_total - (self_after - self_before)).max(0.0);

    if rep == 0 {
        return Ok(m);
    }
    // Rows: every record is its own row.
    m.rows = count_rows(session, &c.table).await?;
    m.sample_mismatches = spot_check(session, &c.table, a.workload, a.records, 200).await?;
    if let (Some((consumer, topic, ends)), End::Exit) = (&lag_probe, c.end) {
        let left = lag(consumer, topic, ends)?;
        if left != 0 && m.failure.is_none() {
            m.failure = Some(format!("exited with {left} records of lag"));
        }
    }
    if m.failure.is_none() && m.rows != a.records as i64 {
        m.failure = Some(format!("{} rows in {}, expected {}", m.rows, c.table, a.records));
    }
    if m.failure.is_none() && m.sample_mismatches > 0 {
        m.failure = Some(format!("{} of 200 sampled rows differ from the records", m.sample_mismatches));
    }
    m.ok = m.failure.is_none();
    Ok(m)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

fn machine() -> Vec<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    vec![
        format!("CPU: {cpu}, {cores} cores (nproc)"),
        format!("Memory: {mem}"),
        format!("Kernel: Linux {}", kernel.trim()),
        format!("Load average at start: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
    ]
}

struct Summary {
    rows_per_s: f64,
    wall_s: f64,
    cpu_s: f64,
    cpu_us_per_record: f64,
    peak_rss_mib: f64,
    first_write_s: Option<f64>,
    ok_runs: usize,
    runs: usize,
}

fn summarize(ms: &[Measurement], records: u64) -> Option<Summary> {
    let ok: Vec<&Measurement> = ms.iter().filter(|m| m.ok).collect();
    if ok.is_empty() {
        return None;
    }
    let med = |f: &dyn Fn(&Measurement) -> f64| median(ok.iter().map(|m| f(m)).collect());
    Some(Summary {
        rows_per_s: med(&|m| m.rows_per_s(records))?,
        wall_s: med(&|m| m.wall_s)?,
        cpu_s: med(&|m| m.cpu_s)?,
        cpu_us_per_record: med(&|m| m.cpu_s * 1e6 / records as f64)?,
        peak_rss_mib: med(&|m| m.peak_rss_mib)?,
        first_write_s: median(ok.iter().filter_map(|m| m.first_write_s).collect()),
        ok_runs: ok.len(),
        runs: ms.len(),
    })
}

fn report(
    a: &RunArgs,
    contenders: &[Contender],
    results: &BTreeMap<String, Vec<Measurement>>,
    started: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(
        out,
        "- Run: {started} (UTC), workload {}, {} records, {} repetition(s)",
        a.workload.name(),
        a.records,
        a.reps
    );
    if !a.command_line.is_empty() {
        let _ = writeln!(out, "- Command: `{}`", a.command_line);
    }
    for line in machine() {
        let _ = writeln!(out, "- {line}");
    }
    for n in &a.notes {
        let _ = writeln!(out, "- {n}");
    }
    let _ = writeln!(out, "\n## Medians\n");
    let _ = writeln!(
        out,
        "| contender | rows/s | wall s | CPU s (user+sys) | CPU µs/record | peak RSS MiB | start → first write s | runs ok |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut sums = BTreeMap::new();
    for c in contenders {
        let ms = results.get(&c.name).map(Vec::as_slice).unwrap_or(&[]);
        match summarize(ms, a.records) {
            Some(s) => {
                let _ = writeln!(
                    out,
                    "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.0} | {} | {}/{} |",
                    c.name,
                    s.rows_per_s,
                    s.wall_s,
                    s.cpu_s,
                    s.cpu_us_per_record,
                    s.peak_rss_mib,
                    s.first_write_s.map(|f| format!("{f:.2}")).unwrap_or_else(|| "–".into()),
                    s.ok_runs,
                    s.runs
                );
                sums.insert(c.name.clone(), s);
            }
            None => {
                let _ = writeln!(out, "| {} | – | – | – | – | – | – | 0/{} |", c.name, ms.len());
            }
        }
    }
    let _ = writeln!(out, "\n## Ratios and targets (flags of `sink-bench run`)\n");
    let _ = writeln!(out, "| ratio | value | target | |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    let ours = sums.get("ours");
    let ceiling = sums.get("ceiling");
    let peer = sums.get("peer");
    let ratio = |num: Option<f64>, den: Option<f64>| match (num, den) {
        (Some(n), Some(d)) if d > 0.0 => Some(n / d),
        _ => None,
    };
    let rows = [
        (
            "ours ÷ ceiling (rows/s)",
            ratio(ours.map(|s| s.rows_per_s), ceiling.map(|s| s.rows_per_s)),
            a.target_ours_vs_ceiling,
        ),
        ("ours ÷ peer (rows/s)", ratio(ours.map(|s| s.rows_per_s), peer.map(|s| s.rows_per_s)), a.target_ours_vs_peer),
        (
            "peer CPU per record ÷ ours",
            ratio(peer.map(|s| s.cpu_us_per_record), ours.map(|s| s.cpu_us_per_record)),
            a.target_peer_cpu_per_record_vs_ours,
        ),
        (
            "peer peak RSS ÷ ours",
            ratio(peer.map(|s| s.peak_rss_mib), ours.map(|s| s.peak_rss_mib)),
            a.target_peer_rss_vs_ours,
        ),
    ];
    for (name, value, target) in rows {
        let (shown, verdict) = match value {
            Some(v) => (format!("{v:.2}"), if v >= target { "met" } else { "MISSED" }),
            None => ("–".to_string(), "n/a (contender missing or failed)"),
        };
        let _ = writeln!(out, "| {name} | {shown} | ≥ {target} | {verdict} |");
    }
    let _ = writeln!(out, "\n## Every run\n");
    let servers: Vec<String> = a.servers.iter().filter_map(|s| s.split_once('=').map(|(n, _)| n.to_string())).collect();
    let _ = write!(out, "| rep | contender | rows/s | wall s | CPU s | peak RSS MiB | first write s | rows | ");
    for s in &servers {
        let _ = write!(out, "{s} CPU s | ");
    }
    let _ = writeln!(out, "machine busy CPU s | other load CPU s | result |");
    let _ = writeln!(out, "|{}", "---|".repeat(11 + servers.len()));
    for rep in 1..=a.reps {
        for c in contenders {
            let Some(m) = results.get(&c.name).and_then(|ms| ms.iter().find(|m| m.rep == rep)) else { continue };
            let _ = write!(
                out,
                "| {rep} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {} | {} | ",
                c.name,
                m.rows_per_s(a.records),
                m.wall_s,
                m.cpu_s,
                m.peak_rss_mib,
                m.first_write_s.map(|f| format!("{f:.2}")).unwrap_or_else(|| "–".into()),
                m.rows
            );
            for s in &servers {
                let _ = write!(out, "{:.1} | ", m.servers_cpu_s.get(s).copied().unwrap_or(0.0));
            }
            let _ = writeln!(
                out,
                "{:.1} | {:.1} | {} |",
                m.machine_busy_s,
                m.other_cpu_s,
                m.failure.as_deref().unwrap_or("ok")
            );
        }
    }
    let _ = writeln!(
        out,
        "\nrows/s = records ÷ wall time; wall = spawn → exit (`end=exit`) or → committed lag 0 (`end=lag`, \
         polled every 200 ms); CPU and peak RSS are the contender's processes' own (wait4, or /proc at lag 0, summed over the process tree); \
         first write = first `SELECT … LIMIT 1` that returned a row (polled every 25 ms); rows counted by \
         token range and 200 rows read back and compared. Other load = machine busy CPU − contender − \
         servers − harness."
    );
    out
}

/// Serves the `quotes` schema as a Confluent schema registry does, for the sinks' Avro converters
/// (each fetches it once), until the process ends.
async fn serve_registry(addr: &str) -> anyhow::Result<()> {
    use axum::extract::Path;
    use axum::http::{StatusCode, header};
    let schema = serde_json::json!({ "schema": quotes_schema() }).to_string();
    let app = axum::Router::new().route(
        "/schemas/ids/{id}",
        axum::routing::get(move |Path(id): Path<u32>| async move {
            let json = [(header::CONTENT_TYPE, "application/vnd.schemaregistry.v1+json")];
            if id == QUOTES_SCHEMA_ID {
                (StatusCode::OK, json, schema.clone())
            } else {
                (StatusCode::NOT_FOUND, json, r#"{"error_code":40403,"message":"Schema not found"}"#.to_string())
            }
        }),
    );
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (registry)"))?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("[run] the schema registry stopped: {e}");
        }
    });
    eprintln!("[run] serving the quotes schema (id {QUOTES_SCHEMA_ID}) at http://{addr}");
    Ok(())
}

async fn run(a: RunArgs) -> anyhow::Result<()> {
    let contenders: Vec<Contender> = a.contenders.iter().map(|s| parse_contender(s)).collect::<Result<_, _>>()?;
    let servers: Vec<(String, String)> = a
        .servers
        .iter()
        .map(|s| s.split_once('=').map(|(n, f)| (n.to_string(), f.to_string())).ok_or_else(|| anyhow!("--server {s}")))
        .collect::<Result<_, _>>()?;
    let started = chrono::Utc::now().format("%Y-%m-%d %H:%M").to_string();
    if let Some(addr) = &a.registry {
        serve_registry(addr).await?;
    }
    let session = cassandra(&a.cql, 1).await?;
    let mut keyspaces: Vec<&str> = contenders.iter().filter_map(|c| c.table.split_once('.').map(|(k, _)| k)).collect();
    keyspaces.dedup();
    for ks in keyspaces {
        cql(
            &session,
            &format!("CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {{'class':'SimpleStrategy','replication_factor':1}}"),
        )
        .await?;
    }
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", &a.brokers).create().context("Kafka admin client")?;
    if let Some(spec) = &a.warmup {
        let w = parse_contender(spec)?;
        eprintln!("[run] warm-up: {} (untimed)", w.name);
        let m = measure(&a, &session, &admin, &servers, &w, 0).await?;
        eprintln!("[run] warm-up took {:.1} s", m.wall_s);
        cql(&session, &format!("DROP TABLE IF EXISTS {}", w.table)).await?;
    }
    let mut results: BTreeMap<String, Vec<Measurement>> = BTreeMap::new();
    for rep in 1..=a.reps {
        // Each repetition starts with the next contender, so none always runs first.
        let mut order: Vec<&Contender> = contenders.iter().collect();
        order.rotate_left((rep - 1) % contenders.len());
        for c in order {
            eprintln!("[run] rep {rep}/{}: {} …", a.reps, c.name);
            let m = measure(&a, &session, &admin, &servers, c, rep).await?;
            eprintln!(
                "[run] rep {rep}: {:<8} {:>9.0} rows/s  wall {:>7.2} s  CPU {:>7.2} s  RSS {:>6.0} MiB  first write {}  rows {}  other load {:.1} CPU s  {}",
                c.name,
                m.rows_per_s(a.records),
                m.wall_s,
                m.cpu_s,
                m.peak_rss_mib,
                m.first_write_s.map(|f| format!("{f:.2} s")).unwrap_or_else(|| "–".into()),
                m.rows,
                m.other_cpu_s,
                m.failure.as_deref().unwrap_or("ok")
            );
            results.entry(c.name.clone()).or_default().push(m);
        }
    }
    let text = report(&a, &contenders, &results, &started);
    if let Some(dir) = a.results.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.results, &text).with_context(|| format!("{}", a.results.display()))?;
    println!("{text}");
    eprintln!("[run] results written to {}", a.results.display());
    if results.values().flatten().any(|m| !m.ok) {
        bail!("some runs failed (see the table)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contender_specs() {
        let c = parse_contender("name=ours;table=b.t;group=g;topic=t;end=lag;cmd=bin x;y --z").unwrap();
        assert_eq!((c.name.as_str(), c.end, c.cmd.as_str()), ("ours", End::Lag, "bin x;y --z"));
        assert!(parse_contender("name=x;table=b.t;end=lag;cmd=y").is_err());
    }

    #[test]
    fn records_are_rows() {
        let t = Tick::new(123_456);
        assert_eq!(Tick::of(t.symbol, t.seq), t);
        assert_eq!((0..SYMBOLS).map(|s| ticks_of(s, 2_500)).sum::<u64>(), 2_500);
        assert_eq!(t.datetime(), "2026-12-01T09:32:03.000Z");
        assert!(t.json_value().starts_with("{\"symbol\":\"SYM0456\",\"datetime\":\"2026-12-01T09:32:03.000Z\""));
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }
}
