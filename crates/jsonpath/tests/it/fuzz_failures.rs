//! Replays every input in `tests/fuzz-failures/` (inputs that once crashed the fuzzer, or
//! were written by hand to stress the parser) through parse and select: none may panic.

use std::path::PathBuf;

use baton_jsonpath::Path;
use serde_json::json;

/// The document the fuzz target selects on; keep in step with `fuzz/fuzz_targets/parse_select.rs`.
fn document() -> serde_json::Value {
    json!({
        "store": {"book": [{"title": "A", "price": 8.95, "tags": ["x", "y"]}, {"title": "B", "price": 12}],
                  "bicycle": {"color": "red"}},
        "nums": [1, 2, 3], "s": "10", "n": null, "m": [[1, 2], [3, {"a": 1}]]
    })
}

#[test]
fn fuzz_failures_do_not_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-failures");
    let document = document();
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz-failures exists") {
        let file = entry.expect("readable directory entry").path();
        if file.extension().is_some_and(|ext| ext == "md") {
            continue;
        }
        let bytes = std::fs::read(&file).expect("readable fuzz input");
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(path) = Path::parse(&text) {
            let _ = path.select(&document);
            let _ = path.select_ref(&document);
            let _ = path.normalized();
            let _ = path.set(document.clone(), json!(1));
        }
        replayed += 1;
    }
    assert!(replayed > 0, "no inputs in {}", dir.display());
}
