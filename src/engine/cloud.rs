//! Astra (`cloud.secureConnectBundle`): the metadata service, and connections through the SNI
//! proxy.
//!
//! Every node of an Astra database is reached at one address, the SNI proxy, over mutual TLS
//! whose SNI server name is the node's host id. The driver opens its connections per node
//! address and has no per-node TLS settings, so each node gets a tunnel: a listener on
//! 127.0.0.1 (an ephemeral port) whose connections are carried to the proxy over TLS with that
//! node's host id as SNI, the bundle's client certificate, and the bundle's CA as the only
//! trusted one. The driver connects to the tunnels in plain CQL; [`Tunnels`] is also its
//! address translator, mapping every node it learns of (by host id, from `system.local` and
//! `system.peers`) to that node's tunnel, opened on first use. The tunnels end with the session.
//!
//! The listeners accept connections from this host only (loopback); the CQL login
//! (`auth.username` / `auth.password`, Astra's token) is still required on every connection.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use openssl::ssl::{Ssl, SslConnector, SslContext, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::store::X509StoreBuilder;
use scylla::errors::TranslationError;
use scylla::policies::address_translator::{AddressTranslator, UntranslatedPeer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::cloud::{BundleSource, CloudBundle, ContactInfo, parse_bundle, parse_metadata};
use crate::config::security::reasons;

/// The bundle itself: read at start-up, or fetched now from its URL.
pub async fn bundle(source: &BundleSource) -> Result<Arc<CloudBundle>, String> {
    match source {
        BundleSource::Loaded(b) => Ok(b.clone()),
        BundleSource::Url(url) => {
            let fail = |e: String| format!("cannot fetch the secure connect bundle {url}: {e}");
            let response = reqwest::get(url).await.map_err(|e| fail(e.to_string()))?;
            if !response.status().is_success() {
                return Err(fail(format!("HTTP {}", response.status())));
            }
            let bytes = response.bytes().await.map_err(|e| fail(e.to_string()))?;
            parse_bundle(&bytes, url).map(Arc::new).map_err(|e| format!("cloud.secureConnectBundle {url}: {e}"))
        }
    }
}

/// TLS with the bundle's identity, trusting the bundle's CA only. Names are checked per
/// connection where wanted (the metadata service); the proxy's chain alone is, as with the
/// Java driver.
fn context(bundle: &CloudBundle) -> Result<SslContext, String> {
    let e = |what: &str, err: openssl::error::ErrorStack| format!("{what}: {}", reasons(&err));
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|err| e("OpenSSL", err))?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(|err| e("TLS versions", err))?;
    let mut store = X509StoreBuilder::new().map_err(|err| e("trust store", err))?;
    for ca in &bundle.ca {
        store.add_cert(ca.clone()).map_err(|err| e("ca.crt", err))?;
    }
    b.set_cert_store(store.build());
    b.set_certificate(&bundle.cert[0]).map_err(|err| e("cert", err))?;
    for c in &bundle.cert[1..] {
        b.add_extra_chain_cert(c.clone()).map_err(|err| e("cert", err))?;
    }
    b.set_private_key(&bundle.key).map_err(|err| e("key", err))?;
    b.check_private_key().map_err(|err| e("key", err))?;
    b.set_verify(SslVerifyMode::PEER);
    Ok(b.build().into_context())
}

/// `GET https://host:port/metadata` with the bundle's identity; the service's certificate must
/// name `host`. Blocking (a few seconds at most).
pub fn fetch_metadata(bundle: &CloudBundle) -> Result<ContactInfo, String> {
    let at = format!("https://{}:{}/metadata", bundle.host, bundle.port);
    let fail =
        |e: String| format!("the Astra metadata service {at} (from cloud.secureConnectBundle {}): {e}", bundle.shown);
    let ctx = context(bundle).map_err(fail)?;
    let mut ssl = Ssl::new(&ctx).map_err(|e| fail(reasons(&e)))?;
    ssl.set_hostname(&bundle.host).map_err(|e| fail(reasons(&e)))?;
    let host = bundle.host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ssl.param_mut().set_ip(ip),
        Err(_) => ssl.param_mut().set_host(host),
    }
    .map_err(|e| fail(reasons(&e)))?;
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, bundle.port))
        .map_err(|e| fail(e.to_string()))?
        .next()
        .ok_or_else(|| fail("the host name does not resolve".into()))?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| fail(e.to_string()))?;
    tcp.set_read_timeout(Some(Duration::from_secs(20))).map_err(|e| fail(e.to_string()))?;
    let mut tls = ssl.connect(tcp).map_err(|e| fail(format!("TLS handshake failed: {e}")))?;
    // The Java driver sends `Host: localhost`; the service answers either way.
    let request = b"GET /metadata HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
    tls.write_all(request).map_err(|e| fail(e.to_string()))?;
    let mut response = Vec::new();
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        // Servers that close without a TLS close_notify: what arrived is the response.
        Err(_) if !response.is_empty() => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let (status, body) = http_body(&response).map_err(fail)?;
    if status != 200 {
        return Err(fail(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body).chars().take(200).collect::<String>()
        )));
    }
    parse_metadata(&body).map_err(fail)
}

/// The status and body of an HTTP/1.1 response (`Content-Length`, chunked, or up to the end).
fn http_body(response: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no HTTP response")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let mut body = &response[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or("no HTTP status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut out = Vec::new();
        loop {
            let end = body.windows(2).position(|w| w == b"\r\n").ok_or("truncated chunked body")?;
            let size_text = String::from_utf8_lossy(&body[..end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "bad chunk size")?;
            body = &body[end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(body.get(..size).ok_or("truncated chunk")?);
            body = body.get(size + 2..).unwrap_or_default();
        }
        return Ok((status, out));
    }
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        return Ok((status, body.get(..len).ok_or("truncated body")?.to_vec()));
    }
    Ok((status, body.to_vec()))
}

/// What the tunnels share: where the proxy is and how to speak TLS to it.
struct Shared {
    proxy: String,
    tls: SslContext,
}

/// One tunnel per node (host id); see the module comment. Dropping it closes them all.
pub struct Tunnels {
    shared: Arc<Shared>,
    open: Mutex<HashMap<Uuid, (SocketAddr, JoinHandle<()>)>>,
}

impl Drop for Tunnels {
    fn drop(&mut self) {
        if let Ok(open) = self.open.lock() {
            for (_, task) in open.values() {
                task.abort();
            }
        }
    }
}

impl Tunnels {
    pub fn new(bundle: &CloudBundle, info: &ContactInfo) -> Result<Tunnels, String> {
        let host = &info.proxy_host;
        let proxy = if host.contains(':') {
            format!("[{host}]:{}", info.proxy_port)
        } else {
            format!("{host}:{}", info.proxy_port)
        };
        Ok(Tunnels { shared: Arc::new(Shared { proxy, tls: context(bundle)? }), open: Mutex::new(HashMap::new()) })
    }

    /// The proxy's address, `host:port`.
    pub fn proxy(&self) -> &str {
        &self.shared.proxy
    }

    /// The local address of the tunnel to `host_id`, opened if needed.
    pub async fn open(&self, host_id: Uuid) -> std::io::Result<SocketAddr> {
        if let Some(addr) = self.open.lock().ok().and_then(|o| o.get(&host_id).map(|(a, _)| *a)) {
            return Ok(addr);
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = self.shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((local, _)) = listener.accept().await else {
                    // Out of descriptors, say: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    if let Err(e) = carry(local, &shared, host_id).await {
                        tracing::debug!("tunnel to node {host_id} through {}: {e}", shared.proxy);
                    }
                });
            }
        });
        let mut open = self.open.lock().map_err(|_| std::io::Error::other("tunnel table poisoned"))?;
        // Another caller may have opened one meanwhile: keep the first.
        if let Some((existing, _)) = open.get(&host_id) {
            task.abort();
            return Ok(*existing);
        }
        open.insert(host_id, (addr, task));
        Ok(addr)
    }
}

/// One driver connection carried to the proxy: TLS with SNI = host id, then bytes both ways.
async fn carry(mut local: tokio::net::TcpStream, shared: &Shared, host_id: Uuid) -> std::io::Result<()> {
    let remote =
        tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect(&shared.proxy)).await.map_err(
            |_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting to the SNI proxy timed out"),
        )??;
    remote.set_nodelay(true)?;
    local.set_nodelay(true)?;
    let mut ssl = Ssl::new(&shared.tls).map_err(std::io::Error::other)?;
    ssl.set_hostname(&host_id.to_string()).map_err(std::io::Error::other)?;
    let mut tls = tokio_openssl::SslStream::new(ssl, remote).map_err(std::io::Error::other)?;
    Pin::new(&mut tls)
        .connect()
        .await
        .map_err(|e| std::io::Error::other(format!("TLS handshake with the SNI proxy: {e}")))?;
    tokio::io::copy_bidirectional(&mut local, &mut tls).await?;
    Ok(())
}

#[async_trait]
impl AddressTranslator for Tunnels {
    async fn translate_address(&self, peer: &UntranslatedPeer) -> Result<SocketAddr, TranslationError> {
        self.open(peer.host_id()).await.map_err(|e| TranslationError::IoError(Arc::new(e)))
    }
}

/// Everything the session needs in cloud mode.
pub struct CloudPlan {
    pub tunnels: Arc<Tunnels>,
    /// The tunnels of the metadata service's contact points.
    pub contact_points: Vec<String>,
    pub local_dc: String,
    pub info: ContactInfo,
}

/// Bundle → metadata service → tunnels to the contact points.
pub async fn plan(source: &BundleSource) -> Result<CloudPlan, String> {
    let bundle = bundle(source).await?;
    let fetched = bundle.clone();
    let info = tokio::task::spawn_blocking(move || fetch_metadata(&fetched))
        .await
        .map_err(|e| format!("the Astra metadata request failed: {e}"))??;
    let tunnels = Arc::new(Tunnels::new(&bundle, &info)?);
    let mut contact_points = Vec::new();
    for id in &info.host_ids {
        let addr = tunnels.open(*id).await.map_err(|e| format!("cannot open a local tunnel for node {id}: {e}"))?;
        contact_points.push(addr.to_string());
    }
    Ok(CloudPlan { tunnels, contact_points, local_dc: info.local_dc.clone(), info })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_bodies() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}extra";
        assert_eq!(http_body(r).unwrap(), (200, b"{}".to_vec()));
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(http_body(r).unwrap(), (200, b"{\"a\":1}".to_vec()));
        let r = b"HTTP/1.0 404 Not Found\r\n\r\nno";
        assert_eq!(http_body(r).unwrap(), (404, b"no".to_vec()));
        assert!(http_body(b"garbage").is_err());
    }
}
