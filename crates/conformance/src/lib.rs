//! Tools to run the interpreter without a server, and to score it against AWS.
//!
//! - [`driver`]: runs an [`Execution`](baton_interp::Execution) to the end on a virtual clock,
//!   answering tasks from a [`Script`](driver::Script), with deterministic entropy.
//! - [`render`]: history events as AWS's `GetExecutionHistory` JSON, and as compact lines for
//!   snapshot tests.
//! - [`compare`]: the comparison rules of the shared conformance runner (`run.py`).
//! - [`case`] and [`harness`]: load the recorded-on-AWS cases and score the engine on those
//!   that need nothing but Step Functions.
//!
//! ```
//! use std::sync::Arc;
//! use baton_conformance::driver::{self, RunConfig, Script};
//! let machine = baton_asl::StateMachine::from_text(
//!     r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#,
//! ).unwrap();
//! let info = baton_interp::ExecutionInfo::example();
//! let input = serde_json::json!({"x": 1});
//! let outcome = driver::run(Arc::new(machine), info, input, &Script::default(), &RunConfig::default());
//! assert_eq!(baton_conformance::render::status_str(&outcome.status), "SUCCEEDED");
//! assert_eq!(outcome.output, Some(serde_json::json!({"x": 1})));
//! ```
//!
//! The harness runs as `cargo run -p baton-conformance -- ../shared/conformance/cases
//! [--only SUBSTR] [--strict-events] [--strict-messages] [-v]` and ends with
//! `N passed, M failed, K skipped`; `tests/it` holds the engine to the count in `FLOOR`.
#![warn(missing_docs)]

pub mod case;
pub mod compare;
pub mod driver;
pub mod harness;
pub mod render;
