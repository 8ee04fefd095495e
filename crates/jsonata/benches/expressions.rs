//! Evaluations per second of typical Step Functions expressions (`expressions.json` beside
//! this file), against the reference JavaScript implementation in the same run.
//!
//! `cargo bench -p baton-jsonata --bench expressions [-- SECONDS]` prints, per expression:
//! Baton converting `$states` on every call (`evaluate`), Baton with `$states` converted once
//! per state (`evaluate_prepared`, what the interpreter does), and npm `jsonata` under node
//! (`bench-js/bench.js`, when node and `bench-js/node_modules` are installed), with the
//! speed-up over node. It also checks that both give the same result. The machine may be
//! busy, so each figure is the best of three rounds, and node and Baton alternate per round
//! and expression (a load change then hits both sides alike). `-- NAME` runs only
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
    let use_node = !std::env::args().any(|a| a == "--no-node");
    let mut node_version = None;
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
        let prepared = Prepared::new(Some(&input), &bindings);
        let ours = expression
            .evaluate_prepared(&prepared, &options, &mut random)
            .expect("evaluates");
        let (mut direct, mut fast, mut js_rate) = (f64::NAN, 0.0f64, None::<f64>);
        for _ in 0..ROUNDS {
            if use_node && let Some(node) = run_node(dir, seconds, name) {
                node_version = node["version"].as_str().map(str::to_owned);
                let js = &node["results"][name];
                if let Some(rate) = js["evals_per_sec"].as_f64() {
                    js_rate = Some(js_rate.map_or(rate, |best| best.max(rate)));
                }
                if !ours.as_ref().is_some_and(|v| same_json(v, &js["result"])) {
                    println!(
                        "  {name}: RESULT DIFFERS from jsonata-js: {ours:?} vs {}",
                        js["result"]
                    );
                }
            }
            if !std::env::args().any(|a| a == "--prepared-only") {
                let rate = rate(seconds, || {
                    expression
                        .evaluate(&input, &bindings, &mut random)
                        .expect("evaluates");
                });
                direct = if direct.is_nan() {
                    rate
                } else {
                    direct.max(rate)
                };
            }
            fast = fast.max(rate(seconds, || {
                expression
                    .evaluate_prepared(&prepared, &options, &mut random)
                    .expect("evaluates");
            }));
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
    match node_version {
        Some(version) => {
            println!("node jsonata {version}; slowest prepared speed-up over node: {worst:.1}x")
        }
        None if use_node => println!(
            "(node or bench-js/node_modules missing: run `npm install` in crates/jsonata/bench-js)"
        ),
        None => {}
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

/// Rounds per expression; each figure is the best round.
const ROUNDS: usize = 3;

fn run_node(dir: &Path, seconds: f64, name: &str) -> Option<Value> {
    let js = dir.join("bench-js");
    if !js.join("node_modules/jsonata").is_dir() {
        return None;
    }
    let output = Command::new("node")
        .arg(js.join("bench.js"))
        .arg(seconds.to_string())
        .arg(name)
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
