//! The REST API and metrics of a running sink, over HTTP.

use std::time::Duration;

use crate::common::*;

const TS: i64 = 1_700_000_000_000;

#[tokio::test(flavor = "multi_thread")]
async fn rest_status_config_pause_resume_and_metrics() {
    let id = unique("api");
    let (topic, ks) = (id.clone(), id.clone());
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)")).await;
    create_topic(&topic, 2).await;
    let batch = |from: i64, to: i64| -> Vec<Rec> {
        (from..to).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#)).at((i % 2) as i32).ts(TS)).collect()
    };
    produce(&topic, &batch(0, 50)).await;
    let dir = temp_dir(&id);
    // The password comes from a file through Kafka Connect's FileConfigProvider.
    let secrets = dir.join("secrets.properties");
    std::fs::write(&secrets, "cassandra.password=s3cret\n").unwrap();
    let worker = worker_file(
        &dir,
        "config.providers=file\nconfig.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n",
    );
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!(
            "name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n\
             auth.username=cassandra\nauth.password=${{file:{}:cassandra.password}}\n",
            secrets.display()
        ),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let addr =
        rest_address(&sink, Duration::from_secs(30)).unwrap_or_else(|| panic!("no REST address:\n{}", sink.log()));
    let table = format!("{ks}.t");
    assert_eq!(wait_for_count(&s, &table, 50, Duration::from_secs(60)).await, 50, "{}", sink.log());

    assert_eq!(http("GET", &addr, "/health").0, 200);
    let (code, body) = http("GET", &addr, "/connectors");
    assert_eq!((code, body.as_str()), (200, format!(r#"["{id}"]"#).as_str()));
    let (code, body) = http("GET", &addr, &format!("/connectors/{id}/status"));
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(code, 200);
    assert_eq!(status["connector"]["state"], "RUNNING", "{body}");
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{body}");
    assert_eq!(status["assigned_partitions"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(http("GET", &addr, "/ready").0, 200);
    let (_, body) = http("GET", &addr, &format!("/connectors/{id}/config"));
    let config: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(config["auth.password"], "[hidden]", "{body}");
    assert_eq!(config["topics"], topic.as_str());
    assert!(!body.contains("s3cret"));
    let (_, body) = http("GET", &addr, &format!("/connectors/{id}/topics"));
    assert_eq!(body, format!(r#"{{"{id}":{{"topics":["{topic}"]}}}}"#));
    assert_eq!(http("GET", &addr, "/connectors/nope/status").0, 404);

    let (_, text) = http("GET", &addr, "/metrics");
    let labels = format!(r#"connector="{id}",topic="{topic}",keyspace="{ks}",table="t""#);
    assert!(text.contains(&format!("cassandra_sink_records_total{{{labels}}} 50")), "{text}");
    assert!(text.contains(&format!("cassandra_sink_failed_records_total{{{labels}}} 0")), "{text}");
    assert!(text.contains(&format!("cassandra_sink_batch_size_count{{{labels}}}")), "{text}");
    assert!(text.contains("cassandra_sink_write_latency_seconds_bucket{"), "{text}");

    // Paused: nothing more is written; resumed: the backlog lands.
    assert_eq!(http("PUT", &addr, &format!("/connectors/{id}/pause")).0, 202);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !http("GET", &addr, &format!("/connectors/{id}/status")).1.contains("PAUSED") {
        assert!(std::time::Instant::now() < deadline, "the connector never reported PAUSED");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    produce(&topic, &batch(50, 80)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count(&s, &table).await, 50, "nothing is written while paused");
    assert_eq!(http("PUT", &addr, &format!("/connectors/{id}/resume")).0, 202);
    assert_eq!(wait_for_count(&s, &table, 80, Duration::from_secs(60)).await, 80, "{}", sink.log());
    let committed = wait_committed(&format!("connect-{id}"), &topic, 2, 80, Duration::from_secs(30)).await;
    assert_eq!(committed, 80);
    let (_, text) = http("GET", &addr, "/metrics");
    assert!(text.contains(&format!("cassandra_sink_records_total{{{labels}}} 80")), "{text}");
    assert!(
        text.contains(&format!(
            r#"cassandra_sink_committed_offset{{connector="{id}",topic="{topic}",partition="0"}} 40"#
        )),
        "{text}"
    );

    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
    assert!(!log.contains("s3cret"), "the password never appears in the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_prints_the_statements_or_every_problem() {
    let id = unique("validate");
    let ks = id.clone();
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)")).await;
    let dir = temp_dir(&id);
    let good = connector_file(
        &dir,
        "good.properties",
        &format!("name={id}\ntopics=a\ntopic.a.{ks}.t.mapping=k=key, n=value.n\n"),
    );
    let bad = connector_file(
        &dir,
        "bad.properties",
        &format!("name={id}\ntopics=a\ntopic.a.{ks}.t.mapping=n=value.n, x=value.x\n"),
    );
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cassandra-sink")).args(args).output().expect("run");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = run(&["validate".as_ref(), good.as_os_str()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("valid (connector {id}, consumer group connect-{id})")), "{out}");
    assert!(
        out.contains(&format!("INSERT INTO {ks}.t(k,n) VALUES (:k,:n) USING TIMESTAMP :message_internal_timestamp")),
        "{out}"
    );
    let (code, out) = run(&["validate".as_ref(), bad.as_os_str()]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("The following columns do not exist in table t: x"), "{out}");
    assert!(out.contains("The following columns are part of the primary key but are not mapped: k"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn until_end_writes_the_backlog_commits_and_exits() {
    let id = unique("drain");
    let (topic, ks) = (id.clone(), id.clone());
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)")).await;
    create_topic(&topic, 3).await;
    let records: Vec<Rec> =
        (0..600).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#)).at(i % 3).ts(TS)).collect();
    produce(&topic, &records).await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!("name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n"),
    );
    let (code, log) = run_to_exit(
        &["standalone".as_ref(), "--until-end".as_ref(), worker.as_os_str(), conn.as_os_str()],
        Duration::from_secs(90),
    );
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(count(&s, &format!("{ks}.t")).await, 600);
    assert_eq!(committed(&format!("connect-{id}"), &topic, 3).values().sum::<i64>(), 600);
    assert!(log.contains("draining up to the end offsets seen at start"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_statements_and_errors_without_writing_or_committing() {
    let id = unique("dryrun");
    let (topic, ks) = (id.clone(), id.clone());
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)")).await;
    create_topic(&topic, 1).await;
    produce(&topic, &[Rec::kv("a", r#"{"n":1}"#).ts(TS), Rec::kv("b", r#"{"n":"two"}"#).ts(TS)]).await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!("name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n"),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cassandra-sink"))
        .args(["dry-run".as_ref(), worker.as_os_str(), conn.as_os_str(), "--records".as_ref(), "2".as_ref()])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{topic}/0@0")), "{stdout}");
    assert!(
        stdout.contains(&format!("INSERT INTO {ks}.t(k,n) VALUES (:k,:n) USING TIMESTAMP :message_internal_timestamp")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("k='a', n=1, message_internal_timestamp={}", TS * 1000)), "{stdout}");
    assert!(stdout.contains("column=n error: Could not parse 'two'"), "{stdout}");
    assert!(stdout.contains("2 record(s) read; nothing written, no offsets committed"), "{stdout}");
    assert_eq!(count(&s, &format!("{ks}.t")).await, 0, "nothing written");
    assert_eq!(committed(&format!("connect-{id}"), &topic, 1).get(&0), Some(&0), "nothing committed");
}

/// Runs Debian's headless Chromium (installed by scripts/test) on a page: its DOM after the
/// scripts ran, and a screenshot written to `png`.
fn chromium(url: &str, png: &std::path::Path) -> String {
    let profile = png.with_extension("profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=6000",
    ];
    let run = |extra: &[String]| {
        std::process::Command::new("chromium")
            .args(common)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(url)
            .output()
            .expect("chromium is installed by scripts/test (apt-get install chromium)")
    };
    let shot = run(&[format!("--screenshot={}", png.display()), "--window-size=1100,700".to_string()]);
    assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
    let dom = run(&["--dump-dom".to_string()]);
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_renders_live_numbers_in_a_browser() {
    let id = unique("ui");
    let (topic, ks) = (id.clone(), id.clone());
    let s = cassandra().await;
    create_keyspace(&s, &ks).await;
    cql(&s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)")).await;
    create_topic(&topic, 1).await;
    let records: Vec<Rec> = (0..25).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#)).ts(TS)).collect();
    produce(&topic, &records).await;
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let conn = connector_file(
        &dir,
        "sink.properties",
        &format!("name={id}\ntopics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n"),
    );
    let sink = Sink::start(&worker, &[&conn]);
    let addr =
        rest_address(&sink, Duration::from_secs(30)).unwrap_or_else(|| panic!("no REST address:\n{}", sink.log()));
    assert_eq!(wait_for_count(&s, &format!("{ks}.t"), 25, Duration::from_secs(60)).await, 25, "{}", sink.log());
    let (code, page) = http("GET", &addr, "/ui");
    assert_eq!(code, 200);
    assert!(page.contains("<canvas") || page.contains("drawChart"), "the page carries its chart code");

    let png = dir.join("ui.png");
    let url = format!("http://{addr}/ui");
    let dom = tokio::task::spawn_blocking(move || chromium(&url, &png)).await.unwrap();
    assert!(dom.contains(&format!(r#"data-connector="{id}""#)), "{dom}");
    assert!(dom.contains(r#"class="state RUNNING""#), "{dom}");
    assert!(dom.contains(&format!("{topic} → {ks}.t")), "{dom}");
    assert!(dom.contains(r#"<td class="num written">25</td>"#), "the written-records figure is live: {dom}");
    let shot = std::fs::metadata(dir.join("ui.png")).map(|m| m.len()).unwrap_or(0);
    assert!(shot > 5_000, "a real screenshot was taken ({shot} bytes)");
    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
}
