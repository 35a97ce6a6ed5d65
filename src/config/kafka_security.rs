//! The Java Kafka clients' security settings (`security.protocol`, SASL with `sasl.jaas.config`,
//! SSL stores) → librdkafka's, per client: the worker's top level, `consumer.` and `producer.`.

use std::collections::BTreeMap;

use super::security::{self, Format};
use super::{Properties, invalid};

/// The Java clients' security settings that are read as a group, per client: under no prefix (the
/// worker's own clients in Kafka Connect), under `consumer.` (the sink's consumers) and under
/// `producer.` (the dead-letter producer).
pub const KAFKA_SECURITY_KEYS: [&str; 18] = [
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.jaas.config",
    "sasl.username",
    "sasl.password",
    "sasl.kerberos.service.name",
    "ssl.truststore.location",
    "ssl.truststore.password",
    "ssl.truststore.type",
    "ssl.truststore.certificates",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.keystore.type",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
];

/// How values of secret keys appear in messages.
pub(super) const HIDDEN: &str = "[hidden]";

/// Whether a Kafka client key (Java or librdkafka name, with or without prefix) holds a secret:
/// its value is never shown.
pub fn is_secret_kafka_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.ends_with("password")
        || key.ends_with("sasl.jaas.config")
        || key.ends_with("ssl.keystore.key")
        || key.ends_with("ssl.key.pem")
        || key.ends_with("secret")
}

/// A client's security settings in Java's names: unprefixed key → (the key as written, value).
pub(super) type JavaSecurity<'a> = BTreeMap<&'static str, (String, &'a str)>;

/// The settings under `prefix`, on top of `base` (a prefixed key wins over the same key below).
pub(super) fn java_security<'a>(
    props: &'a Properties,
    prefix: &str,
    base: Option<&JavaSecurity<'a>>,
) -> JavaSecurity<'a> {
    let mut out = base.cloned().unwrap_or_default();
    for key in KAFKA_SECURITY_KEYS {
        let full = format!("{prefix}{key}");
        if let Some(v) = props.get(&full) {
            out.insert(key, (full, v));
        }
    }
    out
}

/// Java client security settings → librdkafka settings. Problems name the key as written;
/// secret values show as `[hidden]`. Only what the protocol uses is read, as the Java client does.
pub(super) fn kafka_security(s: &JavaSecurity<'_>, problems: &mut Vec<String>) -> BTreeMap<String, String> {
    let mut found = Vec::new();
    let mut out = BTreeMap::new();
    if let Some((key, v)) = s.get("security.protocol") {
        let protocol = v.trim().to_ascii_uppercase();
        if ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(&protocol.as_str()) {
            out.insert("security.protocol".to_string(), protocol.to_ascii_lowercase());
            if protocol.starts_with("SASL_") {
                sasl_settings(s, (key, &protocol), &mut out, &mut found);
            }
            if protocol.ends_with("SSL") {
                ssl_settings(s, &mut out, &mut found);
            }
        } else {
            found.push(invalid(
                key,
                v,
                "String must be one of (case insensitive): PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
            ));
        }
    }
    // A top-level key reaches the consumer and the producer: its problem is listed once.
    for p in found {
        if !problems.contains(&p) {
            problems.push(p);
        }
    }
    out
}

const PLAIN_MODULE: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM_MODULE: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";
const KRB5_MODULE: &str = "com.sun.security.auth.module.Krb5LoginModule";

fn sasl_settings(
    s: &JavaSecurity<'_>,
    (protocol_key, protocol): (&str, &str),
    out: &mut BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    // Java's and librdkafka's default mechanism is GSSAPI.
    let (mechanism_key, mechanism) = match s.get("sasl.mechanism").or_else(|| s.get("sasl.mechanisms")) {
        None => ("sasl.mechanism".to_string(), "GSSAPI".to_string()),
        Some((key, v)) => (key.clone(), v.trim().to_ascii_uppercase()),
    };
    let module = match mechanism.as_str() {
        "PLAIN" => PLAIN_MODULE,
        "SCRAM-SHA-256" | "SCRAM-SHA-512" => SCRAM_MODULE,
        "GSSAPI" => {
            if !librdkafka_has_gssapi() {
                problems.push(invalid(
                    &mechanism_key,
                    "GSSAPI",
                    "Kerberos (GSSAPI) needs librdkafka built with Cyrus SASL (libsasl2), and this build of \
                     cassandra-sink has no such support; supported here: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
                ));
                return;
            }
            KRB5_MODULE
        }
        "OAUTHBEARER" => {
            problems.push(invalid(
                &mechanism_key,
                &mechanism,
                "OAUTHBEARER is not supported by this sink; supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI",
            ));
            return;
        }
        _ => {
            problems.push(invalid(
                &mechanism_key,
                &mechanism,
                "unknown SASL mechanism; supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI",
            ));
            return;
        }
    };
    out.insert("sasl.mechanisms".into(), mechanism.clone());
    let mut user = None;
    let mut password = None;
    if let Some((key, text)) = s.get("sasl.jaas.config") {
        match parse_jaas(text) {
            Err(reason) => problems.push(invalid(key, HIDDEN, &reason)),
            Ok(entry) if entry.module != module => {
                let short = |m: &str| m.rsplit('.').next().unwrap_or(m).to_string();
                problems.push(invalid(
                    key,
                    HIDDEN,
                    &format!(
                        "it names the login module {}, but {mechanism_key}={mechanism} takes {}",
                        short(&entry.module),
                        module
                    ),
                ));
            }
            Ok(entry) if module == KRB5_MODULE => match krb5_login(&entry.options) {
                Ok(settings) => out.extend(settings),
                Err(reason) => problems.push(invalid(key, HIDDEN, &reason)),
            },
            Ok(mut entry) => {
                user = entry.options.remove("username");
                password = entry.options.remove("password");
                if user.is_none() || password.is_none() {
                    problems.push(invalid(
                        key,
                        HIDDEN,
                        &format!(
                            "{} needs username=\"...\" and password=\"...\"",
                            module.rsplit('.').next().unwrap_or(module)
                        ),
                    ));
                }
            }
        }
    }
    // librdkafka's own names, when given, win.
    if let Some((_, v)) = s.get("sasl.username") {
        user = Some(v.trim().to_string());
    }
    if let Some((_, v)) = s.get("sasl.password") {
        password = Some(v.to_string());
    }
    if module != KRB5_MODULE {
        match (user, password) {
            (Some(u), Some(p)) => {
                out.insert("sasl.username".into(), u);
                out.insert("sasl.password".into(), p);
            }
            _ if s.get("sasl.jaas.config").is_some() => {} // already reported
            _ => problems.push(invalid(
                protocol_key,
                protocol,
                &format!(
                    "SASL with {mechanism} needs a user and password: set sasl.jaas.config (with the consumer. \
                     or producer. prefix for one client) to {module} required username=\"...\" password=\"...\";"
                ),
            )),
        }
    }
    if let Some((_, v)) = s.get("sasl.kerberos.service.name") {
        out.insert("sasl.kerberos.service.name".into(), v.trim().to_string());
    }
}

/// Krb5LoginModule's options → librdkafka's Kerberos settings. With `useKeyTab=true` librdkafka
/// gets tickets for `principal` from `keyTab` by running `kinit` (its `sasl.kerberos.kinit.cmd`,
/// through the shell: the two values must be plain), into the default credential cache
/// (`KRB5CCNAME`); otherwise it uses the tickets already in that cache and runs nothing.
fn krb5_login(o: &BTreeMap<String, String>) -> Result<Vec<(String, String)>, String> {
    let yes = |k: &str| o.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !yes("useKeyTab") {
        return Ok(vec![("sasl.kerberos.min.time.before.relogin".into(), "0".into())]);
    }
    let (Some(keytab), Some(principal)) = (o.get("keyTab"), o.get("principal")) else {
        return Err("Krb5LoginModule with useKeyTab=true needs keyTab=\"...\" and principal=\"...\"".into());
    };
    let plain = |v: &str, extra: &[char]| {
        !v.is_empty() && v.chars().all(|c| c.is_alphanumeric() || "._-/@+=:,".contains(c) || extra.contains(&c))
    };
    if !plain(principal, &[]) {
        return Err(format!("the principal {principal:?} has characters a Kerberos principal here may not have"));
    }
    if !plain(keytab, &[' ', '~']) {
        return Err(format!("the keyTab path {keytab:?} has characters it may not have here (quotes, $, `, \\)"));
    }
    if let Err(e) = std::fs::File::open(keytab) {
        return Err(format!("cannot read the keyTab {keytab}: {e}"));
    }
    Ok(vec![("sasl.kerberos.keytab".into(), keytab.clone()), ("sasl.kerberos.principal".into(), principal.clone())])
}

/// Whether the linked librdkafka has Kerberos (its `builtin.features` list `sasl_gssapi`).
fn librdkafka_has_gssapi() -> bool {
    rdkafka::ClientConfig::new()
        .create_native_config()
        .and_then(|c| c.get("builtin.features"))
        .map(|f| f.split(',').any(|x| x.trim() == "sasl_gssapi"))
        .unwrap_or(false)
}

fn ssl_settings(s: &JavaSecurity<'_>, out: &mut BTreeMap<String, String>, problems: &mut Vec<String>) {
    match s.get("ssl.endpoint.identification.algorithm") {
        None => {
            out.insert("ssl.endpoint.identification.algorithm".into(), "https".into());
        }
        Some((key, v)) => match v.trim().to_ascii_lowercase().as_str() {
            "https" => {
                out.insert("ssl.endpoint.identification.algorithm".into(), "https".into());
            }
            "" => {
                out.insert("ssl.endpoint.identification.algorithm".into(), "none".into());
            }
            _ => problems.push(invalid(
                key,
                v,
                "allowed: https (the broker's certificate must name the host connected to), or empty (not checked)",
            )),
        },
    }
    for type_key in ["ssl.truststore.type", "ssl.keystore.type"] {
        if let Some((key, v)) = s.get(type_key)
            && !["JKS", "PKCS12", "PEM"].iter().any(|t| t.eq_ignore_ascii_case(v.trim()))
        {
            problems.push(invalid(key, v, "String must be one of: JKS, PKCS12, PEM"));
        }
    }
    let password = |k: &str| s.get(k).map(|(_, v)| v.to_string());

    // Trusted CAs: librdkafka reads PEM only, so PKCS12 and DER are converted here.
    if let Some((key, pem)) = s.get("ssl.truststore.certificates") {
        match certificates_from_pem(pem.as_bytes()) {
            Ok(_) => {
                out.insert("ssl.ca.pem".into(), pem.to_string());
            }
            Err(reason) => problems.push(invalid(key, &format!("(PEM, {} characters)", pem.len()), &reason)),
        }
    } else if let Some((key, location)) = s.get("ssl.truststore.location") {
        match read_store(location) {
            (shown, Err(reason)) => problems.push(invalid(key, &shown, reason)),
            (shown, Ok(bytes)) => {
                let pw = password("ssl.truststore.password").unwrap_or_default();
                match trust_store_pem(&shown, &bytes, &pw) {
                    Ok(StoreContent::File) => {
                        out.insert("ssl.ca.location".into(), shown);
                    }
                    Ok(StoreContent::Pem(pem)) => {
                        out.insert("ssl.ca.pem".into(), pem);
                    }
                    Err(reason) => problems.push(invalid(key, &shown, &reason)),
                }
            }
        }
    }

    // The client's own certificate and key.
    let key_password = password("ssl.key.password");
    match (s.get("ssl.keystore.certificate.chain"), s.get("ssl.keystore.key")) {
        (Some((chain_key, chain)), Some((_, key_pem))) => {
            match pem_key_pair(chain.as_bytes(), key_pem.as_bytes(), key_password.as_deref()) {
                Ok(key) => {
                    out.insert("ssl.certificate.pem".into(), chain.to_string());
                    out.insert("ssl.key.pem".into(), key);
                }
                Err(reason) => problems.push(invalid(chain_key, HIDDEN, &reason)),
            }
        }
        (Some((k, _)), None) | (None, Some((k, _))) => {
            problems.push(invalid(
                k,
                HIDDEN,
                "ssl.keystore.certificate.chain and ssl.keystore.key are set together (PEM key store)",
            ));
        }
        (None, None) => {
            if let Some((key, location)) = s.get("ssl.keystore.location") {
                match read_store(location) {
                    (shown, Err(reason)) => problems.push(invalid(key, &shown, reason)),
                    (shown, Ok(bytes)) => {
                        let store_pw = password("ssl.keystore.password").unwrap_or_default();
                        match key_store_kind(&shown, &bytes, &store_pw, key_password.as_deref()) {
                            Ok(StoreContent::File) => {
                                // A PKCS12 store: librdkafka reads it itself.
                                out.insert("ssl.keystore.location".into(), shown);
                                out.insert("ssl.keystore.password".into(), store_pw);
                            }
                            Ok(StoreContent::Pem(key)) => {
                                // A PEM store (key and chain in one file): the chain is read from
                                // the file, the key (decrypted) is handed over in memory.
                                out.insert("ssl.certificate.location".into(), shown);
                                out.insert("ssl.key.pem".into(), key);
                            }
                            Err(reason) => problems.push(invalid(key, &shown, &reason)),
                        }
                    }
                }
            }
        }
    }
}

/// What a store file becomes for librdkafka.
enum StoreContent {
    /// The file itself (a PEM CA file; a PKCS12 key store).
    File,
    /// PEM text: the CAs of a PKCS12/DER trust store, or the decrypted key of a PEM key store.
    Pem(String),
}

/// A store path made absolute (as messages show it), and its bytes.
fn read_store(location: &str) -> (String, Result<Vec<u8>, &'static str>) {
    let path = std::path::Path::new(location.trim());
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let bytes = match std::fs::metadata(&path) {
        Err(_) => Err("does not exist"),
        Ok(m) if !m.is_file() => Err("is not a file"),
        Ok(_) => std::fs::read(&path).map_err(|_| "is not readable"),
    };
    (path.display().to_string(), bytes)
}

/// A Java-only store: refused, with the `keytool` command that converts it.
fn java_only(shown: &str, kind: &str, bytes: &[u8]) -> Option<String> {
    let store_type = match security::format(bytes) {
        Format::Jks => "JKS",
        Format::Jceks => "JCEKS",
        Format::Pem | Format::Der => return None,
    };
    let then = ", point the setting at the .p12 file and set the .type to PKCS12";
    Some(security::java_store_refusal(shown, kind, store_type, "librdkafka", then))
}

fn certificates_from_pem(bytes: &[u8]) -> Result<Vec<openssl::x509::X509>, String> {
    let certs = openssl::x509::X509::stack_from_pem(bytes)
        .map_err(|e| format!("not a PEM certificate list ({})", security::reasons(&e)))?;
    if certs.is_empty() {
        return Err("it holds no certificate".into());
    }
    Ok(certs)
}

fn open_pkcs12(bytes: &[u8], password: &str, kind: &str) -> Result<openssl::pkcs12::ParsedPkcs12_2, String> {
    security::open_pkcs12(bytes, password, kind, &format!("ssl.{kind}.password"))
}

/// A trust store: a PEM file is used as it is; PKCS12 and DER become PEM text.
fn trust_store_pem(shown: &str, bytes: &[u8], password: &str) -> Result<StoreContent, String> {
    if let Some(refusal) = java_only(shown, "truststore", bytes) {
        return Err(refusal);
    }
    if security::format(bytes) == Format::Pem {
        certificates_from_pem(bytes).map_err(|r| format!("Invalid truststore: {r}"))?;
        return Ok(StoreContent::File);
    }
    let certs = security::der_trust_store(bytes, password, "ssl.truststore.password")?;
    let mut pem = String::new();
    for c in certs {
        let text = c.to_pem().map_err(|e| format!("Invalid truststore: {}", security::reasons(&e)))?;
        pem.push_str(&String::from_utf8_lossy(&text));
    }
    Ok(StoreContent::Pem(pem))
}

/// A key store: PKCS12 is checked (it opens, holds a key and its certificate) and left to
/// librdkafka; a PEM store's key is decrypted and returned.
fn key_store_kind(shown: &str, bytes: &[u8], store_pw: &str, key_pw: Option<&str>) -> Result<StoreContent, String> {
    if let Some(refusal) = java_only(shown, "keystore", bytes) {
        return Err(refusal);
    }
    if security::format(bytes) == Format::Pem {
        return pem_key_pair(bytes, bytes, key_pw).map(StoreContent::Pem).map_err(|r| format!("Invalid keystore: {r}"));
    }
    let parsed = open_pkcs12(bytes, store_pw, "keystore")?;
    match (parsed.pkey, parsed.cert) {
        (Some(key), Some(cert)) if cert.public_key().is_ok_and(|pk| pk.public_eq(&key)) => Ok(StoreContent::File),
        (None, _) => Err("Invalid keystore: it holds no private key".into()),
        _ => Err("Invalid keystore: it holds no certificate for its private key".into()),
    }
}

/// A PEM certificate chain (client certificate first) and a PEM private key, encrypted with
/// `key_password` or not; the key is returned unencrypted (PKCS#8 PEM), for memory only.
fn pem_key_pair(chain: &[u8], key: &[u8], key_password: Option<&str>) -> Result<String, String> {
    let certs = certificates_from_pem(chain)?;
    let text = String::from_utf8_lossy(key);
    let encrypted = text.contains("ENCRYPTED");
    let pkey = match key_password {
        Some(pw) if encrypted => openssl::pkey::PKey::private_key_from_pem_passphrase(key, pw.as_bytes())
            .map_err(|_| "cannot decrypt the private key with ssl.key.password".to_string())?,
        None if encrypted => return Err("the private key is encrypted: set ssl.key.password".into()),
        // The callback refuses to prompt for a passphrase (OpenSSL's default reads the terminal).
        _ => openssl::pkey::PKey::private_key_from_pem_callback(key, |_| Ok(0))
            .map_err(|e| format!("no readable PEM private key ({})", security::reasons(&e)))?,
    };
    if !certs[0].public_key().is_ok_and(|pk| pk.public_eq(&pkey)) {
        return Err("the private key does not belong to the first certificate of the chain".into());
    }
    let pem = pkey.private_key_to_pem_pkcs8().map_err(|e| security::reasons(&e))?;
    Ok(String::from_utf8_lossy(&pem).into_owned())
}

/// One JAAS login-module entry of `sasl.jaas.config`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JaasEntry {
    pub module: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, PartialEq, Eq)]
enum JaasToken {
    Word(String),
    Quoted(String),
    Equals,
    Semicolon,
}

/// Kafka's JAAS grammar (`JaasConfig`, a `StreamTokenizer`): `<LoginModule class> <flag>
/// [<name>=<value>]... ;` with `"..."` or `'...'` values (backslash escapes `\"`, `\\`, `\n`,
/// `\t`, `\r`, `\b`, `\f`, octal) or bare words, and `//` and `/* */` comments. Exactly one entry,
/// as Kafka requires. Messages never quote values.
pub(crate) fn parse_jaas(text: &str) -> Result<JaasEntry, String> {
    let tokens = jaas_tokens(text)?;
    let mut it = tokens.into_iter().peekable();
    let mut entries = Vec::new();
    while it.peek().is_some() {
        let module = match it.next() {
            Some(JaasToken::Word(w)) => w,
            _ => return Err("expected a login module class name first".into()),
        };
        match it.next() {
            Some(JaasToken::Word(f))
                if ["required", "requisite", "sufficient", "optional"].iter().any(|x| x.eq_ignore_ascii_case(&f)) => {}
            _ => {
                return Err(format!(
                    "expected the control flag (required, requisite, sufficient or optional) after {module}"
                ));
            }
        }
        let mut options = BTreeMap::new();
        loop {
            match it.next() {
                Some(JaasToken::Semicolon) => break,
                Some(JaasToken::Word(name)) => {
                    if it.next() != Some(JaasToken::Equals) {
                        return Err(format!("option {name} has no '=value'"));
                    }
                    match it.next() {
                        Some(JaasToken::Word(v) | JaasToken::Quoted(v)) => {
                            options.insert(name, v);
                        }
                        _ => return Err(format!("option {name} has no value")),
                    }
                }
                None => return Err(format!("the entry of {module} does not end with ';'")),
                Some(_) => return Err(format!("unexpected text in the options of {module}")),
            }
        }
        entries.push(JaasEntry { module, options });
    }
    match entries.len() {
        1 => Ok(entries.remove(0)),
        0 => Err("it holds no login module".into()),
        n => Err(format!("it holds {n} login modules; exactly one is allowed")),
    }
}

fn jaas_tokens(text: &str) -> Result<Vec<JaasToken>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                if i >= chars.len() {
                    return Err("a /* comment is not closed".into());
                }
                i += 2;
            }
            '=' => {
                out.push(JaasToken::Equals);
                i += 1;
            }
            ';' => {
                out.push(JaasToken::Semicolon);
                i += 1;
            }
            '"' | '\'' => {
                let quote = c;
                let mut value = String::new();
                i += 1;
                loop {
                    let Some(&ch) = chars.get(i) else { return Err("a quoted value is not closed".into()) };
                    i += 1;
                    if ch == quote {
                        break;
                    }
                    if ch != '\\' {
                        value.push(ch);
                        continue;
                    }
                    let Some(&e) = chars.get(i) else { return Err("a quoted value is not closed".into()) };
                    i += 1;
                    match e {
                        'n' => value.push('\n'),
                        't' => value.push('\t'),
                        'r' => value.push('\r'),
                        'b' => value.push('\u{8}'),
                        'f' => value.push('\u{c}'),
                        '0'..='7' => {
                            let mut n = e.to_digit(8).unwrap_or(0);
                            let max = if e <= '3' { 2 } else { 1 };
                            for _ in 0..max {
                                match chars.get(i).and_then(|d| d.to_digit(8)) {
                                    Some(d) => {
                                        n = n * 8 + d;
                                        i += 1;
                                    }
                                    None => break,
                                }
                            }
                            value.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                        }
                        other => value.push(other),
                    }
                }
                out.push(JaasToken::Quoted(value));
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"=;\"'".contains(chars[i]) {
                    i += 1;
                }
                out.push(JaasToken::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, WorkerConfig};

    fn worker(text: &str) -> Result<WorkerConfig, ConfigError> {
        WorkerConfig::from_properties(&Properties::parse(text.as_bytes()).unwrap())
    }

    /// A self-signed certificate (its own CA) and its key, and files made from them in `dir`:
    /// ca.pem, trust.p12 (certificate only), store.p12 (key + certificate), keystore.pem
    /// (encrypted PKCS#8 key + certificate), trust.jks (a JKS header).
    fn security_files(dir: &std::path::Path) {
        use openssl::asn1::Asn1Time;
        use openssl::ec::{EcGroup, EcKey};
        use openssl::hash::MessageDigest;
        use openssl::nid::Nid;
        use openssl::pkcs12::Pkcs12;
        use openssl::pkey::PKey;
        use openssl::stack::Stack;
        use openssl::symm::Cipher;
        use openssl::x509::{X509Builder, X509NameBuilder};
        std::fs::create_dir_all(dir).unwrap();
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_nid(Nid::COMMONNAME, "kafka test").unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(2).unwrap()).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = b.build();
        let pem = cert.to_pem().unwrap();
        std::fs::write(dir.join("ca.pem"), &pem).unwrap();
        let mut cas = Stack::new().unwrap();
        cas.push(cert.clone()).unwrap();
        let trust = Pkcs12::builder().ca(cas).build2("trust-Pw-1").unwrap();
        std::fs::write(dir.join("trust.p12"), trust.to_der().unwrap()).unwrap();
        let store = Pkcs12::builder().name("client").pkey(&key).cert(&cert).build2("store-Pw-2").unwrap();
        std::fs::write(dir.join("store.p12"), store.to_der().unwrap()).unwrap();
        let mut keystore = key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), b"key-Pw-3").unwrap();
        keystore.extend_from_slice(&pem);
        std::fs::write(dir.join("keystore.pem"), keystore).unwrap();
        std::fs::write(dir.join("trust.jks"), [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]).unwrap();
    }

    fn security_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cassandra-sink-worker-{name}-{}", std::process::id()));
        security_files(&dir);
        dir
    }

    fn get<'a>(m: &'a BTreeMap<String, String>, k: &str) -> Option<&'a str> {
        m.get(k).map(String::as_str)
    }

    #[test]
    fn jaas_config_is_parsed_as_kafka_does() {
        let e = parse_jaas(
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"al\\\"ice\" \
             password=\"p\\\\w;=d\\n\";",
        )
        .unwrap();
        assert_eq!(e.module, SCRAM_MODULE);
        assert_eq!(e.options.get("username").map(String::as_str), Some("al\"ice"));
        assert_eq!(e.options.get("password").map(String::as_str), Some("p\\w;=d\n"));
        // Single quotes, bare words, comments, a flag in capitals, line breaks, octal escapes.
        let e = parse_jaas(
            "// the login\n org.apache.kafka.common.security.plain.PlainLoginModule REQUIRED\n\
             /* who */ username=bob password='s3cr\\101t' extra=1 ;",
        )
        .unwrap();
        assert_eq!(e.module, PLAIN_MODULE);
        assert_eq!(e.options.get("username").map(String::as_str), Some("bob"));
        assert_eq!(e.options.get("password").map(String::as_str), Some("s3crAt"));
        assert_eq!(e.options.get("extra").map(String::as_str), Some("1"));
        let e = parse_jaas(
            "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true \
             keyTab=\"/etc/security/keytabs/sink.keytab\" principal=\"sink@EXAMPLE.COM\";",
        )
        .unwrap();
        assert_eq!(e.options.get("keyTab").map(String::as_str), Some("/etc/security/keytabs/sink.keytab"));
        assert_eq!(e.options.get("principal").map(String::as_str), Some("sink@EXAMPLE.COM"));

        for (text, reason) in [
            ("", "it holds no login module"),
            ("a.B required username=\"x\"", "does not end with ';'"),
            ("a.B username=\"x\";", "expected the control flag"),
            ("a.B required username;", "option username has no '=value'"),
            ("a.B required username=;", "option username has no value"),
            ("a.B required password=\"secret-Pw;", "a quoted value is not closed"),
            ("a.B required; c.D required;", "it holds 2 login modules; exactly one is allowed"),
            ("a.B required /* x", "a /* comment is not closed"),
        ] {
            let got = parse_jaas(text).unwrap_err();
            assert!(got.contains(reason), "{text}: {got}");
            assert!(!got.contains("secret-Pw"), "{got}");
        }
    }

    #[test]
    fn sasl_ssl_with_scram_and_a_pkcs12_truststore() {
        let dir = security_dir("scram");
        let w = worker(&format!(
            "security.protocol=SASL_SSL\n\
             sasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n  \
             username=\"sink\" password=\"top-Secret-1\";\n\
             ssl.truststore.type=PKCS12\n\
             ssl.truststore.location={}\n\
             ssl.truststore.password=trust-Pw-1\n",
            dir.join("trust.p12").display()
        ))
        .unwrap();
        assert!(w.unknown_keys.is_empty(), "{:?}", w.unknown_keys);
        // The top-level keys reach both the consumer and the dead-letter clients.
        for m in [&w.consumer, &w.producer] {
            assert_eq!(get(m, "security.protocol"), Some("sasl_ssl"));
            assert_eq!(get(m, "sasl.mechanisms"), Some("SCRAM-SHA-512"));
            assert_eq!(get(m, "sasl.username"), Some("sink"));
            assert_eq!(get(m, "sasl.password"), Some("top-Secret-1"));
            assert_eq!(get(m, "ssl.endpoint.identification.algorithm"), Some("https"));
            assert_eq!(get(m, "ssl.ca.pem"), Some(std::fs::read_to_string(dir.join("ca.pem")).unwrap().as_str()));
        }
        let shown = format!("{w:?}");
        assert!(!shown.contains("top-Secret-1") && shown.contains("[hidden]"), "{shown}");
    }

    #[test]
    fn consumer_and_producer_prefixes_win_over_the_top_level() {
        let w = worker(
            "security.protocol=SASL_PLAINTEXT\n\
             sasl.mechanism=PLAIN\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"top\" password=\"a\";\n\
             consumer.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"cons\" password=\"b\";\n\
             producer.sasl.mechanism=SCRAM-SHA-256\n\
             producer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"prod\" password=\"c\";\n",
        )
        .unwrap();
        assert_eq!(get(&w.consumer, "security.protocol"), Some("sasl_plaintext"));
        assert_eq!(get(&w.consumer, "sasl.mechanisms"), Some("PLAIN"));
        assert_eq!(get(&w.consumer, "sasl.username"), Some("cons"));
        assert_eq!(get(&w.consumer, "ssl.ca.pem"), None);
        assert_eq!(get(&w.producer, "sasl.mechanisms"), Some("SCRAM-SHA-256"));
        assert_eq!(get(&w.producer, "sasl.username"), Some("prod"));
        assert_eq!(get(&w.producer, "sasl.password"), Some("c"));
        // Without producer.* the dead-letter clients use the consumer's settings.
        let w = worker(
            "consumer.security.protocol=SASL_SSL\nconsumer.sasl.mechanism=SCRAM-SHA-256\n\
             consumer.sasl.username=u\nconsumer.sasl.password=p\n",
        )
        .unwrap();
        assert_eq!(get(&w.producer, "sasl.username"), Some("u"));
        assert_eq!(get(&w.consumer, "security.protocol"), Some("sasl_ssl"));
        assert!(w.ignored_consumer_keys.is_empty(), "{:?}", w.ignored_consumer_keys);
        // Keys the protocol does not use are not read (as in the Java client).
        let w = worker("consumer.ssl.truststore.location=/nowhere\nconsumer.sasl.jaas.config=nonsense\n").unwrap();
        assert!(w.consumer.is_empty(), "{:?}", w.consumer);
    }

    #[test]
    fn ssl_with_pem_and_pkcs12_stores() {
        let dir = security_dir("ssl");
        let path = |f: &str| dir.join(f).display().to_string();
        let w = worker(&format!(
            "consumer.security.protocol=ssl\n\
             consumer.ssl.truststore.type=PEM\n\
             consumer.ssl.truststore.location={}\n\
             consumer.ssl.keystore.type=PKCS12\n\
             consumer.ssl.keystore.location={}\n\
             consumer.ssl.keystore.password=store-Pw-2\n\
             consumer.ssl.endpoint.identification.algorithm=\n\
             producer.ssl.keystore.type=PEM\n\
             producer.ssl.keystore.location={}\n\
             producer.ssl.key.password=key-Pw-3\n",
            path("ca.pem"),
            path("store.p12"),
            path("keystore.pem")
        ))
        .unwrap();
        let c = &w.consumer;
        assert_eq!(get(c, "security.protocol"), Some("ssl"));
        assert_eq!(get(c, "ssl.ca.location"), Some(path("ca.pem").as_str()));
        assert_eq!(get(c, "ssl.keystore.location"), Some(path("store.p12").as_str()));
        assert_eq!(get(c, "ssl.keystore.password"), Some("store-Pw-2"));
        assert_eq!(get(c, "ssl.endpoint.identification.algorithm"), Some("none"));
        let p = &w.producer;
        assert_eq!(get(p, "ssl.certificate.location"), Some(path("keystore.pem").as_str()));
        assert!(get(p, "ssl.key.pem").is_some_and(|k| k.starts_with("-----BEGIN PRIVATE KEY-----")), "{p:?}");
        assert_eq!(get(p, "ssl.keystore.location"), None);
        let shown = format!("{w:?}");
        assert!(!shown.contains("store-Pw-2") && !shown.contains("PRIVATE KEY"), "{shown}");

        // Inline PEM values: ssl.truststore.certificates, ssl.keystore.key + certificate.chain.
        let ca = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        let keystore = std::fs::read_to_string(dir.join("keystore.pem")).unwrap();
        let (key, _) = keystore.split_at(keystore.find("-----BEGIN CERTIFICATE").unwrap());
        let mut props = Properties::from_pairs([
            ("security.protocol", "SSL"),
            ("ssl.truststore.certificates", ca.as_str()),
            ("ssl.keystore.certificate.chain", ca.as_str()),
            ("ssl.keystore.key", key),
            ("ssl.key.password", "key-Pw-3"),
        ]);
        let w = WorkerConfig::from_properties(&props).unwrap();
        assert_eq!(get(&w.consumer, "ssl.ca.pem"), Some(ca.as_str()));
        assert_eq!(get(&w.consumer, "ssl.certificate.pem"), Some(ca.as_str()));
        assert!(get(&w.consumer, "ssl.key.pem").is_some_and(|k| k.contains("BEGIN PRIVATE KEY")));
        props = Properties::from_pairs([("security.protocol", "SSL"), ("ssl.keystore.key", key)]);
        let e = WorkerConfig::from_properties(&props).unwrap_err();
        assert_eq!(
            e.problems,
            vec![
                "Invalid value [hidden] for configuration ssl.keystore.key: ssl.keystore.certificate.chain and \
                 ssl.keystore.key are set together (PEM key store)"
            ]
        );
    }

    #[test]
    fn bad_security_settings_name_the_key_and_hide_secrets() {
        let dir = security_dir("bad");
        let path = |f: &str| dir.join(f).display().to_string();
        let e = worker(&format!(
            "security.protocol=SASL_SSL\n\
             sasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"jaas-Pw-9\";\n\
             ssl.truststore.location={}\n\
             ssl.truststore.password=trust-Pw-1\n\
             ssl.keystore.location={}\n\
             ssl.keystore.password=wrong-Pw-8\n\
             ssl.endpoint.identification.algorithm=http\n\
             ssl.keystore.type=BKS\n\
             producer.sasl.mechanism=OAUTHBEARER\n",
            path("trust.jks"),
            path("store.p12"),
        ))
        .unwrap_err();
        let text = e.to_string();
        for secret in ["jaas-Pw-9", "trust-Pw-1", "wrong-Pw-8"] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
        let expected = [
            "Invalid value [hidden] for configuration sasl.jaas.config: it names the login module PlainLoginModule, but sasl.mechanism=SCRAM-SHA-512 takes org.apache.kafka.common.security.scram.ScramLoginModule".to_string(),
            "Invalid value OAUTHBEARER for configuration producer.sasl.mechanism: OAUTHBEARER is not supported by this sink; supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI".to_string(),
            "Invalid value http for configuration ssl.endpoint.identification.algorithm: allowed: https (the broker's certificate must name the host connected to), or empty (not checked)".to_string(),
            "Invalid value BKS for configuration ssl.keystore.type: String must be one of: JKS, PKCS12, PEM".to_string(),
            format!(
                "Invalid value {} for configuration ssl.truststore.location: truststore is a Java JKS key store, which librdkafka cannot read; convert it to PKCS12 (same password) with `keytool -importkeystore -srckeystore {} -srcstoretype JKS -destkeystore {} -deststoretype PKCS12`",
                path("trust.jks"), path("trust.jks"), path("trust.p12")
            ),
            format!(
                "Invalid value {} for configuration ssl.keystore.location: Invalid keystore: cannot open it with the password given (",
                path("store.p12")
            ),
        ];
        for x in &expected {
            assert!(e.problems.iter().any(|p| p.starts_with(x.as_str())), "missing «{x}» in:\n{text}");
        }
        // Problems of top-level keys, seen by the consumer and the producer, are listed once.
        assert_eq!(e.problems.len(), 6, "{text}");

        let e = worker("security.protocol=SASL_SSL\nconsumer.security.protocol=TLS\n").unwrap_err();
        assert_eq!(
            e.problems,
            vec![
                "Invalid value TLS for configuration consumer.security.protocol: String must be one of (case \
                 insensitive): PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
            ]
        );
        let e = worker("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n").unwrap_err();
        assert_eq!(
            e.problems,
            vec![
                "Invalid value SASL_PLAINTEXT for configuration security.protocol: SASL with PLAIN needs a user and \
                 password: set sasl.jaas.config (with the consumer. or producer. prefix for one client) to \
                 org.apache.kafka.common.security.plain.PlainLoginModule required username=\"...\" password=\"...\";"
            ]
        );
        let e = worker(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"jaas-Pw-9\"\n",
        )
        .unwrap_err();
        assert_eq!(
            e.problems,
            vec![
                "Invalid value [hidden] for configuration sasl.jaas.config: the entry of org.apache.kafka.common.security.plain.PlainLoginModule does not end with ';'"
            ]
        );
        let e = worker(&format!(
            "security.protocol=SSL\nssl.truststore.location={}\nssl.keystore.location=missing.p12\n",
            path("trust.p12")
        ))
        .unwrap_err();
        let missing = std::env::current_dir().unwrap().join("missing.p12");
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(
            e.problems[0]
                .contains("ssl.truststore.location: Invalid truststore: cannot open it with the password given"),
            "{e}"
        );
        assert_eq!(
            e.problems[1],
            format!("Invalid value {} for configuration ssl.keystore.location: does not exist", missing.display())
        );
    }

    #[test]
    fn kerberos_is_translated_when_librdkafka_has_it() {
        let dir = std::env::temp_dir().join(format!("cassandra-sink-worker-krb5-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let keytab = dir.join("sink.keytab");
        std::fs::write(&keytab, b"\x05\x02").unwrap();
        let keytab = keytab.display().to_string();
        let krb5 = |options: &str| {
            format!(
                "security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\nsasl.kerberos.service.name=kafka\n\
                 sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required {options};\n"
            )
        };
        let text = krb5(&format!("useKeyTab=true storeKey=true keyTab=\"{keytab}\" principal=\"sink@EXAMPLE.COM\""));
        if !librdkafka_has_gssapi() {
            let e = worker(&text).unwrap_err();
            assert_eq!(e.problems.len(), 1, "{e}");
            assert!(
                e.problems[0].starts_with(
                    "Invalid value GSSAPI for configuration sasl.mechanism: Kerberos (GSSAPI) needs librdkafka built with Cyrus SASL"
                ),
                "{e}"
            );
            return;
        }
        let w = worker(&text).unwrap();
        assert_eq!(get(&w.consumer, "sasl.mechanisms"), Some("GSSAPI"));
        assert_eq!(get(&w.consumer, "sasl.kerberos.keytab"), Some(keytab.as_str()));
        assert_eq!(get(&w.consumer, "sasl.kerberos.principal"), Some("sink@EXAMPLE.COM"));
        assert_eq!(get(&w.consumer, "sasl.kerberos.service.name"), Some("kafka"));
        assert_eq!(get(&w.consumer, "sasl.kerberos.min.time.before.relogin"), None);

        // Without a keytab: the tickets already in the credential cache, no kinit.
        let w = worker(&krb5("useTicketCache=true")).unwrap();
        assert_eq!(get(&w.consumer, "sasl.kerberos.min.time.before.relogin"), Some("0"));
        assert_eq!(get(&w.consumer, "sasl.kerberos.keytab"), None);

        for (options, reason) in [
            ("useKeyTab=true principal=\"sink@EXAMPLE.COM\"".to_string(), "needs keyTab=\"...\" and principal=\"...\""),
            (
                format!("useKeyTab=true keyTab=\"{keytab}\" principal=\"sink@EXAMPLE.COM; rm -rf x\""),
                "has characters a Kerberos principal here may not have",
            ),
            (
                "useKeyTab=true keyTab=\"/nowhere/$(id).keytab\" principal=\"sink@EXAMPLE.COM\"".to_string(),
                "has characters it may not have here",
            ),
            (
                "useKeyTab=true keyTab=\"/nowhere/sink.keytab\" principal=\"sink@EXAMPLE.COM\"".to_string(),
                "cannot read the keyTab /nowhere/sink.keytab",
            ),
        ] {
            let e = worker(&krb5(&options)).unwrap_err();
            assert_eq!(e.problems.len(), 1, "{e}");
            assert!(e.problems[0].starts_with("Invalid value [hidden] for configuration sasl.jaas.config: "), "{e}");
            assert!(e.problems[0].contains(reason), "{options}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
