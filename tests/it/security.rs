//! TLS and authentication against the secure Cassandra of `scripts/secure-cassandra up`
//! (127.0.0.1:39042): client TLS required, with a client certificate signed by the test CA, and
//! PasswordAuthenticator. Its certificate names DNS:localhost only, so connecting to 127.0.0.1
//! is a host-name mismatch and connecting to `localhost` is not. Certificates and stores come
//! from `scripts/secure-certs` (in services/run-secure/certs).
//!
//! The Kafka side (below): the secure Kafka of `scripts/secure-kafka up` with SSL, SASL_SSL and
//! SASL_PLAINTEXT listeners (one of them with Kerberos, the realm of `scripts/kdc up`), configured
//! with the Java client keys of a Kafka Connect worker file.

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

// Kafka: the secure Kafka of `scripts/secure-kafka up` (SSL 49093 with client certificates,
// SASL_SSL 49094 and SASL_PLAINTEXT 49095 with SCRAM-SHA-256/512 and PLAIN, PLAINTEXT 49092 for
// set-up), its certificates in the same directory as the secure Cassandra's. Rows go to the main
// Cassandra.

fn kafka_port(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.into())
}

fn ssl_port() -> String {
    kafka_port("SECURE_KAFKA_SSL_PORT", "49093")
}

fn sasl_ssl_port() -> String {
    kafka_port("SECURE_KAFKA_SASL_SSL_PORT", "49094")
}

fn sasl_plaintext_port() -> String {
    kafka_port("SECURE_KAFKA_SASL_PLAINTEXT_PORT", "49095")
}

fn kafka_user() -> String {
    std::env::var("SECURE_KAFKA_USER").unwrap_or_else(|_| "sink_kafka".into())
}

fn kafka_password() -> String {
    std::env::var("SECURE_KAFKA_PASSWORD").unwrap_or_else(|_| "sink-kafka-Pw-7730".into())
}

const SCRAM: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";
const PLAIN: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";

/// `sasl.jaas.config` for `module` with the test user and `password`.
fn jaas(module: &str, password: &str) -> String {
    format!("{module} required username=\"{}\" password=\"{password}\";", kafka_user())
}

fn kafka_records(from: usize, to: usize) -> Vec<(String, String)> {
    (from..to).map(|i| (format!("k{i}"), format!(r#"{{"n":{i}}}"#))).collect()
}

/// A table `t (k text PRIMARY KEY, n int)` in the main Cassandra, a 2-partition topic with `n`
/// records on the secure Kafka, and a directory.
async fn kafka_setup(id: &str, n: usize) -> (Session, PathBuf) {
    for port in [ssl_port(), sasl_ssl_port(), sasl_plaintext_port()] {
        require_secure_kafka(&port);
    }
    let s = cassandra().await;
    create_keyspace(&s, id).await;
    cql(&s, &format!("CREATE TABLE {id}.t (k text PRIMARY KEY, n int)")).await;
    secure_create_topic(id, 2).await;
    secure_produce(id, &kafka_records(0, n)).await;
    (s, temp_dir(id))
}

/// A worker file reaching the secure Kafka on `port` with the given security keys.
fn kafka_worker(dir: &Path, port: &str, security: &str) -> PathBuf {
    worker_file_at(dir, &format!("{}.properties", unique("worker")), &format!("127.0.0.1:{port}"), security)
}

/// The connector of topic `id` into `id.t` (main Cassandra), with `extra` settings.
fn kafka_connector(dir: &Path, id: &str, extra: &str) -> PathBuf {
    connector_file(
        dir,
        &format!("{}.properties", unique("conn")),
        &format!("name={id}\ntopics={id}\ntopic.{id}.{id}.t.mapping=k=key, n=value.n\n{extra}"),
    )
}

/// A dead-letter topic (created by the sink, through the dead-letter settings) for `id`.
fn dead_letters(id: &str) -> String {
    format!(
        "errors.tolerance=all\nerrors.deadletterqueue.topic.name={id}_dlq\n\
         errors.deadletterqueue.topic.replication.factor=1\n"
    )
}

/// `standalone --until-end` at debug level (librdkafka's log included); exit code and stderr.
fn drain(worker: &Path, conn: &Path) -> (Option<i32>, String) {
    let args: Vec<&OsStr> = vec![
        OsStr::new("--log"),
        OsStr::new("debug"),
        OsStr::new("standalone"),
        OsStr::new("--until-end"),
        worker.as_os_str(),
        conn.as_os_str(),
    ];
    run_to_exit(&args, Duration::from_secs(120))
}

fn assert_no_secret(log: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!log.contains(s), "a password ({s}) is in the output:\n{log}");
    }
}

/// The settings of one client in the worker file, under `prefix` (`consumer.`, `producer.`, or
/// none for the top level).
fn prefixed(prefix: &str, settings: &str) -> String {
    settings.lines().map(|l| format!("{prefix}{l}\n")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_sasl_ssl_with_scram_and_a_pkcs12_truststore_end_to_end() {
    let id = unique("k_sasl_ssl");
    let (s, dir) = kafka_setup(&id, 20).await;
    // One record no mapping takes: it goes to the dead-letter topic, through the producer.
    secure_produce(&id, &[("bad".into(), r#"{"n":"not a number"}"#.into())]).await;
    let client = format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config={}\n\
         ssl.truststore.type=PKCS12\nssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}",
        jaas(SCRAM, &kafka_password()),
        cert("truststore.p12")
    );
    // Kafka Connect's way: the worker's own clients at the top level (here with a password the
    // broker refuses: the prefixed settings must win), the consumers and producers prefixed.
    let top = format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config={}\n",
        jaas(SCRAM, "top-level-Pw-0")
    );
    // librdkafka's own debug log too (its configuration dump included).
    let security = format!(
        "{top}{}{}consumer.debug=security,conf,broker\n",
        prefixed("consumer.", &client),
        prefixed("producer.", &client)
    );
    let worker = kafka_worker(&dir, &sasl_ssl_port(), &security);
    let conn = kafka_connector(&dir, &id, &dead_letters(&id));
    let (code, log) = drain(&worker, &conn);
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 20, "{log}");
    assert_eq!(secure_committed(&format!("connect-{id}"), &id, 2), 21, "every record committed:\n{log}");
    let dlq = secure_consume(&format!("{id}_dlq"), 1, Duration::from_secs(20));
    assert_eq!(dlq.len(), 1, "the bad record is in the dead-letter topic:\n{log}");
    assert_no_secret(&log, &[&kafka_password(), STORE_PASSWORD, "top-level-Pw-0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_ssl_with_pem_truststore_and_client_certificates() {
    let id = unique("k_ssl");
    let (s, dir) = kafka_setup(&id, 12).await;
    secure_produce(&id, &[("bad".into(), r#"{"n":"not a number"}"#.into())]).await;
    // The listener requires a client certificate: the consumer's from a PKCS12 key store, the
    // dead-letter producer's from a PEM key store with an encrypted key.
    let security = format!(
        "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location={}\n\
         ssl.keystore.type=PKCS12\nssl.keystore.location={}\nssl.keystore.password={STORE_PASSWORD}\n\
         producer.ssl.keystore.type=PEM\nproducer.ssl.keystore.location={}\nproducer.ssl.key.password={STORE_PASSWORD}\n",
        cert("ca.pem"),
        cert("client.p12"),
        cert("client-keystore.pem")
    );
    let worker = kafka_worker(&dir, &ssl_port(), &security);
    let conn = kafka_connector(&dir, &id, &dead_letters(&id));
    let (code, log) = drain(&worker, &conn);
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 12, "{log}");
    assert_eq!(secure_committed(&format!("connect-{id}"), &id, 2), 13, "{log}");
    assert_eq!(secure_consume(&format!("{id}_dlq"), 1, Duration::from_secs(20)).len(), 1, "{log}");
    assert_no_secret(&log, &[STORE_PASSWORD]);
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_sasl_plaintext_with_plain_then_scram() {
    let id = unique("k_sasl_plain");
    let (s, dir) = kafka_setup(&id, 10).await;
    let plain = format!(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config={}\n",
        jaas(PLAIN, &kafka_password())
    );
    let worker = kafka_worker(&dir, &sasl_plaintext_port(), &plain);
    let conn = kafka_connector(&dir, &id, "");
    let (code, log) = drain(&worker, &conn);
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 10, "{log}");
    assert_eq!(secure_committed(&format!("connect-{id}"), &id, 2), 10, "{log}");
    assert_no_secret(&log, &[&kafka_password()]);

    // The same group with SCRAM-SHA-256 goes on from the committed offsets.
    secure_produce(&id, &kafka_records(10, 15)).await;
    let scram = format!(
        "consumer.security.protocol=SASL_PLAINTEXT\nconsumer.sasl.mechanism=SCRAM-SHA-256\nconsumer.sasl.jaas.config={}\n",
        jaas(SCRAM, &kafka_password())
    );
    let worker = kafka_worker(&dir, &sasl_plaintext_port(), &scram);
    let (code, log) = drain(&worker, &conn);
    assert_eq!(code, Some(0), "{log}");
    let stopped = log.lines().find(|l| l.contains("connector stopped")).unwrap_or_default();
    assert!(stopped.ends_with("records=5"), "only the new records are read:\n{log}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 15, "{log}");
    assert_eq!(secure_committed(&format!("connect-{id}"), &id, 2), 15, "{log}");
    assert_no_secret(&log, &[&kafka_password()]);
}

/// Brokers that refuse the login or the TLS handshake are a start-up error (exit 2: retrying
/// cannot fix a configuration) whose message says why and which settings to check; nothing is
/// written or committed, no secret is shown. Returns the log.
async fn kafka_refusal(id: &str, port: &str, security: &str, expected: &str, secrets: &[&str]) -> String {
    let (s, dir) = kafka_setup(id, 3).await;
    let worker = kafka_worker(&dir, port, security);
    let conn = kafka_connector(&dir, id, "");
    let mut sink = Sink::start(&worker, &[&conn]);
    let status =
        sink.wait(Duration::from_secs(90)).unwrap_or_else(|| panic!("the sink keeps running:\n{}", sink.log()));
    let log = sink.log();
    assert_eq!(status.code(), Some(2), "{log}");
    assert!(log.contains(expected), "no «{expected}» in the log:\n{log}");
    assert!(log.contains("refused the connection") && log.contains("Check security.protocol"), "{log}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 0);
    assert_eq!(secure_committed(&format!("connect-{id}"), id, 2), 0);
    assert_no_secret(&log, secrets);
    log
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_wrong_password_is_reported_as_an_authentication_failure() {
    let id = unique("k_bad_pw");
    let wrong = "not-the-Kafka-Pw-5521";
    let security = format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config={}\nssl.truststore.location={}\n",
        jaas(SCRAM, wrong),
        cert("ca.pem")
    );
    let log = kafka_refusal(
        &id,
        &sasl_ssl_port(),
        &security,
        "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
        &[wrong],
    )
    .await;
    assert!(log.contains("SASL authentication error"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_broker_signed_by_an_untrusted_ca_is_refused() {
    let id = unique("k_bad_ca");
    let security = format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config={}\nssl.truststore.location={}\n",
        jaas(SCRAM, &kafka_password()),
        cert("other-ca.pem")
    );
    let log = kafka_refusal(&id, &sasl_ssl_port(), &security, "certificate verify failed", &[&kafka_password()]).await;
    assert!(log.contains("SSL handshake failed"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_stores_and_logins_are_checked_at_start_up() {
    let id = unique("k_cfg");
    let dir = temp_dir(&id);
    let security = format!(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config={PLAIN} required username=\"u\" password=\"jaas-Pw-3318\";\n\
         ssl.truststore.location={}\nssl.truststore.password={STORE_PASSWORD}\n\
         consumer.ssl.keystore.location={}\nconsumer.ssl.keystore.password=wrong-store-Pw-1\n",
        cert("truststore.jks"),
        cert("client.p12")
    );
    let worker = kafka_worker(&dir, &sasl_ssl_port(), &security);
    let conn = kafka_connector(&dir, &id, "");
    let (code, stderr) = drain(&worker, &conn);
    assert_eq!(code, Some(2), "{stderr}");
    for expected in [
        format!(
            "Invalid value [hidden] for configuration sasl.jaas.config: it names the login module PlainLoginModule, \
             but sasl.mechanism=SCRAM-SHA-512 takes {SCRAM}"
        ),
        format!(
            "Invalid value {} for configuration ssl.truststore.location: truststore is a Java JKS key store",
            cert("truststore.jks")
        ),
        "keytool -importkeystore".to_string(),
        format!(
            "Invalid value {} for configuration consumer.ssl.keystore.location: Invalid keystore: cannot open it with \
             the password given",
            cert("client.p12")
        ),
    ] {
        assert!(stderr.contains(&expected), "missing «{expected}» in:\n{stderr}");
    }
    assert_no_secret(&stderr, &["jaas-Pw-3318", "wrong-store-Pw-1", STORE_PASSWORD]);
}

// Kerberos: the SASL_PLAINTEXT listener with GSSAPI of the secure Kafka (49096), its broker
// logged in as kafka/127.0.0.1 of the realm of `scripts/kdc up`; the sink logs in as sink@REALM
// from the realm's client.keytab. Kerberos reads its configuration from KRB5_CONFIG and keeps
// tickets in KRB5CCNAME: both are set for the sink process only, the cache one of its own.

const KRB5: &str = "com.sun.security.auth.module.Krb5LoginModule";
const REALM: &str = "CASSANDRA-SINK.TEST";

fn gssapi_port() -> String {
    kafka_port("SECURE_KAFKA_GSSAPI_PORT", "49096")
}

fn kdc_dir() -> PathBuf {
    std::env::var("KDC_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("services/run-secure/kdc"))
}

/// The worker's keys for Kerberos from `keytab` (a file of the realm's directory) as `principal`.
fn kerberos(keytab: &str, principal: &str, service: &str) -> String {
    format!(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\nsasl.kerberos.service.name={service}\n\
         sasl.jaas.config={KRB5} required useKeyTab=true storeKey=true keyTab=\"{}\" principal=\"{principal}\";\n",
        kdc_dir().join(keytab).display()
    )
}

/// The sink (`args` after the worker and connector files) in the realm; exit code and stderr.
fn run_in_realm(args: &[&str], worker: &Path, conn: &Path) -> (Option<i32>, String) {
    let krb5 = kdc_dir().join("krb5.conf");
    assert!(krb5.exists(), "no {}: run `scripts/kdc up` first", krb5.display());
    let cache = worker.with_file_name(format!("{}.ccache", unique("krb5cc")));
    let cache = std::ffi::OsString::from(format!("FILE:{}", cache.display()));
    let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    all.extend([worker.as_os_str(), conn.as_os_str()]);
    run_to_exit_with_env(
        &all,
        &[("KRB5_CONFIG", krb5.as_os_str()), ("KRB5CCNAME", &cache), ("KRB5RCACHETYPE", OsStr::new("none"))],
        Duration::from_secs(120),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_sasl_plaintext_with_kerberos_from_a_keytab() {
    require_secure_kafka(&gssapi_port());
    let id = unique("k_gssapi");
    let (s, dir) = kafka_setup(&id, 10).await;
    // The dead-letter producer logs in the same way.
    secure_produce(&id, &[("bad".into(), r#"{"n":"not a number"}"#.into())]).await;
    let security = format!("{}consumer.debug=security\n", kerberos("client.keytab", &format!("sink@{REALM}"), "kafka"));
    let worker = kafka_worker(&dir, &gssapi_port(), &security);
    let conn = kafka_connector(&dir, &id, &dead_letters(&id));
    let (code, log) = run_in_realm(&["--log", "debug", "standalone", "--until-end"], &worker, &conn);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("Kerberos ticket refreshed"), "librdkafka ran kinit:\n{log}");
    assert_eq!(count(&s, &format!("{id}.t")).await, 10, "{log}");
    assert_eq!(secure_committed(&format!("connect-{id}"), &id, 2), 11, "every record committed:\n{log}");
    assert_eq!(secure_consume(&format!("{id}_dlq"), 1, Duration::from_secs(20)).len(), 1, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_kerberos_logins_the_realm_refuses_are_start_up_errors() {
    require_secure_kafka(&gssapi_port());
    let cases = [
        // A principal the keytab has no key for.
        (
            kerberos("client.keytab", &format!("nobody@{REALM}"), "kafka"),
            format!("the Kerberos login of nobody@{REALM} with the keytab"),
            "no suitable keys",
        ),
        // The right principal, another principal's keytab.
        (
            kerberos("kafka.keytab", &format!("sink@{REALM}"), "kafka"),
            format!("the Kerberos login of sink@{REALM} with the keytab"),
            "no suitable keys",
        ),
        // A good login, a service the realm does not know: the broker cannot be reached.
        (
            kerberos("client.keytab", &format!("sink@{REALM}"), "kafka-nowhere"),
            "refused the connection".to_string(),
            "Server kafka-nowhere/127.0.0.1@CASSANDRA-SINK.TEST not found in Kerberos database",
        ),
    ];
    for (n, (security, expected, detail)) in cases.iter().enumerate() {
        let id = unique(&format!("k_gss_bad{n}"));
        let (s, dir) = kafka_setup(&id, 3).await;
        let worker = kafka_worker(&dir, &gssapi_port(), security);
        let conn = kafka_connector(&dir, &id, "");
        let started = Instant::now();
        let (code, log) = run_in_realm(&["standalone"], &worker, &conn);
        assert_eq!(code, Some(2), "{log}");
        assert!(started.elapsed() < Duration::from_secs(60), "{log}");
        assert!(log.contains(expected.as_str()) && log.contains(detail), "no «{expected}» / «{detail}» in:\n{log}");
        assert!(log.contains("sasl.jaas.config"), "the message names the settings to check:\n{log}");
        assert_eq!(count(&s, &format!("{id}.t")).await, 0);
        assert_eq!(secure_committed(&format!("connect-{id}"), &id, 2), 0);
    }
}
