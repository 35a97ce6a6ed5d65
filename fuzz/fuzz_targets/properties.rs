//! Worker and connector files (properties or JSON) never panic the parser or the validation.
#![no_main]
use cassandra_sink::config::{ConnectorConfig, Properties, WorkerConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(props) = Properties::parse(data) {
        let _ = ConnectorConfig::from_properties(&props);
        let _ = WorkerConfig::from_properties(&props);
    }
});
