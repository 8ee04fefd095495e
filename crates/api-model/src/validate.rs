//! Request checks that AWS makes before touching any resource: names (`InvalidName`), JSON
//! payloads (`InvalidExecutionInput`, `InvalidOutput`, the 256 KiB limit) and page sizes.

use serde_json::Value;

use crate::error::{ApiError, ErrorCode};

/// The largest payload (input, output) AWS accepts, in bytes of UTF-8.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// The longest name AWS accepts, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// The page size when `maxResults` is absent or 0.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The largest `maxResults` AWS accepts.
pub const MAX_PAGE_SIZE: i64 = 1000;

/// Whether `name` follows AWS's rules for state machine, execution, activity, alias names:
/// 1 to 80 characters, no white space, no brackets `< > { } [ ]`, no wildcards `? *`, none of
/// `" # % \ ^ | ~ ` $ & , ; : /`, no control characters (U+0000-001F, U+007F-009F) and no
/// non-characters U+FFFE-FFFF.
pub fn is_valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&count) && name.chars().all(is_name_char)
}

fn is_name_char(c: char) -> bool {
    !(c.is_whitespace()
        || matches!(
            c,
            '<' | '>'
                | '{'
                | '}'
                | '['
                | ']'
                | '?'
                | '*'
                | '"'
                | '#'
                | '%'
                | '\\'
                | '^'
                | '|'
                | '~'
                | '`'
                | '$'
                | '&'
                | ','
                | ';'
                | ':'
                | '/'
                | '\u{0}'..='\u{1f}'
                | '\u{7f}'..='\u{9f}'
                | '\u{fffe}'
                | '\u{ffff}'
        ))
}

/// Checks a name, returning AWS's `InvalidName`.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::invalid_name(name))
    }
}

/// Parses an execution input: absent means `{}`; longer than 256 KiB is a
/// `ValidationException`; text that is not JSON is `InvalidExecutionInput`.
pub fn parse_input(text: Option<&str>) -> Result<Value, ApiError> {
    let Some(text) = text else {
        return Ok(Value::Object(Default::default()));
    };
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::too_long("input", MAX_PAYLOAD_BYTES));
    }
    serde_json::from_str(text).map_err(|err| {
        ApiError::new(
            ErrorCode::InvalidExecutionInput,
            format!("Invalid State Machine Execution Input: '{err}'"),
        )
    })
}

/// Parses a task output from `SendTaskSuccess`: longer than 256 KiB is a
/// `ValidationException`; text that is not JSON is `InvalidOutput`.
pub fn parse_output(text: &str) -> Result<Value, ApiError> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::too_long("output", MAX_PAYLOAD_BYTES));
    }
    serde_json::from_str(text)
        .map_err(|err| ApiError::new(ErrorCode::InvalidOutput, format!("Invalid Output: '{err}'")))
}

/// Checks an optional string member's length (`error`, `cause`, `description`, ...).
pub fn check_length(member: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    match value {
        Some(text) if text.chars().count() > max => Err(ApiError::too_long(member, max)),
        _ => Ok(()),
    }
}

/// The page size for `maxResults`: 0 or absent is [`DEFAULT_PAGE_SIZE`]; outside 0..=1000 is a
/// `ValidationException`.
pub fn page_size(max_results: Option<i64>) -> Result<usize, ApiError> {
    match max_results {
        None | Some(0) => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n < 0 => Err(ApiError::invalid_member(
            "maxResults",
            n,
            "Member must have value greater than or equal to 0",
        )),
        Some(n) if n > MAX_PAGE_SIZE => Err(ApiError::invalid_member(
            "maxResults",
            n,
            "Member must have value less than or equal to 1000",
        )),
        Some(n) => Ok(n as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let ok = [
            "a",
            "order-processing-workflow",
            "run_1.2(3)",
            "ünïcödé",
            "x".repeat(80).leak(),
            "'quoted'",
            "a!b@c=d+e",
        ];
        for name in ok {
            assert!(is_valid_name(name), "{name:?} should be valid");
        }
        let bad = [
            "",
            "a b",
            "a\tb",
            "a<b",
            "a>b",
            "a{b",
            "a}b",
            "a[b",
            "a]b",
            "a?b",
            "a*b",
            "a\"b",
            "a#b",
            "a%b",
            "a\\b",
            "a^b",
            "a|b",
            "a~b",
            "a`b",
            "a$b",
            "a&b",
            "a,b",
            "a;b",
            "a:b",
            "a/b",
            "a\u{1}b",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{fffe}b",
            "a\u{a0}b",
            "x".repeat(81).leak(),
        ];
        for name in bad {
            assert!(!is_valid_name(name), "{name:?} should be invalid");
        }
        assert_eq!(
            check_name("a b").unwrap_err().message,
            "Invalid Name: 'a b'"
        );
    }

    #[test]
    fn inputs() {
        assert_eq!(parse_input(None).unwrap(), serde_json::json!({}));
        assert_eq!(
            parse_input(Some("[1, 2]")).unwrap(),
            serde_json::json!([1, 2])
        );
        assert_eq!(parse_input(Some("\"s\"")).unwrap(), serde_json::json!("s"));
        let err = parse_input(Some("{not json")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidExecutionInput);
        assert!(
            err.message
                .starts_with("Invalid State Machine Execution Input: '")
        );
        let big = format!("\"{}\"", "x".repeat(MAX_PAYLOAD_BYTES));
        assert_eq!(
            parse_input(Some(&big)).unwrap_err().code,
            ErrorCode::ValidationException
        );
        let just_fits = format!("\"{}\"", "x".repeat(MAX_PAYLOAD_BYTES - 2));
        assert!(parse_input(Some(&just_fits)).is_ok());
        assert_eq!(
            parse_output("nope").unwrap_err().code,
            ErrorCode::InvalidOutput
        );
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None).unwrap(), 100);
        assert_eq!(page_size(Some(0)).unwrap(), 100);
        assert_eq!(page_size(Some(7)).unwrap(), 7);
        assert_eq!(page_size(Some(1000)).unwrap(), 1000);
        assert_eq!(
            page_size(Some(1001)).unwrap_err().code,
            ErrorCode::ValidationException
        );
        assert_eq!(
            page_size(Some(-1)).unwrap_err().code,
            ErrorCode::ValidationException
        );
    }
}
