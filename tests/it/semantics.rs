//! Record semantics end to end (spec §2–§3, and "Where we deliberately differ", which wins):
//! every test produces a few records into its own topics, runs the real binary until the
//! records are committed (so written), stops it gracefully and checks the exact rows, write
//! times and TTLs in the real Cassandra.

use std::collections::BTreeSet;

use num_bigint::BigInt;
use scylla::value::{CqlDate, CqlDuration, CqlTimestamp, CqlTimeuuid, CqlValue, CqlVarint, Row};

use crate::common::*;

const TS0: i64 = 1_700_000_000_000;

fn tombstone(key: &str) -> Rec {
    Rec { key: Some(key.as_bytes().to_vec()), value: None, ..Rec::default() }
}

fn text(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// A CQL `date` of `y-m-d` (days since the epoch, offset by 2^31).
fn date(y: i32, m: u32, d: u32) -> CqlDate {
    let days = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap().signed_duration_since(chrono::NaiveDate::default());
    CqlDate(((1i64 << 31) + days.num_days()) as u32)
}

/// `key` and `value` map a JSON object's text, as the record carried it (trimmed), also when
/// another table of the same topic maps only its fields.
#[tokio::test(flavor = "multi_thread")]
async fn whole_json_key_and_value_map_to_their_text() {
    let c = Case::new(
        "whole",
        &[
            "CREATE TABLE {ks}.docs (k text PRIMARY KEY, doc text)",
            "CREATE TABLE {ks}.fields (id int PRIMARY KEY, n int)",
        ],
    )
    .await;
    let ks = &c.ks;
    let t = c.topic("", &[Rec::kv(r#"{"id": 1}"#, " {\"id\":1,\"n\":5,\"tags\":[\"a\"]}\n").ts(TS0)]).await;
    let conn = c.connector(&format!(
        "topics={t}\ntopic.{t}.{ks}.docs.mapping=k=key, doc=value\ntopic.{t}.{ks}.fields.mapping=id=value.id, n=value.n\n"
    ));
    let json = "key.converter=org.apache.kafka.connect.json.JsonConverter\nkey.converter.schemas.enable=false\n\
                value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n";
    c.run_with(json, &conn, &[(&t, 1)]).await;
    let docs: Vec<(String, String)> = c.select("SELECT k, doc FROM {ks}.docs").await;
    assert_eq!(docs, vec![(r#"{"id": 1}"#.to_string(), r#"{"id":1,"n":5,"tags":["a"]}"#.to_string())]);
    let fields: Vec<(i32, i32)> = c.select("SELECT id, n FROM {ks}.fields").await;
    assert_eq!(fields, vec![(1, 5)]);
}

/// Rows of one Cassandra partition travel together: a backlog of 60 records over two partition
/// keys (inserts, and deletes of some of the rows) is written in far fewer requests than rows,
/// each batch within `maxNumberOfRecordsInBatch`, and every row ends as its last record says.
#[tokio::test(flavor = "multi_thread")]
async fn rows_of_one_partition_are_written_in_batches() {
    let c = Case::new("batches", &["CREATE TABLE {ks}.t (p text, c int, n int, PRIMARY KEY (p, c))"]).await;
    let ks = &c.ks;
    let mut records: Vec<Rec> = (0..50)
        .map(|i| Rec::kv(format!(r#"{{"p":"p{}","c":{i}}}"#, i % 2), format!(r#"{{"n":{i}}}"#)).ts(TS0 + i))
        .collect();
    // Tombstones for the rows c = 0..10, later than their inserts.
    records.extend((0..10).map(|i| {
        let key = format!(r#"{{"p":"p{}","c":{i}}}"#, i % 2);
        Rec { key: Some(key.into_bytes()), value: None, timestamp_ms: Some(TS0 + 100 + i), ..Rec::default() }
    }));
    let t = c.topic("", &records).await;
    let conn = c.connector(&format!(
        "topics={t}\ntopic.{t}.{ks}.t.mapping=p=key.p, c=key.c, n=value.n\nmaxNumberOfRecordsInBatch=8\n"
    ));
    let json_keys = "key.converter=org.apache.kafka.connect.json.JsonConverter\nkey.converter.schemas.enable=false\n";
    let sink = Sink::start(&c.worker(json_keys), &[&conn]);
    assert_eq!(c.wait_committed(&t, 60).await, 60, "{}", sink.log());
    let (_, text) = http("GET", &sink.rest(), "/metrics");
    let labels = format!(r#"connector="{}",topic="{t}",keyspace="{ks}",table="t""#, c.id);
    let metric = |name: &str| -> f64 {
        let prefix = format!("cassandra_sink_batch_size_{name}{{{labels}}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
    };
    let (rows, requests) = (metric("sum"), metric("count"));
    assert_eq!(rows, 60.0, "{text}");
    assert!(requests <= 20.0, "60 rows of 2 partitions in {requests} requests (batches of up to 8 expected)");
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    let mut rows: Vec<(String, i32, i32)> = c.select("SELECT p, c, n FROM {ks}.t").await;
    rows.sort();
    let mut expected: Vec<(String, i32, i32)> = (10..50).map(|i| (format!("p{}", i % 2), i, i)).collect();
    expected.sort();
    assert_eq!(rows, expected);
}

/// 1. One topic feeds two tables with different mappings; two topics feed one table.
#[tokio::test(flavor = "multi_thread")]
async fn fan_out_to_two_tables_and_fan_in_from_two_topics() {
    let c = Case::new(
        "fan",
        &[
            "CREATE TABLE {ks}.by_key (k text PRIMARY KEY, n int)",
            "CREATE TABLE {ks}.by_n (n int PRIMARY KEY, name text, k text)",
        ],
    )
    .await;
    let ks = &c.ks;
    let t1 = c
        .topic(
            "one",
            &[Rec::kv("x", r#"{"n":1,"name":"one"}"#).ts(TS0), Rec::kv("y", r#"{"n":2,"name":"two"}"#).ts(TS0 + 1)],
        )
        .await;
    let t2 = c.topic("two", &[Rec::kv("z", r#"{"n":3,"name":"three"}"#).ts(TS0 + 2)]).await;
    let conn = c.connector(&format!(
        "topics={t1},{t2}\n\
         topic.{t1}.{ks}.by_key.mapping=k=key, n=value.n\n\
         topic.{t1}.{ks}.by_n.mapping=n=value.n, name=value.name, k=key\n\
         topic.{t2}.{ks}.by_key.mapping=k=key, n=value.n\n"
    ));
    c.run(&conn, &[(&t1, 2), (&t2, 1)]).await;

    let mut by_key: Vec<(String, i32, i64)> = c.select("SELECT k, n, writetime(n) FROM {ks}.by_key").await;
    by_key.sort();
    assert_eq!(
        by_key,
        vec![("x".into(), 1, TS0 * 1000), ("y".into(), 2, (TS0 + 1) * 1000), ("z".into(), 3, (TS0 + 2) * 1000)]
    );
    let mut by_n: Vec<(i32, String, String)> = c.select("SELECT n, name, k FROM {ks}.by_n").await;
    by_n.sort();
    assert_eq!(by_n, vec![(1, "one".into(), "x".into()), (2, "two".into(), "y".into())]);
}

/// 2. `nullToUnset=true` (default) leaves a cell alone on null; `false` writes the null.
#[tokio::test(flavor = "multi_thread")]
async fn null_to_unset_keeps_cells_and_false_writes_nulls() {
    let c = Case::new(
        "nulls",
        &[
            "CREATE TABLE {ks}.keep (k text PRIMARY KEY, v text, w text)",
            "CREATE TABLE {ks}.wipe (k text PRIMARY KEY, v text, w text)",
        ],
    )
    .await;
    let ks = &c.ks;
    let records = [Rec::kv("a", r#"{"v":"v1","w":"w1"}"#).ts(TS0), Rec::kv("a", r#"{"v":null,"w":"w2"}"#).ts(TS0 + 1)];
    let t1 = c.topic("keep", &records).await;
    let t2 = c.topic("wipe", &records).await;
    let conn = c.connector(&format!(
        "topics={t1},{t2}\n\
         topic.{t1}.{ks}.keep.mapping=k=key, v=value.v, w=value.w\n\
         topic.{t2}.{ks}.wipe.mapping=k=key, v=value.v, w=value.w\n\
         topic.{t2}.{ks}.wipe.nullToUnset=false\n"
    ));
    c.run(&conn, &[(&t1, 2), (&t2, 2)]).await;

    type KeepRow = (String, Option<String>, Option<String>, Option<i64>);
    let keep: Vec<KeepRow> = c.select("SELECT k, v, w, writetime(v) FROM {ks}.keep").await;
    assert_eq!(keep, vec![("a".into(), text("v1"), text("w2"), Some(TS0 * 1000))], "v kept from the first record");
    let wipe: Vec<(String, Option<String>, Option<String>)> = c.select("SELECT k, v, w FROM {ks}.wipe").await;
    assert_eq!(wipe, vec![("a".into(), None, text("w2"))], "v deleted by the second record");
}

/// 3. Deletes: a tombstone and an all-null value delete the row, with the record's write time
/// (insert → delete → insert ends inserted, spec "differ" §3, also when the write time comes from
/// `__timestamp`); with `deletesEnabled=false` the same records insert rows with only their key.
#[tokio::test(flavor = "multi_thread")]
async fn deletes_carry_the_write_time_and_disabled_deletes_insert_key_only_rows() {
    let c = Case::new(
        "deletes",
        &[
            "CREATE TABLE {ks}.d (k text PRIMARY KEY, v text)",
            "CREATE TABLE {ks}.dts (k text PRIMARY KEY, v text)",
            "CREATE TABLE {ks}.nd (k text PRIMARY KEY, v text)",
        ],
    )
    .await;
    let ks = &c.ks;
    let t1 = c
        .topic(
            "del",
            &[
                Rec::kv("a", r#"{"v":"a1"}"#).ts(TS0),
                tombstone("a").ts(TS0 + 1),
                Rec::kv("a", r#"{"v":"a3"}"#).ts(TS0 + 2),
                Rec::kv("b", r#"{"v":"b1"}"#).ts(TS0 + 3),
                Rec::kv("b", r#"{"v":null}"#).ts(TS0 + 4),
                Rec::kv("c", r#"{"v":"c1"}"#).ts(TS0 + 5),
                tombstone("c").ts(TS0 + 6),
                Rec::kv("e", r#"{"v":"e1"}"#).ts(TS0 + 7),
            ],
        )
        .await;
    // Write times from a field (ms): the tombstone has no field, so it takes the Kafka timestamp.
    let t2 = c
        .topic(
            "delts",
            &[
                Rec::kv("a", format!(r#"{{"v":"a1","ts":{}}}"#, TS0)).ts(TS0),
                tombstone("a").ts(TS0 + 1),
                Rec::kv("a", format!(r#"{{"v":"a3","ts":{}}}"#, TS0 + 2)).ts(TS0 + 2),
            ],
        )
        .await;
    let t3 = c
        .topic(
            "nodel",
            &[tombstone("a").ts(TS0), Rec::kv("b", r#"{"v":null}"#).ts(TS0 + 1), Rec::kv("c", "").ts(TS0 + 2)],
        )
        .await;
    let conn = c.connector(&format!(
        "topics={t1},{t2},{t3}\n\
         topic.{t1}.{ks}.d.mapping=k=key, v=value.v\n\
         topic.{t2}.{ks}.dts.mapping=k=key, v=value.v, __timestamp=value.ts\n\
         topic.{t2}.{ks}.dts.timestampTimeUnit=MILLISECONDS\n\
         topic.{t3}.{ks}.nd.mapping=k=key, v=value.v\n\
         topic.{t3}.{ks}.nd.deletesEnabled=false\n"
    ));
    c.run(&conn, &[(&t1, 8), (&t2, 3), (&t3, 3)]).await;

    let mut d: Vec<(String, String, i64)> = c.select("SELECT k, v, writetime(v) FROM {ks}.d").await;
    d.sort();
    assert_eq!(
        d,
        vec![("a".into(), "a3".into(), (TS0 + 2) * 1000), ("e".into(), "e1".into(), (TS0 + 7) * 1000)],
        "a re-inserted after its delete, b (all null) and c (tombstone) deleted"
    );
    let dts: Vec<(String, String, i64)> = c.select("SELECT k, v, writetime(v) FROM {ks}.dts").await;
    assert_eq!(dts, vec![("a".into(), "a3".into(), (TS0 + 2) * 1000)], "the delete did not shadow the re-insert");
    let mut nd: Vec<(String, Option<String>)> = c.select("SELECT k, v FROM {ks}.nd").await;
    nd.sort();
    assert_eq!(nd, vec![("a".into(), None), ("b".into(), None), ("c".into(), None)], "rows with only their key");
}

/// 4. Static `ttl` converted with `ttlTimeUnit`; `__ttl` from a field, with its unit; a
/// negative field TTL means no TTL.
#[tokio::test(flavor = "multi_thread")]
async fn static_ttl_with_unit_and_ttl_from_a_field() {
    let c = Case::new(
        "ttl",
        &["CREATE TABLE {ks}.st (k text PRIMARY KEY, v text)", "CREATE TABLE {ks}.ft (k text PRIMARY KEY, v text)"],
    )
    .await;
    let ks = &c.ks;
    let t = c
        .topic(
            "ttl",
            &[
                Rec::kv("a", r#"{"v":"a","ttl":2}"#).ts(TS0),
                Rec::kv("b", r#"{"v":"b","ttl":90}"#).ts(TS0),
                Rec::kv("c", r#"{"v":"c","ttl":-5}"#).ts(TS0),
            ],
        )
        .await;
    let conn = c.connector(&format!(
        "topics={t}\n\
         topic.{t}.{ks}.st.mapping=k=key, v=value.v\n\
         topic.{t}.{ks}.st.ttl=3600000\n\
         topic.{t}.{ks}.st.ttlTimeUnit=MILLISECONDS\n\
         topic.{t}.{ks}.ft.mapping=k=key, v=value.v, __ttl=value.ttl\n\
         topic.{t}.{ks}.ft.ttlTimeUnit=MINUTES\n"
    ));
    c.run(&conn, &[(&t, 3)]).await;

    let st: Vec<(String, Option<i32>)> = c.select("SELECT k, ttl(v) FROM {ks}.st").await;
    assert_eq!(st.len(), 3);
    for (k, ttl) in st {
        let ttl = ttl.unwrap_or_else(|| panic!("{k} has a TTL"));
        assert!((3600 - 60..=3600).contains(&ttl), "{k}: ttl=3600000 ms is 3600 s, got {ttl}");
    }
    let mut ft: Vec<(String, Option<i32>)> = c.select("SELECT k, ttl(v) FROM {ks}.ft").await;
    ft.sort();
    let ttl = |i: usize| ft[i].1;
    assert!(ttl(0).is_some_and(|t| (120 - 60..=120).contains(&t)), "2 minutes: {ft:?}");
    assert!(ttl(1).is_some_and(|t| (5400 - 60..=5400).contains(&t)), "90 minutes: {ft:?}");
    assert_eq!(ft[2], ("c".into(), None), "a negative TTL is no TTL");
}

/// 5. `__timestamp` from a field with `timestampTimeUnit` (64-bit, no wrap-around: spec
/// "differ" §4), and by default the Kafka timestamp in µs.
#[tokio::test(flavor = "multi_thread")]
async fn write_time_from_a_field_with_its_unit_or_the_kafka_timestamp() {
    let c = Case::new(
        "wt",
        &[
            "CREATE TABLE {ks}.ms (k text PRIMARY KEY, v text)",
            "CREATE TABLE {ks}.sec (k text PRIMARY KEY, v text)",
            "CREATE TABLE {ks}.us (k text PRIMARY KEY, v text)",
            "CREATE TABLE {ks}.kafka (k text PRIMARY KEY, v text)",
        ],
    )
    .await;
    let ks = &c.ks;
    let t = c
        .topic(
            "wt",
            &[
                Rec::kv("a", r#"{"v":"a","ms":1600000000123,"sec":1600000000,"us":1600000000123456}"#).ts(TS0 + 5),
                Rec::kv("b", r#"{"v":"b","ms":1600000000124.9,"sec":1500000000,"us":-1000}"#).ts(TS0 + 6),
            ],
        )
        .await;
    let conn = c.connector(&format!(
        "topics={t}\n\
         topic.{t}.{ks}.ms.mapping=k=key, v=value.v, __timestamp=value.ms\n\
         topic.{t}.{ks}.ms.timestampTimeUnit=MILLISECONDS\n\
         topic.{t}.{ks}.sec.mapping=k=key, v=value.v, __timestamp=value.sec\n\
         topic.{t}.{ks}.sec.timestampTimeUnit=SECONDS\n\
         topic.{t}.{ks}.us.mapping=k=key, v=value.v, __timestamp=value.us\n\
         topic.{t}.{ks}.kafka.mapping=k=key, v=value.v\n"
    ));
    c.run(&conn, &[(&t, 2)]).await;

    let c = &c;
    let read = |table: &'static str| async move {
        let mut rows: Vec<(String, i64)> = c.select(&format!("SELECT k, writetime(v) FROM {{ks}}.{table}")).await;
        rows.sort();
        rows
    };
    assert_eq!(
        read("ms").await,
        vec![("a".into(), 1_600_000_000_123_000), ("b".into(), 1_600_000_000_124_000)],
        "ms × 1000, fractions truncated"
    );
    assert_eq!(read("sec").await, vec![("a".into(), 1_600_000_000_000_000), ("b".into(), 1_500_000_000_000_000)]);
    assert_eq!(read("us").await, vec![("a".into(), 1_600_000_000_123_456), ("b".into(), -1000)], "µs by default");
    assert_eq!(read("kafka").await, vec![("a".into(), (TS0 + 5) * 1000), ("b".into(), (TS0 + 6) * 1000)]);
}

/// 6. `now()` into two timeuuid columns: distinct version-1 UUIDs of the current time, fresh for
/// every record.
#[tokio::test(flavor = "multi_thread")]
async fn now_gives_fresh_version_1_uuids_per_column_and_record() {
    let c = Case::new("now", &["CREATE TABLE {ks}.n (k text PRIMARY KEY, v text, a timeuuid, b timeuuid)"]).await;
    let ks = &c.ks;
    let t = c
        .topic(
            "now",
            &[
                Rec::kv("x", r#"{"v":"1"}"#).ts(TS0),
                Rec::kv("y", r#"{"v":"2"}"#).ts(TS0),
                Rec::kv("z", r#"{"v":"3"}"#).ts(TS0),
            ],
        )
        .await;
    let conn = c.connector(&format!("topics={t}\ntopic.{t}.{ks}.n.mapping=k=key, v=value.v, a=now(), b=now()\n"));
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    c.run(&conn, &[(&t, 3)]).await;
    let finished = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

    let rows: Vec<(String, String, CqlTimeuuid, CqlTimeuuid)> = c.select("SELECT k, v, a, b FROM {ks}.n").await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let mut seen = BTreeSet::new();
    for (k, _, a, b) in &rows {
        for u in [uuid::Uuid::from(*a), uuid::Uuid::from(*b)] {
            assert_eq!(u.get_version_num(), 1, "{k}: {u} is a version-1 UUID");
            let (secs, _) = u.get_timestamp().expect("time-based").to_unix();
            assert!((started - 1..=finished + 1).contains(&secs), "{k}: {u} holds the write's time, not {secs}");
            seen.insert(u);
        }
    }
    assert_eq!(seen.len(), 6, "every column of every record has its own UUID: {rows:?}");
}

/// 6b. `now()` into uuid and text columns is converted; into any other type it is a start-up
/// error naming the column and its type.
#[tokio::test(flavor = "multi_thread")]
async fn now_converts_to_uuid_and_text_columns_and_rejects_others() {
    let c = Case::new(
        "nowtypes",
        &[
            "CREATE TABLE {ks}.n (k text PRIMARY KEY, v text, u uuid, s text)",
            "CREATE TABLE {ks}.bad (k text PRIMARY KEY, i int)",
        ],
    )
    .await;
    let ks = &c.ks;
    let t = c.topic("n", &[Rec::kv("x", r#"{"v":"1"}"#).ts(TS0)]).await;
    let conn = c.connector(&format!("topics={t}\ntopic.{t}.{ks}.n.mapping=k=key, v=value.v, u=now(), s=now()\n"));
    c.run(&conn, &[(&t, 1)]).await;
    let rows: Vec<(uuid::Uuid, String)> = c.select("SELECT u, s FROM {ks}.n").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0.get_version_num(), 1);
    assert_eq!(uuid::Uuid::parse_str(&rows[0].1).map(|u| u.get_version_num()), Ok(1), "{rows:?}");

    let bad = c.connector(&format!("topics={t}\ntopic.{t}.{ks}.bad.mapping=k=key, i=now()\n"));
    let (code, log) = c.run_to_failure("", &bad);
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("now() produces a time-based UUID and cannot be written to column i of type int"), "{log}");
}

/// 7. Custom `query` (with `deletesEnabled=false`): renamed bind markers, list append, map entry
/// update, non-frozen UDT field update, explicit `USING TTL :t AND TIMESTAMP :ts` (raw values).
#[tokio::test(flavor = "multi_thread")]
async fn custom_queries_bind_mapped_variables() {
    let c = Case::new(
        "query",
        &[
            "CREATE TYPE {ks}.pt (f1 int, f2 text)",
            "CREATE TABLE {ks}.ins (k text PRIMARY KEY, v int)",
            "CREATE TABLE {ks}.lst (k text PRIMARY KEY, l list<int>)",
            "CREATE TABLE {ks}.mp (k text PRIMARY KEY, m map<text, int>)",
            "CREATE TABLE {ks}.ud (k text PRIMARY KEY, p pt)",
            "CREATE TABLE {ks}.tt (k text PRIMARY KEY, v text)",
        ],
    )
    .await;
    let ks = &c.ks;
    cql(&c.s, &format!("INSERT INTO {ks}.ud (k, p) VALUES ('a', {{f1: 0, f2: 'kept'}})")).await;
    let t = c
        .topic(
            "q",
            &[
                Rec::kv("a", r#"{"n":1,"items":[1],"name":"x","ttl":600,"ts":1600000000000000}"#).ts(TS0),
                Rec::kv("a", r#"{"n":2,"items":[2,3],"name":"y","ttl":900,"ts":1600000000000001}"#).ts(TS0 + 1),
            ],
        )
        .await;
    let table = |name: &str, query: &str, mapping: &str| {
        format!(
            "topic.{t}.{ks}.{name}.query={}\ntopic.{t}.{ks}.{name}.mapping={mapping}\ntopic.{t}.{ks}.{name}.deletesEnabled=false\n",
            query.replace("{ks}", ks)
        )
    };
    let conn = c.connector(&format!(
        "topics={t}\n{}{}{}{}{}",
        table("ins", "INSERT INTO {ks}.ins (k, v) VALUES (:kk, :vv)", "kk=key, vv=value.n"),
        table("lst", "UPDATE {ks}.lst SET l = l + :v WHERE k = :k", "k=key, v=value.items"),
        table("mp", "UPDATE {ks}.mp SET m[:mk] = :mv WHERE k = :k", "k=key, mk=value.name, mv=value.n"),
        table("ud", "UPDATE {ks}.ud SET p.f1 = :a WHERE k = :k", "k=key, a=value.n"),
        table(
            "tt",
            "INSERT INTO {ks}.tt (k, v) VALUES (:k, :v) USING TTL :t AND TIMESTAMP :ts",
            "k=key, v=value.name, t=value.ttl, ts=value.ts"
        ),
    ));
    c.run(&conn, &[(&t, 2)]).await;

    let ins: Vec<(String, i32)> = c.select("SELECT k, v FROM {ks}.ins").await;
    assert_eq!(ins, vec![("a".into(), 2)]);
    let lst: Vec<(String, Vec<i32>)> = c.select("SELECT k, l FROM {ks}.lst").await;
    assert_eq!(lst, vec![("a".into(), vec![1, 2, 3])], "each record appends");
    let mp: Vec<(String, std::collections::BTreeMap<String, i32>)> = c.select("SELECT k, m FROM {ks}.mp").await;
    assert_eq!(mp, vec![("a".into(), [("x".to_string(), 1), ("y".to_string(), 2)].into())], "one entry per record");
    let ud: Vec<(String, Option<i32>, Option<String>)> = c.select("SELECT k, p.f1, p.f2 FROM {ks}.ud").await;
    assert_eq!(ud, vec![("a".into(), Some(2), text("kept"))], "only field f1 updated");
    let tt: Vec<(String, String, i64, Option<i32>)> = c.select("SELECT k, v, writetime(v), ttl(v) FROM {ks}.tt").await;
    assert_eq!(tt.len(), 1, "{tt:?}");
    assert_eq!((tt[0].0.as_str(), tt[0].1.as_str(), tt[0].2), ("a", "y", 1_600_000_000_000_001), "{tt:?}");
    assert!(tt[0].3.is_some_and(|t| (900 - 60..=900).contains(&t)), "TTL bound from the record: {tt:?}");
}

/// 8. Counter tables: the generated `UPDATE … SET c = c + :c` accumulates records of one key,
/// records with Kafka timestamps included (spec "differ" §5); a null increment is left unset.
#[tokio::test(flavor = "multi_thread")]
async fn counter_updates_accumulate_for_timestamped_records() {
    let c = Case::new("counter", &["CREATE TABLE {ks}.cnt (k text PRIMARY KEY, c counter, d counter)"]).await;
    let ks = &c.ks;
    let t = c
        .topic(
            "cnt",
            &[
                Rec::kv("a", r#"{"c":1,"d":10}"#).ts(TS0),
                Rec::kv("a", r#"{"c":2,"d":null}"#).ts(TS0 + 1),
                Rec::kv("b", r#"{"c":10,"d":null}"#).ts(TS0 + 2),
                Rec::kv("a", r#"{"c":-5,"d":-4}"#).ts(TS0 + 3),
                Rec::kv("a", r#"{"c":"7","d":0}"#).ts(TS0 + 4),
            ],
        )
        .await;
    let conn = c.connector(&format!("topics={t}\ntopic.{t}.{ks}.cnt.mapping=k=key, c=value.c, d=value.d\n"));
    c.run(&conn, &[(&t, 5)]).await;

    let mut rows: Vec<(String, Option<i64>, Option<i64>)> = c
        .select::<(String, Option<scylla::value::Counter>, Option<scylla::value::Counter>)>(
            "SELECT k, c, d FROM {ks}.cnt",
        )
        .await
        .into_iter()
        .map(|(k, c, d)| (k, c.map(|c| c.0), d.map(|d| d.0)))
        .collect();
    rows.sort();
    assert_eq!(rows, vec![("a".into(), Some(5), Some(6)), ("b".into(), Some(10), None)]);
}

/// 9. `consistencyLevel` per table: QUORUM and ONE both write on a single node.
#[tokio::test(flavor = "multi_thread")]
async fn consistency_level_per_table() {
    let c = Case::new(
        "cl",
        &["CREATE TABLE {ks}.q (k text PRIMARY KEY, v int)", "CREATE TABLE {ks}.o (k text PRIMARY KEY, v int)"],
    )
    .await;
    let ks = &c.ks;
    let t = c.topic("cl", &[Rec::kv("a", r#"{"v":1}"#).ts(TS0), Rec::kv("b", r#"{"v":2}"#).ts(TS0)]).await;
    let conn = c.connector(&format!(
        "topics={t}\n\
         topic.{t}.{ks}.q.mapping=k=key, v=value.v\n\
         topic.{t}.{ks}.q.consistencyLevel=QUORUM\n\
         topic.{t}.{ks}.o.mapping=k=key, v=value.v\n\
         topic.{t}.{ks}.o.consistencyLevel=one\n"
    ));
    c.run(&conn, &[(&t, 2)]).await;
    for table in ["q", "o"] {
        let mut rows: Vec<(String, i32)> = c.select(&format!("SELECT k, v FROM {{ks}}.{table}")).await;
        rows.sort();
        assert_eq!(rows, vec![("a".into(), 1), ("b".into(), 2)], "{table}");
    }
}

/// 10. Collections, tuples, UDTs (frozen and not), vectors and the less common scalars from JSON.
#[tokio::test(flavor = "multi_thread")]
async fn collections_udts_vectors_and_scalars_from_json() {
    let c = Case::new(
        "types",
        &[
            "CREATE TYPE {ks}.addr (street text, num int)",
            "CREATE TYPE {ks}.pt (x int, y int)",
            "CREATE TABLE {ks}.all_types (k text PRIMARY KEY, li list<int>, st set<text>, mp map<text, int>, \
             tu tuple<int, text>, fu frozen<addr>, nu pt, ve vector<float, 3>, ip inet, du duration, vi varint, \
             si smallint, ti tinyint)",
        ],
    )
    .await;
    let ks = &c.ks;
    let t = c
        .topic(
            "types",
            &[
                Rec::kv(
                    "a",
                    r#"{"li":[3,1,2],"st":["b","a","b"],"mp":{"x":1,"y":"2"},"tu":[7,"seven"],
                        "fu":{"street":"Main","num":5},"nu":{"x":1,"y":-2},"ve":[1.5,2.5,-3],
                        "ip":"10.1.2.3","du":"1h30m","vi":123456789012345678901234567890,"si":-300,"ti":7}"#,
                )
                .ts(TS0),
                Rec::kv(
                    "b",
                    r#"{"li":[],"st":[],"mp":{},"tu":[null,"x"],"fu":["Side",null],"nu":[3,4],"ve":[0,0.25,1e2],
                        "ip":"2001:db8::1","du":"P1DT2H","vi":"-42","si":32767,"ti":-128}"#,
                )
                .ts(TS0),
            ],
        )
        .await;
    let conn = c.connector(&format!(
        "topics={t}\ntopic.{t}.{ks}.all_types.mapping=k=key, li=value.li, st=value.st, mp=value.mp, tu=value.tu, \
         fu=value.fu, nu=value.nu, ve=value.ve, ip=value.ip, du=value.du, vi=value.vi, si=value.si, ti=value.ti\n"
    ));
    c.run(&conn, &[(&t, 2)]).await;

    let mut rows: Vec<Row> =
        c.select("SELECT k, li, st, mp, tu, fu, nu, ve, ip, du, vi, si, ti FROM {ks}.all_types").await;
    rows.sort_by_key(|r| format!("{:?}", r.columns[0]));
    let ints = |v: &[i32]| CqlValue::List(v.iter().map(|i| CqlValue::Int(*i)).collect());
    let t_ = |s: &str| Some(CqlValue::Text(s.into()));
    let udt = |name: &str, fields: Vec<(&str, Option<CqlValue>)>| CqlValue::UserDefinedType {
        keyspace: ks.clone(),
        name: name.into(),
        fields: fields.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
    };
    let varint =
        |s: &str| CqlValue::Varint(CqlVarint::from_signed_bytes_be(s.parse::<BigInt>().unwrap().to_signed_bytes_be()));
    let floats = |v: &[f32]| CqlValue::Vector(v.iter().map(|x| CqlValue::Float(*x)).collect());
    let a = vec![
        t_("a"),
        Some(ints(&[3, 1, 2])),
        Some(CqlValue::Set(vec![CqlValue::Text("a".into()), CqlValue::Text("b".into())])),
        Some(CqlValue::Map(vec![
            (CqlValue::Text("x".into()), CqlValue::Int(1)),
            (CqlValue::Text("y".into()), CqlValue::Int(2)),
        ])),
        Some(CqlValue::Tuple(vec![Some(CqlValue::Int(7)), t_("seven")])),
        Some(udt("addr", vec![("street", t_("Main")), ("num", Some(CqlValue::Int(5)))])),
        Some(udt("pt", vec![("x", Some(CqlValue::Int(1))), ("y", Some(CqlValue::Int(-2)))])),
        Some(floats(&[1.5, 2.5, -3.0])),
        Some(CqlValue::Inet("10.1.2.3".parse().unwrap())),
        Some(CqlValue::Duration(CqlDuration { months: 0, days: 0, nanoseconds: 5_400_000_000_000 })),
        Some(varint("123456789012345678901234567890")),
        Some(CqlValue::SmallInt(-300)),
        Some(CqlValue::TinyInt(7)),
    ];
    // Empty collections are no cells: null when read back.
    let b = vec![
        t_("b"),
        None,
        None,
        None,
        Some(CqlValue::Tuple(vec![None, t_("x")])),
        Some(udt("addr", vec![("street", t_("Side")), ("num", None)])),
        Some(udt("pt", vec![("x", Some(CqlValue::Int(3))), ("y", Some(CqlValue::Int(4)))])),
        Some(floats(&[0.0, 0.25, 100.0])),
        Some(CqlValue::Inet("2001:db8::1".parse().unwrap())),
        Some(CqlValue::Duration(CqlDuration { months: 0, days: 1, nanoseconds: 7_200_000_000_000 })),
        Some(varint("-42")),
        Some(CqlValue::SmallInt(32767)),
        Some(CqlValue::TinyInt(-128)),
    ];
    let columns: Vec<Vec<Option<CqlValue>>> = rows.into_iter().map(|r| r.columns).collect();
    assert_eq!(columns, vec![a, b]);
}

/// 11. `topic.<t>.codec.*`: a time zone and a date pattern on one topic, epoch seconds on
/// another, the defaults on a third, all into one table.
#[tokio::test(flavor = "multi_thread")]
async fn codec_settings_apply_per_topic() {
    let c = Case::new("codec", &["CREATE TABLE {ks}.ev (k text PRIMARY KEY, at timestamp, day date)"]).await;
    let ks = &c.ks;
    let paris =
        c.topic("paris", &[Rec::kv("paris", r#"{"at":"2024-01-15 10:00:00","day":"15/01/2024"}"#).ts(TS0)]).await;
    let epoch = c
        .topic(
            "epoch",
            &[
                Rec::kv("epoch", r#"{"at":1700000000,"day":"2024-01-16"}"#).ts(TS0),
                Rec::kv("epoch_text", r#"{"at":"1700000001","day":"2024-01-17"}"#).ts(TS0),
            ],
        )
        .await;
    let plain =
        c.topic("plain", &[Rec::kv("plain", r#"{"at":"2024-01-15 10:00:00","day":"2024-01-18"}"#).ts(TS0)]).await;
    let mapping = "k=key, at=value.at, day=value.day";
    let conn = c.connector(&format!(
        "topics={paris},{epoch},{plain}\n\
         topic.{paris}.{ks}.ev.mapping={mapping}\n\
         topic.{paris}.codec.timeZone=Europe/Paris\n\
         topic.{paris}.codec.date=dd/MM/yyyy\n\
         topic.{epoch}.{ks}.ev.mapping={mapping}\n\
         topic.{epoch}.codec.timestamp=UNITS_SINCE_EPOCH\n\
         topic.{epoch}.codec.unit=SECONDS\n\
         topic.{plain}.{ks}.ev.mapping={mapping}\n"
    ));
    c.run(&conn, &[(&paris, 1), (&epoch, 2), (&plain, 1)]).await;

    let mut rows: Vec<(String, CqlTimestamp, CqlDate)> = c.select("SELECT k, at, day FROM {ks}.ev").await;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let rows: Vec<(String, i64, CqlDate)> = rows.into_iter().map(|(k, at, d)| (k, at.0, d)).collect();
    assert_eq!(
        rows,
        vec![
            ("epoch".into(), 1_700_000_000_000, date(2024, 1, 16)),
            ("epoch_text".into(), 1_700_000_001_000, date(2024, 1, 17)),
            // 10:00 in Paris (UTC+1 in January) is 09:00Z.
            ("paris".into(), 1_705_309_200_000, date(2024, 1, 15)),
            ("plain".into(), 1_705_312_800_000, date(2024, 1, 18)),
        ]
    );
}

/// 12. The whole key string into the key column, fields of a JSON key, a header.
#[tokio::test(flavor = "multi_thread")]
async fn key_string_key_fields_and_headers() {
    let c = Case::new(
        "keys",
        &[
            "CREATE TABLE {ks}.raw (k text PRIMARY KEY, v text)",
            "CREATE TABLE {ks}.fields (region text, id int, v text, src text, PRIMARY KEY ((region), id))",
        ],
    )
    .await;
    let ks = &c.ks;
    let key1 = r#"{"id":5,"region":"eu"}"#;
    let key2 = r#"{"region":"us","id":"6","extra":true}"#;
    let t = c
        .topic(
            "keys",
            &[
                Rec::kv(key1, r#"{"v":"one"}"#).ts(TS0).header("src", "feed-a").header("other", "x"),
                Rec::kv(key2, r#"{"v":"two"}"#).ts(TS0).header("src", "feed-b"),
            ],
        )
        .await;
    let conn = c.connector(&format!(
        "topics={t}\n\
         topic.{t}.{ks}.raw.mapping=k=key, v=value.v\n\
         topic.{t}.{ks}.fields.mapping=region=key.region, id=key.id, v=value.v, src=header.src\n"
    ));
    c.run(&conn, &[(&t, 2)]).await;

    let mut raw: Vec<(String, String)> = c.select("SELECT k, v FROM {ks}.raw").await;
    raw.sort();
    assert_eq!(raw, vec![(key1.into(), "one".into()), (key2.into(), "two".into())], "the key text as it was sent");
    let mut fields: Vec<(String, i32, String, String)> = c.select("SELECT region, id, v, src FROM {ks}.fields").await;
    fields.sort();
    assert_eq!(
        fields,
        vec![("eu".into(), 5, "one".into(), "feed-a".into()), ("us".into(), 6, "two".into(), "feed-b".into())]
    );
}

/// 13. `value.a.b` reads a top-level field literally named `a.b` when there is one, otherwise the
/// nested field `b` of object `a` (spec "differ" §2), at any depth.
#[tokio::test(flavor = "multi_thread")]
async fn dotted_paths_prefer_literal_names_then_descend() {
    let c = Case::new("paths", &["CREATE TABLE {ks}.p (k text PRIMARY KEY, ab text, cd text, xyz int)"]).await;
    let ks = &c.ks;
    let t = c
        .topic(
            "paths",
            &[
                Rec::kv("literal", r#"{"a.b":"literal","a":{"b":"nested"},"c":{"d":"c-d"},"x":{"y":{"z":3}}}"#).ts(TS0),
                Rec::kv("nested", r#"{"a":{"b":"nested"},"c":{"d":"c-d2"},"x":{"y":{"z":4}}}"#).ts(TS0),
            ],
        )
        .await;
    let conn = c.connector(&format!(
        "topics={t}\ntopic.{t}.{ks}.p.mapping=k=key, ab=value.a.b, cd=value.c.d, xyz=value.x.y.z\n"
    ));
    c.run(&conn, &[(&t, 2)]).await;

    let mut rows: Vec<(String, String, String, i32)> = c.select("SELECT k, ab, cd, xyz FROM {ks}.p").await;
    rows.sort();
    assert_eq!(
        rows,
        vec![
            ("literal".into(), "literal".into(), "c-d".into(), 3),
            ("nested".into(), "nested".into(), "c-d2".into(), 4),
        ]
    );
}

fn error_records() -> Vec<Rec> {
    vec![
        Rec::kv("k0", r#"{"id":0,"v":"zero"}"#).ts(TS0),
        Rec::kv("k1", r#"{"id":1}"#).ts(TS0),
        Rec::kv("k2", r#"{"id":2,"v":"two"}"#).ts(TS0),
        Rec::kv("k3", r#"{"id":null,"v":"three"}"#).ts(TS0),
        Rec::kv("k4", r#"{"id":4,"v":"four"}"#).ts(TS0),
    ]
}

/// 14a. A mapped field missing from a record holds its partition with a message naming topic,
/// partition, offset, column and the reason; the record is not committed, and `--until-end`
/// exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_field_stops_the_connector_naming_the_record() {
    let c = Case::new("missing", &["CREATE TABLE {ks}.t (id int PRIMARY KEY, v text)"]).await;
    let ks = &c.ks;
    let t = c.topic("m", &error_records()[..3]).await;
    let conn = c.connector(&format!("topics={t}\ntopic.{t}.{ks}.t.mapping=id=value.id, v=value.v\n"));
    let (code, log) = c.run_to_failure("", &conn);
    assert_eq!(code, Some(1), "{log}");
    for expected in [
        format!("topic={t}, partition=0, offset=1, table={ks}.t, column=v, field=value.v"),
        "Required field 'value.v' (mapped to column v) was missing from record (or may refer to an invalid function). Please remove it from the mapping.".to_string(),
    ] {
        assert!(log.contains(&expected), "missing «{expected}» in:\n{log}");
    }
    assert_eq!(committed(&c.group(), &t, 1).get(&0), Some(&1), "committed up to the bad record");
    let rows: Vec<(i32, String)> = c.select("SELECT id, v FROM {ks}.t").await;
    assert_eq!(rows, vec![(0, "zero".into())]);
}

/// 14b. A null primary key holds the partition the same way.
#[tokio::test(flavor = "multi_thread")]
async fn a_null_primary_key_stops_the_connector_naming_the_record() {
    let c = Case::new("nullpk", &["CREATE TABLE {ks}.t (id int PRIMARY KEY, v text)"]).await;
    let ks = &c.ks;
    let records = error_records();
    let t = c.topic("n", &[records[0].clone(), records[3].clone(), records[4].clone()]).await;
    let conn = c.connector(&format!("topics={t}\ntopic.{t}.{ks}.t.mapping=id=value.id, v=value.v\n"));
    let (code, log) = c.run_to_failure("", &conn);
    assert_eq!(code, Some(1), "{log}");
    for expected in [
        format!("topic={t}, partition=0, offset=1, table={ks}.t, column=id, field=value.id"),
        "Primary key column id cannot be mapped to null. Check that your mapping setting matches your dataset contents."
            .to_string(),
    ] {
        assert!(log.contains(&expected), "missing «{expected}» in:\n{log}");
    }
    assert_eq!(committed(&c.group(), &t, 1).get(&0), Some(&1), "committed up to the bad record");
    let rows: Vec<(i32, String)> = c.select("SELECT id, v FROM {ks}.t").await;
    assert_eq!(rows, vec![(0, "zero".into())]);
}

/// 14c. With `ignoreErrors=All` the same records are logged and skipped; the others land and the
/// offsets are committed past them.
#[tokio::test(flavor = "multi_thread")]
async fn ignore_errors_all_skips_bad_records_and_commits_past_them() {
    let c = Case::new("ignore", &["CREATE TABLE {ks}.t (id int PRIMARY KEY, v text)"]).await;
    let ks = &c.ks;
    let t = c.topic("i", &error_records()).await;
    let conn = c.connector(&format!("topics={t}\nignoreErrors=All\ntopic.{t}.{ks}.t.mapping=id=value.id, v=value.v\n"));
    let log = c.run(&conn, &[(&t, 5)]).await;
    for expected in [
        format!("topic={t}, partition=0, offset=1, table={ks}.t, column=v, field=value.v"),
        "Required field 'value.v' (mapped to column v) was missing from record".to_string(),
        format!("topic={t}, partition=0, offset=3, table={ks}.t, column=id, field=value.id"),
        "Primary key column id cannot be mapped to null".to_string(),
    ] {
        assert!(log.contains(&expected), "missing «{expected}» in:\n{log}");
    }
    let mut rows: Vec<(i32, String)> = c.select("SELECT id, v FROM {ks}.t").await;
    rows.sort();
    assert_eq!(rows, vec![(0, "zero".into()), (2, "two".into()), (4, "four".into())]);
}

/// Spec "differ" §9 (with §3): within one Kafka partition the last record of a key wins, also
/// when records share a millisecond timestamp, as records produced together usually do.
#[tokio::test(flavor = "multi_thread")]
async fn last_record_of_a_key_wins_within_one_millisecond() {
    let c = Case::new("samems", &["CREATE TABLE {ks}.t (k text PRIMARY KEY, v text)"]).await;
    let ks = &c.ks;
    let t = c
        .topic(
            "s",
            &[
                Rec::kv("a", r#"{"v":"zz"}"#).ts(TS0),
                Rec::kv("a", r#"{"v":"aa"}"#).ts(TS0),
                Rec::kv("b", r#"{"v":"b1"}"#).ts(TS0),
                tombstone("b").ts(TS0),
                Rec::kv("b", r#"{"v":"b3"}"#).ts(TS0),
            ],
        )
        .await;
    let conn = c.connector(&format!("topics={t}\ntopic.{t}.{ks}.t.mapping=k=key, v=value.v\n"));
    c.run(&conn, &[(&t, 5)]).await;
    let mut rows: Vec<(String, String)> = c.select("SELECT k, v FROM {ks}.t").await;
    rows.sort();
    assert_eq!(rows, vec![("a".into(), "aa".into()), ("b".into(), "b3".into())], "the last record of each key");
}
