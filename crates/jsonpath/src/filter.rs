//! Filter expressions (`[?(...)]`): parsing and evaluation with Jayway's operators and its
//! loose comparison rules.
//!
//! Grammar (Jayway groups `&&` and `||` right to left with equal precedence, so
//! `a && b || c` means `a && (b || c)`; we do the same):
//!
//! ```text
//! expr     := unary (('&&' | '||') expr)?
//! unary    := '!' unary | '(' expr ')' | relation
//! relation := operand (operator operand)?      -- a lone path is an existence check
//! operand  := '@'path | '$'path | 'str' | "str" | number | true | false | null
//!           | [json] | {json} | /regex/flags
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;

use regex::Regex;
use serde_json::{Map, Number, Value};

use crate::ParseError;
use crate::eval;
use crate::parse::{MAX_DEPTH, Mode, Parser, Segment, is_definite};

/// A parsed filter expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Exists(PathOperand),
    Compare(Operand, Op, Operand),
}

/// `@...` (relative to the item being filtered) or `$...` (relative to the document root).
#[derive(Debug, Clone)]
pub(crate) struct PathOperand {
    from_root: bool,
    segments: Vec<Segment>,
    definite: bool,
}

/// One side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Path(PathOperand),
    Literal(Value),
    Regex(Box<Regex>),
}

/// Jayway's relational operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    TypeSafeEq,
    TypeSafeNe,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Contains,
    All,
    Size,
    Empty,
}

/// What an operand evaluates to for one item.
enum Operated<'a> {
    Undefined,
    Value(Cow<'a, Value>),
    Regex(&'a Regex),
}

impl Expr {
    /// Whether `item` passes the filter; `root` is the document `$` refers to.
    pub(crate) fn test(&self, item: &Value, root: &Value) -> bool {
        match self {
            Expr::And(left, right) => left.test(item, root) && right.test(item, root),
            Expr::Or(left, right) => left.test(item, root) || right.test(item, root),
            Expr::Not(inner) => !inner.test(item, root),
            Expr::Exists(path) => {
                let start = if path.from_root { root } else { item };
                !eval::evaluate(&path.segments, start).is_empty()
            }
            Expr::Compare(left, op, right) => {
                let left = operate(left, item, root);
                let right = operate(right, item, root);
                compare(&left, *op, &right)
            }
        }
    }
}

fn operate<'a>(operand: &'a Operand, item: &'a Value, root: &'a Value) -> Operated<'a> {
    match operand {
        Operand::Literal(value) => Operated::Value(Cow::Borrowed(value)),
        Operand::Regex(regex) => Operated::Regex(regex),
        Operand::Path(path) => {
            let start = if path.from_root { root } else { item };
            let mut hits = eval::evaluate(&path.segments, start);
            if path.definite {
                match hits.pop() {
                    Some(hit) if hits.is_empty() => Operated::Value(hit),
                    _ => Operated::Undefined,
                }
            } else {
                Operated::Value(Cow::Owned(Value::Array(
                    hits.into_iter().map(Cow::into_owned).collect(),
                )))
            }
        }
    }
}

fn compare(left: &Operated<'_>, op: Op, right: &Operated<'_>) -> bool {
    use Operated::Value as V;
    match op {
        Op::Eq => loose_eq(left, right),
        Op::Ne => !loose_eq(left, right),
        Op::TypeSafeEq => same_kind(left, right) && loose_eq(left, right),
        Op::TypeSafeNe => !(same_kind(left, right) && loose_eq(left, right)),
        Op::Lt => order(left, right).is_some_and(Ordering::is_lt),
        Op::Le => order(left, right).is_some_and(Ordering::is_le),
        Op::Gt => order(left, right).is_some_and(Ordering::is_gt),
        Op::Ge => order(left, right).is_some_and(Ordering::is_ge),
        Op::Regex => match (left, right) {
            (Operated::Regex(regex), other) | (other, Operated::Regex(regex)) => {
                regex_matches(regex, other)
            }
            _ => false,
        },
        Op::In => contained_in(left, right),
        Op::Nin => !contained_in(left, right),
        Op::SubsetOf => match (left, right) {
            (V(l), V(r)) => match (l.as_ref(), r.as_ref()) {
                (Value::Array(l), Value::Array(r)) => l.iter().all(|x| list_contains(r, x)),
                _ => false,
            },
            _ => false,
        },
        Op::AnyOf => match (left, right) {
            (V(l), V(r)) => match (l.as_ref(), r.as_ref()) {
                (Value::Array(l), Value::Array(r)) => l.iter().any(|x| list_contains(r, x)),
                _ => false,
            },
            _ => false,
        },
        Op::NoneOf => match (left, right) {
            (V(l), V(r)) => match (l.as_ref(), r.as_ref()) {
                (Value::Array(l), Value::Array(r)) => !l.iter().any(|x| list_contains(r, x)),
                _ => false,
            },
            _ => false,
        },
        Op::Contains => match (left, right) {
            (V(l), V(r)) => match (l.as_ref(), r.as_ref()) {
                (Value::String(l), Value::String(r)) => l.contains(r.as_str()),
                (Value::Array(l), r) => list_contains(l, r),
                _ => false,
            },
            _ => false,
        },
        Op::All => match (left, right) {
            (V(l), V(r)) => match (l.as_ref(), r.as_ref()) {
                (Value::Array(l), Value::Array(r)) => r.iter().all(|x| list_contains(l, x)),
                _ => false,
            },
            _ => false,
        },
        Op::Size => match (left, right) {
            (V(l), V(r)) => {
                let Some(expected) = r.as_ref().as_f64().map(|n| n.trunc()) else {
                    return false;
                };
                let actual = match l.as_ref() {
                    Value::String(s) => s.encode_utf16().count(),
                    Value::Array(a) => a.len(),
                    Value::Object(o) => o.len(),
                    _ => return false,
                };
                actual as f64 == expected
            }
            _ => false,
        },
        Op::Empty => match (left, right) {
            (V(l), V(r)) => {
                let Some(expected) = r.as_ref().as_bool() else {
                    return false;
                };
                match l.as_ref() {
                    Value::String(s) => s.is_empty() == expected,
                    Value::Array(a) => a.is_empty() == expected,
                    Value::Object(o) => o.is_empty() == expected,
                    _ => false,
                }
            }
            _ => false,
        },
    }
}

/// Jayway's `==`: numbers compare by value; a number equals a string holding the same number
/// (from the number's side), a string equals a number whose text it is (from the string's
/// side); objects and arrays compare deeply; an undefined operand equals nothing.
fn loose_eq(left: &Operated<'_>, right: &Operated<'_>) -> bool {
    match (left, right) {
        (Operated::Value(l), Operated::Value(r)) => value_eq(l, r),
        _ => false,
    }
}

fn value_eq(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => number_cmp(l, r) == Some(Ordering::Equal),
        (Value::Number(l), Value::String(r)) => r
            .trim()
            .parse::<Number>()
            .ok()
            .is_some_and(|r| number_cmp(l, &r) == Some(Ordering::Equal)),
        (Value::String(l), Value::Number(r)) => *l == r.to_string(),
        (Value::Array(_) | Value::Object(_), Value::Array(_) | Value::Object(_)) => {
            json_eq(left, right)
        }
        _ => left == right,
    }
}

/// Structural equality where `1` equals `1.0` and key order does not matter.
fn json_eq(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => number_cmp(l, r) == Some(Ordering::Equal),
        (Value::Array(l), Value::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(l), Value::Object(r)) => {
            l.len() == r.len()
                && l.iter()
                    .all(|(k, v)| r.get(k).is_some_and(|other| json_eq(v, other)))
        }
        _ => left == right,
    }
}

fn same_kind(left: &Operated<'_>, right: &Operated<'_>) -> bool {
    let kind = |v: &Value| match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) | Value::Object(_) => 4,
    };
    match (left, right) {
        (Operated::Value(l), Operated::Value(r)) => kind(l) == kind(r),
        _ => false,
    }
}

/// Jayway's ordering: numbers by value, strings by UTF-16 code units, and a string against a
/// number by comparing the string with the number's text. Anything else is unordered.
fn order(left: &Operated<'_>, right: &Operated<'_>) -> Option<Ordering> {
    let (Operated::Value(l), Operated::Value(r)) = (left, right) else {
        return None;
    };
    match (l.as_ref(), r.as_ref()) {
        (Value::Number(l), Value::Number(r)) => number_cmp(l, r),
        (Value::String(l), Value::String(r)) => Some(l.encode_utf16().cmp(r.encode_utf16())),
        (Value::String(l), Value::Number(r)) => {
            Some(l.encode_utf16().cmp(r.to_string().encode_utf16()))
        }
        (Value::Number(l), Value::String(r)) => {
            Some(l.to_string().encode_utf16().cmp(r.encode_utf16()))
        }
        _ => None,
    }
}

/// Compares two JSON numbers exactly when both are integers, else as doubles.
pub(crate) fn number_cmp(left: &Number, right: &Number) -> Option<Ordering> {
    if let (Some(l), Some(r)) = (as_i128(left), as_i128(right)) {
        return Some(l.cmp(&r));
    }
    left.as_f64()?.partial_cmp(&right.as_f64()?)
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// `in`: the right side must be an array holding something equal to the left side.
fn contained_in(left: &Operated<'_>, right: &Operated<'_>) -> bool {
    match (left, right) {
        (Operated::Value(l), Operated::Value(r)) => match r.as_ref() {
            Value::Array(list) => list_contains(list, l),
            _ => false,
        },
        _ => false,
    }
}

/// Jayway asks each list element whether it equals the needle (the element is on the left).
fn list_contains(list: &[Value], needle: &Value) -> bool {
    list.iter().any(|element| value_eq(element, needle))
}

fn regex_matches(regex: &Regex, subject: &Operated<'_>) -> bool {
    let text = |v: &Value| -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => String::new(),
        }
    };
    match subject {
        Operated::Value(v) => match v.as_ref() {
            Value::Array(items) => items.iter().any(|item| regex.is_match(&text(item))),
            other => regex.is_match(&text(other)),
        },
        Operated::Undefined => regex.is_match(""),
        Operated::Regex(_) => false,
    }
}

impl Parser<'_> {
    /// Parses `(...)` after `[?`; stops right after the last token (no trailing whitespace).
    pub(crate) fn filter_expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("filter nests too deeply"));
        }
        let left = self.unary(depth)?;
        let before = self.pos;
        self.skip_ws();
        if self.text[self.pos..].starts_with("&&") {
            self.pos += 2;
            let right = self.filter_expr(depth + 1)?;
            return Ok(Expr::And(Box::new(left), Box::new(right)));
        }
        if self.text[self.pos..].starts_with("||") {
            self.pos += 2;
            let right = self.filter_expr(depth + 1)?;
            return Ok(Expr::Or(Box::new(left), Box::new(right)));
        }
        self.pos = before;
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("filter nests too deeply"));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'!') => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary(depth + 1)?)))
            }
            Some(b'(') => {
                self.pos += 1;
                let inner = self.filter_expr(depth + 1)?;
                self.skip_ws();
                if !self.eat(b')') {
                    return Err(self.fail("expected ')' in filter"));
                }
                Ok(inner)
            }
            _ => self.relation(depth),
        }
    }

    fn relation(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let left = self.operand(depth)?;
        let before = self.pos;
        self.skip_ws();
        let ends = match self.peek() {
            None | Some(b')') => true,
            Some(_) => {
                self.text[self.pos..].starts_with("&&") || self.text[self.pos..].starts_with("||")
            }
        };
        if ends {
            self.pos = before;
            return match left {
                Operand::Path(path) => Ok(Expr::Exists(path)),
                _ => Err(self.fail("expected an operator after a literal in filter")),
            };
        }
        let op = self.operator()?;
        self.skip_ws();
        let right = self.operand(depth)?;
        Ok(Expr::Compare(left, op, right))
    }

    fn operator(&mut self) -> Result<Op, ParseError> {
        let start = self.pos;
        let symbolic = |c: u8| matches!(c, b'<' | b'>' | b'=' | b'!' | b'~');
        if self.peek().is_some_and(symbolic) {
            while self.peek().is_some_and(symbolic) {
                self.pos += 1;
            }
        } else {
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.pos += 1;
            }
        }
        let word = self.text[start..self.pos].to_ascii_lowercase();
        let op = match word.as_str() {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "===" => Op::TypeSafeEq,
            "!==" => Op::TypeSafeNe,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "=~" => Op::Regex,
            "in" => Op::In,
            "nin" => Op::Nin,
            "subsetof" => Op::SubsetOf,
            "anyof" => Op::AnyOf,
            "noneof" => Op::NoneOf,
            "contains" => Op::Contains,
            "all" => Op::All,
            "size" => Op::Size,
            "empty" => Op::Empty,
            _ => {
                self.pos = start;
                return Err(self.fail("expected a filter operator"));
            }
        };
        Ok(op)
    }

    fn operand(&mut self, depth: usize) -> Result<Operand, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(b'@') => {
                self.pos += 1;
                self.path_operand(false, depth)
            }
            Some(b'$') => {
                self.pos += 1;
                if self.peek().is_some_and(|c| c != b'.' && c != b'[') && !self.at_operand_end() {
                    return Err(self.fail(
                        "only '$' and '@' paths may appear in a filter, not '$$' or variables",
                    ));
                }
                self.path_operand(true, depth)
            }
            Some(b'/') => self.regex_literal(),
            Some(_) => Ok(Operand::Literal(self.json_literal(depth)?)),
            None => Err(self.fail("expected a value in filter")),
        }
    }

    fn at_operand_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(
                b' ' | b'\t'
                    | b'\n'
                    | b'\r'
                    | b')'
                    | b'<'
                    | b'>'
                    | b'='
                    | b'!'
                    | b'~'
                    | b'&'
                    | b'|'
            )
        )
    }

    fn path_operand(&mut self, from_root: bool, depth: usize) -> Result<Operand, ParseError> {
        let segments = self.segments(Mode::Filter, depth)?;
        let definite = is_definite(&segments);
        Ok(Operand::Path(PathOperand {
            from_root,
            segments,
            definite,
        }))
    }

    /// `/pattern/flags`. Jayway uses Java's `matches()`, so the whole subject must match.
    fn regex_literal(&mut self) -> Result<Operand, ParseError> {
        self.expect(b'/')?;
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.fail("unclosed regular expression")),
                Some(b'\\') => {
                    self.pos += 1;
                    if let Some(c) = self.peek_char() {
                        self.pos += c.len_utf8();
                    }
                }
                Some(b'/') => break,
                Some(_) => {
                    let c = self.peek_char().unwrap_or('\0');
                    self.pos += c.len_utf8().max(1);
                }
            }
        }
        let pattern = &self.text[start..self.pos];
        self.pos += 1;
        let mut builder_flags = String::new();
        while let Some(c) = self.peek() {
            match c {
                b'i' | b'm' | b's' | b'x' => {
                    builder_flags.push(c as char);
                    self.pos += 1;
                }
                b'u' | b'd' => self.pos += 1,
                _ => break,
            }
        }
        let flags = if builder_flags.is_empty() {
            String::new()
        } else {
            format!("(?{builder_flags})")
        };
        let full = format!("{flags}^(?:{pattern})$");
        let regex = regex::RegexBuilder::new(&full)
            .size_limit(1 << 20)
            .nest_limit(64)
            .build()
            .map_err(|e| {
                crate::parse::error(format!(
                    "Invalid path '{}': bad regular expression /{pattern}/: {e}",
                    self.text
                ))
            })?;
        Ok(Operand::Regex(Box::new(regex)))
    }

    /// A literal: strings in either quote, numbers, `true`, `false`, `null`, and JSON arrays
    /// and objects (whose strings may also use single quotes, as Jayway's parser allows).
    fn json_literal(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("literal nests too deeply"));
        }
        self.skip_ws();
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => self.string_literal(q).map(Value::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.eat(b']') {
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.json_literal(depth + 1)?);
                    self.skip_ws();
                    if self.eat(b',') {
                        continue;
                    }
                    self.expect(b']')?;
                    return Ok(Value::Array(items));
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Map::new();
                self.skip_ws();
                if self.eat(b'}') {
                    return Ok(Value::Object(members));
                }
                loop {
                    self.skip_ws();
                    let key = match self.peek() {
                        Some(q @ (b'\'' | b'"')) => self.string_literal(q)?,
                        _ => return Err(self.fail("expected a quoted key")),
                    };
                    self.skip_ws();
                    self.expect(b':')?;
                    let value = self.json_literal(depth + 1)?;
                    members.insert(key, value);
                    self.skip_ws();
                    if self.eat(b',') {
                        continue;
                    }
                    self.expect(b'}')?;
                    return Ok(Value::Object(members));
                }
            }
            Some(b't') if self.text[self.pos..].starts_with("true") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.text[self.pos..].starts_with("false") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            Some(b'n') if self.text[self.pos..].starts_with("null") => {
                self.pos += 4;
                Ok(Value::Null)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    self.pos += 1;
                }
                let text = &self.text[start..self.pos];
                match serde_json::from_str::<Number>(text) {
                    Ok(number) => Ok(Value::Number(number)),
                    Err(_) => {
                        self.pos = start;
                        Err(self.fail(&format!("bad number '{text}'")))
                    }
                }
            }
            _ => Err(self.fail("expected a value in filter")),
        }
    }

    /// A quoted string with the usual backslash escapes.
    fn string_literal(&mut self, quote: u8) -> Result<String, ParseError> {
        self.expect(quote)?;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                return Err(self.fail("unclosed string in filter"));
            };
            self.pos += c.len_utf8();
            if c as u32 == u32::from(quote) {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(escaped) = self.peek_char() else {
                return Err(self.fail("unclosed string in filter"));
            };
            self.pos += escaped.len_utf8();
            match escaped {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch)
                            if hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
                        {
                            out.push(ch);
                            self.pos += 4;
                        }
                        _ => out.push('u'),
                    }
                }
                other => out.push(other),
            }
        }
    }
}
