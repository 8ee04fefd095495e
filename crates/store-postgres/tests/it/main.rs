//! Integration tests of the PostgreSQL store: the shared contract suite, schema versioning,
//! fencing under racing writers, work distribution between nodes (SKIP LOCKED claims, lease
//! takeover, the mailbox), LISTEN/NOTIFY wake-ups, connection loss, and a throughput figure.
//!
//! They need a database: set `BATON_TEST_POSTGRES` to a URL (for example
//! `postgres://postgres@127.0.0.1:5432/test`). Without it every test passes at once after
//! printing that it was skipped. Each test works in its own fresh schema, dropped afterwards.

mod bench;
mod cluster;
mod connection;
mod contract;
mod fencing;
mod migrations;
mod model;
mod nodes;
mod support;
mod wakeups;
