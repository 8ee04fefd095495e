//! Path text to segments: the roots (`$`, `$$`, `$name`) and Jayway's token syntax.
//!
//! The parser works on bytes and only ever splits the text at ASCII characters, so every slice
//! it takes is valid UTF-8. Filter expressions (`[?(...)]`) are parsed by `filter.rs` through
//! the same [`Parser`], since their operands are paths again.

use std::fmt::Write as _;

use crate::filter::Expr;
use crate::{ParseError, Root};

/// How deeply filters, parentheses and JSON literals may nest. Bounds recursion so that no
/// input can overflow the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// One step of a path.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// `.name`, `['name']` or `["name"]`.
    Name(String, Quote),
    /// `['a','b']`: as the last segment the matches merge into one object (Jayway).
    Names(Vec<String>, Quote),
    /// `[0]`, `[-1]`.
    Index(i64),
    /// `[0,1]`.
    Indexes(Vec<i64>),
    /// `[start:end:step]`.
    Slice(Slice),
    /// `.*` or `[*]`.
    Wildcard,
    /// `..`: applies the following segment at every depth.
    Scan,
    /// `[?(...)]`.
    Filter(Box<Expr>),
}

/// The quote a bracketed name used; Jayway's normalized form repeats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quote {
    Single,
    Double,
}

/// An array slice; absent bounds default as in Python.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slice {
    pub(crate) start: Option<i64>,
    pub(crate) end: Option<i64>,
    pub(crate) step: Option<i64>,
}

/// Where a path is being read: at the top level or as an operand inside a filter, where a
/// dot-name also ends at whitespace, an operator or a closing parenthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Top,
    Filter,
}

/// Parses a whole path text into its root and segments.
pub(crate) fn parse_path(text: &str) -> Result<(Root, Vec<Segment>), ParseError> {
    let trimmed = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    let mut parser = Parser::new(trimmed);
    if !parser.eat(b'$') {
        return Err(error(format!(
            "Invalid path '{text}': a path must start with '$'"
        )));
    }
    let root = if parser.eat(b'$') {
        Root::Context
    } else if parser.peek().is_some_and(|c| c != b'.' && c != b'[') {
        Root::Variable(parser.variable_name()?)
    } else {
        Root::Input
    };
    let segments = parser.segments(Mode::Top, 0)?;
    if let Some(c) = parser.peek_char() {
        return Err(parser.fail(&format!("unexpected character '{c}'")));
    }
    Ok((root, segments))
}

/// True when the segments can match at most one value (Jayway's `isDefinite`): names and
/// single indexes, plus a multi-name bracket as the last segment (its matches merge).
pub(crate) fn is_definite(segments: &[Segment]) -> bool {
    let last = segments.len().saturating_sub(1);
    segments
        .iter()
        .enumerate()
        .all(|(i, segment)| match segment {
            Segment::Name(..) | Segment::Index(_) => true,
            Segment::Names(..) => i == last,
            _ => false,
        })
}

impl Segment {
    /// Appends Jayway's rendering of this segment (`['a']`, `[0]`, `[*]`, `..`, `[?]`).
    pub(crate) fn write_normalized(&self, out: &mut String) {
        match self {
            Segment::Name(name, quote) => write_names(out, std::slice::from_ref(name), *quote),
            Segment::Names(names, quote) => write_names(out, names, *quote),
            Segment::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Indexes(indexes) => {
                out.push('[');
                for (i, index) in indexes.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{index}");
                }
                out.push(']');
            }
            Segment::Slice(slice) => {
                out.push('[');
                if let Some(start) = slice.start {
                    let _ = write!(out, "{start}");
                }
                out.push(':');
                if let Some(end) = slice.end {
                    let _ = write!(out, "{end}");
                }
                if let Some(step) = slice.step {
                    let _ = write!(out, ":{step}");
                }
                out.push(']');
            }
            Segment::Wildcard => out.push_str("[*]"),
            Segment::Scan => out.push_str(".."),
            Segment::Filter(_) => out.push_str("[?]"),
        }
    }
}

fn write_names(out: &mut String, names: &[String], quote: Quote) {
    let q = match quote {
        Quote::Single => '\'',
        Quote::Double => '"',
    };
    out.push('[');
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push(q);
        out.push_str(name);
        out.push(q);
    }
    out.push(']');
}

pub(crate) fn error(message: String) -> ParseError {
    ParseError { message }
}

/// A cursor over path text.
pub(crate) struct Parser<'t> {
    pub(crate) text: &'t str,
    pub(crate) pos: usize,
}

impl<'t> Parser<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Parser { text, pos: 0 }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, offset: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + offset).copied()
    }

    pub(crate) fn peek_char(&self) -> Option<char> {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    pub(crate) fn expect(&mut self, c: u8) -> Result<(), ParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.fail(&format!("expected '{}'", c as char)))
        }
    }

    /// An error naming the position (in characters, counted from 0) and the path text.
    pub(crate) fn fail(&self, what: &str) -> ParseError {
        let at = self.text.get(..self.pos).map_or(0, |s| s.chars().count());
        match self.peek_char() {
            Some(_) => error(format!(
                "Invalid path '{}': {what} at position {at}",
                self.text
            )),
            None => error(format!(
                "Invalid path '{}': {what} at the end of the path",
                self.text
            )),
        }
    }

    /// `$name`: a workflow variable's name (letters, digits and `_`).
    fn variable_name(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            if c == '.' || c == '[' {
                break;
            }
            if !(c.is_alphanumeric() || c == '_') {
                return Err(self.fail(&format!("invalid character '{c}' in a variable name")));
            }
            self.pos += c.len_utf8();
        }
        Ok(self.text[start..self.pos].to_owned())
    }

    /// Reads segments until the text (top level) or the operand (filter) ends.
    pub(crate) fn segments(
        &mut self,
        mode: Mode,
        depth: usize,
    ) -> Result<Vec<Segment>, ParseError> {
        let mut segments = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    if self.peek_at(1) == Some(b'.') {
                        self.pos += 2;
                        segments.push(Segment::Scan);
                        match self.peek() {
                            Some(b'[') => segments.push(self.bracket(depth)?),
                            Some(b'*') => {
                                self.pos += 1;
                                segments.push(Segment::Wildcard);
                            }
                            Some(b'.') => return Err(self.fail("unexpected '.'")),
                            _ => segments.push(self.dot_name(mode)?),
                        }
                    } else {
                        self.pos += 1;
                        match self.peek() {
                            None => return Err(self.fail("a path must not end with '.'")),
                            Some(b'[') => segments.push(self.bracket(depth)?),
                            Some(b'*') => {
                                self.pos += 1;
                                segments.push(Segment::Wildcard);
                            }
                            _ => segments.push(self.dot_name(mode)?),
                        }
                    }
                }
                Some(b'[') => segments.push(self.bracket(depth)?),
                _ => return Ok(segments),
            }
        }
    }

    /// A name after `.`: everything up to the next `.` or `[` (so `detail-type` is one name).
    fn dot_name(&mut self, mode: Mode) -> Result<Segment, ParseError> {
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            match c {
                '.' | '[' => break,
                ' ' | '\t' | '\n' | '\r' | ')' | '<' | '>' | '=' | '!' | '~' | '&' | '|' | ','
                    if mode == Mode::Filter =>
                {
                    break;
                }
                ' ' | '\t' | '\n' | '\r' => {
                    return Err(self.fail(
                        "whitespace in a name (use bracket notation ['my name'] for such names)",
                    ));
                }
                // AWS does not run Jayway's path functions: `$.Jobs.sum()` is accepted and
                // then fails at run time as a missing member named `sum()`. So parentheses are
                // name characters; inside a filter only an empty pair is (`@.length()`).
                '(' if mode == Mode::Filter => {
                    if self.peek_at(1) != Some(b')') {
                        return Err(self.fail("unexpected '(' in a filter path"));
                    }
                    self.pos += 2;
                }
                ']' => return Err(self.fail("unexpected ']'")),
                _ => self.pos += c.len_utf8(),
            }
        }
        if self.pos == start {
            return Err(self.fail("expected a name"));
        }
        Ok(Segment::Name(
            self.text[start..self.pos].to_owned(),
            Quote::Single,
        ))
    }

    /// A bracketed segment, starting at `[`.
    fn bracket(&mut self, depth: usize) -> Result<Segment, ParseError> {
        self.expect(b'[')?;
        self.skip_ws();
        let segment = match self.peek() {
            Some(b'\'' | b'"') => self.quoted_names()?,
            Some(b'*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() != Some(b'(') {
                    return Err(self.fail("a filter must look like [?(...)]"));
                }
                if depth >= MAX_DEPTH {
                    return Err(self.fail("filters nest too deeply"));
                }
                let expr = self.filter_expr(depth + 1)?;
                if self.text.as_bytes().get(self.pos.wrapping_sub(1)) != Some(&b')') {
                    return Err(self.fail("a filter must look like [?(...)]"));
                }
                Segment::Filter(Box::new(expr))
            }
            Some(b'0'..=b'9' | b'-' | b':') => self.indexes()?,
            Some(b']') => return Err(self.fail("empty brackets")),
            None => return Err(self.fail("unclosed '['")),
            Some(_) => {
                return Err(self.fail("expected a quoted name, an index, '*' or '?' after '['"));
            }
        };
        self.skip_ws();
        if !self.eat(b']') {
            return Err(if self.peek().is_none() {
                self.fail("unclosed '['")
            } else {
                self.fail("expected ']'")
            });
        }
        Ok(segment)
    }

    /// `'a'`, `'a','b'` (either quote). A backslash keeps the next character from ending the
    /// name, but stays in the name: AWS matched the key `Test\""Name"` with `['Test\""Name"']`.
    fn quoted_names(&mut self) -> Result<Segment, ParseError> {
        let mut names = Vec::new();
        let mut first_quote = None;
        loop {
            let quote = match self.peek() {
                Some(q @ (b'\'' | b'"')) => q,
                _ => return Err(self.fail("expected a quoted name")),
            };
            first_quote.get_or_insert(quote);
            self.pos += 1;
            let start = self.pos;
            loop {
                match self.peek() {
                    None => return Err(self.fail("unclosed quoted name")),
                    Some(b'\\') => {
                        self.pos += 1;
                        if let Some(c) = self.peek_char() {
                            self.pos += c.len_utf8();
                        }
                    }
                    Some(c) if c == quote => break,
                    Some(_) => {
                        let c = self.peek_char().unwrap_or('\0');
                        self.pos += c.len_utf8().max(1);
                    }
                }
            }
            names.push(self.text[start..self.pos].to_owned());
            self.pos += 1;
            self.skip_ws();
            if self.eat(b',') {
                self.skip_ws();
                continue;
            }
            break;
        }
        let quote = if first_quote == Some(b'"') {
            Quote::Double
        } else {
            Quote::Single
        };
        Ok(if names.len() == 1 {
            Segment::Name(names.pop().unwrap_or_default(), quote)
        } else {
            Segment::Names(names, quote)
        })
    }

    /// `0`, `-1`, `0,1`, `1:3`, `::2` up to (not including) `]`.
    fn indexes(&mut self) -> Result<Segment, ParseError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b'0'..=b'9' | b'-' | b':' | b',' | b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
        let body = &self.text[start..self.pos];
        if self.peek() != Some(b']') {
            return Err(if self.peek().is_none() {
                self.fail("unclosed '['")
            } else {
                self.fail("expected a digit, '-', ':', ',' or ']'")
            });
        }
        let number = |part: &str| -> Result<Option<i64>, ParseError> {
            let part = part.trim();
            if part.is_empty() {
                return Ok(None);
            }
            part.parse::<i64>()
                .map(Some)
                .map_err(|_| error(format!("Invalid path '{}': bad index '{part}'", self.text)))
        };
        if body.contains(':') {
            if body.contains(',') {
                return Err(self.fail("a slice cannot be part of a union"));
            }
            let parts: Vec<&str> = body.split(':').collect();
            if parts.len() > 3 {
                return Err(self.fail("a slice has at most three parts"));
            }
            return Ok(Segment::Slice(Slice {
                start: number(parts[0])?,
                end: number(parts[1])?,
                step: match parts.get(2) {
                    Some(part) => number(part)?,
                    None => None,
                },
            }));
        }
        let mut indexes = Vec::new();
        for part in body.split(',') {
            match number(part)? {
                Some(index) => indexes.push(index),
                None => return Err(self.fail("empty index in a union")),
            }
        }
        Ok(if indexes.len() == 1 {
            Segment::Index(indexes[0])
        } else {
            Segment::Indexes(indexes)
        })
    }
}
