//! Error policies against the real servers: tolerated failures are dead-lettered (decode, map
//! and write stages) or skipped, and their offsets are committed; untolerated ones hold their
//! partition (see `a_bad_record_holds_its_partition_while_the_others_go_on`); a corpus of hostile
//! records is each handled by policy, naming the record, without a crash.

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

/// The hostile-input corpus: each bad record is dead-lettered under `errors.tolerance=all` with a
/// message naming its topic, partition and offset; good and merely large records are written;
/// nothing panics and every offset is committed.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_records_are_each_handled_by_policy_without_a_crash() {
    let id = unique("hostile");
    let (main, other, ks, dlq) = (format!("{id}_main"), format!("{id}_other"), id.clone(), format!("{id}_dlq"));
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int, s text)")).await;
    create_topic(&main, 1).await;
    create_topic(&other, 1).await;
    let big = "x".repeat(512 * 1024);
    let mut invalid_utf8 = br#"{"n":6,"s":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#""}"#);
    let deeply_nested = format!(r#"{{"n":7,"s":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    // (record, what becomes of it: None = written, Some(stage) = dead-lettered at that stage)
    let corpus: Vec<(Rec, Option<&str>)> = vec![
        (Rec::kv("good0", r#"{"n":0,"s":"a"}"#), None),
        (Rec::kv("malformed", r#"{"n":1,"s":"#), Some("decode")),
        (Rec::kv("wrongtype", r#"{"n":"two"}"#), Some("map")),
        (Rec::kv("hugenumber", r#"{"n":99999999999999999999999999999}"#), Some("map")),
        (Rec::kv("bigvalue", format!(r#"{{"n":4,"s":"{big}"}}"#)), None),
        (Rec { key: None, value: Some(br#"{"n":5}"#.to_vec()), ..Rec::default() }, Some("map")),
        (Rec::kv("invalidutf8", invalid_utf8), Some("decode")),
        (Rec::kv("nested", deeply_nested), Some("decode")),
        (Rec::kv("notjson", vec![0u8, 159, 146, 150]), Some("decode")),
        (Rec::kv("good9", r#"{"n":9,"s":"b"}"#), None),
    ];
    let records: Vec<Rec> = corpus.iter().map(|(r, _)| r.clone().ts(TS)).collect();
    produce(&main, &records).await;
    // A topic the subscription matches but no setting maps.
    produce(&other, &[Rec::kv("k", r#"{"n":1}"#).ts(TS)]).await;

    let dir = temp_dir(&id);
    // Schemaless JSON values: bytes that are not JSON fail to decode (a StringConverter would
    // pass them on as text).
    let worker = worker_file(
        &dir,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n",
    );
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!(
            "name={id}\ntopics.regex={id}_(main|other)\ntopic.{main}.{ks}.t.mapping=k=key, n=value.n, s=value.s\n\
             errors.tolerance=all\nerrors.deadletterqueue.topic.name={dlq}\n\
             errors.deadletterqueue.topic.replication.factor=1\n"
        ),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let group = format!("connect-{id}");
    let n = corpus.len() as i64;
    assert_eq!(wait_committed(&group, &main, 1, n, Duration::from_secs(90)).await, n, "{}", sink.log());
    assert_eq!(wait_committed(&group, &other, 1, 1, Duration::from_secs(60)).await, 1, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert!(!log.contains("panicked"), "{log}");

    let rows: Vec<(String, i32, usize)> = s
        .query_unpaged(format!("SELECT k, n, s FROM {ks}.t"), ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows::<(String, i32, String)>()
        .unwrap()
        .map(|r| r.map(|(k, n, s)| (k, n, s.len())).unwrap())
        .collect();
    let mut rows = rows;
    rows.sort();
    assert_eq!(rows, vec![("bigvalue".into(), 4, big.len()), ("good0".into(), 0, 1), ("good9".into(), 9, 1)]);

    let expected_letters = corpus.iter().filter(|(_, stage)| stage.is_some()).count() + 1;
    let letters = consume(&dlq, expected_letters, Duration::from_secs(30));
    let seen: Vec<(Option<String>, Option<String>)> =
        letters.iter().map(|m| (header(m, "__connect.errors.topic"), header(m, "__connect.errors.offset"))).collect();
    assert_eq!(letters.len(), expected_letters, "one dead letter per bad record: {seen:?}\n{log}");
    for (offset, (_, stage)) in corpus.iter().enumerate() {
        let Some(stage) = stage else { continue };
        let letter = letters
            .iter()
            .find(|m| {
                header(m, "__connect.errors.topic").as_deref() == Some(main.as_str())
                    && header(m, "__connect.errors.offset") == Some(offset.to_string())
            })
            .unwrap_or_else(|| panic!("no dead letter for offset {offset}"));
        assert_eq!(header(letter, "__connect.errors.stage").as_deref(), Some(*stage), "offset {offset}");
        let message = header(letter, "__connect.errors.exception.message").unwrap_or_default();
        assert!(message.contains(&format!("topic={main}, partition=0, offset={offset}")), "offset {offset}: {message}");
        assert!(log.contains(&message), "the failure is logged too: {message}");
    }
    let unknown = letters
        .iter()
        .find(|m| header(m, "__connect.errors.topic").as_deref() == Some(other.as_str()))
        .expect("a dead letter for the unmapped topic");
    let message = header(unknown, "__connect.errors.exception.message").unwrap_or_default();
    assert!(message.contains(&format!("Connector has no configuration for record topic '{other}'")), "{message}");
}
