//! Tokens of the mapping language, produced on demand.
//!
//! Mirrors the ANTLR lexer generated from the reference connector's `Mapping.g4`: longest match,
//! backtracking to the last complete token, whitespace on a hidden channel (dropped here), and
//! positions counted in Unicode scalar values with only `\n` starting a new line. Tokens are
//! produced lazily because the reference reports a bad character only when the parser first looks
//! that far ahead, which decides which of two errors a user sees.

use super::MappingError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Eof,
    Comma,
    Eq,
    Dot,
    LParen,
    RParen,
    Unquoted,
    Quoted,
}

impl Kind {
    /// The name ANTLR's vocabulary gives the token type in "expecting" lists.
    pub(super) fn display(self) -> &'static str {
        match self {
            Kind::Eof => "<EOF>",
            Kind::Comma => "','",
            Kind::Eq => "'='",
            Kind::Dot => "'.'",
            Kind::LParen => "'('",
            Kind::RParen => "')'",
            Kind::Unquoted => "UNQUOTED_STRING",
            Kind::Quoted => "QUOTED_STRING",
        }
    }

    pub(super) fn is_identifier(self) -> bool {
        matches!(self, Kind::Unquoted | Kind::Quoted)
    }
}

/// A token: byte offsets into the source (always on character boundaries) plus the ANTLR position
/// (1-based line, 0-based column in characters) that error messages report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) line: usize,
    pub(super) column: usize,
}

pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    column: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0, line: 1, column: 0 }
    }

    /// The next token on the default channel; `Eof` forever once the input is exhausted.
    pub(super) fn next_token(&mut self) -> Result<Token, MappingError> {
        loop {
            let rest = self.src.get(self.pos..).unwrap_or("");
            let (start, line, column) = (self.pos, self.line, self.column);
            let Some(c) = rest.chars().next() else {
                return Ok(Token { kind: Kind::Eof, start, end: start, line, column });
            };
            let kind = match c {
                ' ' | '\t' | '\r' | '\n' => {
                    self.advance_while(is_whitespace);
                    continue;
                }
                ',' => Kind::Comma,
                '=' => Kind::Eq,
                '.' => Kind::Dot,
                '(' => Kind::LParen,
                ')' => Kind::RParen,
                c if is_alphanumeric(c) => {
                    self.advance_while(is_alphanumeric);
                    return Ok(self.token_from(Kind::Unquoted, start, line, column));
                }
                '"' => match scan_quoted(self.src, start) {
                    Ok(end) => {
                        self.advance_to(end);
                        return Ok(self.token_from(Kind::Quoted, start, line, column));
                    }
                    Err(error_end) => {
                        let text = self.src.get(start..error_end).unwrap_or("");
                        return Err(recognition_error(line, column, text));
                    }
                },
                other => {
                    let end = start + other.len_utf8();
                    let text = self.src.get(start..end).unwrap_or("");
                    return Err(recognition_error(line, column, text));
                }
            };
            self.advance_to(start + 1);
            return Ok(self.token_from(kind, start, line, column));
        }
    }

    fn token_from(&self, kind: Kind, start: usize, line: usize, column: usize) -> Token {
        Token { kind, start, end: self.pos, line, column }
    }

    fn advance_while(&mut self, accept: fn(char) -> bool) {
        let rest = self.src.get(self.pos..).unwrap_or("");
        let len = rest.find(|c: char| !accept(c)).unwrap_or(rest.len());
        self.advance_to(self.pos + len);
    }

    /// Moves to byte offset `end`, keeping line and column in step with the characters passed.
    fn advance_to(&mut self, end: usize) {
        let passed = self.src.get(self.pos..end).unwrap_or("");
        for c in passed.chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.pos = end.max(self.pos);
    }
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `UNQUOTED_STRING` is ASCII only: any other letter is a lexer error, as in the reference.
pub(super) fn is_alphanumeric(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Scans `'"' ( ~'"' | '""' )+ '"'` starting at the opening quote at byte `start`.
///
/// `Ok(end)` is the end of the longest complete token: like ANTLR, the lexer backtracks to the last
/// closing quote it passed when the input later stops making sense (`"a""` lexes as `"a"` then a
/// stray `"`). `Err(end)` is the end of the text ANTLR shows in its error: everything from the
/// opening quote up to and including the character that could not continue the token (or the rest
/// of the input when it ran out first).
fn scan_quoted(src: &str, start: usize) -> Result<usize, usize> {
    #[derive(Clone, Copy)]
    enum State {
        /// Just after the opening quote: a body character is required.
        Empty,
        /// Inside the body.
        Body,
        /// A quote right after the opening one: only the second half of `""` may follow.
        QuoteAfterEmpty,
        /// A quote after some body: either the closing quote or the first half of `""`.
        QuoteAfterBody,
    }
    let body_start = start + 1;
    let body = src.get(body_start..).unwrap_or("");
    let mut state = State::Empty;
    let mut last_complete = None;
    for (offset, c) in body.char_indices() {
        let at = body_start + offset;
        state = match (state, c == '"') {
            (State::Empty | State::Body, false) => State::Body,
            (State::Empty, true) => State::QuoteAfterEmpty,
            (State::Body, true) => {
                last_complete = Some(at + 1);
                State::QuoteAfterBody
            }
            (State::QuoteAfterEmpty | State::QuoteAfterBody, true) => State::Body,
            (State::QuoteAfterEmpty, false) => return Err(at + c.len_utf8()),
            (State::QuoteAfterBody, false) => return Ok(at),
        };
    }
    match state {
        State::QuoteAfterBody => Ok(src.len()),
        _ => last_complete.ok_or(src.len()),
    }
}

fn recognition_error(line: usize, column: usize, text: &str) -> MappingError {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\t' => shown.push_str("\\t"),
            '\r' => shown.push_str("\\r"),
            c => shown.push(c),
        }
    }
    MappingError::Syntax { line, column, message: format!("token recognition error at: '{shown}'") }
}

/// Undoes CQL double-quoting: drops the outer quotes and turns each `""` into `"`.
pub(super) fn unquote(quoted: &str) -> String {
    let inner = quoted.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(quoted);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            // The lexer only accepts quotes in pairs; skip the escaping partner.
            chars.next();
        }
    }
    out
}
