//! The subset of Kafka Connect's REST API that Connect users script against, plus `/metrics`
//! (Prometheus text), `/health` (liveness, no I/O), `/ready` (every connector running) and `/ui`
//! (a status page).
//!
//! Response shapes follow Kafka Connect's, so existing scripts and dashboards keep working.
//! Configuration is read-only here: the files given to `standalone` are the source of truth.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};

use crate::config::Properties;
use crate::engine::metrics::Metrics;
use crate::engine::status::{ConnectorStatus, State as RunState};

/// One connector as the API sees it.
pub struct ConnectorEntry {
    pub name: String,
    pub config: Properties,
    pub topics: Vec<String>,
    pub status: Arc<ConnectorStatus>,
}

/// What the API serves: the process's connectors and metrics.
pub struct ApiState {
    pub connectors: Vec<ConnectorEntry>,
    pub metrics: Arc<Metrics>,
    /// `host:port` this worker is reachable at, as Connect reports `worker_id`.
    pub worker_id: String,
}

/// The status page: one static file, no build step; it polls this API.
const UI: &str = include_str!("ui.html");

pub const CONNECTOR_CLASS: &str = "com.datastax.oss.kafka.sink.CassandraSinkConnector";

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
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/ui", get(|| async { axum::response::Html(UI) }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/connector-plugins", get(plugins))
        .route("/connectors", get(list))
        .route("/connectors/{name}", get(info))
        .route("/connectors/{name}/config", get(config))
        .route("/connectors/{name}/status", get(status))
        .route("/connectors/{name}/topics", get(topics))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .with_state(state)
}

fn not_found(name: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error_code": 404, "message": format!("Connector {name} not found")})))
        .into_response()
}

fn find<'a>(state: &'a ApiState, name: &str) -> Option<&'a ConnectorEntry> {
    state.connectors.iter().find(|c| c.name == name)
}

/// Settings whose values are secrets (passwords, private keys, inline `base64:` key material) are
/// never shown.
fn shown_config(props: &Properties) -> BTreeMap<String, String> {
    props
        .iter()
        .map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let secret = lower.contains("password")
                || lower.contains("secret")
                || lower.contains("privatekey")
                || lower.ends_with("jaas.config")
                || v.trim_start().starts_with("base64:");
            (k.to_string(), if secret { "[hidden]".to_string() } else { v.to_string() })
        })
        .collect()
}

async fn root() -> Json<Value> {
    Json(json!({"version": env!("CARGO_PKG_VERSION"), "commit": "", "kafka_cluster_id": null}))
}

async fn ready(State(state): State<Arc<ApiState>>) -> Response {
    let not_running: Vec<String> = state
        .connectors
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
    Json(json!(state.connectors.iter().map(|c| c.name.clone()).collect::<Vec<_>>()))
}

async fn info(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    let Some(c) = find(&state, &name) else { return not_found(&name) };
    Json(json!({
        "name": c.name,
        "config": shown_config(&c.config),
        "tasks": [{"connector": c.name, "task": 0}],
        "type": "sink",
    }))
    .into_response()
}

async fn config(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match find(&state, &name) {
        Some(c) => Json(json!(shown_config(&c.config))).into_response(),
        None => not_found(&name),
    }
}

async fn status(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    let Some(c) = find(&state, &name) else { return not_found(&name) };
    let s = c.status.snapshot();
    let mut task = json!({"id": 0, "state": s.state.as_str(), "worker_id": state.worker_id});
    if let Some(trace) = &s.trace {
        task["trace"] = json!(trace);
    }
    let assigned: Vec<String> = s.assigned.iter().map(|tp| format!("{}-{}", tp.topic, tp.partition)).collect();
    Json(json!({
        "name": c.name,
        "connector": {"state": s.state.as_str(), "worker_id": state.worker_id},
        "tasks": [task],
        "type": "sink",
        "assigned_partitions": assigned,
        "records_received": s.records,
        // Partitions held at a record no policy tolerates (nothing after it is committed).
        "held_partitions": s.held.iter().map(|h| json!({
            "topic": h.tp.topic,
            "partition": h.tp.partition,
            "offset": h.offset,
            "reason": h.reason,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn topics(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match find(&state, &name) {
        Some(c) => Json(json!({ c.name.clone(): {"topics": c.topics} })).into_response(),
        None => not_found(&name),
    }
}

async fn pause(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match find(&state, &name) {
        Some(c) => {
            c.status.set_paused(true);
            StatusCode::ACCEPTED.into_response()
        }
        None => not_found(&name),
    }
}

async fn resume(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Response {
    match find(&state, &name) {
        Some(c) => {
            c.status.set_paused(false);
            StatusCode::ACCEPTED.into_response()
        }
        None => not_found(&name),
    }
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
        ]);
        let shown = shown_config(&p);
        assert_eq!(shown["auth.password"], "[hidden]");
        assert_eq!(shown["ssl.openssl.privateKey"], "[hidden]");
        assert_eq!(shown["ssl.keystore.path"], "[hidden]");
        assert_eq!(shown["auth.username"], "bob");
    }
}
