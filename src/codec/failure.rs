//! A decoding failure and the path of the field it happened in, shared by the schema-typed
//! decoders ([`super::connect_json`], [`super::avro`], [`super::protobuf`],
//! [`super::json_schema`]).

/// Why a value could not be decoded, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Innermost segment first (pushed while unwinding).
    path: Vec<String>,
    reason: String,
}

pub type Res<T> = Result<T, Failure>;

impl Failure {
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure { path: Vec::new(), reason: reason.into() }
    }

    /// The failure, one field further out.
    pub fn within(mut self, segment: impl Into<String>) -> Failure {
        self.path.push(segment.into());
        self
    }

    /// `what: reason`, or `what at 'a.b': reason`.
    pub fn message(self, what: &str) -> String {
        match self.into_parts() {
            (None, reason) => format!("{what}: {reason}"),
            (Some(path), reason) => format!("{what} at '{path}': {reason}"),
        }
    }

    /// ` in field 'a.b'` (empty at the top level), and the reason.
    pub fn in_field(self) -> (String, String) {
        match self.into_parts() {
            (None, reason) => (String::new(), reason),
            (Some(path), reason) => (format!(" in field '{path}'"), reason),
        }
    }

    /// The path, outermost first (`None` at the top level), and the reason.
    fn into_parts(mut self) -> (Option<String>, String) {
        if self.path.is_empty() {
            return (None, self.reason);
        }
        self.path.reverse();
        (Some(self.path.join(".")), self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_outermost_first() {
        assert_eq!(Failure::new("bad").message("Invalid"), "Invalid: bad");
        assert_eq!(Failure::new("bad").within("[1]").within("a").message("Invalid"), "Invalid at 'a.[1]': bad");
        assert_eq!(Failure::new("bad").in_field(), (String::new(), "bad".to_string()));
        assert_eq!(Failure::new("bad").within("b").within("a").in_field(), (" in field 'a.b'".into(), "bad".into()));
    }
}
