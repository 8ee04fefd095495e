"""boto3 activity workers against Baton: success, failure, heartbeats, and timeouts."""
import json
import threading
import time
import uuid

import botocore.exceptions
import pytest

from conftest import ROLE


def machine_for(sfn, activity_arn, extra=None):
    task = {"Type": "Task", "Resource": activity_arn, "End": True, **(extra or {})}
    definition = {"StartAt": "Work", "States": {"Work": task}}
    name = "activity-" + uuid.uuid4().hex[:8]
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def new_activity(sfn):
    return sfn.create_activity(name="work-" + uuid.uuid4().hex[:8])["activityArn"]


def wait(sfn, execution_arn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise AssertionError(f"{execution_arn} still running")


def poll(sfn, activity_arn, worker="worker-1"):
    task = sfn.get_activity_task(activityArn=activity_arn, workerName=worker)
    assert "taskToken" in task, task
    return task


def worker(sfn, activity_arn, handle):
    """Runs `handle(task)` in a thread, as a real worker process would."""
    errors = []

    def run():
        try:
            handle(poll(sfn, activity_arn))
        except Exception as err:  # surfaced by the test below
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_success(sfn):
    activity = new_activity(sfn)
    machine = machine_for(sfn, activity)
    execution = sfn.start_execution(stateMachineArn=machine, input='{"order": 7}')["executionArn"]

    def handle(task):
        assert json.loads(task["input"]) == {"order": 7}
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"shipped": True}))

    thread, errors = worker(sfn, activity, handle)
    thread.join(30)
    assert not errors, errors
    done = wait(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"shipped": True}
    events = sfn.get_execution_history(executionArn=execution)["events"]
    started = [e for e in events if e["type"] == "ActivityStarted"]
    assert started[0]["activityStartedEventDetails"] == {"workerName": "worker-1"}


def test_failure(sfn):
    activity = new_activity(sfn)
    machine = machine_for(sfn, activity)
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    thread, errors = worker(
        sfn, activity,
        lambda task: sfn.send_task_failure(taskToken=task["taskToken"], error="OutOfStock", cause="no widgets"),
    )
    thread.join(30)
    assert not errors, errors
    done = wait(sfn, execution)
    assert (done["status"], done["error"], done["cause"]) == ("FAILED", "OutOfStock", "no widgets")


def test_heartbeats_keep_the_task_alive(sfn):
    activity = new_activity(sfn)
    machine = machine_for(sfn, activity, {"HeartbeatSeconds": 3})
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]

    def handle(task):
        for _ in range(5):  # 5 s of work, longer than HeartbeatSeconds
            time.sleep(1)
            sfn.send_task_heartbeat(taskToken=task["taskToken"])
        sfn.send_task_success(taskToken=task["taskToken"], output='"done"')

    thread, errors = worker(sfn, activity, handle)
    thread.join(30)
    assert not errors, errors
    done = wait(sfn, execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == "done"


@pytest.mark.parametrize("extra,error", [
    ({"HeartbeatSeconds": 1}, "States.HeartbeatTimeout"),
    ({"TimeoutSeconds": 1}, "States.Timeout"),
])
def test_timeouts(sfn, extra, error):
    activity = new_activity(sfn)
    machine = machine_for(sfn, activity, extra)
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = poll(sfn, activity)
    done = wait(sfn, execution)
    assert (done["status"], done["error"]) == ("FAILED", error), done
    with pytest.raises(botocore.exceptions.ClientError) as late:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert late.value.response["Error"]["Code"] == "TaskTimedOut"


def test_unknown_token(sfn):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sfn.send_task_success(taskToken="x" * 64, output="{}")
    assert err.value.response["Error"]["Code"] in ("TaskDoesNotExist", "InvalidToken")
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn="arn:aws:states:us-east-1:000000000000:activity:missing")
