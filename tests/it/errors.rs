//! Error policies against the real servers: tolerated failures are dead-lettered (decode, map
//! and write stages) or skipped, and their offsets are committed; untolerated ones hold their
//! partition (see `a_bad_record_holds_its_partition_while_the_others_go_on`); a corpus of hostile
//! records is each handled by policy, naming the record, without a crash.

use std::time::Duration;

use rdkafka::Message;

use crate::common::*;

const TS: i64 = 1_700_000_000_000;

/// The `t` table: a text key and a number.
const KV: &[&str] = &["CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)"];

#[tokio::test(flavor = "multi_thread")]
async fn tolerated_mapping_failures_go_to_the_dead_letter_topic() {
    let c = Case::new("dlq_map", KV).await;
    let dlq = format!("{}_dlq", c.id);
    let topic = c
        .topic(
            "",
            &[
                Rec::kv("a", r#"{"n":1}"#).ts(TS),
                Rec::kv("bad", r#"{"n":"one"}"#).ts(TS + 1).header("trace", "t-1"),
                Rec::kv("b", r#"{"n":2}"#).ts(TS + 2),
            ],
        )
        .await;
    let conn = c.kv_connector_with(
        &topic,
        &format!(
            "errors.tolerance=all\nerrors.deadletterqueue.topic.name={dlq}\n\
             errors.deadletterqueue.topic.replication.factor=1\n"
        ),
    );
    c.run(&conn, &[(&topic, 3)]).await;
    assert_eq!(c.count("t").await, 2);

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
    let c = Case::new("dlq_write", KV).await;
    let dlq = format!("{}_dlq", c.id);
    // Cassandra rejects an empty partition key: a write failure no retry can fix.
    let topic = c
        .topic(
            "",
            &[
                Rec::kv("a", r#"{"n":1}"#).ts(TS),
                Rec::kv("", r#"{"n":2}"#).ts(TS + 1),
                Rec::kv("c", r#"{"n":3}"#).ts(TS + 2),
            ],
        )
        .await;
    let conn = c.kv_connector_with(
        &topic,
        &format!(
            "ignoreErrors=Driver\nerrors.deadletterqueue.topic.name={dlq}\n\
             errors.deadletterqueue.topic.replication.factor=1\n"
        ),
    );
    c.run(&conn, &[(&topic, 3)]).await;
    assert_eq!(c.count("t").await, 2);
    let letters = consume(&dlq, 1, Duration::from_secs(30));
    assert_eq!(letters.len(), 1, "one dead letter");
    assert_eq!(header(&letters[0], "__connect.errors.stage").as_deref(), Some("write"));
    assert_eq!(header(&letters[0], "__connect.errors.offset").as_deref(), Some("1"));
    assert_eq!(letters[0].key(), Some(&b""[..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_dead_letter_topic_tolerated_failures_are_skipped_and_committed() {
    let c = Case::new("skip", KV).await;
    let topic = c
        .topic(
            "",
            &[
                Rec::kv("a", r#"{"n":1}"#).ts(TS),
                Rec::kv("bad", r#"{"n":"x"}"#).ts(TS),
                Rec::kv("", r#"{"n":3}"#).ts(TS),
                Rec::kv("d", r#"{"n":4}"#).ts(TS),
            ],
        )
        .await;
    let conn = c.kv_connector_with(&topic, "ignoreErrors=All\n");
    let log = c.run(&conn, &[(&topic, 4)]).await;
    assert_eq!(c.count("t").await, 2);
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
    let c = Case::new("hostile", &["CREATE TABLE {ks}.t (k text PRIMARY KEY, n int, s text)"]).await;
    let (id, ks, dlq) = (&c.id, &c.ks, format!("{}_dlq", c.id));
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
    let main = c.topic("main", &records).await;
    // A topic the subscription matches but no setting maps.
    let other = c.topic("other", &[Rec::kv("k", r#"{"n":1}"#).ts(TS)]).await;

    let conn = c.connector(&format!(
        "topics.regex={id}_(main|other)\ntopic.{main}.{ks}.t.mapping=k=key, n=value.n, s=value.s\n\
         errors.tolerance=all\nerrors.deadletterqueue.topic.name={dlq}\n\
         errors.deadletterqueue.topic.replication.factor=1\n"
    ));
    // Schemaless JSON values: bytes that are not JSON fail to decode (a StringConverter would
    // pass them on as text).
    let worker_extra =
        "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n";
    let log = c.run_with(worker_extra, &conn, &[(&main, corpus.len() as i64), (&other, 1)]).await;
    assert!(!log.contains("panicked"), "{log}");

    let mut rows: Vec<(String, i32, usize)> = c
        .select::<(String, i32, String)>("SELECT k, n, s FROM {ks}.t")
        .await
        .into_iter()
        .map(|(k, n, s)| (k, n, s.len()))
        .collect();
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
