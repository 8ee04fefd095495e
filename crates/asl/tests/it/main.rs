//! The `baton-asl` integration tests: one binary, one module per feature.

mod conformance;
mod data;
mod fuzz_failures;
mod seeds;

use std::path::{Path, PathBuf};

use baton_asl::{Diagnostic, Severity};

/// The crate's own folder.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `shared/` beside the repository, when present (it is not part of the project).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = crate_dir().join("../../../shared");
    dir.is_dir().then_some(dir)
}

/// The files directly inside `dir` with extension `ext`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == ext));
    out.sort();
    out
}

/// One diagnostic per line: `CODE location: message` (newlines escaped); warnings
/// start with `WARNING`.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let severity = if d.severity == Severity::Warning {
                "WARNING "
            } else {
                ""
            };
            let message = d.message.replace('\n', "\\n");
            let location = d.location.replace('\n', "\\n");
            format!("{severity}{} {location}: {message}\n", d.code)
        })
        .collect()
}
