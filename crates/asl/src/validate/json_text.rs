//! Reading definition text as JSON, and describing syntax errors the way AWS does.
//!
//! AWS parses definitions with Jackson and returns Jackson's message as the
//! `INVALID_JSON_DESCRIPTION` diagnostic, with the `[Source: ...; line: L, column: C]` part as
//! its location. [`parse`] reproduces the common messages (unrecognized tokens, unexpected
//! characters, unexpected end of input). Like Jackson's `readTree`, it ignores anything after
//! the first complete value.

use serde_json::Value;

use super::Diagnostic;

/// Jackson's limit on how much of the source it quotes.
const SOURCE_LIMIT: usize = 500;

/// Jackson's default limit on nesting.
const MAX_DEPTH: usize = 1000;

/// Parses `text`, or returns its first syntax error as an `INVALID_JSON_DESCRIPTION` diagnostic.
pub(crate) fn parse(text: &str) -> Result<Value, Diagnostic> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let serde_error = match values.next() {
        Some(Ok(value)) => return Ok(value),
        Some(Err(e)) => Some(e),
        None => None,
    };
    let (message, offset) = match Scanner::new(text).document() {
        Err(found) => found,
        // Our scanner accepted what serde_json refused (an edge case of numbers or escapes):
        // fall back to serde_json's description and position.
        Ok(()) => {
            let (line, column) = serde_error
                .as_ref()
                .map(|e| (e.line(), e.column()))
                .unwrap_or((1, 0));
            let message = serde_error.map(|e| e.to_string()).unwrap_or_default();
            let location = source_location(text, line, column);
            return Err(Diagnostic::error(
                "INVALID_JSON_DESCRIPTION",
                format!("{message}\n at {location}"),
                location,
            ));
        }
    };
    let (line, column) = line_column(text, offset);
    let location = source_location(text, line, column);
    Err(Diagnostic::error(
        "INVALID_JSON_DESCRIPTION",
        format!("{message}\n at {location}"),
        location,
    ))
}

/// `[Source: (String)"..."; line: 1, column: 4]`.
fn source_location(text: &str, line: usize, column: usize) -> String {
    let count = text.chars().count();
    let quoted: String = text.chars().take(SOURCE_LIMIT).collect();
    let truncated = if count > SOURCE_LIMIT {
        format!("[truncated {} chars]", count - SOURCE_LIMIT)
    } else {
        String::new()
    };
    format!("[Source: (String)\"{quoted}\"{truncated}; line: {line}, column: {column}]")
}

/// The 1-based line and Jackson's column for a character offset (the column after the
/// characters consumed so far on that line, counting from 1).
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in text.chars().take(offset) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Describes a character as Jackson does: `'x' (code 120)`.
fn describe(c: char) -> String {
    if (c as u32) < 32 {
        format!("(CTRL-CHAR, code {})", c as u32)
    } else {
        format!("'{c}' (code {})", c as u32)
    }
}

const VALUE_EXPECTED: &str =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/// A minimal JSON syntax checker that stops at the first error, reporting Jackson's message
/// and the offset (in characters) Jackson's column is computed from.
struct Scanner {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

type Found = (String, usize);

impl Scanner {
    fn new(text: &str) -> Self {
        Scanner {
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
        }
    }

    fn document(&mut self) -> Result<(), Found> {
        self.skip_spaces();
        if self.pos == self.chars.len() {
            return Err(("No content to map due to end-of-input".to_owned(), self.pos));
        }
        self.value()
    }

    fn skip_spaces(&mut self) {
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            self.pos += 1;
        }
    }

    fn eof(&self, open: Option<(&str, usize)>) -> Found {
        match open {
            Some((what, start)) => {
                let text: String = self.chars.iter().collect();
                let (line, column) = line_column(&text, start);
                let marker = source_location(&text, line, column);
                let marker = marker.trim_start_matches('[').trim_end_matches(']');
                (
                    format!(
                        "Unexpected end-of-input: expected close marker for {what} (start marker at [{marker}])"
                    ),
                    self.pos,
                )
            }
            None => ("Unexpected end-of-input".to_owned(), self.pos),
        }
    }

    fn value(&mut self) -> Result<(), Found> {
        let Some(&c) = self.chars.get(self.pos) else {
            return Err(("Unexpected end-of-input".to_owned(), self.pos));
        };
        match c {
            '{' | '[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    let message = format!(
                        "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)",
                        self.depth
                    );
                    return Err((message, self.pos + 1));
                }
                let result = if c == '{' {
                    self.object()
                } else {
                    self.array()
                };
                self.depth -= 1;
                result
            }
            '"' => self.string(),
            '-' | '0'..='9' => self.number(),
            c if c.is_alphabetic() => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    self.pos += 1;
                }
                let token: String = self.chars[start..self.pos].iter().collect();
                if matches!(token.as_str(), "true" | "false" | "null") {
                    Ok(())
                } else {
                    Err((
                        format!("Unrecognized token '{token}': was expecting {VALUE_EXPECTED}"),
                        self.pos,
                    ))
                }
            }
            ']' | '}' => Err((
                format!("Unexpected character ({}): expected a value", describe(c)),
                self.pos + 1,
            )),
            c => Err((
                format!(
                    "Unexpected character ({}): expected a valid value {VALUE_EXPECTED}",
                    describe(c)
                ),
                self.pos + 1,
            )),
        }
    }

    fn object(&mut self) -> Result<(), Found> {
        let start = self.pos;
        self.pos += 1;
        let mut first = true;
        loop {
            self.skip_spaces();
            let Some(&c) = self.chars.get(self.pos) else {
                return Err(self.eof(Some(("Object", start))));
            };
            if c == '}' && first {
                self.pos += 1;
                break;
            }
            if c != '"' {
                let message = format!(
                    "Unexpected character ({}): was expecting double-quote to start field name",
                    describe(c)
                );
                return Err((message, self.pos + 1));
            }
            self.string()?;
            self.skip_spaces();
            match self.chars.get(self.pos) {
                None => return Err(self.eof(Some(("Object", start)))),
                Some(':') => self.pos += 1,
                Some(&c) => {
                    let message = format!(
                        "Unexpected character ({}): was expecting a colon to separate field name and value",
                        describe(c)
                    );
                    return Err((message, self.pos + 1));
                }
            }
            self.skip_spaces();
            if self.pos == self.chars.len() {
                return Err(self.eof(Some(("Object", start))));
            }
            self.value()?;
            self.skip_spaces();
            match self.chars.get(self.pos) {
                None => return Err(self.eof(Some(("Object", start)))),
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some(&c) => {
                    let message = format!(
                        "Unexpected character ({}): was expecting comma to separate Object entries",
                        describe(c)
                    );
                    return Err((message, self.pos + 1));
                }
            }
            first = false;
        }
        Ok(())
    }

    fn array(&mut self) -> Result<(), Found> {
        let start = self.pos;
        self.pos += 1;
        let mut first = true;
        loop {
            self.skip_spaces();
            let Some(&c) = self.chars.get(self.pos) else {
                return Err(self.eof(Some(("Array", start))));
            };
            if c == ']' && first {
                self.pos += 1;
                return Ok(());
            }
            self.value()?;
            self.skip_spaces();
            match self.chars.get(self.pos) {
                None => return Err(self.eof(Some(("Array", start)))),
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(&c) => {
                    let message = format!(
                        "Unexpected character ({}): was expecting comma to separate Array entries",
                        describe(c)
                    );
                    return Err((message, self.pos + 1));
                }
            }
            first = false;
        }
    }

    fn string(&mut self) -> Result<(), Found> {
        self.pos += 1;
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return Err((
                    "Unexpected end-of-input: was expecting closing quote for a string value"
                        .to_owned(),
                    self.pos,
                ));
            };
            self.pos += 1;
            match c {
                '"' => return Ok(()),
                '\\' => {
                    let Some(&escaped) = self.chars.get(self.pos) else {
                        continue;
                    };
                    self.pos += 1;
                    if !matches!(
                        escaped,
                        '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | 'u'
                    ) {
                        let message =
                            format!("Unrecognized character escape {}", describe(escaped));
                        return Err((message, self.pos));
                    }
                }
                c if (c as u32) < 32 => {
                    let message = format!(
                        "Illegal unquoted character ({}): has to be escaped using backslash to be included in string value",
                        describe(c)
                    );
                    return Err((message, self.pos));
                }
                _ => {}
            }
        }
    }

    fn number(&mut self) -> Result<(), Found> {
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        Ok(())
    }
}

/// `DUPLICATE_STATE_NAME` for every state name written twice in one `States` object, which a
/// JSON reader would otherwise silently collapse into the last one. `text` must hold valid
/// JSON (only its first value is read).
pub(crate) fn duplicate_state_names(text: &str) -> Vec<Diagnostic> {
    let mut walker = Walker {
        bytes: text.as_bytes(),
        text,
        pos: 0,
        found: Vec::new(),
    };
    let mut path = Vec::new();
    walker.skip_spaces();
    walker.value(&mut path);
    walker.found
}

/// A location step: an object key or an array index.
enum Step {
    Key(String),
    Index(usize),
}

fn location(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                out.push('/');
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Walks valid JSON text, tracking the location of each value.
struct Walker<'t> {
    bytes: &'t [u8],
    text: &'t str,
    pos: usize,
    found: Vec<Diagnostic>,
}

impl Walker<'_> {
    fn skip_spaces(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    /// Reads a string literal and returns its decoded value.
    fn string(&mut self) -> String {
        let start = self.pos;
        self.pos += 1;
        while let Some(&b) = self.bytes.get(self.pos) {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'"' => break,
                _ => {}
            }
        }
        let raw = self
            .text
            .get(start..self.pos.min(self.text.len()))
            .unwrap_or_default();
        serde_json::from_str(raw).unwrap_or_default()
    }

    fn value(&mut self, path: &mut Vec<Step>) {
        if path.len() > 256 {
            return;
        }
        match self.bytes.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let is_states = matches!(path.last(), Some(Step::Key(k)) if k == "States");
                let mut keys = std::collections::HashSet::new();
                loop {
                    self.skip_spaces();
                    match self.bytes.get(self.pos) {
                        Some(b'"') => {}
                        Some(b'}') | None => {
                            self.pos += 1;
                            return;
                        }
                        Some(_) => {
                            self.pos += 1;
                            continue;
                        }
                    }
                    let key = self.string();
                    self.skip_spaces();
                    self.pos += 1; // ':'
                    self.skip_spaces();
                    path.push(Step::Key(key.clone()));
                    if is_states && !keys.insert(key.clone()) {
                        self.found.push(Diagnostic::error(
                            "DUPLICATE_STATE_NAME",
                            format!("Duplicate State name: {key}"),
                            location(path),
                        ));
                    }
                    self.value(path);
                    path.pop();
                    self.skip_spaces();
                    if self.bytes.get(self.pos) == Some(&b',') {
                        self.pos += 1;
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut index = 0;
                loop {
                    self.skip_spaces();
                    match self.bytes.get(self.pos) {
                        Some(b']') | None => {
                            self.pos += 1;
                            return;
                        }
                        Some(b',') => {
                            self.pos += 1;
                            continue;
                        }
                        Some(_) => {}
                    }
                    path.push(Step::Index(index));
                    let before = self.pos;
                    self.value(path);
                    path.pop();
                    if self.pos == before {
                        // Never stall, whatever the text holds.
                        self.pos += 1;
                    }
                    index += 1;
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
            }
            None => {}
        }
    }
}
