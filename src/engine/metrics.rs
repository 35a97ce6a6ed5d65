//! Prometheus metrics with the reference connector's meanings (spec §5.1), plus what an operator
//! needs to see: write latency, in-flight requests, retries, dead letters, committed offsets,
//! consumer lag and rebalances. Handles are created once per table or partition, never per record.
//!
//! | JMX name (reference)           | Prometheus name here                                   |
//! |--------------------------------|--------------------------------------------------------|
//! | `recordCount`                  | `cassandra_sink_records_total`                         |
//! | `failedRecordCount`            | `cassandra_sink_failed_records_total`                  |
//! | `batchSize`                    | `cassandra_sink_batch_size` (histogram)                |
//! | `batchSizeInBytes`             | `cassandra_sink_batch_size_bytes` (histogram)          |
//! | `failedRecordsWithUnknownTopic`| `cassandra_sink_failed_records_with_unknown_topic_total` |
//! | driver `cql-requests`          | `cassandra_sink_write_latency_seconds` (histogram)     |

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub connector: String,
    pub topic: String,
    pub keyspace: String,
    pub table: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectorLabels {
    pub connector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    pub connector: String,
    pub topic: String,
    pub partition: i32,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn batch_size_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 10))
}

fn bytes_histogram() -> Histogram {
    Histogram::new(exponential_buckets(64.0, 4.0, 10))
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every metric of the process; one per process, shared by its connectors.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    records: Family<TableLabels, Counter>,
    failed: Family<TableLabels, Counter>,
    batch_size: HistogramFamily<TableLabels>,
    batch_bytes: HistogramFamily<TableLabels>,
    write_latency: HistogramFamily<TableLabels>,
    retries: Family<TableLabels, Counter>,
    unknown_topic: Family<ConnectorLabels, Counter>,
    dead_lettered: Family<ConnectorLabels, Counter>,
    in_flight: Family<ConnectorLabels, Gauge>,
    rebalances: Family<ConnectorLabels, Counter>,
    held_partitions: Family<ConnectorLabels, Gauge>,
    committed_offset: Family<PartitionLabels, Gauge>,
    lag: Family<PartitionLabels, Gauge>,
}

/// The handles of one connector × topic × keyspace × table.
#[derive(Clone, Debug)]
pub struct TableMetrics {
    pub records: Counter,
    pub failed: Counter,
    pub batch_size: Histogram,
    pub batch_bytes: Histogram,
    pub write_latency: Histogram,
    pub retries: Counter,
}

/// The handles of one connector.
#[derive(Clone, Debug)]
pub struct ConnectorMetrics {
    pub connector: String,
    pub unknown_topic: Counter,
    pub dead_lettered: Counter,
    pub in_flight: Gauge,
    pub rebalances: Counter,
    /// Partitions held at a record that failed without tolerance.
    pub held_partitions: Gauge,
    root: Arc<Metrics>,
}

impl Default for Metrics {
    fn default() -> Self {
        let records = Family::default();
        let failed = Family::default();
        let batch_size = HistogramFamily::new_with_constructor(batch_size_histogram as fn() -> Histogram);
        let batch_bytes = HistogramFamily::new_with_constructor(bytes_histogram as fn() -> Histogram);
        let write_latency = HistogramFamily::new_with_constructor(latency_histogram as fn() -> Histogram);
        let retries = Family::default();
        let unknown_topic = Family::default();
        let dead_lettered = Family::default();
        let in_flight = Family::default();
        let rebalances = Family::default();
        let held_partitions = Family::default();
        let committed_offset = Family::default();
        let lag = Family::default();
        let mut r = Registry::with_prefix("cassandra_sink");
        r.register("records", "Rows written (recordCount): statements executed, in batches or alone", records.clone());
        r.register(
            "failed_records",
            "Failed (record, table) pairs, skipped or not (failedRecordCount)",
            failed.clone(),
        );
        r.register("batch_size", "Statements per request (batchSize)", batch_size.clone());
        r.register("batch_size_bytes", "Serialized size of each statement (batchSizeInBytes)", batch_bytes.clone());
        r.register("write_latency_seconds", "Latency of each write request to Cassandra", write_latency.clone());
        r.register("write_retries", "Write attempts retried after a transient failure", retries.clone());
        r.register(
            "failed_records_with_unknown_topic",
            "Records of a topic without configuration (failedRecordsWithUnknownTopic)",
            unknown_topic.clone(),
        );
        r.register("dead_lettered_records", "Records written to the dead-letter topic", dead_lettered.clone());
        r.register("in_flight_requests", "Write requests in flight", in_flight.clone());
        r.register("rebalances", "Partition assignment changes", rebalances.clone());
        r.register(
            "held_partitions",
            "Partitions held at a record that failed without tolerance (nothing after it is committed)",
            held_partitions.clone(),
        );
        r.register("committed_offset", "Last committed offset (next offset to consume)", committed_offset.clone());
        r.register("consumer_lag", "Records between the committed position and the partition's end", lag.clone());
        Metrics {
            registry: Mutex::new(r),
            records,
            failed,
            batch_size,
            batch_bytes,
            write_latency,
            retries,
            unknown_topic,
            dead_lettered,
            in_flight,
            rebalances,
            held_partitions,
            committed_offset,
            lag,
        }
    }
}

impl Metrics {
    pub fn connector(self: &Arc<Self>, name: &str) -> ConnectorMetrics {
        let l = ConnectorLabels { connector: name.to_string() };
        ConnectorMetrics {
            connector: name.to_string(),
            unknown_topic: self.unknown_topic.get_or_create_owned(&l),
            dead_lettered: self.dead_lettered.get_or_create_owned(&l),
            in_flight: self.in_flight.get_or_create_owned(&l),
            rebalances: self.rebalances.get_or_create_owned(&l),
            held_partitions: self.held_partitions.get_or_create_owned(&l),
            root: self.clone(),
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}

impl ConnectorMetrics {
    pub fn table(&self, topic: &str, keyspace: &str, table: &str) -> TableMetrics {
        let l = TableLabels {
            connector: self.connector.clone(),
            topic: topic.to_string(),
            keyspace: keyspace.to_string(),
            table: table.to_string(),
        };
        let m = &self.root;
        TableMetrics {
            records: m.records.get_or_create_owned(&l),
            failed: m.failed.get_or_create_owned(&l),
            batch_size: m.batch_size.get_or_create_owned(&l),
            batch_bytes: m.batch_bytes.get_or_create_owned(&l),
            write_latency: m.write_latency.get_or_create_owned(&l),
            retries: m.retries.get_or_create_owned(&l),
        }
    }

    pub fn committed(&self, topic: &str, partition: i32, offset: i64) {
        let l = PartitionLabels { connector: self.connector.clone(), topic: topic.to_string(), partition };
        self.root.committed_offset.get_or_create(&l).set(offset);
    }

    pub fn lag(&self, topic: &str, partition: i32, lag: i64) {
        let l = PartitionLabels { connector: self.connector.clone(), topic: topic.to_string(), partition };
        self.root.lag.get_or_create(&l).set(lag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_feed_the_exposition() {
        let m = Arc::new(Metrics::default());
        let c = m.connector("sink");
        let t = c.table("orders", "shop", "orders_by_id");
        t.records.inc_by(3);
        t.batch_size.observe(3.0);
        t.failed.inc();
        c.unknown_topic.inc();
        c.committed("orders", 0, 42);
        let text = m.encode();
        assert!(
            text.contains(
                r#"cassandra_sink_records_total{connector="sink",topic="orders",keyspace="shop",table="orders_by_id"} 3"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"cassandra_sink_failed_records_total{connector="sink",topic="orders",keyspace="shop",table="orders_by_id"} 1"#), "{text}");
        assert!(
            text.contains(r#"cassandra_sink_failed_records_with_unknown_topic_total{connector="sink"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"cassandra_sink_committed_offset{connector="sink",topic="orders",partition="0"} 42"#),
            "{text}"
        );
        assert!(text.contains("cassandra_sink_batch_size_count{"), "{text}");
    }
}
