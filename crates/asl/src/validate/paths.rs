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
