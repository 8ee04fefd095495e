//! Integration tests of `baton serve` through the AWS SDK for Rust (`aws-sdk-sfn`): every
//! request goes over HTTP exactly as an application's would. Enabled by `BATON_SDK_TESTS=1`.

mod harness;

mod activities;
mod callbacks;
mod errors;
mod executions;
mod state_machines;
mod sync;
mod tags_versions;
