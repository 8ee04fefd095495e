//! Empty on purpose: `baton-sdk-tests` holds only integration tests (`tests/it`) that drive
//! `baton serve` through the AWS SDK for Rust. Run them with `BATON_SDK_TESTS=1 cargo test -p
//! baton-sdk-tests`; without the variable they print a note and pass.
