//! Runtime integration tests: executions driven end to end on the in-memory and SQLite stores
//! with a manual clock.

mod activities;
mod api;
mod executions;
mod harness;
mod recovery;
mod redrive;
