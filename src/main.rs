//! `cassandra-sink standalone WORKER.properties CONNECTOR.properties...`, as `connect-standalone`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::sync::Arc;

use cassandra_sink::api::{self, ApiState};
use cassandra_sink::config::providers::Providers;
use cassandra_sink::config::{ConfigError, ConnectorConfig, Properties, WorkerConfig};
use cassandra_sink::engine::metrics::Metrics;
use cassandra_sink::engine::{self, RunError};
use cassandra_sink::supervisor::{self, Exit, Supervisor};
use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

#[derive(Parser)]
#[command(
    name = "cassandra-sink",
    version,
    about = "Kafka → Cassandra sink, configured like the DataStax Apache Kafka Connector"
)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log filter, e.g. `info` or `info,cassandra_sink=debug` (default: $RUST_LOG, else info).
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Read the next records the connector would process (from its group's committed offsets,
    /// without joining the group) and print, per record and table, the CQL and bound values or
    /// the error; nothing is written and no offset is committed.
    DryRun {
        worker: PathBuf,
        connector: PathBuf,
        /// How many records to read.
        #[arg(long, default_value_t = 10)]
        records: usize,
    },
    /// Check connector files: every setting, then each table against the live schema. Prints
    /// every problem (or the statements each table will run); exit code 0 when valid, 2 if not.
    Validate {
        /// Connector files (.properties or Connect JSON).
        #[arg(required = true)]
        connectors: Vec<PathBuf>,
    },
    /// Run connectors the way Kafka Connect's connect-standalone does.
    Standalone {
        /// The worker file: bootstrap.servers, converters, consumer.* overrides.
        worker: PathBuf,
        /// One or more connector files (.properties or Connect JSON).
        #[arg(required = true)]
        connectors: Vec<PathBuf>,
        /// Drain: write everything up to the end offsets seen at start, commit, and exit (for
        /// backfills and batch loads). Progress: a bar on a terminal, else a log line every 5 s.
        #[arg(long)]
        until_end: bool,
    },
}

const EXIT_FAILED: u8 = 1;
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format, cli.log.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let code = match cli.command {
        Command::Standalone { worker, connectors, until_end } => {
            runtime.block_on(standalone(worker, connectors, until_end))
        }
        Command::Validate { connectors } => runtime.block_on(validate(connectors)),
        Command::DryRun { worker, connector, records } => runtime.block_on(dry_run(worker, connector, records)),
    };
    // A consumer still closing in the background does not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

fn init_logging(format: LogFormat, filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match filter {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress::LogWriter)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The worker and connector files, parsed and validated (each with its raw settings and path).
struct Loaded {
    worker: WorkerConfig,
    worker_props: Properties,
    providers: Providers,
    rest: OwnSettings,
    connectors: Vec<(ConnectorConfig, Properties, PathBuf)>,
}

/// Worker keys of this sink's own (not Kafka Connect's): the REST API's token, whether REST
/// changes are written back to the files, and whether a failed connector stops the process.
const OWN_WORKER_KEYS: [&str; 3] = ["rest.auth.token", "rest.config.persist", "exit.on.connector.failure"];

#[derive(Debug, Clone, PartialEq)]
struct OwnSettings {
    auth_token: Option<String>,
    persist: bool,
    exit_on_failure: bool,
}

impl OwnSettings {
    fn from_worker(props: &Properties) -> Result<OwnSettings, Vec<String>> {
        let mut problems = Vec::new();
        let mut flag = |key: &str, default: bool| match props.get(key).map(str::trim) {
            None => default,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                problems.push(format!(
                    "Invalid value {v} for configuration {key}: Expected value to be either true or false"
                ));
                default
            }
        };
        let persist = flag("rest.config.persist", false);
        let exit_on_failure = flag("exit.on.connector.failure", true);
        let auth_token = match props.get("rest.auth.token").map(str::trim) {
            None => None,
            Some("") => {
                problems.push("Invalid value \"\" for configuration rest.auth.token: the token must not be empty (remove the key to turn authentication off)".to_string());
                None
            }
            Some(t) => Some(t.to_string()),
        };
        if problems.is_empty() { Ok(OwnSettings { auth_token, persist, exit_on_failure }) } else { Err(problems) }
    }
}

fn load(worker: &Path, connectors: &[PathBuf]) -> Result<Loaded, Vec<ConfigError>> {
    let mut errors = Vec::new();
    // Config providers are declared by the worker and resolve placeholders in every file.
    let worker_file = Properties::load(worker);
    let providers = match worker_file.as_ref().map(Providers::from_worker) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            errors.push(e.in_file(worker.display().to_string()));
            Providers::default()
        }
        Err(_) => Providers::default(),
    };
    let worker_cfg = worker_file
        .and_then(|p| providers.resolve(&p))
        .and_then(|p| WorkerConfig::from_properties(&p).map(|w| (w, p)))
        .map_err(|e| e.in_file(worker.display().to_string()));
    let mut configs = Vec::new();
    for path in connectors {
        let resolved = Properties::load(path).and_then(|p| providers.resolve(&p).map(|r| (p, r)));
        // The API shows the file as written (placeholders, not secrets); the connector runs resolved.
        match resolved.and_then(|(raw, p)| ConnectorConfig::from_properties(&p).map(|c| (c, raw, path.clone()))) {
            Ok(c) => configs.push(c),
            Err(e) => errors.push(e.in_file(path.display().to_string())),
        }
    }
    let mut rest = None;
    if let Ok((_, props)) = &worker_cfg {
        if let Err(e) = api::listener_address(props.get("listeners")) {
            errors.push(ConfigError::new(vec![e]).in_file(worker.display().to_string()));
        }
        match OwnSettings::from_worker(props) {
            Ok(r) => rest = Some(r),
            Err(problems) => errors.push(ConfigError::new(problems).in_file(worker.display().to_string())),
        }
    }
    let mut names: Vec<&str> = configs.iter().map(|(c, _, _)| c.name.as_str()).collect();
    names.sort_unstable();
    for pair in names.windows(2) {
        if pair[0] == pair[1] {
            errors.push(ConfigError::new(vec![format!(
                "two connector files use the name {}; names must be unique",
                pair[0]
            )]));
        }
    }
    match (worker_cfg, rest) {
        (Ok((worker, worker_props)), Some(rest)) if errors.is_empty() => {
            Ok(Loaded { worker, worker_props, providers, rest, connectors: configs })
        }
        (Ok(_), _) => Err(errors),
        (Err(e), _) => {
            errors.insert(0, e);
            Err(errors)
        }
    }
}

async fn standalone(worker: PathBuf, connectors: Vec<PathBuf>, until_end: bool) -> ExitCode {
    let loaded = match load(&worker, &connectors) {
        Ok(v) => v,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let Loaded { worker: worker_cfg, worker_props, providers, rest, connectors: configs } = loaded;
    for key in worker_cfg.unknown_keys.iter().filter(|k| !OWN_WORKER_KEYS.contains(&k.as_str())) {
        warn!("unknown worker setting {key} is ignored");
    }
    for key in &worker_cfg.ignored_consumer_keys {
        info!("{key} has no equivalent in librdkafka; ignored");
    }

    let shutdown = CancellationToken::new();
    tokio::spawn(watch_signals(shutdown.clone()));
    let metrics = Arc::new(Metrics::default());
    // Connectors created over REST are written next to the first connector file.
    let persist_dir = rest.persist.then(|| match connectors[0].parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    });
    let (supervisor, mut exits) = Supervisor::new(supervisor::Settings {
        worker: worker_cfg.clone(),
        providers,
        metrics: metrics.clone(),
        shutdown: shutdown.clone(),
        until_end,
        persist_dir,
        schema_check_timeout: std::time::Duration::from_secs(10),
        stop_timeout: std::time::Duration::from_secs(45),
    });
    let mut started = Vec::new();
    for (cfg, props, path) in configs {
        started.push(supervisor.start_loaded(cfg, props, Some(path)));
    }
    let progress = until_end.then(|| progress::watch(&started));
    serve_api(worker_props.get("listeners"), supervisor.clone(), metrics, rest.auth_token.clone(), shutdown.clone())
        .await;

    // With --until-end a failure always ends the process: a batch job must not report success.
    let fatal = rest.exit_on_failure || until_end;
    let mut code = ExitCode::SUCCESS;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(exit) = exits.recv() => {
                if on_exit(exit, fatal, &mut code) {
                    // One failed connector stops the process (unless exit.on.connector.failure=false):
                    // a visible exit rather than a silently stuck connector.
                    shutdown.cancel();
                }
                if until_end && supervisor.all_finished() {
                    break;
                }
            }
        }
    }
    shutdown.cancel();
    supervisor.join_all().await;
    while let Ok(exit) = exits.try_recv() {
        on_exit(exit, fatal, &mut code);
    }
    if let Some(progress) = progress {
        progress.finish().await;
    }
    code
}

/// A connector's run ended: its error is printed and, when `fatal`, decides the exit code.
/// Whether the process must stop.
fn on_exit(exit: Exit, fatal: bool, code: &mut ExitCode) -> bool {
    let Err(e) = exit.result else { return false };
    if exit.requested {
        // Stopped through the API: its status says how it ended; the process goes on.
        warn!(connector = %exit.name, "{e}");
        return false;
    }
    if !fatal {
        error!(connector = %exit.name, "{e}; the connector stays FAILED until it is restarted through the REST API");
        return false;
    }
    eprintln!("{e}");
    *code = ExitCode::from(match e {
        RunError::Startup { .. } => EXIT_CONFIG,
        RunError::Failed { .. } => EXIT_FAILED,
    });
    true
}

async fn validate(connectors: Vec<PathBuf>) -> ExitCode {
    let mut valid = true;
    for path in &connectors {
        let shown = path.display();
        let cfg = match Properties::load(path).and_then(|p| ConnectorConfig::from_properties(&p)) {
            Ok(c) => c,
            Err(e) => {
                println!("{shown}: INVALID");
                for p in e.problems {
                    println!("  - {p}");
                }
                valid = false;
                continue;
            }
        };
        for w in &cfg.warnings {
            println!("{shown}: warning: {w}");
        }
        match engine::validate(&cfg).await {
            Ok(statements) => {
                println!("{shown}: valid (connector {}, consumer group {})", cfg.name, cfg.group_id());
                for s in statements {
                    println!("  {s}");
                }
            }
            Err(problems) => {
                println!("{shown}: INVALID");
                for p in problems {
                    println!("  - {p}");
                }
                valid = false;
            }
        }
    }
    if valid { ExitCode::SUCCESS } else { ExitCode::from(EXIT_CONFIG) }
}

async fn dry_run(worker: PathBuf, connector: PathBuf, records: usize) -> ExitCode {
    let Loaded { worker, connectors, .. } = match load(&worker, std::slice::from_ref(&connector)) {
        Ok(l) => l,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let Some((cfg, _, _)) = connectors.into_iter().next() else { return ExitCode::from(EXIT_CONFIG) };
    match engine::dry_run::dry_run(&cfg, &worker, records, std::time::Duration::from_secs(5)).await {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dry run of {} failed: {e}", cfg.name);
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Starts the REST API on the worker's `listeners` (127.0.0.1:8083 by default). A port that is
/// taken is logged, not fatal: the connectors run without the API.
async fn serve_api(
    listeners: Option<&str>,
    supervisor: Arc<Supervisor>,
    metrics: Arc<Metrics>,
    auth_token: Option<String>,
    shutdown: CancellationToken,
) {
    let Ok(addr) = api::listener_address(listeners) else { return };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            warn!("REST API not started: cannot listen on {addr}: {e}");
            return;
        }
    };
    let bound = listener.local_addr().unwrap_or(addr);
    if auth_token.is_some() {
        info!("REST API requests need the bearer token of rest.auth.token (except /health and /ui)");
    }
    let state = Arc::new(ApiState { supervisor, metrics, worker_id: bound.to_string(), auth_token });
    info!("REST API listening on http://{bound}");
    tokio::spawn(async move {
        let served = axum::serve(listener, api::router(state)).with_graceful_shutdown(shutdown.cancelled_owned()).await;
        if let Err(e) = served {
            warn!("REST API stopped: {e}");
        }
    });
}

/// First SIGINT/SIGTERM: drain and exit. Second: exit at once.
async fn watch_signals(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        error!("cannot install signal handlers");
        return;
    };
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    info!("shutting down: finishing in-flight writes and committing offsets");
    shutdown.cancel();
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    warn!("second signal: exiting without draining");
    std::process::exit(130);
}

/// `standalone --until-end` progress, from each connector's status (records written of those to
/// write, as the drain counts them): a bar per connector on a terminal (log lines print above it),
/// else a log line every 5 s.
mod progress {
    use std::io::{IsTerminal, Write};
    use std::sync::{Arc, OnceLock};
    use std::time::{Duration, Instant};

    use cassandra_sink::engine::status::{DrainProgress, State};
    use cassandra_sink::supervisor::Connector;
    use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
    use tokio::task::JoinSet;
    use tracing::info;

    /// Set once bars are drawn: log lines are then written around them.
    static BARS: OnceLock<MultiProgress> = OnceLock::new();

    /// The log writer: stderr, with the bars cleared while a line is written.
    pub struct LogWriter;

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
        type Writer = LogWriter;
        fn make_writer(&'a self) -> LogWriter {
            LogWriter
        }
    }

    impl Write for LogWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            match BARS.get() {
                Some(bars) => bars.suspend(|| std::io::stderr().write_all(buf)).map(|()| buf.len()),
                None => std::io::stderr().write(buf),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            std::io::stderr().flush()
        }
    }

    pub struct Progress {
        tasks: JoinSet<()>,
    }

    impl Progress {
        /// Draws the last figures (each watcher ends with its connector's run).
        pub async fn finish(mut self) {
            let last =
                tokio::time::timeout(Duration::from_secs(2), async { while self.tasks.join_next().await.is_some() {} });
            if last.await.is_err() {
                self.tasks.abort_all();
            }
        }
    }

    pub fn watch(connectors: &[Arc<Connector>]) -> Progress {
        let bars = std::io::stderr().is_terminal().then(|| BARS.get_or_init(MultiProgress::new).clone());
        let mut tasks = JoinSet::new();
        for c in connectors {
            let (c, bars) = (c.clone(), bars.clone());
            tasks.spawn(async move {
                match bars {
                    Some(bars) => draw(&c, &bars).await,
                    None => log(&c).await,
                }
            });
        }
        Progress { tasks }
    }

    fn drain(c: &Connector) -> Option<DrainProgress> {
        c.status.snapshot().drain
    }

    async fn draw(c: &Connector, bars: &MultiProgress) {
        let style = ProgressStyle::with_template(
            "{prefix} {wide_bar:.cyan/blue} {human_pos}/{human_len} records  {rate}  ETA {eta}  [{elapsed}] {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", s.per_sec());
        })
        .progress_chars("=> ");
        let bar = bars.add(ProgressBar::new(0).with_style(style).with_prefix(c.name.clone()));
        bar.set_message("connecting");
        bar.enable_steady_tick(Duration::from_millis(200));
        let update = |bar: &ProgressBar| {
            if let Some(d) = drain(c) {
                if bar.length() != Some(d.total) {
                    bar.set_length(d.total);
                    bar.reset_eta();
                    bar.set_message("");
                }
                bar.set_position(d.written.min(d.total));
            }
        };
        while !c.finished() {
            update(&bar);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        update(&bar);
        let snapshot = c.status.snapshot();
        match (snapshot.state, snapshot.drain) {
            (State::Failed, _) => bar.abandon_with_message("failed"),
            (_, Some(d)) if d.written >= d.total => bar.finish_with_message("done"),
            _ => bar.abandon_with_message("stopped"),
        }
    }

    async fn log(c: &Connector) {
        let started = Instant::now();
        let mut last = Instant::now();
        while !c.finished() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if last.elapsed() < Duration::from_secs(5) {
                continue;
            }
            last = Instant::now();
            let Some(d) = drain(c) else { continue };
            let remaining = d.total.saturating_sub(d.written);
            let rate = d.written as f64 / started.elapsed().as_secs_f64().max(0.001);
            let eta = if rate > 0.0 { format!("{:.0} s", remaining as f64 / rate) } else { "unknown".into() };
            info!(
                connector = %c.name,
                written = d.written,
                total = d.total,
                remaining,
                rate = format!("{rate:.0}/s"),
                eta,
                "drain progress"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_worker_settings() {
        let read = |pairs: &[(&str, &str)]| OwnSettings::from_worker(&Properties::from_pairs(pairs.iter().copied()));
        let defaults = read(&[]).unwrap();
        assert_eq!(defaults, OwnSettings { auth_token: None, persist: false, exit_on_failure: true });
        let set = read(&[
            ("rest.auth.token", " tok "),
            ("rest.config.persist", "TRUE"),
            ("exit.on.connector.failure", "false"),
        ])
        .unwrap();
        assert_eq!(set, OwnSettings { auth_token: Some("tok".into()), persist: true, exit_on_failure: false });
        let problems = read(&[("rest.auth.token", ""), ("rest.config.persist", "yes")]).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("Invalid value yes for configuration rest.config.persist")));
        assert!(problems.iter().any(|p| p.contains("rest.auth.token: the token must not be empty")));
    }
}
