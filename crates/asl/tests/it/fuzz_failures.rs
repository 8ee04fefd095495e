//! Replays the inputs in `test_data/fuzz-failures/` (inputs that once crashed the fuzz target in
//! `crates/asl/fuzz`, plus a few hand-made hard cases) through `StateMachine::from_text`, and
//! runs a small deterministic mutation pass over the valid examples through the validator: the
//! oracle is "does not panic", since fuzzers are not run on every push.

use baton_asl::StateMachine;
use baton_asl::validate::{self, Options};

use crate::{crate_dir, files};

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
            let _ = StateMachine::from_text(text);
        }
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
fn mutated_definitions_do_not_panic_the_validator() {
    let dir = crate_dir().join("test_data/validate/ok");
    let alphabet = b"{}[]\":,.$ 0-9aZ{%}States.Format('')";
    let mut rng = Lcg(42);
    let mut checked = 0;
    for path in files(&dir, "json") {
        let original = std::fs::read(&path).expect("readable case");
        for _ in 0..200 {
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
                let _ = validate::check_text(text, &Options::default());
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}
