//! TLS and authentication against the secure Cassandra of `scripts/secure-cassandra up`
//! (127.0.0.1:39042): client TLS required, with a client certificate signed by the test CA, and
//! PasswordAuthenticator. Its certificate names DNS:localhost only, so connecting to 127.0.0.1
//! is a host-name mismatch and connecting to `localhost` is not. Certificates and stores come
//! from `scripts/secure-certs` (in services/run-secure/certs).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;

use crate::common::*;

const STORE_PASSWORD: &str = "sink-store-pw";

fn secure_port() -> String {
    std::env::var("SECURE_CQL_PORT").unwrap_or_else(|_| "39042".into())
}

fn test_user() -> String {
    std::env::var("SECURE_TEST_USER").unwrap_or_else(|_| "sink_tester".into())
}

fn test_password() -> String {
    std::env::var("SECURE_TEST_PASSWORD").unwrap_or_else(|_| "sink-tester-Pw-4417".into())
}

fn certs() -> PathBuf {
    std::env::var("SECURE_CERTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("services/run-secure/certs"))
}

fn cert(name: &str) -> String {
    certs().join(name).display().to_string()
}

/// The tests' own session: TLS with the test client certificate, logged in as the test role.
/// The node's certificate names localhost and the driver checks 127.0.0.1, so only that one
/// mismatch is accepted here (the sink's own checks are what the tests are about).
async fn secure_session() -> Session {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("OpenSSL");
    b.set_ca_file(cert("ca.pem")).expect("run `scripts/secure-cassandra up` first (no test CA)");
    b.set_certificate_chain_file(cert("client-chain.pem")).expect("client chain");
    b.set_private_key_file(cert("client.key"), SslFiletype::PEM).expect("client key");
    b.set_verify_callback(SslVerifyMode::PEER, |ok, ctx| ok || ctx.error().as_raw() == 64);
    SessionBuilder::new()
        .known_node(format!("127.0.0.1:{}", secure_port()))
        .tls_context(Some(b))
        .user(test_user(), test_password())
        .build()
        .await
        .expect("the secure Cassandra is not reachable: run `scripts/secure-cassandra up` first")
}

/// A keyspace with table `t (k text PRIMARY KEY, n int)`, a topic with `n` records, and the
/// worker file; returns the session, the directory and the base of the connector file.
async fn setup(id: &str, n: usize) -> (Session, PathBuf, PathBuf, String) {
    let s = secure_session().await;
    create_keyspace(&s, id).await;
    cql(&s, &format!("CREATE TABLE {id}.t (k text PRIMARY KEY, n int)")).await;
    create_topic(id, 1).await;
    let records: Vec<Rec> = (0..n).map(|i| Rec::kv(format!("k{i}"), format!(r#"{{"n":{i}}}"#))).collect();
    produce(id, &records).await;
    let dir = temp_dir(id);
    let worker = worker_file(&dir, "");
    let base = format!(
        "name={id}\nconnector.class=com.datastax.oss.kafka.sink.CassandraSinkConnector\ntasks.max=1\n\
         port={}\nloadBalancing.localDc=datacenter1\ntopics={id}\ntopic.{id}.{id}.t.mapping=k=key, n=value.n\n",
        secure_port()
    );
    (s, dir, worker, base)
}

fn login() -> String {
    format!("auth.username={}\nauth.password={}\n", test_user(), test_password())
}

/// The JDK provider with the keytool-made PKCS12 trust store and the PKCS12 client key store.
fn jdk_stores() -> String {
    format!(
        "ssl.provider=JDK\nssl.truststore.path={}\nssl.truststore.password={STORE_PASSWORD}\n\
         ssl.keystore.path={}\nssl.keystore.password={STORE_PASSWORD}\n",
        cert("truststore.p12"),
        cert("client.p12")
    )
}

/// `standalone --until-end` (writes what the topic holds, commits, exits) with the connector
/// file `body`; exit code, stderr and how long it took.
fn run_sink(dir: &Path, worker: &Path, body: &str, extra_args: &[&str]) -> (Option<i32>, String, Duration) {
    let conn = dir.join(format!("{}.properties", unique("conn")));
    std::fs::write(&conn, body).expect("connector file");
    let mut args: Vec<&OsStr> = extra_args.iter().map(OsStr::new).collect();
    args.extend([OsStr::new("standalone"), OsStr::new("--until-end"), worker.as_os_str(), conn.as_os_str()]);
    let t0 = Instant::now();
    let (code, stderr) = run_to_exit(&args, Duration::from_secs(120));
    (code, stderr, t0.elapsed())
}

fn assert_refused(code: Option<i32>, stderr: &str, took: Duration, expected: &[&str]) {
    assert_eq!(code, Some(2), "a start-up error (exit 2), not a retry loop; stderr:\n{stderr}");
    assert!(took < Duration::from_secs(60), "refused in {took:?}");
    assert!(!stderr.contains("retrying in"), "no connect retries:\n{stderr}");
    for e in expected {
        assert!(stderr.contains(e), "missing «{e}» in:\n{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pkcs12_stores_and_a_login_write_rows_and_no_secret_is_logged() {
    let id = unique("tls_p12");
    let (s, dir, worker, base) = setup(&id, 20).await;
    let body = format!("{base}contactPoints=localhost\n{}{}", jdk_stores(), login());
    // Everything at debug, the driver's and librdkafka's logs included.
    let (code, stderr, _) = run_sink(&dir, &worker, &body, &["--log", "debug"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 20, "{stderr}");
    assert!(!stderr.contains(&test_password()), "the login password is in the log:\n{stderr}");
    assert!(!stderr.contains(STORE_PASSWORD), "a store password is in the log:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pem_certificates_base64_trust_and_tls12_cipher_suites() {
    let id = unique("tls_pem");
    let (s, dir, worker, base) = setup(&id, 10).await;
    let ca = std::fs::read(cert("ca.pem")).expect("ca.pem");
    let body = format!(
        "{base}contactPoints=localhost\nssl.provider=OpenSSL\nssl.truststore.path=base64:{}\n\
         ssl.openssl.keyCertChain={}\nssl.openssl.privateKey={}\n\
         ssl.cipherSuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n{}",
        base64::engine::general_purpose::STANDARD.encode(ca),
        cert("client-chain.pem"),
        cert("client.key"),
        login()
    );
    let (code, stderr, _) = run_sink(&dir, &worker, &body, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 10, "{stderr}");

    // The list is applied: an ECDSA-only suite against the node's RSA key has nothing in common.
    let ecdsa_only = body.replace("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    let (code, stderr, took) = run_sink(&dir, &worker, &ecdsa_only, &[]);
    assert_refused(code, &stderr, took, &["TLS handshake with Cassandra at localhost:", "handshake failure"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_name_mismatch_is_refused_unless_validation_is_off() {
    let id = unique("tls_host");
    let (s, dir, worker, base) = setup(&id, 5).await;
    // 127.0.0.1 is not in the node's certificate (DNS:localhost only).
    let body = format!("{base}contactPoints=127.0.0.1\n{}{}", jdk_stores(), login());
    let (code, stderr, took) = run_sink(&dir, &worker, &body, &[]);
    assert_refused(
        code,
        &stderr,
        took,
        &[
            "host name validation failed: the certificate of 127.0.0.1 (O=cassandra-sink tests, CN=localhost) names DNS:localhost, not 127.0.0.1;",
            "ssl.hostnameValidation=false",
        ],
    );
    assert_eq!(count(&s, &format!("{id}.t")).await, 0);

    let (code, stderr, _) = run_sink(&dir, &worker, &format!("{body}ssl.hostnameValidation=false\n"), &[]);
    assert_eq!(code, Some(0), "accepted with ssl.hostnameValidation=false:\n{stderr}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 5, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_signed_by_an_untrusted_ca_is_refused() {
    let id = unique("tls_ca");
    let (_s, dir, worker, base) = setup(&id, 1).await;
    let body = format!(
        "{base}contactPoints=localhost\nssl.provider=OpenSSL\nssl.truststore.path={}\n\
         ssl.openssl.keyCertChain={}\nssl.openssl.privateKey={}\n{}",
        cert("other-ca.pem"),
        cert("client-chain.pem"),
        cert("client.key"),
        login()
    );
    let (code, stderr, took) = run_sink(&dir, &worker, &body, &[]);
    assert_refused(
        code,
        &stderr,
        took,
        &["the certificate of 127.0.0.1 was refused", "the CA that signed it is not in ssl.truststore.path"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_refuses_a_missing_or_untrusted_client_certificate() {
    let id = unique("tls_client");
    let (_s, dir, worker, base) = setup(&id, 1).await;
    let trust_only = format!(
        "{base}contactPoints=localhost\nssl.provider=JDK\nssl.truststore.path={}\n\
         ssl.truststore.password={STORE_PASSWORD}\n{}",
        cert("truststore.p12"),
        login()
    );
    let (code, stderr, took) = run_sink(&dir, &worker, &trust_only, &[]);
    assert_refused(
        code,
        &stderr,
        took,
        &["TLS handshake with Cassandra at localhost:", "if it requires client certificates, give one"],
    );

    let other =
        format!("{trust_only}ssl.keystore.path={}\nssl.keystore.password={STORE_PASSWORD}\n", cert("other-client.p12"));
    let (code, stderr, took) = run_sink(&dir, &worker, &other, &[]);
    assert_refused(
        code,
        &stderr,
        took,
        &["TLS handshake with Cassandra at localhost:", "check that it trusts the client certificate's CA"],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_a_clear_start_up_error() {
    let id = unique("auth_bad");
    let (_s, dir, worker, base) = setup(&id, 1).await;
    let wrong = "not-the-Pw-9931";
    let body = format!(
        "{base}contactPoints=localhost\n{}auth.username={}\nauth.password={wrong}\n",
        jdk_stores(),
        test_user()
    );
    let (code, stderr, took) = run_sink(&dir, &worker, &body, &[]);
    assert_refused(
        code,
        &stderr,
        took,
        &[
            &format!("refused the login of user {} (auth.username / auth.password)", test_user()),
            "password are incorrect",
        ],
    );
    assert!(!stderr.contains(wrong), "the password is in the output:\n{stderr}");

    // No login at all, where one is required.
    let body = format!("{base}contactPoints=localhost\n{}", jdk_stores());
    let (code, stderr, took) = run_sink(&dir, &worker, &body, &[]);
    assert_refused(code, &stderr, took, &["requires a login: set auth.username and auth.password"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn stores_are_checked_before_anything_connects() {
    let id = unique("tls_cfg");
    let dir = temp_dir(&id);
    let worker = worker_file(&dir, "");
    let base = format!(
        "name={id}\ntopics={id}\ntopic.{id}.ks.t.mapping=k=key\ncontactPoints=localhost\nport={}\n\
         loadBalancing.localDc=datacenter1\n",
        secure_port()
    );
    let body = format!(
        "{base}ssl.provider=JDK\nssl.truststore.path={}\nssl.truststore.password={STORE_PASSWORD}\n\
         ssl.keystore.path={}\nssl.keystore.password=wrong-store-Pw-1\nssl.openssl.keyCertChain=missing.pem\n",
        cert("truststore.jks"),
        cert("client.p12")
    );
    let (code, stderr, took) = run_sink(&dir, &worker, &body, &[]);
    let missing = std::env::current_dir().unwrap().join("missing.pem");
    assert_refused(
        code,
        &stderr,
        took,
        &[
            &format!(
                "Invalid value {} for configuration ssl.truststore.path: truststore is a Java JKS key store",
                cert("truststore.jks")
            ),
            "keytool -importkeystore",
            &format!(
                "Invalid value {} for configuration ssl.keystore.path: Invalid keystore: cannot open it with the password given",
                cert("client.p12")
            ),
            &format!("Invalid value {} for configuration ssl.openssl.keyCertChain: does not exist", missing.display()),
        ],
    );
    assert!(!stderr.contains("wrong-store-Pw-1"), "{stderr}");
}
