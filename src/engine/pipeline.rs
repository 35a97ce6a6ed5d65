//! One connector, end to end: consume → decode → map → batch → write → mark done → commit.
//!
//! Delivery is at-least-once: a record's offset becomes committable only when its rows are
//! written (or it is dead-lettered or skipped by policy) and every earlier record of its partition
//! is too. Rows carry the Kafka timestamp as write time, so replays after a crash are harmless.
//!
//! A record that fails without tolerance (policy None) holds its partition: nothing at or after
//! it is committed, the partition stops fetching, the others go on; the hold is in the log and
//! the status, and is retried on resume or restart.
//!
//! Shutdown follows one path: stop fetching, let in-flight work finish (bounded by
//! `drain_timeout`), commit what is finished, return.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Offset, TopicPartitionList};
use scylla::client::session::Session;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::dead_letter::{DeadLetters, OwnedRecord};
use super::metrics::{ConnectorMetrics, Metrics, TableMetrics};
use super::offsets::{OffsetTracker, RecordId, SharedProgress, TopicPartition};
use super::plan::{BoundRow, RecordView, RowError, RowValues, TablePlan};
use super::sink::{self, Backoff, Retry};
use super::source::{self, AssignmentEvent, SinkConsumer};
use super::status::{ConnectorStatus, DrainProgress, Held, State};
use crate::codec::record::{Converter, DecodeFailure, decode_record};
use crate::config::{ConnectorConfig, ConverterKind, ErrorHandling, Stage, WorkerConfig};

/// Why a connector stopped other than by request.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration does not fit the live cluster: every problem, each naming key and value.
    #[error("connector {name} cannot start:\n  - {}", problems.join("\n  - "))]
    Startup { name: String, problems: Vec<String> },
    /// `--until-end` finished every partition it could, but some are held at a record that
    /// failed in a way no policy tolerates; those offsets are not committed.
    #[error("connector {name} stopped: {reason}")]
    Failed { name: String, reason: String },
}

/// What the run loop shares with the rest of the process, and knobs that are not user settings
/// of the reference connector.
#[derive(Clone)]
pub struct RunOptions {
    /// How long in-flight writes may take to finish at shutdown.
    pub drain_timeout: Duration,
    pub metrics: Arc<Metrics>,
    pub status: Arc<ConnectorStatus>,
    /// Drain mode: stop once every partition is written up to its end offset at start.
    pub until_end: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            drain_timeout: Duration::from_secs(30),
            metrics: Arc::new(Metrics::default()),
            status: Arc::new(ConnectorStatus::default()),
            until_end: false,
        }
    }
}

/// A mapped row waiting to be grouped into a request.
/// Rows of one table and Cassandra partition key go into one batch.
type BatchKey = (usize, bytes::Bytes);

/// Maps keyed by [`BatchKey`], touched once or twice per row. foldhash with a per-process random
/// seed: partition keys come from record contents, so the hash must not be predictable.
type KeyMap<V> = HashMap<BatchKey, V, foldhash::fast::RandomState>;

/// The tables of one topic, and what their mappings read of a record, decided once.
#[derive(Clone)]
struct TopicPlans {
    tables: Arc<[Arc<TablePlan>]>,
    /// Whether a table reads a header (headers are decoded only then).
    reads_headers: bool,
}

impl TopicPlans {
    fn new(tables: Vec<Arc<TablePlan>>) -> TopicPlans {
        TopicPlans { reads_headers: tables.iter().any(|p| p.reads_headers()), tables: Arc::from(tables) }
    }
}

/// A partial batch is kept at most this long when no round follows (see [`Batcher`]).
const CARRY_WAIT: Duration = Duration::from_millis(50);

struct PendingRow {
    plan: Arc<TablePlan>,
    row: BoundRow,
    record: RecordId,
    /// The consumed bytes, kept only when a dead-letter topic is configured.
    original: Option<Arc<OwnedRecord>>,
}

/// What became of one unit of work (a row write or a dead-letter write).
enum Outcome {
    Done,
    /// Retrying cannot fix it (or a tolerated failure outlasted `errors.retry.timeout`).
    Failed {
        stage: Stage,
        message: String,
    },
    /// Still failing when the drain timeout gave up on it: never skipped, never committed.
    Abandoned,
}

struct Done {
    results: Vec<(RecordId, Option<Arc<OwnedRecord>>, Outcome)>,
    /// These results are of dead-letter writes (whose failure is never tolerated).
    dead_letter: bool,
}

/// A tolerated failure waiting for its dead-letter write.
struct DeadLetter {
    record: RecordId,
    original: Arc<OwnedRecord>,
    stage: Stage,
    message: String,
}

struct Pipeline {
    name: String,
    errors: ErrorHandling,
    key_converter: Converter,
    value_converter: Converter,
    header_converter: crate::codec::header::HeaderConverter,
    plans: HashMap<String, TopicPlans>,
    session: Arc<Session>,
    dead_letters: Option<Arc<DeadLetters>>,
    /// Shared with the write tasks and the consumer's rebalance callback.
    progress: SharedProgress,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    /// Signalled by every write task when it has settled its rows. Successful writes send no
    /// message, so this is what wakes the loop when a request slot frees up (or, in a drain, when
    /// the last rows are written).
    settled: Arc<Notify>,
    /// Partitions held at a failing record (policy None), and the offset of that record.
    held: HashMap<TopicPartition, Held>,
    /// Newly held partitions, paused at the next turn of the loop.
    to_pause: Vec<TopicPartition>,
    to_dead_letter: Vec<DeadLetter>,
    ties: WriteTimeOrder,
    batcher: Batcher<PendingRow>,
    /// When kept partial batches are sent even if no round comes (paused, or the topic ran dry).
    carry_deadline: Option<tokio::time::Instant>,
    /// Topic names seen, shared by every record of the topic.
    topics: Vec<Arc<str>>,
    metrics: ConnectorMetrics,
    /// Per table plan (by address), created once.
    table_metrics: HashMap<usize, TableMetrics>,
    status: Arc<ConnectorStatus>,
    paused: bool,
    done_tx: mpsc::UnboundedSender<Done>,
    /// Cancelled when in-flight writes must stop retrying (drain timeout passed).
    abandon: CancellationToken,
    fatal: Option<String>,
    records: u64,
    /// `records` as last added to the status (updated once per round, not per record).
    records_shown: u64,
}

/// Runs a connector until `shutdown` is cancelled or a record fails in a way nothing tolerates.
pub async fn run(
    cfg: ConnectorConfig,
    worker: WorkerConfig,
    shutdown: CancellationToken,
    options: RunOptions,
) -> Result<(), RunError> {
    let name = cfg.name.clone();
    for w in &cfg.warnings {
        warn!(connector = %name, "{w}");
    }
    let status = options.status.clone();
    let result = run_inner(cfg, worker, shutdown, options).await;
    match &result {
        Ok(()) => status.set_state(State::Stopped),
        Err(e) => status.fail(e.to_string()),
    }
    result
}

async fn run_inner(
    cfg: ConnectorConfig,
    worker: WorkerConfig,
    shutdown: CancellationToken,
    options: RunOptions,
) -> Result<(), RunError> {
    let name = cfg.name.clone();
    let connector_metrics = options.metrics.connector(&name);
    let connected = connect_with_retry(&cfg, &shutdown).await;
    let Some(session) = connected.map_err(|e| RunError::Startup { name: name.clone(), problems: vec![e] })? else {
        return Ok(());
    };
    let session = Arc::new(session);

    let (plans, mut problems) = build_plans(&session, &cfg).await;
    let dead_letters = match &cfg.errors.dead_letter {
        None => None,
        Some(dlq) => match DeadLetters::open(&source::client_config(&worker), dlq.clone(), &name).await {
            Ok(d) => Some(Arc::new(d)),
            Err(e) => {
                problems.push(e);
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(RunError::Startup { name, problems });
    }
    // Converters with a schema registry stop waiting for it when the connector shuts down.
    let converter = |kind: &Option<ConverterKind>, default: &ConverterKind| {
        Converter::new(kind.as_ref().unwrap_or(default).clone(), shutdown.clone())
    };
    let (key_converter, value_converter) = match (
        converter(&cfg.key_converter, &worker.key_converter),
        converter(&cfg.value_converter, &worker.value_converter),
    ) {
        (Ok(k), Ok(v)) => (k, v),
        (Err(e), _) | (_, Err(e)) => return Err(RunError::Startup { name, problems: vec![e] }),
    };

    tokio::task::block_in_place(|| source::check_access(&cfg, &worker))
        .map_err(|reason| RunError::Startup { name: name.clone(), problems: vec![reason] })?;
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let progress = SharedProgress::default();
    let consumer = source::create(&cfg, &worker, events_tx, connector_metrics.clone(), progress.clone())
        .map_err(|reason| RunError::Startup { name: name.clone(), problems: vec![reason] })?;
    info!(connector = %name, group = %cfg.group_id(), tables = cfg.tables.len(), "connector started");

    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut p = Pipeline {
        name: name.clone(),
        errors: cfg.errors.clone(),
        key_converter,
        value_converter,
        header_converter: cfg.header_converter.clone().unwrap_or_else(|| worker.header_converter.clone()),
        plans: plans.into_iter().map(|(t, v)| (t, TopicPlans::new(v))).collect(),
        session,
        dead_letters,
        progress,
        in_flight: Arc::new(Semaphore::new(cfg.max_concurrent_requests)),
        max_in_flight: cfg.max_concurrent_requests,
        settled: Arc::new(Notify::new()),
        held: HashMap::new(),
        to_pause: Vec::new(),
        to_dead_letter: Vec::new(),
        ties: WriteTimeOrder::default(),
        batcher: Batcher::new(cfg.max_records_in_batch, sink::BATCH_BYTES, cfg.max_concurrent_requests),
        carry_deadline: None,
        topics: Vec::new(),
        table_metrics: HashMap::new(),
        metrics: connector_metrics,
        status: options.status.clone(),
        paused: false,
        done_tx,
        abandon: CancellationToken::new(),
        fatal: None,
        records: 0,
        records_shown: 0,
    };

    for plans in p.plans.values() {
        for plan in plans.tables.iter() {
            let m = p.metrics.table(&plan.topic, &plan.table.keyspace, &plan.table.table);
            p.table_metrics.insert(Arc::as_ptr(plan) as usize, m);
        }
    }
    p.status.set_state(State::Running);
    let mut paused_rx = p.status.subscribe_paused();
    let mut drain = if options.until_end {
        let topics: Vec<String> = cfg.tables.iter().map(|t| t.topic.clone()).collect();
        let target = tokio::task::block_in_place(|| DrainTarget::read(&consumer, &topics, &name));
        Some(target.map_err(|reason| RunError::Failed { name: name.clone(), reason })?)
    } else {
        None
    };

    let round_records = round_records(worker.max_poll_records, cfg.max_concurrent_requests, cfg.max_records_in_batch);
    let mut commit_tick = tokio::time::interval(worker.commit_interval);
    commit_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let settled = p.settled.clone();
    loop {
        // Without this wake-up the loop would sleep until the next commit tick whenever every
        // request slot is taken (the consumer branch is disabled then).
        let await_settled = drain.is_some() || p.in_flight.available_permits() == 0;
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            Some(done) = done_rx.recv() => p.finish(done),
            Some(event) = events_rx.recv() => p.on_assignment(event, &consumer),
            _ = commit_tick.tick() => p.commit(&consumer, CommitMode::Async),
            Ok(()) = paused_rx.changed() => {
                let paused = *paused_rx.borrow_and_update();
                if !paused {
                    p.release_holds(&consumer);
                }
                p.set_paused(&consumer, paused);
            }
            _ = settled.notified(), if await_settled => {}
            _ = sleep_until_or_never(p.carry_deadline) => p.dispatch(Vec::new(), false).await,
            msg = consumer.recv(), if p.in_flight.available_permits() > 0 => {
                // Take what is already fetched (a round), then group and send it.
                p.apply_rebalances(&mut events_rx, &consumer);
                let mut rows = Vec::new();
                let mut bytes = 0;
                match msg {
                    Ok(m) => {
                        bytes += m.payload_len() + m.key().map_or(0, <[u8]>::len);
                        p.accept(&m, &mut rows).await
                    }
                    Err(e) => warn!(connector = %name, error = %e, "Kafka consumer error"),
                }
                let mut taken = 1;
                let mut ran_dry = false;
                while taken < round_records && bytes < ROUND_BYTES && p.fatal.is_none() {
                    let next = consumer.recv().now_or_never();
                    p.apply_rebalances(&mut events_rx, &consumer);
                    match next {
                        Some(Ok(m)) => {
                            bytes += m.payload_len() + m.key().map_or(0, <[u8]>::len);
                            p.accept(&m, &mut rows).await
                        }
                        Some(Err(e)) => {
                            warn!(connector = %name, error = %e, "Kafka consumer error");
                            ran_dry = true;
                            break;
                        }
                        None => {
                            ran_dry = true;
                            break;
                        }
                    }
                    taken += 1;
                }
                let fresh = p.records - std::mem::replace(&mut p.records_shown, p.records);
                p.status.update(|s| s.records += fresh);
                // A round that emptied the fetched records is the end of the backlog for now.
                p.dispatch(rows, !ran_dry && p.fatal.is_none()).await;
            }
        }
        p.send_dead_letters().await;
        p.pause_held(&consumer);
        if let Some(target) = &mut drain {
            let left = target.left(p.progress.lock().tracker(), &p.held, &name);
            p.status.update(|s| {
                s.drain = Some(DrainProgress {
                    written: (target.total - left.total).max(0) as u64,
                    total: target.total as u64,
                })
            });
            if left.unheld == 0 {
                if p.held.is_empty() {
                    info!(connector = %name, "every partition is written up to its end offset at start; stopping");
                } else {
                    p.fatal = Some(p.hold_summary());
                }
                break;
            }
        }
    }

    // Drain: no more fetching; kept partial batches are sent, in-flight work finishes (or is
    // abandoned after the timeout).
    if p.fatal.is_none() {
        p.dispatch(Vec::new(), false).await;
    }
    let deadline = Instant::now() + options.drain_timeout;
    loop {
        p.send_dead_letters().await;
        if p.in_flight.available_permits() >= p.max_in_flight {
            break;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() && !p.abandon.is_cancelled() {
            warn!(
                connector = %name,
                "in-flight writes did not finish within {:?}; abandoning them uncommitted",
                options.drain_timeout
            );
            p.abandon.cancel();
        }
        tokio::select! {
            Some(done) = done_rx.recv() => p.finish(done),
            Some(event) = events_rx.recv() => p.on_assignment(event, &consumer),
            // Successful writes settle themselves without a message: look again shortly.
            _ = tokio::time::sleep(remaining.clamp(Duration::from_millis(1), Duration::from_millis(10))) => {}
        }
    }
    while let Ok(done) = done_rx.try_recv() {
        p.finish(done);
    }
    p.commit(&consumer, CommitMode::Sync);
    if !p.held.is_empty() && p.fatal.is_none() {
        warn!(connector = %name, "stopping with held partitions; they resume from the failing record: {}", p.hold_summary());
    }
    info!(connector = %name, records = p.records, "connector stopped");
    // Closing the consumer leaves the group, which waits for the coordinator; an unresponsive
    // broker must not keep the process from exiting (offsets are already committed).
    let closing = tokio::task::spawn_blocking(move || drop(consumer));
    if tokio::time::timeout(Duration::from_secs(10), closing).await.is_err() {
        warn!(connector = %name, "leaving the consumer group took more than 10 s; exiting without waiting");
    }
    match p.fatal {
        Some(reason) => Err(RunError::Failed { name, reason }),
        None => Ok(()),
    }
}

/// Sleeps until `deadline`, or forever without one (a `select!` branch that is off).
async fn sleep_until_or_never(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// At most this many bytes of keys and values are taken from the consumer in one round.
const ROUND_BYTES: usize = 16 << 20;

/// How many records one round takes at most, of those already fetched: at least a poll's worth
/// (`max.poll.records`), and with a backlog enough to fill every in-flight request with a full
/// batch, since rows are grouped into batches per Cassandra partition within a round (a round of
/// 500 records over 1 000 partition keys makes batches of one row). Capped at 32 768.
fn round_records(max_poll_records: usize, max_concurrent_requests: usize, max_batch: usize) -> usize {
    max_poll_records.max(max_concurrent_requests.saturating_mul(max_batch)).clamp(1, 32_768)
}

/// Every table's plan, validated against the live schema; the problems of all tables at once.
pub(crate) async fn build_plans(
    session: &Session,
    cfg: &ConnectorConfig,
) -> (HashMap<String, Vec<Arc<TablePlan>>>, Vec<String>) {
    let mut plans: HashMap<String, Vec<Arc<TablePlan>>> = HashMap::new();
    let mut problems = Vec::new();
    for table in &cfg.tables {
        match TablePlan::build(session, Arc::new(table.clone()), cfg.codec(&table.topic)).await {
            Ok(plan) => plans.entry(table.topic.clone()).or_default().push(Arc::new(plan)),
            Err(p) => problems.extend(p),
        }
    }
    (plans, problems)
}

/// `validate`: connects once (no retry) and checks every table against the live schema, the
/// way start-up does, without consuming anything. The statements it would run, or every problem.
pub async fn validate(cfg: &ConnectorConfig) -> Result<Vec<String>, Vec<String>> {
    let keyspaces: Vec<String> = cfg.tables.iter().map(|t| t.table.keyspace.clone()).collect();
    let session = sink::connect(cfg, keyspaces).await.map_err(|e| vec![e.message])?;
    let (plans, problems) = build_plans(&session, cfg).await;
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut statements: Vec<String> = plans
        .values()
        .flat_map(|ps| ps.iter().map(|p| format!("topic {} → {}: {}", p.topic, p.table, p.describe())))
        .collect();
    statements.sort();
    Ok(statements)
}

/// Cassandra unreachable at start-up is retried with backoff (and a log line each time), not
/// turned into a crash loop. `None` when shut down while waiting. A refused login or TLS
/// handshake is not retried: it is a start-up error.
async fn connect_with_retry(cfg: &ConnectorConfig, shutdown: &CancellationToken) -> Result<Option<Session>, String> {
    let keyspaces: Vec<String> = cfg.tables.iter().map(|t| t.table.keyspace.clone()).collect();
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        match sink::connect(cfg, keyspaces.clone()).await {
            Ok(s) => return Ok(Some(s)),
            Err(e) if e.permanent => return Err(e.message),
            Err(e) => {
                let delay = backoff.next_delay();
                warn!(connector = %cfg.name, "{e}; retrying in {delay:?}");
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(None),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// How a failure was dealt with.
#[derive(Debug, PartialEq, Eq)]
enum Handled {
    /// Not tolerated: the record's partition is held there, the record stays uncommitted.
    Hold,
    /// Tolerated, logged and skipped.
    Skip,
    /// Tolerated and queued for the dead-letter topic.
    DeadLetter,
}

impl Pipeline {
    /// Decodes and maps one record into `out` (one row per table of its topic).
    /// Waits only while the AvroConverter's schema registry is unreachable.
    async fn accept(&mut self, m: &BorrowedMessage<'_>, out: &mut Vec<PendingRow>) {
        let mut record =
            RecordId { tp: TopicPartition::new(self.topic(m.topic()), m.partition()), offset: m.offset(), epoch: 0 };
        if !self.held.is_empty() && self.held.contains_key(&record.tp) {
            // Fetched before the partition was paused: read again when the hold is released.
            return;
        }
        self.progress.lock().register(&mut record);
        self.records += 1;
        let original = self.dead_letters.as_ref().map(|_| Arc::new(OwnedRecord::from_message(m)));
        let mut units = 0;

        let fail = |p: &mut Self, stage: Stage, plan: Option<&Arc<TablePlan>>, e: RowError, units: &mut usize| {
            match plan.and_then(|plan| p.table_metrics.get(&(Arc::as_ptr(plan) as usize))) {
                Some(m) => m.failed.inc(),
                None if stage == Stage::Map => p.metrics.unknown_topic.inc(),
                None => 0,
            };
            let plan = plan.map(|p| &**p);
            let message = mapping_message(&record, plan, &e, p.errors.log_include_messages.then_some(m));
            match p.failure(&record, original.as_ref(), stage, message) {
                Handled::Hold => false,
                Handled::Skip => true,
                Handled::DeadLetter => {
                    *units += 1;
                    true
                }
            }
        };
        let Some(plans) = self.plans.get(m.topic()).cloned() else {
            let reason = format!(
                "Connector has no configuration for record topic '{}'. Please update the configuration and restart.",
                m.topic()
            );
            if fail(self, Stage::Map, None, RowError { column: None, field: None, reason }, &mut units) {
                self.settle(record, units);
            }
            return;
        };
        let decoded = decode_record(&self.key_converter, &self.value_converter, m.key(), m.payload()).await;
        let (key, value) = match decoded {
            Ok(kv) => kv,
            // Shut down while the schema registry was unreachable: unfinished, so uncommitted.
            Err((_, DecodeFailure::Interrupted)) => return,
            Err((part, DecodeFailure::Bad(e))) => {
                let e = RowError { column: None, field: Some(part.into()), reason: e.0 };
                if fail(self, Stage::Decode, None, e, &mut units) {
                    self.settle(record, units);
                }
                return;
            }
        };
        // Headers are parsed by librdkafka on demand: only when a mapping of the topic reads one.
        let raw: Vec<(&str, Option<&[u8]>)> = match m.headers() {
            Some(h) if plans.reads_headers => h.iter().map(|h| (h.key, h.value)).collect(),
            _ => Vec::new(),
        };
        let headers = match crate::codec::header::decode_headers(&self.header_converter, raw) {
            Ok(h) => h,
            Err((name, e)) => {
                let e = RowError { column: None, field: Some(format!("header.{name}")), reason: e.0 };
                if fail(self, Stage::Decode, None, e, &mut units) {
                    self.settle(record, units);
                }
                return;
            }
        };
        let view = RecordView { key: &key, value: &value, headers: &headers, timestamp_ms: m.timestamp().to_millis() };
        let before = out.len();
        for plan in plans.tables.iter() {
            match plan.bind(&view) {
                Ok(row) => {
                    units += 1;
                    out.push(PendingRow {
                        plan: plan.clone(),
                        row,
                        record: record.clone(),
                        original: original.clone(),
                    });
                }
                Err(e) => {
                    if !fail(self, Stage::Map, Some(plan), e, &mut units) {
                        out.truncate(before);
                        return;
                    }
                }
            }
        }
        self.settle(record, units);
    }

    /// The shared name of a topic (one allocation per topic, not per record).
    fn topic(&mut self, name: &str) -> Arc<str> {
        if let Some(t) = self.topics.iter().find(|t| &***t == name) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(name);
        self.topics.push(t.clone());
        t
    }

    /// Records how many units of work a record waits for; none means it is finished now.
    fn settle(&mut self, record: RecordId, units: usize) {
        self.progress.lock().settle(record, units);
    }

    /// The error policy, in one place: hold, skip, or dead-letter.
    fn failure(
        &mut self,
        record: &RecordId,
        original: Option<&Arc<OwnedRecord>>,
        stage: Stage,
        message: String,
    ) -> Handled {
        if !self.errors.tolerates(stage) {
            self.hold(record, stage, message);
            return Handled::Hold;
        }
        match (&self.dead_letters, original) {
            (Some(dlq), Some(original)) => {
                warn!(connector = %self.name, stage = stage.as_str(), "{message} (sent to dead-letter topic {})", dlq.topic());
                self.to_dead_letter.push(DeadLetter {
                    record: record.clone(),
                    original: original.clone(),
                    stage,
                    message,
                });
                Handled::DeadLetter
            }
            _ => {
                warn!(connector = %self.name, stage = stage.as_str(), "{message} (skipped)");
                Handled::Skip
            }
        }
    }

    /// Holds the record's partition at the record: it stays unfinished (nothing at or after it is
    /// committed) and the partition stops fetching, until a resume or a restart reads it again.
    fn hold(&mut self, record: &RecordId, stage: Stage, message: String) {
        self.progress.lock().leave_unfinished(record);
        if let Some(h) = self.held.get_mut(&record.tp) {
            // Already held: a later failure of a record already in flight changes nothing, an
            // earlier one moves the point the partition resumes from.
            if record.offset < h.offset {
                h.offset = record.offset;
                h.reason = message.clone();
            }
            error!(connector = %self.name, stage = stage.as_str(), "{message}");
        } else {
            error!(
                connector = %self.name,
                stage = stage.as_str(),
                "{}. Partition {}-{} is held at offset {}: nothing from there is committed until the \
                 connector is resumed or restarted; other partitions go on",
                message.trim_end_matches('.'),
                record.tp.topic,
                record.tp.partition,
                record.offset
            );
            self.held.insert(
                record.tp.clone(),
                Held { tp: record.tp.clone(), offset: record.offset, reason: message.clone() },
            );
            self.to_pause.push(record.tp.clone());
        }
        self.publish_holds();
    }

    fn publish_holds(&self) {
        let mut held: Vec<Held> = self.held.values().cloned().collect();
        held.sort_by(|a, b| a.tp.cmp(&b.tp));
        self.metrics.held_partitions.set(held.len() as i64);
        self.status.update(|s| s.held = held);
    }

    fn hold_summary(&self) -> String {
        let mut held: Vec<&Held> = self.held.values().collect();
        held.sort_by(|a, b| a.tp.cmp(&b.tp));
        let parts: Vec<String> = held
            .iter()
            .map(|h| format!("partition {}-{} held at offset {}: {}", h.tp.topic, h.tp.partition, h.offset, h.reason))
            .collect();
        parts.join("; ")
    }

    /// Stops fetching the partitions held since the last turn.
    fn pause_held(&mut self, consumer: &SinkConsumer) {
        if self.to_pause.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for tp in self.to_pause.drain(..) {
            tpl.add_partition(&tp.topic, tp.partition);
        }
        if let Err(e) = consumer.pause(&tpl) {
            // Records fetched meanwhile are dropped on arrival (see `accept`), so this only costs
            // fetching.
            warn!(connector = %self.name, error = %e, "cannot pause a held partition");
        }
    }

    /// Resume / restart: every held partition is read again from its failing record.
    fn release_holds(&mut self, consumer: &SinkConsumer) {
        if self.held.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for h in self.held.values() {
            // Asynchronous (no timeout): the fetcher starts over at the failing record.
            if let Err(e) = consumer.seek(&h.tp.topic, h.tp.partition, Offset::Offset(h.offset), Duration::ZERO) {
                warn!(connector = %self.name, error = %e, "cannot rewind held partition {}-{}", h.tp.topic, h.tp.partition);
                continue;
            }
            tpl.add_partition(&h.tp.topic, h.tp.partition);
            info!(connector = %self.name, "partition {}-{} released: reading again from offset {}", h.tp.topic, h.tp.partition, h.offset);
        }
        self.held.retain(|tp, _| tpl.find_partition(&tp.topic, tp.partition).is_none());
        self.to_pause.clear();
        self.publish_holds();
        if !self.paused
            && let Err(e) = consumer.resume(&tpl)
        {
            warn!(connector = %self.name, error = %e, "cannot resume released partitions");
        }
    }

    /// Groups rows by table and Cassandra partition into UNLOGGED batches of at most
    /// `maxNumberOfRecordsInBatch` rows (and a byte budget below Cassandra's batch size limit),
    /// then sends each request under the `maxConcurrentRequests` limit. With a `backlog`, partial
    /// batches may wait for the next round ([`Batcher`]); kept rows are pending, so never
    /// committed before they are written, and are sent within [`CARRY_WAIT`], when a round
    /// empties the fetched records, and before the connector stops.
    async fn dispatch(&mut self, rows: Vec<PendingRow>, backlog: bool) {
        let mut keyed = Vec::with_capacity(rows.len());
        let mut singles = Vec::new();
        for mut r in rows {
            match r.row.partition_key() {
                Some(pk) => {
                    let key = (Arc::as_ptr(&r.plan) as usize, pk);
                    self.ties.order(&key, &r.record, &mut r.row);
                    keyed.push((key, r));
                }
                None => singles.push(vec![r]),
            }
        }
        let mut units = self.batcher.cut(keyed, |r| r.row.values.size(), backlog);
        self.carry_deadline = (!self.batcher.is_empty()).then(|| tokio::time::Instant::now() + CARRY_WAIT);
        units.extend(singles);
        for unit in units {
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else { return };
            {
                let mut progress = self.progress.lock();
                for r in &unit {
                    progress.writing_started(&r.record.tp);
                }
            }
            let progress = self.progress.clone();
            let session = self.session.clone();
            let done_tx = self.done_tx.clone();
            let retry = RetryPolicy {
                abandon: self.abandon.clone(),
                // Only a tolerated failure may give up; the others hold their record.
                give_up_after: if self.errors.tolerates(Stage::Write) { self.errors.retry_timeout } else { None },
                max_delay: self.errors.retry_delay_max,
            };
            let name = self.name.clone();
            let metrics = self.table_metrics.get(&(Arc::as_ptr(&unit[0].plan) as usize)).cloned();
            let in_flight = self.metrics.in_flight.clone();
            let settled = self.settled.clone();
            in_flight.inc();
            tokio::spawn(async move {
                let results = write_unit(&session, unit, &retry, &name, metrics.as_ref()).await;
                in_flight.dec();
                let failures = finish_written(&progress, results);
                if !failures.is_empty() {
                    let _ = done_tx.send(Done { results: failures, dead_letter: false });
                }
                drop(permit);
                settled.notify_one();
            });
        }
    }

    /// Sends queued dead letters, each under an in-flight permit.
    async fn send_dead_letters(&mut self) {
        let Some(dlq) = self.dead_letters.clone() else { return };
        for letter in std::mem::take(&mut self.to_dead_letter) {
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else { return };
            self.progress.lock().writing_started(&letter.record.tp);
            let progress = self.progress.clone();
            let (dlq, done_tx) = (dlq.clone(), self.done_tx.clone());
            let dead_lettered = self.metrics.dead_lettered.clone();
            let settled = self.settled.clone();
            tokio::spawn(async move {
                let class = match letter.stage {
                    Stage::Decode => "cassandra_sink.DecodeError",
                    Stage::Map => "cassandra_sink.MappingError",
                    Stage::Write => "cassandra_sink.WriteError",
                };
                let outcome = match dlq.send(&letter.original, letter.stage, class, &letter.message).await {
                    Ok(()) => {
                        dead_lettered.inc();
                        Outcome::Done
                    }
                    Err(message) => Outcome::Failed { stage: letter.stage, message },
                };
                let failures = finish_written(&progress, vec![(letter.record, None, outcome)]);
                if !failures.is_empty() {
                    let _ = done_tx.send(Done { results: failures, dead_letter: true });
                }
                drop(permit);
                settled.notify_one();
            });
        }
    }

    /// Failed writes (successes and abandons are settled by the write tasks themselves).
    fn finish(&mut self, done: Done) {
        for (record, original, outcome) in done.results {
            match outcome {
                Outcome::Done | Outcome::Abandoned => {}
                Outcome::Failed { stage, message } if done.dead_letter => {
                    // A record that cannot be dead-lettered must not be lost: its partition holds.
                    self.hold(&record, stage, message);
                }
                Outcome::Failed { stage, message } => match self.failure(&record, original.as_ref(), stage, message) {
                    Handled::Skip => self.progress.lock().unit_done(&record),
                    // The row's unit becomes the dead-letter write's.
                    Handled::DeadLetter | Handled::Hold => {}
                },
            }
        }
    }

    /// Applies the assignment changes queued by the rebalance callback. A rebalance runs inside
    /// `recv()`: called after each one, so what it changed applies before the records fetched
    /// after it.
    fn apply_rebalances(&mut self, events: &mut mpsc::UnboundedReceiver<AssignmentEvent>, consumer: &SinkConsumer) {
        while let Ok(event) = events.try_recv() {
            self.on_assignment(event, consumer);
        }
    }

    fn on_assignment(&mut self, event: AssignmentEvent, consumer: &SinkConsumer) {
        self.metrics.rebalances.inc();
        match event {
            AssignmentEvent::Assigned(tps) => {
                info!(connector = %self.name, partitions = ?tps, "partitions assigned");
                if self.paused {
                    // A rebalance hands out partitions unpaused.
                    self.set_paused(consumer, true);
                }
                self.status.update(|s| {
                    s.assigned.extend(tps);
                    s.assigned.sort();
                    s.assigned.dedup();
                });
            }
            AssignmentEvent::Revoked(tps) => {
                info!(connector = %self.name, partitions = ?tps, "partitions revoked");
                // The rebalance callback has forgotten their progress already. Kept partial
                // batches of records received before the revoke: their next owner writes them.
                let progress = self.progress.lock();
                self.batcher.discard(|r| !progress.tracker().is_current(&r.record));
                drop(progress);
                let held = self.held.len();
                self.held.retain(|tp, _| !tps.contains(tp));
                if self.held.len() != held {
                    self.publish_holds();
                }
                self.status.update(|s| s.assigned.retain(|tp| !tps.contains(tp)));
            }
        }
    }

    /// Pauses or resumes fetching of every assigned partition (REST `pause` / `resume`); polling
    /// goes on, so the consumer keeps its group membership.
    fn set_paused(&mut self, consumer: &SinkConsumer, paused: bool) {
        self.paused = paused;
        let assignment = match consumer.assignment() {
            Ok(a) => a,
            Err(e) => {
                warn!(connector = %self.name, error = %e, "cannot read the assignment to pause or resume it");
                return;
            }
        };
        let result = if paused { consumer.pause(&assignment) } else { consumer.resume(&assignment) };
        match result {
            Ok(()) => {
                info!(connector = %self.name, "{}", if paused { "paused" } else { "resumed" });
                self.status.set_state(if paused { State::Paused } else { State::Running });
            }
            Err(e) => warn!(connector = %self.name, error = %e, "cannot pause or resume"),
        }
    }

    fn commit(&mut self, consumer: &SinkConsumer, mode: CommitMode) {
        let commits = self.progress.lock().tracker_mut().take_commits();
        if commits.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for (tp, pos) in &commits {
            if let Err(e) = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*pos)) {
                warn!(connector = %self.name, error = %e, "cannot build offset commit");
            }
        }
        match consumer.commit(&tpl, mode) {
            Ok(()) => {
                for (tp, pos) in &commits {
                    self.metrics.committed(&tp.topic, tp.partition, *pos);
                }
                debug!(connector = %self.name, ?commits, "offsets committed");
            }
            Err(e) => warn!(connector = %self.name, error = %e, "offset commit failed; will retry with later offsets"),
        }
    }
}

/// `--until-end`: the end offset of every partition at start, and progress toward it.
struct DrainTarget {
    /// Partitions with records to write, and the offset to reach.
    ends: HashMap<TopicPartition, i64>,
    total: i64,
    started: Instant,
    last_report: Instant,
}

impl DrainTarget {
    /// Every partition's end offset now; a topic whose partitions or offsets cannot be read fails
    /// the drain (it would otherwise end at once, having written nothing).
    fn read(consumer: &SinkConsumer, topics: &[String], connector: &str) -> Result<DrainTarget, String> {
        let timeout = Duration::from_secs(10);
        let committed: HashMap<(String, i32), i64> = consumer
            .committed(timeout)
            .map(|tpl| {
                tpl.elements()
                    .iter()
                    .filter_map(|e| match e.offset() {
                        Offset::Offset(o) => Some(((e.topic().to_string(), e.partition()), o)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut ends = HashMap::new();
        let mut total = 0;
        let mut unique: Vec<&String> = topics.iter().collect();
        unique.sort();
        unique.dedup();
        for topic in unique {
            let metadata = consumer
                .fetch_metadata(Some(topic), timeout)
                .map_err(|e| format!("cannot read the partitions of topic {topic}: {e}"))?;
            for t in metadata.topics() {
                for part in t.partitions() {
                    let (low, high) = consumer
                        .fetch_watermarks(topic, part.id(), timeout)
                        .map_err(|e| format!("cannot read the end offset of {topic}-{}: {e}", part.id()))?;
                    let from = committed.get(&(topic.clone(), part.id())).copied().unwrap_or(low).max(low);
                    if high > from {
                        total += high - from;
                        ends.insert(TopicPartition::new(topic.as_str(), part.id()), high);
                    }
                }
            }
        }
        info!(connector, records = total, partitions = ends.len(), "draining up to the end offsets seen at start");
        Ok(DrainTarget { ends, total, started: Instant::now(), last_report: Instant::now() })
    }

    /// Records left to write, in all partitions and in those not held; logs progress every 5 s.
    fn left(&mut self, tracker: &OffsetTracker, held: &HashMap<TopicPartition, Held>, connector: &str) -> Left {
        let mut left = Left { total: 0, unheld: 0 };
        for (tp, end) in &self.ends {
            let pos = tracker.position(tp).unwrap_or(0);
            let n = (end - pos).max(0);
            left.total += n;
            if !held.contains_key(tp) {
                left.unheld += n;
            }
        }
        if left.total > 0 && self.last_report.elapsed() >= Duration::from_secs(5) {
            self.last_report = Instant::now();
            let done = self.total - left.total;
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            let eta = if rate > 0.0 { format!("{:.0} s", left.total as f64 / rate) } else { "unknown".into() };
            // The command line shows progress itself (a bar on a terminal, log lines otherwise).
            debug!(connector, written = done, total = self.total, rate = format!("{rate:.0}/s"), eta, "draining");
        }
        left
    }
}

struct Left {
    total: i64,
    /// In partitions that are not held.
    unheld: i64,
}

/// Cuts a round's rows into batches of one key (table and Cassandra partition), in arrival
/// order, of at most `max_rows` rows and `max_bytes` bytes.
///
/// With a backlog (the round stopped at its size limit: more records are already fetched), a
/// key's last, partial batch is kept and its rows go first in the key's next batch: a batch of 32
/// rows costs Cassandra far less per row than two of 16. A partial batch waits at most
/// `max_rounds` rounds, and kept rows never exceed `max_kept` (a round's worth).
struct Batcher<T> {
    max_rows: usize,
    max_rounds: u64,
    max_bytes: usize,
    max_kept: usize,
    kept: KeyMap<Kept<T>>,
    kept_rows: usize,
    round: u64,
}

struct Kept<T> {
    rows: Vec<T>,
    /// The round its oldest row arrived in.
    since: u64,
}

impl<T> Batcher<T> {
    /// In the benchmark (1,000 keys over 8 Kafka partitions, rounds of 16,000 records) batches
    /// average 23 rows without keeping, 26 when kept for 2 rounds, 28 for 8.
    const MAX_ROUNDS: u64 = 8;

    fn new(max_rows: usize, max_bytes: usize, max_requests: usize) -> Self {
        Batcher {
            max_rows: max_rows.max(1),
            max_rounds: Self::MAX_ROUNDS,
            max_bytes,
            max_kept: max_requests.saturating_mul(max_rows),
            kept: KeyMap::default(),
            kept_rows: 0,
            round: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// This round's batches: kept rows first, then `rows` (in order) grouped by key.
    fn cut(&mut self, rows: Vec<(BatchKey, T)>, size: impl Fn(&T) -> usize, backlog: bool) -> Vec<Vec<T>> {
        self.round += 1;
        let mut order: Vec<BatchKey> = Vec::with_capacity(self.kept.len());
        let mut groups: KeyMap<Kept<T>> = KeyMap::with_capacity_and_hasher(rows.len(), Default::default());
        for (key, kept) in self.kept.drain() {
            order.push(key.clone());
            groups.insert(key, kept);
        }
        self.kept_rows = 0;
        for (key, row) in rows {
            match groups.get_mut(&key) {
                Some(g) => g.rows.push(row),
                None => {
                    order.push(key.clone());
                    groups.insert(key, Kept { rows: vec![row], since: self.round });
                }
            }
        }
        let mut batches = Vec::new();
        for key in order {
            let Some(group) = groups.remove(&key) else { continue };
            let mut since = group.since;
            let mut batch: Vec<T> = Vec::new();
            let mut bytes = 0;
            for row in group.rows {
                let n = size(&row);
                if !batch.is_empty() && (batch.len() >= self.max_rows || bytes + n > self.max_bytes) {
                    batches.push(std::mem::take(&mut batch));
                    bytes = 0;
                    // Kept rows always fit the first batch: what is left arrived this round.
                    since = self.round;
                }
                bytes += n;
                batch.push(row);
            }
            let keep = backlog
                && batch.len() < self.max_rows
                && self.round - since < self.max_rounds
                && self.kept_rows + batch.len() <= self.max_kept;
            if keep {
                self.kept_rows += batch.len();
                self.kept.insert(key, Kept { rows: batch, since });
            } else {
                batches.push(batch);
            }
        }
        batches
    }

    /// Drops kept rows matching `gone` (their partition was revoked).
    fn discard(&mut self, gone: impl Fn(&T) -> bool) {
        for kept in self.kept.values_mut() {
            kept.rows.retain(|r| !gone(r));
        }
        self.kept.retain(|_, k| !k.rows.is_empty());
        self.kept_rows = self.kept.values().map(|k| k.rows.len()).sum();
    }
}

/// Keeps Kafka order among rows of one Cassandra partition whose write times tie (spec "differ"
/// §9): Cassandra breaks equal write times by value, not by arrival, so a row whose write time
/// equals the previous one's for its partition is written one microsecond later than that one.
/// Older write times are left alone (a deliberately older `__timestamp` must still lose).
#[derive(Default)]
struct WriteTimeOrder {
    /// (table, partition key) → the last row ordered for it.
    last: KeyMap<LastWrite>,
}

struct LastWrite {
    original: i64,
    written: i64,
    /// The Kafka partition (topic hash, partition) and offset of that row's record.
    source: (u64, i32),
    offset: i64,
}

impl WriteTimeOrder {
    /// Bounds memory: ties only matter between records that arrive close together.
    const MAX_KEYS: usize = 100_000;

    fn order(&mut self, key: &(usize, bytes::Bytes), record: &RecordId, row: &mut BoundRow) {
        let Some(original) = row.write_time() else { return };
        if self.last.len() >= Self::MAX_KEYS && !self.last.contains_key(key) {
            self.last.clear();
        }
        let source = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            record.tp.topic.hash(&mut h);
            (h.finish(), record.tp.partition)
        };
        match self.last.get_mut(key) {
            // A replay (after a rebalance or a retry) of a record at or before the last one of its
            // Kafka partition: written at its own time, as the first time (which still stands).
            Some(last) if last.source == source && record.offset <= last.offset => {}
            Some(last) if original >= last.original => {
                let written = if original > last.written { original } else { last.written + 1 };
                if written != original {
                    row.set_write_time(written);
                }
                *last = LastWrite { original, written, source, offset: record.offset };
            }
            Some(_) => {}
            None => {
                self.last.insert(key.clone(), LastWrite { original, written: original, source, offset: record.offset });
            }
        }
    }
}

/// `Error decoding/mapping Kafka record (topic=…, partition=…, offset=…, table=…, column=…, field=…): reason`
fn mapping_message(
    record: &RecordId,
    plan: Option<&TablePlan>,
    e: &RowError,
    raw: Option<&BorrowedMessage<'_>>,
) -> String {
    let mut details = format!("topic={}, partition={}, offset={}", record.tp.topic, record.tp.partition, record.offset);
    if let Some(plan) = plan {
        details.push_str(&format!(", table={}", plan.table));
    }
    if let Some(c) = &e.column {
        details.push_str(&format!(", column={c}"));
    }
    if let Some(f) = &e.field {
        details.push_str(&format!(", field={f}"));
    }
    let mut message = format!("Error decoding/mapping Kafka record ({details}): {}", e.reason);
    if let Some(m) = raw {
        message.push_str(&format!("; key={} value={}", shown(m.key()), shown(m.payload())));
    }
    message
}

/// Record bytes for a log line (`errors.log.include.messages`), cut to 1 KiB.
fn shown(bytes: Option<&[u8]>) -> String {
    match bytes {
        None => "null".into(),
        Some(b) => {
            let text = String::from_utf8_lossy(&b[..b.len().min(1024)]).into_owned();
            if b.len() > 1024 { format!("{text}…") } else { text }
        }
    }
}

/// Settles a finished unit's successes and abandons in the shared progress (so a revoke waiting
/// for them sees them at once); returns the failures, which the policy decides in the loop.
fn finish_written(
    progress: &SharedProgress,
    results: Vec<(RecordId, Option<Arc<OwnedRecord>>, Outcome)>,
) -> Vec<(RecordId, Option<Arc<OwnedRecord>>, Outcome)> {
    let mut failures = Vec::new();
    let mut progress = progress.lock();
    for (record, original, outcome) in results {
        progress.writing_finished(&record.tp);
        match outcome {
            Outcome::Done => progress.unit_done(&record),
            // Left unfinished: written again after a restart.
            Outcome::Abandoned => progress.leave_unfinished(&record),
            Outcome::Failed { .. } => failures.push((record, original, outcome)),
        }
    }
    failures
}

/// How a write unit retries transient failures.
struct RetryPolicy {
    abandon: CancellationToken,
    /// Give up (as a failure) after this long; `None` = retry until success or abandon.
    give_up_after: Option<Duration>,
    max_delay: Duration,
}

/// Writes one request: a single row, or an UNLOGGED batch of rows of one Cassandra partition.
/// A batch that fails for good is retried row by row, so only the rows that really fail are
/// reported (the reference connector fails every record of the batch).
async fn write_unit(
    session: &Session,
    unit: Vec<PendingRow>,
    retry: &RetryPolicy,
    connector: &str,
    metrics: Option<&TableMetrics>,
) -> Vec<(RecordId, Option<Arc<OwnedRecord>>, Outcome)> {
    let observe = |rows: &[&PendingRow]| {
        if let Some(m) = metrics {
            m.records.inc_by(rows.len() as u64);
            m.batch_size.observe(rows.len() as f64);
            for r in rows {
                m.batch_bytes.observe(r.row.values.size() as f64);
            }
        }
    };
    let failed = |r: &PendingRow, e: &str| Outcome::Failed {
        stage: Stage::Write,
        message: format!(
            "Error inserting/updating row for Kafka record (topic={}, partition={}, offset={}, table={}): {e}",
            r.record.tp.topic, r.record.tp.partition, r.record.offset, r.plan.table
        ),
    };
    if unit.len() > 1 {
        let batch = unit[0].plan.batch_of(&unit.iter().map(|r| &r.row).collect::<Vec<_>>());
        let values: Vec<&RowValues> = unit.iter().map(|r| &r.row.values).collect();
        let table = unit[0].plan.table.to_string();
        match with_retry(|| session.batch(&batch, &values), retry, connector, &table, metrics).await {
            Ok(()) => {
                observe(&unit.iter().collect::<Vec<_>>());
                return unit.into_iter().map(|r| (r.record, r.original, Outcome::Done)).collect();
            }
            Err(WriteFailure::Abandoned(e)) => {
                warn!(connector, table = %table, "write abandoned at shutdown, left uncommitted: {e}");
                return unit.into_iter().map(|r| (r.record, r.original, Outcome::Abandoned)).collect();
            }
            Err(WriteFailure::GaveUp(e) | WriteFailure::Permanent(e)) => {
                debug!(connector, table = %table, "batch failed ({e}); writing its rows one by one");
            }
        }
    }
    let mut out = Vec::with_capacity(unit.len());
    for r in unit {
        let table = r.plan.table.to_string();
        let outcome = match with_retry(|| sink::write(session, &r.row), retry, connector, &table, metrics).await {
            Ok(()) => {
                observe(&[&r]);
                Outcome::Done
            }
            Err(WriteFailure::Permanent(e) | WriteFailure::GaveUp(e)) => {
                if let Some(m) = metrics {
                    m.failed.inc();
                }
                failed(&r, &e)
            }
            Err(WriteFailure::Abandoned(e)) => {
                warn!(connector, table = %table, offset = r.record.offset, "write abandoned at shutdown, left uncommitted: {e}");
                Outcome::Abandoned
            }
        };
        out.push((r.record, r.original, outcome));
    }
    out
}

enum WriteFailure {
    /// Retrying cannot help.
    Permanent(String),
    /// Transient, but `errors.retry.timeout` has passed for a tolerated record.
    GaveUp(String),
    /// Transient, but the drain timeout gave up on it.
    Abandoned(String),
}

/// Transient failures are retried with exponential backoff and jitter; permanent ones return at
/// once (classified in [`sink::classify`]).
async fn with_retry<T, F, Fut>(
    mut attempt_write: F,
    retry: &RetryPolicy,
    connector: &str,
    table: &str,
    metrics: Option<&TableMetrics>,
) -> Result<(), WriteFailure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, scylla::errors::ExecutionError>>,
{
    let started = Instant::now();
    let mut backoff = Backoff::new(Duration::from_millis(100), retry.max_delay);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let sent = Instant::now();
        let result = attempt_write().await;
        if let Some(m) = metrics {
            m.write_latency.observe(sent.elapsed().as_secs_f64());
            if attempt > 1 {
                m.retries.inc();
            }
        }
        match result {
            Ok(_) => {
                if attempt > 1 {
                    info!(connector, table, attempt, "write succeeded after retrying");
                }
                return Ok(());
            }
            Err(e) if sink::classify(&e) == Retry::Transient => {
                if retry.abandon.is_cancelled() {
                    return Err(WriteFailure::Abandoned(e.to_string()));
                }
                if retry.give_up_after.is_some_and(|limit| started.elapsed() >= limit) {
                    return Err(WriteFailure::GaveUp(format!("{e} (still failing after {attempt} attempts)")));
                }
                let delay = backoff.next_delay();
                if attempt == 1 || attempt.is_multiple_of(10) {
                    warn!(connector, table, attempt, "write failed, retrying in {delay:?}: {e}");
                }
                tokio::select! {
                    _ = retry.abandon.cancelled() => return Err(WriteFailure::Abandoned(e.to_string())),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            Err(e) => return Err(WriteFailure::Permanent(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: u8) -> BatchKey {
        (1, bytes::Bytes::from(vec![k]))
    }

    fn rows(spec: &[(u8, u32)]) -> Vec<(BatchKey, (u8, u32))> {
        spec.iter().map(|&(k, n)| (key(k), (k, n))).collect()
    }

    fn shapes(batches: &[Vec<(u8, u32)>]) -> Vec<Vec<u32>> {
        let mut s: Vec<Vec<u32>> = batches.iter().map(|b| b.iter().map(|r| r.1).collect()).collect();
        s.sort();
        s
    }

    #[test]
    fn without_a_backlog_every_row_goes_out_in_batches_of_one_key_in_order() {
        let mut b = Batcher::new(3, 1000, 10);
        let out = b.cut(rows(&[(1, 0), (2, 1), (1, 2), (1, 3), (1, 4), (2, 5)]), |_| 10, false);
        assert_eq!(shapes(&out), vec![vec![0, 2, 3], vec![1, 5], vec![4]]);
        assert!(b.is_empty());
    }

    #[test]
    fn with_a_backlog_partial_batches_wait_and_lead_the_next_round() {
        let mut b = Batcher::new(4, 1000, 10);
        b.max_rounds = 2;
        let out = b.cut(rows(&[(1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 5)]), |_| 10, true);
        assert_eq!(shapes(&out), vec![vec![0, 1, 2, 3]], "the full batch goes, the partial ones wait");
        assert!(!b.is_empty());
        let out = b.cut(rows(&[(1, 6), (1, 7), (1, 8), (2, 9)]), |_| 10, true);
        assert_eq!(shapes(&out), vec![vec![4, 6, 7, 8]], "kept rows first, then the new ones in order");
        // Key 2 has waited two rounds: it goes even with a backlog.
        let out = b.cut(rows(&[(3, 10)]), |_| 10, true);
        assert_eq!(shapes(&out), vec![vec![5, 9]]);
        let out = b.cut(Vec::new(), |_| 10, false);
        assert_eq!(shapes(&out), vec![vec![10]], "the end of the backlog sends everything kept");
        assert!(b.is_empty());
    }

    #[test]
    fn kept_rows_are_bounded_and_respect_the_byte_budget() {
        // At most 2 requests × 2 rows kept.
        let mut b = Batcher::new(2, 25, 2);
        let out = b.cut(rows(&[(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]), |_| 10, true);
        assert_eq!(out.iter().map(Vec::len).sum::<usize>(), 1, "four rows kept, the fifth sent");
        let out = b.cut(rows(&[(1, 5), (1, 6), (1, 7)]), |_| 20, false);
        // Every row counts 20 bytes now: two exceed the 25-byte budget, so each goes alone.
        let key1: Vec<Vec<u32>> =
            shapes(&out).into_iter().filter(|b| b.iter().any(|n| [0, 5, 6, 7].contains(n))).collect();
        assert_eq!(key1, vec![vec![0], vec![5], vec![6], vec![7]]);
    }

    #[test]
    fn discarded_rows_are_never_sent() {
        let mut b = Batcher::new(4, 1000, 10);
        assert!(b.cut(rows(&[(1, 0), (2, 1)]), |_| 10, true).is_empty());
        b.discard(|r| r.0 == 1);
        assert_eq!(shapes(&b.cut(Vec::new(), |_| 10, false)), vec![vec![1]]);
    }

    #[test]
    fn a_round_fills_every_in_flight_request_with_a_full_batch_within_bounds() {
        assert_eq!(round_records(500, 500, 32), 16_000, "the reference's defaults");
        assert_eq!(round_records(500, 10, 1), 500, "never less than a poll's worth");
        assert_eq!(round_records(500, 10_000, 32), 32_768);
        assert_eq!(round_records(0, 0, 0), 1);
    }
}
