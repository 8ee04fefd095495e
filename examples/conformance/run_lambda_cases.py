#!/usr/bin/env python3
"""Runs the AWS-recorded conformance cases that need Lambda against a running Baton.

    python3 examples/conformance/run_lambda_cases.py --endpoint http://127.0.0.1:4566 \
        [--cases ../shared/conformance/cases] [--only SUBSTR] [-v]

The conformance runner (shared/conformance/run.py) does not create the Lambda functions a case
uses; each case lists them under `resources` with their behaviour in words. For each case
this script deploys those functions (python3.12, handler.handler, code written from the
behaviour, as LocalStack's handler files do it), then runs the runner on that case alone,
because cases reuse function names with different behaviours. Ends with the runner's totals
summed: `N passed, M failed, K skipped`.
"""

import argparse
import glob
import io
import json
import os
import re
import subprocess
import sys
import zipfile

import boto3

# Behaviour (as the cases word it) -> handler.py. The raise is on line 2, as in AWS's
# recordings of raise_exception.py.
HANDLERS = {
    "returns its event unchanged (identity)": "def handler(event, context):\n    return event\n",
    'raises Exception("Some exception was raised.") (errorType "Exception")':
        'def handler(event, context):\n    raise Exception("Some exception was raised.")\n',
    "returns the raw bytes '\"HelloWorld!\"' (a JSON string payload)":
        'def handler(event, context):\n    return "HelloWorld!"\n',
    'returns {"Return": "HelloWorld"} whatever the event':
        'def handler(event, context):\n    return {"Return": "HelloWorld"}\n',
    'returns 257 KiB of the letter "a" as bytes (over the 256 KiB payload limit)':
        'def handler(event, context):\n    return "a" * (257 * 1024)\n',
    "sleeps 60 s, then returns its event":
        "import time\ndef handler(event, context):\n    time.sleep(60)\n    return event\n",
}


def zipped(code):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", code)
    return buffer.getvalue()


def deploy(client, resource):
    code = HANDLERS.get(resource["behaviour"])
    if code is None:
        return "no handler for behaviour %r" % resource["behaviour"]
    try:
        client.delete_function(FunctionName=resource["name"])
    except client.exceptions.ResourceNotFoundException:
        pass
    client.create_function(FunctionName=resource["name"], Runtime="python3.12", Handler="handler.handler",
                           Role="arn:aws:iam::000000000000:role/lambda", Code={"ZipFile": zipped(code)},
                           Timeout=90)
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_cases = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "conformance", "cases"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("BATON_ENDPOINT", "http://localhost:4566"))
    parser.add_argument("--cases", default=default_cases)
    parser.add_argument("--only", default="")
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args()
    runner = os.path.join(os.path.dirname(args.cases), "run.py")
    if not os.path.exists(runner):
        print("no conformance runner at %s; skipping" % runner)
        return 0
    client = boto3.client("lambda", endpoint_url=args.endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    totals = [0, 0, 0]
    for path in sorted(glob.glob(os.path.join(args.cases, "*", "*.json"))):
        case = json.load(open(path))
        if "lambda" not in case.get("needs", []) or args.only not in case["id"]:
            continue
        problems = [deploy(client, r) for r in case.get("resources", []) if r["type"] == "lambda"]
        problems = [p for p in problems if p]
        if problems:
            print("SKIP %s: %s" % (case["id"], "; ".join(problems)))
            totals[2] += 1
            continue
        command = [sys.executable, runner, "--endpoint", args.endpoint, "--cases", args.cases,
                   "--only", case["id"], "--timeout", "90"] + (["-v"] if args.v else [])
        out = subprocess.run(command, capture_output=True, text=True, timeout=300).stdout
        for line in out.splitlines():
            if line.startswith(("PASS", "FAIL", "SKIP")) and case["id"] in line:
                print(line)
            elif args.v and not re.match(r"^\d+ passed", line):
                print("    " + line)
        match = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped", out, re.M)
        if match:
            for i in range(3):
                totals[i] += int(match.group(i + 1))
    print("%d passed, %d failed, %d skipped" % tuple(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
