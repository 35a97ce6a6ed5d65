//! The mapping grammar, parsed the way the reference connector's generated ANTLR parser does.
//!
//! Users compare our errors with the reference's (and with its documentation), so the first syntax
//! error is reported with the same position and the same message: the same choices of
//! "extraneous input", "missing", "mismatched input" and "no viable alternative", the same
//! "expecting" sets, and the same look-ahead depth (which decides whether a bad character further
//! on is reported first). The grammar has no recursion, so the parser is a handful of loops: its
//! stack depth is fixed and it holds at most a few tokens besides the entries it returns.
//!
//! ```text
//! mapping      := entry ( ',' entry )* EOF
//! entry        := column '=' field
//! column       := UNQUOTED | QUOTED
//! field        := UNQUOTED ( UNQUOTED | '.' )* | QUOTED | function
//! function     := functionName '(' [ ident ( ',' ident )* ] ')'
//! functionName := [ ident '.' ] ident
//! ident        := UNQUOTED | QUOTED
//! ```

use std::collections::VecDeque;

use super::MappingError;
use super::lexer::{Kind, Lexer, Token, unquote};

/// One `column = field` as written: the column name (unquoted, with whether it was quoted, since
/// only bare `__ttl` is the pseudo-column) and the field's text (quoted form unquoted, other forms
/// as the concatenated tokens without whitespace, as ANTLR's `getText` gives them).
#[derive(Debug)]
pub(super) struct RawEntry {
    pub(super) column: String,
    pub(super) column_quoted: bool,
    pub(super) field: String,
}

pub(super) fn parse(src: &str) -> Result<Vec<RawEntry>, MappingError> {
    Parser { src, lexer: Lexer::new(src), ahead: VecDeque::new() }.mapping()
}

const IDENTIFIERS: &str = "{UNQUOTED_STRING, QUOTED_STRING}";
const AFTER_ENTRY: &str = "{<EOF>, ','}";
/// What ANTLR expects after a function argument: the parser remembers the loop it just left and
/// reports that loop's continuation together with the closing parenthesis.
const AFTER_ARGUMENT: &str = "{',', ')'}";

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    /// Tokens fetched but not consumed; `ahead[0]` is the current token.
    ahead: VecDeque<Token>,
}

impl Parser<'_> {
    /// The `k`-th token from the current one (1-based), lexing as far as needed. Lexing lazily is
    /// what makes a bad character surface exactly when the reference's parser looks at it.
    fn la(&mut self, k: usize) -> Result<Token, MappingError> {
        while self.ahead.len() < k {
            if let Some(last) = self.ahead.back().copied()
                && last.kind == Kind::Eof
            {
                return Ok(last);
            }
            let token = self.lexer.next_token()?;
            self.ahead.push_back(token);
        }
        Ok(self.ahead[k - 1])
    }

    /// Consumes the current token and, like ANTLR's token stream, fetches the next one at once.
    fn consume(&mut self) -> Result<Token, MappingError> {
        let current = self.la(1)?;
        if current.kind != Kind::Eof {
            self.ahead.pop_front();
        }
        self.la(1)?;
        Ok(current)
    }

    fn text(&self, token: Token) -> &str {
        self.src.get(token.start..token.end).unwrap_or("")
    }

    fn mapping(&mut self) -> Result<Vec<RawEntry>, MappingError> {
        let mut entries = vec![self.entry()?];
        self.sync_after_entry(true)?;
        while self.la(1)?.kind == Kind::Comma {
            self.consume()?;
            entries.push(self.entry()?);
            self.sync_after_entry(false)?;
        }
        // The sync above guarantees the current token is EOF.
        Ok(entries)
    }

    /// ANTLR's `sync` before the `( ',' entry )*` loop: only `,` or the end may follow an entry.
    /// At the loop entry it first tries deleting one token; on later iterations it reports the
    /// token as extraneous outright.
    fn sync_after_entry(&mut self, loop_entry: bool) -> Result<(), MappingError> {
        let current = self.la(1)?;
        if matches!(current.kind, Kind::Comma | Kind::Eof) {
            return Ok(());
        }
        if !loop_entry || matches!(self.la(2)?.kind, Kind::Comma | Kind::Eof) {
            return Err(self.extraneous(current, AFTER_ENTRY));
        }
        Err(self.mismatched(current, AFTER_ENTRY))
    }

    fn entry(&mut self) -> Result<RawEntry, MappingError> {
        let column = self.match_identifier(&[Kind::Eq])?;
        self.match_token(Kind::Eq, Kind::is_identifier, None)?;
        let field = self.field()?;
        Ok(RawEntry {
            column_quoted: column.kind == Kind::Quoted,
            column: match column.kind {
                Kind::Quoted => unquote(self.text(column)),
                _ => self.text(column).to_owned(),
            },
            field,
        })
    }

    fn field(&mut self) -> Result<String, MappingError> {
        // ANTLR's sync at the start of the alternatives.
        let current = self.la(1)?;
        if !current.kind.is_identifier() {
            if self.la(2)?.kind.is_identifier() {
                return Err(self.extraneous(current, IDENTIFIERS));
            }
            return Err(self.mismatched(current, IDENTIFIERS));
        }
        match self.predict_field()? {
            FieldAlt::Path => {
                let first = self.consume()?;
                let mut text = self.text(first).to_owned();
                while matches!(self.la(1)?.kind, Kind::Unquoted | Kind::Dot) {
                    let token = self.consume()?;
                    text.push_str(self.text(token));
                }
                Ok(text)
            }
            FieldAlt::Quoted => {
                let token = self.consume()?;
                Ok(unquote(self.text(token)))
            }
            FieldAlt::Function => self.function(),
        }
    }

    /// ANTLR's adaptive prediction for `field`, which needs up to four tokens: `a.b(` is a
    /// function, `a.b.` a path. When no alternative fits, ANTLR picks the one that could already
    /// have ended (the path or the quoted field) and lets the caller report the next token.
    fn predict_field(&mut self) -> Result<FieldAlt, MappingError> {
        if self.la(1)?.kind == Kind::Quoted {
            return Ok(match self.la(2)?.kind {
                Kind::Dot | Kind::LParen => FieldAlt::Function,
                _ => FieldAlt::Quoted,
            });
        }
        match self.la(2)?.kind {
            Kind::LParen => return Ok(FieldAlt::Function),
            Kind::Dot => {}
            _ => return Ok(FieldAlt::Path),
        }
        match self.la(3)?.kind {
            Kind::Quoted => return Ok(FieldAlt::Function),
            Kind::Unquoted => {}
            _ => return Ok(FieldAlt::Path),
        }
        Ok(match self.la(4)?.kind {
            Kind::LParen => FieldAlt::Function,
            _ => FieldAlt::Path,
        })
    }

    /// `functionName '(' ')' | functionName '(' functionArgs ')'`; the text is the tokens as
    /// written (quoted identifiers keep their quotes, as ANTLR's `getText` does).
    fn function(&mut self) -> Result<String, MappingError> {
        let has_arguments = self.predict_function()?;
        let mut text = String::new();
        // The prediction has checked `ident [ '.' ident ] '('` and the token after it.
        loop {
            let token = self.consume()?;
            text.push_str(self.text(token));
            if token.kind == Kind::LParen {
                break;
            }
        }
        if !has_arguments {
            let token = self.consume()?;
            text.push_str(self.text(token));
            return Ok(text);
        }
        let first = self.consume()?;
        text.push_str(self.text(first));
        while self.la(1)?.kind == Kind::Comma {
            let comma = self.consume()?;
            text.push_str(self.text(comma));
            let argument = self.match_identifier(&[Kind::Comma, Kind::RParen])?;
            text.push_str(self.text(argument));
        }
        let close =
            self.match_token(Kind::RParen, |kind| matches!(kind, Kind::Comma | Kind::Eof), Some(AFTER_ARGUMENT))?;
        text.push_str(self.text(close));
        Ok(text)
    }

    /// ANTLR's prediction for `function`: whether arguments follow `(`. Anything unexpected on
    /// the way is "no viable alternative", quoting the input from the function's first token.
    fn predict_function(&mut self) -> Result<bool, MappingError> {
        let start = self.la(1)?;
        let mut k = 2;
        if self.la(2)?.kind == Kind::Dot {
            let name = self.la(3)?;
            if !name.kind.is_identifier() {
                return Err(self.no_viable_alternative(start, name));
            }
            k = 4;
        }
        let open = self.la(k)?;
        if open.kind != Kind::LParen {
            return Err(self.no_viable_alternative(start, open));
        }
        let next = self.la(k + 1)?;
        match next.kind {
            Kind::RParen => Ok(false),
            kind if kind.is_identifier() => Ok(true),
            _ => Err(self.no_viable_alternative(start, next)),
        }
    }

    /// Matches `UNQUOTED | QUOTED` with ANTLR's inline recovery: one extra token is reported as
    /// extraneous, a token that could follow the identifier as a missing identifier.
    fn match_identifier(&mut self, follow: &[Kind]) -> Result<Token, MappingError> {
        let current = self.la(1)?;
        if current.kind.is_identifier() {
            return self.consume();
        }
        if self.la(2)?.kind.is_identifier() {
            return Err(self.extraneous(current, IDENTIFIERS));
        }
        if follow.contains(&current.kind) {
            return Err(self.missing(IDENTIFIERS, current));
        }
        Err(self.mismatched(current, IDENTIFIERS))
    }

    /// Matches one token with ANTLR's inline recovery. `can_follow` says which tokens may come
    /// after the expected one (for "missing X at Y"); `remembered` is the expecting set ANTLR
    /// reports instead of the token itself when it had just left an optional loop.
    fn match_token(
        &mut self,
        expected: Kind,
        can_follow: fn(Kind) -> bool,
        remembered: Option<&str>,
    ) -> Result<Token, MappingError> {
        let current = self.la(1)?;
        if current.kind == expected {
            return self.consume();
        }
        if self.la(2)?.kind == expected {
            return Err(self.extraneous(current, expected.display()));
        }
        if can_follow(current.kind) {
            return Err(self.missing(expected.display(), current));
        }
        Err(self.mismatched(current, remembered.unwrap_or(expected.display())))
    }

    fn lex_to_end(&mut self) -> Result<(), MappingError> {
        if self.ahead.back().is_some_and(|token| token.kind == Kind::Eof) {
            return Ok(());
        }
        while self.lexer.next_token()?.kind != Kind::Eof {}
        Ok(())
    }

    fn extraneous(&self, token: Token, expecting: &str) -> MappingError {
        let message = format!("extraneous input {} expecting {expecting}", self.display(token));
        syntax(token, message)
    }

    fn missing(&self, expecting: &str, at: Token) -> MappingError {
        let message = format!("missing {expecting} at {}", self.display(at));
        syntax(at, message)
    }

    fn mismatched(&self, token: Token, expecting: &str) -> MappingError {
        let message = format!("mismatched input {} expecting {expecting}", self.display(token));
        syntax(token, message)
    }

    /// The input from `start` through `offending`, whitespace included, as ANTLR quotes it.
    ///
    /// ANTLR builds this text from a token stream it first fills to the end, so a bad character
    /// anywhere later in the input is reported instead.
    fn no_viable_alternative(&mut self, start: Token, offending: Token) -> MappingError {
        if let Err(error) = self.lex_to_end() {
            return error;
        }
        let input = self.src.get(start.start..offending.end).unwrap_or("");
        let message = format!("no viable alternative at input {}", quote_escaped(input));
        syntax(offending, message)
    }

    /// ANTLR's `getTokenErrorDisplay`.
    fn display(&self, token: Token) -> String {
        match token.kind {
            Kind::Eof => "'<EOF>'".to_owned(),
            _ => quote_escaped(self.text(token)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldAlt {
    Path,
    Quoted,
    Function,
}

fn syntax(at: Token, message: String) -> MappingError {
    MappingError::Syntax { line: at.line, column: at.column, message }
}

/// Single-quotes `text` with line breaks and tabs shown as escapes, so a message stays one line.
fn quote_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
