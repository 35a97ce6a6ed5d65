//! Confluent-framed Protobuf bytes (message indexes, then the message) against a schema with
//! every kind of field, a recursive message and well-known types: decoded or rejected, never a
//! panic or an unbounded allocation.
#![no_main]
use cassandra_sink::codec::protobuf::{ProtoSchema, decode, frame};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"
syntax = "proto3";
package f;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
import "google/type/date.proto";
import "confluent/type/decimal.proto";
message R {
  int32 i = 1; sint64 l = 2; optional string s = 3; bytes b = 4; repeated double a = 5;
  map<string, float> m = 6; E e = 7; fixed32 f = 8; uint64 u = 9; bool flag = 10;
  google.protobuf.Timestamp t = 11; google.type.Date day = 12; confluent.type.Decimal d = 13;
  google.protobuf.StringValue w = 14; oneof o { string x = 15; R inner = 16; }
  repeated R children = 17; map<int64, R> byid = 18;
  enum E { A = 0; B = 1; }
  message N { repeated N n = 1; }
}
"#;

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static PARSED: ProtoSchema = ProtoSchema::compile(SCHEMA, &[]).expect("schema");
    }
    if let Ok((_, indexes, body)) = frame(data) {
        PARSED.with(|schema| {
            let _ = decode(schema, &indexes, body);
        });
    }
    PARSED.with(|schema| {
        let _ = decode(schema, &[0], data);
    });
});
