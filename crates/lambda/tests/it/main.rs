//! Integration tests for the local Lambda: data-driven invocation cases (`tests/data/invoke/`),
//! the REST API, timeouts and concurrency, function URLs, IAM, and the Step Functions
//! dispatcher running real executions. Python and Node.js tests are skipped with a message
//! when the interpreter is missing. The seed scripts run against `baton serve` in
//! `crates/cli/tests/it/seeds.rs`.

mod api;
mod dispatch;
mod harness;
mod invoke;
mod invoke_cases;
mod matching;
mod urls;
