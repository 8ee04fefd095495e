//! Interpreter step throughput, on one core, with no store and no I/O.
//!
//! `cargo bench -p baton-interp --bench step` prints, per workload, the time of one whole
//! execution and the state transitions per second (divan's `item/s`, one item per state
//! entered). Workloads: a plain 100-state Pass chain (the cost of a bare transition), a
//! 50-state Pass chain doing `Parameters`/`ResultPath` work, a Choice loop counting to 1,000
//! with `States.MathAdd`, a 50-state JSONata chain building `Output` objects, and a Map over
//! 1,000 items.
//!
//! Medians on 2026-11-21, the project's 2-core machine (shared with other builds, so the
//! spread is wide), through the in-process driver: plain Pass 5.3 M transitions/s; Parameters
//! chain 0.31 M/s, 0.19 M/s with one `$$` lookup per state; Choice loop 1.7 M/s; Map of 1,000
//! items 0.16-0.26 M/s; JSONata chain (three expressions per state) 53 k/s, 26 k/s before
//! `$states` was converted once per state instead of once per expression.

use std::sync::Arc;

use baton_asl::StateMachine;
use baton_conformance::driver::{self, RunConfig, Script};
use baton_interp::{EventType, ExecutionInfo};
use divan::Bencher;
use divan::counter::ItemsCount;
use serde_json::{Value, json};

fn main() {
    divan::main();
}

/// A chain of `count` states built by `state(i, next)`.
fn chain(count: usize, state: impl Fn(usize) -> Value) -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..count {
        let mut body = state(i);
        if i + 1 < count {
            body["Next"] = json!(format!("S{}", i + 1));
        } else {
            body["End"] = json!(true);
        }
        states.insert(format!("S{i}"), body);
    }
    json!({"StartAt": "S0", "States": states})
}

struct Workload {
    machine: Arc<StateMachine>,
    input: Value,
    transitions: usize,
}

impl Workload {
    fn new(definition: Value, input: Value) -> Workload {
        let machine = Arc::new(StateMachine::from_json(&definition).expect("valid definition"));
        let mut workload = Workload {
            machine,
            input,
            transitions: 0,
        };
        let outcome = workload.run();
        assert!(
            outcome.problems.is_empty() && outcome.output.is_some(),
            "workload did not succeed: {:?} {:?}",
            outcome.problems,
            outcome.error
        );
        workload.transitions = outcome
            .events
            .iter()
            .filter(|e| is_state_entered(e.ty))
            .count();
        workload
    }

    fn run(&self) -> driver::Outcome {
        driver::run(
            self.machine.clone(),
            ExecutionInfo::example(),
            self.input.clone(),
            &Script::default(),
            &RunConfig::default(),
        )
    }

    fn bench(&self, bencher: Bencher) {
        bencher
            .counter(ItemsCount::new(self.transitions))
            .bench(|| self.run());
    }
}

fn is_state_entered(ty: EventType) -> bool {
    ty.as_str().ends_with("StateEntered")
}

#[divan::bench]
fn plain_pass_chain_100(bencher: Bencher) {
    let definition = chain(100, |_| json!({"Type": "Pass"}));
    Workload::new(definition, json!({"hello": "world"})).bench(bencher);
}

/// 50 Pass states selecting from the input (and, with `context`, from `$$`) into `$.last`.
fn parameters_chain(context: bool) -> Workload {
    let definition = chain(50, |i| {
        let mut parameters = json!({
            "step": i,
            "customer.$": "$.order.customer",
            "total.$": "$.order.total",
            "firstItem.$": "$.order.items[0]"
        });
        if context {
            parameters["execution.$"] = json!("$$.Execution.Name");
        }
        json!({"Type": "Pass", "Parameters": parameters, "ResultPath": "$.last"})
    });
    let input = json!({
        "order": {
            "customer": {"id": 42, "name": "Ada", "tier": "gold"},
            "total": 123.45,
            "items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 1}]
        }
    });
    Workload::new(definition, input)
}

#[divan::bench]
fn pass_chain_50_parameters(bencher: Bencher) {
    parameters_chain(false).bench(bencher);
}

/// The same with one `$$.Execution.Name` per state: the cost of the context object.
#[divan::bench]
fn pass_chain_50_parameters_context(bencher: Bencher) {
    parameters_chain(true).bench(bencher);
}

/// 50 JSONata Pass states, each building an `Output` object from three expressions.
#[divan::bench]
fn jsonata_chain_50_output(bencher: Bencher) {
    let mut definition = chain(50, |_| {
        json!({
            "Type": "Pass",
            "Output": {
                "order": "{% $states.input.order %}",
                "total": "{% $sum($states.input.order.items.qty) %}",
                "customer": "{% $states.input.order.customer.name & ' (' & $states.input.order.customer.tier & ')' %}"
            }
        })
    });
    definition["QueryLanguage"] = json!("JSONata");
    let input = json!({
        "order": {
            "customer": {"id": 42, "name": "Ada", "tier": "gold"},
            "items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 1}]
        }
    });
    Workload::new(definition, input).bench(bencher);
}

#[divan::bench]
fn choice_loop_1000(bencher: Bencher) {
    let definition = json!({
        "StartAt": "Increment",
        "States": {
            "Increment": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.count, 1)"},
                "Next": "Check"
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.count", "NumericLessThan": 1000, "Next": "Increment"}],
                "Default": "Done"
            },
            "Done": {"Type": "Succeed"}
        }
    });
    Workload::new(definition, json!({"count": 0})).bench(bencher);
}

#[divan::bench]
fn map_1000_items(bencher: Bencher) {
    let definition = json!({
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Pass",
                            "Parameters": {"value.$": "States.MathAdd($.value, $.value)"},
                            "End": true
                        }
                    }
                },
                "End": true
            }
        }
    });
    let items: Vec<Value> = (0..1000).map(|i| json!({"value": i})).collect();
    Workload::new(definition, json!({"items": items})).bench(bencher);
}
