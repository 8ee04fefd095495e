//! Evaluations per second of typical Step Functions expressions (`expressions.json` beside
//! this file), against the reference JavaScript implementation in the same run.
//!
//! `cargo bench -p baton-jsonata --bench expressions [-- SECONDS]` prints, per expression:
//! Baton converting `$states` on every call (`evaluate`), Baton with `$states` converted once
//! per state (`evaluate_prepared`, what the interpreter does), and npm `jsonata` under node
//! (`bench-js/bench.js`, when node and `bench-js/node_modules` are installed), with the
//! speed-up over node. It also checks that both give the same result. `-- NAME` runs only
//! the expressions whose name contains NAME; `--no-node` skips node,
//! `--prepared-only` the per-call conversion (for profiling).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use baton_jsonata::{Bindings, Expression, Options, Prepared};
use serde_json::{Value, json};

fn main() {
    let seconds: f64 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1.0);
    // Any other argument keeps only the expressions whose name contains it.
    let only: Option<String> = std::env::args()
        .skip(1)
        .find(|arg| arg.parse::<f64>().is_err() && !arg.starts_with('-'));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(dir.join("benches/expressions.json"))
        .expect("benches/expressions.json is readable");
    let bench: Value = serde_json::from_str(&text).expect("benches/expressions.json is JSON");
    let bindings = Bindings {
        vars: vec![("states".to_owned(), bench["states"].clone())],
    };
    let input = json!({});
    let node = if std::env::args().any(|a| a == "--no-node") {
        None
    } else {
        run_node(dir, seconds)
    };
    if node.is_none() {
        println!(
            "(node or bench-js/node_modules missing: run `npm install` in crates/jsonata/bench-js)"
        );
    }
    println!(
        "{:<14} {:>16} {:>16} {:>16} {:>9} {:>9}",
        "expression", "baton evals/s", "prepared evals/s", "node evals/s", "x node", "x prep"
    );
    let mut worst = f64::INFINITY;
    for item in bench["expressions"]
        .as_array()
        .expect("expressions is an array")
    {
        let name = item["name"].as_str().unwrap_or("?");
        if only
            .as_ref()
            .is_some_and(|only| !name.contains(only.as_str()))
        {
            continue;
        }
        let text = item["expr"].as_str().unwrap_or("");
        let expression = Expression::compile(text).expect("bench expressions compile");
        let mut random = || 0x5EED_u64;
        let options = Options::default();
        let direct = if std::env::args().any(|a| a == "--prepared-only") {
            f64::NAN
        } else {
            rate(seconds, || {
                expression
                    .evaluate(&input, &bindings, &mut random)
                    .expect("evaluates");
            })
        };
        let prepared = Prepared::new(Some(&input), &bindings);
        let ours = expression
            .evaluate_prepared(&prepared, &options, &mut random)
            .expect("evaluates");
        let fast = rate(seconds, || {
            expression
                .evaluate_prepared(&prepared, &options, &mut random)
                .expect("evaluates");
        });
        let js = node
            .as_ref()
            .and_then(|n| n["results"][name].as_object().cloned());
        let js_rate = js.as_ref().and_then(|r| r["evals_per_sec"].as_f64());
        if let Some(js_result) = js.as_ref().map(|r| &r["result"]) {
            let same = ours.as_ref().is_some_and(|v| same_json(v, js_result));
            if !same {
                println!("  {name}: RESULT DIFFERS from jsonata-js: {ours:?} vs {js_result}");
            }
        }
        let ratio = |x: f64| js_rate.map_or("-".to_owned(), |j| format!("{:.1}", x / j));
        println!(
            "{name:<14} {direct:>16.0} {fast:>16.0} {:>16} {:>9} {:>9}",
            js_rate.map_or("-".to_owned(), |j| format!("{j:.0}")),
            ratio(direct),
            ratio(fast)
        );
        if let Some(j) = js_rate {
            worst = worst.min(fast / j);
        }
    }
    if let Some(node) = &node {
        println!(
            "node jsonata {}; slowest prepared speed-up over node: {worst:.1}x",
            node["version"].as_str().unwrap_or("?")
        );
    }
}

/// Calls per second of `f` over about `seconds`, after a warm-up.
fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    for _ in 0..2000 {
        f();
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        count += 100;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn run_node(dir: &Path, seconds: f64) -> Option<Value> {
    let js = dir.join("bench-js");
    if !js.join("node_modules/jsonata").is_dir() {
        return None;
    }
    let output = Command::new("node")
        .arg(js.join("bench.js"))
        .arg(seconds.to_string())
        .output()
        .ok()?;
    if !output.status.success() {
        println!(
            "node bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    serde_json::from_slice(&output.stdout).ok()
}

/// JSON equality with numbers compared as numbers.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
