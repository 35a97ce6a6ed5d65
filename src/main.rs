//! `cassandra-sink standalone WORKER.properties CONNECTOR.properties...`, as `connect-standalone`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::sync::Arc;

use cassandra_sink::api::{self, ApiState, ConnectorEntry};
use cassandra_sink::config::connector::Subscription;
use cassandra_sink::config::providers::Providers;
use cassandra_sink::config::{ConfigError, ConnectorConfig, Properties, WorkerConfig};
use cassandra_sink::engine::metrics::Metrics;
use cassandra_sink::engine::status::ConnectorStatus;
use cassandra_sink::engine::{self, RunError, RunOptions};
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
        /// backfills and batch loads).
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
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The worker and connector files, parsed and validated (each with its raw settings).
struct Loaded {
    worker: WorkerConfig,
    worker_props: Properties,
    connectors: Vec<(ConnectorConfig, Properties)>,
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
        match resolved.and_then(|(raw, p)| ConnectorConfig::from_properties(&p).map(|c| (c, raw))) {
            Ok(c) => configs.push(c),
            Err(e) => errors.push(e.in_file(path.display().to_string())),
        }
    }
    if let Ok((_, props)) = &worker_cfg
        && let Err(e) = api::listener_address(props.get("listeners"))
    {
        errors.push(ConfigError::new(vec![e]).in_file(worker.display().to_string()));
    }
    let mut names: Vec<&str> = configs.iter().map(|(c, _)| c.name.as_str()).collect();
    names.sort_unstable();
    for pair in names.windows(2) {
        if pair[0] == pair[1] {
            errors.push(ConfigError::new(vec![format!(
                "two connector files use the name {}; names must be unique",
                pair[0]
            )]));
        }
    }
    match worker_cfg {
        Ok((worker, worker_props)) if errors.is_empty() => Ok(Loaded { worker, worker_props, connectors: configs }),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.insert(0, e);
            Err(errors)
        }
    }
}

async fn standalone(worker: PathBuf, connectors: Vec<PathBuf>, until_end: bool) -> ExitCode {
    let Loaded { worker: worker_cfg, worker_props, connectors: configs } = match load(&worker, &connectors) {
        Ok(v) => v,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for key in &worker_cfg.unknown_keys {
        warn!("unknown worker setting {key} is ignored");
    }
    for key in &worker_cfg.ignored_consumer_keys {
        info!("{key} has no equivalent in librdkafka; ignored");
    }

    let shutdown = CancellationToken::new();
    tokio::spawn(watch_signals(shutdown.clone()));
    let metrics = Arc::new(Metrics::default());
    let mut entries = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (cfg, props) in configs {
        let status = Arc::new(ConnectorStatus::default());
        let topics = match &cfg.subscription {
            Subscription::Topics(t) => t.clone(),
            Subscription::Regex(_) => cfg.tables.iter().map(|t| t.topic.clone()).collect(),
        };
        entries.push(ConnectorEntry { name: cfg.name.clone(), config: props, topics, status: status.clone() });
        let options = RunOptions { metrics: metrics.clone(), status, until_end, ..RunOptions::default() };
        let (w, token) = (worker_cfg.clone(), shutdown.clone());
        tasks.spawn(async move { engine::run(cfg, w, token, options).await });
    }
    serve_api(worker_props.get("listeners"), entries, metrics, shutdown.clone()).await;
    let mut code = ExitCode::SUCCESS;
    while let Some(joined) = tasks.join_next().await {
        let result = match joined {
            Ok(r) => r,
            Err(e) => {
                error!("connector task ended abnormally: {e}");
                code = ExitCode::from(EXIT_FAILED);
                shutdown.cancel();
                continue;
            }
        };
        if let Err(e) = result {
            eprintln!("{e}");
            code = ExitCode::from(match e {
                RunError::Startup { .. } => EXIT_CONFIG,
                RunError::Failed { .. } => EXIT_FAILED,
            });
            // One failed connector stops the process: without a REST status to watch, a
            // silently stuck connector would be worse than a visible exit.
            shutdown.cancel();
        }
    }
    code
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
    let Some((cfg, _)) = connectors.into_iter().next() else { return ExitCode::from(EXIT_CONFIG) };
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
    connectors: Vec<ConnectorEntry>,
    metrics: Arc<Metrics>,
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
    let state = Arc::new(ApiState { connectors, metrics, worker_id: bound.to_string() });
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
