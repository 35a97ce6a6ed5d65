//! `ssl.*` and `auth.*` (spec §1.3, §1.4, §6): TLS to Cassandra, the PLAIN login and Kerberos
//! (GSSAPI; the exchange itself is in `engine::gssapi`).
//!
//! Every store and key is read and checked when the configuration is read, so a wrong path,
//! password, format or cipher name is a start-up problem naming the key, never a connect loop.
//! The material is kept in memory: `base64:` values are decoded there and never written to disk.
//!
//! Both providers, `JDK` and `OpenSSL`, are served by the system OpenSSL; they differ only in
//! which keys they read, as in the reference connector: `JDK` takes the client identity from
//! `ssl.keystore.*`, `OpenSSL` from `ssl.openssl.keyCertChain` + `ssl.openssl.privateKey`; both
//! take `ssl.truststore.*`. Stores are PKCS12 (what `keytool` writes by default since Java 9) or
//! PEM; a JKS store is refused with the `keytool` command that converts it.
//!
//! Host-name validation: the driver checks every node's certificate against the node's IP
//! address. On top of that (see [`Verifier`]) a certificate is accepted when it names, as DNS
//! name (or CN when it has no DNS names), a contact point that resolved to that address, which
//! is what the Java driver's HTTPS endpoint identification accepts for contact points given by
//! name. With `ssl.hostnameValidation=false` neither is required (the chain is still verified).
//! Passwords are [`Secret`]s: shown as `[hidden]` everywhere.

use std::collections::HashMap;
use std::ffi::CStr;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    ErrorCode, HandshakeError, Ssl, SslConnector, SslConnectorBuilder, SslContextBuilder, SslMethod, SslVerifyMode,
    SslVersion,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509, X509Ref, X509StoreContextRef};

use super::worker::parse_bool;
use super::{Properties, invalid};

/// A password: never printed (`Debug` and `Display` show `[hidden]`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The password itself, for the one place that hands it to the driver or to OpenSSL.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

/// `auth.provider=PLAIN` (given or inferred from `auth.username`/`auth.password`): Cassandra's
/// PasswordAuthenticator, and LDAP / Active Directory authenticators that take the same SASL
/// PLAIN exchange.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslProvider {
    Jdk,
    OpenSsl,
}

/// The client's own certificate, its chain and key.
#[derive(Clone)]
struct Identity {
    cert: X509,
    chain: Vec<X509>,
    key: PKey<Private>,
}

/// TLS to Cassandra, with the stores already read and checked.
#[derive(Clone)]
pub struct TlsSettings {
    pub provider: SslProvider,
    pub hostname_validation: bool,
    /// `ssl.cipherSuites` as written (empty: OpenSSL's defaults).
    pub cipher_suites: Vec<String>,
    /// The same in OpenSSL's names: TLS ≤ 1.2 cipher list and TLS 1.3 suites.
    tls12_ciphers: Vec<String>,
    tls13_suites: Vec<String>,
    /// Trusted CAs; `None` means the system's (as the JVM's default trust store in Java).
    trust: Option<Vec<X509>>,
    identity: Option<Identity>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("provider", &self.provider)
            .field("hostname_validation", &self.hostname_validation)
            .field("cipher_suites", &self.cipher_suites)
            .field("trusted_certificates", &self.trust.as_ref().map(Vec::len))
            .field("client_certificate", &self.identity.as_ref().map(|i| subject(&i.cert)))
            .finish()
    }
}

/// `auth.provider=GSSAPI`: Kerberos, with a keytab or the default ticket cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GssapiSettings {
    /// `auth.gssapi.keyTab`, absolute; `None`: the default ticket cache (`kinit`).
    pub keytab: Option<PathBuf>,
    /// `auth.gssapi.principal`, else the first principal of the keytab; `None` without either
    /// (the ticket cache's own principal).
    pub principal: Option<String>,
    /// `auth.gssapi.service` (`dse`): the service part of the nodes' principal.
    pub service: String,
    /// A `base64:` keytab written to a private file, removed with the last copy of these settings.
    temp: Option<Arc<TempFile>>,
}

/// A file of ours, removed on drop.
#[derive(Debug, PartialEq, Eq)]
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What `ssl.*` and `auth.*` configure.
#[derive(Debug, Clone, Default)]
pub struct Security {
    pub tls: Option<Arc<TlsSettings>>,
    pub auth: Option<Credentials>,
    pub gssapi: Option<GssapiSettings>,
}

const SSL_KEYS: [&str; 9] = [
    "ssl.provider",
    "ssl.cipherSuites",
    "ssl.hostnameValidation",
    "ssl.keystore.path",
    "ssl.keystore.password",
    "ssl.truststore.path",
    "ssl.truststore.password",
    "ssl.openssl.keyCertChain",
    "ssl.openssl.privateKey",
];
const AUTH_KEYS: [&str; 6] = [
    "auth.provider",
    "auth.username",
    "auth.password",
    "auth.gssapi.keyTab",
    "auth.gssapi.principal",
    "auth.gssapi.service",
];

/// TLS 1.3 suites (the same names in Java, IANA and OpenSSL).
const TLS13_SUITES: [&str; 5] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
];

/// A file or `base64:` value, read.
pub(crate) struct Material {
    /// How messages show it: the absolute path, or `base64:(N characters)`.
    pub(crate) shown: String,
    pub(crate) bytes: Vec<u8>,
}

/// Reads `ssl.*` and `auth.*`; problems and warnings are appended.
pub fn read(props: &Properties, problems: &mut Vec<String>, warnings: &mut Vec<String>) -> Security {
    for (key, _) in props.iter() {
        if (key.starts_with("ssl.") && !SSL_KEYS.contains(&key))
            || (key.starts_with("auth.") && !AUTH_KEYS.contains(&key))
        {
            warnings.push(format!("unknown setting {key} is ignored"));
        }
    }
    let tls = read_ssl(props, problems, warnings).map(Arc::new);
    if props.get("auth.provider").map(str::trim) == Some("GSSAPI") {
        for key in ["auth.username", "auth.password"] {
            if props.get(key).is_some() {
                warnings.push(format!("{key} has no effect with auth.provider=GSSAPI"));
            }
        }
        return Security { tls, auth: None, gssapi: read_gssapi(props, problems) };
    }
    Security { tls, auth: read_auth(props, problems, warnings), gssapi: None }
}

/// `auth.gssapi.*` (spec §1.3, §6).
fn read_gssapi(props: &Properties, problems: &mut Vec<String>) -> Option<GssapiSettings> {
    let before = problems.len();
    let service = match props.get("auth.gssapi.service").map(str::trim) {
        None => "dse".to_string(),
        Some("") => {
            problems.push(invalid("auth.gssapi.service", "", "is required"));
            String::new()
        }
        Some(s) => s.to_string(),
    };
    let principal = set(props, "auth.gssapi.principal");
    let mut temp = None;
    let mut keytab = None;
    if let Some(value) = set(props, "auth.gssapi.keyTab")
        && let Some(m) = load("auth.gssapi.keyTab", &value, problems)
    {
        match keytab_principals(&m.bytes) {
            Err(reason) => problems.push(invalid("auth.gssapi.keyTab", &m.shown, &reason)),
            Ok(found) if found.is_empty() && principal.is_none() => {
                problems.push(format!("Cannot find any principals in {}", m.shown));
            }
            Ok(found) => {
                let path = if value.starts_with("base64:") {
                    match private_file("keytab", &m.bytes) {
                        Ok(file) => {
                            let path = file.0.clone();
                            temp = Some(Arc::new(file));
                            Some(path)
                        }
                        Err(e) => {
                            problems.push(invalid(
                                "auth.gssapi.keyTab",
                                &m.shown,
                                &format!("cannot write it to a file ({e})"),
                            ));
                            None
                        }
                    }
                } else {
                    Some(PathBuf::from(&m.shown))
                };
                keytab = path.map(|p| (p, found.into_iter().next()));
            }
        }
    }
    if problems.len() > before {
        return None;
    }
    let (keytab, first) = match keytab {
        Some((path, first)) => (Some(path), first),
        None => (None, None),
    };
    Some(GssapiSettings { keytab, principal: principal.or(first), service, temp })
}

/// Decoded `base64:` material GSSAPI can only read from a file: a new file only we can read.
fn private_file(kind: &str, bytes: &[u8]) -> std::io::Result<TempFile> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = std::env::temp_dir().join(format!(
        "cassandra-sink-{}-{}-{:016x}.{kind}",
        kind,
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
    let file = TempFile(path);
    f.write_all(bytes)?;
    Ok(file)
}

/// The principals of a keytab file, in file order (MIT keytab format, versions 1 and 2).
pub fn keytab_principals(bytes: &[u8]) -> Result<Vec<String>, String> {
    let bad = |why: &str| Err(format!("not a Kerberos keytab ({why})"));
    if bytes.len() < 2 || bytes[0] != 5 || !(1..=2).contains(&bytes[1]) {
        return bad("no keytab version header");
    }
    let v1 = bytes[1] == 1;
    let mut out = Vec::new();
    let mut pos = 2usize;
    while pos + 4 <= bytes.len() {
        let size = i32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]);
        pos += 4;
        let len = size.unsigned_abs() as usize;
        if pos + len > bytes.len() {
            return bad("truncated entry");
        }
        if size > 0 {
            let entry = &bytes[pos..pos + len];
            let u16_at =
                |p: usize| -> Option<usize> { Some(u16::from_be_bytes([*entry.get(p)?, *entry.get(p + 1)?]) as usize) };
            let field = |p: usize| -> Option<(String, usize)> {
                let l = u16_at(p)?;
                let s = entry.get(p + 2..p + 2 + l)?;
                Some((String::from_utf8_lossy(s).into_owned(), p + 2 + l))
            };
            let Some(mut count) = u16_at(0) else { return bad("truncated entry") };
            if v1 {
                count = count.saturating_sub(1);
            }
            let Some((realm, mut p)) = field(2) else { return bad("truncated entry") };
            let mut components = Vec::new();
            for _ in 0..count {
                let Some((c, next)) = field(p) else { return bad("truncated entry") };
                components.push(c);
                p = next;
            }
            let principal = format!("{}@{realm}", components.join("/"));
            if !out.contains(&principal) {
                out.push(principal);
            }
        }
        pos += len;
    }
    Ok(out)
}

fn set(props: &Properties, key: &str) -> Option<String> {
    props.get(key).map(str::trim).filter(|v| !v.is_empty()).map(String::from)
}

fn read_auth(props: &Properties, problems: &mut Vec<String>, warnings: &mut Vec<String>) -> Option<Credentials> {
    let username = props.get("auth.username").map(str::trim).unwrap_or_default().to_string();
    // Passwords are taken as written: spaces may be part of them.
    let password = props.get("auth.password").unwrap_or_default().to_string();
    let given = props.get("auth.username").is_some() || props.get("auth.password").is_some();
    for key in ["auth.gssapi.keyTab", "auth.gssapi.principal", "auth.gssapi.service"] {
        if props.get(key).is_some() {
            warnings.push(format!("{key} has no effect unless auth.provider=GSSAPI"));
        }
    }
    let explicit_plain = match props.get("auth.provider").map(str::trim) {
        None | Some("None") => false,
        Some("PLAIN") => true,
        Some(other) => {
            problems.push(invalid("auth.provider", other, "String must be one of: None, PLAIN, GSSAPI"));
            return None;
        }
    };
    if !explicit_plain && !given {
        return None;
    }
    if username.is_empty() {
        if !password.is_empty() {
            problems.push("auth.password was specified without auth.username".into());
        } else if explicit_plain {
            problems.push(invalid("auth.provider", "PLAIN", "auth.username (and auth.password) must be set"));
        }
        return None;
    }
    Some(Credentials { username, password: Secret(password) })
}

fn read_ssl(props: &Properties, problems: &mut Vec<String>, warnings: &mut Vec<String>) -> Option<TlsSettings> {
    let before = problems.len();
    let provider = match props.get("ssl.provider").map(str::trim) {
        None | Some("None") => None,
        Some("JDK") => Some(SslProvider::Jdk),
        Some("OpenSSL") => Some(SslProvider::OpenSsl),
        Some(other) => {
            problems.push(invalid("ssl.provider", other, "String must be one of: None, JDK, OpenSSL"));
            None
        }
    };
    let hostname_validation = match props.get("ssl.hostnameValidation") {
        None => true,
        Some(v) => parse_bool(v).unwrap_or_else(|| {
            problems.push(invalid("ssl.hostnameValidation", v, "Expected value to be either true or false"));
            true
        }),
    };
    // Paths are checked whatever the provider, as the reference does.
    let mut material = |key: &str| set(props, key).and_then(|v| load(key, &v, problems));
    let truststore = material("ssl.truststore.path");
    let keystore = material("ssl.keystore.path");
    let cert_chain = material("ssl.openssl.keyCertChain");
    let private_key = material("ssl.openssl.privateKey");

    let Some(provider) = provider else {
        if props.get("ssl.provider").is_none_or(|p| p.trim() == "None") {
            for key in &SSL_KEYS[1..] {
                if *key != "ssl.hostnameValidation" && set(props, key).is_some() {
                    warnings.push(format!("{key} has no effect while ssl.provider is None"));
                }
            }
        }
        return None;
    };
    let (ignored, reader): (&[&str], &str) = match provider {
        SslProvider::Jdk => (&["ssl.openssl.keyCertChain", "ssl.openssl.privateKey"], "ssl.provider=OpenSSL"),
        SslProvider::OpenSsl => (&["ssl.keystore.path", "ssl.keystore.password"], "ssl.provider=JDK"),
    };
    for key in ignored {
        if set(props, key).is_some() {
            let name = if provider == SslProvider::Jdk { "JDK" } else { "OpenSSL" };
            warnings.push(format!("{key} has no effect with ssl.provider={name} (it is read with {reader})"));
        }
    }

    let cipher_suites = props.get("ssl.cipherSuites").map(super::connector::list).unwrap_or_default();
    let (tls12_ciphers, tls13_suites) = cipher_names(&cipher_suites, problems);

    let trust = truststore.and_then(|m| {
        let password = Secret(props.get("ssl.truststore.password").unwrap_or_default().to_string());
        trusted_certificates(&m, &password)
            .map_err(|reason| problems.push(invalid("ssl.truststore.path", &m.shown, &reason)))
            .ok()
    });
    let identity = match provider {
        SslProvider::Jdk => keystore.and_then(|m| {
            let password = Secret(props.get("ssl.keystore.password").unwrap_or_default().to_string());
            key_store(&m, &password)
                .map_err(|reason| problems.push(invalid("ssl.keystore.path", &m.shown, &reason)))
                .ok()
        }),
        SslProvider::OpenSsl => {
            let chain_set = set(props, "ssl.openssl.keyCertChain").is_some();
            let key_set = set(props, "ssl.openssl.privateKey").is_some();
            if chain_set != key_set {
                let missing = if chain_set { "ssl.openssl.privateKey" } else { "ssl.openssl.keyCertChain" };
                problems.push(format!(
                    "ssl.openssl.keyCertChain cannot be set without ssl.openssl.privateKey and vice-versa: {missing} is not set"
                ));
            }
            match (cert_chain, private_key) {
                (Some(chain), Some(key)) => pem_identity(&chain, &key)
                    .map_err(|reason| problems.push(invalid("ssl.openssl.keyCertChain", &chain.shown, &reason)))
                    .ok(),
                _ => None,
            }
        }
    };
    if problems.len() > before {
        return None;
    }
    let settings =
        TlsSettings { provider, hostname_validation, cipher_suites, tls12_ciphers, tls13_suites, trust, identity };
    // Everything else OpenSSL could object to (cipher lists, key/certificate pairs) shows now.
    if let Err(reason) = settings.builder(HashMap::new()) {
        problems.push(format!("Could not initialize the TLS context (ssl.*): {reason}"));
        return None;
    }
    Some(settings)
}

/// A path made absolute and normalised (as Java's `toAbsolutePath().normalize()`), or a
/// `base64:` value decoded.
pub(crate) fn load(key: &str, value: &str, problems: &mut Vec<String>) -> Option<Material> {
    if let Some(data) = value.strip_prefix("base64:") {
        let shown = format!("base64:({} characters)", data.len());
        let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        return match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
            Ok(bytes) => Some(Material { shown, bytes }),
            Err(e) => {
                problems.push(invalid(key, &shown, &format!("not valid base64 ({e})")));
                None
            }
        };
    }
    let path = absolute(Path::new(value));
    let shown = path.display().to_string();
    let reason = match std::fs::metadata(&path) {
        Err(_) => "does not exist",
        Ok(m) if !m.is_file() => "is not a file",
        Ok(_) => match std::fs::read(&path) {
            Ok(bytes) => return Some(Material { shown, bytes }),
            Err(_) => "is not readable",
        },
    };
    problems.push(invalid(key, &shown, reason));
    None
}

fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// What a store file holds, judged by its first bytes (shared with the Kafka clients' stores).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Pem,
    Jks,
    Jceks,
    /// PKCS12, or a single DER certificate.
    Der,
}

pub(crate) fn format(bytes: &[u8]) -> Format {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    if bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        Format::Jks
    } else if bytes.starts_with(&[0xCE, 0xCE, 0xCE, 0xCE]) {
        Format::Jceks
    } else if bytes[start..].starts_with(b"-----BEGIN") {
        Format::Pem
    } else {
        Format::Der
    }
}

/// A Java-only store: refused, with the `keytool` command that converts it.
fn jks_refusal(shown: &str, kind: &str, store_type: &str) -> String {
    java_store_refusal(shown, kind, store_type, "this sink", "and point the setting at the .p12 file")
}

/// A Java-only store (`store_type` JKS or JCEKS) that `reader` cannot read: refused, with the
/// `keytool` command that converts it, then `then` (what else to change).
pub(crate) fn java_store_refusal(shown: &str, kind: &str, store_type: &str, reader: &str, then: &str) -> String {
    let (src, dest) = if shown.starts_with("base64:") {
        (format!("{kind}.{}", store_type.to_ascii_lowercase()), format!("{kind}.p12"))
    } else {
        (shown.to_string(), Path::new(shown).with_extension("p12").display().to_string())
    };
    format!(
        "{kind} is a Java {store_type} key store, which {reader} cannot read; convert it to PKCS12 (same \
         password) with `keytool -importkeystore -srckeystore {src} -srcstoretype {store_type} -destkeystore {dest} \
         -deststoretype PKCS12`{then} (a PEM file works too)",
        then = if then.starts_with(',') { then.to_string() } else { format!(" {then}") }
    )
}

/// The OpenSSL reasons of an error stack, without the codes, files and lines.
pub(crate) fn reasons(e: &ErrorStack) -> String {
    let mut out: Vec<String> = Vec::new();
    for err in e.errors() {
        let r = err.reason().map(String::from).unwrap_or_else(|| err.to_string());
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.is_empty() { "unknown OpenSSL error".into() } else { out.join("; ") }
}

fn pkcs12(m: &Material, password: &Secret, what: &str) -> Result<openssl::pkcs12::ParsedPkcs12_2, String> {
    open_pkcs12(&m.bytes, password.expose(), what, &format!("the {what} password"))
}

/// Opens a PKCS12 store; a wrong password says to check `password_setting`.
pub(crate) fn open_pkcs12(
    bytes: &[u8],
    password: &str,
    what: &str,
    password_setting: &str,
) -> Result<openssl::pkcs12::ParsedPkcs12_2, String> {
    let p12 = Pkcs12::from_der(bytes)
        .map_err(|e| format!("Invalid {what}: not a PKCS12, PEM or DER file ({})", reasons(&e)))?;
    p12.parse2(password).map_err(|e| {
        format!(
            "Invalid {what}: cannot open it with the password given ({}); check {password_setting}, or \
             re-export a PKCS12 made with legacy encryption (RC2/3DES) with current algorithms",
            reasons(&e)
        )
    })
}

fn trusted_certificates(m: &Material, password: &Secret) -> Result<Vec<X509>, String> {
    let certs = match format(&m.bytes) {
        Format::Jks => return Err(jks_refusal(&m.shown, "truststore", "JKS")),
        Format::Jceks => return Err(jks_refusal(&m.shown, "truststore", "JCEKS")),
        Format::Pem => X509::stack_from_pem(&m.bytes).map_err(|e| format!("Invalid truststore: {}", reasons(&e)))?,
        Format::Der => return der_trust_store(&m.bytes, password.expose(), "the truststore password"),
    };
    if certs.is_empty() {
        return Err("Invalid truststore: it holds no certificate".into());
    }
    Ok(certs)
}

/// The certificates of a trust store that is not PEM: one DER certificate, else a PKCS12 store
/// (a wrong password says to check `password_setting`).
pub(crate) fn der_trust_store(bytes: &[u8], password: &str, password_setting: &str) -> Result<Vec<X509>, String> {
    let certs: Vec<X509> = match X509::from_der(bytes) {
        Ok(cert) => vec![cert],
        Err(_) => {
            let parsed = open_pkcs12(bytes, password, "truststore", password_setting)?;
            parsed.cert.into_iter().chain(parsed.ca.into_iter().flatten()).collect()
        }
    };
    if certs.is_empty() {
        return Err("Invalid truststore: it holds no certificate".into());
    }
    Ok(certs)
}

fn key_store(m: &Material, password: &Secret) -> Result<Identity, String> {
    match format(&m.bytes) {
        Format::Jks => Err(jks_refusal(&m.shown, "keystore", "JKS")),
        Format::Jceks => Err(jks_refusal(&m.shown, "keystore", "JCEKS")),
        Format::Pem => {
            pem_identity(m, m).map_err(|e| e.replace("Invalid certificate or private key", "Invalid keystore"))
        }
        Format::Der => {
            let parsed = pkcs12(m, password, "keystore")?;
            let key = parsed.pkey.ok_or("Invalid keystore: it holds no private key")?;
            let cert = parsed.cert.ok_or("Invalid keystore: it holds no certificate for its private key")?;
            Ok(Identity { cert, chain: parsed.ca.map(|s| s.into_iter().collect()).unwrap_or_default(), key })
        }
    }
}

/// A PEM certificate chain (leaf first) and an unencrypted PEM private key.
fn pem_identity(chain: &Material, key: &Material) -> Result<Identity, String> {
    let bad = |reason: String| format!("Invalid certificate or private key: {reason}");
    let mut certs = X509::stack_from_pem(&chain.bytes).map_err(|e| bad(reasons(&e)))?;
    if certs.is_empty() {
        return Err(bad(format!("no certificate in {}", chain.shown)));
    }
    let text = String::from_utf8_lossy(&key.bytes);
    if text.contains("ENCRYPTED") {
        return Err(bad(format!(
            "the private key in {} is encrypted; give it unencrypted (e.g. `openssl pkcs8 -topk8 -nocrypt`)",
            key.shown
        )));
    }
    // The callback refuses to prompt for a passphrase (OpenSSL's default would read the terminal).
    let pkey = PKey::private_key_from_pem_callback(&key.bytes, |_| Ok(0))
        .map_err(|e| bad(format!("no readable private key in {} ({})", key.shown, reasons(&e))))?;
    let cert = certs.remove(0);
    if !cert.public_key().is_ok_and(|pk| pk.public_eq(&pkey)) {
        return Err(bad(format!("the private key does not belong to the certificate {}", subject(&cert))));
    }
    Ok(Identity { cert, chain: certs, key: pkey })
}

/// Java (IANA) cipher-suite names, or OpenSSL names, → OpenSSL's TLS ≤ 1.2 and 1.3 lists.
fn cipher_names(suites: &[String], problems: &mut Vec<String>) -> (Vec<String>, Vec<String>) {
    let (mut tls12, mut tls13) = (Vec::new(), Vec::new());
    for suite in suites {
        if TLS13_SUITES.contains(&suite.as_str()) {
            tls13.push(suite.clone());
            continue;
        }
        let openssl_name = if suite.contains('\0') {
            "(NONE)".to_string()
        } else if let Some(rest) = suite.strip_prefix("TLS_").or_else(|| suite.strip_prefix("SSL_")) {
            openssl::ssl::cipher_name(&format!("TLS_{rest}")).to_string()
        } else {
            suite.clone()
        };
        let known = openssl_name != "(NONE)"
            && SslContextBuilder::new(SslMethod::tls_client())
                .is_ok_and(|mut b| b.set_cipher_list(&openssl_name).is_ok());
        if known {
            tls12.push(openssl_name);
        } else {
            problems.push(invalid(
                "ssl.cipherSuites",
                &suites.join(","),
                &format!("unknown cipher suite {suite} (use Java/IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_AES_128_GCM_SHA256)"),
            ));
        }
    }
    (tls12, tls13)
}

/// The subject of a certificate, `CN=..., O=...`.
fn subject(cert: &X509Ref) -> String {
    let parts: Vec<String> = cert
        .subject_name()
        .entries()
        .filter_map(|e| {
            let key = e.object().nid().short_name().ok()?;
            let value = e.data().to_string().ok()?;
            Some(format!("{key}={value}"))
        })
        .collect();
    parts.join(", ")
}

/// The names a certificate is for: DNS names (or CNs when it has none) and IP addresses.
fn cert_names(cert: &X509Ref) -> (Vec<String>, Vec<IpAddr>) {
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    if let Some(sans) = cert.subject_alt_names() {
        for n in &sans {
            if let Some(d) = n.dnsname() {
                dns.push(d.to_string());
            } else if let Some(ip) = n.ipaddress() {
                match ip.len() {
                    4 => ips.push(IpAddr::from(<[u8; 4]>::try_from(ip).unwrap_or_default())),
                    16 => ips.push(IpAddr::from(<[u8; 16]>::try_from(ip).unwrap_or_default())),
                    _ => {}
                }
            }
        }
    }
    if dns.is_empty() {
        dns = cert.subject_name().entries_by_nid(Nid::COMMONNAME).filter_map(|e| e.data().to_string().ok()).collect();
    }
    (dns, ips)
}

/// RFC 6125 matching: case-insensitive, a `*` only as the whole left-most label.
fn dns_match(pattern: &str, host: &str) -> bool {
    let (pattern, host) =
        (pattern.trim_end_matches('.').to_ascii_lowercase(), host.trim_end_matches('.').to_ascii_lowercase());
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix && suffix.contains('.')),
        None => pattern == host,
    }
}

/// The certificate check of every connection, on top of OpenSSL's: see the module comment.
/// It also keeps the last refusal, so the start-up error can say why a node was refused.
pub struct Verifier {
    hostname_validation: bool,
    truststore: bool,
    /// Contact points given by name, by the addresses they resolved to.
    names_by_ip: HashMap<IpAddr, Vec<String>>,
    last_refusal: Mutex<Option<String>>,
}

impl Verifier {
    /// Why the last certificate was refused, if one was.
    pub fn last_refusal(&self) -> Option<String> {
        self.last_refusal.lock().ok().and_then(|g| g.clone())
    }

    fn check(&self, preverify_ok: bool, ctx: &mut X509StoreContextRef) -> bool {
        if preverify_ok {
            return true;
        }
        let error = ctx.error();
        let code = error.as_raw();
        let node = expected_ip(ctx);
        let cert_subject = ctx.current_cert().map(subject).unwrap_or_default();
        let refusal = if code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH {
            if !self.hostname_validation {
                return true;
            }
            let (dns, ips) = ctx.current_cert().map(cert_names).unwrap_or_default();
            let names = node.and_then(|ip| self.names_by_ip.get(&ip)).cloned().unwrap_or_default();
            if names.iter().any(|n| dns.iter().any(|p| dns_match(p, n))) {
                return true;
            }
            let listed: Vec<String> =
                dns.iter().map(|d| format!("DNS:{d}")).chain(ips.iter().map(|i| format!("IP:{i}"))).collect();
            let node_text = node.map(|ip| ip.to_string()).unwrap_or_else(|| "the node".into());
            format!(
                "host name validation failed: the certificate of {node_text} ({cert_subject}) names {}, not {node_text}{}; \
                 connect to a name it holds (contactPoints), give the node a certificate for its address, or set \
                 ssl.hostnameValidation=false",
                if listed.is_empty() { "nothing".to_string() } else { listed.join(", ") },
                if names.is_empty() { String::new() } else { format!(" nor {}", names.join(", ")) },
            )
        } else {
            let hint = match code {
                X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                | X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
                | X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
                | X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
                | X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE => {
                    if self.truststore {
                        "; the CA that signed it is not in ssl.truststore.path"
                    } else {
                        "; the CA that signed it is not among the system's trusted CAs (set ssl.truststore.path)"
                    }
                }
                _ => "",
            };
            format!(
                "the certificate of {} was refused: {} (certificate {cert_subject}, depth {}){hint}",
                node.map(|ip| ip.to_string()).unwrap_or_else(|| "the node".into()),
                error.error_string(),
                ctx.error_depth()
            )
        };
        if let Ok(mut last) = self.last_refusal.lock() {
            *last = Some(refusal);
        }
        false
    }
}

const X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
const X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
const X509_V_ERR_HOSTNAME_MISMATCH: i32 = 62;
const X509_V_ERR_IP_ADDRESS_MISMATCH: i32 = 64;

mod ffi {
    use std::os::raw::{c_char, c_int, c_void};
    // In libcrypto (OpenSSL ≥ 3.0), which openssl-sys links; the openssl crate binds neither.
    unsafe extern "C" {
        pub fn X509_STORE_CTX_get0_param(ctx: *mut c_void) -> *mut c_void;
        pub fn X509_VERIFY_PARAM_get1_ip_asc(param: *mut c_void) -> *mut c_char;
        pub fn CRYPTO_free(ptr: *mut c_void, file: *const c_char, line: c_int);
    }
}

/// The address the driver told OpenSSL to expect (it sets the node's IP on every connection).
fn expected_ip(ctx: &X509StoreContextRef) -> Option<IpAddr> {
    // SAFETY: a `&X509StoreContextRef` is the `X509_STORE_CTX*` itself (foreign-types' opaque
    // reference types), alive for this call; get0_param returns a pointer owned by it;
    // get1_ip_asc returns a NUL-terminated copy (or NULL) that we free with CRYPTO_free.
    unsafe {
        let raw = ctx as *const X509StoreContextRef as *mut std::os::raw::c_void;
        let param = ffi::X509_STORE_CTX_get0_param(raw);
        if param.is_null() {
            return None;
        }
        let text = ffi::X509_VERIFY_PARAM_get1_ip_asc(param);
        if text.is_null() {
            return None;
        }
        let ip = CStr::from_ptr(text).to_str().ok().and_then(|s| s.parse().ok());
        ffi::CRYPTO_free(text.cast(), c"security.rs".as_ptr(), 0);
        ip
    }
}

impl TlsSettings {
    /// Whether the sink presents a client certificate (key store or PEM pair).
    pub fn has_client_certificate(&self) -> bool {
        self.identity.is_some()
    }

    /// The driver's TLS context. `names_by_ip`: the contact points given by name, by the
    /// addresses they resolve to now.
    pub fn context(
        &self,
        names_by_ip: HashMap<IpAddr, Vec<String>>,
    ) -> Result<(scylla::client::session::TlsContext, Arc<Verifier>), String> {
        let (builder, verifier) = self.builder(names_by_ip)?;
        Ok((scylla::client::session::OpenSsl010Config::new(builder).into(), verifier))
    }

    /// One handshake of our own with the node at `addr`, and a short wait for its verdict:
    /// with TLS 1.3 a node that refuses the client certificate says so only after the
    /// handshake, and the driver may then just see the connection drop. The node's reason
    /// (`tlsv13 alert certificate required`) when it refused, else `None`. Blocking: at most
    /// about 7 s.
    pub fn probe(&self, addr: SocketAddr, names_by_ip: HashMap<IpAddr, Vec<String>>) -> Option<String> {
        let (builder, _) = self.builder(names_by_ip).ok()?;
        let context = builder.build().into_context();
        let mut ssl = Ssl::new(&context).ok()?;
        ssl.set_connect_state();
        // As the driver does for every connection.
        ssl.param_mut().set_ip(addr.ip()).ok()?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
        let refusal = |e: &openssl::ssl::Error| match (e.code(), e.ssl_error()) {
            (ErrorCode::SSL, Some(stack)) => Some(reasons(stack)),
            _ => None,
        };
        let mut stream = match ssl.connect(stream) {
            Ok(s) => s,
            Err(HandshakeError::Failure(mid)) => return refusal(mid.error()),
            Err(_) => return None,
        };
        let mut byte = [0u8; 1];
        match stream.ssl_read(&mut byte) {
            Err(e) => refusal(&e),
            Ok(_) => None,
        }
    }

    fn builder(
        &self,
        names_by_ip: HashMap<IpAddr, Vec<String>>,
    ) -> Result<(SslConnectorBuilder, Arc<Verifier>), String> {
        let e = |what: &str, err: ErrorStack| format!("{what}: {}", reasons(&err));
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|err| e("OpenSSL", err))?;
        b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(|err| e("TLS versions", err))?;
        if let Some(trust) = &self.trust {
            let mut store = X509StoreBuilder::new().map_err(|err| e("trust store", err))?;
            for cert in trust {
                store.add_cert(cert.clone()).map_err(|err| e("trust store", err))?;
            }
            b.set_cert_store(store.build());
        }
        if let Some(id) = &self.identity {
            b.set_certificate(&id.cert).map_err(|err| e("Invalid certificate or private key", err))?;
            for c in &id.chain {
                b.add_extra_chain_cert(c.clone()).map_err(|err| e("Invalid certificate or private key", err))?;
            }
            b.set_private_key(&id.key).map_err(|err| e("Invalid certificate or private key", err))?;
            b.check_private_key().map_err(|err| e("Invalid certificate or private key", err))?;
        }
        if !self.cipher_suites.is_empty() {
            // As in Java, the list is the whole choice: no TLS 1.3 suite listed, no TLS 1.3.
            b.set_ciphersuites(&self.tls13_suites.join(":")).map_err(|err| e("ssl.cipherSuites", err))?;
            if self.tls13_suites.is_empty() {
                b.set_max_proto_version(Some(SslVersion::TLS1_2)).map_err(|err| e("ssl.cipherSuites", err))?;
            }
            if self.tls12_ciphers.is_empty() {
                b.set_min_proto_version(Some(SslVersion::TLS1_3)).map_err(|err| e("ssl.cipherSuites", err))?;
            } else {
                b.set_cipher_list(&self.tls12_ciphers.join(":")).map_err(|err| e("ssl.cipherSuites", err))?;
            }
        }
        let verifier = Arc::new(Verifier {
            hostname_validation: self.hostname_validation,
            truststore: self.trust.is_some(),
            names_by_ip,
            last_refusal: Mutex::new(None),
        });
        let v = verifier.clone();
        b.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| v.check(ok, ctx));
        Ok((b, verifier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Properties {
        Properties::from_pairs(pairs.iter().copied())
    }

    fn run(pairs: &[(&str, &str)]) -> (Security, Vec<String>, Vec<String>) {
        let (mut problems, mut warnings) = (Vec::new(), Vec::new());
        let s = read(&props(pairs), &mut problems, &mut warnings);
        (s, problems, warnings)
    }

    /// A CA, a leaf signed by it for `names`, and the leaf's key, made in-process.
    fn cert_for(names: &[&str]) -> (X509, X509, PKey<Private>) {
        cert_by("test CA", names)
    }

    fn cert_by(ca_name: &str, names: &[&str]) -> (X509, X509, PKey<Private>) {
        use openssl::asn1::Asn1Time;
        use openssl::bn::BigNum;
        use openssl::hash::MessageDigest;
        use openssl::rsa::Rsa;
        use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
        use openssl::x509::{X509Builder, X509NameBuilder};
        let key = |_: ()| PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let name = |cn: &str| {
            let mut n = X509NameBuilder::new().unwrap();
            n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
            n.build()
        };
        let build =
            |subject: &str, issuer: &str, pk: &PKey<Private>, signer: &PKey<Private>, ca: bool, sans: &[&str]| {
                let mut b = X509Builder::new().unwrap();
                b.set_version(2).unwrap();
                b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap()).unwrap();
                b.set_subject_name(&name(subject)).unwrap();
                b.set_issuer_name(&name(issuer)).unwrap();
                b.set_pubkey(pk).unwrap();
                b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
                b.set_not_after(&Asn1Time::days_from_now(2).unwrap()).unwrap();
                if ca {
                    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
                }
                if !sans.is_empty() {
                    let mut san = SubjectAlternativeName::new();
                    for s in sans {
                        if s.parse::<IpAddr>().is_ok() {
                            san.ip(s);
                        } else {
                            san.dns(s);
                        }
                    }
                    let ext = san.build(&b.x509v3_context(None, None)).unwrap();
                    b.append_extension(ext).unwrap();
                }
                b.sign(signer, MessageDigest::sha256()).unwrap();
                b.build()
            };
        let ca_key = key(());
        let leaf_key = key(());
        let ca = build(ca_name, ca_name, &ca_key, &ca_key, true, &[]);
        let leaf = build("node", ca_name, &leaf_key, &ca_key, false, names);
        (ca, leaf, leaf_key)
    }

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cassandra-sink-security-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn secrets_are_never_shown() {
        let (s, problems, _) = run(&[("auth.username", "bob"), ("auth.password", "s3cr3t-pw")]);
        assert!(problems.is_empty());
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cr3t-pw") && shown.contains("[hidden]"), "{shown}");
        assert_eq!(s.auth.unwrap().password.expose(), "s3cr3t-pw");
    }

    #[test]
    fn auth_provider_is_inferred_and_checked() {
        let (s, p, _) = run(&[("auth.username", "bob")]);
        assert!(p.is_empty());
        assert_eq!(s.auth.unwrap().username, "bob");
        let (s, p, _) = run(&[("auth.provider", "None"), ("auth.username", "bob"), ("auth.password", "x")]);
        assert!(p.is_empty() && s.auth.is_some(), "None is coerced to PLAIN by a username");
        let (_, p, _) = run(&[("auth.password", "x")]);
        assert_eq!(p, vec!["auth.password was specified without auth.username"]);
        let (_, p, _) = run(&[("auth.provider", "foo")]);
        assert_eq!(
            p,
            vec!["Invalid value foo for configuration auth.provider: String must be one of: None, PLAIN, GSSAPI"]
        );
        let (s, p, _) = run(&[("auth.provider", "GSSAPI")]);
        assert!(p.is_empty(), "GSSAPI without a keytab uses the ticket cache: {p:?}");
        let g = s.gssapi.unwrap();
        assert_eq!((g.keytab, g.principal, g.service.as_str()), (None, None, "dse"));
        let (_, p, _) = run(&[("auth.provider", "PLAIN")]);
        assert_eq!(
            p,
            vec!["Invalid value PLAIN for configuration auth.provider: auth.username (and auth.password) must be set"]
        );
        let (s, p, _) = run(&[]);
        assert!(p.is_empty() && s.auth.is_none() && s.tls.is_none());
    }

    #[test]
    fn ssl_provider_and_booleans() {
        let (_, p, _) = run(&[("ssl.provider", "foo")]);
        assert_eq!(
            p,
            vec!["Invalid value foo for configuration ssl.provider: String must be one of: None, JDK, OpenSSL"]
        );
        let (_, p, _) = run(&[("ssl.hostnameValidation", "yes")]);
        assert_eq!(
            p,
            vec![
                "Invalid value yes for configuration ssl.hostnameValidation: Expected value to be either true or false"
            ]
        );
        let (s, p, w) = run(&[("ssl.provider", "None"), ("ssl.cipherSuites", "x")]);
        assert!(p.is_empty() && s.tls.is_none());
        assert_eq!(w, vec!["ssl.cipherSuites has no effect while ssl.provider is None"]);
        let (s, p, _) = run(&[("ssl.provider", "JDK")]);
        assert!(p.is_empty(), "{p:?}");
        let tls = s.tls.unwrap();
        assert!(tls.hostname_validation && tls.trust.is_none() && tls.identity.is_none());
        let (_, _, w) = run(&[("ssl.foo", "1"), ("auth.bar", "2")]);
        assert_eq!(w, vec!["unknown setting auth.bar is ignored", "unknown setting ssl.foo is ignored"]);
    }

    #[test]
    fn paths_are_absolute_and_checked() {
        let cwd = std::env::current_dir().unwrap();
        let (_, p, _) = run(&[("ssl.provider", "JDK"), ("ssl.truststore.path", "./nope/../missing.p12")]);
        assert_eq!(
            p,
            vec![format!(
                "Invalid value {}/missing.p12 for configuration ssl.truststore.path: does not exist",
                cwd.display()
            )]
        );
        let dir = std::env::temp_dir();
        let (_, p, _) = run(&[("ssl.provider", "JDK"), ("ssl.keystore.path", dir.to_str().unwrap())]);
        assert_eq!(
            p,
            vec![format!(
                "Invalid value {} for configuration ssl.keystore.path: is not a file",
                absolute(&dir).display()
            )]
        );
        // Checked even while the provider is None, as the reference does.
        let (_, p, _) = run(&[("ssl.openssl.privateKey", "/nonexistent/key.pem")]);
        assert_eq!(
            p,
            vec!["Invalid value /nonexistent/key.pem for configuration ssl.openssl.privateKey: does not exist"]
        );
    }

    #[test]
    fn openssl_pair_must_be_complete() {
        let (ca, leaf, key) = cert_for(&["localhost"]);
        let chain = temp("pair-chain.pem", &leaf.to_pem().unwrap());
        let (_, p, _) = run(&[("ssl.provider", "OpenSSL"), ("ssl.openssl.keyCertChain", chain.to_str().unwrap())]);
        assert_eq!(
            p,
            vec![
                "ssl.openssl.keyCertChain cannot be set without ssl.openssl.privateKey and vice-versa: ssl.openssl.privateKey is not set"
            ]
        );
        let pem_key = key.private_key_to_pem_pkcs8().unwrap();
        let (s, p, _) = run(&[
            ("ssl.provider", "OpenSSL"),
            ("ssl.openssl.keyCertChain", chain.to_str().unwrap()),
            (
                "ssl.openssl.privateKey",
                &format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(&pem_key)),
            ),
            ("ssl.truststore.path", temp("pair-ca.pem", &ca.to_pem().unwrap()).to_str().unwrap()),
        ]);
        assert!(p.is_empty(), "{p:?}");
        let tls = s.tls.unwrap();
        assert!(tls.identity.is_some() && tls.trust.as_ref().unwrap().len() == 1);
        // A key that is not the certificate's.
        let (_, _, other_key) = cert_for(&["x"]);
        let other = temp("pair-other.key", &other_key.private_key_to_pem_pkcs8().unwrap());
        let (_, p, _) = run(&[
            ("ssl.provider", "OpenSSL"),
            ("ssl.openssl.keyCertChain", chain.to_str().unwrap()),
            ("ssl.openssl.privateKey", other.to_str().unwrap()),
        ]);
        assert!(p[0].contains("Invalid certificate or private key: the private key does not belong"), "{p:?}");
        let (_, p, _) = run(&[("ssl.provider", "OpenSSL"), ("ssl.openssl.privateKey", "base64:%%%")]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].starts_with(
                "Invalid value base64:(3 characters) for configuration ssl.openssl.privateKey: not valid base64"
            ),
            "{p:?}"
        );
        assert!(p[1].ends_with("vice-versa: ssl.openssl.keyCertChain is not set"), "{p:?}");
    }

    #[test]
    fn stores_pkcs12_pem_and_jks() {
        let (ca, leaf, key) = cert_for(&["localhost"]);
        let mut cas = openssl::stack::Stack::new().unwrap();
        cas.push(ca.clone()).unwrap();
        let p12 = Pkcs12::builder().name("client").pkey(&key).cert(&leaf).ca(cas).build2("store-pw").unwrap();
        let p12 = temp("client.p12", &p12.to_der().unwrap());
        let ok = run(&[
            ("ssl.provider", "JDK"),
            ("ssl.keystore.path", p12.to_str().unwrap()),
            ("ssl.keystore.password", "store-pw"),
            ("ssl.truststore.path", p12.to_str().unwrap()),
            ("ssl.truststore.password", "store-pw"),
        ]);
        assert!(ok.1.is_empty(), "{:?}", ok.1);
        let (_, p, _) = run(&[
            ("ssl.provider", "JDK"),
            ("ssl.keystore.path", p12.to_str().unwrap()),
            ("ssl.keystore.password", "wrong-store-pw"),
        ]);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("Invalid keystore: cannot open it with the password given"), "{p:?}");
        assert!(!p[0].contains("wrong-store-pw"), "the password is not shown: {p:?}");
        let jks = temp("store.jks", &[0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]);
        let (_, p, _) = run(&[("ssl.provider", "JDK"), ("ssl.truststore.path", jks.to_str().unwrap())]);
        assert!(p[0].contains("truststore is a Java JKS key store"), "{p:?}");
        assert!(
            p[0].contains(&format!("keytool -importkeystore -srckeystore {} -srcstoretype JKS", jks.display())),
            "{p:?}"
        );
        let garbage = temp("garbage.p12", b"not a store at all");
        let (_, p, _) = run(&[("ssl.provider", "JDK"), ("ssl.truststore.path", garbage.to_str().unwrap())]);
        assert!(p[0].contains("Invalid truststore: not a PKCS12, PEM or DER file"), "{p:?}");
    }

    #[test]
    fn cipher_suites_take_java_and_openssl_names() {
        let (s, p, _) = run(&[
            ("ssl.provider", "JDK"),
            (
                "ssl.cipherSuites",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256, ECDHE-RSA-AES256-GCM-SHA384",
            ),
        ]);
        assert!(p.is_empty(), "{p:?}");
        let tls = s.tls.unwrap();
        assert_eq!(tls.tls12_ciphers, vec!["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]);
        assert_eq!(tls.tls13_suites, vec!["TLS_AES_128_GCM_SHA256"]);
        let (_, p, _) = run(&[("ssl.provider", "JDK"), ("ssl.cipherSuites", "TLS_NOT_A_SUITE")]);
        assert!(
            p[0].starts_with(
                "Invalid value TLS_NOT_A_SUITE for configuration ssl.cipherSuites: unknown cipher suite TLS_NOT_A_SUITE"
            ),
            "{p:?}"
        );
    }

    #[test]
    fn host_names_match_like_rfc_6125() {
        assert!(dns_match("localhost", "LOCALHOST"));
        assert!(dns_match("*.example.com", "a.example.com"));
        assert!(!dns_match("*.example.com", "a.b.example.com"));
        assert!(!dns_match("*.example.com", "example.com"));
        assert!(!dns_match("*.com", "example.com"));
        let (_, leaf, _) = cert_for(&["node1.example.com", "10.0.0.1"]);
        assert_eq!(cert_names(&leaf), (vec!["node1.example.com".to_string()], vec!["10.0.0.1".parse().unwrap()]));
        let (_, no_san, _) = cert_for(&[]);
        assert_eq!(cert_names(&no_san).0, vec!["node".to_string()], "the CN when there are no DNS names");
    }

    /// A full handshake in-process: the driver's per-connection IP check, and the contact-point
    /// name accepted on top of it, through the same context the sink hands to the driver.
    #[test]
    fn verification_of_names_and_addresses() {
        use openssl::ssl::{Ssl, SslAcceptor};
        use std::net::TcpListener;
        let (ca, leaf, key) = cert_for(&["localhost"]);
        let serve = |leaf: X509, key: PKey<Private>| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
            acceptor.set_certificate(&leaf).unwrap();
            acceptor.set_private_key(&key).unwrap();
            let acceptor = acceptor.build();
            std::thread::spawn(move || {
                if let Ok((stream, _)) = listener.accept() {
                    let _ = acceptor.accept(stream);
                }
            });
            addr
        };
        let settings = |validation: bool| TlsSettings {
            provider: SslProvider::OpenSsl,
            hostname_validation: validation,
            cipher_suites: vec![],
            tls12_ciphers: vec![],
            tls13_suites: vec![],
            trust: Some(vec![ca.clone()]),
            identity: None,
        };
        let handshake = |settings: TlsSettings, names: HashMap<IpAddr, Vec<String>>| {
            let addr = serve(leaf.clone(), key.clone());
            let (builder, verifier) = settings.builder(names).unwrap();
            let context = builder.build().into_context();
            // The driver's per-connection setup (scylla's `new_ssl`): the node's IP is expected.
            let mut ssl = Ssl::new(&context).unwrap();
            ssl.set_connect_state();
            ssl.param_mut().set_ip(addr.ip()).unwrap();
            let stream = std::net::TcpStream::connect(addr).unwrap();
            let ok = ssl.connect(stream).is_ok();
            (ok, verifier.last_refusal())
        };
        let (ok, why) = handshake(settings(true), HashMap::new());
        assert!(!ok, "127.0.0.1 is not in a certificate for DNS:localhost");
        assert!(why.unwrap().contains("host name validation failed: the certificate of 127.0.0.1"));
        let names = HashMap::from([("127.0.0.1".parse().unwrap(), vec!["localhost".to_string()])]);
        assert_eq!(handshake(settings(true), names), (true, None), "contact point localhost resolved to 127.0.0.1");
        assert_eq!(handshake(settings(false), HashMap::new()), (true, None), "validation off");
        let (other_ca, _, _) = cert_by("another CA", &[]);
        let mut untrusting = settings(false);
        untrusting.trust = Some(vec![other_ca]);
        let (ok, why) = handshake(untrusting, HashMap::new());
        assert!(!ok, "signed by a CA not in the trust store");
        let why = why.unwrap();
        assert!(
            why.contains("unable to get local issuer certificate") && why.contains("not in ssl.truststore.path"),
            "{why}"
        );
    }

    fn keytab_entry(realm: &str, components: &[&str]) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend((components.len() as u16).to_be_bytes());
        e.extend((realm.len() as u16).to_be_bytes());
        e.extend(realm.as_bytes());
        for c in components {
            e.extend((c.len() as u16).to_be_bytes());
            e.extend(c.as_bytes());
        }
        e.extend(1u32.to_be_bytes()); // name type
        e.extend(0u32.to_be_bytes()); // timestamp
        e.push(1); // key version
        e.extend(18u16.to_be_bytes()); // key type
        e.extend(2u16.to_be_bytes());
        e.extend([0xAA, 0xBB]);
        e
    }

    /// A keytab of `principals` (`a/b@REALM`), with made-up keys.
    fn keytab(principals: &[&str]) -> Vec<u8> {
        let mut kt = vec![5, 2];
        for p in principals {
            let (name, realm) = p.split_once('@').unwrap();
            let components: Vec<&str> = name.split('/').collect();
            let e = keytab_entry(realm, &components);
            kt.extend((e.len() as i32).to_be_bytes());
            kt.extend(e);
        }
        kt
    }

    #[test]
    fn keytab_principals_in_file_order() {
        let mut kt = keytab(&["sink@EX.COM", "dse/node1@EX.COM", "sink@EX.COM"]);
        // A hole (a deleted entry).
        kt.extend((-3i32).to_be_bytes());
        kt.extend([0, 0, 0]);
        assert_eq!(keytab_principals(&kt).unwrap(), vec!["sink@EX.COM", "dse/node1@EX.COM"]);
        assert_eq!(keytab_principals(&[5, 2]).unwrap(), Vec::<String>::new());
        assert!(keytab_principals(b"not a keytab").unwrap_err().starts_with("not a Kerberos keytab"));
        let mut truncated = vec![5, 2];
        truncated.extend(100i32.to_be_bytes());
        assert!(keytab_principals(&truncated).is_err());
    }

    proptest::proptest! {
        /// Whatever a keytab file holds, reading its principals fails cleanly.
        #[test]
        fn hostile_keytabs_never_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut bytes = vec![5, 2];
            bytes.extend(tail);
            let _ = keytab_principals(&bytes);
        }
    }

    #[test]
    fn gssapi_settings_are_checked() {
        let kt = temp("sink.keytab", &keytab(&["sink/app@EX.COM", "other@EX.COM"]));
        let kt_path = kt.to_str().unwrap();
        let (s, p, w) = run(&[("auth.provider", "GSSAPI"), ("auth.gssapi.keyTab", kt_path), ("auth.username", "x")]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(w, vec!["auth.username has no effect with auth.provider=GSSAPI"]);
        assert!(s.auth.is_none());
        let g = s.gssapi.unwrap();
        assert_eq!(g.keytab.as_deref(), Some(kt.as_path()));
        assert_eq!(g.principal.as_deref(), Some("sink/app@EX.COM"), "the first principal of the keytab");
        assert_eq!(g.service, "dse");
        let (s, p, _) = run(&[
            ("auth.provider", "GSSAPI"),
            ("auth.gssapi.keyTab", kt_path),
            ("auth.gssapi.principal", "other@EX.COM"),
            ("auth.gssapi.service", "cassandra"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        let g = s.gssapi.unwrap();
        assert_eq!((g.principal.as_deref(), g.service.as_str()), (Some("other@EX.COM"), "cassandra"));

        let (_, p, _) = run(&[("auth.provider", "GSSAPI"), ("auth.gssapi.service", " ")]);
        assert_eq!(p, vec!["Invalid value  for configuration auth.gssapi.service: is required"]);
        let (_, p, _) = run(&[("auth.provider", "GSSAPI"), ("auth.gssapi.keyTab", "/nonexistent/sink.keytab")]);
        assert_eq!(
            p,
            vec!["Invalid value /nonexistent/sink.keytab for configuration auth.gssapi.keyTab: does not exist"]
        );
        let dir = std::env::temp_dir();
        let (_, p, _) = run(&[("auth.provider", "GSSAPI"), ("auth.gssapi.keyTab", dir.to_str().unwrap())]);
        assert_eq!(
            p,
            vec![format!(
                "Invalid value {} for configuration auth.gssapi.keyTab: is not a file",
                absolute(&dir).display()
            )]
        );
        let empty = temp("empty.keytab", &[5, 2]);
        let (_, p, _) = run(&[("auth.provider", "GSSAPI"), ("auth.gssapi.keyTab", empty.to_str().unwrap())]);
        assert_eq!(p, vec![format!("Cannot find any principals in {}", empty.display())]);
        let garbage = temp("garbage.keytab", b"garbage");
        let (_, p, _) = run(&[("auth.provider", "GSSAPI"), ("auth.gssapi.keyTab", garbage.to_str().unwrap())]);
        assert!(p[0].ends_with("auth.gssapi.keyTab: not a Kerberos keytab (no keytab version header)"), "{p:?}");
        // Keys without GSSAPI.
        let (_, _, w) = run(&[("auth.gssapi.principal", "x@EX.COM")]);
        assert_eq!(w, vec!["auth.gssapi.principal has no effect unless auth.provider=GSSAPI"]);
    }

    #[test]
    fn a_base64_keytab_goes_to_a_private_file_removed_with_the_settings() {
        use std::os::unix::fs::PermissionsExt as _;
        let data = base64::engine::general_purpose::STANDARD.encode(keytab(&["sink@EX.COM"]));
        let (s, p, _) = run(&[("auth.provider", "GSSAPI"), ("auth.gssapi.keyTab", &format!("base64:{data}"))]);
        assert!(p.is_empty(), "{p:?}");
        let g = s.gssapi.unwrap();
        let path = g.keytab.clone().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(g.principal.as_deref(), Some("sink@EX.COM"));
        let copy = g.clone();
        drop(g);
        assert!(path.exists(), "kept while a copy lives");
        drop(copy);
        assert!(!path.exists(), "removed with the last copy");
    }
}
