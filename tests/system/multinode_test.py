#!/usr/bin/env python3
"""Multi-node test: several `baton serve` processes on one PostgreSQL database run 2,000
executions with Wait, activity and callback tasks while nodes are `kill -9`ed; every execution
must complete exactly once with a consistent history.

Setup: a fresh database `baton_mn_<random>` (dropped at the end unless --keep), --nodes nodes
(ids n1, n2, ...; each with its own data directory and port, lease --lease-ms). The state
machine is

    Wait (1-3 s from the input) -> activity Task (boto3 workers) -> callback Task
    (lambda:invoke.waitForTaskToken on a Python function created through the Lambda API of
    every node) -> end

The function does not call Baton: it appends {"id", "token", "endpoint"} to a spool file; the
harness tails the spool and sends SendTaskSuccess to a random live node, so callbacks cross
nodes. Activity workers poll random live nodes and answer through another random live node.
Each task's result lands in its ResultPath, so the final output proves both ran.

Executions are started round-robin over the nodes by name (a retry after a connection error,
on another node, is idempotent). A killer thread sends SIGKILL to the process group of a random
live node when a fraction of the activity work is done (about 25% and 60% for two kills);
every kill but the last is followed, after the lease, by a restart on the same data directory
and port with a new node id; the last killed node stays dead. Clients route around dead nodes.

Checks, per execution: SUCCEEDED, the expected output, listed exactly once, history ids 1..n
with one ExecutionStarted and one ExecutionSucceeded, one ActivitySucceeded and one
TaskSucceeded, and the event-type sequence of an uninterrupted reference run (taken first,
before any kill). Two differences are accepted and counted: an activity poll answer lost in a
kill (ActivityStarted near a kill, then TimeoutSeconds + Retry; never more of them than polls
that lost their connection to a killed node) and a missing TaskSubmitted (the callback can
overtake the function's own return). Refused duplicate
callbacks (TaskTimedOut, InvalidToken, TaskDoesNotExist) are tolerated and counted.

With --restart-postgres COMMAND the command (say `pg_ctlcluster 15 main restart`) runs once at
about half of the activity work: the nodes must ride the outage out (their store retries) with
the same checks on every execution, and every live node must report a healthy database on
/health again within 60 s (what /health answered during the outage is printed).

Usage: python3 tests/system/multinode_test.py [--executions 2000] [--nodes 3] [--kills 2]
           [--timeout 900] [--keep] [--database-url postgres://postgres@127.0.0.1:5432]
           [--restart-postgres COMMAND]
Needs psql and PostgreSQL (trust auth or a password in the URL) and boto3: if boto3 is missing,
the script makes a venv under $CARGO_TARGET_DIR (default target/) and re-runs itself there.
The binary is $BATON_BIN, else target/release/baton (built when missing). Loopback only. Node
logs are in the temporary directory (kept, with their tails printed, on failure).
"""
import argparse
import io
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import zipfile

from harness import ensure_boto3, find_binary, free_port, log, now_str

ensure_boto3()

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/multinode-test"
FUNCTION = "mn-callback"
TRANSIENT = (botocore.exceptions.BotoCoreError,)
# Answers to a token whose task is already closed (a duplicate or an ambiguous retry).
REFUSED = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")

HANDLER = r'''import json
import os


def handler(event, context):
    """Hands the task token to the test harness through a spool file; never calls Baton."""
    line = json.dumps({"id": event["id"], "token": event["token"],
                       "endpoint": os.environ.get("AWS_ENDPOINT_URL", "")}) + "\n"
    path = os.path.join(event["spool"], "%d.jsonl" % os.getpid())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return {"spooled": event["id"]}
'''






def psql(base_url, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{base_url}/postgres", "-c", sql],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True, text=True)


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as err:
        return [f"(cannot read {path}: {err})"]
    return text.splitlines()[-lines:]


_client_lock = threading.Lock()
_local = threading.local()


def client(service, endpoint):
    """One client per thread, service and endpoint (creating clients is not thread-safe)."""
    cache = getattr(_local, "clients", None)
    if cache is None:
        cache = _local.clients = {}
    key = (service, endpoint)
    if key not in cache:
        config = botocore.config.Config(
            read_timeout=70, connect_timeout=2, retries={"max_attempts": 1}, max_pool_connections=4,
        )
        with _client_lock:
            cache[key] = boto3.session.Session().client(
                service, endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="test", aws_secret_access_key="test", config=config,
            )
    return cache[key]


class Node:
    """One `baton serve` slot: a port and a data directory; each start gets a new node id."""

    def __init__(self, binary, slot, port, data_dir, work, database, lease_ms, multi):
        self.binary, self.slot, self.port, self.data_dir = binary, slot, port, data_dir
        self.work, self.database, self.lease_ms, self.multi = work, database, lease_ms, multi
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = None
        self.node_id = None
        self.up = False
        self.logs = []
        self.groups = []  # process groups started, for the final cleanup

    def start(self, node_id):
        self.node_id = node_id
        log_path = os.path.join(self.work, f"{node_id}.log")
        self.logs.append(log_path)
        log_file = open(log_path, "ab")
        command = [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir,
                   "--database", self.database]
        if self.multi:
            command += ["--node-id", node_id, "--lease-ms", str(self.lease_ms)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info"), "NO_COLOR": "1"},
        )
        log_file.close()
        self.groups.append(self.process.pid)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{node_id} exited with {self.process.returncode} on start; see {log_path}:\n  "
                                   + "\n  ".join(tail(log_path, 20)))
            try:
                with urllib.request.urlopen(self.endpoint + "/health", timeout=2) as answer:
                    body = json.loads(answer.read() or b"{}")
                    if answer.status == 200 and body.get("status") == "ok":
                        self.up = True
                        return time.time()
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{node_id} was not healthy within 60 s; see {log_path}")

    def kill9(self):
        """The whole node dies at once: baton and its Lambda workers (its process group)."""
        self.up = False
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def terminate(self):
        self.up = False
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "no exit within 30 s of SIGTERM"

    def cleanup(self):
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class Cluster:
    """Routes calls to live nodes; connection errors and 5xx answers move to another node."""

    def __init__(self, nodes, stop, deadline):
        self.nodes, self.stop, self.deadline = nodes, stop, deadline
        self.lock = threading.Lock()
        self.transient = 0
        self.answered_by = {}  # node id -> calls it answered
        self.server_errors = []  # first few 5xx answers, for the report

    def live(self):
        return [n for n in self.nodes if n.up]

    def pick(self, rng, prefer=None, avoid=None):
        while True:
            live = self.live()
            if prefer is not None and prefer.up:
                return prefer
            choices = [n for n in live if n is not avoid] or live
            if choices:
                return rng.choice(choices)
            if self.stop.is_set() or time.time() > self.deadline:
                raise TimeoutError("no live node")
            time.sleep(0.05)

    def call(self, rng, service, method, prefer=None, avoid=None, on_retry=None, **kwargs):
        """Returns (answer, node). Service errors below 500 propagate."""
        while True:
            if self.stop.is_set() or time.time() > self.deadline:
                raise TimeoutError("stopped")
            node = self.pick(rng, prefer, avoid)
            prefer = None
            try:
                answer = getattr(client(service, node.endpoint), method)(**kwargs)
                with self.lock:
                    self.answered_by[node.node_id] = self.answered_by.get(node.node_id, 0) + 1
                return answer, node
            except TRANSIENT as err:
                with self.lock:
                    self.transient += 1
                if on_retry:
                    on_retry(node, repr(err))
            except botocore.exceptions.ClientError as err:
                status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
                if status < 500:
                    raise
                with self.lock:
                    if len(self.server_errors) < 20:
                        self.server_errors.append(f"{now_str()} {node.node_id} {method}: {status} {err}")
                if on_retry:
                    on_retry(node, f"{status} {err}")
            time.sleep(rng.uniform(0.02, 0.1))


def zip_of(name, text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, text)
    return buffer.getvalue()


def definition(activity, spool):
    return {
        "Comment": "multi-node test: Wait, an activity task and a callback through Lambda",
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Work"},
            # A GetActivityTask answer lost because its node died after committing
            # ActivityStarted loses that task (activities are handed out at most once, as on
            # AWS); TimeoutSeconds and the Retry recover it. Only accepted right at a kill.
            "Work": {
                "Type": "Task", "Resource": activity, "TimeoutSeconds": 60, "ResultPath": "$.work",
                "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Next": "Callback",
            },
            "Callback": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": FUNCTION,
                               "Payload": {"token.$": "$$.Task.Token", "id.$": "$.id", "spool": spool}},
                "TimeoutSeconds": 120, "ResultPath": "$.callback", "End": True,
            },
        },
    }


def expected_output(inp):
    return {**inp, "work": {"worker_result": inp["id"] * 2}, "callback": {"callback_result": inp["id"] * 3}}


class Trace:
    """What the harness did per execution id, for failure reports."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lines = {}

    def note(self, i, what):
        with self.lock:
            self.lines.setdefault(i, []).append(f"{now_str()} {what}")

    def get(self, i):
        with self.lock:
            return list(self.lines.get(i, []))


class Workers:
    """Activity workers: poll a random live node, answer through another one."""

    def __init__(self, cluster, activity, count, stop, trace, seed):
        self.cluster, self.activity, self.stop, self.trace = cluster, activity, stop, trace
        self.answered = 0
        self.cut_polls = 0  # GetActivityTask calls that lost their connection (a node died)
        self.stale = []
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n, seed + n), daemon=True) for n in range(count)]
        for t in self.threads:
            t.start()

    def run(self, n, seed):
        try:
            self.work(n, random.Random(seed))
        except TimeoutError:
            pass
        except Exception as err:  # a dead worker would leave tasks unanswered: report it
            with self.lock:
                self.errors.append(f"worker-{n}: {err!r}")

    def cut(self, node, err):
        if not err[:1].isdigit():  # a connection error, not a 5xx answer
            with self.lock:
                self.cut_polls += 1

    def work(self, n, rng):
        name = f"worker-{n}"
        while not self.stop.is_set():
            task, polled = self.cluster.call(rng, "stepfunctions", "get_activity_task", on_retry=self.cut,
                                             activityArn=self.activity, workerName=name)
            token = task.get("taskToken")
            if not token:
                continue
            i = json.loads(task["input"])["id"]
            self.trace.note(i, f"{name} got the activity task from {polled.node_id} ({token[:10]}...)")
            retries = []
            try:
                _, answered = self.cluster.call(
                    rng, "stepfunctions", "send_task_success", avoid=polled,
                    on_retry=lambda node, err: retries.append(f"{node.node_id}: {err}"),
                    taskToken=token, output=json.dumps({"worker_result": i * 2}))
                self.trace.note(i, f"{name} answered through {answered.node_id}"
                                + (f" after retries {retries}" if retries else ""))
                with self.lock:
                    self.answered += 1
            except botocore.exceptions.ClientError as err:
                code = err.response["Error"]["Code"]
                self.trace.note(i, f"{name} answer refused: {code}" + (f" after retries {retries}" if retries else ""))
                if code in REFUSED:
                    # An answer committed by a node that died before acknowledging it, or a
                    # task that timed out meanwhile (the history check judges).
                    with self.lock:
                        self.stale.append(f"id {i}: {code}" + (" after a retry" if retries else " (first answer)"))
                else:
                    raise


class Callbacks:
    """Tails the spool the function writes and answers each token through a random live node."""

    def __init__(self, cluster, spool, starters, stop, trace, seed, senders):
        self.cluster, self.spool, self.starters, self.stop, self.trace = cluster, spool, starters, stop, trace
        self.queue = queue.Queue()
        self.lock = threading.Lock()
        self.offsets = {}
        self.partial = {}
        self.seen = {}  # token -> times spooled
        self.accepted = {}  # token -> times SendTaskSuccess answered 200
        self.sent = 0
        self.cross = 0  # answered by a node other than the one that started the execution
        self.duplicates_spooled = 0
        self.duplicates_accepted = 0  # a second SendTaskSuccess for a token answered 200 (queued, then dropped)
        self.refused = []
        self.errors = []
        self.succeeded = 0
        self.resolved = set()  # tokens answered (accepted or refused as closed)
        threading.Thread(target=self.tail_spool, daemon=True).start()
        for n in range(senders):
            threading.Thread(target=self.send, args=(random.Random(seed + 1000 + n),), daemon=True).start()

    def tail_spool(self):
        while not self.stop.is_set():
            try:
                files = sorted(os.listdir(self.spool))
            except OSError:
                files = []
            for name in files:
                path = os.path.join(self.spool, name)
                try:
                    with open(path, "rb") as f:
                        f.seek(self.offsets.get(name, 0))
                        data = f.read()
                except OSError:
                    continue
                if not data:
                    continue
                self.offsets[name] = self.offsets.get(name, 0) + len(data)
                data = self.partial.pop(name, b"") + data
                lines = data.split(b"\n")
                if lines[-1]:
                    self.partial[name] = lines[-1]
                for line in lines[:-1]:
                    if line.strip():
                        self.spooled(json.loads(line))
            time.sleep(0.05)

    def spooled(self, entry):
        token, i = entry["token"], entry["id"]
        with self.lock:
            self.seen[token] = self.seen.get(token, 0) + 1
            again = self.seen[token] > 1
            if again:
                self.duplicates_spooled += 1
        self.trace.note(i, f"function dispatched by {entry.get('endpoint')} spooled the token ({token[:10]}...)"
                        + (" AGAIN" if again else ""))
        self.queue.put((i, token))

    def send(self, rng):
        while not self.stop.is_set():
            try:
                i, token = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            retries = []
            try:
                _, node = self.cluster.call(
                    rng, "stepfunctions", "send_task_success",
                    on_retry=lambda node, err: retries.append(f"{node.node_id}: {err}"),
                    taskToken=token, output=json.dumps({"callback_result": i * 3}))
                starter = self.starters.get(i)
                with self.lock:
                    self.sent += 1
                    self.accepted[token] = self.accepted.get(token, 0) + 1
                    if self.accepted[token] == 1:
                        self.succeeded += 1
                    else:
                        self.duplicates_accepted += 1
                    self.resolved.add(token)
                    if starter is not None and starter != node.slot:
                        self.cross += 1
                self.trace.note(i, f"callback accepted by {node.node_id}" + (f" after retries {retries}" if retries else ""))
            except botocore.exceptions.ClientError as err:
                code = err.response["Error"]["Code"]
                with self.lock:
                    self.sent += 1
                    if code in REFUSED:
                        self.resolved.add(token)
                        self.refused.append(f"id {i}: {code} (token spooled {self.seen.get(token)}x, "
                                            f"accepted {self.accepted.get(token, 0)}x"
                                            + (", after a retry)" if retries else ")"))
                    else:
                        self.errors.append(f"id {i}: SendTaskSuccess {code}: {err}")
                self.trace.note(i, f"callback refused: {code}" + (f" after retries {retries}" if retries else ""))
            except TimeoutError:
                return


def history(cluster, rng, arn):
    events, token = [], None
    while True:
        kwargs = {"executionArn": arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page, _ = cluster.call(rng, "stepfunctions", "get_execution_history", **kwargs)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def list_all(cluster, rng, machine, status=None):
    items, token = [], None
    while True:
        kwargs = {"stateMachineArn": machine, "maxResults": 1000}
        if status:
            kwargs["statusFilter"] = status
        if token:
            kwargs["nextToken"] = token
        page, _ = cluster.call(rng, "stepfunctions", "list_executions", **kwargs)
        items.extend(page["executions"])
        token = page.get("nextToken")
        if not token:
            return items


def lost_poll_window(lease_ms):
    """Seconds from the kill that lost a poll answer to the ActivityStarted it left behind: a
    live owner applies the claim before the kill; a dead owner's is applied by the node that
    takes the execution over, a lease (and a few seconds of load) after the kill."""
    return (-2.0, lease_ms / 1000 + 5.0)


def normalized(events, kill_times, window=(0.0, 0.0)):
    """Event types without lost-poll retries (ActivityStarted, ActivityTimedOut,
    ActivityScheduled at a kill) and without TaskSubmitted; returns
    (types, lost polls, TaskSubmitted count)."""
    types = [e["type"] for e in events]
    out, lost, submitted, i = [], 0, 0, 0
    while i < len(types):
        if types[i:i + 3] == ["ActivityStarted", "ActivityTimedOut", "ActivityScheduled"]:
            started = events[i]["timestamp"].timestamp()
            if any(window[0] <= started - k <= window[1] for k in kill_times):
                lost += 1
                i += 3
                continue
        if types[i] == "TaskSubmitted":
            submitted += 1
        else:
            out.append(types[i])
        i += 1
    return out, lost, submitted


def history_problems(events, reference, kill_times, window, stats):
    """Problems of one SUCCEEDED execution's history against the reference types."""
    problems = []
    ids = [e["id"] for e in events]
    if ids != list(range(1, len(ids) + 1)):
        problems.append(f"event ids are not 1..{len(ids)} without gaps: {ids}")
    types = [e["type"] for e in events]
    for kind in ("ExecutionStarted", "ExecutionSucceeded", "ActivitySucceeded", "TaskSucceeded"):
        if types.count(kind) != 1:
            problems.append(f"{types.count(kind)} {kind} events, expected exactly 1")
    if types and (types[0] != "ExecutionStarted" or types[-1] != "ExecutionSucceeded"):
        problems.append(f"history runs from {types[0]} to {types[-1]}")
    got, lost, submitted = normalized(events, kill_times, window)
    want, _, want_submitted = reference
    if got != want:
        problems.append(f"event types differ from the uninterrupted run:\n      got      {types}\n"
                        f"      expected {want} (TaskSubmitted aside)")
    if submitted > want_submitted:
        problems.append(f"{submitted} TaskSubmitted events, the reference has {want_submitted}")
    stats["lost_polls"] += lost
    stats["missing_submitted"] += want_submitted - min(submitted, want_submitted)
    return problems


def describe_events(events):
    return "\n      ".join(
        f"{e['id']:>3} {e['type']:<28} {e['timestamp'].strftime('%H:%M:%S.%f')[:-3]}"
        + (f" prev {e.get('previousEventId')}" if e.get("previousEventId") is not None else "")
        for e in events)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--kills", type=int, default=2, help="kill -9 this many times (the last killed node stays dead)")
    parser.add_argument("--lease-ms", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=6, help="activity worker threads")
    parser.add_argument("--starters", type=int, default=4)
    parser.add_argument("--start-rate", type=float, default=80,
                        help="StartExecution calls per second at most, so that the kills land mid-run (0: no limit)")
    parser.add_argument("--senders", type=int, default=4, help="callback sender threads")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the whole run")
    parser.add_argument("--keep", action="store_true", help="keep the database and the temporary directory")
    parser.add_argument("--database-url", default=os.environ.get("BATON_MN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL without a database name")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--restart-postgres", default=None, metavar="COMMAND",
                        help="a shell command that restarts PostgreSQL, run once at about half of the activity work: "
                             "every node must ride it out (no lost or duplicated transitions) and report /health ok after")
    args = parser.parse_args()
    if args.nodes < 1 or args.executions < 1:
        sys.exit("--nodes and --executions must be at least 1")
    if args.kills > 0 and args.nodes < 2:
        sys.exit("kills need at least 2 nodes (one must stay alive)")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    began = time.time()
    deadline = began + args.timeout
    binary = find_binary()
    helptext = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    multi = "--node-id" in helptext
    if args.nodes > 1 and not multi:
        sys.exit(f"FAIL: {binary} has no `serve --node-id`: this Baton cannot run several nodes")

    base = args.database_url.rstrip("/")
    dbname = f"baton_mn_{random.randrange(16 ** 8):08x}"
    work = tempfile.mkdtemp(prefix="baton-mn-")
    spool = os.path.join(work, "spool")
    os.makedirs(spool)
    psql(base, f'CREATE DATABASE "{dbname}"')
    database = f"{base}/{dbname}"
    log(f"seed {seed}; database {dbname}; work dir {work}; binary {binary}")

    stop = threading.Event()
    nodes = [Node(binary, k, free_port(), os.path.join(work, f"data-{k + 1}"), work, database, args.lease_ms, multi)
             for k in range(args.nodes)]
    failures = []
    passed = False
    try:
        passed = run(args, seed, rng, began, deadline, nodes, spool, stop, failures)
    except Exception:
        failures.append("the harness failed:\n" + traceback.format_exc())
    finally:
        stop.set()
        for node in nodes:
            code = node.terminate()
            if code not in (None, 0):
                failures.append(f"{node.node_id} exited with {code} on SIGTERM")
        for node in nodes:
            node.cleanup()
        if failures or not passed:
            print(f"\nnode logs (in {work}):")
            for node in nodes:
                for path in node.logs:
                    print(f"--- last lines of {path}")
                    for line in tail(path, 25):
                        print("    " + line)
        if args.keep:
            print(f"kept database {database} and {work}")
        else:
            try:
                psql(base, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            except subprocess.CalledProcessError as err:
                print(f"could not drop {dbname}: {err.stderr}")
            if passed and not failures:
                shutil.rmtree(work, ignore_errors=True)
    if failures or not passed:
        print(f"FAIL: {len(failures)} problems (logs kept in {work}):")
        for line in failures[:40]:
            print("  " + line)
        if len(failures) > 40:
            print(f"  ... and {len(failures) - 40} more")
        sys.exit(1)
    print("PASS")


def run(args, seed, rng, began, deadline, nodes, spool, stop, failures):
    for k, node in enumerate(nodes):
        node.start(f"n{k + 1}")
        log(f"{node.node_id} healthy at {node.endpoint} (data {node.data_dir})")
    next_id = [len(nodes) + 1]
    cluster = Cluster(nodes, stop, deadline)
    first = nodes[0]
    sfn = client("stepfunctions", first.endpoint)
    trace = Trace()

    # The function on every node: each keeps its functions in its own data directory.
    code = zip_of("app.py", HANDLER)
    for node in nodes:
        lam = client("lambda", node.endpoint)
        lam.create_function(FunctionName=FUNCTION, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": code}, Timeout=30)
        state = lam.get_function(FunctionName=FUNCTION)["Configuration"].get("State", "Active")
        if state != "Active":
            failures.append(f"{FUNCTION} on {node.node_id} is {state}")
            return False
    activity = sfn.create_activity(name="mn-work")["activityArn"]
    machine = sfn.create_state_machine(name="multinode", definition=json.dumps(definition(activity, spool)),
                                       roleArn=ROLE)["stateMachineArn"]
    starters = {}  # execution id -> slot of the node whose StartExecution answered
    workers = Workers(cluster, activity, args.workers, stop, trace, seed)
    callbacks = Callbacks(cluster, spool, starters, stop, trace, seed, args.senders)

    # 1. The reference: one uninterrupted execution per node, all must agree.
    refs = {}
    for k, node in enumerate(nodes):
        inp = {"id": -1 - k, "wait": 1}
        arn = client("stepfunctions", node.endpoint).start_execution(
            stateMachineArn=machine, name=f"reference-{k + 1}", input=json.dumps(inp))["executionArn"]
        starters[inp["id"]] = node.slot
        refs[arn] = inp
    while any(sfn.describe_execution(executionArn=a)["status"] == "RUNNING" for a in refs):
        if time.time() > deadline:
            failures.append("the reference executions did not finish")
            return False
        time.sleep(0.1)
    shapes = set()
    for arn, inp in refs.items():
        described = sfn.describe_execution(executionArn=arn)
        events = history(cluster, rng, arn)
        shapes.add(tuple(e["type"] for e in events))
        if described["status"] != "SUCCEEDED" or json.loads(described.get("output") or "null") != expected_output(inp):
            failures.append(f"reference {arn}: {described['status']} {described.get('error')} {described.get('cause')} "
                            f"output {described.get('output')}\n      {describe_events(events)}")
    if len(shapes) != 1:
        failures.append(f"the uninterrupted reference runs disagree: {shapes}")
    if failures:
        return False
    reference_events = history(cluster, rng, next(iter(refs)))
    reference = normalized(reference_events, [])
    log(f"reference history: {len(reference_events)} events: {' '.join(e['type'] for e in reference_events)}")

    # 2. Start the executions round-robin while the killer crashes nodes.
    n = args.executions
    inputs = {i: {"id": i, "wait": rng.randint(1, 3)} for i in range(n)}
    name_of = {i: f"mn-{i:05d}" for i in range(n)}
    arns = {}
    start_lock = threading.Lock()
    start_errors = []

    def starter(ids, srng):
        try:
            for i in ids:
                if args.start_rate > 0:
                    time.sleep(max(0.0, run_began + i / args.start_rate - time.time()))
                inp = json.dumps(inputs[i])
                retries = []
                try:
                    answer, node = cluster.call(
                        srng, "stepfunctions", "start_execution", prefer=nodes[i % len(nodes)],
                        on_retry=lambda node, err: retries.append(f"{node.node_id}: {err}"),
                        stateMachineArn=machine, name=name_of[i], input=inp)
                    arn = answer["executionArn"]
                except botocore.exceptions.ClientError as err:
                    # A start committed by a node that died before answering, retried after the
                    # execution closed: the same name and input still name the same execution.
                    if err.response["Error"]["Code"] != "ExecutionAlreadyExists" or not retries:
                        raise
                    arn = machine.replace(":stateMachine:", ":execution:") + ":" + name_of[i]
                    described, node = cluster.call(srng, "stepfunctions", "describe_execution", executionArn=arn)
                    if json.loads(described["input"]) != inputs[i]:
                        raise
                trace.note(i, f"started on {node.node_id}" + (f" after retries {retries}" if retries else ""))
                with start_lock:
                    arns[i] = arn
                    starters[i] = node.slot
        except TimeoutError:
            pass
        except Exception as err:
            with start_lock:
                start_errors.append(f"starter: {err!r}")

    kills, restarts = [], []
    kill_walls = []
    all_tasks = n + len(refs)
    fractions = [0.85 * (k + 1) / (args.kills + 1) + rng.uniform(-0.05, 0.05) for k in range(args.kills)]
    killer_errors = []

    def killer():
        try:
            for k, fraction in enumerate(fractions):
                while workers.answered < fraction * all_tasks and not stop.is_set():
                    time.sleep(0.005)
                while len(cluster.live()) < 2 and not stop.is_set():
                    time.sleep(0.05)
                if stop.is_set():
                    return
                time.sleep(rng.uniform(0.0, 0.3))
                victim = rng.choice(cluster.live())
                victim.kill9()
                down = time.time()
                kill_walls.append(down)
                outstanding = len(callbacks.resolved) < all_tasks
                kills.append((victim.node_id, down - began, outstanding))
                log(f"kill -9 {victim.node_id} ({victim.endpoint}) at {down - began:.1f}s: {len(arns)}/{n} started, "
                    f"{workers.answered}/{all_tasks} activity tasks and {callbacks.succeeded}/{all_tasks} callbacks answered")
                if k == len(fractions) - 1:
                    return  # the last killed node stays dead
                time.sleep(args.lease_ms / 1000 + rng.uniform(0.5, 2.0))
                node_id = f"n{next_id[0]}"
                next_id[0] += 1
                up = victim.start(node_id)
                restarts.append(node_id)
                functions = client("lambda", victim.endpoint).list_functions()["Functions"]
                if FUNCTION not in [f["FunctionName"] for f in functions]:
                    killer_errors.append(f"{node_id}: {FUNCTION} is gone after the restart on {victim.data_dir}")
                log(f"restarted slot {victim.slot + 1} as {node_id} (same data dir and port), healthy {up - down:.1f}s "
                    f"after the kill")
                # Let the restarted node take part before the next kill (which may pick it).
                time.sleep(args.lease_ms / 1000)
        except Exception as err:
            killer_errors.append(f"killer: {err!r}")

    pg_restarts = []  # (seconds into the run, seconds the command took, seconds until every live node was healthy)
    health_seen = {}  # /health answers during the restart: status code -> count

    def restarter():
        try:
            while workers.answered < 0.5 * all_tasks and not stop.is_set():
                time.sleep(0.005)
            if stop.is_set():
                return
            at = time.time()
            kill_walls.append(at)  # polls answered around it may be lost like at a kill
            log(f"restarting PostgreSQL: {args.restart_postgres}")
            command = subprocess.Popen(args.restart_postgres, shell=True)
            # What /health says meanwhile (informational: how long it is down depends on timing).
            while command.poll() is None:
                for node in cluster.live():
                    try:
                        with urllib.request.urlopen(node.endpoint + "/health", timeout=2) as answer:
                            health_seen[answer.status] = health_seen.get(answer.status, 0) + 1
                    except urllib.error.HTTPError as err:
                        health_seen[err.code] = health_seen.get(err.code, 0) + 1
                    except Exception:
                        health_seen["no answer"] = health_seen.get("no answer", 0) + 1
                time.sleep(0.05)
            if command.returncode != 0:
                raise RuntimeError(f"the restart command exited with {command.returncode}")
            took = time.time() - at
            # Every live node must report a healthy database again.
            healthy_by = at + 60
            while time.time() < healthy_by:
                codes = []
                for node in cluster.live():
                    try:
                        with urllib.request.urlopen(node.endpoint + "/health", timeout=2) as answer:
                            body = json.loads(answer.read())
                            codes.append(answer.status == 200 and body.get("database", {}).get("ok") is True)
                    except Exception:
                        codes.append(False)
                if codes and all(codes):
                    break
                time.sleep(0.05)
            else:
                killer_errors.append("a node did not report a healthy database within 60 s of the PostgreSQL restart")
            pg_restarts.append((at - began, took, time.time() - at))
            log(f"PostgreSQL restarted in {took:.1f}s; every live node healthy {time.time() - at:.1f}s after the restart began")
        except Exception as err:
            killer_errors.append(f"restarter: {err!r}")

    run_began = time.time()
    killer_thread = threading.Thread(target=killer, daemon=True)
    killer_thread.start()
    restarter_thread = None
    if args.restart_postgres:
        restarter_thread = threading.Thread(target=restarter, daemon=True)
        restarter_thread.start()
    ids = list(range(n))
    threads = [threading.Thread(target=starter, args=(ids[k::args.starters], random.Random(seed + 500 + k)), daemon=True)
               for k in range(args.starters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0, deadline - time.time()))
    start_secs = time.time() - run_began
    log(f"{len(arns)}/{n} executions started in {start_secs:.1f}s")
    failures.extend(start_errors)

    # 3. Let the work finish.
    last_report = time.time()
    while True:
        try:
            running = len(list_all(cluster, rng, machine, "RUNNING"))
        except TimeoutError:
            running = -1
        if running == 0 and not killer_thread.is_alive() and not (restarter_thread and restarter_thread.is_alive()):
            break
        if time.time() > deadline:
            failures.append(f"{running} executions still RUNNING after {args.timeout:.0f}s")
            break
        if time.time() - last_report > 10:
            last_report = time.time()
            log(f"{running} running; {workers.answered} activity tasks and {callbacks.succeeded} callbacks answered; "
                f"live nodes {[x.node_id for x in cluster.live()]}")
        time.sleep(0.5)
    finish_secs = time.time() - run_began
    log(f"no execution running after {finish_secs:.1f}s")
    killer_thread.join(1)
    if restarter_thread:
        restarter_thread.join(1)
        if not pg_restarts:
            failures.append("the PostgreSQL restart did not happen")
    failures.extend(killer_errors)
    if len(kills) < args.kills:
        failures.append(f"only {len(kills)} of {args.kills} kills happened")
    if sum(1 for k in kills if k[2]) < len(kills):
        failures.append(f"only {sum(1 for k in kills if k[2])} of {len(kills)} kills landed while callbacks were outstanding")

    # 4. Check every execution through the live nodes (reading back has a deadline of its own).
    cluster.deadline = max(cluster.deadline, time.time() + 300)
    listed_all = list_all(cluster, rng, machine)
    listed = {}
    for e in listed_all:
        if e["name"] in listed:
            failures.append(f"{e['name']}: listed twice")
        listed[e["name"]] = e
    expected_names = set(name_of.values()) | {f"reference-{k + 1}" for k in range(len(nodes))}
    if set(listed) - expected_names:
        failures.append(f"unexpected executions: {sorted(set(listed) - expected_names)[:10]}")
    counts = {}
    stats = {"lost_polls": 0, "missing_submitted": 0}
    check_lock = threading.Lock()

    def check(ids, crng):
        for i in ids:
            name = name_of[i]
            problems = []
            entry = listed.get(name)
            if entry is None:
                problems.append("missing from ListExecutions")
            elif arns.get(i) != entry["executionArn"]:
                problems.append(f"StartExecution returned {arns.get(i)}, listed {entry['executionArn']}")
            arn = entry["executionArn"] if entry else arns.get(i)
            if arn is None:
                with check_lock:
                    failures.append(f"{name}: never started")
                continue
            try:
                described, _ = cluster.call(crng, "stepfunctions", "describe_execution", executionArn=arn)
                events = history(cluster, crng, arn)
            except Exception as err:
                with check_lock:
                    failures.append(f"{name}: cannot read it back: {err!r}")
                continue
            local = {"lost_polls": 0, "missing_submitted": 0}
            status = described["status"]
            if status != "SUCCEEDED":
                problems.append(f"{status} {described.get('error')} {described.get('cause')}")
            else:
                output = json.loads(described.get("output") or "null")
                if output != expected_output(inputs[i]):
                    problems.append(f"output {output}, expected {expected_output(inputs[i])}")
                problems.extend(history_problems(events, reference, kill_walls, lost_poll_window(args.lease_ms), local))
            with check_lock:
                counts[status] = counts.get(status, 0) + 1
                for key in stats:
                    stats[key] += local[key]
                for p in problems:
                    failures.append(f"{name}: {p}")
                if problems:
                    failures.append(f"{name} history:\n      {describe_events(events)}")
                    failures.append(f"{name} harness trace:\n      " + "\n      ".join(trace.get(i) or ["nothing"]))

    checkers = [threading.Thread(target=check, args=(ids[k::4], random.Random(seed + 900 + k)), daemon=True)
                for k in range(4)]
    check_began = time.time()
    for t in checkers:
        t.start()
    for t in checkers:
        t.join()
    log(f"checked {n} executions in {time.time() - check_began:.1f}s")
    failures.extend(workers.errors)
    failures.extend(callbacks.errors)
    # A claim whose COMMIT reply is lost in a PostgreSQL restart is retried and may take a
    # second task, leaving the first to its timeout: at most one per poller per restart.
    if stats["lost_polls"] > workers.cut_polls + len(pg_restarts) * args.workers:
        failures.append(f"{stats['lost_polls']} activity tasks were started and never answered, but only "
                        f"{workers.cut_polls} GetActivityTask calls lost their connection to a killed node")
    stop.set()

    cross = callbacks.cross
    print()
    print("multi-node test summary")
    print(f"  seed                 {seed}")
    print(f"  executions           {n} ({counts}) + {len(refs)} reference runs")
    print(f"  nodes                {len(nodes)}, lease {args.lease_ms} ms; kill -9 {len(kills)}: "
          + ", ".join(f"{k[0]} at {k[1]:.1f}s" for k in kills) + f"; restarted as {restarts or 'none'}")
    print(f"  started in           {start_secs:.1f}s; all finished after {finish_secs:.1f}s")
    print(f"  activity answers     {workers.answered} accepted, {len(workers.stale)} refused as already closed"
          + (f": {workers.stale[:10]}" if workers.stale else ""))
    print(f"  callbacks            {callbacks.sent} sent, {callbacks.succeeded} tokens accepted, {cross} through another "
          f"node than the starting one; {callbacks.duplicates_spooled} tokens spooled again (redispatched), "
          f"{callbacks.duplicates_accepted} accepted again, {len(callbacks.refused)} refused" + (f": {callbacks.refused[:10]}" if callbacks.refused else ""))
    print(f"  calls answered       " + ", ".join(f"{k} {v}" for k, v in sorted(cluster.answered_by.items())))
    print(f"  client retries       {cluster.transient} connection errors, {len(cluster.server_errors)} 5xx answers"
          + ("".join("\n    " + e for e in cluster.server_errors[:10])))
    print(f"  history              {len(reference[0])} event types (TaskSubmitted aside) checked on every execution; "
          f"{stats['lost_polls']} lost poll answers recovered by Retry ({workers.cut_polls} polls cut by kills); {stats['missing_submitted']} TaskSubmitted "
          f"overtaken by the callback")
    if args.restart_postgres:
        print("  PostgreSQL restart   " + ", ".join(f"at {a:.1f}s, took {t:.1f}s, nodes healthy after {h:.1f}s"
                                                for a, t, h in pg_restarts)
              + f"; /health during it: {health_seen}")
    total = time.time() - began
    verdict = "FAIL" if failures else "PASS"
    print(f"multinode: executions={n} nodes={len(nodes)} killed={len(kills)} restarted={len(restarts)} "
          f"callbacks={callbacks.sent} cross-node={cross} duration={total:.1f}s {verdict}")
    return True


if __name__ == "__main__":
    main()
