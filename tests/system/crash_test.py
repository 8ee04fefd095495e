#!/usr/bin/env python3
"""Crash test: `kill -9` baton serve repeatedly while 1,000 executions run, then check that
every execution succeeded with a history identical in shape to an uninterrupted run.

The machine mixes Wait states (1-3 s, taken from the input) and activity tasks answered by
boto3 workers. A killer thread sends SIGKILL --kills times at random points of progress (the
first while executions are still being started, the others after a random fraction of the
activity tasks were answered, some during recovery) and restarts the server on the same data
directory and port each time. Clients retry through the
outages: StartExecution by name (same name and input is the same execution), GetActivityTask
and SendTaskSuccess until the server answers. After the run every execution must be SUCCEEDED,
its output what the workers computed, and its history the reference event-type sequence of an
uninterrupted run (taken first, before any kill), with ids 1..n and no duplicate or missing
event.

Usage: python3 tests/system/crash_test.py [--executions 1000] [--kills 4] [--timeout 900]
Needs boto3: if it is missing, the script makes a venv under $CARGO_TARGET_DIR (default
target/) and re-runs itself there. The binary is $BATON_BIN, else target/release/baton (built
with `cargo build --release -p baton-cli` when missing). Loopback only.
"""
import argparse
import json
import os
import random

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import ensure_boto3, find_binary, free_port, log

ensure_boto3()

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/crash-test"
TRANSIENT = (botocore.exceptions.BotoCoreError,)





class Server:
    """`baton serve` on a fixed port and data dir; can be SIGKILLed and restarted."""

    def __init__(self, binary, port, data_dir, log_path):
        self.binary, self.port, self.data_dir = binary, port, data_dir
        self.log_file = open(log_path, "ab")
        self.process = None
        self.lock = threading.Lock()
        self.starts = 0

    def start(self):
        with self.lock:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir],
                stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file,
                env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn"), "NO_COLOR": "1"},
            )
            self.starts += 1
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"baton exited with {self.process.returncode} on start; see {self.log_file.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return time.time()
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("baton did not listen within 30 s")

    def kill9(self):
        with self.lock:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def terminate(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None


def client(endpoint):
    config = botocore.config.Config(
        read_timeout=70, connect_timeout=2, retries={"max_attempts": 1},
        max_pool_connections=4,
    )
    return boto3.client(
        "stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test", config=config,
    )


def retrying(call, stop, *args, **kwargs):
    """Calls until the server answers (outages are expected); service errors propagate."""
    while not stop.is_set():
        try:
            return call(*args, **kwargs)
        except TRANSIENT:
            time.sleep(0.05)
        except botocore.exceptions.ClientError as err:
            if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) >= 500:
                time.sleep(0.05)
                continue
            raise
    raise TimeoutError("stopped")


def definition(activity):
    # A GetActivityTask answer lost because the server died between committing ActivityStarted
    # and writing the response loses that task, on AWS as here (activities are handed out at
    # most once); TimeoutSeconds and a Retry recover it. Such retries are only accepted right
    # at a kill (see `normalized`).
    task = {
        "Type": "Task", "Resource": activity, "TimeoutSeconds": 30,
        "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 2}],
    }
    return {
        "Comment": "crash test: Wait states and activity tasks",
        "StartAt": "FirstWait",
        "States": {
            "FirstWait": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "FirstTask"},
            "FirstTask": {**task, "ResultPath": "$.first", "Next": "SecondWait"},
            "SecondWait": {"Type": "Wait", "Seconds": 1, "Next": "SecondTask"},
            "SecondTask": {**task, "ResultPath": "$.second", "Next": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"i.$": "$.i", "sum.$": "States.MathAdd($.first.x, $.second.x)"}, "End": True},
        },
    }


def expected_output(i):
    # Each task answers {"x": i + 1}.
    return {"i": i, "sum": 2 * (i + 1)}


class Workers:
    def __init__(self, endpoint, activity, count, stop):
        self.endpoint, self.activity, self.stop = endpoint, activity, stop
        self.answered = 0
        self.stale = 0
        self.errors = []
        self.trace = {}  # execution index -> what the workers saw, for failure reports
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(count)]
        for t in self.threads:
            t.start()

    def note(self, i, what):
        with self.lock:
            self.trace.setdefault(i, []).append(f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {what}")

    def run(self, n):
        try:
            self.work(n)
        except Exception as err:  # a dead worker would leave tasks unanswered: report it
            with self.lock:
                self.errors.append(f"worker-{n}: {err!r}")

    def work(self, n):
        sfn = client(self.endpoint)
        while not self.stop.is_set():
            try:
                task = retrying(sfn.get_activity_task, self.stop, activityArn=self.activity, workerName=f"worker-{n}")
            except TimeoutError:
                return
            token = task.get("taskToken")
            if not token:
                continue
            i = json.loads(task["input"])["i"]
            self.note(i, f"worker-{n} got token {token[:12]}...")
            try:
                retrying(sfn.send_task_success, self.stop, taskToken=token, output=json.dumps({"x": i + 1}))
                self.note(i, f"worker-{n} answered")
                with self.lock:
                    self.answered += 1
            except botocore.exceptions.ClientError as err:
                code = err.response["Error"]["Code"]
                self.note(i, f"worker-{n} answer refused: {code}")
                # A token answered before a crash whose answer was committed but not acknowledged.
                if code in ("TaskTimedOut", "TaskDoesNotExist"):
                    with self.lock:
                        self.stale += 1
                else:
                    raise
            except TimeoutError:
                return


def history(sfn, arn):
    events, token = [], None
    while True:
        kwargs = {"executionArn": arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def list_all(sfn, machine, status=None):
    items, token = [], None
    while True:
        kwargs = {"stateMachineArn": machine, "maxResults": 1000}
        if status:
            kwargs["statusFilter"] = status
        if token:
            kwargs["nextToken"] = token
        page = sfn.list_executions(**kwargs)
        items.extend(page["executions"])
        token = page.get("nextToken")
        if not token:
            return items


LOST_POLL_WINDOW = (-0.05, 1.0)  # seconds from ActivityStarted to the kill that lost its answer


def normalized(events, kill_times):
    """Event types with each lost-poll retry (ActivityStarted, ActivityTimedOut,
    ActivityScheduled) removed when that ActivityStarted was committed just before a kill;
    returns (types, how many were removed)."""
    types = [e["type"] for e in events]
    out, lost, i = [], 0, 0
    while i < len(types):
        if types[i:i + 3] == ["ActivityStarted", "ActivityTimedOut", "ActivityScheduled"]:
            started = events[i]["timestamp"].timestamp()
            if any(LOST_POLL_WINDOW[0] <= k - started <= LOST_POLL_WINDOW[1] for k in kill_times):
                lost += 1
                i += 3
                continue
        out.append(types[i])
        i += 1
    return out, lost


def shape_problems(events, reference, kill_times, lost_polls):
    types, lost = normalized(events, kill_times)
    lost_polls.append(lost)
    ids = [e["id"] for e in events]
    problems = []
    if ids != list(range(1, len(ids) + 1)):
        problems.append(f"ids not contiguous from 1: {ids}")
    if types != reference:
        problems.append(f"event types differ from the uninterrupted run:\n      got      {types}\n      expected {reference}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=4, help="at least this many kill -9 (>= 3)")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--starters", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    began = time.time()
    deadline = began + args.timeout
    binary = find_binary()
    work = tempfile.mkdtemp(prefix="baton-crash-")
    data_dir = os.path.join(work, "data")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = Server(binary, port, data_dir, os.path.join(work, "baton.log"))
    log(f"seed {seed}; data {data_dir}; log {work}/baton.log; {endpoint}")
    server.start()
    sfn = client(endpoint)
    stop = threading.Event()
    failures = []

    activity = sfn.create_activity(name="crash-work")["activityArn"]
    machine = sfn.create_state_machine(name="crash", definition=json.dumps(definition(activity)), roleArn=ROLE)["stateMachineArn"]
    workers = Workers(endpoint, activity, args.workers, stop)

    # 1. The reference: a few executions with no crash.
    reference_runs = []
    for k in range(3):
        arn = sfn.start_execution(stateMachineArn=machine, name=f"reference-{k}", input=json.dumps({"i": -1 - k, "wait": 1}))["executionArn"]
        reference_runs.append(arn)
    while any(sfn.describe_execution(executionArn=a)["status"] == "RUNNING" for a in reference_runs):
        if time.time() > deadline:
            sys.exit("FAIL: the reference executions did not finish")
        time.sleep(0.1)
    shapes = {tuple(e["type"] for e in history(sfn, a)) for a in reference_runs}
    statuses = {sfn.describe_execution(executionArn=a)["status"] for a in reference_runs}
    if len(shapes) != 1 or statuses != {"SUCCEEDED"}:
        sys.exit(f"FAIL: the uninterrupted reference runs disagree: {statuses} {shapes}")
    reference = list(next(iter(shapes)))
    log(f"reference history: {len(reference)} events: {' '.join(reference)}")

    # 2. Start the executions while a killer thread crashes the server at random moments.
    inputs = {f"run-{i:05d}": {"i": i, "wait": rng.randint(1, 3)} for i in range(args.executions)}
    names = list(inputs)
    started = {}
    start_lock = threading.Lock()

    def starter(chunk):
        c = client(endpoint)
        for name in chunk:
            arn = retrying(c.start_execution, stop, stateMachineArn=machine, name=name, input=json.dumps(inputs[name]))["executionArn"]
            with start_lock:
                started[name] = arn

    kills = []
    kill_walls = []
    lost_polls = []

    all_tasks = 2 * (args.executions + len(reference_runs))
    kills_during_work = []

    # Kill when the workers have answered a random fraction of all tasks, so that every kill
    # lands while work is outstanding (some right after a restart, during recovery).
    # The first kill lands while StartExecution calls are still being made.
    thresholds = [("started", rng.uniform(0.2, 0.8) * args.executions)]
    thresholds += [("answered", f * all_tasks) for f in sorted(rng.uniform(0.02, 0.9) for _ in range(args.kills - 1))]

    def progress(kind):
        return len(started) if kind == "started" else workers.answered

    def killer():
        for kind, threshold in thresholds:
            while progress(kind) < threshold and not stop.is_set():
                time.sleep(0.005)
            if stop.is_set():
                return
            if kind == "answered":
                time.sleep(rng.uniform(0.0, 0.3))
            kills_during_work.append(workers.answered < all_tasks)
            server.kill9()
            down = time.time()
            kills.append(down - began)
            kill_walls.append(down)
            time.sleep(rng.uniform(0.0, 0.5))
            up = server.start()
            log(f"kill -9 #{len(kills)} at {time.strftime('%H:%M:%S', time.localtime(down))}.{int(down * 1000) % 1000:03d} ({down - began:.1f}s); "
                f"listening again after {up - down:.2f}s; {len(started)}/{args.executions} started, "
                f"{workers.answered}/{all_tasks} tasks answered")

    run_began = time.time()
    killer_thread = threading.Thread(target=killer, daemon=True)
    killer_thread.start()
    chunks = [names[k::args.starters] for k in range(args.starters)]
    starters = [threading.Thread(target=starter, args=(c,), daemon=True) for c in chunks]
    for t in starters:
        t.start()
    for t in starters:
        t.join(max(0, deadline - time.time()))
    start_secs = time.time() - run_began
    log(f"{len(started)} executions started in {start_secs:.1f}s")
    killer_thread.join(max(0, deadline - time.time()))
    if len(kills) < args.kills:
        stop.set()
        sys.exit(f"FAIL: only {len(kills)} kills before the deadline")
    if sum(kills_during_work) < min(3, args.kills):
        failures.append(f"only {sum(kills_during_work)} kills landed while activity tasks were outstanding")

    # 3. Let the work finish.
    while True:
        try:
            running = len(list_all(sfn, machine, "RUNNING"))
        except TRANSIENT:
            running = -1
        if running == 0:
            break
        if time.time() > deadline:
            stop.set()
            sys.exit(f"FAIL: {running} executions still RUNNING after {args.timeout:.0f}s (data: {data_dir})")
        time.sleep(0.5)
    finish_secs = time.time() - run_began
    log(f"no execution running after {finish_secs:.1f}s")

    # 4. Check every execution.
    listed = {e["name"]: e for e in list_all(sfn, machine)}
    counts = {}
    for name in names:
        entry = listed.get(name)
        if entry is None:
            failures.append(f"{name}: missing from ListExecutions")
            continue
        if started.get(name) != entry["executionArn"]:
            failures.append(f"{name}: StartExecution returned {started.get(name)}, listed {entry['executionArn']}")
        described = sfn.describe_execution(executionArn=entry["executionArn"])
        counts[described["status"]] = counts.get(described["status"], 0) + 1
        if described["status"] != "SUCCEEDED":
            failures.append(f"{name}: {described['status']} {described.get('error')} {described.get('cause')}")
            events = history(sfn, entry["executionArn"])
            failures.append("    history: " + ", ".join(
                f"{e['id']} {e['type']} {e['timestamp'].strftime('%H:%M:%S.%f')[:-3]}" for e in events))
            failures.append("    workers: " + "; ".join(workers.trace.get(inputs[name]["i"], ["never got a task"])))
            continue
        output = json.loads(described["output"])
        if output != expected_output(inputs[name]["i"]):
            failures.append(f"{name}: output {output}, expected {expected_output(inputs[name]['i'])}")
        for problem in shape_problems(history(sfn, entry["executionArn"]), reference, kill_walls, lost_polls):
            failures.append(f"{name}: {problem}")
    extra = set(listed) - set(names) - {f"reference-{k}" for k in range(3)}
    if extra:
        failures.append(f"unexpected executions: {sorted(extra)[:10]}")
    failures.extend(workers.errors)
    stop.set()
    code = server.terminate()
    if code != 0:
        failures.append(f"baton exited with {code} on SIGTERM")

    print()
    print("crash test summary")
    print(f"  seed                 {seed}")
    print(f"  executions           {args.executions} ({counts})")
    print(f"  kill -9              {len(kills)} at {', '.join(f'{k:.1f}s' for k in kills)} "
          f"({sum(kills_during_work)} while tasks were outstanding)")
    print(f"  server starts        {server.starts}")
    print(f"  started in           {start_secs:.1f}s; all finished after {finish_secs:.1f}s")
    print(f"  activity answers     {workers.answered} accepted, {workers.stale} refused as already closed")
    print(f"  history shape        {len(reference)} events, checked on every execution")
    print(f"  lost poll answers    {sum(lost_polls)} (ActivityStarted committed at a kill, answer never delivered; "
          f"recovered by TimeoutSeconds + Retry)")
    print(f"  total                {time.time() - began:.1f}s")
    if failures:
        print(f"FAIL: {len(failures)} problems (data kept in {work}):")
        for line in failures[:30]:
            print("  " + line)
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
