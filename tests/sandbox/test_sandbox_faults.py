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


def test_connection_reset_gives_no_answer_and_serves_nothing(sandbox) -> None:
    from botocore.exceptions import ConnectionClosedError

    sb = sandbox("healthy")
    bucket = f"shop-assets-{sb.account}"
    s3 = sb.client("s3")
    sb.world.connection_reset("s3:PutObject", 100, times=1)
    with pytest.raises(ConnectionClosedError):
        s3.put_object(Bucket=bucket, Key="reset", Body=b"x")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="reset")  # not served
    s3.put_object(Bucket=bucket, Key="reset", Body=b"x")  # `times` ran out: served
    sb.world.connection_reset("cloudtrail:LookupEvents", 100)
    with pytest.raises(ConnectionClosedError):
        sb.client("cloudtrail").lookup_events()


def test_answer_lost_serves_the_request_then_gives_no_answer(sandbox) -> None:
    from botocore.exceptions import ConnectionClosedError

    sb = sandbox("healthy")
    bucket = f"shop-assets-{sb.account}"
    s3 = sb.client("s3")
    sb.world.answer_lost("s3:PutObject", 100, times=1)
    with pytest.raises(ConnectionClosedError):
        s3.put_object(Bucket=bucket, Key="lost", Body=b"written", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="lost")["Body"].read() == b"written"  # served
    # what a client that retries meets: its own write
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="lost", Body=b"written", IfNoneMatch="*")
    assert _code(exc) == ("PreconditionFailed", 412)


def test_network_faults_and_the_request_log_over_http(sandbox) -> None:
    from botocore.exceptions import ConnectionClosedError

    sb = sandbox("healthy")

    def call(path: str, doc: dict | None = None) -> dict:
        req = urllib.request.Request(sb.endpoint + path, method="POST" if doc else "GET",
                                     data=json.dumps(doc).encode() if doc else None)
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    call("/_sandbox/faults", {"connection_reset": {"cloudtrail:LookupEvents":
                                                   {"percent": 100, "times": 2}}})
    ct = sb.client("cloudtrail")
    for _ in range(2):
        with pytest.raises(ConnectionClosedError):
            ct.lookup_events()
    ct.lookup_events()
    log = call("/_sandbox/requests?operation=cloudtrail:LookupEvents")
    assert log["count"] == 3 and log["max_in_any_second"] == 3  # resets are counted too
    assert sum(log["per_second"].values()) == 3 and log["faults"] == {"connection_reset": 2}
    assert sb.world.faults.max_in_any_second("cloudtrail:LookupEvents", window=0.0) == 0


def test_copy_object_faults_are_set_apart_from_put_object(sandbox) -> None:
    """S3 CopyObject is a PUT like PutObject: rate faults name either one; AccessDenied on
    s3:PutObject covers both (there is no s3:CopyObject IAM action)."""
    from botocore.exceptions import ConnectionClosedError

    sb = sandbox("healthy")
    bucket = f"shop-assets-{sb.account}"
    s3 = sb.client("s3")
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    sb.world.answer_lost("s3:CopyObject", 100, times=1)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"y")  # not a copy: untouched
    with pytest.raises(ConnectionClosedError):
        s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/src")
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"x"
    sb.world.faults.clear()
    sb.world.deny("s3:PutObject")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="copy2", CopySource=f"{bucket}/src")
    assert _code(exc) == ("AccessDenied", 403)


def test_copy_object_with_if_none_match_never_writes_over_a_key(sandbox) -> None:
    """docs/reference/aws-behaviour.md#s3-conditional-writes: CopyObject honours If-None-Match: * like PutObject (moto ignores
    it on a copy); a key whose current version is a delete marker can still be written."""
    sb = sandbox("healthy")
    bucket = f"shop-assets-{sb.account}"
    s3 = sb.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"theirs")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", IfNoneMatch="*")
    assert _code(exc) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"theirs"
    s3.delete_object(Bucket=bucket, Key="dst")  # a delete marker on top
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"x"


def test_rate_limit_throttles_only_above_the_rate(sandbox) -> None:
    import time

    sb = sandbox("healthy")
    sb.world.rate_limit("cloudformation:*", 3)  # every operation of the service, together
    cfn = sb.client("cloudformation")
    outcomes = []
    for call in (cfn.list_stacks, cfn.describe_stacks, cfn.list_stacks, cfn.describe_stacks):
        try:
            call()
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes[:3] == ["ok", "ok", "ok"] and outcomes[3] == "Throttling"
    time.sleep(1.05)  # the window slides: the rate, not a count, decides
    cfn.list_stacks()
    sb.client("s3").list_buckets()  # other services are untouched
    sb.world.faults.apply({"clear": True, "rate_limit": {"cloudformation:ListStacks": 1}})
    cfn.describe_stacks()
    cfn.list_stacks()
    with pytest.raises(ClientError):
        cfn.list_stacks()
