//! The intrinsic-call parser: `States.Name(arg, ...)` text to a [`Node`] tree.
//!
//! Arguments are string literals in single quotes (with AWS's escapes `\'`, `\{`, `\}`, `\\`),
//! JSON numbers, `true`/`false`/`null`, paths (`$...`, handed to [`Path::parse`] after the
//! argument's extent is found by scanning to the next top-level `,` or `)` outside quotes,
//! brackets and parentheses) and nested calls.

use baton_jsonpath::Path;
use serde_json::Value;

use crate::{Function, ParseError};

/// How deep calls may be nested (`States.A(States.B(...))` is two deep). AWS documents
/// "up to 10 intrinsic functions within a field" and rejects eleven nested calls.
pub const MAX_NESTING: usize = 10;

/// One call: the function and its arguments as written.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) function: Function,
    pub(crate) args: Vec<Arg>,
}

/// An argument as written.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// A number, `true`, `false` or `null`.
    Literal(Value),
    /// A quoted string.
    String(StringLiteral),
    /// A path such as `$.a`, `$$.Execution.Id` or `$var`.
    Path(Box<Path>),
    /// A nested call.
    Call(Node),
}

/// A quoted string: its value, and how it reads as a `States.Format` template (where escaped
/// braces are literal text and unescaped ones are placeholders).
#[derive(Debug, Clone)]
pub(crate) struct StringLiteral {
    pub(crate) value: String,
    pub(crate) template: Template,
}

/// A `States.Format` template split into text and `{}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Template {
    /// Well formed.
    Pieces(Vec<Piece>),
    /// A `{` not followed by `}`, or a `}` not preceded by `{`. AWS accepts such a literal in
    /// a definition and fails when `States.Format` runs, so the problem is kept until then.
    Malformed,
}

/// Part of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Placeholder,
}

impl Template {
    /// Reads a runtime string (e.g. a template from a path) as a template: every brace is
    /// syntax there, since escapes exist only in literals.
    pub(crate) fn from_runtime(text: &str) -> Template {
        Template::from_chars(text.chars().map(|c| (c, false)))
    }

    /// Builds a template from characters flagged as escaped or not.
    fn from_chars(chars: impl Iterator<Item = (char, bool)>) -> Template {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = chars.peekable();
        while let Some((c, escaped)) = chars.next() {
            match (c, escaped) {
                ('{', false) => {
                    if chars.next_if(|&next| next == ('}', false)).is_none() {
                        return Template::Malformed;
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder);
                }
                ('}', false) => return Template::Malformed,
                _ => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Template::Pieces(pieces)
    }

    /// How many placeholders the template has (`None` when malformed).
    pub(crate) fn placeholders(&self) -> Option<usize> {
        match self {
            Template::Pieces(pieces) => {
                Some(pieces.iter().filter(|p| **p == Piece::Placeholder).count())
            }
            Template::Malformed => None,
        }
    }
}

impl Node {
    pub(crate) fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        for arg in &self.args {
            match arg {
                Arg::Path(p) => out.push(p),
                Arg::Call(node) => node.collect_paths(out),
                Arg::Literal(_) | Arg::String(_) => {}
            }
        }
    }
}

/// Parses a whole call; surrounding whitespace is allowed, anything else after the call is not.
pub(crate) fn parse(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser { text, pos: 0 };
    parser.skip_whitespace();
    if !parser.rest().starts_with("States.") {
        return Err(parser.error("an intrinsic function call must start with 'States.'"));
    }
    let node = parser.call(1)?;
    parser.skip_whitespace();
    if parser.pos < text.len() {
        return Err(parser.error(format!(
            "unexpected text after the closing parenthesis: '{}'",
            parser.rest()
        )));
    }
    Ok(node)
}

struct Parser<'t> {
    text: &'t str,
    /// Byte offset of the next unread character.
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            message: format!("{} (at offset {pos})", message.into()),
        }
    }

    /// `States.Name(args)`; the cursor is at `States.`. `depth` is this call's nesting level.
    fn call(&mut self, depth: usize) -> Result<Node, ParseError> {
        let start = self.pos;
        if depth > MAX_NESTING {
            return Err(self.error(format!(
                "intrinsic functions can be nested at most {MAX_NESTING} deep"
            )));
        }
        self.pos += "States.".len();
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.bump();
        }
        let name = &self.text[start..self.pos];
        let function = Function::from_name(name)
            .ok_or_else(|| self.error_at(start, format!("unknown intrinsic function '{name}'")))?;
        if self.peek() != Some('(') {
            return Err(self.error(format!("expected '(' after '{name}'")));
        }
        self.bump();
        let mut args = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(')') {
            self.bump();
            return Ok(Node { function, args });
        }
        loop {
            self.skip_whitespace();
            args.push(self.arg(depth)?);
            self.skip_whitespace();
            match self.bump() {
                Some(',') => continue,
                Some(')') => return Ok(Node { function, args }),
                Some(c) => {
                    return Err(self.error_at(
                        self.pos - c.len_utf8(),
                        format!("expected ',' or ')' in the arguments of {name}, found '{c}'"),
                    ));
                }
                None => return Err(self.error(format!("missing ')' to close {name}("))),
            }
        }
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, ParseError> {
        match self.peek() {
            Some('\'') => self.string().map(Arg::String),
            Some('$') => self.path().map(|p| Arg::Path(Box::new(p))),
            Some('-' | '0'..='9') => self.number().map(Arg::Literal),
            Some(_) if self.rest().starts_with("States.") => self.call(depth + 1).map(Arg::Call),
            Some(',' | ')') | None => Err(self.error("missing argument")),
            Some(_) => {
                for (word, value) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.rest().starts_with(word) && self.at_arg_end(self.pos + word.len()) {
                        self.pos += word.len();
                        return Ok(Arg::Literal(value));
                    }
                }
                let word: String = self
                    .rest()
                    .chars()
                    .take_while(|c| !matches!(c, ',' | ')') && !c.is_whitespace())
                    .collect();
                Err(self.error(format!(
                    "invalid argument '{word}': expected a 'quoted string', a number, true, false, null, a path starting with '$' or an intrinsic function"
                )))
            }
        }
    }

    /// True when `pos` is where an argument may end: whitespace, `,`, `)` or the end.
    fn at_arg_end(&self, pos: usize) -> bool {
        self.text[pos..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || matches!(c, ',' | ')'))
    }

    /// A quoted string; the cursor is at the opening quote.
    fn string(&mut self) -> Result<StringLiteral, ParseError> {
        let start = self.pos;
        self.bump();
        let mut chars = Vec::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(self.error_at(start, "unterminated string literal")),
                Some('\'') => break,
                Some('\\') => match self.bump() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => chars.push((c, true)),
                    Some(c) => {
                        return Err(self.error_at(
                            at,
                            format!(
                                "invalid escape sequence '\\{c}' in a string literal: only \\', \\{{, \\}} and \\\\ are allowed"
                            ),
                        ));
                    }
                    None => return Err(self.error_at(start, "unterminated string literal")),
                },
                Some(c) => chars.push((c, false)),
            }
        }
        let value = chars.iter().map(|&(c, _)| c).collect();
        let template = Template::from_chars(chars.into_iter());
        Ok(StringLiteral { value, template })
    }

    /// A JSON number; the cursor is at `-` or a digit.
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        let digits = |mut i: usize| {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        if bytes.get(end) == Some(&b'-') {
            end += 1;
        }
        let int_start = end;
        end = digits(end);
        let int_digits = &self.text[int_start..end];
        let valid_int =
            int_digits == "0" || (!int_digits.is_empty() && !int_digits.starts_with('0'));
        let mut valid = valid_int;
        if bytes.get(end) == Some(&b'.') {
            let frac_start = end + 1;
            end = digits(frac_start);
            valid &= end > frac_start;
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            end += 1;
            if matches!(bytes.get(end), Some(b'+' | b'-')) {
                end += 1;
            }
            let exp_start = end;
            end = digits(exp_start);
            valid &= end > exp_start;
        }
        if !valid || !self.at_arg_end(end) {
            let word: String = self.text[start..]
                .chars()
                .take_while(|c| !matches!(c, ',' | ')') && !c.is_whitespace())
                .collect();
            return Err(self.error_at(start, format!("invalid number '{word}'")));
        }
        let value = serde_json::from_str(&self.text[start..end]).map_err(|e| {
            self.error_at(
                start,
                format!("invalid number '{}': {e}", &self.text[start..end]),
            )
        })?;
        self.pos = end;
        Ok(value)
    }

    /// A path; the cursor is at `$`. The path runs to the next `,` or `)` that is outside
    /// quotes, brackets and parentheses.
    fn path(&mut self) -> Result<Path, ParseError> {
        let start = self.pos;
        // Closers still expected, innermost last.
        let mut open: Vec<char> = Vec::new();
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            if let Some(q) = quote {
                self.bump();
                if c == '\\' {
                    self.bump();
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '\'' | '"' => quote = Some(c),
                '[' => open.push(']'),
                '(' => open.push(')'),
                ']' | ')' if open.last() == Some(&c) => {
                    open.pop();
                }
                ',' | ')' if open.is_empty() => break,
                _ => {}
            }
            self.bump();
        }
        if quote.is_some() || !open.is_empty() {
            return Err(self.error_at(start, "unterminated path argument"));
        }
        let text = self.text[start..self.pos].trim_end();
        Path::parse(text)
            .map_err(|e| self.error_at(start, format!("invalid path argument '{text}': {e}")))
    }
}
