//! The connectors of a `standalone` process at run time: each one's settings (as written, for the
//! API and the files; resolved, for the run), its status, its stop switch and its task, so the
//! REST API can create, replace, restart and delete connectors while the process runs.
//!
//! Changes go through one lock, one at a time; reads (list, status, config) never wait for a change
//! in progress. Every connector's stop switch is a child of the process's shutdown token, so a
//! signal stops the connectors created over REST too. Stopping a connector is bounded: its run
//! finishes in-flight writes and commits (as at shutdown), and a run that outlasts the bound is
//! aborted, uncommitted work being written again by the next run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::connector::Subscription;
use crate::config::providers::Providers;
use crate::config::{ConnectorConfig, Properties, WorkerConfig};
use crate::engine::metrics::Metrics;
use crate::engine::status::{ConnectorStatus, State};
use crate::engine::{self, RunError, RunOptions};

/// What every connector of the process shares.
pub struct Settings {
    pub worker: WorkerConfig,
    /// The worker's config providers: they resolve `${env:..}`, `${file:..}` in posted configs too.
    pub providers: Providers,
    pub metrics: Arc<Metrics>,
    /// The process's shutdown token.
    pub shutdown: CancellationToken,
    /// `--until-end`: every connector, created over REST too, drains and stops.
    pub until_end: bool,
    /// When set, REST changes are written back: a connector's own file is rewritten, and a
    /// connector without a file gets `<name>.properties` in this directory.
    pub persist_dir: Option<PathBuf>,
    /// Bound on the live-schema check of a posted config.
    pub schema_check_timeout: Duration,
    /// Bound on stopping one connector (in-flight writes, commit, leaving the group).
    pub stop_timeout: Duration,
}

/// A connector's run ended.
pub struct Exit {
    pub name: String,
    pub result: Result<(), RunError>,
    /// Stopped through the API (restart, replace, delete), not by the process or a failure.
    pub requested: bool,
}

/// One run of a connector; a restart replaces it with a new one.
pub struct Connector {
    pub name: String,
    /// The settings as written (placeholders, not secrets).
    pub config: Properties,
    pub topics: Vec<String>,
    pub status: Arc<ConnectorStatus>,
    /// The file it is persisted to, if any.
    pub file: Option<PathBuf>,
    token: CancellationToken,
    finished: Arc<AtomicBool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Connector {
    /// Its run has ended (stopped, drained or failed).
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }
}

/// Why a change was refused, as the API answers it.
#[derive(Debug)]
pub enum ChangeError {
    NotFound(String),
    Conflict(String),
    /// The configuration's problems, each naming key and value.
    Invalid(Vec<String>),
    BadRequest(String),
    /// The change could not be written back to its file; nothing was changed.
    Persist(String),
}

pub struct Supervisor {
    settings: Settings,
    connectors: RwLock<BTreeMap<String, Arc<Connector>>>,
    changes: tokio::sync::Mutex<()>,
    exits: mpsc::UnboundedSender<Exit>,
}

impl Supervisor {
    /// The supervisor and the stream of ended runs, which the process watches.
    pub fn new(settings: Settings) -> (Arc<Supervisor>, mpsc::UnboundedReceiver<Exit>) {
        let (exits, rx) = mpsc::unbounded_channel();
        let s = Supervisor { settings, connectors: RwLock::new(BTreeMap::new()), changes: Default::default(), exits };
        (Arc::new(s), rx)
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.settings.metrics
    }

    pub fn list(&self) -> Vec<Arc<Connector>> {
        self.read().values().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<Connector>> {
        self.read().get(name).cloned()
    }

    /// Every connector's run has ended (for `--until-end`: the process is done).
    pub fn all_finished(&self) -> bool {
        self.read().values().all(|c| c.finished())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Connector>>> {
        self.connectors.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Connector>>> {
        self.connectors.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a connector read from a file at start-up (already validated).
    pub fn start_loaded(&self, cfg: ConnectorConfig, raw: Properties, file: Option<PathBuf>) -> Arc<Connector> {
        let c = self.spawn(cfg, raw, file);
        self.write().insert(c.name.clone(), c.clone());
        c
    }

    fn spawn(&self, cfg: ConnectorConfig, raw: Properties, file: Option<PathBuf>) -> Arc<Connector> {
        let status = Arc::new(ConnectorStatus::default());
        let topics = match &cfg.subscription {
            Subscription::Topics(t) => t.clone(),
            Subscription::Regex(_) => cfg.tables.iter().map(|t| t.topic.clone()).collect(),
        };
        let token = self.settings.shutdown.child_token();
        let finished = Arc::new(AtomicBool::new(false));
        let options = RunOptions {
            metrics: self.settings.metrics.clone(),
            status: status.clone(),
            until_end: self.settings.until_end,
            ..RunOptions::default()
        };
        let name = cfg.name.clone();
        let run = engine::run(cfg, self.settings.worker.clone(), token.clone(), options);
        let (exits, shutdown, done) = (self.exits.clone(), self.settings.shutdown.clone(), finished.clone());
        let (task_name, task_token, task_status) = (name.clone(), token.clone(), status.clone());
        let task = tokio::spawn(async move {
            let result = match std::panic::AssertUnwindSafe(run).catch_unwind().await {
                Ok(r) => r,
                Err(_) => {
                    let reason = "the connector's task ended abnormally (panic)".to_string();
                    task_status.fail(reason.clone());
                    Err(RunError::Failed { name: task_name.clone(), reason })
                }
            };
            done.store(true, Ordering::SeqCst);
            let requested = task_token.is_cancelled() && !shutdown.is_cancelled();
            let _ = exits.send(Exit { name: task_name, result, requested });
        });
        Arc::new(Connector { name, config: raw, topics, status, file, token, finished, task: Mutex::new(Some(task)) })
    }

    /// Stops one run: its stop switch, then its task, within the bound (then it is aborted).
    async fn stop(&self, c: &Connector) {
        c.token.cancel();
        let task = c.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(mut task) = task else { return };
        match tokio::time::timeout(self.settings.stop_timeout, &mut task).await {
            Ok(_) => {}
            Err(_) => {
                warn!(
                    connector = %c.name,
                    "the connector did not stop within {:?}; aborting it (uncommitted records are written again)",
                    self.settings.stop_timeout
                );
                task.abort();
                let _ = task.await;
                c.status.set_state(State::Stopped);
            }
        }
    }

    /// Waits for every run to end (after the process's shutdown token was cancelled).
    pub async fn join_all(&self) {
        let tasks: Vec<JoinHandle<()>> =
            self.list().iter().filter_map(|c| c.task.lock().unwrap_or_else(|e| e.into_inner()).take()).collect();
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Settings check (resolved through the config providers), then, when `schema` is set and
    /// the settings are valid, the live-schema check with its bound. `Err`: every problem.
    pub async fn check(&self, raw: &Properties, schema: bool) -> Result<ConnectorConfig, Vec<String>> {
        let resolved = self.settings.providers.resolve(raw).map_err(|e| e.problems)?;
        let cfg = ConnectorConfig::from_properties(&resolved).map_err(|e| e.problems)?;
        if schema {
            match tokio::time::timeout(self.settings.schema_check_timeout, engine::validate(&cfg)).await {
                Ok(Ok(_)) => {}
                Ok(Err(problems)) => return Err(problems),
                Err(_) => {
                    return Err(vec![format!(
                        "the table schemas could not be checked within {:?}: Cassandra did not answer",
                        self.settings.schema_check_timeout
                    )]);
                }
            }
        }
        Ok(cfg)
    }

    /// `POST /connectors`: a new connector, started at once.
    pub async fn create(&self, raw: Properties) -> Result<Arc<Connector>, ChangeError> {
        let _change = self.changes.lock().await;
        let name = checked_name(&raw)?;
        if self.get(&name).is_some() {
            return Err(ChangeError::Conflict(format!("Connector {name} already exists")));
        }
        let cfg = self.check(&raw, true).await.map_err(ChangeError::Invalid)?;
        let file = self.persist(&name, &raw, None)?;
        info!(connector = %name, "connector created through the REST API");
        Ok(self.start_loaded(cfg, raw, file))
    }

    /// `PUT /connectors/{name}/config`: creates the connector (`true`) or replaces its config
    /// and restarts it (`false`).
    pub async fn put(&self, raw: Properties) -> Result<(Arc<Connector>, bool), ChangeError> {
        let _change = self.changes.lock().await;
        let name = checked_name(&raw)?;
        let cfg = self.check(&raw, true).await.map_err(ChangeError::Invalid)?;
        let old = self.get(&name);
        let file = self.persist(&name, &raw, old.as_ref().and_then(|o| o.file.as_deref()))?;
        if let Some(old) = &old {
            info!(connector = %name, "connector configuration replaced through the REST API; restarting it");
            self.stop(old).await;
        } else {
            info!(connector = %name, "connector created through the REST API");
        }
        Ok((self.start_loaded(cfg, raw, file), old.is_none()))
    }

    /// Restarts a connector with its current config; with `only_failed`, only a FAILED one.
    /// `Ok(false)`: nothing to restart.
    pub async fn restart(&self, name: &str, only_failed: bool) -> Result<bool, ChangeError> {
        let _change = self.changes.lock().await;
        let Some(old) = self.get(name) else { return Err(not_found(name)) };
        if only_failed && old.status.snapshot().state != State::Failed {
            return Ok(false);
        }
        // The config was valid when it started; the schema may have changed since, and the
        // run's start-up check reports that as its failure.
        let cfg = self.check(&old.config, false).await.map_err(ChangeError::Invalid)?;
        info!(connector = %name, "restarting the connector (REST API)");
        self.stop(&old).await;
        self.start_loaded(cfg, old.config.clone(), old.file.clone());
        Ok(true)
    }

    /// `DELETE /connectors/{name}`: stops it and forgets it (its file, if any, is left alone).
    pub async fn delete(&self, name: &str) -> Result<(), ChangeError> {
        let _change = self.changes.lock().await;
        let Some(old) = self.get(name) else { return Err(not_found(name)) };
        info!(connector = %name, "deleting the connector (REST API)");
        self.stop(&old).await;
        self.write().remove(name);
        Ok(())
    }

    /// Writes the config back when persistence is on: to `file` when the connector has one,
    /// else to `<name>.properties` in the persistence directory. The file it now lives in.
    fn persist(&self, name: &str, raw: &Properties, file: Option<&Path>) -> Result<Option<PathBuf>, ChangeError> {
        let Some(dir) = &self.settings.persist_dir else { return Ok(file.map(Path::to_path_buf)) };
        let (path, fresh) = match file {
            Some(f) => (f.to_path_buf(), false),
            None => (dir.join(format!("{name}.properties")), true),
        };
        if fresh && path.exists() {
            return Err(ChangeError::Conflict(format!(
                "cannot write connector {name} to {}: a file of that name already exists",
                path.display()
            )));
        }
        write_config(&path, name, raw)
            .map_err(|e| ChangeError::Persist(format!("cannot write connector {name} to {}: {e}", path.display())))?;
        info!(connector = %name, file = %path.display(), "connector configuration written");
        Ok(Some(path))
    }
}

fn not_found(name: &str) -> ChangeError {
    ChangeError::NotFound(format!("Connector {name} not found"))
}

/// The connector's name, checked: it appears in URLs, in the consumer group and in file names.
fn checked_name(raw: &Properties) -> Result<String, ChangeError> {
    let name = raw.get("name").map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(ChangeError::BadRequest("Connector name is required".into()));
    }
    if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') || name.starts_with('.') {
        return Err(ChangeError::BadRequest(format!(
            "Connector name {name:?} is invalid: it may not contain control characters, '/' or '\\', nor start with '.'"
        )));
    }
    Ok(name.to_string())
}

/// Writes a connector file in the form the file already has (Connect's JSON form when it starts
/// with `{`, else `.properties`), through a temporary file and a rename, so a crash never leaves
/// half a file.
fn write_config(path: &Path, name: &str, raw: &Properties) -> std::io::Result<()> {
    let json =
        std::fs::read(path).ok().and_then(|b| b.iter().find(|c| !c.is_ascii_whitespace()).copied()) == Some(b'{');
    let bytes = if json {
        let config: BTreeMap<&str, &str> = raw.iter().collect();
        let mut text = serde_json::to_string_pretty(&serde_json::json!({"name": name, "config": config}))
            .map_err(std::io::Error::other)?;
        text.push('\n');
        text.into_bytes()
    } else {
        properties_text(raw)?
    };
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// `.properties` text (UTF-8, escaped as Java writes it), keys in order.
fn properties_text(raw: &Properties) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = java_properties::PropertiesWriter::new_with_encoding(&mut out, encoding_rs::UTF_8);
    let err = |e: java_properties::PropertiesError| std::io::Error::other(e.to_string());
    w.write_comment("Written by cassandra-sink (REST API)").map_err(err)?;
    for (k, v) in raw.iter() {
        w.write(k, v).map_err(err)?;
    }
    w.finish().map_err(err)?;
    drop(w);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        let named = |n: &str| Properties::from_pairs([("name", n)]);
        assert_eq!(checked_name(&named(" sink ")).unwrap(), "sink");
        assert!(matches!(checked_name(&Properties::default()), Err(ChangeError::BadRequest(_))));
        for bad in ["a/b", "..", "a\nb", "a\\b"] {
            assert!(matches!(checked_name(&named(bad)), Err(ChangeError::BadRequest(_))), "{bad:?}");
        }
    }

    #[test]
    fn written_files_read_back_the_same() {
        let dir = std::env::temp_dir().join(format!("cassandra-sink-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = Properties::from_pairs([
            ("name", "s"),
            ("topic.t.ks.tb.mapping", "k=key, v=value.x"),
            ("auth.password", "${file:/etc/secret.properties:pw}"),
            ("odd key", "é = \\ #x"),
        ]);
        let props = dir.join("s.properties");
        write_config(&props, "s", &raw).unwrap();
        assert_eq!(Properties::load(&props).unwrap(), raw);
        let json = dir.join("s.json");
        std::fs::write(&json, "{}").unwrap();
        write_config(&json, "s", &raw).unwrap();
        assert!(std::fs::read_to_string(&json).unwrap().trim_start().starts_with('{'));
        assert_eq!(Properties::load(&json).unwrap(), raw);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
