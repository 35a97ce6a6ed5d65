//! The Cassandra side: one session per connector, and writes retried by one classification of
//! what a retry can fix.

use std::num::NonZeroUsize;
use std::time::Duration;

use scylla::client::PoolSize;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{DbError, ExecutionError, RequestAttemptError};
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::statement::Consistency;

use scylla::statement::batch::{Batch, BatchType};
use scylla::value::{CqlValue, MaybeUnset};

use super::plan::{BindValue, BoundRow};
use crate::config::ConnectorConfig;
use crate::config::connector::Compression;

/// Opens the connector's session: contact points, local DC, pool size, compression, timeout.
pub async fn connect(cfg: &ConnectorConfig, keyspaces: Vec<String>) -> Result<Session, String> {
    let nodes: Vec<String> = if cfg.contact_points.is_empty() {
        vec![format!("127.0.0.1:{}", cfg.port)]
    } else {
        cfg.contact_points.iter().map(|cp| with_port(cp, cfg.port)).collect()
    };
    let mut policy = DefaultPolicy::builder().token_aware(true);
    if let Some(dc) = &cfg.local_dc {
        policy = policy.prefer_datacenter(dc.clone()).permit_dc_failover(true);
    }
    let profile = ExecutionProfile::builder()
        .load_balancing_policy(policy.build())
        .request_timeout(Some(cfg.query_execution_timeout))
        .consistency(Consistency::LocalOne)
        .build();
    let pool = NonZeroUsize::new(cfg.connection_pool_local_size).unwrap_or(NonZeroUsize::MIN);
    let mut builder = SessionBuilder::new()
        .known_nodes(&nodes)
        .default_execution_profile_handle(profile.into_handle())
        .pool_size(PoolSize::PerHost(pool))
        .keyspaces_to_fetch(keyspaces)
        .connection_timeout(Duration::from_secs(10))
        .compression(match cfg.compression {
            Compression::None => None,
            Compression::Lz4 => Some(scylla::frame::Compression::Lz4),
            Compression::Snappy => Some(scylla::frame::Compression::Snappy),
        });
    if let Some(user) = &cfg.username {
        builder = builder.user(user.clone(), cfg.password.clone().unwrap_or_default());
    }
    builder.build().await.map_err(|e| format!("cannot connect to Cassandra at {}: {e}", nodes.join(", ")))
}

fn with_port(cp: &str, port: u16) -> String {
    if cp.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{cp}]:{port}")
    } else if cp.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        cp.to_string()
    } else {
        format!("{cp}:{port}")
    }
}

/// Whether a failed write may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Timeouts, unavailability, overload, lost connections: the cluster may recover.
    Transient,
    /// Invalid queries, type or serialization errors: the same write fails again.
    Permanent,
}

/// The one place that decides what a retry can fix.
pub fn classify(e: &ExecutionError) -> Retry {
    match e {
        ExecutionError::BadQuery(_) | ExecutionError::PrepareError(_) => Retry::Permanent,
        ExecutionError::LastAttemptError(
            RequestAttemptError::SerializationError(_) | RequestAttemptError::CqlRequestSerialization(_),
        ) => Retry::Permanent,
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::SyntaxError
            | DbError::Invalid
            | DbError::AlreadyExists { .. }
            | DbError::FunctionFailure { .. }
            | DbError::AuthenticationError
            | DbError::Unauthorized
            | DbError::ConfigError
            | DbError::ProtocolError,
            _,
        )) => Retry::Permanent,
        _ => Retry::Transient,
    }
}

/// Exponential backoff with full jitter between `base` and `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max, attempt: 0 }
    }

    pub fn next_delay(&mut self) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(16));
        self.attempt = self.attempt.saturating_add(1);
        let cap = exp.min(self.max);
        let jitter: f64 = rand::random::<f64>() * 0.5 + 0.5;
        cap.mul_f64(jitter)
    }
}

/// Writes one row; a permanent failure is returned at once, transient ones are returned for the
/// caller's retry loop.
pub async fn write(session: &Session, row: &BoundRow) -> Result<(), ExecutionError> {
    session.execute_unpaged(&row.statement, &row.values).await.map(|_| ())
}

/// Byte budget of one batch, below Cassandra's default `batch_size_fail_threshold` (50 KiB), so a
/// batch is never rejected for its size; a larger single row is sent on its own.
pub const BATCH_BYTES: usize = 40 * 1024;

/// An UNLOGGED batch of rows of one Cassandra partition; it takes the consistency of its table
/// and is idempotent when all its statements are.
pub fn batch_of<'a>(rows: impl Iterator<Item = &'a BoundRow>, consistency: Consistency) -> Batch {
    let mut batch = Batch::new(BatchType::Unlogged);
    let mut idempotent = true;
    for r in rows {
        idempotent &= r.statement.get_is_idempotent();
        batch.append_statement(r.statement.clone());
    }
    batch.set_consistency(consistency);
    batch.set_is_idempotent(idempotent);
    batch
}

/// The serialized size of a row's values, near enough to keep batches under the byte budget.
pub fn approx_size(values: &[BindValue]) -> usize {
    values
        .iter()
        .map(|v| match v {
            MaybeUnset::Set(Some(v)) => 4 + value_size(v),
            _ => 4,
        })
        .sum()
}

fn value_size(v: &CqlValue) -> usize {
    match v {
        CqlValue::Ascii(s) | CqlValue::Text(s) => s.len(),
        CqlValue::Blob(b) => b.len(),
        CqlValue::Boolean(_) | CqlValue::TinyInt(_) => 1,
        CqlValue::SmallInt(_) => 2,
        CqlValue::Int(_) | CqlValue::Float(_) | CqlValue::Date(_) => 4,
        CqlValue::BigInt(_)
        | CqlValue::Double(_)
        | CqlValue::Timestamp(_)
        | CqlValue::Time(_)
        | CqlValue::Counter(_) => 8,
        CqlValue::Uuid(_) | CqlValue::Timeuuid(_) | CqlValue::Inet(_) => 16,
        CqlValue::List(items) | CqlValue::Set(items) | CqlValue::Vector(items) => {
            4 + items.iter().map(|i| 4 + value_size(i)).sum::<usize>()
        }
        CqlValue::Map(entries) => 4 + entries.iter().map(|(k, v)| 8 + value_size(k) + value_size(v)).sum::<usize>(),
        CqlValue::Tuple(items) => items.iter().map(|i| 4 + i.as_ref().map_or(0, value_size)).sum(),
        CqlValue::UserDefinedType { fields, .. } => {
            fields.iter().map(|(_, f)| 4 + f.as_ref().map_or(0, value_size)).sum()
        }
        _ => 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_points_get_the_port() {
        assert_eq!(with_port("10.0.0.1", 9042), "10.0.0.1:9042");
        assert_eq!(with_port("host", 9043), "host:9043");
        assert_eq!(with_port("host:9999", 9042), "host:9999");
        assert_eq!(with_port("::1", 9042), "[::1]:9042");
    }

    #[test]
    fn classification() {
        assert_eq!(classify(&ExecutionError::RequestTimeout(Duration::from_secs(1))), Retry::Transient);
        assert_eq!(classify(&ExecutionError::EmptyPlan), Retry::Transient);
        let db = |e| ExecutionError::LastAttemptError(RequestAttemptError::DbError(e, String::new()));
        assert_eq!(classify(&db(DbError::Invalid)), Retry::Permanent);
        assert_eq!(classify(&db(DbError::Overloaded)), Retry::Transient);
        assert_eq!(classify(&db(DbError::ServerError)), Retry::Transient);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..20 {
            assert!(b.next_delay() <= Duration::from_secs(2));
        }
        assert!(b.next_delay() >= Duration::from_secs(1));
    }
}
