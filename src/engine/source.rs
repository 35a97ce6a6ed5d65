//! The Kafka side: one group consumer per connector in Kafka Connect's group `connect-<name>`,
//! offsets stored and committed only by the pipeline (never automatically).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance, StreamConsumer};
use tokio::sync::mpsc::UnboundedSender;

use super::metrics::ConnectorMetrics;
use super::offsets::TopicPartition;
use crate::config::connector::Subscription;
use crate::config::{ConnectorConfig, WorkerConfig};

/// Assignment changes, handed from librdkafka's callback to the pipeline loop.
#[derive(Debug)]
pub enum AssignmentEvent {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

/// Forwards rebalances to the pipeline. The callback is synchronous and runs inside `recv()`,
/// so it only sends; it never blocks or panics.
/// The committable position of each partition, kept current by the pipeline, so a revoke can
/// commit finished work before the partition moves to another instance.
pub type Positions = Arc<Mutex<HashMap<TopicPartition, i64>>>;

pub struct SinkContext {
    events: UnboundedSender<AssignmentEvent>,
    metrics: ConnectorMetrics,
    positions: Positions,
}

impl ClientContext for SinkContext {
    /// librdkafka's statistics carry each partition's consumer lag.
    fn stats(&self, statistics: rdkafka::Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    self.metrics.lag(topic, *partition, p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for SinkContext {
    /// Before partitions are released, commit what is finished for them, synchronously: the next
    /// owner starts right after it. In-flight records of those partitions are written again by
    /// the next owner (at-least-once; harmless with write timestamps).
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(revoked) = rebalance else { return };
        let positions = self.positions.lock().unwrap_or_else(|e| e.into_inner());
        let mut tpl = rdkafka::TopicPartitionList::new();
        for e in revoked.elements() {
            let tp = TopicPartition { topic: e.topic().to_string(), partition: e.partition() };
            if let Some(pos) = positions.get(&tp) {
                let _ = tpl.add_partition_offset(&tp.topic, tp.partition, rdkafka::Offset::Offset(*pos));
            }
        }
        drop(positions);
        if tpl.count() == 0 {
            return;
        }
        use rdkafka::consumer::{CommitMode, Consumer};
        match consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => tracing::info!(partitions = tpl.count(), "committed finished offsets of revoked partitions"),
            Err(e) => tracing::warn!(error = %e, "cannot commit offsets of revoked partitions"),
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let list = |tpl: &rdkafka::TopicPartitionList| {
            tpl.elements()
                .iter()
                .map(|e| TopicPartition { topic: e.topic().to_string(), partition: e.partition() })
                .collect::<Vec<_>>()
        };
        let event = match rebalance {
            Rebalance::Assign(tpl) => AssignmentEvent::Assigned(list(tpl)),
            Rebalance::Revoke(tpl) => AssignmentEvent::Revoked(list(tpl)),
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "rebalance error");
                return;
            }
        };
        let _ = self.events.send(event);
    }
}

pub type SinkConsumer = StreamConsumer<SinkContext>;

/// The librdkafka settings of a connector's consumer: worker `consumer.*`, then the connector's
/// `consumer.override.*`, then what the sink's delivery guarantee requires.
pub fn consumer_config(cfg: &ConnectorConfig, worker: &WorkerConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("client.id", format!("connector-consumer-{}-0", cfg.name))
        // Kafka Connect's defaults for sink consumers.
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky");
    for (k, v) in worker.consumer.iter().chain(cfg.consumer_overrides.iter()) {
        c.set(k, v);
    }
    c.set("group.id", cfg.group_id()).set("enable.auto.commit", "false").set("enable.auto.offset.store", "false");
    c
}

/// Settings for the admin client and producer (dead-letter topic): the bootstrap servers and the
/// consumer's security settings, so they reach the same cluster the same way.
pub fn client_config(worker: &WorkerConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &worker.bootstrap_servers);
    for (k, v) in &worker.consumer {
        if k.starts_with("security.") || k.starts_with("sasl.") || k.starts_with("ssl.") || k == "client.rack" {
            c.set(k, v);
        }
    }
    c
}

pub fn create(
    cfg: &ConnectorConfig,
    worker: &WorkerConfig,
    events: UnboundedSender<AssignmentEvent>,
    metrics: ConnectorMetrics,
    positions: Positions,
) -> Result<SinkConsumer, String> {
    use rdkafka::consumer::Consumer;
    let mut config = consumer_config(cfg, worker);
    if config.get("statistics.interval.ms").is_none() {
        config.set("statistics.interval.ms", "5000");
    }
    let consumer: SinkConsumer = config
        .create_with_context(SinkContext { events, metrics, positions })
        .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
    match &cfg.subscription {
        Subscription::Topics(topics) => {
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            consumer.subscribe(&names)
        }
        Subscription::Regex(re) => {
            let pattern = if re.starts_with('^') { re.clone() } else { format!("^{re}") };
            consumer.subscribe(&[pattern.as_str()])
        }
    }
    .map_err(|e| format!("cannot subscribe: {e}"))?;
    Ok(consumer)
}
