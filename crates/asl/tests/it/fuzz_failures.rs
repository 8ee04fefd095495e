//! Replays the inputs in `test_data/fuzz-failures/` (inputs that once crashed the fuzz target in
//! `crates/asl/fuzz`, plus a few hand-made hard cases) through `StateMachine::from_text`, and
//! runs a small deterministic mutation pass over the valid examples through the same entry
//! point: the oracle is "does not panic", since fuzzers are not run on every push.

use baton_asl::{StateMachine, validate};

use crate::{crate_dir, files, shared_dir};

#[test]
fn fuzz_failures_do_not_panic() {
    let dir = crate_dir().join("test_data/fuzz-failures");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|e| e.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    assert!(!entries.is_empty(), "no inputs in {}", dir.display());
    for path in entries {
        let bytes = std::fs::read(&path).expect("readable input");
        // The fuzz target only feeds valid UTF-8 to `from_text`.
        if let Ok(text) = std::str::from_utf8(&bytes) {
            check(text);
        }
    }
}

/// The fuzz target's oracle: no panic, and what the validator accepts also builds.
fn check(text: &str) {
    let diagnostics = validate::check_text(text, &validate::Options::default());
    let built = StateMachine::from_text(text);
    if diagnostics.is_empty() {
        assert!(
            built.is_ok(),
            "validated but did not build: {text}\n{:?}",
            built.err()
        );
    }
}

/// A tiny linear congruential generator: reproducible mutations without a dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn mutated_definitions_do_not_panic() {
    let alphabet = b"{}[]\":,.$ 0-9aZ{%}States.Format('')";
    let mut rng = Lcg(42);
    let mut checked = 0;
    // `BATON_FUZZ_ITERATIONS=100000 cargo test ... mutated` runs a longer campaign locally.
    let iterations: usize = std::env::var("BATON_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for original in seeds() {
        for _ in 0..iterations {
            let mut bytes = original.clone();
            for _ in 0..(1 + rng.next() % 4) {
                if bytes.is_empty() {
                    break;
                }
                let at = (rng.next() as usize) % bytes.len();
                match rng.next() % 3 {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, alphabet[(rng.next() as usize) % alphabet.len()]),
                    _ => bytes[at] = alphabet[(rng.next() as usize) % alphabet.len()],
                }
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                check(text);
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}

/// The valid examples, plus every tenth definition AWS ran when `shared/` is present.
fn seeds() -> Vec<Vec<u8>> {
    let dir = crate_dir().join("test_data/validate/ok");
    let mut out: Vec<Vec<u8>> = files(&dir, "json")
        .iter()
        .map(|p| std::fs::read(p).expect("readable case"))
        .collect();
    if let Some(shared) = shared_dir() {
        let mut cases = Vec::new();
        let categories = std::fs::read_dir(shared.join("conformance/cases"));
        for category in categories.into_iter().flatten().flatten() {
            cases.extend(files(&category.path(), "json"));
        }
        cases.sort();
        for path in cases.iter().step_by(10) {
            let text = std::fs::read_to_string(path).expect("readable case");
            let case: serde_json::Value = serde_json::from_str(&text).expect("case is JSON");
            if case["kind"] == "execution" {
                out.push(serde_json::to_vec(&case["definition"]).expect("serializable"));
            }
        }
    }
    out
}
