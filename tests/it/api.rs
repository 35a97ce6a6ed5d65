//! The REST API and metrics of a running sink, over HTTP.

use std::time::Duration;

use crate::common::*;

const TS: i64 = 1_700_000_000_000;

/// The `t` table most tests write: a text key and a number.
const KV: &[&str] = &["CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)"];

#[tokio::test(flavor = "multi_thread")]
async fn rest_status_config_pause_resume_and_metrics() {
    let c = Case::new("api", KV).await;
    let (id, ks, s) = (&c.id, &c.ks, &c.s);
    let batch = |from: i32, to: i32| -> Vec<Rec> {
        (from..to).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#)).at(i % 2).ts(TS)).collect()
    };
    let topic = c.topic_of("", 2, &batch(0, 50)).await;
    let table = c.table("t");
    // The password comes from a file through Kafka Connect's FileConfigProvider.
    let secrets = c.dir.join("secrets.properties");
    std::fs::write(&secrets, "cassandra.password=s3cret\n").unwrap();
    let worker =
        c.worker("config.providers=file\nconfig.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n");
    let conn = c.connector(&format!(
        "topics={topic}\ntopic.{topic}.{ks}.t.mapping=k=key, n=value.n\n\
         auth.username=cassandra\nauth.password=${{file:{}:cassandra.password}}\n",
        secrets.display()
    ));
    let sink = Sink::start(&worker, &[&conn]);
    let addr = sink.rest();
    assert_eq!(wait_for_count(s, &table, 50, LAND).await, 50, "{}", sink.log());

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
    assert_eq!(count(s, &table).await, 50, "nothing is written while paused");
    assert_eq!(http("PUT", &addr, &format!("/connectors/{id}/resume")).0, 202);
    assert_eq!(wait_for_count(s, &table, 80, Duration::from_secs(60)).await, 80, "{}", sink.log());
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
    let c = Case::new("validate", KV).await;
    let (id, ks, dir) = (&c.id, &c.ks, &c.dir);
    let good = connector_file(
        dir,
        "good.properties",
        &format!("name={id}\ntopics=a\ntopic.a.{ks}.t.mapping=k=key, n=value.n\n"),
    );
    let bad = connector_file(
        dir,
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
    let c = Case::new("drain", KV).await;
    let records: Vec<Rec> =
        (0..600).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#)).at(i % 3).ts(TS)).collect();
    let topic = c.topic_of("", 3, &records).await;
    let (worker, conn) = (c.worker(""), c.kv_connector(&topic));
    let (code, log) = run_to_exit(
        &["standalone".as_ref(), "--until-end".as_ref(), worker.as_os_str(), conn.as_os_str()],
        Duration::from_secs(90),
    );
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(c.count("t").await, 600);
    assert_eq!(c.committed(&topic), 600);
    assert!(log.contains("draining up to the end offsets seen at start"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_statements_and_errors_without_writing_or_committing() {
    let c = Case::new("dryrun", KV).await;
    let ks = &c.ks;
    let topic = c.topic("", &[Rec::kv("a", r#"{"n":1}"#).ts(TS), Rec::kv("b", r#"{"n":"two"}"#).ts(TS)]).await;
    let (worker, conn) = (c.worker(""), c.kv_connector(&topic));
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
    assert_eq!(c.count("t").await, 0, "nothing written");
    assert_eq!(c.committed(&topic), 0, "nothing committed");
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
    let c = Case::new("ui", KV).await;
    let (id, ks, dir) = (&c.id, &c.ks, &c.dir);
    let records: Vec<Rec> = (0..25).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#)).ts(TS)).collect();
    let topic = c.topic("", &records).await;
    let sink = Sink::start(&c.worker(""), &[&c.kv_connector(&topic)]);
    let addr = sink.rest();
    assert_eq!(wait_for_count(&c.s, &c.table("t"), 25, LAND).await, 25, "{}", sink.log());
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

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Waits until the connector's status reports `state`.
async fn wait_state(addr: &str, name: &str, state: &str, timeout: Duration) -> serde_json::Value {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let (code, body) = http("GET", addr, &format!("/connectors/{name}/status"));
        if code == 200 && json(&body)["connector"]["state"] == state {
            return json(&body);
        }
        assert!(std::time::Instant::now() < deadline, "{name} never reported {state}: {code} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn rows(s: &scylla::client::session::Session, table: &str) -> std::collections::BTreeMap<String, i32> {
    let result = s
        .query_unpaged(format!("SELECT k, n FROM {table}"), ())
        .await
        .expect("select")
        .into_rows_result()
        .expect("rows");
    result.rows::<(String, i32)>().expect("typed rows").map(|r| r.expect("row")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_creates_replaces_restarts_and_deletes_connectors() {
    let c = Case::new(
        "rest",
        &["CREATE TABLE {ks}.seed (k text PRIMARY KEY, n int)", "CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)"],
    )
    .await;
    let (id, ks, s, dir) = (&c.id, &c.ks, &c.s, &c.dir);
    let seed_topic = c.topic("seed", &[]).await;
    let topic = c.topic_of("b", 2, &[]).await;
    let other_topic = c.topic("c", &[]).await;
    // Each record carries n and m; the first mapping takes n, the replaced one m.
    let batch = |from: i64, to: i64| -> Vec<Rec> {
        (from..to)
            .map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i},"m":{}}}"#, 1000 + i)).at((i % 2) as i32).ts(TS))
            .collect()
    };
    let worker = c.worker("rest.config.persist=true\n");
    let seed = connector_file(
        dir,
        "seed.properties",
        &format!("name={id}_seed\ntopics={seed_topic}\ntopic.{seed_topic}.{ks}.seed.mapping=k=key, n=value.n\n"),
    );
    let sink = Sink::start(&worker, &[&seed]);
    let addr = sink.rest();
    let table = format!("{ks}.t");
    let name = format!("{id}_b");
    let mapping_key = format!("topic.{topic}.{ks}.t.mapping");

    // POST: created (201, Connect's ConnectorInfo), started, writing.
    let config = connector_json(&format!("topics={topic}\n{mapping_key}=k=key, n=value.n\n"));
    let post = serde_json::json!({"name": name, "config": config}).to_string();
    let (code, body) = http_with("POST", &addr, "/connectors", &[], &post);
    assert_eq!(code, 201, "{body}\n{}", sink.log());
    let info = json(&body);
    assert_eq!(info["name"], name.as_str());
    assert_eq!(info["type"], "sink");
    assert_eq!(info["tasks"], serde_json::json!([{"connector": name, "task": 0}]));
    assert_eq!(info["config"][&mapping_key], "k=key, n=value.n");
    produce(&topic, &batch(0, 20)).await;
    assert_eq!(wait_for_count(s, &table, 20, Duration::from_secs(60)).await, 20, "{}", sink.log());
    assert_eq!(rows(s, &table).await.get("k7"), Some(&7));
    let (_, list) = http("GET", &addr, "/connectors");
    assert_eq!(json(&list), serde_json::json!([name, format!("{id}_seed")]));
    // Written next to the connector files, as given.
    let persisted = std::fs::read_to_string(dir.join(format!("{name}.properties"))).expect("persisted file");
    assert!(persisted.contains("value.n"), "{persisted}");

    // The same name again: 409. An invalid config: 400 naming every problem.
    let (code, body) = http_with("POST", &addr, "/connectors", &[], &post);
    assert_eq!(code, 409, "{body}");
    assert_eq!(json(&body)["error_code"], 409);
    let mut bad = config.clone();
    bad["port"] = "many".into();
    bad[&mapping_key] = "k=key, n=value.n, x=value.x".into();
    let bad_post = serde_json::json!({"name": format!("{id}_bad"), "config": bad}).to_string();
    let (code, body) = http_with("POST", &addr, "/connectors", &[], &bad_post);
    assert_eq!(code, 400, "{body}");
    let message = json(&body)["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("Invalid value many for configuration port"), "{message}");
    assert_eq!(http("GET", &addr, &format!("/connectors/{id}_bad")).0, 404, "nothing was created");
    // Schema problems are found before anything runs too.
    let mut unknown_column = config.clone();
    unknown_column[&mapping_key] = "k=key, n=value.n, x=value.x".into();
    let body = serde_json::json!({"name": format!("{id}_bad"), "config": unknown_column}).to_string();
    let (code, body) = http_with("POST", &addr, "/connectors", &[], &body);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("The following columns do not exist in table t: x"), "{body}");
    let (code, body) = http_with("POST", &addr, "/connectors", &[], r#"{"config": {}}"#);
    assert_eq!((code, json(&body)["message"].clone()), (400, "Connector name is required".into()));
    assert_eq!(http_with("POST", &addr, "/connectors", &[], "{not json").0, 400);

    // PUT: replaced (200) and restarted; new records follow the new mapping.
    let mut replaced = config.clone();
    replaced[&mapping_key] = "k=key, n=value.m".into();
    let (code, body) = http_with("PUT", &addr, &format!("/connectors/{name}/config"), &[], &replaced.to_string());
    assert_eq!(code, 200, "{body}\n{}", sink.log());
    assert_eq!(json(&body)["config"][&mapping_key], "k=key, n=value.m");
    let (_, shown) = http("GET", &addr, &format!("/connectors/{name}/config"));
    assert_eq!(json(&shown)["name"], name.as_str(), "the name is part of the config");
    wait_state(&addr, &name, "RUNNING", Duration::from_secs(30)).await;
    produce(&topic, &batch(20, 40)).await;
    assert_eq!(wait_for_count(s, &table, 40, Duration::from_secs(60)).await, 40, "{}", sink.log());
    let written = rows(s, &table).await;
    assert_eq!(written.get("k7"), Some(&7), "older rows keep the old mapping");
    assert_eq!(written.get("k25"), Some(&1025), "new rows follow the new mapping");
    let persisted = std::fs::read_to_string(dir.join(format!("{name}.properties"))).expect("persisted file");
    assert!(persisted.contains("value.m") && !persisted.contains("value.n"), "{persisted}");
    // A name in the body must be the one in the URL.
    let mut other = replaced.clone();
    other["name"] = "someone-else".into();
    let (code, _) = http_with("PUT", &addr, &format!("/connectors/{name}/config"), &[], &other.to_string());
    assert_eq!(code, 400);

    // Restarts: the connector and its task (one run), then Connect's 202 form.
    assert_eq!(http("POST", &addr, &format!("/connectors/{name}/restart")).0, 204);
    wait_state(&addr, &name, "RUNNING", Duration::from_secs(30)).await;
    assert_eq!(http("POST", &addr, &format!("/connectors/{name}/tasks/0/restart")).0, 204);
    assert_eq!(http("POST", &addr, &format!("/connectors/{name}/tasks/3/restart")).0, 404);
    let (code, body) = http("POST", &addr, &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=false"));
    assert_eq!(code, 202, "{body}");
    assert_eq!(json(&body)["tasks"][0]["state"], "RESTARTING", "{body}");
    let (code, body) = http("POST", &addr, &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"));
    assert_eq!(code, 202, "{body}");
    assert_ne!(json(&body)["connector"]["state"], "RESTARTING", "a running connector is not restarted: {body}");
    assert_eq!(http("POST", &addr, "/connectors/nope/restart").0, 404);
    wait_state(&addr, &name, "RUNNING", Duration::from_secs(30)).await;
    produce(&topic, &batch(40, 50)).await;
    assert_eq!(wait_for_count(s, &table, 50, Duration::from_secs(60)).await, 50, "{}", sink.log());
    assert_eq!(wait_committed(&format!("connect-{name}"), &topic, 2, 50, Duration::from_secs(30)).await, 50);

    // DELETE: stopped and gone; records produced afterwards are not consumed.
    assert_eq!(http("DELETE", &addr, &format!("/connectors/{name}")).0, 204, "{}", sink.log());
    assert_eq!(http("GET", &addr, &format!("/connectors/{name}/status")).0, 404);
    assert_eq!(http("DELETE", &addr, &format!("/connectors/{name}")).0, 404);
    let (_, list) = http("GET", &addr, "/connectors");
    assert_eq!(json(&list), serde_json::json!([format!("{id}_seed")]));
    produce(&topic, &batch(50, 60)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(count(s, &table).await, 50, "nothing is written after DELETE");
    assert_eq!(committed(&format!("connect-{name}"), &topic, 2).values().sum::<i64>(), 50);

    // PUT of an unknown name creates it (201).
    let created =
        connector_json(&format!("topics={other_topic}\ntopic.{other_topic}.{ks}.t.mapping=k=key, n=value.n\n"));
    let (code, body) = http_with("PUT", &addr, &format!("/connectors/{id}_c/config"), &[], &created.to_string());
    assert_eq!(code, 201, "{body}");
    wait_state(&addr, &format!("{id}_c"), "RUNNING", Duration::from_secs(30)).await;
    assert!(dir.join(format!("{id}_c.properties")).exists());

    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_validate_and_bearer_token() {
    let c = Case::new("restauth", KV).await;
    let (id, ks) = (&c.id, &c.ks);
    let topic = c.topic("", &[]).await;
    // The token comes through Kafka Connect's FileConfigProvider, like any secret.
    let secrets = c.dir.join("secrets.properties");
    std::fs::write(&secrets, "rest.token=t0ps3cret\n").unwrap();
    let worker = c.worker(&format!(
        "config.providers=file\nconfig.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n\
         rest.auth.token=${{file:{}:rest.token}}\n",
        secrets.display()
    ));
    let sink = Sink::start(&worker, &[&c.kv_connector(&topic)]);
    let addr = sink.rest();
    let right = [("Authorization", "Bearer t0ps3cret")];

    // Open: /health. Everything else: 401 without the token or with a wrong one.
    assert_eq!(http("GET", &addr, "/health").0, 200);
    let (code, body) = http("GET", &addr, "/connectors");
    assert_eq!(code, 401, "{body}");
    assert_eq!(json(&body)["error_code"], 401);
    assert_eq!(http_with("GET", &addr, "/connectors", &[("Authorization", "Bearer t0ps3cre")], "").0, 401);
    assert_eq!(http_with("GET", &addr, "/connectors", &[("Authorization", "Basic t0ps3cret")], "").0, 401);
    assert_eq!(http("GET", &addr, "/metrics").0, 401);
    assert_eq!(http("DELETE", &addr, &format!("/connectors/{id}")).0, 401);
    let (code, body) = http_with("GET", &addr, "/connectors", &right, "");
    assert_eq!((code, json(&body)), (200, serde_json::json!([id])));
    assert_eq!(http_with("GET", &addr, &format!("/connectors/{id}/status"), &right, "").0, 200);
    assert!(!sink.log().contains("t0ps3cret"), "the token never appears in the log");

    let validate = |class: &str, config: &serde_json::Value| {
        http_with("PUT", &addr, &format!("/connector-plugins/{class}/config/validate"), &right, &config.to_string())
    };
    let mapping_key = format!("topic.{topic}.{ks}.t.mapping");
    let good = connector_json(&format!(
        "name=v\ntopics={topic}\n{mapping_key}=k=key, n=value.n\nauth.username=cassandra\nauth.password=pw\n"
    ));
    let (code, body) = validate("com.datastax.oss.kafka.sink.CassandraSinkConnector", &good);
    assert_eq!(code, 200, "{body}");
    let infos = json(&body);
    assert_eq!(infos["error_count"], 0, "{body}");
    assert_eq!(infos["name"], "com.datastax.oss.kafka.sink.CassandraSinkConnector");
    let configs = infos["configs"].as_array().expect("configs").clone();
    let entry = |configs: &[serde_json::Value], key: &str| {
        configs.iter().find(|c| c["value"]["name"] == key).cloned().unwrap_or_else(|| panic!("no {key} in {configs:?}"))
    };
    assert_eq!(entry(&configs, &mapping_key)["value"]["value"], "k=key, n=value.n");
    assert_eq!(entry(&configs, &mapping_key)["definition"]["name"], mapping_key.as_str());
    assert_eq!(entry(&configs, "auth.password")["value"]["value"], "[hidden]");

    // Settings problems, each under its key; then (settings valid) the live schema's.
    let mut bad = good.clone();
    bad["port"] = "many".into();
    bad.as_object_mut().map(|o| o.remove("name"));
    let (code, body) = validate("CassandraSinkConnector", &bad);
    assert_eq!(code, 200, "{body}");
    let infos = json(&body);
    assert!(infos["error_count"].as_u64().unwrap_or(0) >= 2, "{body}");
    let configs = infos["configs"].as_array().expect("configs").clone();
    let errors = |key: &str| entry(&configs, key)["value"]["errors"].to_string();
    assert!(errors("port").contains("Invalid value many for configuration port"), "{body}");
    assert!(errors("name").contains("Missing required configuration"), "{body}");
    let mut schema = good.clone();
    schema[&mapping_key] = "n=value.n, x=value.x".into();
    let (_, body) = validate("CassandraSinkConnector", &schema);
    let infos = json(&body);
    assert_eq!(infos["error_count"], 2, "{body}");
    let configs = infos["configs"].as_array().expect("configs").clone();
    let mapping_errors = entry(&configs, &mapping_key)["value"]["errors"].to_string();
    assert!(mapping_errors.contains("The following columns do not exist in table t: x"), "{body}");
    assert!(mapping_errors.contains("part of the primary key but are not mapped: k"), "{body}");
    assert_eq!(validate("org.example.OtherConnector", &good).0, 404);
    let (code, _) = http("PUT", &addr, "/connector-plugins/CassandraSinkConnector/config/validate");
    assert_eq!(code, 401, "validation needs the token too");

    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_connector_stays_failed_and_is_restarted_through_rest() {
    let c = Case::new("restfail", &[]).await;
    let (id, ks, s) = (&c.id, &c.ks, &c.s);
    let topic = c.topic("", &[Rec::kv("k0", r#"{"n":0}"#).ts(TS)]).await;
    // The table does not exist yet: the connector fails at start; the process stays up.
    let sink = Sink::start(&c.worker("exit.on.connector.failure=false\n"), &[&c.kv_connector(&topic)]);
    let addr = sink.rest();
    let status = wait_state(&addr, id, "FAILED", Duration::from_secs(60)).await;
    assert!(status["tasks"][0]["trace"].to_string().contains("Table t does not exist"), "{status}");
    assert_eq!(http("GET", &addr, "/ready").0, 503);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(http("GET", &addr, "/health").0, 200, "the process keeps running");
    assert!(sink.log().contains("stays FAILED until it is restarted"), "{}", sink.log());

    // The table is created; a restart of the FAILED connector (Connect's onlyFailed form) runs it.
    cql(s, &format!("CREATE TABLE {ks}.t (k text PRIMARY KEY, n int)")).await;
    let (code, body) = http("POST", &addr, &format!("/connectors/{id}/restart?includeTasks=true&onlyFailed=true"));
    assert_eq!(code, 202, "{body}");
    assert_eq!(json(&body)["connector"]["state"], "RESTARTING", "{body}");
    wait_state(&addr, id, "RUNNING", Duration::from_secs(60)).await;
    produce(&topic, &[Rec::kv("k1", r#"{"n":1}"#).ts(TS)]).await;
    assert_eq!(wait_for_count(s, &format!("{ks}.t"), 2, Duration::from_secs(60)).await, 2, "{}", sink.log());
    assert_eq!(http("GET", &addr, "/ready").0, 200);

    let (status, log) = sink.stop();
    assert!(status.success(), "{log}");
}
