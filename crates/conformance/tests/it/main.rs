//! Runs the whole conformance harness in process and holds the engine to the pass count in
//! `crates/conformance/FLOOR` (raise it as the engine improves), and checks that the harness's
//! history renderer agrees with the server's. Skips when the shared cases
//! (`../shared/conformance/cases` from the repository root) are absent.

use std::path::PathBuf;
use std::sync::Arc;

use baton_conformance::case::load_cases;
use baton_conformance::driver::{self, RunConfig, Script};
use baton_conformance::harness::{self, Options};
use baton_conformance::render;

fn cases_dir() -> Option<PathBuf> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cases = crate_dir.join("../../../shared/conformance/cases");
    if cases.is_dir() {
        Some(cases)
    } else {
        eprintln!("skipped: {} is absent", cases.display());
        None
    }
}

#[test]
fn pass_count_is_at_least_the_floor() {
    let Some(cases) = cases_dir() else { return };
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let floor_text = std::fs::read_to_string(crate_dir.join("FLOOR")).expect("FLOOR is readable");
    let floor: usize = floor_text.trim().parse().expect("FLOOR holds a number");

    // Engine panics are counted as failures; printing each one would only drown the summary.
    std::panic::set_hook(Box::new(|_| {}));
    let mut lines = Vec::new();
    let report = harness::run(&cases, &Options::default(), &mut lines).expect("cases load");
    let _ = std::panic::take_hook();
    report.write_summary(&mut lines).expect("write to memory");
    let text = String::from_utf8_lossy(&lines);
    let counts = report.counts();
    assert!(
        counts.passed + counts.failed + counts.skipped > 400,
        "too few cases found under {}",
        cases.display()
    );
    assert!(
        counts.passed >= floor,
        "conformance fell below the floor: {} passed < {floor}\n{text}",
        counts.passed
    );
    eprintln!("{}", text.lines().last().unwrap_or_default());
}

/// Every event of every history the runnable cases produce renders the same through
/// `render::event_json` and the server's `baton_api_model::history::render`.
#[test]
fn renderer_agrees_with_the_server() {
    let Some(cases) = cases_dir() else { return };
    let cases = load_cases(&cases, None).expect("cases load");
    let mut events = 0;
    for case in cases
        .iter()
        .filter(|c| c.needs.is_empty() && c.kind == "execution")
    {
        let (Ok(machine), Ok(input)) = (
            baton_asl::StateMachine::from_text(&case.definition_text()),
            case.input_json(),
        ) else {
            continue;
        };
        let info = harness::execution_info(case);
        let run = std::panic::catch_unwind(|| {
            driver::run(
                Arc::new(machine),
                info,
                input,
                &Script::default(),
                &RunConfig::default(),
            )
        });
        let Ok(outcome) = run else { continue };
        for event in &outcome.events {
            let ours = render::event_json(event);
            let server = baton_api_model::history::render(event, true);
            assert_eq!(ours, server, "case {}: event {}", case.id, event.id);
            events += 1;
        }
    }
    assert!(events > 1000, "only {events} events rendered");
}
