//! End-to-end tests against the real Kafka and Cassandra of `scripts/services up`: records are
//! produced into Kafka, the real binary runs, rows and committed offsets are checked.

#[path = "it/api.rs"]
mod api;
#[path = "it/cloud.rs"]
mod cloud;
mod common;
#[path = "it/errors.rs"]
mod errors;
#[path = "it/formats.rs"]
mod formats;
#[path = "it/kerberos.rs"]
mod kerberos;
#[path = "it/security.rs"]
mod security;
#[path = "it/semantics.rs"]
mod semantics;

use std::ffi::OsStr;
use std::time::Duration;

use bigdecimal::BigDecimal;
use common::*;
use scylla::value::{CqlDate, CqlTime, CqlTimestamp, CqlTimeuuid};
use std::str::FromStr;

const TS0: i64 = 1_700_000_000_000;

/// The `t` table: a text key and a number.
const KV: &[&str] = &["CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)"];

fn item_json(i: i64) -> String {
    format!(
        r#"{{"region":"r{}","name":"item {i}","price":"{i}.25","qty":{},"active":{},"score":{i}.5,"ratio":0.25,"created":"2024-03-0{}T10:15:30.123Z","day":"2024-02-2{}","at":"12:34:56.789","uid":"123e4567-e89b-12d3-a456-4266141740{:02}","tid":"fe2b4360-28c6-11e2-81c1-0800200c9a66","data":"0x0102{:02x}","ignored":[1,2,3]}}"#,
        i % 3,
        i * 1000,
        i % 2 == 0,
        1 + i % 9,
        i % 9,
        i % 100,
        i % 256
    )
}

const ITEMS: &str = "CREATE TABLE {ks}.items (id int, region text, name text, price decimal, qty bigint, \
    active boolean, score double, ratio float, created timestamp, day date, at time, uid uuid, tid timeuuid, data blob, \
    src text, PRIMARY KEY ((region), id))";

const ITEMS_MAPPING: &str = "id=key, region=value.region, name=value.name, price=value.price, qty=value.qty, \
    active=value.active, score=value.score, ratio=value.ratio, created=value.created, day=value.day, at=value.at, \
    uid=value.uid, tid=value.tid, data=value.data, src=header.source";

#[tokio::test(flavor = "multi_thread")]
async fn records_land_as_rows_with_values_and_write_times() {
    let c = Case::new("land", &[ITEMS]).await;
    let (ks, s) = (&c.ks, &c.s);
    let n = 200i64;
    let records: Vec<Rec> = (0..n)
        .map(|i| Rec::kv(i.to_string(), item_json(i)).at((i % 2) as i32).ts(TS0 + i).header("source", "feed-a"))
        .collect();
    let topic = c.topic_of("", 2, &records).await;
    let conn = c.connector(&format!("topics={topic}\ntopic.{topic}.{ks}.items.mapping={ITEMS_MAPPING}\n"));
    let sink = Sink::start(&c.worker(""), &[&conn]);
    let landed = wait_for_count(s, &c.table("items"), n, LAND).await;
    assert_eq!(landed, n, "rows written; sink log:\n{}", sink.log());

    let rows = s
        .query_unpaged(
            format!("SELECT id, name, price, qty, active, score, ratio, created, day, at, src, writetime(name) FROM {ks}.items WHERE region = 'r1' AND id = 7"),
            (),
        )
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    type Row = (i32, String, BigDecimal, i64, bool, f64, f32, CqlTimestamp, CqlDate, CqlTime, String, i64);
    let row: Row = rows.single_row().unwrap();
    assert_eq!(row.0, 7);
    assert_eq!(row.1, "item 7");
    assert_eq!(row.2, BigDecimal::from_str("7.25").unwrap());
    assert_eq!(row.3, 7000);
    assert!(!row.4);
    assert_eq!(row.5, 7.5);
    assert_eq!(row.6, 0.25);
    // 2024-03-08T10:15:30.123Z
    assert_eq!(row.7.0, 1_709_892_930_123);
    // 2024-02-27 = 19780 days after the epoch; CQL dates count from 2^31.
    assert_eq!(row.8.0, (1u32 << 31) + 19_780);
    assert_eq!(row.9.0, ((12 * 3600 + 34 * 60 + 56) * 1_000 + 789) * 1_000_000);
    assert_eq!(row.10, "feed-a");
    assert_eq!(row.11, (TS0 + 7) * 1000, "write time is the Kafka timestamp in µs");

    let rows = s
        .query_unpaged(format!("SELECT uid, tid, data FROM {ks}.items WHERE region = 'r1' AND id = 7"), ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    let (uid, tid, data): (uuid::Uuid, CqlTimeuuid, Vec<u8>) = rows.single_row().unwrap();
    assert_eq!(uid.to_string(), "123e4567-e89b-12d3-a456-426614174007");
    assert_eq!(uuid::Uuid::from(tid).to_string(), "fe2b4360-28c6-11e2-81c1-0800200c9a66");
    assert_eq!(data, vec![1, 2, 7]);

    let (status, log) = sink.stop();
    assert!(status.success(), "graceful stop exits 0: {status:?}\n{log}");
    assert_eq!(c.committed(&topic), n, "every record committed after a drain");
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_resumes_from_committed_offsets() {
    let c = Case::new("restart", &["CREATE TABLE {ks}.kv (k text PRIMARY KEY, v int)"]).await;
    let (ks, s) = (&c.ks, &c.s);
    let topic = c.topic_of("", 3, &[]).await;
    let batch = |from: i64, to: i64| -> Vec<Rec> {
        (from..to).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"v":{i}}}"#)).at((i % 3) as i32).ts(TS0 + i)).collect()
    };
    let worker = c.worker("");
    let conn = c.connector(&format!("topics={topic}\ntopic.{topic}.{ks}.kv.mapping=k=key, v=value.v\n"));
    let table = c.table("kv");

    // 1. Graceful stop: everything written is committed, and a restart re-reads nothing.
    produce(&topic, &batch(0, 300)).await;
    let sink = Sink::start(&worker, &[&conn]);
    assert_eq!(wait_for_count(s, &table, 300, Duration::from_secs(60)).await, 300, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(c.committed(&topic), 300);

    produce(&topic, &batch(300, 500)).await;
    let sink = Sink::start(&worker, &[&conn]);
    assert_eq!(wait_for_count(s, &table, 500, Duration::from_secs(60)).await, 500, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("records=200"), "the second run consumed only the 200 new records:\n{log}");
    assert_eq!(c.committed(&topic), 500);

    // 2. Crash (SIGKILL) mid-stream: what was committed was written; after a restart all lands.
    produce(&topic, &batch(500, 3000)).await;
    let mut sink = Sink::start(&worker, &[&conn]);
    wait_for_count(s, &table, 600, Duration::from_secs(60)).await;
    sink.signal("KILL");
    sink.wait(Duration::from_secs(10)).expect("killed");
    let by_partition = committed(&c.group(), &topic, 3);
    let after_crash = by_partition.values().sum::<i64>();
    let written = count(s, &table).await;
    assert!(
        after_crash >= 500 && after_crash <= written,
        "committed {after_crash} ({by_partition:?}) must be at least 500 and at most the {written} rows written\n{}",
        sink.log()
    );
    let sink = Sink::start(&worker, &[&conn]);
    assert_eq!(wait_for_count(s, &table, 3000, Duration::from_secs(90)).await, 3000, "{}", sink.log());
    // Every row may already be there (written before the crash, committed or not): the restarted
    // sink is done when it has committed everything.
    assert_eq!(c.wait_committed(&topic, 3000).await, 3000, "{}", sink.log());
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert_eq!(c.committed(&topic), 3000);
    // Replays are harmless: every value is the one of its record.
    let rows = s.query_unpaged(format!("SELECT k, v FROM {table}"), ()).await.unwrap().into_rows_result().unwrap();
    for row in rows.rows::<(String, i32)>().unwrap() {
        let (k, v) = row.unwrap();
        assert_eq!(k, format!("k{v}"));
    }
}

/// Policy None: a bad record holds its partition (not committed past it, nothing after it
/// fetched) while the other partitions go on; the hold shows in the log, `/status` and
/// `/metrics`; a resume reads the partition again from the bad record.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_record_holds_its_partition_while_the_others_go_on() {
    let c = Case::new("bad", KV).await;
    let (id, ks) = (&c.id, &c.ks);
    let good = |p: i32, i: i32| Rec::kv(format!("p{p}k{i}"), format!(r#"{{"n":{i}}}"#)).at(p).ts(TS0);
    let mut records: Vec<Rec> = (0..5).map(|i| good(0, i)).collect();
    records.push(Rec::kv("bad", r#"{"n":"not a number"}"#).at(0).ts(TS0));
    records.extend((6..9).map(|i| good(0, i)));
    records.extend((0..20).map(|i| good(1, i)));
    let topic = c.topic_of("", 2, &records).await;
    let sink = Sink::start(&c.worker(""), &[&c.kv_connector(&topic)]);
    assert_eq!(c.wait_committed(&topic, 25).await, 25, "{}", sink.log());
    // Partition 1 goes on: more records land while partition 0 is held.
    produce(&topic, &(20..30).map(|i| good(1, i)).collect::<Vec<_>>()).await;
    assert_eq!(c.wait_committed(&topic, 35).await, 35, "{}", sink.log());
    let offsets = committed(&c.group(), &topic, 2);
    assert_eq!(offsets.get(&0), Some(&5), "the bad record and what follows stay uncommitted");
    assert_eq!(offsets.get(&1), Some(&30));
    assert_eq!(c.count("t").await, 35, "p0 k0..k4 and p1 k0..k29; nothing after the bad record");

    let log = sink.log();
    let expected = format!("topic={topic}, partition=0, offset=5, table={ks}.t, column=n, field=value.n");
    assert!(log.contains(&expected), "error names topic, partition, offset, column, field:\n{log}");
    assert!(log.contains("Could not parse 'not a number'"), "error gives the reason:\n{log}");
    assert!(log.contains(&format!("Partition {topic}-0 is held at offset 5")), "{log}");

    let addr = rest_address(&sink, Duration::from_secs(10)).unwrap_or_else(|| panic!("no REST address:\n{log}"));
    let (code, body) = http("GET", &addr, &format!("/connectors/{id}/status"));
    assert_eq!(code, 200);
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["connector"]["state"], "RUNNING", "{body}");
    let held = &status["held_partitions"];
    assert_eq!(held.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(
        (held[0]["topic"].as_str(), held[0]["partition"].as_i64(), held[0]["offset"].as_i64()),
        (Some(topic.as_str()), Some(0), Some(5)),
        "{body}"
    );
    assert!(held[0]["reason"].as_str().unwrap_or("").contains("Could not parse 'not a number'"), "{body}");
    let (_, metrics) = http("GET", &addr, "/metrics");
    assert!(metrics.contains(&format!("cassandra_sink_held_partitions{{connector=\"{id}\"}} 1")), "{metrics}");

    // Resume reads the held partition again from the bad record, which fails again.
    assert_eq!(http("PUT", &addr, &format!("/connectors/{id}/resume")).0, 202);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while sink.log().matches(&format!("Partition {topic}-0 is held at offset 5")).count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the partition is not read again:\n{}", sink.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(sink.log().contains(&format!("partition {topic}-0 released: reading again from offset 5")));
    let (code, log) = sink.stop();
    assert!(code.success(), "a stop by request exits 0, holds or not: {code:?}\n{log}");
    assert_eq!(committed(&c.group(), &topic, 2).get(&0), Some(&5));
}

/// `--until-end` writes every partition it can, then exits 1 naming the held one.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_without_its_primary_key_holds_and_fails_the_drain() {
    let c = Case::new("malformed", &["CREATE TABLE {ks}.t (id int PRIMARY KEY, n int)"]).await;
    let ks = &c.ks;
    let topic =
        c.topic("", &[Rec::kv("k", r#"{"id":1,"n":1}"#).ts(TS0), Rec::kv("k", r#"{"id":2,"n":"#).ts(TS0)]).await;
    let conn = c.connector(&format!("topics={topic}\ntopic.{topic}.{ks}.t.mapping=id=value.id, n=value.n\n"));
    let (code, log) = c.run_to_failure("", &conn);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains(&format!("topic={topic}, partition=0, offset=1, table={ks}.t")), "{log}");
    assert!(log.contains("Primary key column(s) id cannot be left unmapped"), "{log}");
    assert!(
        log.contains(&format!("partition {topic}-0 held at offset 1")),
        "the exit names the held partition:\n{log}"
    );
    assert_eq!(c.committed(&topic), 1);
    assert_eq!(c.count("t").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_settings_are_all_listed_before_anything_runs() {
    let dir = temp_dir(&unique("cfg"));
    let worker = worker_file(
        &dir,
        "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=maybe\n",
    );
    let conn = connector_file(
        &dir,
        "bad.properties",
        "name=x\ntopics=a,b\nport=0\nmaxConcurrentRequests=lots\n\
         topic.a.ks.tb.mapping=col=\n\
         topic.a.ks.tb.consistencyLevel=SOMETIMES\n\
         topic.a.ks.tb.extra.setting=1\n",
    );
    let (code, stderr) =
        run_to_exit(&[OsStr::new("standalone"), worker.as_os_str(), conn.as_os_str()], Duration::from_secs(30));
    assert_eq!(code, Some(2), "{stderr}");
    for expected in [
        "Invalid value 0 for configuration port: Value must be at least 1",
        "Invalid value lots for configuration maxConcurrentRequests: Not a number of type INT",
        "Invalid value a,b for configuration topics: Missing topic settings (topic.b.*) for topic b",
        "Invalid value 'col=' for configuration topic.a.ks.tb.mapping: Could not be parsed at line 1:4",
        "Invalid value 'SOMETIMES' for configuration topic.a.ks.tb.consistencyLevel: valid values include: ANY",
        "The setting: topic.a.ks.tb.extra.setting does not match topic.keyspace.table nor topic.codec regular expression pattern",
        "Invalid value maybe for configuration value.converter.schemas.enable: Expected value to be either true or false",
    ] {
        assert!(stderr.contains(expected), "missing «{expected}» in:\n{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn configuration_that_does_not_fit_the_schema_is_rejected_at_start() {
    let c = Case::new("schema", &["CREATE TABLE {ks}.t (a int, b int, c text, PRIMARY KEY ((a), b))"]).await;
    let (id, ks) = (&c.id, &c.ks);
    let worker = c.worker("");
    let conn = c.connector(&format!(
        "topics=t1,t2,t3\n\
         topic.t1.{ks}.t.mapping=a=key, c=value.c, nope=value.x\n\
         topic.t2.{ks}.missing_table.mapping=a=key\n\
         topic.t3.no_such_ks_{id}.t.mapping=a=key\n"
    ));
    let (code, stderr) =
        run_to_exit(&[OsStr::new("standalone"), worker.as_os_str(), conn.as_os_str()], Duration::from_secs(60));
    assert_eq!(code, Some(2), "{stderr}");
    for expected in [
        format!("for configuration topic.t1.{ks}.t.mapping: The following columns do not exist in table t: nope"),
        format!(
            "for configuration topic.t1.{ks}.t.mapping: The following columns are part of the primary key but are not mapped: b"
        ),
        format!("topic.t2.{ks}.missing_table: Table missing_table does not exist."),
        format!("topic.t3.no_such_ks_{id}.t: Keyspace no_such_ks_{id} does not exist."),
    ] {
        assert!(stderr.contains(&expected), "missing «{expected}» in:\n{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tombstones_delete_rows_with_the_record_write_time() {
    let c = Case::new("del", &["CREATE TABLE {ks}.t (k text PRIMARY KEY, v text)"]).await;
    let ks = &c.ks;
    let topic = c
        .topic(
            "",
            &[
                Rec::kv("a", r#"{"v":"1"}"#).ts(TS0),
                Rec::kv("b", r#"{"v":"2"}"#).ts(TS0 + 1),
                Rec { key: Some(b"a".to_vec()), value: None, timestamp_ms: Some(TS0 + 2), ..Rec::default() },
                Rec::kv("b", r#"{"v":null}"#).ts(TS0 + 3),
                Rec::kv("c", r#"{"v":"3"}"#).ts(TS0 + 4),
            ],
        )
        .await;
    let conn = c.connector(&format!("topics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, v=value.v\n"));
    c.run(&conn, &[(&topic, 5)]).await;
    let keys: Vec<(String, String)> = c.select("SELECT k, v FROM {ks}.t").await;
    assert_eq!(keys, vec![("c".to_string(), "3".to_string())], "a and b deleted, c kept");
}
