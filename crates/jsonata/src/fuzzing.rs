//! The fuzzing entry point, shared by the cargo-fuzz target (`fuzz/`) and the replay test
//! of saved failures (`tests/fuzz_failures.rs`).

use serde_json::{Value, json};

use crate::{Bindings, Expression, Limits, Options};

/// Compiles `data` as an expression and evaluates it under tight limits. `data` is the
/// expression text, optionally followed by a NUL byte and a JSON input (bound as
/// `$states.input` and as the context); without one a small order document is used.
/// Panics only if the engine panics, or if an evaluation ignores its step budget (returns
/// after using more steps than it may), which is what the fuzzer looks for.
pub fn compile_and_evaluate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expression, input) = match text.split_once('\0') {
        Some((expression, input)) => match serde_json::from_str::<Value>(input) {
            Ok(input) => (expression, input),
            Err(_) => return,
        },
        None => (text, sample_input()),
    };
    let Ok(compiled) = Expression::compile(expression) else {
        return;
    };
    let bindings = Bindings {
        vars: vec![("states".to_owned(), json!({ "input": input.clone() }))],
    };
    let options = Options {
        limits: Limits {
            max_depth: 300,
            max_steps: 200_000,
            max_sequence_length: 100_000,
            max_string_length: 1 << 20,
            max_result_depth: 1_000,
        },
        now_millis: Some(1_795_237_541_006),
    };
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state
    };
    let _ = compiled.evaluate_with(Some(&input), &bindings, &options, &mut random);
}

fn sample_input() -> Value {
    json!({
        "order_id": "ord-1",
        "items": [
            { "sku": "a", "price": 12.5, "qty": 2, "tags": ["x", "y"] },
            { "sku": "b", "price": 3, "qty": 1, "tags": [] },
            { "sku": "c", "price": null, "qty": 0 }
        ],
        "customer": { "name": "Ada", "address": { "city": "London" } },
        "flag": true,
        "text": "The quick brown fox"
    })
}
