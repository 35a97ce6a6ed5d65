//! A table's mapping compiled once, at start-up, against the live schema into prepared statements
//! and a bind plan; per record only [`TablePlan::bind`] runs.
//!
//! Statement shapes follow the reference connector (spec §2.3) except where we deliberately
//! differ: deletes carry the record's write time, and counter updates bind no timestamp.

use std::sync::Arc;

use scylla::client::session::Session;
use scylla::cluster::metadata::{ColumnKind, ColumnType, NativeType, Table};
use scylla::serialize::SerializationError;
use scylla::serialize::row::{RowSerializationContext, SerializeRow};
use scylla::serialize::writers::RowWriter;
use scylla::statement::batch::Batch;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlTimeuuid, CqlValue, MaybeUnset};

use crate::codec::convert::{Cell, CodecSettings, convert_cell};
use crate::codec::record::{Data, Lookup};
use crate::codec::typed::Typed;
use crate::codec::{Datum, TimeUnit};
use crate::config::{TableConfig, TableRef};
use crate::mapping::{Column, Field, FieldPath, cql_ident};

pub const TIMESTAMP_VAR: &str = "message_internal_timestamp";
pub const TTL_VAR: &str = "message_internal_ttl";

/// A bound value: unset (left alone), null, or a value.
pub type BindValue<'a> = MaybeUnset<Option<Cell<'a>>>;

/// What one record looks like to the mapping.
pub struct RecordView<'a> {
    pub key: &'a Data,
    pub value: &'a Data,
    /// Headers in record order, decoded by the header converter.
    pub headers: &'a [(&'a str, Data)],
    /// Kafka record timestamp in milliseconds, when the record has one.
    pub timestamp_ms: Option<i64>,
}

/// Where a bind variable's value comes from.
#[derive(Debug, Clone)]
enum Source {
    Field(Field),
    Now,
    /// `__timestamp` when mapped, the Kafka record timestamp otherwise.
    WriteTime(Option<Field>),
    /// `__ttl`.
    Ttl(Field),
    /// A variable of a user query that the mapping does not feed: left unset.
    Unmapped,
}

#[derive(Debug, Clone)]
struct Bind {
    /// The column as CQL renders it, for messages.
    column: String,
    source: Source,
    typ: ColumnType<'static>,
    primary_key: bool,
}

/// A prepared statement and how to fill its variables.
#[derive(Debug)]
struct Statement {
    prepared: Arc<PreparedStatement>,
    binds: Vec<Bind>,
    /// Index of the write-time variable among the binds, when the statement has one.
    write_time: Option<usize>,
}

/// What a record becomes for one table.
pub struct BoundRow {
    /// Shared with the plan (cloning a statement per row would copy its settings).
    pub statement: Arc<PreparedStatement>,
    pub values: RowValues,
    /// Index of the write time (µs) among the values, when the statement binds one.
    pub write_time: Option<usize>,
}

impl BoundRow {
    /// The bound write time in microseconds, if any.
    pub fn write_time(&self) -> Option<i64> {
        let cell = self.values.cell(self.write_time?)?;
        Some(i64::from_be_bytes(cell.try_into().ok()?))
    }

    pub fn set_write_time(&mut self, us: i64) {
        if let Some(i) = self.write_time {
            self.values.replace(i, &us.to_be_bytes());
        }
    }

    /// The row's Cassandra partition, to group rows into batches: its partition-key values
    /// as the protocol carries them, in key order, the same for every statement of a table
    /// (insert or delete). `None` when the statement has no such value.
    pub fn partition_key(&self) -> Option<bytes::Bytes> {
        let pk_indexes = self.statement.get_variable_pk_indexes();
        let mut out = Vec::with_capacity(32);
        for sequence in 0..pk_indexes.len() {
            let pk = pk_indexes.iter().find(|pk| usize::from(pk.sequence) == sequence)?;
            out.extend_from_slice(self.values.raw_cell(usize::from(pk.index))?);
        }
        Some(out.into())
    }
}

/// A row's bound values, serialized once when the row is bound, as the protocol carries them
/// (each a 4-byte length and its bytes; length -1 is null, -2 unset). Rows wait in batches and
/// requests in this form: a few bytes more than the values themselves, one allocation to free,
/// and copied into each request as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowValues {
    bytes: Vec<u8>,
    count: usize,
}

impl RowValues {
    /// Serializes `values` for `statement`'s variables (type-checked against them), into a
    /// buffer of `capacity` bytes at first.
    pub fn serialize(
        statement: &PreparedStatement,
        values: &[BindValue<'_>],
        capacity: usize,
    ) -> Result<RowValues, SerializationError> {
        let ctx = RowSerializationContext::from_specs(statement.get_variable_col_specs().as_slice());
        RowValues::of(&ctx, values, capacity)
    }

    fn of(
        ctx: &RowSerializationContext<'_>,
        values: &[BindValue<'_>],
        capacity: usize,
    ) -> Result<RowValues, SerializationError> {
        let mut bytes = Vec::with_capacity(capacity.max(8 * values.len()));
        let mut writer = RowWriter::new(&mut bytes);
        values.serialize(ctx, &mut writer)?;
        let count = writer.value_count();
        Ok(RowValues { bytes, count })
    }

    /// Serialized bytes (lengths included): the row's share of a request.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// Each value's cell, in order.
    fn cells(&self) -> impl Iterator<Item = RawCell> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            let len = i32::from_be_bytes(self.bytes.get(at..at + 4)?.try_into().ok()?);
            let cell = RawCell { start: at, len };
            at = cell.end();
            Some(cell)
        })
        .take(self.count)
    }

    /// Value `index` with its length, as written into a request.
    fn raw_cell(&self, index: usize) -> Option<&[u8]> {
        let cell = self.cells().nth(index)?;
        self.bytes.get(cell.start..cell.end())
    }

    /// The bytes of value `index`; `None` when it is null or unset.
    fn cell(&self, index: usize) -> Option<&[u8]> {
        self.bytes.get(self.cells().nth(index)?.value()?)
    }

    /// Makes value `index` `value` (any value, null or unset before).
    fn replace(&mut self, index: usize, value: &[u8]) {
        let (Some(cell), Ok(len)) = (self.cells().nth(index), i32::try_from(value.len())) else { return };
        let mut bytes = Vec::with_capacity(4 + value.len());
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(value);
        self.bytes.splice(cell.start..cell.end(), bytes);
    }
}

/// Where one value sits in a [`RowValues`]: its length's offset, and that length (-1 null,
/// -2 unset).
#[derive(Debug, Clone, Copy)]
struct RawCell {
    start: usize,
    len: i32,
}

impl RawCell {
    /// The value's bytes, when it has some.
    fn value(self) -> Option<std::ops::Range<usize>> {
        let len = usize::try_from(self.len).ok()?;
        Some(self.start + 4..self.start + 4 + len)
    }

    /// Just past the cell.
    fn end(self) -> usize {
        self.value().map_or(self.start + 4, |v| v.end)
    }
}

/// A statement's variables that are not the row's.
#[derive(Debug, thiserror::Error)]
#[error("the statement has {expected} variables, the row {found} values")]
struct ValueCountMismatch {
    expected: usize,
    found: usize,
}

impl SerializeRow for RowValues {
    fn serialize(&self, ctx: &RowSerializationContext<'_>, writer: &mut RowWriter) -> Result<(), SerializationError> {
        if ctx.columns().len() != self.count {
            return Err(SerializationError::new(ValueCountMismatch {
                expected: ctx.columns().len(),
                found: self.count,
            }));
        }
        for raw in self.cells() {
            let cell = writer.make_cell_writer();
            match (raw.len, raw.value().and_then(|v| self.bytes.get(v))) {
                (_, Some(value)) => {
                    cell.set_value(value).map_err(SerializationError::new)?;
                }
                (-2, None) => {
                    cell.set_unset();
                }
                _ => {
                    cell.set_null();
                }
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A per-record failure for one table; the pipeline adds topic, partition and offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub column: Option<String>,
    pub field: Option<String>,
    pub reason: String,
}

impl RowError {
    fn plain(reason: String) -> Self {
        RowError { column: None, field: None, reason }
    }
}

#[derive(Debug)]
pub struct TablePlan {
    pub topic: String,
    pub table: TableRef,
    pub config: Arc<TableConfig>,
    codec: CodecSettings,
    insert: Statement,
    delete: Option<Statement>,
    /// The mapped columns are exactly the primary key: never a delete.
    pk_only: bool,
    /// UNLOGGED batches of n inserts (index n), built once each on first use.
    insert_batches: BatchCache,
    /// The mapping reads a `header.*` field.
    reads_headers: bool,
    /// The serialized size of the last row bound: the next row's buffer is allocated at that
    /// size (and a little more) once, rather than grown from small.
    last_row_bytes: std::sync::atomic::AtomicUsize,
}

struct BatchCache(Box<[std::sync::OnceLock<Arc<Batch>>]>);

impl std::fmt::Debug for BatchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} batches built", self.0.iter().filter(|b| b.get().is_some()).count())
    }
}

/// Batches of up to this many inserts are built once and reused.
const CACHED_BATCH_ROWS: usize = 64;

/// The part of a table's metadata the statements depend on.
#[derive(Debug, Clone, Default)]
pub struct TableShape {
    pub columns: std::collections::BTreeMap<String, ColumnType<'static>>,
    pub partition_key: Vec<String>,
    pub clustering_key: Vec<String>,
}

impl From<&Table> for TableShape {
    fn from(t: &Table) -> Self {
        TableShape {
            columns: t.columns.iter().map(|(n, c)| (n.clone(), c.typ.clone())).collect(),
            partition_key: t.partition_key.clone(),
            clustering_key: t.clustering_key.clone(),
        }
    }
}

/// The CQL the plan is built from; pure, so it can be tested without a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTexts {
    pub insert: String,
    pub delete: Option<String>,
}

/// Checks the mapping against the table (spec §1.8 schema validation, all problems at once) and
/// renders the statements.
pub fn statement_texts(cfg: &TableConfig, table: &TableShape) -> Result<StatementTexts, Vec<String>> {
    let mut problems = Vec::new();
    let mapping_key = format!("{}.mapping", cfg.key_prefix);
    let invalid =
        |reason: String| format!("Invalid value {} for configuration {mapping_key}: {reason}", cfg.mapping_text);
    if let Some(query) = &cfg.query {
        return Ok(StatementTexts { insert: query.clone(), delete: None });
    }
    let mapped = mapped_columns(cfg);
    let missing: Vec<String> =
        mapped.iter().filter(|c| !table.columns.contains_key(**c)).map(|c| cql_ident(c)).collect();
    if !missing.is_empty() {
        problems.push(invalid(format!(
            "The following columns do not exist in table {}: {}",
            cql_ident(&cfg.table.table),
            missing.join(", ")
        )));
    }
    let pk: Vec<&String> = table.partition_key.iter().chain(&table.clustering_key).collect();
    let unmapped_pk: Vec<String> = pk.iter().filter(|c| !mapped.contains(&c.as_str())).map(|c| cql_ident(c)).collect();
    if !unmapped_pk.is_empty() {
        problems.push(invalid(format!(
            "The following columns are part of the primary key but are not mapped: {}",
            unmapped_pk.join(", ")
        )));
    }
    let counter = table.columns.values().any(|t| matches!(t, ColumnType::Native(NativeType::Counter)));
    let has_ttl_field = cfg.mapping.entries.iter().any(|e| e.column == Column::Ttl);
    if counter && (cfg.ttl_seconds.is_some() || has_ttl_field) {
        problems.push(format!("{}: Cannot set ttl when updating a counter table", cfg.key_prefix));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let target = format!("{}.{}", cql_ident(&cfg.table.keyspace), cql_ident(&cfg.table.table));
    let where_pk = pk.iter().map(|c| format!("{0} = :{0}", cql_ident(c))).collect::<Vec<_>>().join(" AND ");
    let insert = if counter {
        let sets = mapped
            .iter()
            .filter(|c| !pk.iter().any(|p| p == *c))
            .map(|c| format!("{0} = {0} + :{0}", cql_ident(c)))
            .collect::<Vec<_>>()
            .join(",");
        format!("UPDATE {target} SET {sets} WHERE {where_pk}")
    } else {
        let cols = mapped.iter().map(|c| cql_ident(c)).collect::<Vec<_>>();
        let vars = cols.iter().map(|c| format!(":{c}")).collect::<Vec<_>>();
        let mut q = format!(
            "INSERT INTO {target}({}) VALUES ({}) USING TIMESTAMP :{TIMESTAMP_VAR}",
            cols.join(","),
            vars.join(",")
        );
        if has_ttl_field {
            q.push_str(&format!(" AND TTL :{TTL_VAR}"));
        } else if let Some(ttl) = cfg.ttl_seconds {
            q.push_str(&format!(" AND TTL {ttl}"));
        }
        q
    };
    // Deletes need every real column mapped (pseudo-columns do not count: spec "differ" §6).
    let all_columns_mapped = table.columns.keys().all(|c| mapped.contains(&c.as_str()));
    let delete = (cfg.deletes_enabled && !counter && all_columns_mapped)
        .then(|| format!("DELETE FROM {target} USING TIMESTAMP :{TIMESTAMP_VAR} WHERE {where_pk}"));
    Ok(StatementTexts { insert, delete })
}

/// The real columns a mapping writes (pseudo-columns `__ttl` and `__timestamp` left out).
fn mapped_columns(cfg: &TableConfig) -> Vec<&str> {
    cfg.mapping
        .entries
        .iter()
        .filter_map(|e| match &e.column {
            Column::Named(n) => Some(n.as_str()),
            _ => None,
        })
        .collect()
}

/// Keyspace and table lookup with the reference connector's case hints.
pub fn find_table<'a>(cluster: &'a scylla::cluster::ClusterState, cfg: &TableConfig) -> Result<&'a Table, String> {
    let ks_name = &cfg.table.keyspace;
    let Some(ks) = cluster.get_keyspace(ks_name) else {
        let hint = cluster.keyspaces_iter().find(|(k, _)| k.eq_ignore_ascii_case(ks_name)).map(|(k, _)| k);
        return Err(match hint {
            Some(k) => format!(
                "{}: Keyspace {ks_name} does not exist, however a keyspace {k} was found. Update the config to use {k} if desired.",
                cfg.key_prefix
            ),
            None => format!("{}: Keyspace {ks_name} does not exist.", cfg.key_prefix),
        });
    };
    let tb_name = &cfg.table.table;
    ks.tables.get(tb_name).ok_or_else(|| {
        match ks.tables.keys().find(|t| t.eq_ignore_ascii_case(tb_name)) {
            Some(t) => format!(
                "{}: Table {tb_name} does not exist, however a table {t} was found. Update the config to use {t} if desired.",
                cfg.key_prefix
            ),
            None => format!("{}: Table {tb_name} does not exist.", cfg.key_prefix),
        }
    })
}

impl TablePlan {
    /// Validates against the live table and prepares the statements.
    pub async fn build(
        session: &Session,
        cfg: Arc<TableConfig>,
        codec: CodecSettings,
    ) -> Result<TablePlan, Vec<String>> {
        let cluster = session.get_cluster_state();
        let table = find_table(&cluster, &cfg).map_err(|e| vec![e])?;
        let texts = statement_texts(&cfg, &TableShape::from(table))?;
        let pk_names: Vec<&String> = table.partition_key.iter().chain(&table.clustering_key).collect();
        let is_pk = |name: &str| {
            cfg.query.is_none()
                && table
                    .columns
                    .get(name)
                    .is_some_and(|c| matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering))
        };
        let insert = prepare(session, &texts.insert, &cfg, &is_pk).await?;
        let delete = match &texts.delete {
            Some(d) => Some(prepare(session, d, &cfg, &is_pk).await?),
            None => None,
        };
        let mapped_real = mapped_columns(&cfg);
        let pk_only = mapped_real.len() == pk_names.len() && pk_names.iter().all(|p| mapped_real.contains(&p.as_str()));
        Ok(TablePlan {
            topic: cfg.topic.clone(),
            table: cfg.table.clone(),
            config: cfg.clone(),
            codec,
            insert,
            delete,
            pk_only,
            insert_batches: BatchCache((0..=CACHED_BATCH_ROWS).map(|_| std::sync::OnceLock::new()).collect()),
            reads_headers: cfg.mapping.entries.iter().any(|e| matches!(e.field, Field::Header(_))),
            last_row_bytes: Default::default(),
        })
    }

    /// The UNLOGGED batch statement for these rows (built once per size when they are all
    /// inserts, as they usually are).
    pub fn batch_of(&self, rows: &[&BoundRow]) -> Arc<Batch> {
        let all_inserts = rows.iter().all(|r| Arc::ptr_eq(&r.statement, &self.insert.prepared));
        match self.insert_batches.0.get(rows.len()) {
            Some(cached) if all_inserts => cached
                .get_or_init(|| Arc::new(crate::engine::sink::batch_of(rows.iter().copied(), self.config.consistency)))
                .clone(),
            _ => Arc::new(crate::engine::sink::batch_of(rows.iter().copied(), self.config.consistency)),
        }
    }

    /// The statements of this table, for `validate`.
    pub fn describe(&self) -> String {
        match &self.delete {
            Some(d) => format!("{} | {}", self.insert.prepared.get_statement(), d.prepared.get_statement()),
            None => self.insert.prepared.get_statement().to_string(),
        }
    }

    /// The record as a row of this table: an insert (or counter update), or a delete when deletes
    /// are enabled and every mapped non-key column is null.
    pub fn bind(&self, rec: &RecordView<'_>) -> Result<BoundRow, RowError> {
        use std::sync::atomic::Ordering::Relaxed;
        let (statement, values, write_time) = self.bind_values(rec)?;
        let capacity = self.last_row_bytes.load(Relaxed) + 16;
        let values = RowValues::serialize(&statement, &values, capacity).map_err(|e| RowError::plain(e.to_string()))?;
        self.last_row_bytes.store(values.size(), Relaxed);
        Ok(BoundRow { statement, values, write_time })
    }

    /// What [`TablePlan::bind`] binds, before it is serialized: the statement, its values and the
    /// index of the write time among them.
    #[allow(clippy::type_complexity)]
    pub fn bind_values<'r>(
        &self,
        rec: &RecordView<'r>,
    ) -> Result<(Arc<PreparedStatement>, Vec<BindValue<'r>>, Option<usize>), RowError> {
        let insert_values = self.evaluate(&self.insert, rec)?;
        if let Some(delete) = &self.delete
            && !self.pk_only
            && self
                .insert
                .binds
                .iter()
                .zip(&insert_values)
                .filter(|(b, _)| !b.primary_key && matches!(b.source, Source::Field(_) | Source::Ttl(_)))
                .all(|(_, v)| matches!(v, MaybeUnset::Unset | MaybeUnset::Set(None)))
            && !self.timestamp_field_present(rec)
        {
            let values = self.evaluate(delete, rec)?;
            return Ok((delete.prepared.clone(), values, delete.write_time));
        }
        Ok((self.insert.prepared.clone(), insert_values, self.insert.write_time))
    }

    /// A non-null `__timestamp` field counts as a non-key value in the insert-or-delete decision
    /// (spec §3.4), like `__ttl`.
    fn timestamp_field_present(&self, rec: &RecordView<'_>) -> bool {
        let Some(field) = self.config.mapping.entries.iter().find(|e| e.column == Column::Timestamp).map(|e| &e.field)
        else {
            return false;
        };
        let found = match field {
            Field::Value(path) => rec.value.field(path),
            Field::Key(path) => rec.key.field(path),
            _ => return false,
        };
        matches!(found, Lookup::Found(d) if !matches!(d, Datum::Null | Datum::Json(serde_json::Value::Null)))
    }

    fn evaluate<'r>(&self, st: &Statement, rec: &RecordView<'r>) -> Result<Vec<BindValue<'r>>, RowError> {
        let mut out = Vec::with_capacity(st.binds.len());
        for b in &st.binds {
            let v = match &b.source {
                Source::Unmapped => MaybeUnset::Unset,
                Source::Now => {
                    let uuid = now_v1();
                    match &b.typ {
                        ColumnType::Native(NativeType::Timeuuid) => {
                            MaybeUnset::Set(Some(Cell::Value(CqlValue::Timeuuid(CqlTimeuuid::from(uuid)))))
                        }
                        ColumnType::Native(NativeType::Uuid) => {
                            MaybeUnset::Set(Some(Cell::Value(CqlValue::Uuid(uuid))))
                        }
                        _ => MaybeUnset::Set(Some(Cell::Value(CqlValue::Text(uuid.to_string())))),
                    }
                }
                Source::WriteTime(None) => kafka_write_time(rec),
                // A value without fields (a tombstone) has no `__timestamp` field: its delete
                // still carries the record's write time, the Kafka timestamp (spec "differ" §3).
                Source::WriteTime(Some(field)) => match lookup(field, rec, b)? {
                    None => kafka_write_time(rec),
                    // A logical timestamp (Connect Timestamp, Avro timestamp-*) is an instant
                    // already: its µs are the write time, whatever `timestampTimeUnit` says.
                    Some(Datum::Typed(Typed::Timestamp(us))) => {
                        MaybeUnset::Set(Some(Cell::Value(CqlValue::BigInt(*us))))
                    }
                    Some(d) => {
                        let n = number(d, field, "Timestamp")?;
                        let us =
                            self.config.timestamp_unit.convert(n, TimeUnit::Microseconds).ok_or_else(|| RowError {
                                column: Some(b.column.clone()),
                                field: Some(field.to_string()),
                                reason: format!(
                                    "The value: {n} for field: {field} is out of range for a write timestamp"
                                ),
                            })?;
                        MaybeUnset::Set(Some(Cell::Value(CqlValue::BigInt(us))))
                    }
                },
                Source::Ttl(field) => match lookup(field, rec, b)? {
                    None => MaybeUnset::Unset,
                    Some(d) => {
                        let n = number(d, field, "TTL")?;
                        let secs = self.config.ttl_unit.convert(n, TimeUnit::Seconds).unwrap_or(i64::MAX);
                        let secs = i32::try_from(secs.max(0)).map_err(|_| RowError {
                            column: Some(b.column.clone()),
                            field: Some(field.to_string()),
                            reason: format!("The value: {n} for field: {field} is out of range for a TTL"),
                        })?;
                        MaybeUnset::Set(Some(Cell::Value(CqlValue::Int(secs))))
                    }
                },
                Source::Field(field) => match lookup(field, rec, b)? {
                    None => MaybeUnset::Unset,
                    Some(d) => {
                        let converted = convert_cell(d, &b.typ, &self.codec).map_err(|e| RowError {
                            column: Some(b.column.clone()),
                            field: Some(field.to_string()),
                            reason: e.to_string(),
                        })?;
                        match converted {
                            Some(v) => MaybeUnset::Set(Some(v)),
                            None if b.primary_key => {
                                return Err(RowError {
                                    column: Some(b.column.clone()),
                                    field: Some(field.to_string()),
                                    reason: format!(
                                        "Primary key column {} cannot be mapped to null. Check that your mapping setting matches your dataset contents.",
                                        b.column
                                    ),
                                });
                            }
                            None if self.config.null_to_unset => MaybeUnset::Unset,
                            None => MaybeUnset::Set(None),
                        }
                    }
                },
            };
            out.push(v);
        }
        let unbound: Vec<&str> = st
            .binds
            .iter()
            .zip(&out)
            .filter(|(b, v)| b.primary_key && matches!(v, MaybeUnset::Unset))
            .map(|(b, _)| b.column.as_str())
            .collect();
        if !unbound.is_empty() {
            return Err(RowError::plain(format!(
                "Primary key column(s) {} cannot be left unmapped. Check that your mapping setting matches your dataset contents.",
                unbound.join(", ")
            )));
        }
        Ok(out)
    }
}

/// The Kafka record timestamp in µs as the write time; unset (server time) when it has none.
fn kafka_write_time(rec: &RecordView<'_>) -> BindValue<'static> {
    match rec.timestamp_ms.and_then(|ms| ms.checked_mul(1000)) {
        Some(us) => MaybeUnset::Set(Some(Cell::Value(CqlValue::BigInt(us)))),
        None => MaybeUnset::Unset,
    }
}

/// The input of a mapped field; `Ok(None)` when the column is skipped (a `value.*` field of a
/// value without named fields, spec §3.3).
fn lookup<'a>(field: &Field, rec: &RecordView<'a>, b: &Bind) -> Result<Option<Datum<'a>>, RowError> {
    let missing = || RowError {
        column: Some(b.column.clone()),
        field: Some(field.to_string()),
        reason: format!(
            "Required field '{field}' (mapped to column {}) was missing from record (or may refer to an invalid function). Please remove it from the mapping.",
            b.column
        ),
    };
    match field {
        Field::Value(path) => match rec.value.field(path) {
            Lookup::Found(d) => Ok(Some(d)),
            Lookup::NoFields if matches!(path, FieldPath::Named(_)) => Ok(None),
            _ => Err(missing()),
        },
        Field::Key(path) => match rec.key.field(path) {
            Lookup::Found(d) => Ok(Some(d)),
            _ => Err(missing()),
        },
        Field::Header(name) => match rec.headers.iter().find(|(k, _)| k == name) {
            Some((_, v)) => Ok(Some(v.whole())),
            None => Err(missing()),
        },
        Field::Now => Ok(None),
    }
}

/// `__timestamp` / `__ttl` inputs must be numbers; fractions are truncated, as the reference does.
fn number(d: Datum<'_>, field: &Field, what: &str) -> Result<i64, RowError> {
    let not_number = |shown: String| RowError {
        column: None,
        field: Some(field.to_string()),
        reason: format!("The value: {shown} for field: {field} used as a {what} is not a Number but should be."),
    };
    match d {
        Datum::Int(i) => Ok(i),
        Datum::Float(f) if f.is_finite() => Ok(f.trunc() as i64),
        Datum::Json(serde_json::Value::Number(n)) => number_text(&n.to_string(), field, what),
        Datum::JsonNum(n) => number_text(n, field, what),
        Datum::JsonStr(s) => Err(not_number(serde_json::Value::String(s.to_owned()).to_string())),
        // A decimal (Connect Decimal, Avro decimal) is a number, read like a JSON one.
        Datum::Typed(Typed::Decimal(text)) => number_text(text, field, what),
        Datum::Json(v) => Err(not_number(v.to_string())),
        Datum::Text(t) => Err(not_number(t.to_string())),
        Datum::Bool(b) => Err(not_number(b.to_string())),
        Datum::Null => Err(not_number("null".into())),
        Datum::Bytes(_) | Datum::Float(_) => Err(not_number("<bytes>".into())),
        Datum::Typed(t) => Err(not_number(format!("<{}>", t.kind()))),
    }
}

fn number_text(text: &str, field: &Field, what: &str) -> Result<i64, RowError> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i);
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f.abs() < 9.2e18 => Ok(f.trunc() as i64),
        _ => Err(RowError::plain(format!("The value: {text} for field: {field} is out of range for a {what}"))),
    }
}

/// A version-1 (time-based) UUID for `now()`, with a random node id as the reference generator.
fn now_v1() -> uuid::Uuid {
    let node: [u8; 6] = rand::random();
    uuid::Uuid::now_v1(&node)
}

async fn prepare(
    session: &Session,
    cql: &str,
    cfg: &TableConfig,
    is_pk: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Statement, Vec<String>> {
    let mut prepared = session
        .prepare(cql)
        .await
        .map_err(|e| vec![format!("{}: Prepare failed for statement: {cql}: {e}", cfg.key_prefix)])?;
    prepared.set_consistency(cfg.consistency);
    // Generated inserts and deletes carry their own write time, so replays and retries are
    // harmless; counter increments and user queries (a list append, say) are not.
    prepared.set_is_idempotent(cfg.query.is_none() && !cql.starts_with("UPDATE"));
    let mut binds = Vec::new();
    let mut problems = Vec::new();
    for spec in prepared.get_variable_col_specs().iter() {
        let name = spec.name();
        let source = if name == TIMESTAMP_VAR && cfg.query.is_none() {
            Source::WriteTime(field_of(cfg, &Column::Timestamp))
        } else if name == TTL_VAR && cfg.query.is_none() {
            match field_of(cfg, &Column::Ttl) {
                Some(f) => Source::Ttl(f),
                None => Source::Unmapped,
            }
        } else {
            match field_of(cfg, &Column::Named(name.to_string())) {
                Some(Field::Now) => Source::Now,
                Some(f) => Source::Field(f),
                None => Source::Unmapped,
            }
        };
        let typ = spec.typ().clone().into_owned();
        if matches!(source, Source::Now)
            && !matches!(
                typ,
                ColumnType::Native(NativeType::Timeuuid | NativeType::Uuid | NativeType::Text | NativeType::Ascii)
            )
        {
            problems.push(format!(
                "Invalid value {} for configuration {}.mapping: now() produces a time-based UUID and cannot be written to column {} of type {}; allowed: timeuuid, uuid, text, ascii",
                cfg.mapping_text,
                cfg.key_prefix,
                cql_ident(name),
                crate::codec::convert::type_name(&typ)
            ));
        }
        binds.push(Bind { column: cql_ident(name), source, typ, primary_key: is_pk(name) });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let write_time = binds.iter().position(|b| matches!(b.source, Source::WriteTime(_)));
    Ok(Statement { prepared: Arc::new(prepared), binds, write_time })
}

impl TablePlan {
    /// Whether the mapping reads any `header.*` field (if no table of a topic does, the record's
    /// headers are not decoded).
    pub fn reads_headers(&self) -> bool {
        self.reads_headers
    }
}

fn field_of(cfg: &TableConfig, column: &Column) -> Option<Field> {
    cfg.mapping.entries.iter().find(|e| &e.column == column).map(|e| e.field.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConnectorConfig, Properties};

    /// Rows keep their values as the driver would write them; what it reads back and replaces.
    #[test]
    fn row_values_are_the_protocol_bytes_of_the_values() {
        use scylla::frame::response::result::{ColumnSpec, TableSpec};
        let spec = |name: &str, t: NativeType| {
            ColumnSpec::owned(name.into(), ColumnType::Native(t), TableSpec::owned("ks".into(), "t".into()))
        };
        let specs = vec![
            spec("k", NativeType::Text),
            spec("n", NativeType::Int),
            spec("m", NativeType::Int),
            spec(TIMESTAMP_VAR, NativeType::BigInt),
        ];
        let ctx = RowSerializationContext::from_specs(&specs);
        let values: Vec<BindValue> = vec![
            MaybeUnset::Set(Some(CqlValue::Text("a".into()).into())),
            MaybeUnset::Set(None),
            MaybeUnset::Unset,
            MaybeUnset::Set(Some(CqlValue::BigInt(5).into())),
        ];
        let mut row = RowValues::of(&ctx, &values, 0).unwrap();
        let mut direct = Vec::new();
        values.serialize(&ctx, &mut RowWriter::new(&mut direct)).unwrap();
        let copy = |row: &RowValues, ctx: &RowSerializationContext<'_>| {
            let mut out = Vec::new();
            let mut w = RowWriter::new(&mut out);
            let written = row.serialize(ctx, &mut w).map(|()| w.value_count());
            written.map(|n| (n, out))
        };
        assert_eq!(copy(&row, &ctx).unwrap(), (4, direct.clone()), "written into a request as they are");
        assert_eq!(row.size(), direct.len());
        assert_eq!(row.raw_cell(0), Some(&[0, 0, 0, 1, b'a'][..]));
        assert_eq!(row.raw_cell(1), Some(&[0xff, 0xff, 0xff, 0xff][..]), "null");
        assert_eq!(row.raw_cell(2), Some(&[0xff, 0xff, 0xff, 0xfe][..]), "unset");
        assert_eq!((row.cell(1), row.cell(2), row.cell(4)), (None, None, None));
        assert_eq!(row.cell(3), Some(&5i64.to_be_bytes()[..]));

        row.replace(3, &9i64.to_be_bytes());
        row.replace(1, &7i32.to_be_bytes());
        let expected: Vec<BindValue> = vec![
            MaybeUnset::Set(Some(CqlValue::Text("a".into()).into())),
            MaybeUnset::Set(Some(CqlValue::Int(7).into())),
            MaybeUnset::Unset,
            MaybeUnset::Set(Some(CqlValue::BigInt(9).into())),
        ];
        assert_eq!(row, RowValues::of(&ctx, &expected, 64).unwrap(), "values replaced in place");
        assert!(copy(&row, &RowSerializationContext::from_specs(&specs[..3])).is_err(), "a statement of 3 variables");
        let wrong = vec![MaybeUnset::Set(Some(CqlValue::Text("x".into()).into())); 4];
        assert!(RowValues::of(&ctx, &wrong, 0).is_err(), "text is not an int: refused when the row is bound");
    }

    fn shape(pk: &[&str], ck: &[&str], cols: &[(&str, NativeType)]) -> TableShape {
        TableShape {
            columns: cols.iter().map(|(n, t)| (n.to_string(), ColumnType::Native(t.clone()))).collect(),
            partition_key: pk.iter().map(|s| s.to_string()).collect(),
            clustering_key: ck.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn cfg(mapping: &str, extra: &str) -> TableConfig {
        let text = format!("name=n\ntopics=t\ntopic.t.ks.tb.mapping={mapping}\n{extra}");
        let mut c = ConnectorConfig::from_properties(&Properties::parse(text.as_bytes()).unwrap()).unwrap();
        c.tables.remove(0)
    }

    fn basic() -> TableShape {
        shape(&["id"], &["ts"], &[("id", NativeType::Int), ("ts", NativeType::Timestamp), ("v", NativeType::Text)])
    }

    #[test]
    fn insert_and_delete_shapes() {
        let t = statement_texts(&cfg("id=key, ts=value.ts, v=value.v", ""), &basic()).unwrap();
        assert_eq!(
            t.insert,
            "INSERT INTO ks.tb(id,ts,v) VALUES (:id,:ts,:v) USING TIMESTAMP :message_internal_timestamp"
        );
        assert_eq!(
            t.delete.as_deref(),
            Some("DELETE FROM ks.tb USING TIMESTAMP :message_internal_timestamp WHERE id = :id AND ts = :ts")
        );
    }

    #[test]
    fn ttl_clauses_and_no_delete_when_not_all_columns_mapped() {
        let t = statement_texts(&cfg("id=key, ts=value.ts", "topic.t.ks.tb.ttl=60\n"), &basic()).unwrap();
        assert_eq!(
            t.insert,
            "INSERT INTO ks.tb(id,ts) VALUES (:id,:ts) USING TIMESTAMP :message_internal_timestamp AND TTL 60"
        );
        assert_eq!(t.delete, None);
        let t = statement_texts(&cfg("id=key, ts=value.ts, v=value.v, __ttl=value.t", ""), &basic()).unwrap();
        assert!(t.insert.ends_with("USING TIMESTAMP :message_internal_timestamp AND TTL :message_internal_ttl"));
        assert!(t.delete.is_some(), "pseudo-columns do not disable deletes");
        let t =
            statement_texts(&cfg("id=key, ts=value.ts, v=value.v", "topic.t.ks.tb.deletesEnabled=false\n"), &basic())
                .unwrap();
        assert_eq!(t.delete, None);
    }

    #[test]
    fn quoted_identifiers_are_rendered_as_cql() {
        let s = shape(&["Id"], &[], &[("Id", NativeType::Int), ("my col", NativeType::Text)]);
        let t = statement_texts(&cfg("\"Id\"=key, \"my col\"=value", ""), &s).unwrap();
        assert_eq!(
            t.insert,
            "INSERT INTO ks.tb(\"Id\",\"my col\") VALUES (:\"Id\",:\"my col\") USING TIMESTAMP :message_internal_timestamp"
        );
    }

    #[test]
    fn counter_tables_update_without_timestamp() {
        let s = shape(&["id"], &[], &[("id", NativeType::Int), ("c", NativeType::Counter)]);
        let t = statement_texts(&cfg("id=key, c=value.n", ""), &s).unwrap();
        assert_eq!(t.insert, "UPDATE ks.tb SET c = c + :c WHERE id = :id");
        assert_eq!(t.delete, None);
        let e = statement_texts(&cfg("id=key, c=value.n", "topic.t.ks.tb.ttl=5\n"), &s).unwrap_err();
        assert_eq!(e, vec!["topic.t.ks.tb: Cannot set ttl when updating a counter table"]);
    }

    #[test]
    fn schema_problems_are_all_reported() {
        let e = statement_texts(&cfg("v=value.v, nope=value.x, \"Bad\"=value.y", ""), &basic()).unwrap_err();
        assert_eq!(
            e,
            vec![
                "Invalid value v=value.v, nope=value.x, \"Bad\"=value.y for configuration topic.t.ks.tb.mapping: The following columns do not exist in table tb: nope, \"Bad\"",
                "Invalid value v=value.v, nope=value.x, \"Bad\"=value.y for configuration topic.t.ks.tb.mapping: The following columns are part of the primary key but are not mapped: id, ts",
            ]
        );
    }
}
