//! The conformance harness: runs the recorded-on-AWS cases in process and scores them.
//!
//! Cases that need nothing but Step Functions (`needs == []`) run here: `execution` cases
//! through the [`driver`](crate::driver) on a virtual clock (so long `Wait`s cost nothing),
//! `create_error` and `validate` cases through `baton_asl`'s validator. The comparison is the
//! shared `run.py`'s (see [`compare`](crate::compare)); so is the output: one line per case, a
//! table per category and a final `N passed, M failed, K skipped`.

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use baton_asl::validate::{
    MachineType, Options as ValidateOptions, ResultOptions, invalid_definition_message,
    validation_result,
};
use baton_asl::{Diagnostic, Severity, StateMachine};
use baton_interp::ExecutionInfo;
use serde_json::{Value, json};

use crate::case::{Case, load_cases};
use crate::compare::{Actual, compare_outcome};
use crate::driver::{self, RunConfig, Script, StopScript, StopWhen};
use crate::render;

/// Harness settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only cases whose id or category contains this.
    pub only: Option<String>,
    /// Also compare each recorded event's details.
    pub strict_events: bool,
    /// Also fail on a differing `InvalidDefinition` or diagnostic message.
    pub strict_messages: bool,
    /// Print every difference, not only the first.
    pub verbose: bool,
    /// Wall-clock limit for one case (an engine stuck in a loop must not stop the run).
    pub case_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            only: None,
            strict_events: false,
            strict_messages: false,
            verbose: false,
            case_timeout: Duration::from_secs(20),
        }
    }
}

/// A case's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Matches AWS.
    Pass,
    /// Differs from AWS (or the engine crashed).
    Fail,
    /// Not run here (needs other services, or an unknown kind).
    Skip,
}

impl Verdict {
    /// `PASS`, `FAIL` or `SKIP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// One case's result with its reasons (differences, skip reason, or notes on a pass).
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Category.
    pub category: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub reasons: Vec<String>,
}

/// Counts per verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Skip => self.skipped += 1,
        }
    }
}

/// Every case's result.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// In run order.
    pub results: Vec<CaseResult>,
}

impl Report {
    /// Totals.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for result in &self.results {
            counts.add(result.verdict);
        }
        counts
    }

    /// Totals per category, sorted by category.
    pub fn by_category(&self) -> BTreeMap<String, Counts> {
        let mut out: BTreeMap<String, Counts> = BTreeMap::new();
        for result in &self.results {
            out.entry(result.category.clone())
                .or_default()
                .add(result.verdict);
        }
        out
    }

    /// The report as JSON, in the shape of `run.py --json`: `summary`, `by_category` and one
    /// entry per case with its result and reasons.
    pub fn to_json(&self) -> Value {
        let counts =
            |c: Counts| json!({"passed": c.passed, "failed": c.failed, "skipped": c.skipped});
        let by_category: serde_json::Map<String, Value> = self
            .by_category()
            .into_iter()
            .map(|(category, c)| (category, counts(c)))
            .collect();
        let cases: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                json!({"id": r.id, "category": r.category, "result": r.verdict.as_str(),
                       "reasons": r.reasons})
            })
            .collect();
        json!({"summary": counts(self.counts()), "by_category": by_category, "cases": cases})
    }

    /// Writes the per-category table and the final totals line.
    pub fn write_summary(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{:<20} {:>7} {:>7} {:>7}",
            "category", "passed", "failed", "skipped"
        )?;
        for (category, c) in self.by_category() {
            writeln!(
                out,
                "{category:<20} {:>7} {:>7} {:>7}",
                c.passed, c.failed, c.skipped
            )?;
        }
        let c = self.counts();
        writeln!(
            out,
            "{} passed, {} failed, {} skipped",
            c.passed, c.failed, c.skipped
        )
    }
}

/// Loads the cases under `root`, runs them one by one, and writes one line per case to `out`
/// as it goes (not the summary: see [`Report::write_summary`]).
pub fn run(root: &Path, options: &Options, out: &mut dyn Write) -> Result<Report, String> {
    let cases = load_cases(root, options.only.as_deref())?;
    let mut report = Report::default();
    for case in cases {
        let (verdict, reasons) = run_case_guarded(&case, options);
        let shown: &[String] = if options.verbose {
            &reasons
        } else {
            &reasons[..reasons.len().min(1)]
        };
        let extra = match (verdict, shown.first()) {
            (_, None) => String::new(),
            (Verdict::Pass, Some(note)) if !options.verbose => {
                format!(" ({})", note.chars().take(100).collect::<String>())
            }
            _ => format!(" - {}", shown.join("; ")),
        };
        writeln!(
            out,
            "{} {}/{}{extra}",
            verdict.as_str(),
            case.category,
            case.id
        )
        .map_err(|e| e.to_string())?;
        report.results.push(CaseResult {
            id: case.id.clone(),
            category: case.category.clone(),
            verdict,
            reasons,
        });
    }
    Ok(report)
}

/// Runs one case on its own thread, turning a panic or a hang into a failure.
pub fn run_case_guarded(case: &Case, options: &Options) -> (Verdict, Vec<String>) {
    let (tx, rx) = mpsc::channel();
    let case_copy = case.clone();
    let options_copy = options.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("case {}", case.id))
        .stack_size(64 << 20)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| run_case(&case_copy, &options_copy)));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return (Verdict::Fail, vec![format!("harness: cannot spawn: {e}")]);
    }
    match rx.recv_timeout(options.case_timeout) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => (
            Verdict::Fail,
            vec![format!("engine panicked: {}", panic_message(&*panic))],
        ),
        // The thread is left running: a Rust thread cannot be killed.
        Err(_) => (
            Verdict::Fail,
            vec![format!(
                "no result after {:?} (engine stuck?)",
                options.case_timeout
            )],
        ),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// Runs one case (may panic if the engine does).
pub fn run_case(case: &Case, options: &Options) -> (Verdict, Vec<String>) {
    if !case.needs.is_empty() {
        return (
            Verdict::Skip,
            vec![format!("needs {}", case.needs.join(","))],
        );
    }
    match case.kind.as_str() {
        "execution" => verdict(run_execution(case, options)),
        "create_error" => run_create_error(case, options),
        "validate" => run_validate(case, options),
        other => (Verdict::Skip, vec![format!("unknown kind {other:?}")]),
    }
}

fn verdict(diffs: Vec<String>) -> (Verdict, Vec<String>) {
    if diffs.is_empty() {
        (Verdict::Pass, diffs)
    } else {
        (Verdict::Fail, diffs)
    }
}

/// What `CreateStateMachine` would say about the case's definition: the diagnostics of the
/// validator for the case's state machine type (Express forbids activities, `.sync` and
/// `.waitForTaskToken`), errors and warnings.
fn check_definition(case: &Case) -> Vec<Diagnostic> {
    let machine_type = if case.state_machine_type == "EXPRESS" {
        MachineType::Express
    } else {
        MachineType::Standard
    };
    baton_asl::validate::check_text(&case.definition_text(), &ValidateOptions { machine_type })
}

fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

fn run_create_error(case: &Case, options: &Options) -> (Verdict, Vec<String>) {
    let want = &case.expected["create_error"];
    let want_code = want["code"].as_str().unwrap_or("");
    let want_message = want["message"].as_str();
    let diagnostics = check_definition(case);
    if !has_errors(&diagnostics) {
        return (
            Verdict::Fail,
            vec![format!(
                "definition accepted; AWS rejects it with {want_code}: {}",
                want_message.unwrap_or("")
            )],
        );
    }
    // Every rejected definition is `InvalidDefinition` in AWS.
    let code = "InvalidDefinition";
    let message = invalid_definition_message(&diagnostics);
    if code != want_code {
        return (
            Verdict::Fail,
            vec![format!(
                "error code: expected {want_code}, got {code}: {message}"
            )],
        );
    }
    match want_message {
        Some(want) if want != message => {
            let note = format!("message differs: expected {want:?}, got {message:?}");
            let verdict = if options.strict_messages {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            (verdict, vec![note])
        }
        _ => (Verdict::Pass, Vec::new()),
    }
}

fn run_validate(case: &Case, options: &Options) -> (Verdict, Vec<String>) {
    let want = &case.expected["validate"];
    let got = validation_result(&check_definition(case), &ResultOptions::default());
    // As run.py: result, then (severity, code, location) of each diagnostic, in order.
    let list = |body: &Value| -> Vec<[Value; 3]> {
        body["diagnostics"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|d| {
                [
                    d["severity"].clone(),
                    d["code"].clone(),
                    d["location"].clone(),
                ]
            })
            .collect()
    };
    let short = |items: &[[Value; 3]]| -> String {
        let items: Vec<String> = items
            .iter()
            .map(|[s, c, l]| format!("({s}, {c}, {l})"))
            .collect();
        format!("[{}]", items.join(", "))
    };
    let mut diffs = Vec::new();
    if got["result"] != want["result"] {
        diffs.push(format!(
            "result: expected {}, got {}",
            want["result"], got["result"]
        ));
    }
    let (got_list, want_list) = (list(&got), list(want));
    if got_list != want_list {
        diffs.push(format!(
            "diagnostics: expected {}, got {}",
            short(&want_list),
            short(&got_list)
        ));
    }
    if !diffs.is_empty() {
        return (Verdict::Fail, diffs);
    }
    let messages = |body: &Value| -> Vec<Value> {
        body["diagnostics"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|d| d["message"].clone())
            .collect()
    };
    if messages(&got) != messages(want) {
        let verdict = if options.strict_messages {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        return (verdict, vec!["diagnostic messages differ".to_owned()]);
    }
    (Verdict::Pass, Vec::new())
}

/// The names and ARNs a `CreateStateMachine` + `StartExecution` pair would have given.
pub fn execution_info(case: &Case) -> ExecutionInfo {
    let base: String = case
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(50)
        .collect();
    let machine_name: String = format!("c0001-{base}").chars().take(80).collect();
    let hash = fnv1a(case.id.as_bytes());
    let name = format!("e{hash:016x}");
    let region = "us-east-1";
    let account = "000000000000";
    let execution_arn = if case.state_machine_type == "EXPRESS" {
        format!(
            "arn:aws:states:{region}:{account}:express:{machine_name}:{name}:{:08x}-0000-4000-8000-{:012x}",
            hash >> 32,
            hash & 0xffff_ffff_ffff
        )
    } else {
        format!("arn:aws:states:{region}:{account}:execution:{machine_name}:{name}")
    };
    ExecutionInfo {
        execution_arn,
        name,
        state_machine_arn: format!("arn:aws:states:{region}:{account}:stateMachine:{machine_name}"),
        state_machine_name: machine_name,
        role_arn: format!("arn:aws:iam::{account}:role/conformance"),
        region: region.into(),
        account: account.into(),
        redrive_count: 0,
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn run_execution(case: &Case, options: &Options) -> Vec<String> {
    let diagnostics = check_definition(case);
    let machine = match has_errors(&diagnostics) {
        false => StateMachine::from_text(&case.definition_text()),
        true => Err(diagnostics),
    };
    let machine = match machine {
        Ok(machine) => Arc::new(machine),
        Err(diagnostics) => {
            return vec![format!(
                "CreateStateMachine rejected it: InvalidDefinition: {}",
                invalid_definition_message(&diagnostics)
            )];
        }
    };
    let input = match case.input_json() {
        Ok(input) => input,
        Err(e) => return vec![e],
    };
    let mut script = Script::default();
    if let Some(action) = case
        .actions
        .iter()
        .find(|a| a.get("op").and_then(Value::as_str) == Some("StopExecution"))
    {
        // As run.py: stop once the history holds the event recorded just before the abort.
        let want = case.expected["event_types"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let marker = if want.len() >= 2 {
            want[want.len() - 2].as_str().unwrap_or("ExecutionStarted")
        } else {
            "ExecutionStarted"
        };
        let text = |f: &str| action.get(f).and_then(Value::as_str).map(str::to_owned);
        script.stop = Some(StopScript {
            when: StopWhen::AfterEvent(marker.to_owned()),
            error: text("error"),
            cause: text("cause"),
        });
    }
    let outcome = driver::run(
        machine,
        execution_info(case),
        input,
        &script,
        &RunConfig::default(),
    );
    let status = render::status_str(&outcome.status);
    if status == "RUNNING" {
        return vec![format!("still RUNNING: {}", outcome.problems.join("; "))];
    }
    let sync = case.start.as_deref() == Some("sync");
    let events: Vec<Value> = if options.strict_events && !sync {
        outcome.events.iter().map(render::event_json).collect()
    } else {
        Vec::new()
    };
    let actual = Actual {
        status,
        output: outcome.output.as_ref(),
        error: outcome.error.as_deref(),
        cause: outcome.cause.as_deref(),
        event_types: (!sync).then(|| outcome.events.iter().map(|e| e.ty.as_str()).collect()),
        events: (options.strict_events && !sync).then_some(events.as_slice()),
    };
    compare_outcome(case, &actual)
}
