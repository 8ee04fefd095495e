#!/usr/bin/env bash
# Runs the official JSONata test suite (../shared/jsonata-suite, read in place) through Baton's
# JSONata (crates/jsonata/tests/suite.rs). Prints "jsonata-suite: N passed, M failed, K skipped"
# (skipped = the misses listed with their reasons in crates/jsonata/SUITE_EXCLUSIONS.md) and
# fails if any other case misses or a listed case passes. Skips when the suite is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p baton-jsonata --test suite -- "$@"
