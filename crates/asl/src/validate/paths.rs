//! Syntax checks for the path-like strings of JSONPath states: JSONPaths, reference paths and
//! intrinsic function calls.
//!
//! The validator only needs a yes/no answer with AWS's wording, so these checks are small
//! scanners that accept everything Jayway (the JSONPath dialect AWS runs) accepts that we have
//! seen in real definitions, and reject the shapes AWS rejects at `CreateStateMachine` time.
//! When in doubt they accept: a false positive blocks a working definition, a false negative
//! only moves the error to run time, where the interpreter reports it as `States.Runtime`.

/// Intrinsic functions AWS knows, by name after `States.`.
const INTRINSICS: [&str; 18] = [
    "Format",
    "StringToJson",
    "JsonToString",
    "Array",
    "ArrayPartition",
    "ArrayContains",
    "ArrayRange",
    "ArrayGetItem",
    "ArrayLength",
    "ArrayUnique",
    "Base64Encode",
    "Base64Decode",
    "Hash",
    "JsonMerge",
    "MathRandom",
    "MathAdd",
    "StringSplit",
    "UUID",
];

/// Whether `text` is a JSONPath as ASL accepts it: `$`, `$$` or `$name`, then any segments.
pub(crate) fn is_path(text: &str) -> bool {
    let Some(rest) = root(text) else {
        return false;
    };
    segments(rest, false)
}

/// Whether `text` is a reference path: a path that names one node, using only `.name`,
/// `['name']` and `[index]` steps. `allow_context` admits `$$` and `$name` roots.
pub(crate) fn is_reference_path(text: &str, allow_context: bool) -> bool {
    let Some(rest) = root(text) else {
        return false;
    };
    if !allow_context && text.len() - rest.len() != 1 {
        return false;
    }
    segments(rest, true)
}

/// Whether `text` looks like an intrinsic function call (`States.` prefix).
pub(crate) fn looks_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

/// Whether `text` is a well-formed intrinsic function call such as
/// `States.Format('Hello {}', $.name)`.
pub(crate) fn is_intrinsic(text: &str) -> bool {
    let mut scanner = Scanner {
        chars: text.trim().chars().collect(),
        pos: 0,
    };
    scanner.call() && scanner.at_end()
}

/// Strips the root (`$`, `$$` or `$name`) and returns the remaining segments.
fn root(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('$')?;
    if let Some(after) = rest.strip_prefix('$') {
        return Some(after);
    }
    let name_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[name_len..])
}

/// Checks the segments after the root. `reference` restricts them to reference-path steps.
fn segments(text: &str, reference: bool) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                if chars.get(i) == Some(&'.') {
                    if reference {
                        return false;
                    }
                    i += 1;
                    if chars.get(i) == Some(&'[') {
                        continue;
                    }
                }
                if chars.get(i) == Some(&'*') {
                    if reference {
                        return false;
                    }
                    i += 1;
                    continue;
                }
                let start = i;
                while i < chars.len() && !matches!(chars[i], '.' | '[' | ']' | '(' | ')') {
                    i += 1;
                }
                if i == start {
                    return false;
                }
                if chars.get(i) == Some(&'(') {
                    // A trailing function such as `.length()`.
                    if reference || chars.get(i + 1) != Some(&')') || i + 2 != chars.len() {
                        return false;
                    }
                    return true;
                }
                if chars.get(i) == Some(&']') || chars.get(i) == Some(&')') {
                    return false;
                }
            }
            '[' => {
                let Some(end) = bracket_end(&chars, i) else {
                    return false;
                };
                let inner: String = chars[i + 1..end].iter().collect();
                if !bracket_ok(inner.trim(), reference) {
                    return false;
                }
                i = end + 1;
            }
            _ => return false,
        }
    }
    true
}

/// The index of the `]` closing the bracket opened at `open`, skipping quoted strings and
/// nested brackets and parentheses (filters).
fn bracket_end(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\'' | '"' => i = string_end(chars, i)?,
            '[' | '(' => depth += 1,
            ']' | ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (chars[i] == ']').then_some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the quote closing the string opened at `open`.
fn string_end(chars: &[char], open: usize) -> Option<usize> {
    let quote = chars[open];
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            c if c == quote => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Checks what stands between `[` and `]`.
fn bracket_ok(inner: &str, reference: bool) -> bool {
    if inner.is_empty() {
        return false;
    }
    if inner.starts_with('?') {
        // A filter: `?(...)`. Its content is an expression we leave to the evaluator.
        return !reference
            && inner.trim_start_matches('?').trim_start().starts_with('(')
            && inner.ends_with(')');
    }
    if inner == "*" {
        return !reference;
    }
    let parts = split_top_level(inner);
    if reference && parts.len() != 1 {
        return false;
    }
    parts.iter().all(|part| {
        let part = part.trim();
        if part.starts_with('\'') || part.starts_with('"') {
            let chars: Vec<char> = part.chars().collect();
            return string_end(&chars, 0) == Some(chars.len() - 1) && chars.len() >= 2;
        }
        if reference {
            return !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
        }
        is_index_or_slice(part)
    })
}

/// Splits on commas outside quotes.
fn split_top_level(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\'' | '"' => {
                let end = string_end(&chars, i).unwrap_or(chars.len() - 1);
                current.extend(&chars[i..=end]);
                i = end;
            }
            ',' => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
        i += 1;
    }
    parts.push(current);
    parts
}

/// `3`, `-1`, `1:2`, `:2`, `1:`, `::2`.
fn is_index_or_slice(text: &str) -> bool {
    let pieces: Vec<&str> = text.split(':').collect();
    if pieces.len() > 3 {
        return false;
    }
    if pieces.len() == 1 && pieces[0].trim().is_empty() {
        return false;
    }
    pieces.iter().all(|p| {
        let p = p.trim();
        let digits = p.strip_prefix('-').unwrap_or(p);
        p.is_empty() || (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
    })
}

/// A small recursive-descent scanner for intrinsic function calls.
struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    fn at_end(&self) -> bool {
        self.pos == self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `States.Name(arg, ...)`.
    fn call(&mut self) -> bool {
        let prefix: Vec<char> = "States.".chars().collect();
        if !self.chars[self.pos..].starts_with(&prefix) {
            return false;
        }
        self.pos += prefix.len();
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if !INTRINSICS.contains(&name.as_str()) {
            return false;
        }
        self.skip_spaces();
        if !self.eat('(') {
            return false;
        }
        self.skip_spaces();
        if self.eat(')') {
            return true;
        }
        loop {
            self.skip_spaces();
            if !self.argument() {
                return false;
            }
            self.skip_spaces();
            if self.eat(')') {
                return true;
            }
            if !self.eat(',') {
                return false;
            }
        }
    }

    fn argument(&mut self) -> bool {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some('S') => self.call(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) => self.word(),
            None => false,
        }
    }

    fn string(&mut self) -> bool {
        match string_end(&self.chars, self.pos) {
            Some(end) => {
                self.pos = end + 1;
                true
            }
            None => false,
        }
    }

    fn number(&mut self) -> bool {
        let start = self.pos;
        self.eat('-');
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse::<f64>().is_ok()
    }

    /// `true`, `false`, `null`.
    fn word(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        matches!(text.as_str(), "true" | "false" | "null")
    }

    /// A path argument runs until a top-level `,` or `)`.
    fn path(&mut self) -> bool {
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                '\'' | '"' => match string_end(&self.chars, self.pos) {
                    Some(end) => self.pos = end,
                    None => return false,
                },
                '[' | '(' => depth += 1,
                ']' => match depth.checked_sub(1) {
                    Some(d) => depth = d,
                    None => return false,
                },
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                ',' if depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        is_path(text.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let ok = [
            "$",
            "$$",
            "$.a",
            "$.a.b",
            "$['a b']",
            "$.a[0]",
            "$.a[-1]",
            "$.a[1:2]",
            "$.a[*]",
            "$..a",
            "$.a.*",
            "$.detail-type",
            "$$.Execution.Input",
            "$$.Map.Item.Value",
            "$var",
            "$var.field[0]",
            "$.a[?(@.b == 'x')]",
            "$.a.length()",
            "$.a['b','c']",
            "$.a[0,1]",
        ];
        for p in ok {
            assert!(is_path(p), "{p} should be a path");
        }
        let bad = [
            "", "a", "$.", "$.a.", "$[", "$.a]", "$['a]", "$[]", "$.a[x]", ".a", "$.a..", "$ a",
        ];
        for p in bad {
            assert!(!is_path(p), "{p} should not be a path");
        }
    }

    #[test]
    fn reference_paths() {
        for p in ["$", "$.a", "$.a.b[0]", "$['a']", "$.a-b"] {
            assert!(is_reference_path(p, false), "{p}");
        }
        for p in [
            "$.a[*]",
            "$..a",
            "$.a[0,1]",
            "$.a[1:2]",
            "$.a.length()",
            "$$.a",
            "$.a[?(@.x)]",
            "$.*",
        ] {
            assert!(!is_reference_path(p, false), "{p}");
        }
        assert!(is_reference_path("$$.Execution.Input", true));
    }

    #[test]
    fn intrinsics() {
        let ok = [
            "States.Format('Hello {}', $.name)",
            "States.Array()",
            "States.Array(1, -2.5, true, null, 'x')",
            "States.JsonToString(States.StringToJson($.a))",
            "States.Format('it\\'s {}', $$.Execution.Id)",
            "States.ArrayGetItem($.a[0], 1)",
            "States.UUID()",
            "States.MathAdd($var, 1)",
        ];
        for c in ok {
            assert!(is_intrinsic(c), "{c}");
        }
        let bad = [
            "States.Nope(1)",
            "States.Format('x'",
            "States.Format('x',)",
            "States.Format('unterminated)",
            "States.Array(1 2)",
            "States.Array(1) extra",
            "States.Array(foo)",
        ];
        for c in bad {
            assert!(!is_intrinsic(c), "{c}");
        }
    }
}
