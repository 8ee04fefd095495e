//! The integration tests of `baton-intrinsics`, one binary: the case table
//! (`tests/cases.json`), the AWS-recorded conformance cases and the fuzz-failure replays.

mod conformance;
mod fuzz_failures;
mod support;
mod table;
