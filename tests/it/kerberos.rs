//! Kerberos (`auth.provider=GSSAPI`) against the real KDC of `scripts/kdc up` (realm
//! CASSANDRA-SINK.TEST on 127.0.0.1:48088). No Cassandra with a Kerberos authenticator is at
//! hand (DSE's `DseAuthenticator` is not freely available), so the node's side of the exchange
//! is played here by a GSSAPI acceptor holding the service keytab `dse/localhost`, speaking as
//! DSE does: challenge `GSSAPI-START`, the Kerberos tokens, then the RFC 4752 security-layer
//! message. Everything else is real: tickets from the KDC, the sink's configuration reader and
//! its authenticator, as the driver calls it.
//!
//! Kerberos reads its configuration from `KRB5_CONFIG`, so each exchange runs in a child
//! process of this test binary with that variable set (changing the environment of the running
//! test process would race with its other threads).

use std::path::PathBuf;
use std::process::Command;

use cassandra_sink::config::properties::Properties;
use cassandra_sink::config::security;
use cassandra_sink::engine::gssapi::{Acceptor, DSE_AUTHENTICATOR, GssapiAuthenticator};
use scylla::authentication::AuthenticatorProvider;

const REALM: &str = "CASSANDRA-SINK.TEST";

fn kdc_dir() -> PathBuf {
    std::env::var("KDC_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("services/run-secure/kdc"))
}

/// Runs the ignored test `name` of this binary in a child process configured for the realm.
fn in_realm(name: &str) {
    let dir = kdc_dir();
    let up = Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/kdc"))
        .arg("status")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(up, "the test KDC is not running: run `scripts/kdc up` first");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"])
        .env("KRB5_CONFIG", dir.join("krb5.conf"))
        // No default ticket cache: the keytab is the only way in.
        .env("KRB5CCNAME", "MEMORY:no-default-cache")
        .env("KRB5RCACHETYPE", "none")
        .env("KERBEROS_CHILD", "1")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("1 passed"), "{name} in the realm:\n{text}");
}

fn settings(extra: &[(&str, &str)]) -> cassandra_sink::config::security::GssapiSettings {
    let keytab = kdc_dir().join("client.keytab");
    let mut pairs = vec![("auth.provider", "GSSAPI".to_string()), ("auth.gssapi.keyTab", keytab.display().to_string())];
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let (mut problems, mut warnings) = (Vec::new(), Vec::new());
    let s = security::read(&Properties::from_pairs(pairs), &mut problems, &mut warnings);
    assert!(problems.is_empty(), "{problems:?}");
    s.gssapi.expect("GSSAPI settings")
}

fn child() -> bool {
    std::env::var("KERBEROS_CHILD").is_ok()
}

#[test]
fn dse_exchange_against_a_real_kdc() {
    in_realm("kerberos::dse_exchange_child");
}

#[test]
fn other_authenticators_get_the_first_token_at_once() {
    in_realm("kerberos::plain_sasl_exchange_child");
}

#[test]
fn refusals_name_the_cause() {
    in_realm("kerberos::refusals_child");
}

#[test]
fn the_sink_gets_a_ticket_for_the_node_and_offers_it() {
    in_realm("kerberos::sink_binary_child");
}

/// The binary against the secure Cassandra of `scripts/secure-cassandra up`, whose
/// PasswordAuthenticator cannot take a Kerberos ticket: the sink gets a ticket for
/// `dse@localhost` from the KDC, hands it to the node as its first response (no DSE mechanism
/// negotiation with another authenticator) and reports the node's refusal as a start-up error.
#[test]
#[ignore = "run by the_sink_gets_a_ticket_for_the_node_and_offers_it in a child process"]
fn sink_binary_child() {
    assert!(child());
    let certs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("services/run-secure/certs");
    assert!(certs.join("ca.pem").exists(), "run `scripts/secure-cassandra up` first");
    let cert = |name: &str| certs.join(name).display().to_string();
    let dir = crate::common::temp_dir(&crate::common::unique("krb_sink"));
    let worker = crate::common::worker_file(&dir, "");
    let conn = dir.join("sink.properties");
    let port = std::env::var("SECURE_CQL_PORT").unwrap_or_else(|_| "39042".into());
    std::fs::write(
        &conn,
        format!(
            "name=krb\ntopics=krb\ntopic.krb.ks.t.mapping=k=key\ncontactPoints=localhost\nport={port}\n\
             loadBalancing.localDc=datacenter1\nssl.provider=OpenSSL\nssl.truststore.path={}\n\
             ssl.openssl.keyCertChain={}\nssl.openssl.privateKey={}\nauth.provider=GSSAPI\n\
             auth.gssapi.keyTab={}\n",
            cert("ca.pem"),
            cert("client-chain.pem"),
            cert("client.key"),
            kdc_dir().join("client.keytab").display()
        ),
    )
    .unwrap();
    let (code, stderr) = crate::common::run_to_exit(
        &[std::ffi::OsStr::new("standalone"), worker.as_os_str(), conn.as_os_str()],
        std::time::Duration::from_secs(90),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("refused the Kerberos login of sink@{REALM} (auth.gssapi.*)")),
        "the node got a ticket it could not take: {stderr}"
    );
}

/// The node's side, as DSE: the whole exchange from `GSSAPI-START` on. Returns the client's
/// answer to the security-layer offer, unwrapped, and the authenticated principal.
async fn play_dse(
    acceptor: &mut Acceptor,
    session: &mut Box<dyn scylla::authentication::AuthenticatorSession>,
    first: Vec<u8>,
    offer: [u8; 4],
) -> Result<(Vec<u8>, String), String> {
    let mut token = first;
    loop {
        let (reply, established) = acceptor.accept(&token)?;
        // The node's reply goes to the client as a challenge in every round: with mutual
        // authentication the last one is the AP-REP, which completes the client's context.
        let response = session.evaluate_challenge(Some(&reply)).await?.unwrap_or_default();
        if established {
            assert!(response.is_empty(), "the client's last negotiation response is empty");
            break;
        }
        token = response;
    }
    let client = acceptor.client()?;
    let wrapped = acceptor.wrap(&offer)?;
    let answer = session.evaluate_challenge(Some(&wrapped)).await?.ok_or("no answer to the security-layer offer")?;
    Ok((acceptor.unwrap(&answer)?, client))
}

#[tokio::test]
#[ignore = "run by dse_exchange_against_a_real_kdc in a child process"]
async fn dse_exchange_child() {
    assert!(child());
    let s = settings(&[]);
    assert_eq!(s.principal.as_deref(), Some(&*format!("sink@{REALM}")), "the keytab's first principal");
    let provider = GssapiAuthenticator::new(&s, "localhost").expect("credentials from the keytab");
    assert_eq!(provider.target(), "dse@localhost");
    let mut acceptor = Acceptor::new(&kdc_dir().join("dse.keytab")).unwrap();

    let (initial, mut session) = provider.start_authentication_session(DSE_AUTHENTICATOR).await.unwrap();
    assert_eq!(initial.as_deref(), Some(&b"GSSAPI"[..]), "DSE is told the mechanism first");
    let first = session.evaluate_challenge(Some(b"GSSAPI-START")).await.unwrap().unwrap();
    assert!(!first.is_empty(), "the Kerberos AP-REQ");
    // The node offers "no security layer" and integrity, and 64 KiB messages.
    let (answer, client) = play_dse(&mut acceptor, &mut session, first, [0x01 | 0x02, 0x01, 0x00, 0x00]).await.unwrap();
    assert_eq!(client, format!("sink@{REALM}"), "the node authenticated the sink's principal");
    assert_eq!(answer, vec![0x01, 0, 0, 0], "no security layer, maximum size 0, no authorization id");
    session.success(None).await.unwrap();

    // A second connection gets its own exchange (the ticket is reused from the memory cache).
    let mut acceptor = Acceptor::new(&kdc_dir().join("dse.keytab")).unwrap();
    let (_, mut session) = provider.start_authentication_session(DSE_AUTHENTICATOR).await.unwrap();
    let first = session.evaluate_challenge(Some(b"GSSAPI-START")).await.unwrap().unwrap();
    let (answer, client) = play_dse(&mut acceptor, &mut session, first, [0x07, 0xFF, 0xFF, 0xFF]).await.unwrap();
    assert_eq!((answer, client), (vec![0x01, 0, 0, 0], format!("sink@{REALM}")));

    // The principal named explicitly, and the node by its address.
    let s = settings(&[("auth.gssapi.principal", &format!("sink@{REALM}"))]);
    let provider = GssapiAuthenticator::new(&s, "127.0.0.1").unwrap();
    let mut acceptor = Acceptor::new(&kdc_dir().join("dse.keytab")).unwrap();
    let (_, mut session) = provider.start_authentication_session(DSE_AUTHENTICATOR).await.unwrap();
    let first = session.evaluate_challenge(Some(b"GSSAPI-START")).await.unwrap().unwrap();
    let (_, client) = play_dse(&mut acceptor, &mut session, first, [0x01, 0, 0, 0]).await.unwrap();
    assert_eq!(client, format!("sink@{REALM}"));
}

#[tokio::test]
#[ignore = "run by other_authenticators_get_the_first_token_at_once in a child process"]
async fn plain_sasl_exchange_child() {
    assert!(child());
    let provider = GssapiAuthenticator::new(&settings(&[]), "localhost").unwrap();
    let mut acceptor = Acceptor::new(&kdc_dir().join("dse.keytab")).unwrap();
    let (initial, mut session) =
        provider.start_authentication_session("org.example.KerberosAuthenticator").await.unwrap();
    let first = initial.expect("the AP-REQ as initial response");
    assert_ne!(first, b"GSSAPI".to_vec());
    let (answer, client) = play_dse(&mut acceptor, &mut session, first, [0x01, 0x00, 0x10, 0x00]).await.unwrap();
    assert_eq!((answer, client), (vec![0x01, 0, 0, 0], format!("sink@{REALM}")));
}

#[tokio::test]
#[ignore = "run by refusals_name_the_cause in a child process"]
async fn refusals_child() {
    assert!(child());
    // A service the realm does not know.
    let provider = GssapiAuthenticator::new(&settings(&[("auth.gssapi.service", "cassandra")]), "localhost").unwrap();
    let (_, mut session) = provider.start_authentication_session(DSE_AUTHENTICATOR).await.unwrap();
    let e = session.evaluate_challenge(Some(b"GSSAPI-START")).await.unwrap_err();
    assert!(
        e.starts_with("Kerberos (GSSAPI): cannot get a Kerberos ticket for the service cassandra@localhost")
            && e.contains("not found in Kerberos database"),
        "{e}"
    );

    // A node that insists on a security layer (integrity or confidentiality only).
    let provider = GssapiAuthenticator::new(&settings(&[]), "localhost").unwrap();
    let mut acceptor = Acceptor::new(&kdc_dir().join("dse.keytab")).unwrap();
    let (_, mut session) = provider.start_authentication_session(DSE_AUTHENTICATOR).await.unwrap();
    let first = session.evaluate_challenge(Some(b"GSSAPI-START")).await.unwrap().unwrap();
    let e = play_dse(&mut acceptor, &mut session, first, [0x04, 0x01, 0x00, 0x00]).await.unwrap_err();
    assert!(e.contains("the node requires a SASL security layer (offered mask 0x04)"), "{e}");

    // A principal the keytab has no key for.
    let s = settings(&[("auth.gssapi.principal", &format!("nobody@{REALM}"))]);
    let e = match GssapiAuthenticator::new(&s, "localhost") {
        Err(e) => e,
        Ok(provider) => match provider.start_authentication_session(DSE_AUTHENTICATOR).await {
            Err(e) => e,
            Ok((_, mut session)) => session.evaluate_challenge(Some(b"GSSAPI-START")).await.unwrap_err(),
        },
    };
    assert!(e.starts_with(&format!("cannot acquire Kerberos credentials for nobody@{REALM} with the keytab ")), "{e}");
}
