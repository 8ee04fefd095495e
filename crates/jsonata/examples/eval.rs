//! Evaluates one JSONata expression the way Baton does and prints the result (or error) and
//! the time it took: `cargo run -p baton-jsonata --example eval -- 'EXPR' ['{"input": ...}']`.
//! The JSON argument is bound as `$states.input` and is the context value.

use std::time::Instant;

use baton_jsonata::{Bindings, Expression, Options};
use serde_json::{Value, json};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(text) = args.next() else {
        eprintln!("usage: eval EXPRESSION [INPUT_JSON]");
        std::process::exit(2);
    };
    let input: Value = match args.next().map(|s| serde_json::from_str(&s)) {
        None => Value::Null,
        Some(Ok(value)) => value,
        Some(Err(e)) => {
            eprintln!("the input is not JSON: {e}");
            std::process::exit(2);
        }
    };
    let bindings = Bindings {
        vars: vec![("states".to_owned(), json!({ "input": input.clone() }))],
    };
    let started = Instant::now();
    let mut seed = 0x5EED_u64;
    let result = Expression::compile(&text).and_then(|expression| {
        expression.evaluate_with(Some(&input), &bindings, &Options::default(), &mut || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed
        })
    });
    let elapsed = started.elapsed();
    match result {
        Ok(Some(value)) => println!("{value}"),
        Ok(None) => println!("undefined"),
        Err(e) => println!("error {e}"),
    }
    eprintln!("({elapsed:?})");
}
