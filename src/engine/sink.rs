//! The Cassandra side: one session per connector, and writes retried by one classification of
//! what a retry can fix.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use scylla::client::PoolSize;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{
    ConnectionError, ConnectionPoolError, ConnectionSetupRequestErrorKind, DbError, ExecutionError, NewSessionError,
    RequestAttemptError,
};
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::statement::Consistency;

use scylla::statement::batch::{Batch, BatchType};

use super::plan::BoundRow;
use crate::config::ConnectorConfig;
use crate::config::connector::Compression;
use crate::config::security::Verifier;

/// Why no session could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    pub message: String,
    /// Retrying cannot help: the login or the TLS handshake was refused, or TLS cannot be set
    /// up. Otherwise (unreachable, timeouts) the cluster may come back.
    pub permanent: bool,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ConnectError> for String {
    fn from(e: ConnectError) -> String {
        e.message
    }
}

/// Opens the connector's session: contact points, local DC, pool size, compression, timeout,
/// TLS (`ssl.*`), login (`auth.*`: PLAIN or Kerberos) and Astra (`cloud.secureConnectBundle`).
pub async fn connect(cfg: &ConnectorConfig, keyspaces: Vec<String>) -> Result<Session, ConnectError> {
    // Astra: contact points, local DC and TLS from the bundle, through local tunnels.
    let cloud = match &cfg.cloud {
        Some(source) => Some(super::cloud::plan(source).await.map_err(|message| ConnectError {
            permanent: message.contains("Invalid")
                || message.contains("TLS handshake failed")
                || message.contains("HTTP 4"),
            message,
        })?),
        None => None,
    };
    let nodes: Vec<String> = if let Some(cloud) = &cloud {
        cloud.contact_points.clone()
    } else if cfg.contact_points.is_empty() {
        vec![format!("127.0.0.1:{}", cfg.port)]
    } else {
        cfg.contact_points.iter().map(|cp| with_port(cp, cfg.port)).collect()
    };
    let mut policy = DefaultPolicy::builder().token_aware(true);
    if let Some(dc) = cloud.as_ref().map(|c| &c.local_dc).or(cfg.local_dc.as_ref()) {
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
    let at = match &cloud {
        Some(c) => format!("{} (Astra SNI proxy, nodes {})", c.tunnels.proxy(), c.info.host_ids.len()),
        None => nodes.join(", "),
    };
    if let Some(c) = &cloud {
        builder = builder.address_translator(c.tunnels.clone());
    }
    let mut verifier = None;
    let names = if cfg.tls.is_some() { names_by_ip(&nodes).await } else { HashMap::new() };
    if let Some(tls) = &cfg.tls {
        let (context, v) = tls
            .context(names.clone())
            .map_err(|e| ConnectError { message: format!("cannot set up TLS to Cassandra: {e}"), permanent: true })?;
        builder = builder.tls_context(Some(context));
        verifier = Some(v);
    }
    if let Some(auth) = &cfg.auth {
        builder = builder.user(auth.username.clone(), auth.password.expose());
    }
    if let Some(gssapi) = &cfg.gssapi {
        // The nodes' service principal is asked for with the first contact point's host.
        let host = nodes[0].rsplit_once(':').map_or(nodes[0].as_str(), |(h, _)| h);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let provider = super::gssapi::GssapiAuthenticator::new(gssapi, host).map_err(|e| ConnectError {
            message: format!("Kerberos (GSSAPI) login to Cassandra at {at}: {e} (auth.gssapi.*)"),
            permanent: true,
        })?;
        builder = builder.authenticator_provider(std::sync::Arc::new(provider));
    }
    let e = match builder.build().await {
        Ok(session) => return Ok(session),
        Err(e) => diagnose(&e, &at, cfg, verifier.as_deref()),
    };
    // With TLS 1.3 a node's refusal of the client certificate can reach the driver as a mere
    // dropped connection: one handshake of our own tells.
    if let (false, Some(tls)) = (e.permanent, &cfg.tls)
        && let Some(addr) = tokio::net::lookup_host(nodes[0].as_str()).await.ok().and_then(|mut a| a.next())
    {
        let tls = tls.clone();
        if let Ok(Some(reason)) = tokio::task::spawn_blocking(move || tls.probe(addr, names)).await {
            return Err(tls_failure(&at, &reason, cfg));
        }
    }
    Err(e)
}

/// Contact points given by name, by the addresses they resolve to (for host-name validation).
async fn names_by_ip(nodes: &[String]) -> HashMap<IpAddr, Vec<String>> {
    let mut out: HashMap<IpAddr, Vec<String>> = HashMap::new();
    for node in nodes {
        let host = node.rsplit_once(':').map_or(node.as_str(), |(h, _)| h);
        if host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok() {
            continue;
        }
        if let Ok(addrs) = tokio::net::lookup_host(node.as_str()).await {
            for a in addrs {
                let names = out.entry(a.ip()).or_default();
                if !names.iter().any(|n| n == host) {
                    names.push(host.to_string());
                }
            }
        }
    }
    out
}

/// What a failed session build means for the user, and whether a retry can help.
fn diagnose(e: &NewSessionError, at: &str, cfg: &ConnectorConfig, verifier: Option<&Verifier>) -> ConnectError {
    let permanent = |message: String| ConnectError { message, permanent: true };
    if let Some(refusal) = verifier.and_then(Verifier::last_refusal) {
        return permanent(format!("TLS connection to Cassandra at {at} refused: {refusal}"));
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(ConnectionError::ConnectionSetupRequestError(setup)) = err.downcast_ref::<ConnectionError>() {
            match &setup.error {
                // Cassandra words a failure to read the credentials (system_auth unavailable)
                // "Unable to perform authentication: ..."; that one may pass on a retry.
                ConnectionSetupRequestErrorKind::DbError(DbError::AuthenticationError, msg)
                    if !msg.starts_with("Unable to perform authentication") && cfg.gssapi.is_some() =>
                {
                    let who = cfg
                        .gssapi
                        .as_ref()
                        .and_then(|g| g.principal.as_deref())
                        .unwrap_or("the ticket cache's principal");
                    return permanent(format!(
                        "Cassandra at {at} refused the Kerberos login of {who} (auth.gssapi.*): {msg}"
                    ));
                }
                ConnectionSetupRequestErrorKind::StartAuthSessionError(msg)
                | ConnectionSetupRequestErrorKind::AuthChallengeEvaluationError(msg) => {
                    // A KDC that does not answer may come back; anything else is the configuration.
                    let message = format!("login to Cassandra at {at} failed: {msg}");
                    return ConnectError { permanent: !msg.contains("Cannot contact any KDC"), message };
                }
                ConnectionSetupRequestErrorKind::DbError(DbError::AuthenticationError, msg)
                    if !msg.starts_with("Unable to perform authentication") =>
                {
                    let user = cfg.auth.as_ref().map(|a| a.username.as_str()).unwrap_or_default();
                    return permanent(format!(
                        "Cassandra at {at} refused the login of user {user} (auth.username / auth.password): {msg}"
                    ));
                }
                ConnectionSetupRequestErrorKind::MissingAuthentication => {
                    return permanent(format!(
                        "Cassandra at {at} requires a login: set auth.username and auth.password"
                    ));
                }
                _ => {}
            }
        }
        cur = match err.downcast_ref::<ConnectionPoolError>() {
            Some(ConnectionPoolError::Broken { last_connection_error }) => Some(last_connection_error),
            _ => err.source(),
        };
    }
    // OpenSSL's errors ("error:0A000412:SSL routines:...:sslv3 alert bad certificate") are
    // nested in I/O errors that hide them from `source()`; their text is in the message. An EOF
    // in the middle of a handshake is a node going away, not a refusal.
    let text = e.to_string();
    if cfg.tls.is_some() && text.contains("SSL routines") && !text.contains("unexpected eof") {
        return tls_failure(at, &tls_reason(&text), cfg);
    }
    ConnectError { message: format!("cannot connect to Cassandra at {at}: {e}"), permanent: false }
}

/// A TLS handshake the node (or OpenSSL) refused, with what to check.
fn tls_failure(at: &str, reason: &str, cfg: &ConnectorConfig) -> ConnectError {
    let client_cert = cfg.tls.as_ref().is_some_and(|t| t.has_client_certificate());
    let hint = if reason.contains("alert") && !client_cert {
        "; the node refused the TLS session: if it requires client certificates, give one \
         (ssl.keystore.path with ssl.provider=JDK, ssl.openssl.keyCertChain and ssl.openssl.privateKey \
         with OpenSSL)"
    } else if reason.contains("alert") {
        "; the node refused the TLS session: check that it trusts the client certificate's CA, and the \
         TLS versions and ssl.cipherSuites"
    } else if reason.contains("wrong version number") {
        "; does this port speak TLS?"
    } else if reason.contains("no ciphers available") || reason.contains("no shared cipher") {
        "; no TLS version or cipher suite in common (ssl.cipherSuites)"
    } else {
        ""
    };
    ConnectError { message: format!("TLS handshake with Cassandra at {at} failed: {reason}{hint}"), permanent: true }
}

/// The reason part of an OpenSSL error text (`error:0A000412:SSL routines:fn:REASON:file:..`).
fn tls_reason(text: &str) -> String {
    text.split("SSL routines:")
        .nth(1)
        .and_then(|rest| rest.split(':').nth(1))
        .map(str::to_string)
        .unwrap_or_else(|| text.to_string())
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
        batch.append_statement((*r.statement).clone());
    }
    batch.set_consistency(consistency);
    batch.set_is_idempotent(idempotent);
    batch
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
