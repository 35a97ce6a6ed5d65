//! A Kafka → Cassandra sink that reads the DataStax Apache Kafka Connector's configuration.
//!
//! The per-record path, top to bottom:
//! consume ([`engine::source`]) → decode ([`codec::record`]) → map ([`engine::plan`], built from
//! [`mapping`] against the live table) → convert ([`codec::convert`]) → write ([`engine::sink`]) →
//! mark done ([`engine::offsets`]) → commit.
//!
//! Pure parts ([`config`], [`mapping`], [`codec`]) do no I/O; [`engine`] owns Kafka and Cassandra.

pub mod api;
pub mod codec;
pub mod config;
pub mod engine;
pub mod mapping;
pub mod supervisor;
