//! The mapping parser never panics, and what it accepts prints back to an equal mapping.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(mapping) = cassandra_sink::mapping::parse(text)
    {
        let again = cassandra_sink::mapping::parse(&mapping.to_string()).expect("a printed mapping parses");
        assert_eq!(mapping, again);
    }
});
