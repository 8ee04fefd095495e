//! Fuzz target: parse arbitrary text as a path and run it against a fixed document. The
//! oracle is "never panics"; crashing inputs go to `../tests/fuzz-failures/`.
#![no_main]

use baton_jsonpath::Path;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Keep in step with `tests/it/fuzz_failures.rs`.
fn document() -> Value {
    json!({
        "store": {"book": [{"title": "A", "price": 8.95, "tags": ["x", "y"]}, {"title": "B", "price": 12}],
                  "bicycle": {"color": "red"}},
        "nums": [1, 2, 3], "s": "10", "n": null, "m": [[1, 2], [3, {"a": 1}]]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = Path::parse(text) else {
        return;
    };
    let document = document();
    let selected = path.select(&document);
    // A reference path's borrowed result must agree with the cloned one.
    if let Some(by_ref) = path.select_ref(&document) {
        assert_eq!(Ok(by_ref.clone()), selected.clone().map_err(|_| ()));
    }
    // The normalized form of a path without filters parses again to the same form.
    let normalized = path.normalized();
    if !normalized.contains("[?]")
        && let Ok(again) = Path::parse(&normalized)
    {
        assert_eq!(again.normalized(), normalized);
    }
    let _ = path.set(document, json!({"written": true}));
});
