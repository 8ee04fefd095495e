//! Path-like strings of JSONPath states: JSONPaths, reference paths and intrinsic function
//! calls.
//!
//! The validator accepts exactly what the engine can run: a path is valid when
//! [`baton_jsonpath::Path::parse`] accepts it and an intrinsic call when
//! [`baton_intrinsics::Call::parse`] does, so a definition that passes validation never fails
//! later when the typed model is built. Both parsers follow the Jayway dialect AWS runs; their
//! documented differences from it (for example, Jayway's path functions such as `.length()`
//! are not supported) therefore show up here as definition errors.

use baton_intrinsics::Call;
use baton_jsonpath::{Path, Root};

/// Whether `text` is a JSONPath as ASL accepts it: `$`, `$$` or `$name`, then any segments.
pub(crate) fn is_path(text: &str) -> bool {
    Path::parse(text).is_ok()
}

/// Whether `text` is a reference path: a path that names one node, using only `.name`,
/// `['name']` and `[index]` steps. `allow_context` admits `$$` and `$name` roots.
pub(crate) fn is_reference_path(text: &str, allow_context: bool) -> bool {
    match Path::parse(text) {
        Ok(path) => path.is_reference() && (allow_context || *path.root() == Root::Input),
        Err(_) => false,
    }
}

/// Whether `text` looks like an intrinsic function call (`States.` prefix).
pub(crate) fn looks_intrinsic(text: &str) -> bool {
    text.starts_with("States.")
}

/// Whether `text` is a well-formed intrinsic function call such as
/// `States.Format('Hello {}', $.name)`.
pub(crate) fn is_intrinsic(text: &str) -> bool {
    Call::parse(text).is_ok()
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
            // AWS reads a function-looking name as a member name.
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
