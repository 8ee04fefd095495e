//! Runs the official JSONata test suite (`../shared/jsonata-suite`, read in place, never
//! copied) through Baton's `Expression` API and prints `N passed, M failed` plus every miss.
//!
//! A case passes when its result deep-equals the expected one (numbers compared as numbers,
//! object key order ignored, arrays as multisets when `unordered`), when it is undefined
//! and `undefinedResult` is set, or when it fails with exactly the expected error code.
//! The run fails if a case fails that `SUITE_EXCLUSIONS.md` does not list, or if a listed
//! case passes (so the list stays honest). Without the suite folder it skips.
//!
//! `cargo test -p baton-jsonata --test suite -- [FILTER] [--verbose]`: FILTER keeps the
//! cases whose id (`group/file#index`) contains it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use baton_jsonata::{Bindings, Expression, Limits, Options, Prepared};
use serde_json::Value;

/// Error cases whose code matched but whose message differs from the reference's
/// (reported, not failed: only 15 cases give a message).
static MESSAGE_MISMATCHES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Steps allowed per millisecond of a case's `timelimit`.
const STEPS_PER_MS: u64 = 5_000;
/// A case that takes longer than this (wall clock) is a miss: a hang guard for the runner.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

struct Case {
    expr: String,
    input: Option<Value>,
    bindings: Bindings,
    options: Options,
    expected: Expected,
    unordered: bool,
}

enum Expected {
    Result(Value),
    Undefined,
    /// An error code, and the reference message when the case gives one.
    Code(String, Option<String>),
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let verbose = std::env::args().any(|a| a == "--verbose");
    let filter = args.first().cloned().unwrap_or_default();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = manifest.join("../../../shared/jsonata-suite");
    if !suite.join("groups").is_dir() {
        println!("jsonata suite not found at {}: skipped", suite.display());
        println!("jsonata-suite: 0 passed, 0 failed");
        return;
    }
    let exclusions = read_exclusions(&manifest.join("SUITE_EXCLUSIONS.md"));
    let cases = match load_cases(&suite) {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!("cannot read the suite: {e}");
            std::process::exit(2);
        }
    };
    let mut passed = 0usize;
    let mut misses: Vec<(String, String)> = Vec::new();
    let mut ran = 0usize;
    let started = std::time::Instant::now();
    let mut runner = match Runner::start() {
        Ok(runner) => runner,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    for (id, case) in cases.into_iter().filter(|(id, _)| id.contains(&filter)) {
        ran += 1;
        match case.and_then(|case| runner.run(case)) {
            Ok(()) => {
                passed += 1;
                if verbose {
                    println!("ok   {id}");
                }
            }
            Err(why) => misses.push((id, why)),
        }
    }
    let mut unexpected = Vec::new();
    println!("misses:");
    for (id, why) in &misses {
        let listed = exclusions.contains_key(id);
        if !listed {
            unexpected.push(id.clone());
        }
        let mark = if listed { "excluded" } else { "UNEXPECTED" };
        println!("  [{mark}] {id}: {why}");
    }
    let missed: BTreeSet<&String> = misses.iter().map(|(id, _)| id).collect();
    let stale: Vec<&String> = exclusions
        .keys()
        .filter(|id| id.contains(&filter) && !missed.contains(id))
        .collect();
    for id in &stale {
        println!("  [STALE] {id} is listed in SUITE_EXCLUSIONS.md but passes (or does not exist)");
    }
    if let Ok(mismatches) = MESSAGE_MISMATCHES.lock() {
        println!("error messages that differ from the reference's (code matched):");
        for mismatch in mismatches.iter() {
            println!("  {mismatch}");
        }
    }
    println!("ran {ran} cases in {:.1}s", started.elapsed().as_secs_f64());
    println!(
        "{passed} passed, {} failed ({} of them listed in SUITE_EXCLUSIONS.md)",
        misses.len(),
        misses.len() - unexpected.len()
    );
    // The gate: a listed miss counts as skipped, any other miss as failed.
    println!(
        "jsonata-suite: {passed} passed, {} failed, {} skipped",
        unexpected.len(),
        misses.len() - unexpected.len()
    );
    if !unexpected.is_empty() || (filter.is_empty() && !stale.is_empty()) {
        println!(
            "FAILED: {} unexpected misses, {} stale exclusions",
            unexpected.len(),
            stale.len()
        );
        std::process::exit(1);
    }
}

/// Runs the cases on one long-lived worker thread (so its reused evaluator sees every
/// case in turn, as a server thread would), replacing the worker after a hang. A panic is
/// one miss.
struct Runner {
    cases: mpsc::Sender<Case>,
    outcomes: mpsc::Receiver<Result<(), String>>,
}

impl Runner {
    fn start() -> Result<Runner, String> {
        let (case_sender, case_receiver) = mpsc::channel::<Case>();
        let (outcome_sender, outcome_receiver) = mpsc::channel();
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                for case in case_receiver {
                    let outcome = std::panic::catch_unwind(|| check(&case));
                    let outcome = outcome.unwrap_or_else(|_| Err("panicked".to_owned()));
                    if outcome_sender.send(outcome).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(Runner {
            cases: case_sender,
            outcomes: outcome_receiver,
        })
    }

    fn run(&mut self, case: Case) -> Result<(), String> {
        if self.cases.send(case).is_err() {
            *self = Runner::start()?;
            return Err("the worker thread stopped".to_owned());
        }
        match self.outcomes.recv_timeout(CASE_TIMEOUT) {
            Ok(outcome) => outcome,
            Err(_) => {
                // The hung worker is abandoned; later cases go to a new one.
                *self = Runner::start()?;
                Err(format!("no answer within {CASE_TIMEOUT:?}"))
            }
        }
    }
}

fn check(case: &Case) -> Result<(), String> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Through `Prepared` (the interpreter's path, which converts unchanged input back by
    // cloning it); the table tests cover the one-shot `evaluate_with`.
    let outcome = Expression::compile(&case.expr).and_then(|expression| {
        let prepared = Prepared::new(case.input.as_ref(), &case.bindings);
        expression.evaluate_prepared(&prepared, &case.options, &mut random)
    });
    match (&case.expected, outcome) {
        (Expected::Code(code, message), Err(e)) if &e.code == code => {
            if let Some(message) = message
                && message != &e.message
                && let Ok(mut mismatches) = MESSAGE_MISMATCHES.lock()
            {
                mismatches.push(format!("{code}: expected {message:?}, got {:?}", e.message));
            }
            Ok(())
        }
        (Expected::Code(code, _), Err(e)) => Err(format!("expected {code}, got {e}")),
        (Expected::Code(code, _), Ok(v)) => {
            Err(format!("expected {code}, got {}", show(v.as_ref())))
        }
        (_, Err(e)) => Err(format!("error {e}")),
        (Expected::Undefined, Ok(None)) => Ok(()),
        (Expected::Undefined, Ok(Some(v))) => Err(format!("expected undefined, got {v}")),
        (Expected::Result(want), Ok(Some(got))) if same(want, &got, case.unordered) => Ok(()),
        (Expected::Result(want), Ok(got)) => {
            Err(format!("expected {want}, got {}", show(got.as_ref())))
        }
    }
}

fn show(value: Option<&Value>) -> String {
    let text = value.map_or_else(|| "undefined".to_owned(), Value::to_string);
    if text.len() > 300 {
        format!("{}...", &text[..text.floor_char_boundary(300)])
    } else {
        text
    }
}

/// JavaScript deep equality as the reference runner checks it.
fn same(want: &Value, got: &Value, unordered: bool) -> bool {
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) if unordered => {
            let mut left: Vec<&Value> = b.iter().collect();
            a.len() == b.len()
                && a.iter()
                    .all(|item| match left.iter().position(|x| same(item, x, true)) {
                        Some(i) => {
                            left.swap_remove(i);
                            true
                        }
                        None => false,
                    })
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, false))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same(v, w, unordered)))
        }
        _ => want == got,
    }
}

/// `- `group/file#index`: reason` lines of SUITE_EXCLUSIONS.md.
fn read_exclusions(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("- `")?;
            let (id, reason) = rest.split_once('`')?;
            Some((
                id.to_owned(),
                reason.trim_start_matches(':').trim().to_owned(),
            ))
        })
        .collect()
}

/// A case by id, or why it cannot be run.
type Loaded = (String, Result<Case, String>);

fn load_cases(suite: &Path) -> Result<Vec<Loaded>, String> {
    let mut datasets: BTreeMap<String, Value> = BTreeMap::new();
    for path in sorted_files(&suite.join("datasets"))? {
        if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
            datasets.insert(name.to_owned(), read_json(&path)?);
        }
    }
    let mut cases = Vec::new();
    for group in sorted_files(&suite.join("groups"))? {
        let group_name = file_name(&group);
        for file in sorted_files(&group)? {
            if file.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let id = format!("{group_name}/{}", file_name(&file));
            match read_json(&file) {
                Ok(Value::Array(items)) => {
                    for (index, item) in items.iter().enumerate() {
                        let id = format!("{id}#{index}");
                        cases.push((id.clone(), make_case(id, item, &group, &datasets)));
                    }
                }
                Ok(item) => cases.push((id.clone(), make_case(id, &item, &group, &datasets))),
                // serde_json rejects a lone surrogate (`"\uD800"`), which no Rust string holds.
                Err(e) => cases.push((id, Err(format!("cannot be read as JSON: {e}")))),
            }
        }
    }
    Ok(cases)
}

fn make_case(
    id: String,
    raw: &Value,
    group: &Path,
    datasets: &BTreeMap<String, Value>,
) -> Result<Case, String> {
    let expr = match (raw.get("expr"), raw.get("expr-file")) {
        (Some(Value::String(text)), _) => text.clone(),
        (_, Some(Value::String(file))) => std::fs::read_to_string(group.join(file))
            .map_err(|e| format!("{id}: cannot read {file}: {e}"))?,
        _ => return Err(format!("{id}: no expr")),
    };
    let input = match (raw.get("data"), raw.get("dataset")) {
        (Some(data), _) => Some(data.clone()),
        (None, Some(Value::String(name))) => Some(
            datasets
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{id}: no dataset {name}"))?,
        ),
        _ => None,
    };
    let bindings = Bindings {
        vars: raw
            .get("bindings")
            .and_then(Value::as_object)
            .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    };
    let mut limits = Limits::default();
    if let Some(depth) = raw.get("depth").and_then(Value::as_u64) {
        limits.max_depth = depth as usize;
    }
    if let Some(ms) = raw.get("timelimit").and_then(Value::as_u64) {
        limits.max_steps = ms * STEPS_PER_MS;
    }
    let code = raw
        .get("code")
        .or_else(|| raw.get("error").and_then(|e| e.get("code")))
        .and_then(Value::as_str);
    let message = raw
        .get("error")
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str);
    let expected = if let Some(code) = code {
        Expected::Code(code.to_owned(), message.map(str::to_owned))
    } else if let Some(result) = raw.get("result") {
        Expected::Result(result.clone())
    } else if raw.get("undefinedResult").and_then(Value::as_bool) == Some(true) {
        Expected::Undefined
    } else {
        return Err(format!("{id}: no expected outcome"));
    };
    Ok(Case {
        expr,
        input,
        bindings,
        options: Options {
            limits,
            now_millis: None,
        },
        expected,
        unordered: raw
            .get("unordered")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned()
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
