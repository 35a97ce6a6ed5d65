//! The Kafka Connect worker file: where Kafka is, how record bytes become values (converters),
//! and `consumer.*` overrides for the sink's consumers.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{ConfigError, Properties, invalid};
use crate::codec::header::HeaderConverter;

/// What a converter class turns key or value bytes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConverterKind {
    /// `org.apache.kafka.connect.storage.StringConverter`: UTF-8 text.
    String,
    /// `org.apache.kafka.connect.json.JsonConverter`; `schemas` = `schemas.enable`.
    Json {
        schemas: bool,
    },
    /// `org.apache.kafka.connect.converters.ByteArrayConverter`: raw bytes.
    ByteArray,
    /// Kafka's fixed-width big-endian number converters.
    Integer,
    Long,
    Short,
    Float,
    Double,
    Boolean,
    /// `io.confluent.connect.avro.AvroConverter`: Confluent's wire format (magic byte, schema
    /// id, Avro binary) with the writer schema from a schema registry.
    Avro(RegistrySettings),
    /// `io.confluent.connect.protobuf.ProtobufConverter`: Confluent's wire format with message
    /// indexes, Protobuf binary, the `.proto` schema from a schema registry.
    Protobuf(RegistrySettings),
    /// `io.confluent.connect.json.JsonSchemaConverter`: Confluent's wire format, JSON text, the
    /// JSON Schema from a schema registry.
    JsonSchema(RegistrySettings),
}

/// Where the Avro, Protobuf and JSON Schema converters find schemas and how they authenticate;
/// read from `<prefix>.schema.registry.url`, `<prefix>.basic.auth.credentials.source` and
/// `<prefix>.basic.auth.user.info` (Confluent's names; `<prefix>` is `key.converter` or
/// `value.converter`, in the worker file or as a connector override).
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrySettings {
    /// Base URLs without user info, tried in order (Confluent's comma-separated fail-over list).
    pub urls: Vec<String>,
    /// HTTP basic authentication: user and password.
    pub basic_auth: Option<(String, String)>,
}

impl std::fmt::Debug for RegistrySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrySettings")
            .field("urls", &self.urls)
            .field("basic_auth", &self.basic_auth.as_ref().map(|(user, _)| (user, "<redacted>")))
            .finish()
    }
}

const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";
const PROTOBUF_CONVERTER: &str = "io.confluent.connect.protobuf.ProtobufConverter";
const JSON_SCHEMA_CONVERTER: &str = "io.confluent.connect.json.JsonSchemaConverter";

/// Supported converter classes, for the error that lists them.
pub const SUPPORTED_CONVERTERS: [&str; 12] = [
    STRING_CONVERTER,
    JSON_CONVERTER,
    AVRO_CONVERTER,
    PROTOBUF_CONVERTER,
    JSON_SCHEMA_CONVERTER,
    "org.apache.kafka.connect.converters.ByteArrayConverter",
    "org.apache.kafka.connect.converters.IntegerConverter",
    "org.apache.kafka.connect.converters.LongConverter",
    "org.apache.kafka.connect.converters.ShortConverter",
    "org.apache.kafka.connect.converters.FloatConverter",
    "org.apache.kafka.connect.converters.DoubleConverter",
    "org.apache.kafka.connect.converters.BooleanConverter",
];

impl ConverterKind {
    /// `prefix` is `key.converter` or `value.converter`; reads the class and its `schemas.enable`.
    pub fn from_settings(props: &Properties, prefix: &str, problems: &mut Vec<String>) -> Option<ConverterKind> {
        let class = props.get(prefix)?.trim();
        let schemas_key = format!("{prefix}.schemas.enable");
        let kind = match class {
            STRING_CONVERTER => ConverterKind::String,
            JSON_CONVERTER => {
                let schemas = match props.get(&schemas_key) {
                    None => true,
                    Some(v) => match parse_bool(v) {
                        Some(b) => b,
                        None => {
                            problems.push(invalid(&schemas_key, v, "Expected value to be either true or false"));
                            true
                        }
                    },
                };
                // Kafka reads decimals in both encodings whatever this says (it only chooses how
                // decimals are written), so it is validated and has no other effect here.
                let format_key = format!("{prefix}.decimal.format");
                if let Some(v) = props.get(&format_key)
                    && !["BASE64", "NUMERIC"].iter().any(|f| f.eq_ignore_ascii_case(v.trim()))
                {
                    problems.push(invalid(&format_key, v, "String must be one of (case insensitive): BASE64, NUMERIC"));
                }
                ConverterKind::Json { schemas }
            }
            AVRO_CONVERTER => ConverterKind::Avro(registry_settings(props, prefix, problems)?),
            PROTOBUF_CONVERTER => ConverterKind::Protobuf(registry_settings(props, prefix, problems)?),
            JSON_SCHEMA_CONVERTER => ConverterKind::JsonSchema(registry_settings(props, prefix, problems)?),
            "org.apache.kafka.connect.converters.ByteArrayConverter" => ConverterKind::ByteArray,
            "org.apache.kafka.connect.converters.IntegerConverter" => ConverterKind::Integer,
            "org.apache.kafka.connect.converters.LongConverter" => ConverterKind::Long,
            "org.apache.kafka.connect.converters.ShortConverter" => ConverterKind::Short,
            "org.apache.kafka.connect.converters.FloatConverter" => ConverterKind::Float,
            "org.apache.kafka.connect.converters.DoubleConverter" => ConverterKind::Double,
            "org.apache.kafka.connect.converters.BooleanConverter" => ConverterKind::Boolean,
            other => {
                problems.push(invalid(
                    prefix,
                    other,
                    &format!("unsupported converter class; supported: {}", SUPPORTED_CONVERTERS.join(", ")),
                ));
                return None;
            }
        };
        Some(kind)
    }
}

/// The schema-registry settings of the Avro, Protobuf and JSON Schema converters under `prefix`.
fn registry_settings(props: &Properties, prefix: &str, problems: &mut Vec<String>) -> Option<RegistrySettings> {
    let url_key = format!("{prefix}.schema.registry.url");
    let Some(list) = props.get(&url_key) else {
        problems.push(format!("Missing required configuration \"{url_key}\" which has no default value."));
        return None;
    };
    let mut urls = Vec::new();
    let mut url_user_info = None;
    for item in list.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        match reqwest::Url::parse(item) {
            Ok(mut url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                if !url.username().is_empty() && url_user_info.is_none() {
                    url_user_info =
                        Some((percent_decode(url.username()), percent_decode(url.password().unwrap_or_default())));
                }
                let _ = url.set_username("");
                let _ = url.set_password(None);
                urls.push(url.as_str().trim_end_matches('/').to_string());
            }
            _ => {
                problems.push(invalid(&url_key, list, &format!("'{item}' is not an http:// or https:// URL")));
                return None;
            }
        }
    }
    if urls.is_empty() {
        problems.push(invalid(&url_key, list, "must list at least one URL"));
        return None;
    }
    let source_key = format!("{prefix}.basic.auth.credentials.source");
    let source = props.get(&source_key).map(str::trim).unwrap_or("URL");
    let basic_auth = match source.to_ascii_uppercase().as_str() {
        "URL" => url_user_info,
        "USER_INFO" => {
            let info_key = format!("{prefix}.basic.auth.user.info");
            let alias = format!("{prefix}.schema.registry.basic.auth.user.info");
            let (key, info) = match (props.get(&info_key), props.get(&alias)) {
                (Some(v), _) => (info_key, v),
                (None, Some(v)) => (alias, v),
                (None, None) => {
                    problems.push(format!(
                        "Missing configuration \"{info_key}\": {source_key}=USER_INFO needs user:password"
                    ));
                    return None;
                }
            };
            match info.split_once(':') {
                Some((user, password)) if !user.is_empty() => Some((user.to_string(), password.to_string())),
                _ => {
                    problems.push(invalid(&key, "<redacted>", "expected user:password"));
                    return None;
                }
            }
        }
        _ => {
            problems.push(invalid(
                &source_key,
                source,
                "supported: URL, USER_INFO (SASL_INHERIT is not supported by this sink)",
            ));
            return None;
        }
    };
    Some(RegistrySettings { urls, basic_auth })
}

/// `%XX` escapes of a URL's user info.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b.get(i), b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (Some(b'%'), Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (Some(c), _, _) => {
                out.push(*c);
                i += 1;
            }
            (None, _, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Kafka's boolean parsing: `true`/`false`, case-insensitive, surrounding blanks ignored.
pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[derive(Clone)]
pub struct WorkerConfig {
    pub bootstrap_servers: String,
    pub key_converter: ConverterKind,
    pub value_converter: ConverterKind,
    /// `header.converter` (default `SimpleHeaderConverter`).
    pub header_converter: HeaderConverter,
    /// How often finished offsets are committed (`offset.flush.interval.ms`).
    pub commit_interval: Duration,
    /// Records taken from the consumer before they are grouped and written
    /// (`consumer.max.poll.records`, default 500 as in Kafka).
    pub max_poll_records: usize,
    /// librdkafka settings from `consumer.*`, already translated from Java client names; the
    /// security settings are the top-level ones with `consumer.*` on top.
    pub consumer: BTreeMap<String, String>,
    /// librdkafka security settings of the dead-letter admin client and producer: the consumer's,
    /// with `producer.*` on top.
    pub producer: BTreeMap<String, String>,
    /// `consumer.*` keys that have no librdkafka meaning; logged once at start.
    pub ignored_consumer_keys: Vec<String>,
    /// Worker keys we do not know; logged as warnings, as Kafka Connect does.
    pub unknown_keys: Vec<String>,
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            m.iter()
                .map(|(k, v)| (k.clone(), if is_secret_kafka_key(k) { HIDDEN.to_string() } else { v.clone() }))
                .collect()
        };
        f.debug_struct("WorkerConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("key_converter", &self.key_converter)
            .field("value_converter", &self.value_converter)
            .field("header_converter", &self.header_converter)
            .field("commit_interval", &self.commit_interval)
            .field("max_poll_records", &self.max_poll_records)
            .field("consumer", &shown(&self.consumer))
            .field("producer", &shown(&self.producer))
            .field("ignored_consumer_keys", &self.ignored_consumer_keys)
            .field("unknown_keys", &self.unknown_keys)
            .finish()
    }
}

/// Worker keys of Kafka Connect standalone that are accepted without effect here.
const KNOWN_WORKER_KEYS: &[&str] = &[
    "bootstrap.servers",
    "key.converter",
    "value.converter",
    "header.converter",
    "key.converter.schemas.enable",
    "value.converter.schemas.enable",
    "offset.flush.interval.ms",
    "offset.flush.timeout.ms",
    "offset.storage.file.filename",
    "plugin.path",
    "plugin.discovery",
    "listeners",
    "rest.port",
    "rest.host.name",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "group.id",
    "client.id",
    "task.shutdown.graceful.timeout.ms",
    "internal.key.converter",
    "internal.value.converter",
    "config.providers",
];

impl WorkerConfig {
    pub fn from_properties(props: &Properties) -> Result<WorkerConfig, ConfigError> {
        let mut problems = Vec::new();
        let bootstrap_servers = props.get("bootstrap.servers").unwrap_or("localhost:9092").trim().to_string();
        if bootstrap_servers.is_empty() {
            problems.push(invalid("bootstrap.servers", "\"\"", "must list at least one host:port"));
        }
        let default_json = ConverterKind::Json { schemas: true };
        let key_converter =
            ConverterKind::from_settings(props, "key.converter", &mut problems).unwrap_or(default_json.clone());
        let value_converter =
            ConverterKind::from_settings(props, "value.converter", &mut problems).unwrap_or(default_json);
        let header_converter = HeaderConverter::from_settings(props, &mut problems).unwrap_or_default();
        let commit_interval = match props.get("offset.flush.interval.ms") {
            None => Duration::from_secs(5),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms) if ms >= 1 => Duration::from_millis(ms),
                _ => {
                    problems.push(invalid("offset.flush.interval.ms", v, "must be a whole number of milliseconds ≥ 1"));
                    Duration::from_secs(5)
                }
            },
        };
        let max_poll_records = match props.get("consumer.max.poll.records") {
            None => 500,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    problems.push(invalid("consumer.max.poll.records", v, "Value must be at least 1"));
                    500
                }
            },
        };
        let mut consumer = BTreeMap::new();
        let mut ignored_consumer_keys = Vec::new();
        let mut unknown_keys = Vec::new();
        for (key, value) in props.iter() {
            if key == "consumer.max.poll.records" {
                continue;
            }
            if let Some(ck) = key.strip_prefix("consumer.") {
                if KAFKA_SECURITY_KEYS.contains(&ck) {
                    continue; // read below, with the top-level ones
                }
                match translate_consumer_key(ck, value) {
                    Ok(Some((k, v))) => {
                        consumer.insert(k, v);
                    }
                    Ok(None) => ignored_consumer_keys.push(key.to_string()),
                    Err(reason) => problems.push(invalid(key, value, &reason)),
                }
            } else if !KNOWN_WORKER_KEYS.contains(&key)
                && !KAFKA_SECURITY_KEYS.contains(&key)
                && !key.starts_with("key.converter.")
                && !key.starts_with("value.converter.")
                && !key.starts_with("header.converter.")
                && !key.starts_with("producer.")
                && !key.starts_with("admin.")
                && !key.starts_with("config.providers.")
            {
                unknown_keys.push(key.to_string());
            }
        }
        // Security: the top-level keys (Kafka Connect's own clients), then `consumer.*` for the
        // consumers and `producer.*` on top of those for the dead-letter clients.
        let top = java_security(props, "", None);
        let consumer_security = java_security(props, "consumer.", Some(&top));
        let producer_security = java_security(props, "producer.", Some(&consumer_security));
        consumer.extend(kafka_security(&consumer_security, &mut problems));
        let producer = kafka_security(&producer_security, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        Ok(WorkerConfig {
            bootstrap_servers,
            key_converter,
            value_converter,
            header_converter,
            commit_interval,
            max_poll_records,
            consumer,
            producer,
            ignored_consumer_keys,
            unknown_keys,
        })
    }
}

/// Java consumer setting → librdkafka setting. `Ok(None)`: no meaning for librdkafka (ignored with
/// a log line); `Err`: a value librdkafka cannot take.
pub fn translate_consumer_key(key: &str, value: &str) -> Result<Option<(String, String)>, String> {
    let v = value.trim();
    let same = |k: &str| Ok(Some((k.to_string(), v.to_string())));
    match key {
        // The consumer group is always connect-<name>, as in Kafka Connect; offsets are managed here.
        "group.id" | "enable.auto.commit" | "key.deserializer" | "value.deserializer" => Ok(None),
        // Java-only knobs with no librdkafka counterpart.
        "max.poll.records"
        | "request.timeout.ms"
        | "default.api.timeout.ms"
        | "exclude.internal.topics"
        | "interceptor.classes"
        | "metric.reporters"
        | "metrics.num.samples"
        | "metrics.sample.window.ms"
        | "check.crcs"
        | "retry.backoff.max.ms"
        | "connections.max.idle.ms"
        | "receive.buffer.bytes"
        | "send.buffer.bytes" => Ok(None),
        "partition.assignment.strategy" => {
            let mut out = Vec::new();
            for class in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let name = class.rsplit('.').next().unwrap_or(class);
                out.push(match name {
                    "RangeAssignor" | "range" => "range",
                    "RoundRobinAssignor" | "roundrobin" => "roundrobin",
                    "CooperativeStickyAssignor" | "StickyAssignor" | "cooperative-sticky" => "cooperative-sticky",
                    other => {
                        return Err(format!(
                            "unsupported assignor {other}; supported: RangeAssignor, RoundRobinAssignor, CooperativeStickyAssignor"
                        ));
                    }
                });
            }
            // librdkafka cannot mix eager and cooperative assignors; prefer the cooperative one.
            if out.contains(&"cooperative-sticky") {
                out.retain(|a| *a == "cooperative-sticky");
            }
            out.dedup();
            Ok(Some(("partition.assignment.strategy".into(), out.join(","))))
        }
        "auto.offset.reset" => match v {
            "earliest" | "latest" => same(key),
            "none" => Ok(Some((key.into(), "error".into()))),
            _ => Err("must be one of earliest, latest, none".into()),
        },
        "isolation.level" => match v {
            "read_committed" | "read_uncommitted" => same(key),
            _ => Err("must be read_committed or read_uncommitted".into()),
        },
        "session.timeout.ms"
        | "heartbeat.interval.ms"
        | "max.poll.interval.ms"
        | "fetch.min.bytes"
        | "fetch.max.bytes"
        | "max.partition.fetch.bytes"
        | "client.id"
        | "client.rack"
        | "reconnect.backoff.ms"
        | "reconnect.backoff.max.ms"
        | "retry.backoff.ms"
        | "metadata.max.age.ms"
        | "sasl.username"
        | "sasl.password"
        | "sasl.kerberos.service.name"
        | "socket.connection.setup.timeout.ms"
        | "group.instance.id"
        | "group.protocol"
        | "bootstrap.servers" => same(key),
        "fetch.max.wait.ms" => same("fetch.wait.max.ms"),
        // Security keys one by one (a connector's `consumer.override.*`); the worker file reads
        // them as a group (`sasl.jaas.config`, stores: see `kafka_security`).
        "security.protocol" => match v.to_ascii_uppercase().as_str() {
            p @ ("PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL") => Ok(Some((key.into(), p.to_ascii_lowercase()))),
            _ => Err("String must be one of (case insensitive): PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL".into()),
        },
        "sasl.mechanism" | "sasl.mechanisms" => match v.to_ascii_uppercase().as_str() {
            m @ ("PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" | "GSSAPI") => {
                Ok(Some(("sasl.mechanisms".into(), m.to_string())))
            }
            _ => Err("supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI".into()),
        },
        "ssl.endpoint.identification.algorithm" => match v.to_ascii_lowercase().as_str() {
            "https" => same(key),
            "" => Ok(Some((key.into(), "none".into()))),
            _ => Err("allowed: https, or empty (the broker's host name is not checked)".into()),
        },
        // Settings already in librdkafka's own names pass through unchanged.
        k if RDKAFKA_PASSTHROUGH.contains(&k) => same(k),
        _ => Ok(None),
    }
}

const RDKAFKA_PASSTHROUGH: &[&str] = &[
    "queued.min.messages",
    "queued.max.messages.kbytes",
    "fetch.queue.backoff.ms",
    "fetch.wait.max.ms",
    "statistics.interval.ms",
    "debug",
    "topic.metadata.refresh.interval.ms",
    "socket.keepalive.enable",
];

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
const HIDDEN: &str = "[hidden]";

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
type JavaSecurity<'a> = BTreeMap<&'static str, (String, &'a str)>;

/// The settings under `prefix`, on top of `base` (a prefixed key wins over the same key below).
fn java_security<'a>(props: &'a Properties, prefix: &str, base: Option<&JavaSecurity<'a>>) -> JavaSecurity<'a> {
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
fn kafka_security(s: &JavaSecurity<'_>, problems: &mut Vec<String>) -> BTreeMap<String, String> {
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
fn java_store_refusal(shown: &str, kind: &str, bytes: &[u8]) -> Option<String> {
    let store_type = if bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        "JKS"
    } else if bytes.starts_with(&[0xCE, 0xCE, 0xCE, 0xCE]) {
        "JCEKS"
    } else {
        return None;
    };
    let dest = std::path::Path::new(shown).with_extension("p12").display().to_string();
    Some(format!(
        "{kind} is a Java {store_type} key store, which librdkafka cannot read; convert it to PKCS12 (same \
         password) with `keytool -importkeystore -srckeystore {shown} -srcstoretype {store_type} -destkeystore \
         {dest} -deststoretype PKCS12`, point the setting at the .p12 file and set the .type to PKCS12 (a PEM \
         file works too)"
    ))
}

fn is_pem(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    bytes[start..].starts_with(b"-----BEGIN")
}

fn certificates_from_pem(bytes: &[u8]) -> Result<Vec<openssl::x509::X509>, String> {
    let certs = openssl::x509::X509::stack_from_pem(bytes)
        .map_err(|e| format!("not a PEM certificate list ({})", super::security::reasons(&e)))?;
    if certs.is_empty() {
        return Err("it holds no certificate".into());
    }
    Ok(certs)
}

fn open_pkcs12(bytes: &[u8], password: &str, kind: &str) -> Result<openssl::pkcs12::ParsedPkcs12_2, String> {
    let p12 = openssl::pkcs12::Pkcs12::from_der(bytes)
        .map_err(|e| format!("Invalid {kind}: not a PKCS12, PEM or DER file ({})", super::security::reasons(&e)))?;
    p12.parse2(password).map_err(|e| {
        format!(
            "Invalid {kind}: cannot open it with the password given ({}); check ssl.{kind}.password, or re-export \
             a PKCS12 made with legacy encryption (RC2/3DES) with current algorithms",
            super::security::reasons(&e)
        )
    })
}

/// A trust store: a PEM file is used as it is; PKCS12 and DER become PEM text.
fn trust_store_pem(shown: &str, bytes: &[u8], password: &str) -> Result<StoreContent, String> {
    if let Some(refusal) = java_store_refusal(shown, "truststore", bytes) {
        return Err(refusal);
    }
    if is_pem(bytes) {
        certificates_from_pem(bytes).map_err(|r| format!("Invalid truststore: {r}"))?;
        return Ok(StoreContent::File);
    }
    let certs = match openssl::x509::X509::from_der(bytes) {
        Ok(cert) => vec![cert],
        Err(_) => {
            let parsed = open_pkcs12(bytes, password, "truststore")?;
            parsed.cert.into_iter().chain(parsed.ca.into_iter().flatten()).collect()
        }
    };
    if certs.is_empty() {
        return Err("Invalid truststore: it holds no certificate".into());
    }
    let mut pem = String::new();
    for c in certs {
        let text = c.to_pem().map_err(|e| format!("Invalid truststore: {}", super::security::reasons(&e)))?;
        pem.push_str(&String::from_utf8_lossy(&text));
    }
    Ok(StoreContent::Pem(pem))
}

/// A key store: PKCS12 is checked (it opens, holds a key and its certificate) and left to
/// librdkafka; a PEM store's key is decrypted and returned.
fn key_store_kind(shown: &str, bytes: &[u8], store_pw: &str, key_pw: Option<&str>) -> Result<StoreContent, String> {
    if let Some(refusal) = java_store_refusal(shown, "keystore", bytes) {
        return Err(refusal);
    }
    if is_pem(bytes) {
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
            .map_err(|e| format!("no readable PEM private key ({})", super::security::reasons(&e)))?,
    };
    if !certs[0].public_key().is_ok_and(|pk| pk.public_eq(&pkey)) {
        return Err("the private key does not belong to the first certificate of the chain".into());
    }
    let pem = pkey.private_key_to_pem_pkcs8().map_err(|e| super::security::reasons(&e))?;
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

    fn worker(text: &str) -> Result<WorkerConfig, ConfigError> {
        WorkerConfig::from_properties(&Properties::parse(text.as_bytes()).unwrap())
    }

    #[test]
    fn typical_standalone_worker_file() {
        let w = worker(
            "bootstrap.servers=127.0.0.1:9092\n\
             key.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter.schemas.enable=false\n\
             offset.storage.file.filename=/tmp/connect.offsets\n\
             offset.flush.interval.ms=1000\n\
             plugin.path=/usr/share/java\n\
             consumer.max.poll.records=500\n\
             consumer.fetch.max.wait.ms=100\n\
             consumer.partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor\n\
             some.unknown=1\n",
        )
        .unwrap();
        assert_eq!(w.bootstrap_servers, "127.0.0.1:9092");
        assert_eq!(w.key_converter, ConverterKind::String);
        assert_eq!(w.value_converter, ConverterKind::Json { schemas: false });
        assert_eq!(w.commit_interval, Duration::from_millis(1000));
        assert_eq!(w.consumer.get("fetch.wait.max.ms").map(String::as_str), Some("100"));
        assert_eq!(w.consumer.get("partition.assignment.strategy").map(String::as_str), Some("cooperative-sticky"));
        assert_eq!(w.max_poll_records, 500);
        assert!(w.ignored_consumer_keys.is_empty(), "{:?}", w.ignored_consumer_keys);
        assert_eq!(w.unknown_keys, vec!["some.unknown"]);
    }

    #[test]
    fn json_converter_defaults_to_schemas_enabled() {
        let w = worker("value.converter=org.apache.kafka.connect.json.JsonConverter").unwrap();
        assert_eq!(w.value_converter, ConverterKind::Json { schemas: true });
    }

    #[test]
    fn avro_converter_settings() {
        let w = worker(
            "key.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter=io.confluent.connect.avro.AvroConverter\n\
             value.converter.schema.registry.url=http://a:8081/, https://b/apis/ccompat/v7\n\
             value.converter.basic.auth.credentials.source=USER_INFO\n\
             value.converter.basic.auth.user.info=fred:s3:cret\n",
        )
        .unwrap();
        let ConverterKind::Avro(r) = &w.value_converter else { panic!("{:?}", w.value_converter) };
        assert_eq!(r.urls, vec!["http://a:8081", "https://b/apis/ccompat/v7"]);
        assert_eq!(r.basic_auth, Some(("fred".into(), "s3:cret".into())));
        assert!(!format!("{r:?}").contains("s3:cret"), "the password is not shown");
        let w = worker(
            "value.converter=io.confluent.connect.avro.AvroConverter\n\
             value.converter.schema.registry.url=http://us%40r:p%3Ass@reg:8081\n",
        )
        .unwrap();
        let ConverterKind::Avro(r) = &w.value_converter else { panic!() };
        assert_eq!(r.urls, vec!["http://reg:8081"]);
        assert_eq!(r.basic_auth, Some(("us@r".into(), "p:ss".into())));
    }

    #[test]
    fn protobuf_and_json_schema_converter_settings() {
        let w = worker(
            "key.converter=io.confluent.connect.json.JsonSchemaConverter\n\
             key.converter.schema.registry.url=http://k:8081\n\
             value.converter=io.confluent.connect.protobuf.ProtobufConverter\n\
             value.converter.schema.registry.url=http://u:p@v:8081\n",
        )
        .unwrap();
        let ConverterKind::JsonSchema(k) = &w.key_converter else { panic!("{:?}", w.key_converter) };
        assert_eq!(k.urls, vec!["http://k:8081"]);
        let ConverterKind::Protobuf(v) = &w.value_converter else { panic!("{:?}", w.value_converter) };
        assert_eq!(v.urls, vec!["http://v:8081"]);
        assert_eq!(v.basic_auth, Some(("u".into(), "p".into())));
        let e = worker("value.converter=io.confluent.connect.protobuf.ProtobufConverter\n").unwrap_err();
        assert!(e.problems[0].contains("value.converter.schema.registry.url"), "{e}");
        let e = worker("value.converter=com.example.Nope\n").unwrap_err();
        for class in SUPPORTED_CONVERTERS {
            assert!(e.problems[0].contains(class), "{e}");
        }
        assert!(e.problems[0].contains("io.confluent.connect.json.JsonSchemaConverter"), "{e}");
    }

    #[test]
    fn bad_avro_and_json_converter_settings() {
        let e = worker(
            "key.converter=io.confluent.connect.avro.AvroConverter\n\
             value.converter=io.confluent.connect.avro.AvroConverter\n\
             value.converter.schema.registry.url=ftp://x\n",
        )
        .unwrap_err();
        assert_eq!(
            e.problems,
            vec![
                "Missing required configuration \"key.converter.schema.registry.url\" which has no default value.",
                "Invalid value ftp://x for configuration value.converter.schema.registry.url: 'ftp://x' is not an http:// or https:// URL",
            ]
        );
        let e = worker(
            "value.converter=io.confluent.connect.avro.AvroConverter\n\
             value.converter.schema.registry.url=http://r\n\
             value.converter.basic.auth.credentials.source=SASL_INHERIT\n\
             key.converter=org.apache.kafka.connect.json.JsonConverter\n\
             key.converter.decimal.format=HEX\n",
        )
        .unwrap_err();
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(e.problems[0].contains("key.converter.decimal.format"), "{e}");
        assert!(e.problems[1].contains("SASL_INHERIT is not supported"), "{e}");
        let e = worker(
            "value.converter=io.confluent.connect.avro.AvroConverter\n\
             value.converter.schema.registry.url=http://r\n\
             value.converter.basic.auth.credentials.source=USER_INFO\n",
        )
        .unwrap_err();
        assert!(e.problems[0].contains("value.converter.basic.auth.user.info"), "{e}");
        assert!(
            worker(
                "value.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.decimal.format=numeric\n"
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_settings_are_all_listed() {
        let e = worker(
            "key.converter=com.example.Nope\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter.schemas.enable=maybe\n\
             offset.flush.interval.ms=soon\n\
             consumer.auto.offset.reset=sometimes\n",
        )
        .unwrap_err();
        assert_eq!(e.problems.len(), 4, "{e}");
        assert!(e.problems[0].starts_with("Invalid value com.example.Nope for configuration key.converter: unsupported converter class; supported: org.apache.kafka.connect.storage.StringConverter"));
        assert_eq!(
            e.problems[1],
            "Invalid value maybe for configuration value.converter.schemas.enable: Expected value to be either true or false"
        );
        assert!(e.problems[2].contains("offset.flush.interval.ms"));
        assert_eq!(
            e.problems[3],
            "Invalid value sometimes for configuration consumer.auto.offset.reset: must be one of earliest, latest, none"
        );
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

    #[test]
    fn connector_overrides_translate_single_security_keys() {
        let t = |k: &str, v: &str| translate_consumer_key(k, v);
        assert_eq!(t("security.protocol", "sasl_ssl"), Ok(Some(("security.protocol".into(), "sasl_ssl".into()))));
        assert_eq!(t("sasl.mechanism", "scram-sha-256"), Ok(Some(("sasl.mechanisms".into(), "SCRAM-SHA-256".into()))));
        assert_eq!(
            t("ssl.endpoint.identification.algorithm", ""),
            Ok(Some(("ssl.endpoint.identification.algorithm".into(), "none".into())))
        );
        assert!(t("security.protocol", "TLS").is_err());
        assert!(t("sasl.mechanism", "OAUTHBEARER").is_err());
        // Read as a group in the worker file only.
        assert_eq!(t("sasl.jaas.config", "x"), Ok(None));
        assert_eq!(t("ssl.truststore.location", "/x"), Ok(None));
        assert!(is_secret_kafka_key("consumer.sasl.jaas.config") && is_secret_kafka_key("ssl.key.pem"));
        assert!(!is_secret_kafka_key("ssl.truststore.location"));
    }
}
