"""StartSyncExecution through boto3. The SDKs send it to the `sync-` host (`sync-localhost`);
Baton answers on any host, but the client must resolve that name: where it does not, clients
turn the prefix off with `inject_host_prefix=False`, which is tested here in any case."""
import json
import socket
import uuid

import boto3
import botocore.config
import pytest

from conftest import ROLE


def client(endpoint, **config):
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1}, **config),
    )


def express_machine(sfn):
    definition = {
        "StartAt": "Double",
        "States": {"Double": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}},
    }
    return sfn.create_state_machine(
        name="sync-" + uuid.uuid4().hex[:8], definition=json.dumps(definition), roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]


def test_start_sync_execution_without_host_prefix(baton):
    sfn = client(baton.endpoint, inject_host_prefix=False)
    machine = express_machine(sfn)
    result = sfn.start_sync_execution(stateMachineArn=machine, input='{"n": 21}')
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"]) == {"twice": 42}
    assert result["stopDate"] >= result["startDate"]
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        standard = sfn.create_state_machine(
            name="std-" + uuid.uuid4().hex[:8],
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=ROLE,
        )["stateMachineArn"]
        sfn.start_sync_execution(stateMachineArn=standard)


def test_start_sync_execution_on_sync_localhost(baton):
    try:
        socket.getaddrinfo("sync-localhost", None)
    except socket.gaierror:
        pytest.skip("sync-localhost does not resolve on this machine")
    port = baton.endpoint.rsplit(":", 1)[1]
    sfn = client(f"http://localhost:{port}")
    machine = express_machine(sfn)
    result = sfn.start_sync_execution(stateMachineArn=machine, input='{"n": 1}')
    assert json.loads(result["output"]) == {"twice": 2}
