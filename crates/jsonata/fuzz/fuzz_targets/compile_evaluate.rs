//! Fuzz target: compile and evaluate an arbitrary expression (optionally followed by a NUL
//! byte and a JSON input) under tight limits. The oracle is "never panics, never hangs" (see
//! `baton_jsonata::fuzzing`). Crashing inputs go to `../tests/fuzz-failures/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    baton_jsonata::fuzzing::compile_and_evaluate(data);
});
