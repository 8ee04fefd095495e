//! JSONata expressions in JSONata states: each `{% %}` string must compile, and may not use
//! what Step Functions does not provide (`$$`, or `$states.errorOutput` outside a Catcher).

use serde_json::Value;

use super::Diagnostic;
use super::check::{Checker, jsonata_text};

/// Where an expression sits, for the references that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Anywhere in a state.
    State,
    /// Inside a Catcher's `Output` or `Assign`, where `$states.errorOutput` exists.
    Catcher,
}

impl Checker<'_> {
    /// Checks the `{% %}` strings anywhere inside `value`.
    pub(crate) fn jsonata_value(&mut self, value: &Value, loc: &str, scope: Scope) {
        match value {
            Value::String(text) => {
                if let Some(expression) = jsonata_text(text) {
                    self.expression(expression.trim(), loc, scope);
                }
            }
            Value::Object(map) => {
                for (key, member) in map {
                    self.jsonata_value(member, &format!("{loc}/{key}"), scope);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.jsonata_value(item, &format!("{loc}[{i}]"), scope);
                }
            }
            _ => {}
        }
    }

    fn expression(&mut self, expression: &str, loc: &str, scope: Scope) {
        if let Err(e) = baton_jsonata::Expression::compile(expression) {
            let message = symbols(&e.message);
            self.diagnostics.push(Diagnostic::error(
                "INVALID_JSONATA_EXPRESSION",
                message,
                loc,
            ));
            return;
        }
        let code = outside_strings(expression);
        if code.contains("$$") {
            self.diagnostics.push(Diagnostic::error(
                "UNSUPPORTED_JSONATA_EXPRESSION",
                "Reference to '$$' is not supported.",
                loc,
            ));
        }
        if scope != Scope::Catcher && mentions_error_output(&code) {
            self.diagnostics.push(Diagnostic::error(
                "UNSUPPORTED_JSONATA_EXPRESSION",
                "Field '$states.errorOutput' does not exist.",
                loc,
            ));
        }
    }
}

/// Whether the code reads `$states.errorOutput` (and not a longer name).
pub(crate) fn mentions_error_output(code: &str) -> bool {
    let needle = "$states.errorOutput";
    code.match_indices(needle).any(|(i, _)| {
        code[i + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// The expression with string literals and comments blanked out, so that text inside them is
/// not mistaken for code.
pub(crate) fn outside_strings(expression: &str) -> String {
    let mut out = String::with_capacity(expression.len());
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                out.push(' ');
                while let Some(inner) = chars.next() {
                    if inner == '\\' {
                        chars.next();
                    } else if inner == c {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                out.push(' ');
                let mut previous = ' ';
                for inner in chars.by_ref() {
                    if previous == '*' && inner == '/' {
                        break;
                    }
                    previous = inner;
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The parser names tokens by their kind (`Expected RightBracket, got Comma`); jsonata-js,
/// which AWS runs, quotes the symbol (`Expected "]", got ","`).
pub(crate) fn symbols(message: &str) -> String {
    const NAMES: [(&str, &str); 33] = [
        ("Plus", "+"),
        ("Minus", "-"),
        ("Star", "*"),
        ("StarStar", "**"),
        ("Slash", "/"),
        ("Percent", "%"),
        ("Equal", "="),
        ("NotEqual", "!="),
        ("LessThan", "<"),
        ("LessThanOrEqual", "<="),
        ("GreaterThan", ">"),
        ("GreaterThanOrEqual", ">="),
        ("And", "and"),
        ("Or", "or"),
        ("In", "in"),
        ("Ampersand", "&"),
        ("Dot", "."),
        ("DotDot", ".."),
        ("Question", "?"),
        ("QuestionQuestion", "??"),
        ("QuestionColon", "?:"),
        ("Colon", ":"),
        ("ColonEqual", ":="),
        ("TildeArrow", "~>"),
        ("LeftParen", "("),
        ("RightParen", ")"),
        ("LeftBracket", "["),
        ("RightBracket", "]"),
        ("LeftBrace", "{"),
        ("RightBrace", "}"),
        ("Comma", ","),
        ("Semicolon", ";"),
        ("Caret", "^"),
    ];
    let name = |token: &str| -> String {
        match NAMES.iter().find(|(n, _)| *n == token) {
            Some((_, symbol)) => format!("\"{symbol}\""),
            None => token.to_owned(),
        }
    };
    if let Some(rest) = message.strip_prefix("Expected ") {
        if let Some((expected, got)) = rest.split_once(", got ") {
            return format!("Expected {}, got {}", name(expected), name(got));
        }
        if let Some(expected) = rest.strip_suffix(" before end of expression") {
            return format!("Expected {} before end of expression", name(expected));
        }
    }
    if let Some(token) = message
        .strip_prefix("The symbol ")
        .and_then(|m| m.strip_suffix(" cannot be used as a unary operator"))
    {
        return format!(
            "The symbol {} cannot be used as a unary operator",
            name(token)
        );
    }
    message.to_owned()
}
