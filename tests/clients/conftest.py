"""Fixtures for the client tests: a `baton serve` on an ephemeral port with a fresh data dir.

The binary comes from $BATON_BIN (run.sh builds it). Clients get dummy credentials: Baton
accepts any signature.
"""
import os
import re
import signal
import subprocess
import tempfile
import threading

import boto3
import botocore.config
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(REPO, "..", "shared")
ROLE = "arn:aws:iam::000000000000:role/stepfunctions-role"


class Baton:
    def __init__(self):
        binary = os.environ.get("BATON_BIN", os.path.join(REPO, "target", "debug", "baton"))
        self.data_dir = tempfile.mkdtemp(prefix="baton-clients-")
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "RUST_LOG": "info"},
        )
        self.log = []
        for line in self.process.stderr:
            self.log.append(line)
            match = re.search(r"address=(\S+)", line)
            if match:
                self.endpoint = "http://" + match.group(1)
                break
        else:
            raise RuntimeError("baton exited before listening:\n" + "".join(self.log))
        # Keep draining the log so the server never blocks on a full pipe.
        threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True).start()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture(scope="session")
def baton():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = Baton()
    yield server
    assert server.stop() == 0, "baton did not exit cleanly on SIGTERM"


@pytest.fixture(scope="session")
def sfn(baton):
    # GetActivityTask long-polls for up to 60 s, as on AWS.
    config = botocore.config.Config(read_timeout=70, retries={"max_attempts": 1})
    return boto3.client(
        "stepfunctions",
        endpoint_url=baton.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )
