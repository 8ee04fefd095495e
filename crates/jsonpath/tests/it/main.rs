//! Integration tests for baton-jsonpath: the case table, fuzz-failure replay and the
//! AWS-recorded conformance cases.

mod cases;
mod conformance;
mod fuzz_failures;
