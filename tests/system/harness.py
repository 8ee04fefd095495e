"""Helpers shared by the system tests (crash_test.py, multinode_test.py): the boto3 virtualenv,
the binary under test, free ports and timestamped logs."""
import os
import socket
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
_IN_VENV = "BATON_SYSTEM_TEST_IN_VENV"


def ensure_boto3():
    """Returns if boto3 imports; else makes a venv under $CARGO_TARGET_DIR with it and re-runs the
    calling script there (never returns then)."""
    try:
        import boto3  # noqa: F401
        return
    except ImportError:
        pass
    venv = os.path.join(TARGET, "system-venv")
    python = os.path.join(venv, "bin", "python")
    if os.environ.get(_IN_VENV):
        sys.exit("boto3 is still missing inside " + venv)
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    subprocess.check_call([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "boto3"])
    os.environ[_IN_VENV] = "1"
    os.execv(python, [python, os.path.abspath(sys.argv[0])] + sys.argv[1:])


def now_str(t=None):
    t = time.time() if t is None else t
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def log(*parts):
    print(now_str(), *parts, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary():
    """$BATON_BIN, else the release binary (built when missing)."""
    binary = os.environ.get("BATON_BIN") or os.path.join(TARGET, "release", "baton")
    if not os.path.exists(binary):
        log("building", binary)
        subprocess.check_call(["cargo", "build", "--release", "-p", "baton-cli"], cwd=REPO)
    return binary
