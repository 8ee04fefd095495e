//! End-to-end tests of the server over HTTP on 127.0.0.1:0, with an in-memory runtime.

mod activities;
mod errors;
mod executions;
mod harness;
mod state_machines;
mod test_state;
