//! `dry-run`: read records the connector would process next, map them, and print per record and
//! table the CQL and bound values (or the error it would raise), without writing or committing.
//!
//! The partitions are assigned by hand from the group's committed offsets, so the dry run never
//! joins the consumer group and never moves a running connector's partitions.

use std::fmt::Write as _;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};
use scylla::value::{CqlValue, MaybeUnset};
use tokio_util::sync::CancellationToken;

use super::pipeline::build_plans;
use super::plan::{BindValue, RecordView};
use super::sink;
use super::source;
use crate::codec::record::{Converter, DecodeFailure, decode_record};
use crate::config::{ConnectorConfig, WorkerConfig};

/// Reads up to `records` records (waiting at most `idle` for each) and returns the report.
pub async fn dry_run(
    cfg: &ConnectorConfig,
    worker: &WorkerConfig,
    records: usize,
    idle: Duration,
) -> Result<String, String> {
    let keyspaces: Vec<String> = cfg.tables.iter().map(|t| t.table.keyspace.clone()).collect();
    let session = sink::connect(cfg, keyspaces).await?;
    let (plans, problems) = build_plans(&session, cfg).await;
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let shutdown = CancellationToken::new();
    let key = Converter::new(cfg.key_converter.clone().unwrap_or(worker.key_converter.clone()), shutdown.clone())?;
    let value =
        Converter::new(cfg.value_converter.clone().unwrap_or(worker.value_converter.clone()), shutdown.clone())?;
    let header_converter = cfg.header_converter.clone().unwrap_or_else(|| worker.header_converter.clone());

    let mut config = source::consumer_config(cfg, worker);
    config.set("enable.auto.commit", "false");
    let consumer: StreamConsumer = config.create().map_err(|e| format!("cannot create a Kafka consumer: {e}"))?;
    let timeout = Duration::from_secs(10);
    let mut wanted = TopicPartitionList::new();
    let mut topics: Vec<&String> = plans.keys().collect();
    topics.sort();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), timeout).map_err(|e| format!("topic {topic}: {e}"))?;
        for t in metadata.topics() {
            for p in t.partitions() {
                wanted.add_partition(topic, p.id());
            }
        }
    }
    // Where the group would resume; partitions it never committed start at the beginning.
    // A broker that just started may not have its group coordinator yet: retry for a while.
    let mut attempts = 0;
    let committed = loop {
        match consumer.committed_offsets(wanted.clone(), timeout) {
            Ok(c) => break c,
            Err(e) if attempts < 10 => {
                attempts += 1;
                tracing::debug!(error = %e, "committed offsets not available yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(format!("committed offsets: {e}")),
        }
    };
    let mut start = TopicPartitionList::new();
    for e in committed.elements() {
        let offset = match e.offset() {
            Offset::Offset(o) => Offset::Offset(o),
            _ => Offset::Beginning,
        };
        start.add_partition_offset(e.topic(), e.partition(), offset).map_err(|e| e.to_string())?;
    }
    consumer.assign(&start).map_err(|e| format!("cannot assign partitions: {e}"))?;

    let mut out = String::new();
    let mut seen = 0;
    while seen < records {
        let m = match tokio::time::timeout(idle, consumer.recv()).await {
            Err(_) => break,
            Ok(Err(e)) => return Err(format!("Kafka: {e}")),
            Ok(Ok(m)) => m,
        };
        seen += 1;
        let _ = writeln!(out, "{}/{}@{}", m.topic(), m.partition(), m.offset());
        let Some(tables) = plans.get(m.topic()) else { continue };
        let (k, v) = match decode_record(&key, &value, m.key(), m.payload()).await {
            Ok(kv) => kv,
            Err((part, DecodeFailure::Bad(e))) => {
                let _ = writeln!(out, "  error ({part}): {}", e.0);
                continue;
            }
            Err((_, DecodeFailure::Interrupted)) => break,
        };
        let raw: Vec<(&str, Option<&[u8]>)> = match m.headers() {
            Some(h) => h.iter().map(|h| (h.key, h.value)).collect(),
            None => Vec::new(),
        };
        let headers = match crate::codec::header::decode_headers(&header_converter, raw) {
            Ok(h) => h,
            Err((name, e)) => {
                let _ = writeln!(out, "  error (header.{name}): {}", e.0);
                continue;
            }
        };
        let view = RecordView { key: &k, value: &v, headers: &headers, timestamp_ms: m.timestamp().to_millis() };
        for plan in tables {
            match plan.bind_values(&view) {
                Ok((statement, values, _)) => {
                    let _ = writeln!(out, "  {}: {}", plan.table, statement.get_statement());
                    let specs = statement.get_variable_col_specs();
                    let values: Vec<String> = specs
                        .iter()
                        .zip(&values)
                        .map(|(spec, value)| format!("{}={}", spec.name(), shown(value)))
                        .collect();
                    let _ = writeln!(out, "    {}", values.join(", "));
                }
                Err(e) => {
                    let column = e.column.map(|c| format!(" column={c}")).unwrap_or_default();
                    let _ = writeln!(out, "  {}:{column} error: {}", plan.table, e.reason);
                }
            }
        }
    }
    let _ = writeln!(out, "{seen} record(s) read; nothing written, no offsets committed");
    Ok(out)
}

fn shown(v: &BindValue) -> String {
    match v {
        MaybeUnset::Unset => "unset".into(),
        MaybeUnset::Set(None) => "null".into(),
        MaybeUnset::Set(Some(v)) => cql_literal(&v.to_cql()),
    }
}

fn cql_literal(v: &CqlValue) -> String {
    match v {
        CqlValue::Text(s) | CqlValue::Ascii(s) => format!("'{}'", s.replace('\'', "''")),
        CqlValue::Int(i) => i.to_string(),
        CqlValue::BigInt(i) => i.to_string(),
        CqlValue::SmallInt(i) => i.to_string(),
        CqlValue::TinyInt(i) => i.to_string(),
        CqlValue::Boolean(b) => b.to_string(),
        CqlValue::Double(d) => d.to_string(),
        CqlValue::Float(f) => f.to_string(),
        CqlValue::Uuid(u) => u.to_string(),
        CqlValue::Timeuuid(u) => uuid::Uuid::from(*u).to_string(),
        CqlValue::Blob(b) => format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        CqlValue::Timestamp(t) => chrono::DateTime::from_timestamp_millis(t.0)
            .map(|d| format!("'{}'", d.format("%Y-%m-%dT%H:%M:%S%.3fZ")))
            .unwrap_or_else(|| t.0.to_string()),
        other => format!("{other:?}"),
    }
}
