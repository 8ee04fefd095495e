#!/usr/bin/env bash
# Client tests: the AWS CLI (seed 002's Step Functions commands) and boto3 activity workers
# against a real `baton serve`. Creates its own virtualenv under the cargo target directory
# (pip: awscli, boto3, pytest), builds the binary, and runs pytest; the fixtures start and stop
# the server. Usage: tests/clients/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-target}"
VENV="$TARGET/client-venv"

if [ ! -x "$VENV/bin/pytest" ] || [ ! -x "$VENV/bin/aws" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check awscli boto3 pytest
fi

cargo build --quiet -p baton-cli
export BATON_BIN="$TARGET/debug/baton"
export PATH="$PWD/$VENV/bin:$PATH"
exec "$VENV/bin/pytest" -q tests/clients "$@"
