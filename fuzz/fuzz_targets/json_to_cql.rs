//! Any JSON value (or text) into any CQL type converts or fails cleanly, never panics.
#![no_main]
use cassandra_sink::codec::Datum;
use cassandra_sink::codec::convert::{CodecSettings, convert};
use libfuzzer_sys::fuzz_target;
use scylla::cluster::metadata::{CollectionType, ColumnType, NativeType};

fn types() -> Vec<ColumnType<'static>> {
    use NativeType::*;
    let natives = [
        Ascii, Boolean, Blob, Counter, Date, Decimal, Double, Duration, Float, Int, BigInt, Text, Timestamp, Inet,
        SmallInt, TinyInt, Time, Timeuuid, Uuid, Varint,
    ];
    let mut t: Vec<ColumnType<'static>> = natives.into_iter().map(ColumnType::Native).collect();
    t.push(ColumnType::Collection { frozen: false, typ: CollectionType::List(Box::new(ColumnType::Native(Int))) });
    t.push(ColumnType::Collection { frozen: false, typ: CollectionType::Set(Box::new(ColumnType::Native(Text))) });
    t.push(ColumnType::Collection {
        frozen: true,
        typ: CollectionType::Map(Box::new(ColumnType::Native(Int)), Box::new(ColumnType::Native(Timestamp))),
    });
    t.push(ColumnType::Tuple(vec![ColumnType::Native(Int), ColumnType::Native(Text)]));
    t.push(ColumnType::Vector { typ: Box::new(ColumnType::Native(Float)), dimensions: 3 });
    t
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let types = types();
    let target = &types[selector as usize % types.len()];
    let settings = CodecSettings::default();
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = convert(Datum::Text(text), target, &settings);
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            let _ = convert(Datum::Json(&v), target, &settings);
        }
    }
    let _ = convert(Datum::Bytes(rest), target, &settings);
});
