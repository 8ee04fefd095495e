# Sourced by the client scripts: makes the Python virtualenv with the AWS clients under the
# cargo target directory (pip: awscli, boto3, pytest) and sets VENV.
TARGET="${CARGO_TARGET_DIR:-target}"
VENV="$TARGET/client-venv"
if [ ! -x "$VENV/bin/pytest" ] || [ ! -x "$VENV/bin/aws" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check awscli boto3 pytest
fi
