#!/usr/bin/env python3
"""Seed 002 end to end: the whole AWS CLI flow of the seed against a running Baton.

    python3 examples/seed-002/test_seed_002.py --endpoint http://127.0.0.1:4566

zip the three handlers, iam create-role / put-role-policy, lambda create-function x3,
stepfunctions create-state-machine, start-execution, describe-execution, get-execution-history,
list-executions, the seed's other test inputs, a direct lambda invoke, and the cleanup: each
command as the seed writes it. The handlers' random outcomes (inventory, payment) are made
certain through the functions' environment (update-function-configuration), never by editing
the workflow. `--lambda-only` runs only the Lambda and IAM commands (for a server that does not
serve Step Functions). `cargo run --release -p baton-cli -- serve --listen 127.0.0.1:4566`
serves both.
Ends with `N passed, M failed`; exit code 1 when something failed.
"""

import argparse
import base64
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from aws_cli import Cli, copy_to_workdir, need_aws_cli, wait_for_endpoint  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:order-processing-workflow"
EXECUTION = "arn:aws:states:us-east-1:000000000000:execution:order-processing-workflow:"
FUNCTIONS = [
    ("validate-order", "validate-function.zip", "validate_order.py", "validate_order.lambda_handler"),
    ("check-inventory", "inventory-function.zip", "check_inventory.py", "check_inventory.lambda_handler"),
    ("process-payment", "payment-function.zip", "process_payment.py", "process_payment.lambda_handler"),
]


def set_env(cli, function, variables):
    cli.aws("lambda", "update-function-configuration", "--function-name", function,
            "--environment", json.dumps({"Variables": variables}))


def run_execution(cli, name, order):
    ok, started = cli.aws("stepfunctions", "start-execution", "--state-machine-arn", MACHINE,
                          "--name", name, "--input", json.dumps(order))
    cli.check(ok and started.get("executionArn") == EXECUTION + name, "start-execution %s returns its ARN" % name)
    return cli.wait_execution(EXECUTION + name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("BATON_ENDPOINT", "http://localhost:4566"))
    parser.add_argument("--lambda-only", action="store_true")
    args = parser.parse_args()
    need_aws_cli()
    if not wait_for_endpoint(args.endpoint):
        print("nothing answers at %s" % args.endpoint)
        return 2
    workdir = copy_to_workdir(HERE, ["validate_order.py", "check_inventory.py", "process_payment.py",
                                     "order-workflow.json", "stepfunctions-role-policy.json",
                                     "stepfunctions-trust-policy.json"])
    cli = Cli(args.endpoint, workdir)

    print("Step 1: create the Lambda functions")
    for name, archive, source, handler in FUNCTIONS:
        cli.zip(archive, source)
        ok, conf = cli.aws("lambda", "create-function", "--function-name", name, "--runtime", "python3.9",
                           "--role", ROLE, "--handler", handler, "--zip-file", "fileb://" + archive)
        cli.check(ok and conf.get("FunctionArn") == "arn:aws:lambda:us-east-1:000000000000:function:" + name
                  and conf.get("Handler") == handler and conf.get("State") == "Active",
                  "create-function %s answers its configuration" % name)
    ok, listed = cli.aws("lambda", "list-functions")
    names = sorted(f["FunctionName"] for f in listed.get("Functions", [])) if ok else []
    cli.check(all(f[0] in names for f in FUNCTIONS), "list-functions shows the three functions")
    ok, got = cli.aws("lambda", "get-function", "--function-name", "validate-order")
    cli.check(ok and got["Configuration"]["Runtime"] == "python3.9", "get-function validate-order")

    print("Step 1b: invoke a function directly")
    out = os.path.join(workdir, "out.json")
    ok, inv = cli.aws("lambda", "invoke", "--function-name", "validate-order", *cli.raw_payload_args(),
                      "--payload", json.dumps({"orderId": "O-1", "customerId": "C-1", "amount": 5}),
                      "--log-type", "Tail", out)
    result = json.load(open(out)) if ok and os.path.exists(out) else {}
    cli.check(ok and inv.get("StatusCode") == 200 and result.get("valid") is True, "lambda invoke validate-order")
    log = base64.b64decode(inv.get("LogResult", "")).decode(errors="replace") if ok else ""
    cli.check("Validating order O-1" in log and "REPORT RequestId" in log, "lambda invoke --log-type Tail returns the log")

    print("Step 2: create the IAM role")
    ok, role = cli.aws("iam", "create-role", "--role-name", "stepfunctions-role",
                       "--assume-role-policy-document", "file://stepfunctions-trust-policy.json")
    cli.check(ok and role["Role"]["Arn"] == "arn:aws:iam::000000000000:role/stepfunctions-role", "create-role")
    cli.aws("iam", "put-role-policy", "--role-name", "stepfunctions-role", "--policy-name", "stepfunctions-policy",
            "--policy-document", "file://stepfunctions-role-policy.json")
    ok, role = cli.aws("iam", "get-role", "--role-name", "stepfunctions-role")
    cli.check(ok and role["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == "states.amazonaws.com",
              "get-role returns the trust policy")

    if not args.lambda_only:
        print("Step 4: create the state machine")
        ok, created = cli.aws("stepfunctions", "create-state-machine", "--name", "order-processing-workflow",
                              "--definition", "file://order-workflow.json",
                              "--role-arn", "arn:aws:iam::000000000000:role/stepfunctions-role")
        cli.check(ok and created.get("stateMachineArn") == MACHINE, "create-state-machine")

        print("Step 5-6: execute and monitor (inventory available, payment succeeds)")
        set_env(cli, "check-inventory", {"INVENTORY_AVAILABLE_RATE": "1"})
        set_env(cli, "process-payment", {"PAYMENT_FAILURE_RATE": "0"})
        order = {"orderId": "ORDER-001", "customerId": "CUST-123", "amount": 99.99}
        ok, started = cli.aws("stepfunctions", "start-execution", "--state-machine-arn", MACHINE, "--name", "execution-1",
                              "--input", json.dumps(order))
        cli.check(ok and started.get("executionArn") == EXECUTION + "execution-1", "start-execution execution-1")
        desc = cli.wait_execution(EXECUTION + "execution-1")
        cli.check(desc.get("status") == "SUCCEEDED", "execution-1 SUCCEEDED (got %s)" % desc.get("status"))
        output = json.loads(desc.get("output") or "{}")
        cli.check(output.get("result", {}).get("status") == "completed"
                  and output.get("validation", {}).get("valid") is True
                  and output.get("inventory", {}).get("inventoryAvailable") is True
                  and output.get("payment", {}).get("status") == "charged"
                  and output.get("orderId") == "ORDER-001",
                  "execution-1 output keeps the input and adds validation, inventory, payment, result")
        ok, history = cli.aws("stepfunctions", "get-execution-history", "--execution-arn", EXECUTION + "execution-1")
        types = [e["type"] for e in history.get("events", [])] if ok else []
        cli.check(types[:2] == ["ExecutionStarted", "TaskStateEntered"] and types[-1:] == ["ExecutionSucceeded"]
                  and types.count("LambdaFunctionSucceeded") == 3 and types.count("LambdaFunctionScheduled") == 3,
                  "get-execution-history has three Lambda tasks: %s" % types)
        ok, listed = cli.aws("stepfunctions", "list-executions", "--state-machine-arn", MACHINE)
        runs = {e["name"]: e["status"] for e in listed.get("executions", [])} if ok else {}
        cli.check(runs.get("execution-1") == "SUCCEEDED", "list-executions shows execution-1 SUCCEEDED")

        print("Testing different scenarios")
        for name, order in [("invalid-missing-fields", {"orderId": "ORDER-002", "amount": 50.00}),
                            ("invalid-amount", {"orderId": "ORDER-003", "customerId": "CUST-124", "amount": -10.00})]:
            desc = run_execution(cli, name, order)
            cli.check(desc.get("status") == "FAILED" and desc.get("error") == "ValidationError",
                      "%s fails with ValidationError (got %s %s)" % (name, desc.get("status"), desc.get("error")))
        set_env(cli, "check-inventory", {"INVENTORY_AVAILABLE_RATE": "0"})
        desc = run_execution(cli, "out-of-stock", {"orderId": "ORDER-005", "customerId": "CUST-126", "amount": 20})
        cli.check(desc.get("status") == "FAILED" and desc.get("error") == "OrderProcessingError",
                  "out-of-stock fails with OrderProcessingError")
        set_env(cli, "check-inventory", {"INVENTORY_AVAILABLE_RATE": "1"})
        set_env(cli, "process-payment", {"PAYMENT_FAILURE_RATE": "1"})
        order = {"orderId": "ORDER-004", "customerId": "CUST-125", "amount": 10}
        desc = run_execution(cli, "payment-declined", order)
        cli.check(desc.get("status") == "FAILED" and desc.get("error") == "OrderProcessingError",
                  "payment-declined fails after retries with OrderProcessingError")
        ok, history = cli.aws("stepfunctions", "get-execution-history", "--execution-arn", EXECUTION + "payment-declined")
        failed = [e for e in history.get("events", []) if e["type"] == "LambdaFunctionFailed"] if ok else []
        cli.check(len(failed) == 4 and failed[0]["lambdaFunctionFailedEventDetails"]["error"] == "PaymentError",
                  "process-payment ran 4 times (1 + 3 retries), failing with PaymentError")

        print("Cleanup: state machine")
        cli.aws("stepfunctions", "delete-state-machine", "--state-machine-arn", MACHINE)

    print("Cleanup: functions and role")
    for name, _, _, _ in FUNCTIONS:
        cli.aws("lambda", "delete-function", "--function-name", name)
    cli.aws("iam", "delete-role-policy", "--role-name", "stepfunctions-role", "--policy-name", "stepfunctions-policy")
    cli.aws("iam", "delete-role", "--role-name", "stepfunctions-role")
    ok, _ = cli.aws("lambda", "get-function", "--function-name", "validate-order", expect_ok=False)
    cli.check(not ok, "validate-order is gone")
    return cli.summary()


if __name__ == "__main__":
    sys.exit(main())
