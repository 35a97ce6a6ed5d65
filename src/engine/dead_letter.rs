//! The dead-letter topic: a tolerated record is produced there with its original key, value and
//! headers, plus headers saying why (Kafka Connect's `__connect.errors.*` names). The record's
//! offset is committed only once the dead-letter write is acknowledged.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;

use crate::config::errors::{DeadLetterQueue, Stage};

/// A copy of a consumed record, kept only while a dead-letter topic is configured.
#[derive(Debug, Clone)]
pub struct OwnedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub timestamp_ms: Option<i64>,
}

impl OwnedRecord {
    pub fn from_message(m: &BorrowedMessage<'_>) -> OwnedRecord {
        OwnedRecord {
            topic: m.topic().to_string(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            headers: m
                .headers()
                .map(|h| h.iter().map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))).collect())
                .unwrap_or_default(),
            timestamp_ms: m.timestamp().to_millis(),
        }
    }
}

pub struct DeadLetters {
    producer: FutureProducer,
    config: DeadLetterQueue,
    connector: String,
}

impl DeadLetters {
    /// Creates the topic when missing (as Kafka Connect does) and the producer.
    pub async fn open(client: &ClientConfig, config: DeadLetterQueue, connector: &str) -> Result<DeadLetters, String> {
        let admin: AdminClient<DefaultClientContext> =
            client.create().map_err(|e| format!("cannot create a Kafka admin client: {e}"))?;
        let created = admin
            .create_topics(
                &[NewTopic::new(&config.topic, 1, TopicReplication::Fixed(config.replication_factor))],
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
            )
            .await
            .map_err(|e| format!("cannot create dead-letter topic {}: {e}", config.topic))?;
        for r in created {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((t, e)) => return Err(format!("cannot create dead-letter topic {t}: {e}")),
            }
        }
        let mut producer_config = client.clone();
        producer_config.set("acks", "all").set("enable.idempotence", "true").set("linger.ms", "5");
        let producer = producer_config.create().map_err(|e| format!("cannot create the dead-letter producer: {e}"))?;
        Ok(DeadLetters { producer, config, connector: connector.to_string() })
    }

    pub fn topic(&self) -> &str {
        &self.config.topic
    }

    /// Produces the record and waits for the broker's acknowledgement.
    pub async fn send(&self, rec: &OwnedRecord, stage: Stage, class: &str, message: &str) -> Result<(), String> {
        let mut headers = OwnedHeaders::new_with_capacity(rec.headers.len() + 8);
        for (k, v) in &rec.headers {
            headers = headers.insert(Header { key: k, value: v.as_deref() });
        }
        if self.config.context_headers {
            let partition = rec.partition.to_string();
            let offset = rec.offset.to_string();
            for (k, v) in [
                ("__connect.errors.topic", rec.topic.as_str()),
                ("__connect.errors.partition", &partition),
                ("__connect.errors.offset", &offset),
                ("__connect.errors.connector.name", &self.connector),
                ("__connect.errors.task.id", "0"),
                ("__connect.errors.stage", stage.as_str()),
                ("__connect.errors.class.name", class),
                ("__connect.errors.exception.message", message),
            ] {
                headers = headers.insert(Header { key: k, value: Some(v.as_bytes()) });
            }
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.config.topic).headers(headers);
        if let Some(k) = &rec.key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &rec.value {
            record = record.payload(v.as_slice());
        }
        if let Some(ts) = rec.timestamp_ms {
            record = record.timestamp(ts);
        }
        self.producer
            .send(record, Duration::from_secs(60))
            .await
            .map(|_| ())
            .map_err(|(e, _)| format!("cannot write to dead-letter topic {}: {e}", self.config.topic))
    }
}
