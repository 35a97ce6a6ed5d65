//! The Kafka Connect worker file: where Kafka is, how record bytes become values (converters),
//! and `consumer.*` overrides for the sink's consumers.

use std::collections::BTreeMap;
use std::time::Duration;

use super::kafka_security::{HIDDEN, KAFKA_SECURITY_KEYS, is_secret_kafka_key, java_security, kafka_security};
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
