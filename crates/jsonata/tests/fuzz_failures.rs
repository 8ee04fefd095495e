//! Replays every saved fuzz input in `tests/fuzz-failures/` (inputs that once crashed or hung
//! the engine, and hand-written hard cases) through the fuzz target's entry point: each must
//! now run to completion without panicking, within the fuzz limits.

use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn saved_fuzz_inputs_do_not_panic_or_hang() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-failures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fuzz-failures exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_none_or(|e| e != "md"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no saved fuzz inputs in {}",
        dir.display()
    );
    for path in paths {
        let data = std::fs::read(&path).expect("fuzz input is readable");
        let started = Instant::now();
        baton_jsonata::fuzzing::compile_and_evaluate(&data);
        // Generous for a debug build on a busy machine; the fuzz limits allow 200k steps.
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(30),
            "{} took {elapsed:?}",
            path.display()
        );
    }
}
