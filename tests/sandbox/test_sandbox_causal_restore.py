"""The causal Lambda rollback (docs/reference/sandbox.md): a missing previous code object fails again with the
exact NoSuchKey reason and a CloudTrail record; once the object is back, the same step succeeds.
Also GetFunction's downloadable Code.Location and CodeSha256 (docs/reference/aws-behaviour.md#where-aws-records-a-functions-codesha256)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e  # every test here serves a sandbox on 127.0.0.1

NO_SUCH_KEY = re.compile(
    r'^Resource handler returned message: "Error occurred while GetObject\. S3 Error Code: '
    r"NoSuchKey\. S3 Error Message: The specified key does not exist\. \(Service: Lambda, "
    r'Status Code: 400, Request ID: [0-9a-f-]{36}\)" \(RequestToken: [0-9a-f-]{36}, '
    r"HandlerErrorCode: InvalidRequest\)$")


def _sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _failed_code_events(sb) -> list[dict]:
    ct = sb.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "UpdateFunctionCode20150331v2"}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) for e in events]


def test_get_function_location_downloads_the_deployed_zip(sandbox) -> None:
    """docs/reference/aws-behaviour.md#where-aws-records-a-functions-codesha256: Code.Location really downloads the package; CodeSha256 = base64(sha256(zip))."""
    sb = sandbox("degap")
    gt = sb.world.ground_truth
    ingest = gt["missing"][f"{gt['workers_stack']}.IngestFunction"]
    got = sb.client("lambda").get_function(FunctionName="degap-prod-ingest", Qualifier="1")
    assert got["Code"]["Location"].startswith(sb.endpoint + "/_sandbox/lambda-code/")
    with urllib.request.urlopen(got["Code"]["Location"]) as resp:  # 127.0.0.1 only
        data = resp.read()
    assert _sha(data) == got["Configuration"]["CodeSha256"] == ingest["sha256"]
    assert data == gt["zips"]["IngestFunction"]


def test_rollback_fails_again_while_the_key_is_missing(sandbox) -> None:
    """docs/reference/sandbox.md / docs/reference/aws-behaviour.md#why-a-delete-fails: continuing without a fix re-attempts each function and fails with the
    exact reason, and records a failed UpdateFunctionCode20150331v2 (InvalidParameterValue)."""
    sb = sandbox("degap")
    cfn = sb.client("cloudformation")
    gt = sb.world.ground_truth
    before = len(_failed_code_events(sb))
    cfn.continue_update_rollback(StackName="degap-prod")
    sb.world.settle()
    assert cfn.describe_stacks(StackName="degap-prod")["Stacks"][0]["StackStatus"] == \
        "UPDATE_ROLLBACK_FAILED"
    orders = cfn.describe_stack_resource(StackName=gt["api_stack"],
                                         LogicalResourceId="OrdersFunction")
    assert NO_SUCH_KEY.match(orders["StackResourceDetail"]["ResourceStatusReason"])
    records = _failed_code_events(sb)
    assert len(records) == before + 4
    newest = records[0]
    assert newest["errorCode"] == "InvalidParameterValueException"
    assert newest["errorMessage"] == ("Error occurred while GetObject. S3 Error Code: NoSuchKey. "
                                      "S3 Error Message: The specified key does not exist.")
    assert newest["requestParameters"]["s3Bucket"] == gt["deployment_bucket"]
    assert newest["requestParameters"]["s3Key"] in {m["key"] for m in gt["missing"].values()}


def test_restoring_the_objects_lets_the_rollback_complete(sandbox) -> None:
    """Causal restore: remove the delete markers (docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers, the first documented restore), put the purged key back from the
    published version's bytes (GetFunction), continue: every stack UPDATE_ROLLBACK_COMPLETE,
    the functions run the previous code, and CloudTrail has the successful calls."""
    sb = sandbox("degap")
    cfn, s3, lam = sb.client("cloudformation"), sb.client("s3"), sb.client("lambda")
    gt = sb.world.ground_truth
    bucket = gt["deployment_bucket"]
    for truth in gt["missing"].values():
        if truth["source"] == "delete-marker":
            markers = s3.list_object_versions(Bucket=bucket, Prefix=truth["key"])["DeleteMarkers"]
            latest = [m for m in markers if m["IsLatest"]]
            s3.delete_object(Bucket=bucket, Key=truth["key"], VersionId=latest[0]["VersionId"])
        else:
            loc = lam.get_function(FunctionName=truth["function"],
                                   Qualifier=truth["qualifier"])["Code"]["Location"]
            with urllib.request.urlopen(loc) as resp:
                data = resp.read()
            assert _sha(data) == truth["sha256"]
            s3.put_object(Bucket=bucket, Key=truth["key"], Body=data, IfNoneMatch="*")
    cfn.continue_update_rollback(StackName="degap-prod")
    sb.world.settle()
    for name in ("degap-prod", gt["api_stack"], gt["workers_stack"]):
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == \
            "UPDATE_ROLLBACK_COMPLETE"
    for lid, fn in (("OrdersFunction", "degap-prod-orders"), ("IngestFunction", "degap-prod-ingest"),
                    ("ReportFunction", "degap-prod-report")):
        config = lam.get_function(FunctionName=fn)["Configuration"]
        assert config["CodeSha256"] == _sha(gt["zips"][lid])
    ok = [r for r in _failed_code_events(sb) if "errorCode" not in r]
    assert {r["responseElements"]["codeSha256"] for r in ok[:4]} == {
        m["sha256"] for m in gt["missing"].values()}


def test_events_newest_first_with_documented_ids_and_pagination(sandbox) -> None:
    """docs/reference/aws-behaviour.md#stack-events: newest first; stack events have UUID ids and the stack ARN as physical id; resource
    events `<LogicalId>-<STATUS>-<ISO time>`; NextToken pagination."""
    sb = sandbox("degap")
    cfn = sb.client("cloudformation")
    sb.world.cfn.page_size = 5
    pages = list(cfn.get_paginator("describe_stack_events").paginate(StackName="degap-prod"))
    events = [e for p in pages for e in p["StackEvents"]]
    assert len(pages) > 1 and len(events) == len(sb.world.stack("degap-prod").events)
    times = [e["Timestamp"] for e in events]
    assert times == sorted(times, reverse=True)
    top = events[0]
    assert top["ResourceStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert top["PhysicalResourceId"] == top["StackId"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        top["EventId"])
    res = next(e for e in events if e["LogicalResourceId"] == "WorkersStack")
    assert re.fullmatch(r"WorkersStack-[A-Z_]+-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                        res["EventId"])


def test_not_found_messages(sandbox) -> None:
    """docs/reference/aws-behaviour.md#stack-events, docs/reference/aws-behaviour.md#describestacks-and-stack-resources, docs/reference/aws-behaviour.md#aws-messages-recover-recognises verbatim not-found messages."""
    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")
    cases = [(lambda: cfn.describe_stacks(StackName="nope"), "Stack with id nope does not exist"),
             (lambda: cfn.list_stack_resources(StackName="nope"),
              "Stack with id nope does not exist"),
             (lambda: cfn.describe_stack_events(StackName="nope"), "Stack [nope] does not exist"),
             (lambda: cfn.describe_stack_resource(StackName="shop-web", LogicalResourceId="X"),
              "Resource X does not exist for stack shop-web")]
    for call, message in cases:
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "ValidationError"
        assert exc.value.response["Error"]["Message"] == message


def test_nested_stack_ids_and_names(sandbox) -> None:
    """docs/reference/aws-behaviour.md#describestacks-and-stack-resources, docs/reference/aws-behaviour.md#nested-stacks: child named `<parent>-<LogicalId>-<12 upper alnum>`, ParentId = RootId = root
    ARN for a first-level child, the parent resource's physical id = the child ARN."""
    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")
    root = cfn.describe_stacks(StackName="shop-web")["Stacks"][0]
    assert "ParentId" not in root and "RootId" not in root
    nested = cfn.describe_stack_resource(StackName="shop-web", LogicalResourceId="Assets")
    child_arn = nested["StackResourceDetail"]["PhysicalResourceId"]
    child = cfn.describe_stacks(StackName=child_arn)["Stacks"][0]
    assert re.fullmatch(r"shop-web-Assets-[A-Z0-9]{12}", child["StackName"])
    assert child["ParentId"] == child["RootId"] == root["StackId"]
    template = cfn.get_template(StackName="shop-web")["TemplateBody"]
    assert template["Resources"]["Assets"]["Type"] == "AWS::CloudFormation::Stack"


def test_new_records_are_delivered_to_the_trail_bucket(sandbox) -> None:
    """docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3: records of the tool's own operations reach the trail bucket on delivery."""
    import gzip

    sb = sandbox("degap")
    cfn, s3 = sb.client("cloudformation"), sb.client("s3")
    cfn.continue_update_rollback(StackName="degap-prod")
    sb.world.settle()
    req = urllib.request.Request(sb.endpoint + "/_sandbox/deliver-trail", data=b"{}",
                                 method="POST")
    with urllib.request.urlopen(req) as resp:
        delivered = json.loads(resp.read())
    bucket = sb.world.ground_truth["trail_bucket"]
    assert delivered["bucket"] == bucket
    records = []
    for key in delivered["keys"]:
        if "/CloudTrail/" in key:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            records += json.loads(gzip.decompress(body))["Records"]
    assert len(records) == len(sb.world.trail.records())
    failed = [r for r in records if r.get("errorCode") == "InvalidParameterValueException"]
    assert len(failed) == 8  # 4 functions x (seeded rollback + this continue)
