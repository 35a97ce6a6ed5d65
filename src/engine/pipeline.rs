//! One connector, end to end: consume → decode → map → write → mark done → commit.
//!
//! Delivery is at-least-once: a record's offset becomes committable only when its rows are
//! written (or it is skipped by policy) and every earlier record of its partition is too. Rows
//! carry the Kafka timestamp as write time, so replays after a crash are harmless.
//!
//! Shutdown and fatal errors follow one path: stop fetching, let in-flight writes finish (bounded
//! by `drain_timeout`), commit what is finished, return.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::Headers;
use rdkafka::{Offset, TopicPartitionList};
use scylla::client::session::Session;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::offsets::{OffsetTracker, TopicPartition};
use super::plan::{BindValue, BoundRow, RecordView, RowError, TablePlan};
use super::sink::{self, Backoff, Retry};
use super::source::{self, AssignmentEvent, SinkConsumer};
use crate::codec::record::Data;
use crate::config::{ConnectorConfig, ConverterKind, ErrorPolicy, WorkerConfig};
use futures::FutureExt;

/// Why a connector stopped other than by request.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration does not fit the live cluster: every problem, each naming key and value.
    #[error("connector {name} cannot start:\n  - {}", problems.join("\n  - "))]
    Startup { name: String, problems: Vec<String> },
    /// A record could not be handled under the configured policy; its offset is not committed.
    #[error("connector {name} stopped: {reason}")]
    Failed { name: String, reason: String },
}

/// Knobs of the run loop that are not user settings of the reference connector.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long in-flight writes may take to finish at shutdown.
    pub drain_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { drain_timeout: Duration::from_secs(30) }
    }
}

/// A record, as the offset tracker and the write units know it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RecordId {
    tp: TopicPartition,
    offset: i64,
}

/// A mapped row waiting to be grouped into a request.
struct PendingRow {
    plan: Arc<TablePlan>,
    row: BoundRow,
    record: RecordId,
}

/// What became of one row of a write request.
enum Outcome {
    Written,
    /// Retrying cannot fix it; the error policy decides.
    Failed(String),
    /// Still failing when the drain timeout gave up on it: never skipped, never committed.
    Abandoned,
}

/// The outcome of one write request, row by row.
struct Done {
    results: Vec<(RecordId, Outcome)>,
}

struct Pipeline {
    name: String,
    policy: ErrorPolicy,
    key_converter: ConverterKind,
    value_converter: ConverterKind,
    plans: HashMap<String, Arc<[Arc<TablePlan>]>>,
    session: Arc<Session>,
    tracker: OffsetTracker,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    max_batch: usize,
    /// Rows of each record still being written; a record is finished when it reaches zero.
    remaining: HashMap<RecordId, usize>,
    done_tx: mpsc::UnboundedSender<Done>,
    /// Cancelled when in-flight writes must stop retrying (drain timeout passed).
    abandon: CancellationToken,
    fatal: Option<String>,
    records: u64,
}

/// Runs a connector until `shutdown` is cancelled or a record fails under policy `None`.
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
    let Some(session) = connect_with_retry(&cfg, &shutdown).await else {
        return Ok(());
    };
    let session = Arc::new(session);

    let mut plans: HashMap<String, Vec<Arc<TablePlan>>> = HashMap::new();
    let mut problems = Vec::new();
    for table in &cfg.tables {
        match TablePlan::build(&session, Arc::new(table.clone()), cfg.codec(&table.topic)).await {
            Ok(plan) => plans.entry(table.topic.clone()).or_default().push(Arc::new(plan)),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        return Err(RunError::Startup { name, problems });
    }

    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let consumer = source::create(&cfg, &worker, events_tx)
        .map_err(|reason| RunError::Startup { name: name.clone(), problems: vec![reason] })?;
    info!(connector = %name, group = %cfg.group_id(), tables = cfg.tables.len(), "connector started");

    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut p = Pipeline {
        name: name.clone(),
        policy: cfg.ignore_errors,
        key_converter: cfg.key_converter.unwrap_or(worker.key_converter),
        value_converter: cfg.value_converter.unwrap_or(worker.value_converter),
        plans: plans.into_iter().map(|(t, v)| (t, Arc::from(v))).collect(),
        session,
        tracker: OffsetTracker::default(),
        in_flight: Arc::new(Semaphore::new(cfg.max_concurrent_requests)),
        max_in_flight: cfg.max_concurrent_requests,
        max_batch: cfg.max_records_in_batch,
        remaining: HashMap::new(),
        done_tx,
        abandon: CancellationToken::new(),
        fatal: None,
        records: 0,
    };

    let mut commit_tick = tokio::time::interval(worker.commit_interval);
    commit_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            Some(done) = done_rx.recv() => p.finish(done),
            Some(event) = events_rx.recv() => p.on_assignment(event),
            _ = commit_tick.tick() => p.commit(&consumer, CommitMode::Async),
            msg = consumer.recv(), if p.in_flight.available_permits() > 0 => {
                // Take what is already fetched (up to a poll's worth), then group and send it.
                let mut rows = Vec::new();
                match msg {
                    Ok(m) => p.accept(&m, &mut rows),
                    Err(e) => warn!(connector = %name, error = %e, "Kafka consumer error"),
                }
                let mut taken = 1;
                while taken < worker.max_poll_records && p.fatal.is_none() {
                    match consumer.recv().now_or_never() {
                        Some(Ok(m)) => p.accept(&m, &mut rows),
                        Some(Err(e)) => {
                            warn!(connector = %name, error = %e, "Kafka consumer error");
                            break;
                        }
                        None => break,
                    }
                    taken += 1;
                }
                p.dispatch(rows).await;
            }
        }
        if p.fatal.is_some() {
            break;
        }
    }

    // Drain: no more fetching; in-flight writes finish (or are abandoned after the timeout).
    let deadline = Instant::now() + options.drain_timeout;
    while p.in_flight.available_permits() < p.max_in_flight {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() && !p.abandon.is_cancelled() {
            warn!(connector = %name, "in-flight writes did not finish within {:?}; abandoning them uncommitted", options.drain_timeout);
            p.abandon.cancel();
        }
        tokio::select! {
            Some(done) = done_rx.recv() => p.finish(done),
            Some(event) = events_rx.recv() => p.on_assignment(event),
            _ = tokio::time::sleep(remaining.max(Duration::from_millis(10))) => {}
        }
    }
    while let Ok(done) = done_rx.try_recv() {
        p.finish(done);
    }
    p.commit(&consumer, CommitMode::Sync);
    info!(connector = %name, records = p.records, "connector stopped");
    match p.fatal {
        Some(reason) => Err(RunError::Failed { name, reason }),
        None => Ok(()),
    }
}

/// Cassandra unreachable at start-up is retried with backoff (and a log line each time), not
/// turned into a crash loop. `None` when shut down while waiting.
async fn connect_with_retry(cfg: &ConnectorConfig, shutdown: &CancellationToken) -> Option<Session> {
    let keyspaces: Vec<String> = cfg.tables.iter().map(|t| t.table.keyspace.clone()).collect();
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        match sink::connect(cfg, keyspaces.clone()).await {
            Ok(s) => return Some(s),
            Err(e) => {
                let delay = backoff.next_delay();
                warn!(connector = %cfg.name, "{e}; retrying in {delay:?}");
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

impl Pipeline {
    /// Decodes and maps one record into `rows` (one per table of its topic).
    fn accept(&mut self, m: &rdkafka::message::BorrowedMessage<'_>, out: &mut Vec<PendingRow>) {
        let tp = TopicPartition { topic: m.topic().to_string(), partition: m.partition() };
        let offset = m.offset();
        self.tracker.register(&tp, offset);
        self.records += 1;
        let ctx = RecordContext { tp: &tp, offset };

        let Some(plans) = self.plans.get(m.topic()).cloned() else {
            let reason = format!(
                "Connector has no configuration for record topic '{}'. Please update the configuration and restart.",
                m.topic()
            );
            return self.skip_or_stop(&ctx, None, RowError { column: None, field: None, reason });
        };
        let key = match Data::decode(self.key_converter, m.key()) {
            Ok(d) => d,
            Err(e) => {
                return self.skip_or_stop(
                    &ctx,
                    None,
                    RowError { column: None, field: Some("key".into()), reason: e.0 },
                );
            }
        };
        let value = match Data::decode(self.value_converter, m.payload()) {
            Ok(d) => d,
            Err(e) => {
                return self.skip_or_stop(
                    &ctx,
                    None,
                    RowError { column: None, field: Some("value".into()), reason: e.0 },
                );
            }
        };
        let headers: Vec<(&str, Option<&[u8]>)> = match m.headers() {
            Some(h) => h.iter().map(|h| (h.key, h.value)).collect(),
            None => Vec::new(),
        };
        let view = RecordView { key: &key, value: &value, headers: &headers, timestamp_ms: m.timestamp().to_millis() };

        let before = out.len();
        for plan in plans.iter() {
            match plan.bind(&view) {
                Ok(row) => {
                    out.push(PendingRow { plan: plan.clone(), row, record: RecordId { tp: tp.clone(), offset } })
                }
                Err(e) => {
                    self.mapping_failure(&ctx, Some(plan), e);
                    if self.fatal.is_some() {
                        out.truncate(before);
                        return;
                    }
                }
            }
        }
        match out.len() - before {
            0 => self.tracker.complete(&tp, offset),
            n => {
                self.remaining.insert(RecordId { tp, offset }, n);
            }
        }
    }

    /// Groups rows by table and Cassandra partition into UNLOGGED batches of at most
    /// `maxNumberOfRecordsInBatch` rows (and a byte budget below Cassandra's batch size limit),
    /// then sends each request under the `maxConcurrentRequests` limit.
    async fn dispatch(&mut self, rows: Vec<PendingRow>) {
        let mut order: Vec<(usize, bytes::Bytes)> = Vec::new();
        let mut groups: HashMap<(usize, bytes::Bytes), Vec<PendingRow>> = HashMap::new();
        let mut singles = Vec::new();
        for r in rows {
            match r.row.statement.compute_partition_key(&r.row.values) {
                Ok(pk) => {
                    let key = (Arc::as_ptr(&r.plan) as usize, pk);
                    let group = groups.entry(key.clone()).or_insert_with(|| {
                        order.push(key);
                        Vec::new()
                    });
                    group.push(r);
                }
                Err(_) => singles.push(vec![r]),
            }
        }
        let mut units: Vec<Vec<PendingRow>> = Vec::new();
        for key in order {
            let Some(group) = groups.remove(&key) else { continue };
            let mut unit: Vec<PendingRow> = Vec::new();
            let mut bytes = 0;
            for r in group {
                let size = sink::approx_size(&r.row.values);
                if !unit.is_empty() && (unit.len() >= self.max_batch || bytes + size > sink::BATCH_BYTES) {
                    units.push(std::mem::take(&mut unit));
                    bytes = 0;
                }
                bytes += size;
                unit.push(r);
            }
            units.push(unit);
        }
        units.extend(singles);
        for unit in units {
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else { return };
            let session = self.session.clone();
            let done_tx = self.done_tx.clone();
            let abandon = self.abandon.clone();
            let name = self.name.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let results = write_unit(&session, unit, &abandon, &name).await;
                let _ = done_tx.send(Done { results });
            });
        }
    }

    /// A record that yields no rows at all: skipped (and so finished) or the connector stops.
    fn skip_or_stop(&mut self, ctx: &RecordContext<'_>, plan: Option<&TablePlan>, e: RowError) {
        self.mapping_failure(ctx, plan, e);
        if self.fatal.is_none() {
            self.tracker.complete(ctx.tp, ctx.offset);
        }
    }

    /// A record that cannot be turned into rows: skipped under `All`, otherwise the connector
    /// stops and the record's offset is never committed.
    fn mapping_failure(&mut self, ctx: &RecordContext<'_>, plan: Option<&TablePlan>, e: RowError) {
        let mut details = format!("topic={}, partition={}, offset={}", ctx.tp.topic, ctx.tp.partition, ctx.offset);
        if let Some(plan) = plan {
            details.push_str(&format!(", table={}", plan.table));
        }
        if let Some(c) = &e.column {
            details.push_str(&format!(", column={c}"));
        }
        if let Some(f) = &e.field {
            details.push_str(&format!(", field={f}"));
        }
        let message = format!("Error decoding/mapping Kafka record ({details}): {}", e.reason);
        if self.policy == ErrorPolicy::All {
            warn!(connector = %self.name, "{message}");
            // Other tables of a fanned-out record may still be written; the tracker completes
            // the record when they are (or right away when there are none).
        } else {
            error!(connector = %self.name, "{message}");
            self.fatal = Some(message);
        }
    }

    fn finish(&mut self, done: Done) {
        for (record, outcome) in done.results {
            match outcome {
                Outcome::Written => {}
                Outcome::Abandoned => {
                    // Left unfinished: its partition is not committed past it and it is written
                    // again after a restart.
                    self.remaining.remove(&record);
                    continue;
                }
                Outcome::Failed(message) if self.policy == ErrorPolicy::None => {
                    error!(connector = %self.name, "{message}");
                    if self.fatal.is_none() {
                        self.fatal = Some(message);
                    }
                    self.remaining.remove(&record);
                    continue;
                }
                Outcome::Failed(message) => {
                    warn!(connector = %self.name, "{message} (skipped: ignoreErrors={:?})", self.policy);
                }
            }
            match self.remaining.get_mut(&record) {
                Some(n) if *n > 1 => *n -= 1,
                Some(_) => {
                    self.remaining.remove(&record);
                    self.tracker.complete(&record.tp, record.offset);
                }
                // Failed or abandoned earlier, or its partition was revoked.
                None => {}
            }
        }
    }

    fn on_assignment(&mut self, event: AssignmentEvent) {
        match event {
            AssignmentEvent::Assigned(tps) => info!(connector = %self.name, partitions = ?tps, "partitions assigned"),
            AssignmentEvent::Revoked(tps) => {
                info!(connector = %self.name, partitions = ?tps, "partitions revoked");
                for tp in &tps {
                    self.tracker.forget(tp);
                }
                self.remaining.retain(|r, _| !tps.contains(&r.tp));
            }
        }
    }

    fn commit(&mut self, consumer: &SinkConsumer, mode: CommitMode) {
        let commits = self.tracker.take_commits();
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
            Ok(()) => debug!(connector = %self.name, ?commits, "offsets committed"),
            Err(e) => warn!(connector = %self.name, error = %e, "offset commit failed; will retry with later offsets"),
        }
    }
}

struct RecordContext<'a> {
    tp: &'a TopicPartition,
    offset: i64,
}

/// Writes one request: a single row, or an UNLOGGED batch of rows of one Cassandra partition.
/// A batch that fails for good is retried row by row, so only the rows that really fail are
/// reported (the reference connector fails every record of the batch).
async fn write_unit(
    session: &Session,
    unit: Vec<PendingRow>,
    abandon: &CancellationToken,
    connector: &str,
) -> Vec<(RecordId, Outcome)> {
    let failed = |r: &PendingRow, e: &str| {
        format!(
            "Error inserting/updating row for Kafka record (topic={}, partition={}, offset={}, table={}): {e}",
            r.record.tp.topic, r.record.tp.partition, r.record.offset, r.plan.table
        )
    };
    if unit.len() > 1 {
        let batch = sink::batch_of(unit.iter().map(|r| &r.row), unit[0].plan.config.consistency);
        let values: Vec<&Vec<BindValue>> = unit.iter().map(|r| &r.row.values).collect();
        let table = unit[0].plan.table.to_string();
        match with_retry(|| session.batch(&batch, &values), abandon, connector, &table).await {
            Ok(()) => return unit.into_iter().map(|r| (r.record, Outcome::Written)).collect(),
            Err(WriteFailure::Abandoned(e)) => {
                warn!(connector, table = %table, "write abandoned at shutdown, left uncommitted: {e}");
                return unit.into_iter().map(|r| (r.record, Outcome::Abandoned)).collect();
            }
            Err(WriteFailure::Permanent(e)) => {
                debug!(connector, table = %table, "batch failed ({e}); writing its rows one by one");
            }
        }
    }
    let mut out = Vec::with_capacity(unit.len());
    for r in unit {
        let table = r.plan.table.to_string();
        let result = with_retry(|| sink::write(session, &r.row), abandon, connector, &table).await;
        let outcome = match result {
            Ok(()) => Outcome::Written,
            Err(WriteFailure::Permanent(e)) => Outcome::Failed(failed(&r, &e)),
            Err(WriteFailure::Abandoned(e)) => {
                warn!(connector, table = %table, "write abandoned at shutdown, left uncommitted: {}", failed(&r, &e));
                Outcome::Abandoned
            }
        };
        out.push((r.record, outcome));
    }
    out
}

enum WriteFailure {
    /// Retrying cannot help.
    Permanent(String),
    /// Transient, but the drain timeout gave up on it.
    Abandoned(String),
}

/// Transient failures are retried with backoff until they succeed or the drain timeout abandons
/// them; permanent failures return at once.
async fn with_retry<T, F, Fut>(
    mut attempt_write: F,
    abandon: &CancellationToken,
    connector: &str,
    table: &str,
) -> Result<(), WriteFailure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, scylla::errors::ExecutionError>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match attempt_write().await {
            Ok(_) => return Ok(()),
            Err(e) if sink::classify(&e) == Retry::Transient => {
                if abandon.is_cancelled() {
                    return Err(WriteFailure::Abandoned(format!("{e} (abandoned at shutdown)")));
                }
                let delay = backoff.next_delay();
                if attempt == 1 || attempt.is_multiple_of(10) {
                    warn!(connector, table, attempt, "write failed, retrying in {delay:?}: {e}");
                }
                tokio::select! {
                    _ = abandon.cancelled() => return Err(WriteFailure::Abandoned(format!("{e} (abandoned at shutdown)"))),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
            Err(e) => return Err(WriteFailure::Permanent(e.to_string())),
        }
    }
}
