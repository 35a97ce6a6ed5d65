//! Harness for the integration tests: the real Kafka and Cassandra started by
//! `scripts/services up`, the real `cassandra-sink` binary, a unique topic and keyspace per test.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;

pub fn kafka_bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

pub fn cassandra_node() -> String {
    std::env::var("CASSANDRA_NODE").unwrap_or_else(|_| "127.0.0.1:9042".into())
}

/// A name unique to this test run: topic, keyspace and connector names derive from it.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst), nanos % 100_000)
}

pub async fn cassandra() -> Session {
    SessionBuilder::new()
        .known_node(cassandra_node())
        .build()
        .await
        .expect("Cassandra is not reachable: run `scripts/services up` first")
}

pub async fn cql(session: &Session, statement: &str) {
    session.query_unpaged(statement, ()).await.unwrap_or_else(|e| panic!("CQL failed: {statement}: {e}"));
}

pub async fn create_keyspace(session: &Session, ks: &str) {
    cql(
        session,
        &format!("CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"),
    )
    .await;
}

/// The rows of a table. A loaded node may time a count out: it is asked again, three times at most.
pub async fn count(session: &Session, table: &str) -> i64 {
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        match session.query_unpaged(format!("SELECT count(*) FROM {table}"), ()).await {
            Err(e) if attempt < 3 && e.to_string().contains("timed out") => {
                eprintln!("count of {table} timed out (attempt {attempt}), asking again: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => break other,
        }
    };
    let rows = result.expect("count query").into_rows_result().expect("rows");
    let (n,): (i64,) = rows.single_row().expect("one row");
    n
}

pub async fn wait_for_count(session: &Session, table: &str, expected: i64, timeout: Duration) -> i64 {
    let deadline = Instant::now() + timeout;
    loop {
        let n = count(session, table).await;
        if n >= expected || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn create_topic(topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", kafka_bootstrap()).create().expect("admin client");
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("Kafka is not reachable: run `scripts/services up` first");
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("cannot create topic {t}: {e}"));
    }
}

/// One record to produce.
#[derive(Debug, Clone, Default)]
pub struct Rec {
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp_ms: Option<i64>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Rec {
    pub fn kv(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Rec {
        Rec { key: Some(key.into()), value: Some(value.into()), ..Rec::default() }
    }
    pub fn at(mut self, partition: i32) -> Rec {
        self.partition = Some(partition);
        self
    }
    pub fn ts(mut self, ms: i64) -> Rec {
        self.timestamp_ms = Some(ms);
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Rec {
        self.headers.push((k.into(), v.as_bytes().to_vec()));
        self
    }
}

pub async fn produce(topic: &str, records: &[Rec]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", kafka_bootstrap())
        .set("linger.ms", "5")
        .set("acks", "all")
        // A retried send must not write a record twice: tests count offsets as records.
        .set("enable.idempotence", "true")
        .create()
        .expect("producer");
    let mut pending = Vec::new();
    for r in records {
        let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
        if let Some(p) = r.partition {
            fr = fr.partition(p);
        }
        if let Some(k) = &r.key {
            fr = fr.key(k.as_slice());
        }
        if let Some(v) = &r.value {
            fr = fr.payload(v.as_slice());
        }
        if let Some(ts) = r.timestamp_ms {
            fr = fr.timestamp(ts);
        }
        if !r.headers.is_empty() {
            let mut h = OwnedHeaders::new();
            for (k, v) in &r.headers {
                h = h.insert(Header { key: k, value: Some(v.as_slice()) });
            }
            fr = fr.headers(h);
        }
        pending.push(producer.send_result(fr).expect("enqueue"));
    }
    for p in pending {
        p.await.expect("delivery future").expect("delivered");
    }
}

/// Sum of committed offsets of the sink's group over the topic's partitions.
pub fn committed(group: &str, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", kafka_bootstrap())
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = consumer.committed_offsets(tpl, Duration::from_secs(10)).expect("committed offsets");
    got.elements()
        .iter()
        .map(|e| {
            if let Err(err) = e.error() {
                panic!("committed offset of {topic}-{} for {group}: {err}", e.partition());
            }
            (e.partition(), if let Offset::Offset(o) = e.offset() { o } else { 0 })
        })
        .collect()
}

pub fn worker_file(dir: &std::path::Path, extra: &str) -> PathBuf {
    worker_file_at(dir, "worker.properties", &kafka_bootstrap(), extra)
}

/// A worker file named `file` reaching the Kafka at `bootstrap`, with `extra` lines.
pub fn worker_file_at(dir: &std::path::Path, file: &str, bootstrap: &str, extra: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "bootstrap.servers={bootstrap}\n\
             key.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter=org.apache.kafka.connect.storage.StringConverter\n\
             offset.flush.interval.ms=500\n\
             listeners=http://127.0.0.1:0\n\
             consumer.session.timeout.ms=10000\n\
             consumer.heartbeat.interval.ms=2000\n\
             {extra}"
        ),
    )
    .expect("write worker file");
    path
}

pub fn connector_file(dir: &std::path::Path, file: &str, body: &str) -> PathBuf {
    let path = dir.join(file);
    let (host, port) =
        cassandra_node().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap_or_default();
    std::fs::write(
        &path,
        format!(
            "connector.class=com.datastax.oss.kafka.sink.CassandraSinkConnector\n\
             tasks.max=1\n\
             contactPoints={host}\nport={port}\nloadBalancing.localDc=datacenter1\n{body}"
        ),
    )
    .expect("write connector file");
    path
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cassandra-sink-it-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A running `cassandra-sink standalone` process, its stderr captured to a file.
pub struct Sink {
    child: Child,
    log: PathBuf,
}

impl Sink {
    pub fn start(worker: &std::path::Path, connectors: &[&std::path::Path]) -> Sink {
        Sink::spawn(&[], worker, connectors)
    }

    /// `standalone --until-end`: writes what the topics hold at start, commits and exits (exit 1
    /// when a partition is held at a record no policy tolerates).
    pub fn start_until_end(worker: &std::path::Path, connectors: &[&std::path::Path]) -> Sink {
        Sink::spawn(&["--until-end"], worker, connectors)
    }

    fn spawn(flags: &[&str], worker: &std::path::Path, connectors: &[&std::path::Path]) -> Sink {
        let log = worker.with_file_name(format!("sink-{}.log", unique("run")));
        let err = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_cassandra-sink"))
            .arg("standalone")
            .args(flags)
            .arg(worker)
            .args(connectors)
            .env("RUST_LOG", "info,cassandra_sink=debug")
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn cassandra-sink");
        Sink { child, log }
    }

    /// The REST listener's address, from the log (waits up to 30 s; panics with the log).
    pub fn rest(&self) -> String {
        rest_address(self, Duration::from_secs(30)).unwrap_or_else(|| panic!("no REST address:\n{}", self.log()))
    }

    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill").arg(format!("-{sig}")).arg(self.child.id().to_string()).status();
        assert!(status.map(|s| s.success()).unwrap_or(false), "kill -{sig} failed");
    }

    /// Waits for exit; `None` on timeout (the process is then killed).
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then the exit status (graceful shutdown must finish within 30 s).
    pub fn stop(mut self) -> (ExitStatus, String) {
        self.signal("TERM");
        let status = self.wait(Duration::from_secs(30)).expect("sink did not stop within 30 s of SIGTERM");
        (status, self.log())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion (for start-up failures); returns exit code and stderr.
pub fn run_to_exit(args: &[&std::ffi::OsStr], timeout: Duration) -> (Option<i32>, String) {
    run_to_exit_with_env(args, &[], timeout)
}

/// [`run_to_exit`] with environment variables set for the sink process only.
pub fn run_to_exit_with_env(
    args: &[&std::ffi::OsStr],
    env: &[(&str, &std::ffi::OsStr)],
    timeout: Duration,
) -> (Option<i32>, String) {
    let dir = temp_dir(&unique("exit"));
    let log = dir.join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cassandra-sink"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    (status.and_then(|s| s.code()), stderr)
}

/// Reads `n` records of a topic from the beginning (for checking a dead-letter topic).
pub fn consume(topic: &str, n: usize, timeout: Duration) -> Vec<rdkafka::message::OwnedMessage> {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", kafka_bootstrap());
    consume_with(client, topic, n, timeout)
}

/// [`consume`] through the given client settings (which cluster, how to reach it).
fn consume_with(
    mut client: ClientConfig,
    topic: &str,
    n: usize,
    timeout: Duration,
) -> Vec<rdkafka::message::OwnedMessage> {
    let consumer: BaseConsumer = client
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(m.detach());
        }
    }
    out
}

/// The value of a header of a consumed record, as text.
pub fn header(m: &rdkafka::message::OwnedMessage, key: &str) -> Option<String> {
    use rdkafka::Message;
    use rdkafka::message::Headers;
    let headers = m.headers()?;
    headers.iter().find(|h| h.key == key).and_then(|h| h.value).map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Waits until the group's committed offsets over the topic add up to `total`.
pub async fn wait_committed(group: &str, topic: &str, partitions: i32, total: i64, timeout: Duration) -> i64 {
    let deadline = Instant::now() + timeout;
    loop {
        let sum = committed(group, topic, partitions).values().sum::<i64>();
        if sum >= total || Instant::now() > deadline {
            return sum;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The REST address a sink logged (`REST API listening on http://…`), waiting for it.
pub fn rest_address(sink: &Sink, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(rest) = sink.log().split("REST API listening on http://").nth(1) {
            return rest.split_whitespace().next().map(str::to_string);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// A minimal HTTP/1.1 exchange (the tests need no HTTP client library): status and body.
pub fn http(method: &str, addr: &str, path: &str) -> (u16, String) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the REST API");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

/// The secure Kafka of `scripts/secure-kafka up`: its PLAINTEXT listener, for setting up topics
/// and records and for reading offsets (the sink itself connects through its secure listeners).
pub fn secure_kafka_bootstrap() -> String {
    std::env::var("SECURE_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:49092".into())
}

/// Panics, naming the script that starts it, unless the secure Kafka listens on `port`.
pub fn require_secure_kafka(port: &str) {
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("port");
    if std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
        panic!("the secure Kafka is not listening on {addr}: run `scripts/secure-kafka up` first");
    }
}

fn secure_kafka_client() -> ClientConfig {
    let bootstrap = secure_kafka_bootstrap();
    require_secure_kafka(bootstrap.rsplit(':').next().unwrap_or("49092"));
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    c
}

/// `create_topic` on the secure Kafka.
pub async fn secure_create_topic(topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = secure_kafka_client().create().expect("admin client");
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("the secure Kafka is not reachable: run `scripts/secure-kafka up` first");
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("cannot create topic {t}: {e}"));
    }
}

/// Key/value records produced to the secure Kafka.
pub async fn secure_produce(topic: &str, records: &[(String, String)]) {
    let producer: FutureProducer =
        secure_kafka_client().set("linger.ms", "5").set("acks", "all").create().expect("producer");
    let mut pending = Vec::new();
    for (k, v) in records {
        let record: FutureRecord<'_, str, str> = FutureRecord::to(topic).key(k.as_str()).payload(v.as_str());
        pending.push(producer.send_result(record).expect("enqueue"));
    }
    for p in pending {
        p.await.expect("delivery future").expect("delivered");
    }
}

/// `committed` on the secure Kafka: the sum of the group's committed offsets over the topic.
pub fn secure_committed(group: &str, topic: &str, partitions: i32) -> i64 {
    let consumer: BaseConsumer = secure_kafka_client().set("group.id", group).create().expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = consumer.committed_offsets(tpl, Duration::from_secs(10)).expect("committed offsets");
    got.elements().iter().map(|e| if let Offset::Offset(o) = e.offset() { o } else { 0 }).sum()
}

/// `consume` on the secure Kafka.
pub fn secure_consume(topic: &str, n: usize, timeout: Duration) -> Vec<rdkafka::message::OwnedMessage> {
    consume_with(secure_kafka_client(), topic, n, timeout)
}

/// An HTTP/1.1 exchange with extra headers and a body (sent as JSON): status and body.
pub fn http_with(method: &str, addr: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the REST API");
    stream.set_read_timeout(Some(Duration::from_secs(90))).ok();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    if !chunked {
        return (status, body.to_string());
    }
    let (mut rest, mut out) = (body, String::new());
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].strip_prefix("\r\n").unwrap_or(&tail[n..]);
    }
    (status, out)
}

/// A connector's settings as the REST API takes them: the connection settings of
/// [`connector_file`], then `body`'s `key=value` lines.
pub fn connector_json(body: &str) -> serde_json::Value {
    let (host, port) =
        cassandra_node().rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap_or_default();
    let mut config = serde_json::json!({
        "connector.class": "com.datastax.oss.kafka.sink.CassandraSinkConnector",
        "tasks.max": "1",
        "contactPoints": host,
        "port": port,
        "loadBalancing.localDc": "datacenter1",
    });
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        if let Some((k, v)) = line.split_once('=') {
            config[k.trim()] = serde_json::Value::String(v.trim().to_string());
        }
    }
    config
}

/// The worker file (with `worker_extra`) and a connector file `sink.properties` (`name={id}`,
/// `topics={topic}`, then `body`) in a fresh scratch directory named after `id`.
pub fn sink_files(id: &str, topic: &str, worker_extra: &str, body: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(id);
    let worker = worker_file(&dir, worker_extra);
    let connector = connector_file(&dir, "sink.properties", &format!("name={id}\ntopics={topic}\n{body}"));
    (worker, connector)
}

/// Runs `standalone --until-end`, which must stop by itself with exit status 1 (a partition held
/// at a record no policy tolerates); its log.
pub fn run_until_held(files: &(PathBuf, PathBuf), timeout: Duration) -> String {
    let mut sink = Sink::start_until_end(&files.0, &[&files.1]);
    let status = sink.wait(timeout).expect("the connector stops by itself");
    let log = sink.log();
    assert_eq!(status.code(), Some(1), "{log}");
    log
}

/// How long a handful of records may take to be written and committed on a loaded machine.
pub const LAND: Duration = Duration::from_secs(60);

/// One test's world: a unique id that names its keyspace (created with the test's tables), its
/// connector (so its consumer group `connect-<id>`), its scratch directory and its topics.
pub struct Case {
    pub id: String,
    /// The keyspace: the id.
    pub ks: String,
    pub s: Session,
    pub dir: PathBuf,
    /// Partitions of the topics made by [`Case::topic_of`].
    partitions: std::sync::Mutex<BTreeMap<String, i32>>,
}

impl Case {
    /// A fresh keyspace named after the test, with the tables of `ddl` (`{ks}` stands for it).
    pub async fn new(prefix: &str, ddl: &[&str]) -> Case {
        let id = unique(prefix);
        let s = cassandra().await;
        create_keyspace(&s, &id).await;
        for statement in ddl {
            cql(&s, &statement.replace("{ks}", &id)).await;
        }
        let dir = temp_dir(&id);
        Case { ks: id.clone(), id, s, dir, partitions: Default::default() }
    }

    /// `<keyspace>.<name>`.
    pub fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.ks)
    }

    /// The connector's consumer group.
    pub fn group(&self) -> String {
        format!("connect-{}", self.id)
    }

    /// A topic with `partitions` partitions holding `records`: named `<id>`, or `<id>_<suffix>`.
    pub async fn topic_of(&self, suffix: &str, partitions: i32, records: &[Rec]) -> String {
        let topic = if suffix.is_empty() { self.id.clone() } else { format!("{}_{suffix}", self.id) };
        create_topic(&topic, partitions).await;
        if !records.is_empty() {
            produce(&topic, records).await;
        }
        self.partitions.lock().unwrap_or_else(|e| e.into_inner()).insert(topic.clone(), partitions);
        topic
    }

    /// A one-partition topic holding `records` (see [`Case::topic_of`]).
    pub async fn topic(&self, suffix: &str, records: &[Rec]) -> String {
        self.topic_of(suffix, 1, records).await
    }

    fn partitions_of(&self, topic: &str) -> i32 {
        self.partitions.lock().unwrap_or_else(|e| e.into_inner()).get(topic).copied().unwrap_or(1)
    }

    /// The worker file, with `extra` lines.
    pub fn worker(&self, extra: &str) -> PathBuf {
        worker_file(&self.dir, extra)
    }

    /// The connector file `sink.properties`: `name=<id>`, then `body` (topics and table settings).
    pub fn connector(&self, body: &str) -> PathBuf {
        connector_file(&self.dir, "sink.properties", &format!("name={}\n{body}", self.id))
    }

    /// The connector file of the common shape: `topic` into table `t (k text PRIMARY KEY, n int)`
    /// as `k=key, n=value.n`, then `extra` lines.
    pub fn kv_connector_with(&self, topic: &str, extra: &str) -> PathBuf {
        let ks = &self.ks;
        self.connector(&format!("topics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n{extra}"))
    }

    /// [`Case::kv_connector_with`] without extra lines.
    pub fn kv_connector(&self, topic: &str) -> PathBuf {
        self.kv_connector_with(topic, "")
    }

    /// The sum of the offsets the connector's group committed over the topic's partitions.
    pub fn committed(&self, topic: &str) -> i64 {
        committed(&self.group(), topic, self.partitions_of(topic)).values().sum()
    }

    /// Waits until the group's commits over `topic` reach `total` (or [`LAND`] passes); the sum.
    pub async fn wait_committed(&self, topic: &str, total: i64) -> i64 {
        wait_committed(&self.group(), topic, self.partitions_of(topic), total, LAND).await
    }

    /// Runs the sink (worker file without extras) until every record of each `(topic, count)`
    /// is committed (offsets are committed only once written), then stops it and checks the
    /// graceful exit. The log.
    pub async fn run(&self, connector: &std::path::Path, topics: &[(&str, i64)]) -> String {
        self.run_with("", connector, topics).await
    }

    /// [`Case::run`] with `worker_extra` lines in the worker file.
    pub async fn run_with(&self, worker_extra: &str, connector: &std::path::Path, topics: &[(&str, i64)]) -> String {
        let sink = Sink::start(&self.worker(worker_extra), &[connector]);
        for (topic, n) in topics {
            let got = self.wait_committed(topic, *n).await;
            assert_eq!(got, *n, "records of {topic} committed; sink log:\n{}", sink.log());
        }
        let (status, log) = sink.stop();
        assert!(status.success(), "graceful stop exits 0: {status:?}\n{log}");
        log
    }

    /// Runs `standalone --until-end` until it exits by itself; its exit code and log.
    pub fn run_to_failure(&self, worker_extra: &str, connector: &std::path::Path) -> (Option<i32>, String) {
        let mut sink = Sink::start_until_end(&self.worker(worker_extra), &[connector]);
        let status = sink.wait(LAND).unwrap_or_else(|| panic!("the sink does not stop by itself:\n{}", sink.log()));
        (status.code(), sink.log())
    }

    /// The rows of `query` (`{ks}` stands for the keyspace), or a panic naming the query.
    pub async fn select<T>(&self, query: &str) -> Vec<T>
    where
        T: for<'f, 'm> scylla::deserialize::row::DeserializeRow<'f, 'm>,
    {
        let query = query.replace("{ks}", &self.ks);
        self.s
            .query_unpaged(query.as_str(), ())
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .into_rows_result()
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .rows::<T>()
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .map(|r| r.unwrap_or_else(|e| panic!("{query}: {e}")))
            .collect()
    }

    /// The rows of a table.
    pub async fn count(&self, table: &str) -> i64 {
        count(&self.s, &self.table(table)).await
    }
}
