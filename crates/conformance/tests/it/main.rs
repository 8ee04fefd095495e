//! Runs the whole conformance harness in process and holds the engine to the pass count in
//! `crates/conformance/FLOOR` (raise it as the engine improves). Skips when the shared cases
//! (`../shared/conformance/cases` from the repository root) are absent.

use std::path::PathBuf;

use baton_conformance::harness::{self, Options};

#[test]
fn pass_count_is_at_least_the_floor() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cases = crate_dir.join("../../../shared/conformance/cases");
    if !cases.is_dir() {
        eprintln!("skipped: {} is absent", cases.display());
        return;
    }
    let floor_text = std::fs::read_to_string(crate_dir.join("FLOOR")).expect("FLOOR is readable");
    let floor: usize = floor_text.trim().parse().expect("FLOOR holds a number");

    // Engine panics are counted as failures; printing each one would only drown the summary.
    std::panic::set_hook(Box::new(|_| {}));
    let mut lines = Vec::new();
    let report = harness::run(&cases, &Options::default(), &mut lines).expect("cases load");
    let _ = std::panic::take_hook();
    report.write_summary(&mut lines).expect("write to memory");
    let text = String::from_utf8_lossy(&lines);
    let counts = report.counts();
    assert!(
        counts.passed + counts.failed + counts.skipped > 400,
        "too few cases found under {}",
        cases.display()
    );
    assert!(
        counts.passed >= floor,
        "conformance fell below the floor: {} passed < {floor}\n{text}",
        counts.passed
    );
    eprintln!("{}", text.lines().last().unwrap_or_default());
}
