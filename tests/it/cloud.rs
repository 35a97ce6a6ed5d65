//! `cloud.secureConnectBundle` end to end, with Astra's two services played here: a metadata
//! service (HTTPS with client certificates, `GET /metadata`) and an SNI proxy that routes TLS
//! connections by their SNI server name — a node's host id — without terminating them. The node
//! behind the proxy is the secure Cassandra of `scripts/secure-cassandra up` (client
//! certificates required, PasswordAuthenticator), whose test CA and client certificate make the
//! bundle.

use std::ffi::OsStr;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cassandra_sink::config::cloud::zip;
use openssl::ssl::{SslAcceptor, SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::*;

fn secure_port() -> String {
    std::env::var("SECURE_CQL_PORT").unwrap_or_else(|_| "39042".into())
}

fn certs() -> PathBuf {
    std::env::var("SECURE_CERTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("services/run-secure/certs"))
}

fn login() -> (String, String) {
    (
        std::env::var("SECURE_TEST_USER").unwrap_or_else(|_| "sink_tester".into()),
        std::env::var("SECURE_TEST_PASSWORD").unwrap_or_else(|_| "sink-tester-Pw-4417".into()),
    )
}

async fn secure_session() -> Session {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("OpenSSL");
    b.set_ca_file(certs().join("ca.pem")).expect("run `scripts/secure-cassandra up` first (no test CA)");
    b.set_certificate_chain_file(certs().join("client-chain.pem")).expect("client chain");
    b.set_private_key_file(certs().join("client.key"), SslFiletype::PEM).expect("client key");
    // The node's certificate names localhost; the driver checks 127.0.0.1.
    b.set_verify_callback(SslVerifyMode::PEER, |ok, ctx| ok || ctx.error().as_raw() == 64);
    let (user, password) = login();
    SessionBuilder::new()
        .known_node(format!("127.0.0.1:{}", secure_port()))
        .tls_context(Some(b))
        .user(user, password)
        .build()
        .await
        .expect("the secure Cassandra is not reachable: run `scripts/secure-cassandra up` first")
}

/// The SNI server name of a TLS ClientHello, if the bytes hold a whole one.
fn sni(hello: &[u8]) -> Option<Result<String, ()>> {
    if hello.len() < 5 {
        return None;
    }
    if hello[0] != 0x16 {
        return Some(Err(()));
    }
    let record = 5 + u16::from_be_bytes([hello[3], hello[4]]) as usize;
    if hello.len() < record {
        return None;
    }
    let h = &hello[5..record];
    let at = |p: usize, n: usize| h.get(p..p + n);
    let len16 = |p: usize| at(p, 2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize);
    let parse = || -> Option<String> {
        // type(1) length(3) version(2) random(32)
        let mut p = 4 + 2 + 32;
        p += 1 + *h.get(p)? as usize; // session id
        p += 2 + len16(p)?; // cipher suites
        p += 1 + *h.get(p)? as usize; // compression methods
        let end = p + 2 + len16(p)?;
        p += 2;
        while p + 4 <= end {
            let (kind, len) = (len16(p)?, len16(p + 2)?);
            if kind == 0 {
                // server_name list: length(2), type(1), name length(2), name
                let name_len = len16(p + 4 + 3)?;
                return Some(String::from_utf8_lossy(at(p + 4 + 5, name_len)?).into_owned());
            }
            p += 4 + len;
        }
        None
    };
    Some(parse().ok_or(()))
}

/// A TLS passthrough on 127.0.0.1 that sends connections whose SNI is `host_id` to `node` and
/// drops the others; the SNI names it saw are recorded.
async fn sni_proxy(host_id: String, node: String, seen: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (host_id, node, seen) = (host_id.clone(), node.clone(), seen.clone());
            tokio::spawn(async move {
                let mut hello = Vec::new();
                let name = loop {
                    let mut buf = [0u8; 4096];
                    let n = client.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    hello.extend_from_slice(&buf[..n]);
                    if let Some(r) = sni(&hello) {
                        break r;
                    }
                };
                let Ok(name) = name else { return };
                seen.lock().unwrap().push(name.clone());
                if name != host_id {
                    return;
                }
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&node).await else { return };
                if upstream.write_all(&hello).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    port
}

/// The metadata service: HTTPS with the node's certificate (DNS:localhost, the test CA),
/// client certificates of the test CA required; answers `GET /metadata` with `body`. Counts
/// the requests.
fn metadata_service(body: String, hits: Arc<Mutex<Vec<String>>>) -> u16 {
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    acceptor.set_certificate_chain_file(certs().join("server.pem")).unwrap();
    acceptor.set_private_key_file(certs().join("server.key"), SslFiletype::PEM).unwrap();
    acceptor.set_ca_file(certs().join("ca.pem")).unwrap();
    acceptor.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    let acceptor = acceptor.build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(mut tls) = acceptor.accept(stream) else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_string();
            hits.lock().unwrap().push(line.clone());
            let (status, text) =
                if line.starts_with("GET /metadata ") { ("200 OK", body.as_str()) } else { ("404 Not Found", "") };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = tls.write_all(response.as_bytes());
            let _ = tls.shutdown();
        }
    });
    port
}

fn bundle(dir: &Path, metadata_port: u16, keyspace: &str) -> PathBuf {
    let config = format!(
        r#"{{"host":"localhost","port":{metadata_port},"keyspace":"{keyspace}","localDC":"datacenter1","keyStorePassword":"unused","trustStorePassword":"unused"}}"#
    );
    let read =
        |name: &str| std::fs::read(certs().join(name)).expect("test certificates: run `scripts/secure-cassandra up`");
    let (ca, cert, key) = (read("ca.pem"), read("client-chain.pem"), read("client.key"));
    let path = dir.join("secure-connect-test.zip");
    let files: [(&str, &[u8]); 4] =
        [("config.json", config.as_bytes()), ("ca.crt", &ca), ("cert", &cert), ("key", &key)];
    std::fs::write(&path, zip(&files)).unwrap();
    path
}

/// A connector file without contact points and local DC, which cloud mode refuses.
fn cloud_connector_file(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("sink.properties");
    std::fs::write(
        &path,
        format!("connector.class=com.datastax.oss.kafka.sink.CassandraSinkConnector\ntasks.max=1\n{body}"),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secure_connect_bundle_reaches_the_node_through_the_sni_proxy() {
    let id = unique("cloud");
    let s = secure_session().await;
    let rows = s.query_unpaged("SELECT host_id FROM system.local", ()).await.unwrap().into_rows_result().unwrap();
    let (host_id,): (uuid::Uuid,) = rows.single_row().unwrap();
    create_keyspace(&s, &id).await;
    cql(&s, &format!("CREATE TABLE {id}.t (k text PRIMARY KEY, n int)")).await;
    create_topic(&id, 1).await;
    let n = 25;
    produce(&id, &(0..n).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#))).collect::<Vec<_>>()).await;

    let seen = Arc::new(Mutex::new(Vec::new()));
    let proxy = sni_proxy(host_id.to_string(), format!("127.0.0.1:{}", secure_port()), seen.clone()).await;
    let metadata = format!(
        r#"{{"version":1,"region":"local","contact_info":{{"type":"sni_proxy","local_dc":"datacenter1","contact_points":["{host_id}"],"sni_proxy_address":"127.0.0.1:{proxy}"}}}}"#
    );
    let hits = Arc::new(Mutex::new(Vec::new()));
    let metadata_port = metadata_service(metadata, hits.clone());

    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let (user, password) = login();
    let conn = cloud_connector_file(
        &dir,
        &format!(
            "name={id}\ntopics={id}\ntopic.{id}.{id}.t.mapping=k=key, n=value.n\n\
             cloud.secureConnectBundle={}\nauth.username={user}\nauth.password={password}\n",
            bundle(&dir, metadata_port, &id).display()
        ),
    );
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        run_to_exit(
            &[OsStr::new("standalone"), OsStr::new("--until-end"), worker.as_os_str(), conn.as_os_str()],
            Duration::from_secs(120),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(count(&s, &format!("{id}.t")).await, n as i64, "{stderr}");
    assert_eq!(hits.lock().unwrap().first().map(String::as_str), Some("GET /metadata HTTP/1.1"));
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "connections went through the SNI proxy");
    assert!(seen.iter().all(|s| *s == host_id.to_string()), "every SNI name is the node's host id: {seen:?}");
    assert!(!stderr.contains(&password), "the login password is in the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_problems_are_start_up_errors() {
    let id = unique("cloud_bad");
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let hits = Arc::new(Mutex::new(Vec::new()));
    // A metadata service that answers without contact points.
    let port = metadata_service(r#"{"version":1,"contact_info":{"local_dc":"dc1"}}"#.into(), hits);
    let conn = cloud_connector_file(
        &dir,
        &format!(
            "name={id}\ntopics={id}\ntopic.{id}.ks.t.mapping=k=key\ncloud.secureConnectBundle={}\n\
             auth.username=u\nauth.password=p\n",
            bundle(&dir, port, "ks").display()
        ),
    );
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        run_to_exit(&[OsStr::new("standalone"), worker.as_os_str(), conn.as_os_str()], Duration::from_secs(60))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("Invalid proxy metadata: missing field sni_proxy_address"), "{stderr}");
    assert!(stderr.contains(&format!("https://localhost:{port}/metadata")), "{stderr}");
}
