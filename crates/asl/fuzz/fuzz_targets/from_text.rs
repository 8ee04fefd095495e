//! Fuzz target: validate and build a state machine from arbitrary text. The oracle is "never
//! panics", and a definition the validator accepts must also build (the interpreter relies on
//! that). Crashing inputs go to `../test_data/fuzz-failures/`.
#![no_main]

use baton_asl::{StateMachine, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let diagnostics = validate::check_text(text, &validate::Options::default());
    let built = StateMachine::from_text(text);
    if diagnostics.is_empty() {
        assert!(
            built.is_ok(),
            "validated but did not build: {:?}",
            built.err()
        );
    }
    // Rendering never fails either.
    let _ = validate::invalid_definition_message(&diagnostics);
    let _ = validate::validation_result(&diagnostics, &validate::ResultOptions::default());
});
