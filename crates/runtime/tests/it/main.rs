//! Runtime integration tests: executions driven end to end on the in-memory and SQLite stores
//! with a manual clock, and several nodes on PostgreSQL (`cluster`, with `BATON_TEST_POSTGRES`).

mod activities;
mod api;
mod cluster;
mod executions;
mod harness;
mod recovery;
mod redrive;
