//! JSON text of collections, UDTs and tuples given as strings, read as the connector's Jackson
//! mapper reads it: single-quoted strings and unquoted field names are allowed.
//!
//! Strict JSON is tried first; only when that fails is the text rewritten to strict JSON
//! (single quotes to double quotes, bare names quoted) and parsed again. Nesting is bounded by
//! serde_json's recursion limit.

use serde_json::Value;

pub(super) fn parse(s: &str) -> Result<Value, String> {
    match serde_json::from_str(s) {
        Ok(v) => Ok(v),
        Err(strict) => match to_strict(s) {
            Some(rewritten) => serde_json::from_str(&rewritten).map_err(|e| e.to_string()),
            None => Err(strict.to_string()),
        },
    }
}

/// The text with lenient syntax made strict; `None` when there was nothing to rewrite.
fn to_strict(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() + 16);
    let mut changed = false;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    out.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                changed = true;
                out.push('"');
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, '\'')) => out.push('\''),
                            Some((_, e)) => {
                                out.push('\\');
                                out.push(e);
                            }
                            None => out.push('\\'),
                        },
                        '"' => out.push_str("\\\""),
                        '\'' => {
                            closed = true;
                            break;
                        }
                        c => out.push(c),
                    }
                }
                // Left open, the string stays unterminated so that the strict parser rejects it.
                if closed {
                    out.push('"');
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                // A number token, copied whole so that exponents are not taken for names.
                out.push(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_ascii_alphanumeric() || matches!(n, '.' | '+' | '-') {
                        out.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, n)) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '$' {
                        end = j + n.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let word = s.get(i..end).unwrap_or("");
                let is_name = s.get(end..).is_some_and(|rest| rest.trim_start().starts_with(':'));
                if is_name && !matches!(word, "true" | "false" | "null") {
                    changed = true;
                    out.push('"');
                    out.push_str(word);
                    out.push('"');
                } else {
                    out.push_str(word);
                }
            }
            c => out.push(c),
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_and_lenient() {
        assert_eq!(parse(r#"{"a": 1}"#), Ok(json!({"a": 1})));
        assert_eq!(parse("{a: 1, b_2: 'x'}"), Ok(json!({"a": 1, "b_2": "x"})));
        assert_eq!(parse("['it\\'s', 'say \"hi\"']"), Ok(json!(["it's", "say \"hi\""])));
        let numbers: Value = serde_json::from_str(r#"{"k": [1e5, -2.5E-3]}"#).unwrap();
        assert_eq!(parse("{'k': [1e5, -2.5E-3]}"), Ok(numbers));
        assert_eq!(parse("{é: true}"), Ok(json!({"é": true})));
        assert_eq!(parse("{a: null}"), Ok(json!({"a": null})));
        assert_eq!(parse(r#"{"a:b": 'c'}"#), Ok(json!({"a:b": "c"})));
    }

    #[test]
    fn still_rejects_garbage() {
        assert!(parse("[a, b]").is_err());
        assert!(parse("{a: }").is_err());
        assert!(parse("'unterminated").is_err());
        assert!(parse("").is_err());
        assert!(parse(&"[".repeat(10_000)).is_err());
    }
}
