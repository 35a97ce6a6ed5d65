//! A DataStax connector file: the `name`, the topics, where Cassandra is, and for every
//! `topic.<topic>.<keyspace>.<table>.*` group the mapping and write settings of one table.
//!
//! Key routing follows the reference connector (spec §1.1): `topic.` keys must be a table setting
//! or a topic codec setting, `ssl.`/`auth.`/`datastax-java-driver` keys are their own families,
//! anything else is a global setting; unknown global keys are warnings, as in Kafka Connect.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use scylla::statement::Consistency;

use super::driver::DriverSettings;
use super::errors::ErrorHandling;
use super::security::{self, Credentials, GssapiSettings, TlsSettings};
use super::worker::{ConverterKind, parse_bool, translate_consumer_key};
use super::{ConfigError, Properties, invalid};
use crate::codec::TimeUnit;
use crate::codec::convert::CodecSettings;
use crate::codec::header::HeaderConverter;
use crate::mapping::{self, Mapping};

/// Which records' failures are skipped rather than holding their partition (`ignoreErrors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorPolicy {
    /// Nothing is skipped: a failing record stops its partition from advancing.
    #[default]
    None,
    /// Write (driver) failures are skipped; mapping failures are not.
    Driver,
    /// Every failure is skipped (logged and counted).
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Lz4,
    Snappy,
}

/// Topics are a list (`topics`) or a pattern (`topics.regex`), as in Kafka Connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    Topics(Vec<String>),
    Regex(String),
}

/// A keyspace.table as Cassandra stores the names (case-sensitive, unquoted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableRef {
    pub keyspace: String,
    pub table: String,
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", mapping::cql_ident(&self.keyspace), mapping::cql_ident(&self.table))
    }
}

/// One `topic.<topic>.<keyspace>.<table>` group.
#[derive(Debug, Clone)]
pub struct TableConfig {
    pub topic: String,
    pub table: TableRef,
    /// The key prefix `topic.<t>.<ks>.<tb>` as written, for messages.
    pub key_prefix: String,
    pub mapping_text: String,
    pub mapping: Mapping,
    pub consistency: Consistency,
    /// Static TTL in seconds (`ttl` converted with `ttlTimeUnit`); `None` = no TTL clause.
    pub ttl_seconds: Option<i64>,
    pub ttl_unit: TimeUnit,
    pub timestamp_unit: TimeUnit,
    pub null_to_unset: bool,
    pub deletes_enabled: bool,
    pub query: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub name: String,
    pub subscription: Subscription,
    /// `host` or `host:port` entries; empty means 127.0.0.1.
    pub contact_points: Vec<String>,
    pub port: u16,
    pub local_dc: Option<String>,
    pub max_concurrent_requests: usize,
    pub max_records_in_batch: usize,
    pub query_execution_timeout: Duration,
    pub connection_pool_local_size: usize,
    pub compression: Compression,
    /// `ignoreErrors` and Kafka Connect's `errors.*`, combined.
    pub errors: ErrorHandling,
    /// `auth.*`: the PLAIN login, if any.
    pub auth: Option<Credentials>,
    /// `ssl.*`: TLS to Cassandra, if `ssl.provider` is not None.
    pub tls: Option<Arc<TlsSettings>>,
    /// `auth.provider=GSSAPI`: the Kerberos login.
    pub gssapi: Option<GssapiSettings>,
    /// `cloud.secureConnectBundle`: Astra, through its SNI proxy (contact points, local DC and
    /// TLS come from the bundle).
    pub cloud: Option<super::cloud::BundleSource>,
    pub tables: Vec<TableConfig>,
    /// Per-topic `codec.*` settings; topics without any use the defaults.
    pub codecs: BTreeMap<String, CodecSettings>,
    pub key_converter: Option<ConverterKind>,
    pub value_converter: Option<ConverterKind>,
    /// `header.converter`, when the connector sets its own.
    pub header_converter: Option<HeaderConverter>,
    /// `consumer.override.*`, translated to librdkafka names.
    pub consumer_overrides: BTreeMap<String, String>,
    /// Accepted but noteworthy settings (unknown keys, keys without effect here).
    pub warnings: Vec<String>,
}

const TABLE_SETTINGS: [&str; 8] = [
    "mapping",
    "consistencyLevel",
    "ttl",
    "nullToUnset",
    "deletesEnabled",
    "ttlTimeUnit",
    "timestampTimeUnit",
    "query",
];
const CODEC_SETTINGS: [&str; 6] = ["locale", "timeZone", "timestamp", "date", "time", "unit"];
const CONSISTENCY_LEVELS: [&str; 11] = [
    "ANY",
    "ONE",
    "TWO",
    "THREE",
    "QUORUM",
    "ALL",
    "LOCAL_ONE",
    "LOCAL_QUORUM",
    "EACH_QUORUM",
    "SERIAL",
    "LOCAL_SERIAL",
];

/// Global keys of the DataStax connector and of Kafka Connect's connector configuration.
const KNOWN_GLOBAL_KEYS: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "topics",
    "topics.regex",
    "contactPoints",
    "port",
    "loadBalancing.localDc",
    "maxConcurrentRequests",
    "maxNumberOfRecordsInBatch",
    "queryExecutionTimeout",
    "connectionPoolLocalSize",
    "metricsHighestLatency",
    "compression",
    "jmx",
    "jmxConnectorDomain",
    "ignoreErrors",
    "cloud.secureConnectBundle",
    "key.converter",
    "value.converter",
    "header.converter",
    "config.action.reload",
];

const CONNECTOR_CLASSES: [&str; 2] =
    ["com.datastax.oss.kafka.sink.CassandraSinkConnector", "com.datastax.kafkaconnector.DseSinkConnector"];

/// Where a `topic.` key routes.
#[derive(Debug, PartialEq, Eq)]
enum TopicKey<'a> {
    Table { topic: &'a str, keyspace: &'a str, table: &'a str, setting: &'a str },
    Codec { topic: &'a str, setting: &'a str },
}

fn valid_topic(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The two regexes of spec §1.1, done by splitting from the right: the last two segments before a
/// table setting are keyspace and table, everything before them is the topic.
fn route_topic_key(key: &str) -> Option<TopicKey<'_>> {
    let rest = key.strip_prefix("topic.")?;
    let (head, setting) = rest.rsplit_once('.')?;
    if TABLE_SETTINGS.contains(&setting) {
        let (head2, table) = head.rsplit_once('.')?;
        let (topic, keyspace) = head2.rsplit_once('.')?;
        if valid_topic(topic) && !keyspace.is_empty() && !table.is_empty() {
            return Some(TopicKey::Table { topic, keyspace, table, setting });
        }
    }
    if CODEC_SETTINGS.contains(&setting) {
        let (topic, codec) = head.rsplit_once('.')?;
        if codec == "codec" && valid_topic(topic) {
            return Some(TopicKey::Codec { topic, setting });
        }
    }
    None
}

/// Keyspace and table names: quoted → CQL-unquoted, otherwise literal and case-sensitive.
fn identifier(text: &str) -> String {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if text.len() >= 2 => inner.replace("\"\"", "\""),
        _ => text.to_string(),
    }
}

struct Reader<'a> {
    props: &'a Properties,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn int(&mut self, key: &str, default: i64, min: i64) -> i64 {
        let Some(v) = self.props.get(key) else { return default };
        match v.trim().parse::<i64>() {
            Ok(n) if n >= min => n,
            Ok(_) => {
                self.problems.push(invalid(key, v, &format!("Value must be at least {min}")));
                default
            }
            Err(_) => {
                self.problems.push(invalid(key, v, "Not a number of type INT"));
                default
            }
        }
    }

    fn bool(&mut self, key: &str, default: bool) -> bool {
        let Some(v) = self.props.get(key) else { return default };
        parse_bool(v).unwrap_or_else(|| {
            self.problems.push(invalid(key, v, "Expected value to be either true or false"));
            default
        })
    }

    fn time_unit(&mut self, key: &str, default: TimeUnit) -> TimeUnit {
        let Some(v) = self.props.get(key) else { return default };
        TimeUnit::parse(v.trim()).unwrap_or_else(|| {
            self.problems.push(invalid(key, v, &format!("must be one of {}", TimeUnit::NAMES.join(", "))));
            default
        })
    }
}

pub(super) fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn consistency(s: &str) -> Option<Consistency> {
    Some(match s.trim().to_ascii_uppercase().as_str() {
        "ANY" => Consistency::Any,
        "ONE" => Consistency::One,
        "TWO" => Consistency::Two,
        "THREE" => Consistency::Three,
        "QUORUM" => Consistency::Quorum,
        "ALL" => Consistency::All,
        "LOCAL_ONE" => Consistency::LocalOne,
        "LOCAL_QUORUM" => Consistency::LocalQuorum,
        "EACH_QUORUM" => Consistency::EachQuorum,
        "SERIAL" => Consistency::Serial,
        "LOCAL_SERIAL" => Consistency::LocalSerial,
        _ => return None,
    })
}

impl ConnectorConfig {
    pub fn from_properties(props: &Properties) -> Result<ConnectorConfig, ConfigError> {
        let mut r = Reader { props, problems: Vec::new() };
        let mut warnings = Vec::new();

        let name = props.get("name").map(str::trim).unwrap_or_default().to_string();
        if name.is_empty() {
            r.problems.push("Missing required configuration \"name\" which has no default value.".into());
        }
        if let Some(class) = props.get("connector.class")
            && !CONNECTOR_CLASSES.contains(&class.trim())
            && !class.trim().ends_with("CassandraSinkConnector")
        {
            warnings.push(format!(
                "connector.class={class} is not the DataStax sink ({}); running it as the Cassandra sink anyway",
                CONNECTOR_CLASSES[0]
            ));
        }

        // Route every key first, so coverage checks below see the whole picture.
        let mut table_keys: BTreeMap<(String, String, String), BTreeMap<&str, &str>> = BTreeMap::new();
        let mut codec_keys: BTreeMap<String, BTreeMap<&str, &str>> = BTreeMap::new();
        let mut consumer_overrides = BTreeMap::new();
        for (key, value) in props.iter() {
            if key.starts_with("topic.") {
                match route_topic_key(key) {
                    Some(TopicKey::Table { topic, keyspace, table, setting }) => {
                        table_keys
                            .entry((topic.to_string(), keyspace.to_string(), table.to_string()))
                            .or_default()
                            .insert(setting, value);
                    }
                    Some(TopicKey::Codec { topic, setting }) => {
                        codec_keys.entry(topic.to_string()).or_default().insert(setting, value);
                    }
                    None => r.problems.push(format!(
                        "The setting: {key} does not match topic.keyspace.table nor topic.codec regular expression pattern"
                    )),
                }
            } else if key.starts_with("ssl.") || key.starts_with("auth.") {
                // Read as a whole below (security.rs).
            } else if key.starts_with("datastax-java-driver") {
                // Read as a whole below.
            } else if let Some(ck) = key.strip_prefix("consumer.override.") {
                match translate_consumer_key(ck, value) {
                    Ok(Some((k, v))) => {
                        consumer_overrides.insert(k, v);
                    }
                    Ok(None) => warnings.push(format!("{key} has no effect on this sink's consumer")),
                    Err(reason) => r.problems.push(invalid(key, value, &reason)),
                }
            } else if !KNOWN_GLOBAL_KEYS.contains(&key)
                && !key.starts_with("key.converter.")
                && !key.starts_with("value.converter.")
                && !key.starts_with("header.converter.")
                && !key.starts_with("transforms")
                && !key.starts_with("predicates")
                && !key.starts_with("errors.")
            {
                warnings.push(format!("unknown setting {key} is ignored"));
            } else if key.starts_with("transforms") && !value.trim().is_empty() {
                warnings.push(format!("{key}: single message transforms are not applied by this sink"));
            }
        }
        let cloud = super::cloud::read(props, &mut r.problems);
        let cloud_mode = super::cloud::value(props).is_some();
        if cloud_mode {
            super::cloud::exclusions(props, &mut r.problems);
            if props.get("port").is_some() {
                warnings.push("port has no effect with cloud.secureConnectBundle".into());
            }
        }
        let mut security = security::read(props, &mut r.problems, &mut warnings);
        if cloud_mode {
            // ssl.* is refused above: the bundle carries the TLS material.
            security.tls = None;
        }

        let subscription = match (props.get("topics"), props.get("topics.regex")) {
            (Some(t), None) => Subscription::Topics(list(t)),
            (None, Some(re)) => Subscription::Regex(re.trim().to_string()),
            (Some(_), Some(_)) => {
                r.problems.push("topics and topics.regex are mutually exclusive; set only one".into());
                Subscription::Topics(Vec::new())
            }
            (None, None) => {
                r.problems.push("Missing required configuration \"topics\" (or \"topics.regex\")".into());
                Subscription::Topics(Vec::new())
            }
        };
        let configured_topics: BTreeSet<&str> =
            table_keys.keys().map(|(t, _, _)| t.as_str()).chain(codec_keys.keys().map(String::as_str)).collect();
        if let Subscription::Topics(topics) = &subscription {
            if topics.is_empty() && props.get("topics").is_some() {
                r.problems.push(invalid("topics", "\"\"", "must list at least one topic"));
            }
            for t in topics {
                if !configured_topics.contains(t.as_str()) {
                    r.problems.push(invalid(
                        "topics",
                        props.get("topics").unwrap_or_default(),
                        &format!("Missing topic settings (topic.{t}.*) for topic {t}"),
                    ));
                }
            }
        }
        for topic in codec_keys.keys() {
            if !table_keys.keys().any(|(t, _, _)| t == topic) {
                r.problems.push(format!("Topic {topic} must have at least one table configuration"));
            }
        }

        let driver = DriverSettings::from_properties(props, &mut r.problems, &mut warnings);
        warnings.retain(|w| !w.starts_with(&format!("{} ", super::cloud::DRIVER_KEY)));
        let mut contact_points = props.get("contactPoints").map(list).unwrap_or_default();
        let port = r.int("port", 9042, 1);
        let port = u16::try_from(port).unwrap_or_else(|_| {
            r.problems.push(invalid("port", &port.to_string(), "Value must be at most 65535"));
            9042
        });
        let local_dc = props
            .get("loadBalancing.localDc")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .or(driver.local_dc.clone());
        if contact_points.is_empty() {
            // The driver's contact points carry their own ports (`host:port`).
            contact_points = driver.contact_points.clone();
        }
        if !contact_points.is_empty() && local_dc.is_none() && !cloud_mode {
            r.problems.push(invalid(
                "contactPoints",
                &format!("[{}]", contact_points.join(", ")),
                "When contact points is provided, loadBalancing.localDc must also be specified",
            ));
        }
        let bad: Vec<&str> = contact_points.iter().filter(|cp| !valid_contact_point(cp)).map(String::as_str).collect();
        if !bad.is_empty() {
            r.problems.push(format!("Incorrect contactPoints: {}", bad.join(",")));
        }

        let max_concurrent_requests = r.int("maxConcurrentRequests", 500, 1) as usize;
        let max_records_in_batch = r.int("maxNumberOfRecordsInBatch", 32, 1) as usize;
        let query_execution_timeout = match (props.get("queryExecutionTimeout"), driver.request_timeout) {
            (None, Some(t)) => t,
            _ => Duration::from_secs(r.int("queryExecutionTimeout", 30, 1) as u64),
        };
        let connection_pool_local_size = match (props.get("connectionPoolLocalSize"), driver.pool_local_size) {
            (None, Some(n)) => n,
            _ => r.int("connectionPoolLocalSize", 4, 1) as usize,
        };
        r.int("metricsHighestLatency", 35, 1);
        r.bool("jmx", true);
        let compression = match props.get("compression") {
            None => match driver.compression.as_deref() {
                Some("lz4") => Compression::Lz4,
                Some("snappy") => Compression::Snappy,
                _ => Compression::None,
            },
            Some(v) => match v.trim().to_ascii_uppercase().as_str() {
                "NONE" => Compression::None,
                "LZ4" => Compression::Lz4,
                "SNAPPY" => Compression::Snappy,
                _ => {
                    r.problems.push(invalid(
                        "compression",
                        v,
                        "String must be one of (case insensitive): LZ4, NONE, SNAPPY",
                    ));
                    Compression::None
                }
            },
        };
        let ignore_errors = match props.get("ignoreErrors") {
            None => ErrorPolicy::None,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "none" | "false" => ErrorPolicy::None,
                "driver" => ErrorPolicy::Driver,
                "true" => {
                    warnings.push(
                        "Setting ignoreErrors=true is deprecated, please replace with ignoreErrors=Driver".into(),
                    );
                    ErrorPolicy::Driver
                }
                "all" => ErrorPolicy::All,
                _ => {
                    r.problems.push(invalid("ignoreErrors", v, "expecting either All, None or Driver"));
                    ErrorPolicy::None
                }
            },
        };

        let errors = ErrorHandling::from_properties(props, ignore_errors, &mut r.problems);

        let mut tables = Vec::new();
        for ((topic, ks_text, tb_text), settings) in &table_keys {
            let key_prefix = format!("topic.{topic}.{ks_text}.{tb_text}");
            let k = |s: &str| format!("{key_prefix}.{s}");
            let Some(mapping_text) = settings.get("mapping").map(|s| s.to_string()) else {
                r.problems
                    .push(format!("Missing required configuration \"{}\" which has no default value.", k("mapping")));
                continue;
            };
            let mapping = match mapping::parse(&mapping_text) {
                Ok(m) => Some(m),
                Err(e) => {
                    r.problems.push(format!("Invalid value '{mapping_text}' for configuration {}: {e}", k("mapping")));
                    None
                }
            };
            let consistency = match settings.get("consistencyLevel") {
                None => Consistency::LocalOne,
                Some(v) => consistency(v).unwrap_or_else(|| {
                    r.problems.push(format!(
                        "Invalid value '{v}' for configuration {}: valid values include: {}",
                        k("consistencyLevel"),
                        CONSISTENCY_LEVELS.join(", ")
                    ));
                    Consistency::LocalOne
                }),
            };
            let ttl_unit = r.time_unit(&k("ttlTimeUnit"), TimeUnit::Seconds);
            let timestamp_unit = r.time_unit(&k("timestampTimeUnit"), TimeUnit::Microseconds);
            let ttl = r.int(&k("ttl"), -1, -1);
            let ttl_seconds = if ttl == -1 {
                None
            } else {
                match ttl_unit.convert(ttl, TimeUnit::Seconds) {
                    Some(s) if s <= i32::MAX as i64 => Some(s),
                    _ => {
                        r.problems.push(invalid(&k("ttl"), &ttl.to_string(), "TTL must fit in 32-bit seconds"));
                        None
                    }
                }
            };
            let null_to_unset = r.bool(&k("nullToUnset"), true);
            let deletes_enabled = r.bool(&k("deletesEnabled"), true);
            let query = settings.get("query").map(|q| q.to_string()).filter(|q| !q.trim().is_empty());
            if query.is_some() && deletes_enabled {
                r.problems.push(format!(
                    "You cannot provide both {} and {}. If you want to provide own query, set the deletesEnabled to false.",
                    k("query"),
                    k("deletesEnabled")
                ));
            }
            if let Some(mapping) = &mapping
                && ttl_seconds.is_some()
                && mapping.entries.iter().any(|e| e.column == mapping::Column::Ttl)
            {
                warnings.push(format!(
                    "You provided ttl configuration both for '.mapping' and '.ttl' settings for topic: {topic} keyspace: {ks_text} table: {tb_text}. The ttl config from .mapping will be used."
                ));
            }
            let consistency = match consistency {
                Consistency::Any | Consistency::One | Consistency::LocalOne if cloud_mode => {
                    tracing::info!(
                        "Cloud deployments reject consistency level {} when writing; forcing LOCAL_QUORUM",
                        settings
                            .get("consistencyLevel")
                            .map_or("LOCAL_ONE".to_string(), |v| v.trim().to_ascii_uppercase())
                    );
                    Consistency::LocalQuorum
                }
                c => c,
            };
            if let Some(mapping) = mapping {
                tables.push(TableConfig {
                    topic: topic.clone(),
                    table: TableRef { keyspace: identifier(ks_text), table: identifier(tb_text) },
                    key_prefix,
                    mapping_text,
                    mapping,
                    consistency,
                    ttl_seconds,
                    ttl_unit,
                    timestamp_unit,
                    null_to_unset,
                    deletes_enabled,
                    query,
                });
            }
        }

        let mut codecs = BTreeMap::new();
        for (topic, settings) in &codec_keys {
            let g = |s: &str| settings.get(s).copied();
            match CodecSettings::from_settings(
                g("locale"),
                g("timeZone"),
                g("timestamp"),
                g("date"),
                g("time"),
                g("unit"),
            ) {
                Ok(c) => {
                    codecs.insert(topic.clone(), c);
                }
                Err((setting, reason)) => {
                    let short = setting.strip_prefix("codec.").unwrap_or(&setting);
                    r.problems.push(invalid(
                        &format!("topic.{topic}.codec.{short}"),
                        g(short).unwrap_or_default(),
                        &reason,
                    ));
                }
            }
        }

        let mut conv_problems = Vec::new();
        let key_converter = ConverterKind::from_settings(props, "key.converter", &mut conv_problems);
        let value_converter = ConverterKind::from_settings(props, "value.converter", &mut conv_problems);
        let header_converter = HeaderConverter::from_settings(props, &mut conv_problems);
        r.problems.extend(conv_problems);

        if !r.problems.is_empty() {
            return Err(ConfigError::new(r.problems));
        }
        Ok(ConnectorConfig {
            name,
            subscription,
            contact_points,
            port,
            local_dc,
            max_concurrent_requests,
            max_records_in_batch,
            query_execution_timeout,
            connection_pool_local_size,
            compression,
            errors,
            auth: security.auth,
            tls: security.tls,
            gssapi: security.gssapi,
            cloud,
            tables,
            codecs,
            key_converter,
            value_converter,
            header_converter,
            consumer_overrides,
            warnings,
        })
    }

    /// Kafka Connect's consumer group for a sink connector.
    pub fn group_id(&self) -> String {
        format!("connect-{}", self.name)
    }

    /// The codec settings of a topic (defaults when it has none).
    pub fn codec(&self, topic: &str) -> CodecSettings {
        self.codecs.get(topic).cloned().unwrap_or_default()
    }
}

/// An IP literal or a valid domain name, optionally with `:port` (spec: `Incorrect contactPoints`).
fn valid_contact_point(cp: &str) -> bool {
    let host = if cp.parse::<std::net::IpAddr>().is_ok() {
        return true;
    } else if let Some((h, p)) = cp.rsplit_once(':') {
        if p.parse::<u16>().is_err() {
            return false;
        }
        h.trim_start_matches('[').trim_end_matches(']')
    } else {
        cp
    };
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConnectorConfig, ConfigError> {
        ConnectorConfig::from_properties(&Properties::parse(text.as_bytes()).unwrap())
    }

    const BASE: &str = "name=sink\nconnector.class=com.datastax.oss.kafka.sink.CassandraSinkConnector\n\
                        tasks.max=1\ncontactPoints=127.0.0.1\nloadBalancing.localDc=datacenter1\n";

    #[test]
    fn routes_topic_keys_like_the_reference_regexes() {
        assert_eq!(
            route_topic_key("topic.this.is.complex_topic-name.ks.tb.mapping"),
            Some(TopicKey::Table {
                topic: "this.is.complex_topic-name",
                keyspace: "ks",
                table: "tb",
                setting: "mapping"
            })
        );
        assert_eq!(
            route_topic_key("topic.t.codec.ttl.ks.tb.ttl"),
            Some(TopicKey::Table { topic: "t.codec.ttl", keyspace: "ks", table: "tb", setting: "ttl" })
        );
        assert_eq!(
            route_topic_key("topic.1.2_3.A_z.codec.timeZone"),
            Some(TopicKey::Codec { topic: "1.2_3.A_z", setting: "timeZone" })
        );
        for bad in [
            "topic.org,datastax.ks.tb.mapping",
            "topic.org&topic.ks.tb.mapping",
            "topic.().ks.tb.mapping",
            "topic.%.ks.tb.mapping",
            "topic.t.ks.tb.mapping.extra",
            "topic.ks.tb.mapping",
            "topic.t.codec.mapping",
            "topic.t.codec.unknown",
        ] {
            assert_eq!(route_topic_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_typical_datastax_file() {
        let c = parse(&format!(
            "{BASE}topics=orders,users\n\
             topic.orders.shop.orders_by_id.mapping=id=key, amount=value.amount, ts=value.ts\n\
             topic.orders.shop.orders_by_id.consistencyLevel=quorum\n\
             topic.orders.shop.orders_by_id.ttl=3600000\n\
             topic.orders.shop.orders_by_id.ttlTimeUnit=MILLISECONDS\n\
             topic.users.shop.\"Users\".mapping=id=value.id\n\
             topic.users.codec.timeZone=Europe/Paris\n\
             maxConcurrentRequests=50\n"
        ))
        .unwrap();
        assert_eq!(c.name, "sink");
        assert_eq!(c.group_id(), "connect-sink");
        assert_eq!(c.subscription, Subscription::Topics(vec!["orders".into(), "users".into()]));
        assert_eq!(c.max_concurrent_requests, 50);
        assert_eq!(c.tables.len(), 2);
        let orders = &c.tables[0];
        assert_eq!(orders.table, TableRef { keyspace: "shop".into(), table: "orders_by_id".into() });
        assert_eq!(orders.consistency, Consistency::Quorum);
        assert_eq!(orders.ttl_seconds, Some(3600));
        assert_eq!(orders.mapping.entries.len(), 3);
        assert!(orders.deletes_enabled && orders.null_to_unset);
        assert_eq!(c.tables[1].table.table, "Users");
        assert!(c.codecs.contains_key("users"));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn every_problem_is_listed_with_key_and_value() {
        let e = parse(
            "topics=a,b\ncontactPoints=127.0.0.1\nport=foo\n\
             topic.a.ks.tb.mapping=jack\n\
             topic.a.ks.tb.consistencyLevel=foo\n\
             topic.a.ks.tb.ttl=-2\n\
             topic.a.ks.tb.ttlTimeUnit=seconds\n\
             topic.a.ks.tb.deletesEnabled=yes\n\
             topic.a.ks.tb.mapping.extra=1\n\
             compression=zip\nignoreErrors=sometimes\n",
        )
        .unwrap_err();
        let p = &e.problems;
        let has = |s: &str| p.iter().any(|m| m == s);
        assert!(has("Missing required configuration \"name\" which has no default value."), "{e}");
        assert!(
            has(
                "The setting: topic.a.ks.tb.mapping.extra does not match topic.keyspace.table nor topic.codec regular expression pattern"
            ),
            "{e}"
        );
        assert!(
            has("Invalid value a,b for configuration topics: Missing topic settings (topic.b.*) for topic b"),
            "{e}"
        );
        assert!(has("Invalid value foo for configuration port: Not a number of type INT"), "{e}");
        assert!(
            has(
                "Invalid value [127.0.0.1] for configuration contactPoints: When contact points is provided, loadBalancing.localDc must also be specified"
            ),
            "{e}"
        );
        assert!(
            has(
                "Invalid value zip for configuration compression: String must be one of (case insensitive): LZ4, NONE, SNAPPY"
            ),
            "{e}"
        );
        assert!(
            has("Invalid value sometimes for configuration ignoreErrors: expecting either All, None or Driver"),
            "{e}"
        );
        assert!(
            p.iter().any(|m| m.starts_with(
                "Invalid value 'jack' for configuration topic.a.ks.tb.mapping: Could not be parsed at line 1:"
            )),
            "{e}"
        );
        assert!(
            has(
                "Invalid value 'foo' for configuration topic.a.ks.tb.consistencyLevel: valid values include: ANY, ONE, TWO, THREE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM, SERIAL, LOCAL_SERIAL"
            ),
            "{e}"
        );
        assert!(has("Invalid value -2 for configuration topic.a.ks.tb.ttl: Value must be at least -1"), "{e}");
        assert!(
            has(
                "Invalid value seconds for configuration topic.a.ks.tb.ttlTimeUnit: must be one of NANOSECONDS, MICROSECONDS, MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS"
            ),
            "{e}"
        );
        assert!(
            has(
                "Invalid value yes for configuration topic.a.ks.tb.deletesEnabled: Expected value to be either true or false"
            ),
            "{e}"
        );
        assert_eq!(p.len(), 12, "{e}");
    }

    #[test]
    fn query_requires_deletes_disabled() {
        let e = parse(&format!(
            "{BASE}topics=t\ntopic.t.ks.tb.mapping=a=value.a\ntopic.t.ks.tb.query=INSERT INTO ks.tb(a) VALUES (:a)\n"
        ))
        .unwrap_err();
        assert_eq!(
            e.problems,
            vec![
                "You cannot provide both topic.t.ks.tb.query and topic.t.ks.tb.deletesEnabled. If you want to provide own query, set the deletesEnabled to false."
            ]
        );
    }

    #[test]
    fn missing_mapping_and_codec_only_topic() {
        let e = parse(&format!("{BASE}topics=t\ntopic.t.ks.tb.ttl=5\ntopic.u.codec.locale=fr_FR\n")).unwrap_err();
        assert!(
            e.problems.contains(
                &"Missing required configuration \"topic.t.ks.tb.mapping\" which has no default value.".to_string()
            ),
            "{e}"
        );
        assert!(e.problems.contains(&"Topic u must have at least one table configuration".to_string()), "{e}");
    }

    #[test]
    fn contact_points_syntax() {
        for ok in ["localhost", "127.0.0.1", "::1", "cass-1.example.com", "10.0.0.1:9043", "[::1]:9042"] {
            assert!(valid_contact_point(ok), "{ok}");
        }
        for bad in ["\"127.0.0.1\"", "*.0.0.1", "[]", "[127.0.0.1,127.0.0.2]", "host:port"] {
            assert!(!valid_contact_point(bad), "{bad}");
        }
    }

    #[test]
    fn deprecated_and_unknown_keys_warn() {
        let c =
            parse(&format!("{BASE}topics=t\ntopic.t.ks.tb.mapping=a=value.a\nignoreErrors=true\nfoo.bar=1\n")).unwrap();
        assert_eq!(c.errors.ignore_errors, ErrorPolicy::Driver);
        assert!(c.warnings.iter().any(|w| w.contains("deprecated")));
        assert!(c.warnings.iter().any(|w| w == "unknown setting foo.bar is ignored"));
    }

    #[test]
    fn driver_keys_fill_in_and_connector_keys_win() {
        let c = parse(
            "name=n\ntopics=t\ntopic.t.ks.tb.mapping=a=value.a\n\
             datastax-java-driver.basic.contact-points=10.0.0.1:9043\n\
             datastax-java-driver.basic.load-balancing-policy.local-datacenter=dc9\n\
             datastax-java-driver.basic.request.timeout=5 seconds\n\
             datastax-java-driver.advanced.connection.pool.local.size=2\n\
             datastax-java-driver.advanced.protocol.compression=snappy\n\
             queryExecutionTimeout=7\n",
        )
        .unwrap();
        assert_eq!(c.contact_points, vec!["10.0.0.1:9043"]);
        assert_eq!(c.local_dc.as_deref(), Some("dc9"));
        assert_eq!(c.query_execution_timeout, Duration::from_secs(7), "the connector key wins");
        assert_eq!(c.connection_pool_local_size, 2);
        assert_eq!(c.compression, Compression::Snappy);
        let c = parse(&format!(
            "{BASE}topics=t\ntopic.t.ks.tb.mapping=a=value.a\ndatastax-java-driver.basic.contact-points=x:1\n"
        ))
        .unwrap();
        assert_eq!(c.contact_points, vec!["127.0.0.1"], "contactPoints wins over the driver's list");
    }

    #[test]
    fn quoted_keyspace_and_table() {
        assert_eq!(identifier("\"My\"\"Ks\""), "My\"Ks");
        assert_eq!(identifier("MyKs"), "MyKs");
    }
}
