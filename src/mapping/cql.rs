//! Rendering identifiers into CQL text.

/// Words Cassandra refuses as unquoted identifiers: the Java driver's list (so generated
/// statements read exactly like the reference connector's) plus the ones newer Cassandra versions
/// added. Quoting a word that is not reserved is harmless, so the union errs on the safe side.
/// Sorted, for binary search.
const RESERVED_KEYWORDS: &[&str] = &[
    "add",
    "allow",
    "alter",
    "and",
    "apply",
    "asc",
    "authorize",
    "batch",
    "begin",
    "by",
    "check",
    "columnfamily",
    "constraint",
    "create",
    "default",
    "delete",
    "desc",
    "describe",
    "drop",
    "entries",
    "execute",
    "from",
    "full",
    "grant",
    "if",
    "in",
    "index",
    "infinity",
    "insert",
    "into",
    "is",
    "keyspace",
    "length",
    "limit",
    "materialized",
    "mbean",
    "mbeans",
    "modify",
    "nan",
    "norecursive",
    "not",
    "null",
    "of",
    "on",
    "or",
    "order",
    "primary",
    "rename",
    "replace",
    "revoke",
    "schema",
    "select",
    "set",
    "table",
    "to",
    "token",
    "truncate",
    "unlogged",
    "unset",
    "update",
    "use",
    "using",
    "view",
    "where",
    "with",
];

/// Render an identifier as CQL: unquoted when it matches `[a-z][a-z0-9_]*` and is not a CQL
/// reserved keyword, otherwise double-quoted with inner `"` doubled (`bigintCol` → `"bigintCol"`).
///
/// Names reach us in their internal (case-sensitive) form; CQL folds unquoted identifiers to lower
/// case, so anything that is not already lower-case must be quoted to keep its meaning. The empty
/// name renders as `""`, which Cassandra rejects with a clear message instead of us panicking.
pub fn cql_ident(name: &str) -> String {
    if needs_quotes(name) { double_quote(name) } else { name.to_owned() }
}

fn needs_quotes(name: &str) -> bool {
    let mut chars = name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_lowercase()) {
        return true;
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return true;
    }
    RESERVED_KEYWORDS.binary_search(&name).is_ok()
}

/// CQL (and mapping-language) double-quoting: `a"b` → `"a""b"`.
pub(super) fn double_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_keywords_are_sorted_for_binary_search() {
        assert!(RESERVED_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }
}
