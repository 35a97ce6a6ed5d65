//! Error policies against the real servers: tolerated failures are dead-lettered (decode, map
//! and write stages) or skipped, and their offsets are committed; untolerated ones stop the
//! connector (see `a_bad_record_stops_the_connector_and_is_not_committed`).

use std::time::Duration;

use rdkafka::Message;

use crate::common::*;

const TS: i64 = 1_700_000_000_000;

async fn kv_table(ks: &str) -> scylla::client::session::Session {
    let s = cassandra().await;
    create_keyspace(&s, ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)")).await;
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn tolerated_mapping_failures_go_to_the_dead_letter_topic() {
    let id = unique("dlq_map");
    let (topic, ks, dlq) = (id.clone(), id.clone(), format!("{id}_dlq"));
    let s = kv_table(&ks).await;
    create_topic(&topic, 1).await;
    produce(
        &topic,
        &[
            Rec::kv("a", r#"{"n":1}"#).ts(TS),
            Rec::kv("bad", r#"{"n":"one"}"#).ts(TS + 1).header("trace", "t-1"),
            Rec::kv("b", r#"{"n":2}"#).ts(TS + 2),
        ],
    )
    .await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!(
            "name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n\
             errors.tolerance=all\nerrors.deadletterqueue.topic.name={dlq}\n\
             errors.deadletterqueue.topic.replication.factor=1\n"
        ),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let group = format!("connect-{id}");
    assert_eq!(wait_committed(&group, &topic, 1, 3, Duration::from_secs(60)).await, 3, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(count(&s, &format!("{ks}.t")).await, 2);

    let letters = consume(&dlq, 1, Duration::from_secs(30));
    assert_eq!(letters.len(), 1, "one dead letter");
    let m = &letters[0];
    assert_eq!(m.key(), Some(&b"bad"[..]), "original key kept");
    assert_eq!(m.payload(), Some(&br#"{"n":"one"}"#[..]), "original value kept");
    assert_eq!(header(m, "trace").as_deref(), Some("t-1"), "original headers kept");
    assert_eq!(header(m, "__connect.errors.topic"), Some(topic.clone()));
    assert_eq!(header(m, "__connect.errors.partition").as_deref(), Some("0"));
    assert_eq!(header(m, "__connect.errors.offset").as_deref(), Some("1"));
    assert_eq!(header(m, "__connect.errors.stage").as_deref(), Some("map"));
    assert_eq!(header(m, "__connect.errors.class.name").as_deref(), Some("cassandra_sink.MappingError"));
    let message = header(m, "__connect.errors.exception.message").unwrap_or_default();
    assert!(message.contains("column=n") && message.contains("Could not parse 'one'"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn write_failures_are_dead_lettered_under_ignore_errors_driver() {
    let id = unique("dlq_write");
    let (topic, ks, dlq) = (id.clone(), id.clone(), format!("{id}_dlq"));
    let s = kv_table(&ks).await;
    create_topic(&topic, 1).await;
    // Cassandra rejects an empty partition key: a write failure no retry can fix.
    produce(
        &topic,
        &[
            Rec::kv("a", r#"{"n":1}"#).ts(TS),
            Rec::kv("", r#"{"n":2}"#).ts(TS + 1),
            Rec::kv("c", r#"{"n":3}"#).ts(TS + 2),
        ],
    )
    .await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!(
            "name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n\
             ignoreErrors=Driver\nerrors.deadletterqueue.topic.name={dlq}\n\
             errors.deadletterqueue.topic.replication.factor=1\n"
        ),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let group = format!("connect-{id}");
    assert_eq!(wait_committed(&group, &topic, 1, 3, Duration::from_secs(60)).await, 3, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(count(&s, &format!("{ks}.t")).await, 2);
    let letters = consume(&dlq, 1, Duration::from_secs(30));
    assert_eq!(letters.len(), 1, "one dead letter");
    assert_eq!(header(&letters[0], "__connect.errors.stage").as_deref(), Some("write"));
    assert_eq!(header(&letters[0], "__connect.errors.offset").as_deref(), Some("1"));
    assert_eq!(letters[0].key(), Some(&b""[..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_dead_letter_topic_tolerated_failures_are_skipped_and_committed() {
    let id = unique("skip");
    let (topic, ks) = (id.clone(), id.clone());
    let s = kv_table(&ks).await;
    create_topic(&topic, 1).await;
    produce(
        &topic,
        &[
            Rec::kv("a", r#"{"n":1}"#).ts(TS),
            Rec::kv("bad", r#"{"n":"x"}"#).ts(TS),
            Rec::kv("", r#"{"n":3}"#).ts(TS),
            Rec::kv("d", r#"{"n":4}"#).ts(TS),
        ],
    )
    .await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!("name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\nignoreErrors=All\n"),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let group = format!("connect-{id}");
    assert_eq!(wait_committed(&group, &topic, 1, 4, Duration::from_secs(60)).await, 4, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(count(&s, &format!("{ks}.t")).await, 2);
    assert!(log.contains("offset=1") && log.contains("(skipped)"), "the skipped map failure is logged:\n{log}");
    assert!(
        log.contains(&format!("Error inserting/updating row for Kafka record (topic={topic}, partition=0, offset=2")),
        "the skipped write failure is logged:\n{log}"
    );
}
