//! `cloud.secureConnectBundle` (spec §1.2, §6): DataStax Astra's secure connect bundle.
//!
//! A bundle is a zip archive holding `config.json` (the metadata service's `host` and `port`,
//! and informational `keyspace` / `localDC`), the database's CA (`ca.crt`) and the client's
//! certificate and key (`cert`, `key`), all PEM; `identity.jks` / `trustStore.jks` hold the same
//! material for Java and are not read. The setting takes a path, a `file:` or `http(s):` URL
//! (fetched when the session opens) or `base64:<data>`; paths and `base64:` are read and checked
//! at start-up. The metadata service's answer (`https://host:port/metadata`, mutual TLS) says
//! where the SNI proxy is, which host ids to start from and the local DC: [`ContactInfo`].

use std::collections::HashMap;
use std::sync::Arc;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use uuid::Uuid;

use super::security::{load, reasons};
use super::{Properties, invalid};

pub const KEY: &str = "cloud.secureConnectBundle";
/// The Java driver's name for the same setting (the connector's key wins).
pub const DRIVER_KEY: &str = "datastax-java-driver.basic.cloud.secure-connect-bundle";

/// A bundle, read and checked.
#[derive(Clone)]
pub struct CloudBundle {
    /// How messages show the bundle (a path, a URL or `base64:(N characters)`).
    pub shown: String,
    /// The metadata service (`config.json`: `host`, `port`).
    pub host: String,
    pub port: u16,
    /// `config.json` `keyspace` and `localDC`, informational.
    pub keyspace: Option<String>,
    pub local_dc: Option<String>,
    /// `ca.crt`: the CAs of the database's certificates.
    pub ca: Vec<X509>,
    /// `cert` (leaf first) and `key`: the client's identity.
    pub cert: Vec<X509>,
    pub key: PKey<Private>,
}

impl std::fmt::Debug for CloudBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudBundle")
            .field("shown", &self.shown)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("keyspace", &self.keyspace)
            .field("local_dc", &self.local_dc)
            .finish_non_exhaustive()
    }
}

/// Where the bundle comes from.
#[derive(Debug, Clone)]
pub enum BundleSource {
    /// Read at start-up (a path, `file:` or `base64:`).
    Loaded(Arc<CloudBundle>),
    /// An `http:` / `https:` URL, fetched when the session opens.
    Url(String),
}

/// The metadata service's `contact_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInfo {
    /// `sni_proxy_address`: every connection goes there, the node chosen by SNI (its host id).
    pub proxy_host: String,
    pub proxy_port: u16,
    /// `contact_points`: host ids of nodes to start from.
    pub host_ids: Vec<Uuid>,
    /// `local_dc`.
    pub local_dc: String,
}

/// The bundle setting's value, if cloud mode is on (connector key, else the driver key).
pub fn value(props: &Properties) -> Option<(&'static str, String)> {
    [KEY, DRIVER_KEY]
        .into_iter()
        .find_map(|k| props.get(k).map(str::trim).filter(|v| !v.is_empty()).map(|v| (k, v.to_string())))
}

/// Reads the bundle setting; problems are appended. `None` outside cloud mode.
pub fn read(props: &Properties, problems: &mut Vec<String>) -> Option<BundleSource> {
    let (key, value) = value(props)?;
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Some(BundleSource::Url(value));
    }
    let path = if lower.starts_with("file:") {
        let rest = &value["file:".len()..];
        // file:///abs, file:/abs and file://localhost/abs.
        let rest = rest.strip_prefix("//localhost").unwrap_or(rest);
        let rest = if rest.starts_with("///") { &rest[2..] } else { rest };
        rest.to_string()
    } else {
        value.clone()
    };
    let material = load(key, &path, problems)?;
    match parse_bundle(&material.bytes, &material.shown) {
        Ok(bundle) => Some(BundleSource::Loaded(Arc::new(bundle))),
        Err(reason) => {
            problems.push(invalid(key, &material.shown, &reason));
            None
        }
    }
}

/// The mutual exclusions of cloud mode (spec §1.2): messages as the reference words them.
pub fn exclusions(props: &Properties, problems: &mut Vec<String>) {
    let given = |k: &str| props.get(k).is_some_and(|v| !v.trim().is_empty());
    let prefix = "When cloud.secureConnectBundle parameter is specified you should not provide";
    if given("contactPoints") || given("datastax-java-driver.basic.contact-points") {
        problems.push(format!("{prefix} contactPoints."));
    }
    if given("loadBalancing.localDc") || given("datastax-java-driver.basic.load-balancing-policy.local-datacenter") {
        problems.push(format!("{prefix} loadBalancing.localDc."));
    }
    if props.iter().any(|(k, _)| k.starts_with("ssl.")) {
        problems.push(format!("{prefix} any setting under ssl.."));
    }
}

/// A bundle's content, checked: `config.json`, `ca.crt`, `cert`, `key`.
pub fn parse_bundle(bytes: &[u8], shown: &str) -> Result<CloudBundle, String> {
    let files = unzip(bytes).map_err(|e| format!("Invalid bundle: not a zip archive ({e})"))?;
    let file = |name: &str| files.get(name).ok_or_else(|| format!("Invalid bundle: missing file {name}"));
    let config: serde_json::Value =
        serde_json::from_slice(file("config.json")?).map_err(|e| format!("Invalid config.json: not JSON ({e})"))?;
    let field = |name: &str| config.get(name).filter(|v| !v.is_null());
    let text = |v: &serde_json::Value| v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
    let host = field("host").map(text).ok_or("Invalid config.json: missing field host")?;
    let port = field("port").ok_or("Invalid config.json: missing field port")?;
    let port = text(port)
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("Invalid config.json: field port is not a port number: {port}"))?;
    let pem = |name: &str| -> Result<Vec<X509>, String> {
        let certs = X509::stack_from_pem(file(name)?)
            .map_err(|e| format!("Invalid bundle: {name} is not a PEM certificate file ({})", reasons(&e)))?;
        if certs.is_empty() {
            return Err(format!("Invalid bundle: {name} holds no certificate"));
        }
        Ok(certs)
    };
    let ca = pem("ca.crt")?;
    let cert = pem("cert")?;
    let key = PKey::private_key_from_pem_callback(file("key")?, |_| Ok(0))
        .map_err(|e| format!("Invalid bundle: key is not an unencrypted PEM private key ({})", reasons(&e)))?;
    if !cert[0].public_key().is_ok_and(|pk| pk.public_eq(&key)) {
        return Err("Invalid bundle: the private key in key does not belong to the certificate in cert".into());
    }
    let optional = |name: &str| field(name).map(text).filter(|s| !s.is_empty());
    Ok(CloudBundle {
        shown: shown.to_string(),
        host,
        port,
        keyspace: optional("keyspace"),
        local_dc: optional("localDC"),
        ca,
        cert,
        key,
    })
}

/// The metadata service's answer (messages as the Java driver words them).
pub fn parse_metadata(body: &[u8]) -> Result<ContactInfo, String> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("Invalid proxy metadata: not JSON ({e})"))?;
    let info = json.get("contact_info").ok_or("Invalid proxy metadata: missing field contact_info")?;
    let local_dc = info
        .get("local_dc")
        .and_then(|v| v.as_str())
        .ok_or("Invalid proxy metadata: missing field local_dc")?
        .to_string();
    let proxy = info
        .get("sni_proxy_address")
        .and_then(|v| v.as_str())
        .ok_or("Invalid proxy metadata: missing field sni_proxy_address")?;
    let (proxy_host, proxy_port) = match proxy.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.ends_with(':') => (
            h.trim_start_matches('[').trim_end_matches(']').to_string(),
            p.parse::<u16>()
                .map_err(|_| format!("Invalid proxy metadata: bad port in field sni_proxy_address: {proxy}"))?,
        ),
        _ => return Err("Invalid proxy metadata: missing port from field sni_proxy_address".into()),
    };
    let points = info
        .get("contact_points")
        .and_then(|v| v.as_array())
        .ok_or("Invalid proxy metadata: missing field contact_points")?;
    let mut host_ids = Vec::new();
    for p in points {
        let s = p.as_str().unwrap_or_default();
        host_ids.push(
            Uuid::parse_str(s)
                .map_err(|_| format!("Invalid proxy metadata: contact point {p} is not a host id (a UUID)"))?,
        );
    }
    if host_ids.is_empty() {
        return Err("Invalid proxy metadata: field contact_points is empty".into());
    }
    Ok(ContactInfo { proxy_host, proxy_port, host_ids, local_dc })
}

/// The files of a zip archive (stored or deflated entries; no zip64, no encryption), by name.
fn unzip(bytes: &[u8]) -> Result<HashMap<String, Vec<u8>>, String> {
    const EOCD: u32 = 0x0605_4b50;
    const CENTRAL: u32 = 0x0201_4b50;
    const LOCAL: u32 = 0x0403_4b50;
    /// Entries of a bundle are a few KiB; this bounds what a hostile archive can make us inflate.
    const MAX_ENTRY: usize = 16 << 20;
    let u16_at = |p: usize| bytes.get(p..p + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |p: usize| bytes.get(p..p + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let truncated = || "truncated".to_string();
    // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KiB.
    let start = bytes.len().saturating_sub(22 + 0xFFFF);
    let eocd = (start..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&p| u32_at(p) == Some(EOCD))
        .ok_or("no end-of-central-directory record")?;
    let count = u16_at(eocd + 10).ok_or_else(truncated)?;
    let mut p = u32_at(eocd + 16).ok_or_else(truncated)? as usize;
    let mut files = HashMap::new();
    for _ in 0..count {
        if u32_at(p) != Some(CENTRAL) {
            return Err("bad central directory".into());
        }
        let flags = u16_at(p + 8).ok_or_else(truncated)?;
        let method = u16_at(p + 10).ok_or_else(truncated)?;
        let compressed = u32_at(p + 20).ok_or_else(truncated)? as usize;
        let size = u32_at(p + 24).ok_or_else(truncated)? as usize;
        let name_len = u16_at(p + 28).ok_or_else(truncated)?;
        let extra_len = u16_at(p + 30).ok_or_else(truncated)?;
        let comment_len = u16_at(p + 32).ok_or_else(truncated)?;
        let local = u32_at(p + 42).ok_or_else(truncated)? as usize;
        let name = bytes.get(p + 46..p + 46 + name_len).ok_or_else(truncated)?;
        let name = String::from_utf8_lossy(name).into_owned();
        p += 46 + name_len + extra_len + comment_len;
        if name.ends_with('/') {
            continue;
        }
        if flags & 1 != 0 {
            return Err(format!("{name} is encrypted"));
        }
        if u32_at(local) != Some(LOCAL) {
            return Err(format!("bad local header for {name}"));
        }
        let data_at =
            local + 30 + u16_at(local + 26).ok_or_else(truncated)? + u16_at(local + 28).ok_or_else(truncated)?;
        let data = bytes.get(data_at..data_at + compressed).ok_or_else(truncated)?;
        let content = match method {
            0 => data.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, MAX_ENTRY.min(size.max(1)))
                .map_err(|e| format!("cannot inflate {name} ({e:?})"))?,
            m => return Err(format!("{name} uses compression method {m} (only stored and deflate are read)")),
        };
        if content.len() != size {
            return Err(format!("{name} has {} bytes, not the {size} its header says", content.len()));
        }
        files.insert(name, content);
    }
    Ok(files)
}

/// A zip archive of `files`, stored or deflated by turns: for tests here and of the engine.
#[doc(hidden)]
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (i, (name, data)) in files.iter().enumerate() {
        let (method, body) =
            if i % 2 == 1 { (8u16, miniz_oxide::deflate::compress_to_vec(data, 6)) } else { (0u16, data.to_vec()) };
        let crc = crc32(data);
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(method.to_le_bytes());
            h.extend(0u32.to_le_bytes()); // time, date
            h.extend(crc.to_le_bytes());
            h.extend((body.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend([0u8; 6]); // comment length, disk, internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(&body);
        central.extend(header(0x0201_4b50, true));
    }
    let central_at = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(central_at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509Builder, X509NameBuilder};

    fn cert(cn: &str, key: &PKey<Private>) -> X509 {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap()).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap()).unwrap();
        b.sign(key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    fn bundle(config: &str, skip: &str) -> Vec<u8> {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let ca = cert("ca", &key).to_pem().unwrap();
        let leaf = cert("client", &key).to_pem().unwrap();
        let key = key.private_key_to_pem_pkcs8().unwrap();
        let files: Vec<(&str, &[u8])> = [
            ("config.json", config.as_bytes()),
            ("ca.crt", &ca[..]),
            ("cert", &leaf[..]),
            ("key", &key[..]),
            ("identity.jks", &[0xFE, 0xED, 0xFE, 0xED][..]),
        ]
        .into_iter()
        .filter(|(n, _)| *n != skip)
        .collect();
        zip(&files)
    }

    const CONFIG: &str = r#"{"host":"db-1.example.com","port":29080,"keyspace":"ks","localDC":"dc-1","keyStorePassword":"x","trustStorePassword":"y"}"#;

    #[test]
    fn zips_round_trip_stored_and_deflated() {
        let big = vec![b'a'; 5000];
        let z = zip(&[("a", b"stored"), ("dir/b", &big), ("c", b"")]);
        let files = unzip(&z).unwrap();
        assert_eq!(files["a"], b"stored");
        assert_eq!(files["dir/b"], big);
        assert_eq!(files["c"], b"");
        assert!(unzip(b"PK not really").is_err());
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn bundles_are_read_and_checked() {
        let b = parse_bundle(&bundle(CONFIG, ""), "/b.zip").unwrap();
        assert_eq!((b.host.as_str(), b.port), ("db-1.example.com", 29080));
        assert_eq!((b.keyspace.as_deref(), b.local_dc.as_deref()), (Some("ks"), Some("dc-1")));
        assert_eq!((b.ca.len(), b.cert.len()), (1, 1));
        assert!(!format!("{b:?}").contains("PRIVATE"), "the key is not shown");
        for (skip, message) in [
            ("config.json", "Invalid bundle: missing file config.json"),
            ("ca.crt", "Invalid bundle: missing file ca.crt"),
            ("cert", "Invalid bundle: missing file cert"),
            ("key", "Invalid bundle: missing file key"),
        ] {
            assert_eq!(parse_bundle(&bundle(CONFIG, skip), "x").unwrap_err(), message);
        }
        let e = |config: &str| parse_bundle(&bundle(config, ""), "x").unwrap_err();
        assert_eq!(e(r#"{"port":1}"#), "Invalid config.json: missing field host");
        assert_eq!(e(r#"{"host":"h"}"#), "Invalid config.json: missing field port");
        assert_eq!(e(r#"{"host":"h","port":"x"}"#), "Invalid config.json: field port is not a port number: \"x\"");
        assert!(e("{").starts_with("Invalid config.json: not JSON"));
        assert!(parse_bundle(b"garbage", "x").unwrap_err().starts_with("Invalid bundle: not a zip archive"));
        // A string port, as some bundles write it.
        assert_eq!(parse_bundle(&bundle(r#"{"host":"h","port":"29080"}"#, ""), "x").unwrap().port, 29080);
    }

    #[test]
    fn the_setting_takes_paths_urls_and_base64() {
        let dir = std::env::temp_dir().join(format!("cassandra-sink-cloud-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secure-connect-db.zip");
        std::fs::write(&path, bundle(CONFIG, "")).unwrap();
        let run = |value: &str| {
            let mut problems = Vec::new();
            let r = read(&Properties::from_pairs([(KEY, value)]), &mut problems);
            (r, problems)
        };
        let (r, p) = run(path.to_str().unwrap());
        assert!(p.is_empty() && matches!(r, Some(BundleSource::Loaded(_))), "{p:?}");
        let (r, p) = run(&format!("file://{}", path.display()));
        assert!(p.is_empty() && matches!(r, Some(BundleSource::Loaded(_))), "{p:?}");
        let (r, p) = run(&format!("file:{}", path.display()));
        assert!(p.is_empty() && matches!(r, Some(BundleSource::Loaded(_))), "{p:?}");
        let data = base64::engine::general_purpose::STANDARD.encode(bundle(CONFIG, ""));
        let (r, p) = run(&format!("base64:{data}"));
        assert!(p.is_empty() && matches!(r, Some(BundleSource::Loaded(_))), "{p:?}");
        let (r, _) = run("https://example.com/bundle.zip");
        assert!(matches!(r, Some(BundleSource::Url(u)) if u == "https://example.com/bundle.zip"));
        let (_, p) = run("/nonexistent/bundle.zip");
        assert_eq!(
            p,
            vec!["Invalid value /nonexistent/bundle.zip for configuration cloud.secureConnectBundle: does not exist"]
        );
        std::fs::write(dir.join("no-config.zip"), bundle(CONFIG, "config.json")).unwrap();
        let (_, p) = run(dir.join("no-config.zip").to_str().unwrap());
        assert_eq!(
            p,
            vec![format!(
                "Invalid value {} for configuration cloud.secureConnectBundle: Invalid bundle: missing file config.json",
                dir.join("no-config.zip").display()
            )]
        );
        let (r, p) = run(" ");
        assert!(r.is_none() && p.is_empty(), "an empty value is no cloud mode");
        // The driver's key, when the connector's is absent.
        let mut problems = Vec::new();
        let props = Properties::from_pairs([(DRIVER_KEY, path.to_str().unwrap())]);
        assert!(matches!(read(&props, &mut problems), Some(BundleSource::Loaded(_))) && problems.is_empty());
    }

    #[test]
    fn exclusions_are_worded_as_the_reference() {
        let mut problems = Vec::new();
        let props = Properties::from_pairs([
            ("contactPoints", "10.0.0.1"),
            ("loadBalancing.localDc", "dc1"),
            ("ssl.provider", "None"),
        ]);
        exclusions(&props, &mut problems);
        assert_eq!(
            problems,
            vec![
                "When cloud.secureConnectBundle parameter is specified you should not provide contactPoints.",
                "When cloud.secureConnectBundle parameter is specified you should not provide loadBalancing.localDc.",
                "When cloud.secureConnectBundle parameter is specified you should not provide any setting under ssl..",
            ]
        );
        let mut problems = Vec::new();
        exclusions(&Properties::from_pairs([("port", "9042")]), &mut problems);
        assert!(problems.is_empty());
    }

    #[test]
    fn cloud_mode_in_a_connector_configuration() {
        use crate::config::ConnectorConfig;
        use scylla::statement::Consistency;
        let dir = std::env::temp_dir().join(format!("cassandra-sink-cloud-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.zip");
        std::fs::write(&path, bundle(CONFIG, "")).unwrap();
        let base = format!(
            "name=c\ntopics=t\ntopic.t.ks.tb.mapping=k=key\ntopic.t.ks.tb2.mapping=k=key\n\
             topic.t.ks.tb2.consistencyLevel=QUORUM\ncloud.secureConnectBundle={}\n",
            path.display()
        );
        let parse = |text: &str| ConnectorConfig::from_properties(&Properties::parse(text.as_bytes()).unwrap());
        let c = parse(&format!("{base}port=9043\n")).unwrap();
        assert!(matches!(c.cloud, Some(BundleSource::Loaded(_))));
        let by_table = |name: &str| c.tables.iter().find(|t| t.table.table == name).unwrap().consistency;
        assert_eq!(by_table("tb"), Consistency::LocalQuorum, "LOCAL_ONE is forced to LOCAL_QUORUM");
        assert_eq!(by_table("tb2"), Consistency::Quorum);
        assert!(
            c.warnings.contains(&"port has no effect with cloud.secureConnectBundle".to_string()),
            "{:?}",
            c.warnings
        );
        let e =
            parse(&format!("{base}contactPoints=10.0.0.1\nloadBalancing.localDc=dc1\nssl.provider=JDK\n")).unwrap_err();
        let text = e.problems.join("\n");
        for expected in [
            "you should not provide contactPoints.",
            "you should not provide loadBalancing.localDc.",
            "you should not provide any setting under ssl..",
        ] {
            assert!(text.contains(expected), "missing «{expected}» in {text}");
        }
        assert!(!text.contains("When contact points is provided"), "{text}");
    }

    proptest::proptest! {
        /// Whatever a bundle or a metadata answer holds, reading it fails cleanly.
        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = unzip(&bytes);
            let _ = parse_metadata(&bytes);
            let mut archive = zip(&[("config.json", &bytes[..]), ("key", &bytes[..])]);
            let _ = unzip(&archive);
            // Damaged archives: a byte flipped anywhere.
            if !archive.is_empty() {
                let at = bytes.len() % archive.len();
                archive[at] ^= 0xFF;
                let _ = unzip(&archive);
            }
        }
    }

    #[test]
    fn metadata_documents() {
        let ok = br#"{"version":1,"region":"us-east1","contact_info":{"type":"sni_proxy","local_dc":"us-east1",
            "contact_points":["5c2ec2a3-1b55-4b4a-a0fb-61df5e1f0e5b","0f8e9ab5-8a5e-4bb4-8c1e-3e0c4b9a1b2c"],
            "sni_proxy_address":"db-1.example.com:29042"}}"#;
        let info = parse_metadata(ok).unwrap();
        assert_eq!((info.proxy_host.as_str(), info.proxy_port), ("db-1.example.com", 29042));
        assert_eq!(info.local_dc, "us-east1");
        assert_eq!(info.host_ids.len(), 2);
        assert_eq!(info.host_ids[0].to_string(), "5c2ec2a3-1b55-4b4a-a0fb-61df5e1f0e5b");
        let e = |s: &str| parse_metadata(s.as_bytes()).unwrap_err();
        assert_eq!(e("{}"), "Invalid proxy metadata: missing field contact_info");
        assert_eq!(
            e(r#"{"contact_info":{"contact_points":[],"sni_proxy_address":"h:1"}}"#),
            "Invalid proxy metadata: missing field local_dc"
        );
        assert_eq!(
            e(r#"{"contact_info":{"local_dc":"d","contact_points":[]}}"#),
            "Invalid proxy metadata: missing field sni_proxy_address"
        );
        assert_eq!(
            e(r#"{"contact_info":{"local_dc":"d","contact_points":[],"sni_proxy_address":"h"}}"#),
            "Invalid proxy metadata: missing port from field sni_proxy_address"
        );
        assert_eq!(
            e(r#"{"contact_info":{"local_dc":"d","sni_proxy_address":"h:1"}}"#),
            "Invalid proxy metadata: missing field contact_points"
        );
        assert_eq!(
            e(r#"{"contact_info":{"local_dc":"d","contact_points":["n1"],"sni_proxy_address":"h:1"}}"#),
            "Invalid proxy metadata: contact point \"n1\" is not a host id (a UUID)"
        );
        assert!(e("<html>").starts_with("Invalid proxy metadata: not JSON"));
    }
}
