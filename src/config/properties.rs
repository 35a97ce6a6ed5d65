//! Reading a configuration file the way Kafka Connect does: Java `.properties` syntax (comments,
//! `=`/`:`/blank separators, escapes, line continuations) or Connect's JSON form
//! `{"name": .., "config": {..}}`.
//!
//! Java reads `.properties` as ISO-8859-1; files written today are usually UTF-8. A file that is
//! valid UTF-8 is read as UTF-8, anything else as ISO-8859-1, so both kinds work unchanged.

use std::collections::BTreeMap;
use std::path::Path;

use super::ConfigError;

/// Keys and values of one file, in key order (deterministic messages and dumps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    map: BTreeMap<String, String>,
}

impl Properties {
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Properties { map: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// Reads a file, choosing the syntax by content: JSON when it starts with `{`.
    pub fn load(path: &Path) -> Result<Properties, ConfigError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigError::new(vec![format!("cannot read configuration file {}: {e}", path.display())]))?;
        Self::parse(&bytes).map_err(|e| e.in_file(path.display().to_string()))
    }

    pub fn parse(bytes: &[u8]) -> Result<Properties, ConfigError> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') { Self::parse_json(bytes) } else { Self::parse_properties(bytes) }
    }

    fn parse_properties(bytes: &[u8]) -> Result<Properties, ConfigError> {
        // Decoded here, so the parser only ever sees UTF-8: its own Latin-1 decoding panics on
        // some inputs (a lone 0xFF byte; found by fuzzing).
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
        };
        let parsed = std::panic::catch_unwind(|| {
            let mut map = BTreeMap::new();
            java_properties::PropertiesIter::new_with_encoding(text.as_bytes(), encoding_rs::UTF_8)
                .read_into(|k, v| {
                    map.insert(k, v);
                })
                .map(|()| map)
        });
        match parsed {
            Ok(Ok(map)) => Ok(Properties { map }),
            Ok(Err(e)) => Err(ConfigError::new(vec![format!("not a valid properties file: {e}")])),
            Err(_) => Err(ConfigError::new(vec!["not a valid properties file".to_string()])),
        }
    }

    /// Connect's REST shape `{"name": "x", "config": {...}}` or a flat `{"key": "value"}` object.
    /// Non-string scalars are accepted as their text, as Connect does.
    fn parse_json(bytes: &[u8]) -> Result<Properties, ConfigError> {
        let bad = |m: String| ConfigError::new(vec![m]);
        let root: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let serde_json::Value::Object(top) = root else {
            return Err(bad("a JSON connector configuration must be an object".into()));
        };
        let (config, name) = match top.get("config") {
            Some(serde_json::Value::Object(c)) => (c.clone(), top.get("name").cloned()),
            Some(_) => return Err(bad("\"config\" must be a JSON object of settings".into())),
            None => (top, None),
        };
        let mut map = BTreeMap::new();
        let mut problems = Vec::new();
        for (k, v) in config {
            match scalar_text(&v) {
                Some(text) => {
                    map.insert(k, text);
                }
                None => problems.push(format!(
                    "Invalid value {v} for configuration {k}: settings must be strings, numbers or booleans"
                )),
            }
        }
        if let Some(name) = name {
            match scalar_text(&name) {
                Some(n) => {
                    map.entry("name".to_string()).or_insert(n);
                }
                None => problems.push(format!("Invalid value {name} for configuration name: must be a string")),
            }
        }
        if problems.is_empty() { Ok(Properties { map }) } else { Err(ConfigError::new(problems)) }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.map.insert(key.into(), value.into());
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_syntax_as_java_reads_it() {
        let text = b"# comment\n! also a comment\na=1\nb : 2\nc 3\nd=multi \\\n    line\ne=tab\\tand\\u0041\n  f  =  spaced  \nkey\\ with\\ space=x\n";
        let p = Properties::parse(text).unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get("c"), Some("3"));
        assert_eq!(p.get("d"), Some("multi line"));
        assert_eq!(p.get("e"), Some("tab\tandA"));
        assert_eq!(p.get("f"), Some("spaced  "));
        assert_eq!(p.get("key with space"), Some("x"));
        assert_eq!(p.len(), 7);
    }

    #[test]
    fn utf8_and_latin1_files() {
        assert_eq!(Properties::parse("a=é".as_bytes()).unwrap().get("a"), Some("é"));
        assert_eq!(Properties::parse(b"a=\xe9").unwrap().get("a"), Some("é"));
    }

    #[test]
    fn non_utf8_bytes_are_latin1_not_a_crash() {
        // Regression: a lone 0xFF made the properties parser panic (fuzzing found it).
        assert!(Properties::parse(b"\xff").is_ok());
        assert_eq!(Properties::parse(b"k=\xff\xfe").unwrap().get("k"), Some("\u{ff}\u{fe}"));
    }

    #[test]
    fn later_duplicate_wins() {
        assert_eq!(Properties::parse(b"a=1\na=2").unwrap().get("a"), Some("2"));
    }

    #[test]
    fn connect_json_form() {
        let p =
            Properties::parse(br#"{"name":"sink1","config":{"topics":"t1","maxConcurrentRequests":100,"jmx":false}}"#)
                .unwrap();
        assert_eq!(p.get("name"), Some("sink1"));
        assert_eq!(p.get("topics"), Some("t1"));
        assert_eq!(p.get("maxConcurrentRequests"), Some("100"));
        assert_eq!(p.get("jmx"), Some("false"));
    }

    #[test]
    fn flat_json_form_and_config_name_wins() {
        let p = Properties::parse(br#" {"name":"a","topics":"t"}"#).unwrap();
        assert_eq!(p.get("name"), Some("a"));
        let p = Properties::parse(br#"{"name":"outer","config":{"name":"inner"}}"#).unwrap();
        assert_eq!(p.get("name"), Some("inner"));
    }

    #[test]
    fn json_errors_name_the_key() {
        let e = Properties::parse(br#"{"config":{"topics":["a"]}}"#).unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert!(e.problems[0].contains("configuration topics"), "{e}");
        let e = Properties::parse(b"{not json").unwrap_err();
        assert!(e.problems[0].starts_with("not valid JSON"), "{e}");
    }
}
