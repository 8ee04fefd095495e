#!/usr/bin/env python3
"""Seed 001 end to end: the order workflow with its three Node.js (ES module) handlers.

    python3 examples/seed-001/test_seed_001.py --endpoint http://127.0.0.1:4566

Deploys checkInventory, processPayment and updateOrderStatus with the AWS CLI (nodejs20.x,
handler index.handler), creates the seed's state machine unchanged (its ARNs name account
211125437318; Baton runs the function by name), and runs the sample order three times with the
random outcomes made certain through the functions' environment: everything succeeds, out of
stock, payment failed. `--lambda-only` invokes the functions directly instead (for a server
without Step Functions). Ends with `N passed, M failed`.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from aws_cli import Cli, need_aws_cli, wait_for_endpoint  # noqa: E402

FUNCTIONS = ["checkInventory", "processPayment", "updateOrderStatus"]
MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:seed-001-orders"


def deploy(cli, name, env):
    # The zip holds index.mjs at its root, as the console's editor deploys it.
    import zipfile
    path = os.path.join(cli.workdir, "%s.zip" % name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(os.path.join(HERE, name, "index.mjs"), "index.mjs")
    ok, conf = cli.aws("lambda", "create-function", "--function-name", name, "--runtime", "nodejs20.x",
                       "--role", "arn:aws:iam::000000000000:role/lambda-role", "--handler", "index.handler",
                       "--zip-file", "fileb://%s.zip" % name, "--environment", json.dumps({"Variables": env}))
    cli.check(ok and conf.get("Runtime") == "nodejs20.x", "create-function %s" % name)


def set_env(cli, name, env):
    cli.aws("lambda", "update-function-configuration", "--function-name", name,
            "--environment", json.dumps({"Variables": env}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("BATON_ENDPOINT", "http://localhost:4566"))
    parser.add_argument("--lambda-only", action="store_true")
    args = parser.parse_args()
    need_aws_cli()
    if not wait_for_endpoint(args.endpoint):
        print("nothing answers at %s" % args.endpoint)
        return 2
    import tempfile
    cli = Cli(args.endpoint, tempfile.mkdtemp(prefix="baton-seed-001-"))
    for name in FUNCTIONS:
        os.makedirs(os.path.join(cli.workdir, name), exist_ok=True)
        with open(os.path.join(HERE, name, "index.mjs")) as src, open(os.path.join(cli.workdir, name, "index.mjs"), "w") as dst:
            dst.write(src.read())
    deploy(cli, "checkInventory", {"IN_STOCK_RATE": "1"})
    deploy(cli, "processPayment", {"PAYMENT_SUCCESS_RATE": "1"})
    deploy(cli, "updateOrderStatus", {})
    order = {"orderId": "12345"}

    if args.lambda_only:
        out = os.path.join(cli.workdir, "out.json")
        for name, want in [("checkInventory", {"orderId": "12345", "inStock": True}),
                           ("processPayment", {"orderId": "12345", "paymentSuccessful": True}),
                           ("updateOrderStatus", {"orderId": "12345", "status": "Completed"})]:
            ok, _ = cli.aws("lambda", "invoke", "--function-name", name, *cli.raw_payload_args(),
                            "--payload", json.dumps(order), out)
            cli.check(ok and json.load(open(out)) == want, "invoke %s" % name)
    else:
        with open(os.path.join(cli.workdir, "definition.json"), "w") as f:
            f.write(open(os.path.join(HERE, "definition.json")).read())
        ok, created = cli.aws("stepfunctions", "create-state-machine", "--name", "seed-001-orders",
                              "--definition", "file://definition.json",
                              "--role-arn", "arn:aws:iam::000000000000:role/stepfunctions-role")
        cli.check(ok and created.get("stateMachineArn") == MACHINE, "create-state-machine")
        scenarios = [
            ("all-good", {"IN_STOCK_RATE": "1"}, {"PAYMENT_SUCCESS_RATE": "1"}, "SUCCEEDED", None),
            ("out-of-stock", {"IN_STOCK_RATE": "0"}, {"PAYMENT_SUCCESS_RATE": "1"}, "FAILED", "OutOfStockError"),
            ("payment-failed", {"IN_STOCK_RATE": "1"}, {"PAYMENT_SUCCESS_RATE": "0"}, "FAILED", "PaymentError"),
        ]
        for name, inventory_env, payment_env, status, error in scenarios:
            set_env(cli, "checkInventory", inventory_env)
            set_env(cli, "processPayment", payment_env)
            ok, started = cli.aws("stepfunctions", "start-execution", "--state-machine-arn", MACHINE,
                                  "--name", name, "--input", json.dumps(order))
            desc = cli.wait_execution(started.get("executionArn", "")) if ok else {}
            cli.check(desc.get("status") == status and desc.get("error") == error,
                      "%s ends %s %s (got %s %s)" % (name, status, error or "", desc.get("status"), desc.get("error")))
            if status == "SUCCEEDED":
                cli.check(json.loads(desc.get("output") or "null") == {"orderId": "12345", "status": "Completed"},
                          "%s output is the updated order" % name)
        cli.aws("stepfunctions", "delete-state-machine", "--state-machine-arn", MACHINE)
    for name in FUNCTIONS:
        cli.aws("lambda", "delete-function", "--function-name", name)
    return cli.summary()


if __name__ == "__main__":
    sys.exit(main())
