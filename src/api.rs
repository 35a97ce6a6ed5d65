//! The subset of Kafka Connect's REST API that Connect users script against, plus `/metrics`
//! (Prometheus text), `/health` (liveness, no I/O), `/ready` (every connector running) and `/ui`
//! (a status page).
//!
//! Response shapes, status codes and error bodies (`{"error_code": N, "message": ".."}`) follow
//! Kafka Connect's, so existing scripts and dashboards keep working. Connectors can be created,
//! reconfigured, restarted and deleted here ([`crate::supervisor`] carries the changes out); in
//! standalone mode a change applies at once and is written back to the connector's file only when
//! the worker asks for it (`rest.config.persist=true`). With `rest.auth.token` set, every request
//! but `/health` and the static `/ui` page needs `Authorization: Bearer <token>`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::config::Properties;
use crate::engine::metrics::Metrics;
use crate::engine::status::State as RunState;
use crate::supervisor::{ChangeError, Connector, Supervisor};

/// What the API serves: the process's connectors and metrics.
pub struct ApiState {
    pub supervisor: Arc<Supervisor>,
    pub metrics: Arc<Metrics>,
    /// `host:port` this worker is reachable at, as Connect reports `worker_id`.
    pub worker_id: String,
    /// `rest.auth.token`: the bearer token every request but `/health` and `/ui` must carry.
    pub auth_token: Option<String>,
}

/// The status page: one static file, no build step; it polls this API.
const UI: &str = include_str!("ui.html");

pub const CONNECTOR_CLASS: &str = "com.datastax.oss.kafka.sink.CassandraSinkConnector";

/// The names the plugin answers to in `/connector-plugins/{class}/...`: the class, its simple
/// name and its alias (as Connect accepts them), and the older DSE class.
const PLUGIN_NAMES: [&str; 5] = [
    CONNECTOR_CLASS,
    "CassandraSinkConnector",
    "CassandraSink",
    "com.datastax.kafkaconnector.DseSinkConnector",
    "DseSinkConnector",
];

/// `listeners=http://host:port[,...]` → the first address; Connect's default port is 8083.
pub fn listener_address(listeners: Option<&str>) -> Result<SocketAddr, String> {
    let first = listeners.and_then(|l| l.split(',').map(str::trim).find(|s| !s.is_empty()));
    let Some(first) = first else { return Ok(SocketAddr::from(([127, 0, 0, 1], 8083))) };
    let rest = first.strip_prefix("http://").ok_or_else(|| {
        format!("Invalid value {first} for configuration listeners: only http:// listeners are supported")
    })?;
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "8083"));
    let host = match host.trim_start_matches('[').trim_end_matches(']') {
        // Connect binds every interface for an empty host; here the safe default is loopback.
        "" | "localhost" => "127.0.0.1",
        h => h,
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("Invalid value {first} for configuration listeners: the port must be a number"))?;
    let ip: std::net::IpAddr = host.parse().map_err(|_| {
        format!("Invalid value {first} for configuration listeners: the host must be an IP address or localhost")
    })?;
    Ok(SocketAddr::new(ip, port))
}

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/connector-plugins", get(plugins))
        .route("/connector-plugins/{class}/config/validate", put(validate))
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(info).delete(delete))
        .route("/connectors/{name}/config", get(config).put(put_config))
        .route("/connectors/{name}/status", get(status))
        .route("/connectors/{name}/topics", get(topics))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .route("/connectors/{name}/restart", post(restart))
        .route("/connectors/{name}/tasks/{task}/restart", post(restart_task))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), authorize))
        // Open: liveness probes carry no token, and the page is static (it sends the token itself).
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/ui", get(|| async { axum::response::Html(UI) }))
        .with_state(state)
}

fn error(code: StatusCode, message: impl Into<String>) -> Response {
    (code, Json(json!({"error_code": code.as_u16(), "message": message.into()}))).into_response()
}

/// A refused request, answered as Connect answers errors.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

fn not_found(name: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("Connector {name} not found"))
}

/// `Authorization: Bearer <token>`, compared in constant time (digests of equal length, so the
/// comparison does not reveal the token's length either).
async fn authorize(State(state): State<Arc<ApiState>>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.auth_token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        if !given.is_some_and(|g| same_secret(g, token)) {
            let mut response = error(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(request).await
}

fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (openssl::sha::sha256(given.as_bytes()), openssl::sha::sha256(expected.as_bytes()));
    openssl::memcmp::eq(&a, &b)
}

/// Settings whose values are secrets (passwords, private keys, inline `base64:` key material) are
/// never shown.
fn shown_config(props: &Properties) -> BTreeMap<String, String> {
    props.iter().map(|(k, v)| (k.to_string(), shown_value(k, v))).collect()
}

fn shown_value(key: &str, value: &str) -> String {
    let lower = key.to_ascii_lowercase();
    let secret = lower.contains("password")
        || lower.contains("secret")
        || lower.contains("privatekey")
        || lower.ends_with("jaas.config")
        || crate::config::kafka_security::is_secret_kafka_key(key)
        || value.trim_start().starts_with("base64:");
    if secret { "[hidden]".to_string() } else { value.to_string() }
}

/// A request body that must be a JSON object of settings (strings; numbers and booleans are taken
/// as their text, as Connect's JSON reader does; `null` means absent).
fn settings_object(value: &Value, what: &str) -> Result<Properties, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("{what} must be a JSON object of settings")));
    };
    let mut pairs = Vec::new();
    for (k, v) in map {
        match v {
            Value::String(s) => pairs.push((k.clone(), s.clone())),
            Value::Number(n) => pairs.push((k.clone(), n.to_string())),
            Value::Bool(b) => pairs.push((k.clone(), b.to_string())),
            Value::Null => {}
            _ => {
                return Err(ApiError(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid value {v} for configuration {k}: settings must be strings, numbers or booleans"),
                ));
            }
        }
    }
    Ok(Properties::from_pairs(pairs))
}

fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("the request body is not valid JSON: {e}")))
}

/// Connect's rule: a `name` in the config must be the connector's name; a missing one is added.
fn with_name(mut props: Properties, name: &str) -> Result<Properties, ApiError> {
    match props.get("name").map(str::trim) {
        Some(n) if n != name => Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("Connector name configuration ({n}) doesn't match connector name in the URL ({name})"),
        )),
        _ => {
            props.insert("name", name);
            Ok(props)
        }
    }
}

fn change_error(e: ChangeError) -> Response {
    match e {
        ChangeError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        ChangeError::Conflict(m) => error(StatusCode::CONFLICT, m),
        ChangeError::BadRequest(m) => error(StatusCode::BAD_REQUEST, m),
        ChangeError::Persist(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
        ChangeError::Invalid(problems) => error(
            StatusCode::BAD_REQUEST,
            format!(
                "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find \
                 the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
                problems.len(),
                problems.join("\n")
            ),
        ),
    }
}

fn connector_info(c: &Connector) -> Value {
    json!({
        "name": c.name,
        "config": shown_config(&c.config),
        "tasks": [{"connector": c.name, "task": 0}],
        "type": "sink",
    })
}

async fn root() -> Json<Value> {
    Json(json!({"version": env!("CARGO_PKG_VERSION"), "commit": "", "kafka_cluster_id": null}))
}

async fn ready(State(state): State<Arc<ApiState>>) -> Response {
    let not_running: Vec<String> = state
        .supervisor
        .list()
        .iter()
        .filter(|c| !matches!(c.status.snapshot().state, RunState::Running | RunState::Paused))
        .map(|c| c.name.clone())
        .collect();
    if not_running.is_empty() {
        Json(json!({"status": "ready"})).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "not ready", "connectors": not_running})))
            .into_response()
    }
}

async fn metrics(State(state): State<Arc<ApiState>>) -> Response {
    ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], state.metrics.encode()).into_response()
}

async fn plugins() -> Json<Value> {
    Json(json!([{"class": CONNECTOR_CLASS, "type": "sink", "version": env!("CARGO_PKG_VERSION")}]))
}

async fn list(State(state): State<Arc<ApiState>>) -> Json<Value> {
    Json(json!(state.supervisor.list().iter().map(|c| c.name.clone()).collect::<Vec<_>>()))
}

async fn info(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match state.supervisor.get(&name) {
        Some(c) => Json(connector_info(&c)).into_response(),
        None => not_found(&name),
    }
}

async fn config(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match state.supervisor.get(&name) {
        Some(c) => Json(json!(shown_config(&c.config))).into_response(),
        None => not_found(&name),
    }
}

fn status_body(state: &ApiState, c: &Connector, restarting: bool) -> Value {
    let s = c.status.snapshot();
    let shown = if restarting { "RESTARTING" } else { s.state.as_str() };
    let mut task = json!({"id": 0, "state": shown, "worker_id": state.worker_id});
    if let Some(trace) = &s.trace {
        task["trace"] = json!(trace);
    }
    let assigned: Vec<String> = s.assigned.iter().map(|tp| format!("{}-{}", tp.topic, tp.partition)).collect();
    json!({
        "name": c.name,
        "connector": {"state": shown, "worker_id": state.worker_id},
        "tasks": [task],
        "type": "sink",
        "assigned_partitions": assigned,
        "records_received": s.records,
        // Partitions held at a record no policy tolerates (nothing after it is committed).
        "held_partitions": s.held.iter().map(|h| json!({
            "topic": &*h.tp.topic,
            "partition": h.tp.partition,
            "offset": h.offset,
            "reason": h.reason,
        })).collect::<Vec<_>>(),
    })
}

async fn status(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match state.supervisor.get(&name) {
        Some(c) => Json(status_body(&state, &c, false)).into_response(),
        None => not_found(&name),
    }
}

async fn topics(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match state.supervisor.get(&name) {
        Some(c) => Json(json!({ c.name.clone(): {"topics": c.topics} })).into_response(),
        None => not_found(&name),
    }
}

async fn pause(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match state.supervisor.get(&name) {
        Some(c) => {
            c.status.set_paused(true);
            StatusCode::ACCEPTED.into_response()
        }
        None => not_found(&name),
    }
}

async fn resume(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match state.supervisor.get(&name) {
        Some(c) => {
            c.status.set_paused(false);
            StatusCode::ACCEPTED.into_response()
        }
        None => not_found(&name),
    }
}

/// `POST /connectors` with `{"name": .., "config": {..}}`: 201 and the connector's info.
async fn create(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let name = match body.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return error(StatusCode::BAD_REQUEST, "Connector name is required");
        }
        Some(other) => return error(StatusCode::BAD_REQUEST, format!("Connector name must be a string, not {other}")),
    };
    let Some(config) = body.get("config") else {
        return error(StatusCode::BAD_REQUEST, "Connector config is required");
    };
    let props = match settings_object(config, "\"config\"").and_then(|p| with_name(p, &name)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match state.supervisor.create(props).await {
        Ok(c) => {
            (StatusCode::CREATED, [(header::LOCATION, format!("/connectors/{}", c.name))], Json(connector_info(&c)))
                .into_response()
        }
        Err(e) => change_error(e),
    }
}

/// `PUT /connectors/{name}/config` with the settings: 201 when created, 200 when replaced (the
/// connector restarts with the new settings).
async fn put_config(State(state): State<Arc<ApiState>>, Path(name): Path<String>, body: Bytes) -> Response {
    let props = match json_body(&body)
        .and_then(|b| settings_object(&b, "the connector configuration"))
        .and_then(|p| with_name(p, &name))
    {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match state.supervisor.put(props).await {
        Ok((c, created)) => {
            let code = if created { StatusCode::CREATED } else { StatusCode::OK };
            (code, Json(connector_info(&c))).into_response()
        }
        Err(e) => change_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestartQuery {
    #[serde(default)]
    include_tasks: bool,
    #[serde(default)]
    only_failed: bool,
}

/// `POST /connectors/{name}/restart[?includeTasks=..&onlyFailed=..]`. As in Connect: without
/// either flag, 204 once restarted; with one, 202 and the status with `RESTARTING` where a restart
/// was started (the connector and its one task are one run here, so they restart together).
async fn restart(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    query: Result<Query<RestartQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return error(StatusCode::BAD_REQUEST, "includeTasks and onlyFailed must be true or false");
    };
    if !q.include_tasks && !q.only_failed {
        return match state.supervisor.restart(&name, false).await {
            Ok(_) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => change_error(e),
        };
    }
    let Some(c) = state.supervisor.get(&name) else { return not_found(&name) };
    let restarting = !q.only_failed || c.status.snapshot().state == RunState::Failed;
    let body = status_body(&state, &c, restarting);
    if restarting {
        let supervisor = state.supervisor.clone();
        tokio::spawn(async move {
            if let Err(e) = supervisor.restart(&name, q.only_failed).await {
                tracing::warn!(connector = %name, "restart failed: {e:?}");
            }
        });
    }
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// `POST /connectors/{name}/tasks/{task}/restart`: the one task (0) is the connector's run.
async fn restart_task(State(state): State<Arc<ApiState>>, Path((name, task)): Path<(String, String)>) -> Response {
    if state.supervisor.get(&name).is_none() {
        return not_found(&name);
    }
    if task != "0" {
        return error(StatusCode::NOT_FOUND, format!("Task {name}-{task} not found"));
    }
    match state.supervisor.restart(&name, false).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => change_error(e),
    }
}

async fn delete(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match state.supervisor.delete(&name).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => change_error(e),
    }
}

/// `PUT /connector-plugins/{class}/config/validate`: the settings check, then (when the settings
/// are valid) the live-schema check, answered as Connect's `ConfigInfos`.
async fn validate(State(state): State<Arc<ApiState>>, Path(class): Path<String>, body: Bytes) -> Response {
    if !PLUGIN_NAMES.contains(&class.as_str()) {
        return error(
            StatusCode::NOT_FOUND,
            format!("Unknown connector plugin {class}; this worker runs {CONNECTOR_CLASS}"),
        );
    }
    let props = match json_body(&body).and_then(|b| settings_object(&b, "the connector configuration")) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if let Some(given) = props.get("connector.class")
        && !PLUGIN_NAMES.contains(&given.trim())
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Included connector type {given} does not match request type {class}"),
        );
    }
    let problems = match state.supervisor.check(&props, true).await {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    };
    Json(config_infos(&props, &problems)).into_response()
}

/// Connect's `ConfigInfos`: one entry per setting (the posted ones, and any a problem names), each
/// problem under the setting it names.
fn config_infos(props: &Properties, problems: &[String]) -> Value {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in problems {
        errors.entry(problem_key(p, props)).or_default().push(p.clone());
    }
    let keys: BTreeSet<String> = props.iter().map(|(k, _)| k.to_string()).chain(errors.keys().cloned()).collect();
    let common = ["name", "connector.class", "tasks.max", "topics", "topics.regex"];
    let configs: Vec<Value> = keys
        .iter()
        .map(|k| {
            let value = props.get(k).map(|v| shown_value(k, v));
            json!({
                "definition": {
                    "name": k,
                    "type": "STRING",
                    "required": k == "name",
                    "default_value": null,
                    "importance": if common.contains(&k.as_str()) { "HIGH" } else { "MEDIUM" },
                    "documentation": "",
                    "group": if common.contains(&k.as_str()) { json!("Common") } else { Value::Null },
                    "width": "NONE",
                    "display_name": k,
                    "dependents": [],
                    "order": -1,
                },
                "value": {
                    "name": k,
                    "value": value,
                    "recommended_values": [],
                    "errors": errors.get(k).cloned().unwrap_or_default(),
                    "visible": true,
                },
            })
        })
        .collect();
    json!({
        "name": CONNECTOR_CLASS,
        "error_count": problems.len(),
        "groups": ["Common"],
        "configs": configs,
    })
}

/// The setting a problem is about: the one its text names (`... for configuration KEY: ...`,
/// `Missing required configuration "KEY"`, a table's `topic.T.KS.TB:` prefix), else the longest
/// posted key it mentions, else `connector.class` (the connector as a whole).
fn problem_key(problem: &str, props: &Properties) -> String {
    if let Some(rest) = problem.split(" for configuration ").nth(1)
        && let Some((key, _)) = rest.split_once(':')
        && !key.contains(' ')
    {
        return key.to_string();
    }
    if let Some(rest) = problem.strip_prefix("Missing required configuration \"")
        && let Some((key, _)) = rest.split_once('"')
    {
        return key.to_string();
    }
    if let Some((prefix, _)) = problem.split_once(": ")
        && prefix.starts_with("topic.")
        && !prefix.contains(' ')
    {
        let mapping = format!("{prefix}.mapping");
        return if props.get(&mapping).is_some() { mapping } else { prefix.to_string() };
    }
    let mentioned = props
        .iter()
        .map(|(k, _)| k)
        .filter(|k| {
            problem.match_indices(k).any(|(i, _)| {
                let before = problem[..i].chars().next_back();
                let after = problem[i + k.len()..].chars().next();
                let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '.' || c == '_'));
                edge(before) && edge(after)
            })
        })
        .max_by_key(|k| k.len());
    mentioned.unwrap_or("connector.class").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners() {
        assert_eq!(listener_address(None).unwrap(), "127.0.0.1:8083".parse().unwrap());
        assert_eq!(listener_address(Some("http://:8084")).unwrap(), "127.0.0.1:8084".parse().unwrap());
        assert_eq!(listener_address(Some("http://0.0.0.0:9000,http://x:1")).unwrap(), "0.0.0.0:9000".parse().unwrap());
        assert_eq!(listener_address(Some("http://localhost:0")).unwrap(), "127.0.0.1:0".parse().unwrap());
        assert!(listener_address(Some("https://h:1")).unwrap_err().contains("only http://"));
        assert!(listener_address(Some("http://h:port")).is_err());
    }

    #[test]
    fn secrets_are_hidden() {
        let p = Properties::from_pairs([
            ("auth.password", "s3cret"),
            ("auth.username", "bob"),
            ("ssl.openssl.privateKey", "/etc/keys/client.key"),
            ("ssl.keystore.path", "base64:MIIK..."),
            ("consumer.ssl.keystore.key", "-----BEGIN PRIVATE KEY-----"),
        ]);
        let shown = shown_config(&p);
        assert_eq!(shown["consumer.ssl.keystore.key"], "[hidden]");
        assert_eq!(shown["auth.password"], "[hidden]");
        assert_eq!(shown["ssl.openssl.privateKey"], "[hidden]");
        assert_eq!(shown["ssl.keystore.path"], "[hidden]");
        assert_eq!(shown["auth.username"], "bob");
    }

    #[test]
    fn tokens_compare_by_content() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }

    #[test]
    fn problems_land_on_the_setting_they_name() {
        let p = Properties::from_pairs([
            ("topics", "a"),
            ("topic.a.ks.t.mapping", "k=key"),
            ("contactPoints", "h:x"),
            ("port", "99999"),
        ]);
        let key = |problem: &str| problem_key(problem, &p);
        assert_eq!(key("Invalid value 99999 for configuration port: Value must be at most 65535"), "port");
        assert_eq!(key("Missing required configuration \"name\" which has no default value."), "name");
        assert_eq!(key("Invalid value 'k=key' for configuration topic.a.ks.t.mapping: bad"), "topic.a.ks.t.mapping");
        assert_eq!(key("topic.a.ks.t: Table t does not exist."), "topic.a.ks.t.mapping");
        assert_eq!(key("Incorrect contactPoints: h:x"), "contactPoints");
        assert_eq!(key("Topic b must have at least one table configuration"), "connector.class");
    }

    #[test]
    fn config_infos_count_and_place_errors() {
        let p = Properties::from_pairs([("port", "99999"), ("auth.password", "pw")]);
        let problems = vec![
            "Invalid value 99999 for configuration port: Value must be at most 65535".to_string(),
            "Missing required configuration \"name\" which has no default value.".to_string(),
        ];
        let infos = config_infos(&p, &problems);
        assert_eq!(infos["error_count"], 2);
        assert_eq!(infos["name"], CONNECTOR_CLASS);
        let configs = infos["configs"].as_array().unwrap();
        let by = |k: &str| configs.iter().find(|c| c["value"]["name"] == k).unwrap().clone();
        assert_eq!(by("port")["value"]["errors"][0], problems[0].as_str());
        assert_eq!(by("port")["definition"]["name"], "port");
        assert_eq!(by("name")["value"]["value"], Value::Null);
        assert_eq!(by("name")["value"]["errors"].as_array().map(Vec::len), Some(1));
        assert_eq!(by("auth.password")["value"]["value"], "[hidden]");
        assert_eq!(by("auth.password")["value"]["errors"], json!([]));
    }
}
