"""Fault injection: each fault answers in the real error shape of the protocol called (query XML,
JSON, rest-json, rest-xml), set through the Python API or the HTTP control endpoint."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e  # every test here serves a sandbox on 127.0.0.1


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return (exc.value.response["Error"]["Code"],
            exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_throttle_per_protocol(sandbox) -> None:
    sb = sandbox("healthy")
    sb.world.throttle("cloudformation:DescribeStacks", 100)
    sb.world.throttle("lambda:ListFunctions", 100)
    sb.world.throttle("cloudtrail:LookupEvents", 100)
    sb.world.throttle("s3:ListObjects", 100)
    cases = [
        (lambda: sb.client("cloudformation").describe_stacks(), ("Throttling", 400)),
        (lambda: sb.client("lambda").list_functions(), ("TooManyRequestsException", 429)),
        (lambda: sb.client("cloudtrail").lookup_events(), ("ThrottlingException", 400)),
        (lambda: sb.client("s3").list_objects(Bucket=f"shop-assets-{sb.account}"),
         ("SlowDown", 503)),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == expected
    # other operations are untouched
    sb.client("cloudformation").list_stacks()


def test_throttle_percent_is_seeded(sandbox) -> None:
    sb = sandbox("healthy")
    sb.world.throttle("cloudformation:ListStacks", 50, seed=3)
    cfn = sb.client("cloudformation")
    outcomes = []
    for _ in range(20):
        try:
            cfn.list_stacks()
            outcomes.append(True)
        except ClientError:
            outcomes.append(False)
    assert 0 < outcomes.count(False) < 20


def test_access_denied_names_the_action(sandbox) -> None:
    sb = sandbox("nested-skip")
    sb.world.deny("cloudformation:ContinueUpdateRollback")
    with pytest.raises(ClientError) as exc:
        sb.client("cloudformation").continue_update_rollback(StackName="orders-platform")
    assert _code(exc) == ("AccessDenied", 403)
    assert "cloudformation:ContinueUpdateRollback" in exc.value.response["Error"]["Message"]
    assert sb.world.stack("orders-platform").status == "UPDATE_ROLLBACK_FAILED"


def test_server_error_and_expired_credentials(sandbox) -> None:
    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")
    sb.world.server_error("cloudformation:ListStacks", 100)
    with pytest.raises(ClientError) as exc:
        cfn.list_stacks()
    assert _code(exc) == ("InternalFailure", 500)
    sb.world.faults.clear()
    sb.world.expire_credentials(after_calls=1)
    cfn.list_stacks()
    with pytest.raises(ClientError) as exc:
        cfn.list_stacks()
    assert _code(exc) == ("ExpiredToken", 400)


def test_http_control_endpoint_sets_faults_and_status(sandbox) -> None:
    sb = sandbox("healthy")

    def post(path: str, doc: dict) -> dict:
        req = urllib.request.Request(sb.endpoint + path, data=json.dumps(doc).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    assert post("/_sandbox/faults", {"deny": ["s3:GetObject"]}) == {"ok": True}
    s3 = sb.client("s3")
    s3.put_object(Bucket=f"shop-assets-{sb.account}", Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=f"shop-assets-{sb.account}", Key="k")
    assert _code(exc) == ("AccessDenied", 403)
    post("/_sandbox/faults", {"clear": True})
    assert s3.get_object(Bucket=f"shop-assets-{sb.account}", Key="k")["Body"].read() == b"x"
    post("/_sandbox/stack-status", {"stack": "shop-batch", "status": "UPDATE_ROLLBACK_FAILED"})
    stack = sb.client("cloudformation").describe_stacks(StackName="shop-batch")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
