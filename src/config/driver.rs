//! `datastax-java-driver.*` keys that have an equivalent in our driver. The connector's own keys
//! win when both are given (spec §1.7); other driver keys are accepted with a warning naming them.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Properties, invalid};

const PREFIX: &str = "datastax-java-driver.";

/// The driver settings we honour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverSettings {
    /// `basic.contact-points`: `host:port` entries.
    pub contact_points: Vec<String>,
    /// `basic.load-balancing-policy.local-datacenter`.
    pub local_dc: Option<String>,
    /// `basic.request.timeout`.
    pub request_timeout: Option<Duration>,
    /// `advanced.connection.pool.local.size`.
    pub pool_local_size: Option<usize>,
    /// `advanced.protocol.compression`: `none`, `lz4` or `snappy`.
    pub compression: Option<String>,
}

impl DriverSettings {
    pub fn from_properties(props: &Properties, problems: &mut Vec<String>, warnings: &mut Vec<String>) -> Self {
        let mut d = DriverSettings::default();
        // List options may be given as a comma string or as indexed keys `key.0`, `key.1`, ...
        let mut indexed_contact_points: BTreeMap<u32, String> = BTreeMap::new();
        for (key, value) in props.iter() {
            let Some(path) = key.strip_prefix(PREFIX) else {
                if key.starts_with("datastax-java-driver") {
                    warnings.push(format!("{key} is not a driver setting path; ignored"));
                }
                continue;
            };
            let value = value.trim();
            match path {
                "basic.contact-points" => {
                    d.contact_points =
                        value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
                }
                p if p.starts_with("basic.contact-points.") => {
                    match p["basic.contact-points.".len()..].parse::<u32>() {
                        Ok(i) => {
                            indexed_contact_points.insert(i, value.to_string());
                        }
                        Err(_) => warnings.push(format!("{key} is not an indexed contact point; ignored")),
                    }
                }
                "basic.load-balancing-policy.local-datacenter" => {
                    d.local_dc = Some(value.to_string()).filter(|v| !v.is_empty());
                }
                "basic.request.timeout" => match parse_duration(value) {
                    Some(t) if !t.is_zero() => d.request_timeout = Some(t),
                    _ => problems.push(invalid(
                        key,
                        value,
                        "expected a duration such as \"30 seconds\", \"500ms\" or \"2m\"",
                    )),
                },
                "advanced.connection.pool.local.size" => match value.parse::<usize>() {
                    Ok(n) if n >= 1 => d.pool_local_size = Some(n),
                    _ => problems.push(invalid(key, value, "Value must be at least 1")),
                },
                "advanced.protocol.compression" => match value.to_ascii_lowercase().as_str() {
                    v @ ("none" | "lz4" | "snappy") => d.compression = Some(v.to_string()),
                    _ => problems.push(invalid(key, value, "valid values are none, snappy, lz4")),
                },
                _ => warnings.push(format!("{key} is a Java driver setting without an equivalent here; ignored")),
            }
        }
        if d.contact_points.is_empty() {
            d.contact_points = indexed_contact_points.into_values().collect();
        }
        d
    }
}

/// Typesafe Config durations: a number and an optional unit (`30 seconds`, `500ms`, `2 m`); a bare
/// number is milliseconds, as in Typesafe Config.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let seconds_per_unit = match unit.trim() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1e-3,
        "ns" | "nano" | "nanos" | "nanosecond" | "nanoseconds" => 1e-9,
        "us" | "micro" | "micros" | "microsecond" | "microseconds" => 1e-6,
        "s" | "second" | "seconds" => 1.0,
        "m" | "minute" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(n * seconds_per_unit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> (DriverSettings, Vec<String>, Vec<String>) {
        let (mut p, mut w) = (Vec::new(), Vec::new());
        let d = DriverSettings::from_properties(&Properties::parse(text.as_bytes()).unwrap(), &mut p, &mut w);
        (d, p, w)
    }

    #[test]
    fn honoured_driver_keys() {
        let (d, p, w) = settings(
            "datastax-java-driver.basic.contact-points=10.0.0.1:9042, 10.0.0.2:9043\n\
             datastax-java-driver.basic.load-balancing-policy.local-datacenter=dc1\n\
             datastax-java-driver.basic.request.timeout=5 seconds\n\
             datastax-java-driver.advanced.connection.pool.local.size=2\n\
             datastax-java-driver.advanced.protocol.compression=LZ4\n\
             datastax-java-driver.advanced.metrics.session.enabled=cql-requests\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(d.contact_points, vec!["10.0.0.1:9042", "10.0.0.2:9043"]);
        assert_eq!(d.local_dc.as_deref(), Some("dc1"));
        assert_eq!(d.request_timeout, Some(Duration::from_secs(5)));
        assert_eq!(d.pool_local_size, Some(2));
        assert_eq!(d.compression.as_deref(), Some("lz4"));
        assert_eq!(
            w,
            vec![
                "datastax-java-driver.advanced.metrics.session.enabled is a Java driver setting without an equivalent here; ignored"
            ]
        );
    }

    #[test]
    fn indexed_contact_points() {
        let (d, _, _) = settings(
            "datastax-java-driver.basic.contact-points.1=b:9042\ndatastax-java-driver.basic.contact-points.0=a:9042\n",
        );
        assert_eq!(d.contact_points, vec!["a:9042", "b:9042"]);
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let (_, p, _) = settings(
            "datastax-java-driver.basic.request.timeout=soon\n\
             datastax-java-driver.advanced.protocol.compression=zip\n\
             datastax-java-driver.advanced.connection.pool.local.size=0\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.contains(&"Invalid value zip for configuration datastax-java-driver.advanced.protocol.compression: valid values are none, snappy, lz4".to_string()));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30 seconds"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("250"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2 m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("5 fortnights"), None);
    }
}
