"""Helpers for the seed scripts: run AWS CLI commands against Baton and count checks.

Each script runs the seed's commands as the seed writes them (`--endpoint-url ... --profile
localstack`), with a throw-away AWS config that defines the `localstack` profile, and ends
with the line `N passed, M failed`.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile


class Cli:
    def __init__(self, endpoint, workdir):
        self.endpoint = endpoint.rstrip("/")
        self.workdir = workdir
        self.passed = 0
        self.failed = 0
        config_dir = tempfile.mkdtemp(prefix="baton-aws-")
        with open(os.path.join(config_dir, "config"), "w") as f:
            f.write("[profile localstack]\nregion = us-east-1\noutput = json\n")
        with open(os.path.join(config_dir, "credentials"), "w") as f:
            f.write("[localstack]\naws_access_key_id = test\naws_secret_access_key = test\n")
        self.env = dict(os.environ)
        self.env.update({
            "AWS_CONFIG_FILE": os.path.join(config_dir, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(config_dir, "credentials"),
            "AWS_PAGER": "",
        })
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            self.env.pop(key, None)

    def raw_payload_args(self):
        """`--cli-binary-format raw-in-base64-out` for AWS CLI v2 (v1 sends --payload as is)."""
        version = subprocess.run(["aws", "--version"], capture_output=True, text=True, env=self.env)
        text = (version.stdout + version.stderr).strip()
        return [] if text.startswith("aws-cli/1.") else ["--cli-binary-format", "raw-in-base64-out"]

    def aws(self, *args, expect_ok=True):
        """Runs `aws ARGS --endpoint-url E --profile localstack`; returns (ok, parsed JSON or text)."""
        command = ["aws", *args, "--endpoint-url", self.endpoint, "--profile", "localstack"]
        shown = " ".join(a if len(a) < 80 else a[:77] + "..." for a in args)
        result = subprocess.run(command, cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=120)
        ok = result.returncode == 0
        out = result.stdout.strip()
        try:
            parsed = json.loads(out) if out else {}
        except ValueError:
            parsed = out
        if ok != expect_ok:
            self.fail("aws %s -> exit %d: %s %s" % (shown, result.returncode, out[:500], result.stderr.strip()[:500]))
        else:
            print("  ok  aws %s" % shown)
        return ok, (parsed if ok else result.stderr)

    def check(self, condition, what):
        if condition:
            self.passed += 1
            print("  ok  %s" % what)
        else:
            self.fail(what)
        return condition

    def fail(self, what):
        self.failed += 1
        print("FAIL  %s" % what)

    def zip(self, archive, *files):
        """`zip ARCHIVE FILES` (the seeds' step), with Python's zipfile where zip is missing."""
        if shutil.which("zip"):
            subprocess.run(["zip", "-q", archive, *files], cwd=self.workdir, check=True)
        else:
            with zipfile.ZipFile(os.path.join(self.workdir, archive), "w", zipfile.ZIP_DEFLATED) as z:
                for name in files:
                    z.write(os.path.join(self.workdir, name), name)

    def wait_execution(self, arn, timeout=90):
        """Polls describe-execution until the execution leaves RUNNING."""
        deadline = time.time() + timeout
        while True:
            ok, desc = self.aws("stepfunctions", "describe-execution", "--execution-arn", arn)
            if not ok or desc.get("status") != "RUNNING" or time.time() > deadline:
                return desc if ok else {}
            time.sleep(0.5)

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1


def wait_for_endpoint(endpoint, seconds=30):
    """Waits until something answers HTTP at `endpoint`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(endpoint.rstrip("/") + "/2015-03-31/functions/", timeout=2).read()
            return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            time.sleep(0.2)
    return False


def copy_to_workdir(here, names):
    workdir = tempfile.mkdtemp(prefix="baton-seed-")
    for name in names:
        shutil.copy(os.path.join(here, name), workdir)
    return workdir


def need_aws_cli():
    if shutil.which("aws") is None:
        print("the AWS CLI (aws) is not installed: pip install awscli")
        sys.exit(2)
