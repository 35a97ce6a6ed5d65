//! Kafka and Cassandra: the consumer ([`source`]), the compiled per-table plans ([`plan`]), the
//! session and writes ([`sink`]), the per-partition offset tracker ([`offsets`]) and the loop that
//! ties them together ([`pipeline`]).

pub mod cloud;
pub mod dead_letter;
pub mod dry_run;
pub mod gssapi;
pub mod metrics;
pub mod offsets;
pub mod pipeline;
pub mod plan;
pub mod sink;
pub mod source;
pub mod status;

pub use pipeline::{RunError, RunOptions, run, validate};
