//! Which failures are tolerated, and where tolerated records go.
//!
//! Two families of keys combine. The DataStax `ignoreErrors` tolerates write failures (`Driver`)
//! or every failure (`All`); Kafka Connect's `errors.tolerance=all` tolerates every failure too.
//! A failure is tolerated when either family tolerates its stage. A tolerated record goes to the
//! dead-letter topic when `errors.deadletterqueue.topic.name` is set (for write failures as well,
//! unlike Kafka Connect), and is otherwise logged and skipped. A failure nobody tolerates stops the
//! connector with the record uncommitted.

use std::time::Duration;

use super::worker::parse_bool;
use super::{ErrorPolicy, Properties, invalid};

/// Where in the per-record path a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The converter could not read the key or value bytes.
    Decode,
    /// The mapping could not turn the record into a row (missing field, bad value, ...).
    Map,
    /// Cassandra rejected the write, or transient failures outlasted `errors.retry.timeout`.
    Write,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Map => "map",
            Stage::Write => "write",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterQueue {
    pub topic: String,
    pub replication_factor: i32,
    /// `errors.deadletterqueue.context.headers.enable`: add the `__connect.errors.*` headers.
    pub context_headers: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorHandling {
    pub ignore_errors: ErrorPolicy,
    /// `errors.tolerance=all`.
    pub tolerance_all: bool,
    pub dead_letter: Option<DeadLetterQueue>,
    /// `errors.log.include.messages`: tolerated-failure log lines include key and value.
    pub log_include_messages: bool,
    /// How long transient write failures of a tolerated record are retried before it is
    /// dead-lettered or skipped (`errors.retry.timeout`; `None` = forever). Records whose failures
    /// are not tolerated are retried until they succeed or the connector stops.
    pub retry_timeout: Option<Duration>,
    /// Longest wait between two retries (`errors.retry.delay.max.ms`; 5 s by default here, so
    /// writes resume within seconds of Cassandra coming back; Kafka Connect defaults to 60 s).
    pub retry_delay_max: Duration,
}

impl Default for ErrorHandling {
    fn default() -> Self {
        ErrorHandling {
            ignore_errors: ErrorPolicy::None,
            tolerance_all: false,
            dead_letter: None,
            log_include_messages: false,
            retry_timeout: Some(Duration::from_secs(30)),
            retry_delay_max: Duration::from_secs(5),
        }
    }
}

impl ErrorHandling {
    pub fn tolerates(&self, stage: Stage) -> bool {
        self.tolerance_all
            || match stage {
                Stage::Decode | Stage::Map => self.ignore_errors == ErrorPolicy::All,
                Stage::Write => self.ignore_errors != ErrorPolicy::None,
            }
    }

    pub fn from_properties(props: &Properties, ignore_errors: ErrorPolicy, problems: &mut Vec<String>) -> Self {
        let mut h = ErrorHandling { ignore_errors, ..ErrorHandling::default() };
        let boolean = |key: &str, default: bool, problems: &mut Vec<String>| match props.get(key) {
            None => default,
            Some(v) => parse_bool(v).unwrap_or_else(|| {
                problems.push(invalid(key, v, "Expected value to be either true or false"));
                default
            }),
        };
        let int = |key: &str, default: i64, min: i64, problems: &mut Vec<String>| match props.get(key) {
            None => default,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= min => n,
                Ok(_) => {
                    problems.push(invalid(key, v, &format!("Value must be at least {min}")));
                    default
                }
                Err(_) => {
                    problems.push(invalid(key, v, "Not a number of type LONG"));
                    default
                }
            },
        };
        if let Some(v) = props.get("errors.tolerance") {
            match v.trim().to_ascii_lowercase().as_str() {
                "none" => {}
                "all" => h.tolerance_all = true,
                _ => problems.push(invalid("errors.tolerance", v, "String must be one of: none, all")),
            }
        }
        if let Some(topic) = props.get("errors.deadletterqueue.topic.name").map(str::trim).filter(|t| !t.is_empty()) {
            let rf = int("errors.deadletterqueue.topic.replication.factor", 3, -1, problems);
            h.dead_letter = Some(DeadLetterQueue {
                topic: topic.to_string(),
                replication_factor: i32::try_from(rf).unwrap_or(3),
                // Default on here: a dead-lettered record should say why it is there.
                context_headers: boolean("errors.deadletterqueue.context.headers.enable", true, problems),
            });
        }
        boolean("errors.log.enable", false, problems);
        h.log_include_messages = boolean("errors.log.include.messages", false, problems);
        // Unset: tolerated records still get 30 s of retries for transient failures, so a short
        // Cassandra hiccup does not skip them (Kafka Connect's default of 0 would).
        let timeout = int("errors.retry.timeout", 30_000, -1, problems);
        h.retry_timeout = (timeout >= 0).then(|| Duration::from_millis(timeout as u64));
        h.retry_delay_max = Duration::from_millis(int("errors.retry.delay.max.ms", 5_000, 1, problems) as u64);
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handling(text: &str, ignore: ErrorPolicy) -> (ErrorHandling, Vec<String>) {
        let mut problems = Vec::new();
        let h = ErrorHandling::from_properties(&Properties::parse(text.as_bytes()).unwrap(), ignore, &mut problems);
        (h, problems)
    }

    #[test]
    fn the_two_families_combine() {
        let (none, _) = handling("", ErrorPolicy::None);
        assert!(!none.tolerates(Stage::Decode) && !none.tolerates(Stage::Map) && !none.tolerates(Stage::Write));
        let (driver, _) = handling("", ErrorPolicy::Driver);
        assert!(!driver.tolerates(Stage::Map) && driver.tolerates(Stage::Write));
        let (all, _) = handling("", ErrorPolicy::All);
        assert!(all.tolerates(Stage::Decode) && all.tolerates(Stage::Map) && all.tolerates(Stage::Write));
        let (connect_all, _) = handling("errors.tolerance=all", ErrorPolicy::None);
        assert!(connect_all.tolerates(Stage::Decode) && connect_all.tolerates(Stage::Write));
    }

    #[test]
    fn dead_letter_queue_settings() {
        let (h, p) = handling(
            "errors.tolerance=all\nerrors.deadletterqueue.topic.name=dlq\n\
             errors.deadletterqueue.topic.replication.factor=1\nerrors.retry.timeout=-1\n\
             errors.retry.delay.max.ms=500\nerrors.log.enable=true\nerrors.log.include.messages=true\n",
            ErrorPolicy::None,
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            h.dead_letter,
            Some(DeadLetterQueue { topic: "dlq".into(), replication_factor: 1, context_headers: true })
        );
        assert_eq!(h.retry_timeout, None);
        assert_eq!(h.retry_delay_max, Duration::from_millis(500));
        assert!(h.log_include_messages);
    }

    #[test]
    fn bad_values_are_listed() {
        let (_, p) = handling(
            "errors.tolerance=some\nerrors.retry.timeout=-5\nerrors.log.enable=maybe\n\
             errors.deadletterqueue.topic.name=d\nerrors.deadletterqueue.topic.replication.factor=x\n",
            ErrorPolicy::None,
        );
        assert_eq!(
            p,
            vec![
                "Invalid value some for configuration errors.tolerance: String must be one of: none, all",
                "Invalid value x for configuration errors.deadletterqueue.topic.replication.factor: Not a number of type LONG",
                "Invalid value maybe for configuration errors.log.enable: Expected value to be either true or false",
                "Invalid value -5 for configuration errors.retry.timeout: Value must be at least -1",
            ]
        );
    }
}
