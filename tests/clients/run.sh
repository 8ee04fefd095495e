#!/usr/bin/env bash
# Client tests: the AWS CLI (seed 002's Step Functions commands) and boto3 activity workers
# against a real `baton serve`. Creates its own virtualenv under the cargo target directory,
# builds the binary, and runs pytest; the fixtures start and stop the server.
# Usage: tests/clients/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/clients/venv.sh

cargo build --quiet -p baton-cli
export BATON_BIN="$TARGET/debug/baton"
export PATH="$PWD/$VENV/bin:$PATH"
exec "$VENV/bin/pytest" -q tests/clients "$@"
