#!/usr/bin/env python3
"""Function URL + AWS SDK for JavaScript v3 (seeds 000 and 004) against a running Baton.

    python3 examples/seed-004/test_seed_004.py --endpoint http://127.0.0.1:4566

Installs the approval receiver's dependency (@aws-sdk/client-sfn) with npm into a copy of
approval/, deploys it as a nodejs20.x function from that directory (Baton's local-directory
code, `S3Bucket hot-reload` + the path as `S3Key`) with a function URL (AuthType NONE), deploys
request-approval (Python), creates the workflow, and for each decision (approve, reject) starts
an execution, reads the approval link from the TaskSubmitted event, opens it, and checks that
the execution resumed. Ends with `N passed, M failed`.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from aws_cli import Cli, need_aws_cli, wait_for_endpoint  # noqa: E402

MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:seed-004-approval"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("BATON_ENDPOINT", "http://localhost:4566"))
    args = parser.parse_args()
    need_aws_cli()
    if shutil.which("npm") is None:
        print("npm is needed to install the approval receiver's SDK")
        return 2
    if not wait_for_endpoint(args.endpoint):
        print("nothing answers at %s" % args.endpoint)
        return 2
    work = tempfile.mkdtemp(prefix="baton-seed-004-")
    cli = Cli(args.endpoint, work)
    approval_dir = os.path.join(work, "approval")
    shutil.copytree(os.path.join(HERE, "approval"), approval_dir)
    install = subprocess.run(["npm", "install", "--omit=dev", "--no-audit", "--no-fund"], cwd=approval_dir,
                             capture_output=True, text=True, timeout=600)
    if not cli.check(install.returncode == 0, "npm install @aws-sdk/client-sfn"):
        print(install.stderr[-2000:])
        return cli.summary()

    ok, _ = cli.aws("lambda", "create-function", "--function-name", "approval-receiver", "--runtime", "nodejs20.x",
                    "--role", "arn:aws:iam::000000000000:role/lambda-role", "--handler", "index.handler",
                    "--code", "S3Bucket=hot-reload,S3Key=%s" % approval_dir)
    ok, url = cli.aws("lambda", "create-function-url-config", "--function-name", "approval-receiver", "--auth-type", "NONE")
    function_url = url.get("FunctionUrl", "") if ok else ""
    cli.check(function_url.startswith("http"), "create-function-url-config gives a URL: %s" % function_url)

    shutil.copy(os.path.join(HERE, "request-approval", "app.py"), work)
    cli.zip("request-approval.zip", "app.py")
    cli.aws("lambda", "create-function", "--function-name", "request-approval", "--runtime", "python3.12",
            "--role", "arn:aws:iam::000000000000:role/lambda-role", "--handler", "app.handler",
            "--zip-file", "fileb://request-approval.zip",
            "--environment", json.dumps({"Variables": {"APPROVAL_URL": function_url}}))
    shutil.copy(os.path.join(HERE, "workflow.json"), work)
    ok, created = cli.aws("stepfunctions", "create-state-machine", "--name", "seed-004-approval",
                          "--definition", "file://workflow.json",
                          "--role-arn", "arn:aws:iam::000000000000:role/stepfunctions-role")
    cli.check(ok and created.get("stateMachineArn") == MACHINE, "create-state-machine")

    for decision, status in [("approve", "SHIPPED"), ("reject", "CANCELLED")]:
        ok, started = cli.aws("stepfunctions", "start-execution", "--state-machine-arn", MACHINE,
                              "--name", "order-" + decision, "--input", json.dumps({"orderId": "O-" + decision}))
        arn = started.get("executionArn", "") if ok else ""
        if not arn:
            continue
        link = None
        deadline = time.time() + 30
        while link is None and time.time() < deadline:
            ok, history = cli.aws("stepfunctions", "get-execution-history", "--execution-arn", arn)
            for event in history.get("events", []) if ok else []:
                if event["type"] == "TaskSubmitted":
                    output = json.loads(event["taskSubmittedEventDetails"]["output"])
                    link = output["Payload"][decision]
            if link is None:
                time.sleep(0.5)
        if not cli.check(link is not None, "%s: the approval request was sent (TaskSubmitted)" % decision):
            continue
        with urllib.request.urlopen(link, timeout=30) as response:
            page = response.read().decode()
            word = "approved" if decision == "approve" else "rejected"
            cli.check(response.status == 200 and ("Shipment %s</h1>" % word) in page,
                      "%s: opening the link answers %s" % (decision, page))
        desc = cli.wait_execution(arn)
        output = json.loads(desc.get("output") or "{}")
        cli.check(desc.get("status") == "SUCCEEDED" and output.get("status") == status,
                  "%s: the execution resumed and ended %s (got %s %s)" % (decision, status, desc.get("status"), output))

    cli.aws("stepfunctions", "delete-state-machine", "--state-machine-arn", MACHINE)
    cli.aws("lambda", "delete-function-url-config", "--function-name", "approval-receiver")
    for name in ["approval-receiver", "request-approval"]:
        cli.aws("lambda", "delete-function", "--function-name", name)
    return cli.summary()


if __name__ == "__main__":
    sys.exit(main())
