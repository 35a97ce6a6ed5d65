//! Confluent-framed Avro bytes against a schema with every kind of type: decoded or rejected,
//! never a panic or an unbounded allocation.
#![no_main]
use cassandra_sink::codec::avro::{AvroSchema, decode, frame};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"{"type":"record","name":"r","fields":[
 {"name":"i","type":"int"},{"name":"l","type":"long"},{"name":"s","type":["null","string"]},
 {"name":"b","type":"bytes"},{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"a","type":{"type":"array","items":"double"}},{"name":"m","type":{"type":"map","values":"float"}},
 {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}},{"name":"f","type":{"type":"fixed","name":"F","size":4}},
 {"name":"n","type":{"type":"record","name":"inner","fields":[{"name":"t","type":{"type":"long","logicalType":"timestamp-micros"}},
   {"name":"u","type":{"type":"string","logicalType":"uuid"}},{"name":"day","type":{"type":"int","logicalType":"date"}}]}},
 {"name":"self","type":["null","r"]}]}"#;

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static PARSED: AvroSchema = AvroSchema::parse(SCHEMA, &[]).expect("schema");
    }
    if let Ok((_, body)) = frame(data) {
        PARSED.with(|schema| {
            let _ = decode(schema, body);
        });
    }
    PARSED.with(|schema| {
        let _ = decode(schema, data);
    });
});
