//! Settings as users already have them: a Kafka Connect worker file and DataStax connector files
//! (Java `.properties` or Connect's JSON form) → typed, validated settings. No I/O beyond reading
//! the files; the live-schema checks happen in the engine at start-up.
//!
//! Parse, then validate into distinct types: nothing unvalidated reaches the engine. Every problem
//! is collected (not just the first) and names the key, the value and what is allowed.

pub mod cloud;
pub mod connector;
pub mod driver;
pub mod errors;
pub mod kafka_security;
pub mod properties;
pub mod providers;
pub mod security;
pub mod worker;

pub use connector::{ConnectorConfig, ErrorPolicy, TableConfig, TableRef};
pub use errors::{ErrorHandling, Stage};
pub use properties::Properties;
pub use worker::{ConverterKind, WorkerConfig};

/// Every problem found in one configuration, each a complete sentence naming key and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration{}:\n  - {}", source_name.as_deref().map(|s| format!(" in {s}")).unwrap_or_default(), problems.join("\n  - "))]
pub struct ConfigError {
    pub source_name: Option<String>,
    pub problems: Vec<String>,
}

impl ConfigError {
    pub fn new(problems: Vec<String>) -> Self {
        ConfigError { source_name: None, problems }
    }

    pub fn in_file(mut self, name: impl Into<String>) -> Self {
        self.source_name = Some(name.into());
        self
    }
}

/// Kafka's `ConfigException(name, value, message)` wording, which users grep for.
pub(crate) fn invalid(key: &str, value: &str, reason: &str) -> String {
    format!("Invalid value {value} for configuration {key}: {reason}")
}
