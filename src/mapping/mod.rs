//! The mapping language of `topic.<topic>.<keyspace>.<table>.mapping`: which record part feeds
//! which column, e.g. `col1=value.f1, col2=key, "Col 3"=header.h, c4=now()`.
//!
//! Contract:
//! * Same language as the reference connector's ANTLR grammar, and for invalid input the same
//!   first syntax error (position and ANTLR wording) or the same list of semantic errors, so
//!   existing configurations, documentation and runbooks keep working.
//! * Parsing is pure and total: any string, however large or malformed, yields a [`Mapping`] or a
//!   [`MappingError`] in time and stack linear in its length; it never panics.
//! * Nothing here knows the table. Whether columns exist and types fit is checked when the
//!   mapping is bound to live table metadata; this module only fixes what each entry means.
//!
//! One deliberate extension over the reference, decided when a record is read rather than here:
//! `value.a.b` reads a field literally named `a.b` when there is one (compatibility), and only
//! otherwise descends into `a` then `b` (see [`FieldPath::segments`]).

mod cql;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;

pub use cql::cql_ident;

/// A parsed mapping: `col1=value.f1, col2=key, "Col 3"=header.h, c4=now()`.
///
/// Entries keep the order written because generated statements list columns in that order.
/// `Display` renders a canonical text that parses back to an equal mapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mapping {
    pub entries: Vec<MappingEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MappingEntry {
    pub column: Column,
    pub field: Field,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Column {
    /// A real column (or bind-variable name for a custom query), unquoted text taken literally
    /// and case-sensitively, quoted text CQL-unquoted (`""` → `"`).
    ///
    /// Unquoted names are not lower-cased the way CQL would: the reference connector takes them
    /// as written, so `bigintCol` names a column whose internal name is `bigintCol`.
    Named(String),
    /// Unquoted `__ttl`: the record's TTL comes from the mapped field.
    Ttl,
    /// Unquoted `__timestamp`: the write timestamp comes from the mapped field.
    Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Key(FieldPath),
    Value(FieldPath),
    /// `header.<name>`: the first Kafka header with that key.
    Header(String),
    /// `now()`: a fresh time-based UUID per column per record.
    Now,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldPath {
    /// `key` / `value`: the whole key or value.
    Whole,
    /// Everything after the `key.` / `value.` prefix, literally (e.g. `a.b`).
    ///
    /// Kept as one string because the reference treats it as one top-level field name; a field
    /// literally named `a.b` must keep winning over nested navigation.
    Named(String),
}

impl FieldPath {
    /// The dot-separated segments of a Named path, for the nested-path fallback
    /// (a field literally named `a.b` wins; only if absent descend `a` then `b`).
    ///
    /// Empty segments are kept (`a..b` gives "a", "", "b") so a lookup never silently skips a
    /// level; `Whole` has no segments because there is nothing to descend into.
    pub fn segments(&self) -> Vec<&str> {
        match self {
            FieldPath::Whole => Vec::new(),
            FieldPath::Named(path) => path.split('.').collect(),
        }
    }
}

impl Field {
    /// The field as the reference connector prints it in errors: `value`, `key`, `value.f1`,
    /// `header.h`, `now()`.
    pub fn display_name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, path) = match self {
            Field::Key(path) => ("key", path),
            Field::Value(path) => ("value", path),
            Field::Header(name) => return write!(f, "header.{name}"),
            Field::Now => return f.write_str(NOW),
        };
        match path {
            FieldPath::Whole => f.write_str(prefix),
            FieldPath::Named(name) => write!(f, "{prefix}.{name}"),
        }
    }
}

impl Column {
    /// The name as the user wrote it (unquoted); `__ttl`, `__timestamp` for pseudo-columns.
    pub fn name(&self) -> &str {
        match self {
            Column::Named(name) => name,
            Column::Ttl => TTL,
            Column::Timestamp => TIMESTAMP,
        }
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", column_text(&entry.column), field_text(&entry.field))?;
        }
        Ok(())
    }
}

/// The column as mapping text: bare when the grammar reads it back as the same column, quoted
/// otherwise (which also keeps a real column named `__ttl` from becoming the pseudo-column).
fn column_text(column: &Column) -> String {
    match column {
        Column::Named(name)
            if !name.is_empty() && name.chars().all(lexer::is_alphanumeric) && name != TTL && name != TIMESTAMP =>
        {
            name.clone()
        }
        Column::Named(name) => cql::double_quote(name),
        Column::Ttl | Column::Timestamp => column.name().to_owned(),
    }
}

/// The field as mapping text: bare when it is a plain dotted path, quoted otherwise (quoting never
/// changes a field's meaning, only which characters it may contain).
fn field_text(field: &Field) -> String {
    let name = field.display_name();
    let plain = name.chars().all(|c| lexer::is_alphanumeric(c) || c == '.');
    if matches!(field, Field::Now) || plain { name } else { cql::double_quote(&name) }
}

const TTL: &str = "__ttl";
const TIMESTAMP: &str = "__timestamp";
const NOW: &str = "now()";

/// Parse + semantic checks (duplicate columns, invalid field names).
///
/// A syntax error stops at the first problem, as in the reference; semantic errors are all
/// collected so one round of fixing suffices.
pub fn parse(input: &str) -> Result<Mapping, MappingError> {
    let raw = parser::parse(input)?;
    let mut errors = Vec::new();
    let mut seen = HashSet::with_capacity(raw.len());
    let mut entries = Vec::with_capacity(raw.len());
    for entry in raw {
        let column = match entry.column.as_str() {
            TTL if !entry.column_quoted => Column::Ttl,
            TIMESTAMP if !entry.column_quoted => Column::Timestamp,
            _ => Column::Named(entry.column),
        };
        if !seen.insert(column.clone()) {
            errors.push(format!("Mapping already defined for column '{}'", column.name()));
        }
        match classify_field(entry.field) {
            Ok(field) => entries.push(MappingEntry { column, field }),
            Err(field) => errors.push(format!(
                "Invalid field name '{field}': field names in mapping must be 'key', 'value', or \
                 start with 'key.' or 'value.' or 'header.', or be one of supported functions: \
                 '[{NOW}]'."
            )),
        }
    }
    if errors.is_empty() { Ok(Mapping { entries }) } else { Err(MappingError::Semantic(errors)) }
}

/// Gives the field text its meaning, or hands it back when it has none.
fn classify_field(text: String) -> Result<Field, String> {
    let field = match text.as_str() {
        "key" => Field::Key(FieldPath::Whole),
        "value" => Field::Value(FieldPath::Whole),
        NOW => Field::Now,
        other => {
            if let Some(path) = other.strip_prefix("key.") {
                Field::Key(FieldPath::Named(path.to_owned()))
            } else if let Some(path) = other.strip_prefix("value.") {
                Field::Value(FieldPath::Named(path.to_owned()))
            } else if let Some(name) = other.strip_prefix("header.") {
                Field::Header(name.to_owned())
            } else {
                return Err(text);
            }
        }
    };
    Ok(field)
}

/// Why a mapping was rejected; the texts match the reference connector's so its documentation and
/// users' searches still apply. The config layer adds the setting name and value around it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The text is not in the grammar. `line` is 1-based, `column` 0-based and counted in
    /// characters (ANTLR's convention, which the reference prints).
    #[error("Could not be parsed at line {line}:{column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// The text parses but means nothing valid; every problem found, in entry order.
    #[error("Encountered the following errors:\n{}", .0.join("\n  "))]
    Semantic(Vec<String>),
}
