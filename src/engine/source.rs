//! The Kafka side: one group consumer per connector in Kafka Connect's group `connect-<name>`,
//! offsets stored and committed only by the pipeline (never automatically).

use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance, StreamConsumer};
use tokio::sync::mpsc::UnboundedSender;

use super::metrics::ConnectorMetrics;
use super::offsets::{SharedProgress, TopicPartition};
use crate::config::connector::Subscription;
use crate::config::{ConnectorConfig, WorkerConfig};

/// Assignment changes, handed from librdkafka's callback to the pipeline loop.
#[derive(Debug)]
pub enum AssignmentEvent {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

/// Forwards rebalances to the pipeline, and on a revoke lets the writes of the revoked partitions
/// finish and commits them before the partitions move. The callback is synchronous and runs
/// inside `recv()`; it never panics.
pub struct SinkContext {
    events: UnboundedSender<AssignmentEvent>,
    metrics: ConnectorMetrics,
    /// Kept current by the pipeline and its write tasks.
    progress: SharedProgress,
    /// How long a revoke waits for in-flight writes: below the session timeout, so the group
    /// never drops this member for it.
    revoke_wait: Duration,
}

impl SinkContext {
    /// Waits (bounded) until no row or dead letter of these partitions is being written.
    fn wait_for_writes(&self, revoked: &[TopicPartition]) {
        let deadline = Instant::now() + self.revoke_wait;
        let busy = || -> usize {
            let progress = self.progress.lock();
            revoked.iter().map(|tp| progress.writing(tp)).sum()
        };
        let wait = || {
            let mut left = busy();
            if left == 0 {
                return;
            }
            tracing::info!(rows = left, "waiting for in-flight writes of revoked partitions");
            while left > 0 {
                if Instant::now() >= deadline {
                    tracing::warn!(
                        rows = left,
                        "in-flight writes of revoked partitions did not finish within {:?}; the next owner writes them again",
                        self.revoke_wait
                    );
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
                left = busy();
            }
        };
        // The write tasks run on the runtime's other workers; this one steps aside meanwhile.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        }
    }
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
    /// Before partitions are released, let their in-flight writes finish (bounded by
    /// `revoke_wait`) and commit what is finished for them, synchronously: the next owner starts
    /// right after it. Writes still running past the bound are written again by the next owner
    /// (at-least-once; harmless with write timestamps).
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(revoked) = rebalance else { return };
        let tps: Vec<TopicPartition> =
            revoked.elements().iter().map(|e| TopicPartition::new(e.topic(), e.partition())).collect();
        self.wait_for_writes(&tps);
        let mut tpl = rdkafka::TopicPartitionList::new();
        {
            let progress = self.progress.lock();
            for tp in &tps {
                if let Some(pos) = progress.tracker().position(tp) {
                    let _ = tpl.add_partition_offset(&tp.topic, tp.partition, rdkafka::Offset::Offset(pos));
                }
            }
        }
        if tpl.count() > 0 {
            use rdkafka::consumer::{CommitMode, Consumer};
            match consumer.commit(&tpl, CommitMode::Sync) {
                Ok(()) => tracing::info!(partitions = tpl.count(), "committed finished offsets of revoked partitions"),
                Err(e) => tracing::warn!(error = %e, "cannot commit offsets of revoked partitions"),
            }
        }
        // Here, not when the pipeline hears of it: records fetched after a new assignment of the
        // same partitions may reach the pipeline first, and must start a new epoch.
        self.progress.lock().forget(&tps);
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let list = |tpl: &rdkafka::TopicPartitionList| {
            tpl.elements().iter().map(|e| TopicPartition::new(e.topic(), e.partition())).collect::<Vec<_>>()
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
        .set("partition.assignment.strategy", "cooperative-sticky")
        // Prefetch at most 16 MiB (librdkafka's default is 64 MiB): with a round of up to
        // 16 MiB being written, memory stays bounded by the in-flight limits, not the backlog.
        .set("queued.max.messages.kbytes", "16384")
        // When the prefetch is full librdkafka waits this long before fetching again (1 s by
        // default): with records of 1 KB and more the sink then drained its 16 MiB and sat idle
        // for the rest of the second (3.6 k rows/s instead of 14 k with 10 KB records).
        .set("fetch.queue.backoff.ms", "10");
    for (k, v) in worker.consumer.iter().chain(cfg.consumer_overrides.iter()) {
        c.set(k, v);
    }
    c.set("group.id", cfg.group_id()).set("enable.auto.commit", "false").set("enable.auto.offset.store", "false");
    c
}

/// Settings for the admin client and producer (dead-letter topic): the bootstrap servers, the
/// consumer's `client.rack` and the security settings of `producer.*` over the consumer's, so
/// they reach the same cluster the same way.
pub fn client_config(worker: &WorkerConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &worker.bootstrap_servers);
    if let Some(rack) = worker.consumer.get("client.rack") {
        c.set("client.rack", rack);
    }
    for (k, v) in &worker.producer {
        c.set(k, v);
    }
    c
}

pub fn create(
    cfg: &ConnectorConfig,
    worker: &WorkerConfig,
    events: UnboundedSender<AssignmentEvent>,
    metrics: ConnectorMetrics,
    progress: SharedProgress,
) -> Result<SinkConsumer, String> {
    use rdkafka::consumer::Consumer;
    let mut config = consumer_config(cfg, worker);
    if config.get("statistics.interval.ms").is_none() {
        config.set("statistics.interval.ms", "5000");
    }
    let revoke_wait = revoke_wait(config.get("session.timeout.ms"));
    let consumer: SinkConsumer = config
        .create_with_context(SinkContext { events, metrics, progress, revoke_wait })
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

/// Half the session timeout (librdkafka's default 45 s), at most 30 s.
fn revoke_wait(session_timeout_ms: Option<&str>) -> Duration {
    let session = session_timeout_ms.and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(45_000);
    Duration::from_millis(session / 2).min(Duration::from_secs(30))
}

/// Records the first login or TLS failure a probe client meets.
#[derive(Default)]
struct ProbeContext {
    refused: std::sync::Mutex<Option<String>>,
}

impl ClientContext for ProbeContext {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        use rdkafka::types::RDKafkaErrorCode;
        if matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL | RDKafkaErrorCode::SaslAuthenticationFailed)
        ) {
            let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
            refused.get_or_insert_with(|| reason.to_string());
        }
    }
}

impl ConsumerContext for ProbeContext {}

/// Start-up check, with a probe client of the consumer's settings (it joins no group): asks the
/// cluster for its metadata. A login or TLS handshake the brokers refuse is a start-up error
/// (retrying cannot fix a configuration); brokers that do not answer yet are not: the consumer
/// keeps trying.
pub fn check_access(cfg: &ConnectorConfig, worker: &WorkerConfig) -> Result<(), String> {
    use rdkafka::consumer::Consumer;
    let mut config = consumer_config(cfg, worker);
    check_kerberos_login(&config).map_err(|e| format!("Kafka at {}: {e}", worker.bootstrap_servers))?;
    config.set("client.id", format!("connector-probe-{}", cfg.name));
    let probe: BaseConsumer<ProbeContext> = config
        .create_with_context(ProbeContext::default())
        .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answered = probe.fetch_metadata(None, Duration::from_secs(1));
        if answered.is_ok() {
            return Ok(());
        }
        // Errors reach the context when the client is polled.
        let _ = probe.poll(Duration::from_millis(100));
        let refused = probe.context().refused.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(reason) = refused {
            return Err(format!(
                "Kafka at {} refused the connection: {reason}. Check security.protocol, sasl.mechanism, \
                 sasl.jaas.config and ssl.truststore.* / ssl.keystore.* (and their consumer.* overrides) in the \
                 worker file",
                worker.bootstrap_servers
            ));
        }
        if Instant::now() >= deadline {
            if let Err(e) = answered {
                tracing::warn!(error = %e, "Kafka at {} does not answer yet; the consumer keeps trying", worker.bootstrap_servers);
            }
            return Ok(());
        }
    }
}

/// Kerberos from a keytab: librdkafka runs `kinit` for its tickets but only logs a failure and
/// goes on with whatever the default credential cache holds. The same login, first, into a
/// credential cache of its own that nothing else sees: a keytab or principal the KDC refuses is a
/// start-up error.
fn check_kerberos_login(config: &ClientConfig) -> Result<(), String> {
    if config.get("sasl.mechanisms") != Some("GSSAPI")
        || config.get("sasl.kerberos.min.time.before.relogin") == Some("0")
    {
        return Ok(());
    }
    let (Some(keytab), Some(principal)) = (config.get("sasl.kerberos.keytab"), config.get("sasl.kerberos.principal"))
    else {
        return Ok(());
    };
    let out = std::process::Command::new("kinit")
        .args(["-k", "-t", keytab, principal])
        .env("KRB5CCNAME", "MEMORY:cassandra-sink-login-check")
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("Kerberos (GSSAPI) with a keytab needs MIT Kerberos' kinit on the PATH (Debian: krb5-user)".to_string())
        }
        Err(e) => Err(format!("cannot run kinit for the Kerberos login: {e}")),
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "the Kerberos login of {principal} with the keytab {keytab} failed: {}. Check the principal and \
             keyTab of sasl.jaas.config (and its consumer.* override) in the worker file, and the Kerberos \
             configuration (KRB5_CONFIG, default /etc/krb5.conf)",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_wait_stays_below_the_session_timeout() {
        assert_eq!(revoke_wait(None), Duration::from_millis(22_500));
        assert_eq!(revoke_wait(Some("10000")), Duration::from_secs(5));
        assert_eq!(revoke_wait(Some("300000")), Duration::from_secs(30));
        assert_eq!(revoke_wait(Some("junk")), Duration::from_millis(22_500));
    }
}
