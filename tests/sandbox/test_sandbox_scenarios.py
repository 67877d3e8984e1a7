"""Each scenario seeds, serves, and reads as its docstring's ground truth says (raw boto3)."""

from __future__ import annotations

import gzip
import json

import pytest

pytestmark = pytest.mark.e2e  # every test here serves a sandbox on 127.0.0.1

SKIP_OK = "Only the resources failed during UpdateRollback are allowed to be skipped"


def _statuses(cfn, stack: str) -> dict[str, tuple[str, str]]:
    return {r["LogicalResourceId"]: (r["ResourceStatus"], r.get("ResourceStatusReason", ""))
            for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]}


def test_degap(sandbox) -> None:
    sb = sandbox("degap")
    gt = sb.world.ground_truth
    cfn, s3, ct = sb.client("cloudformation"), sb.client("s3"), sb.client("cloudtrail")
    assert sb.stacks == ["degap-prod"]
    for name in ("degap-prod", gt["api_stack"], gt["workers_stack"]):
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == \
            "UPDATE_ROLLBACK_FAILED"
    workers = _statuses(cfn, gt["workers_stack"])
    assert workers["NightlySchedule"][0] == "UPDATE_FAILED"
    assert "ScheduleExpression is not valid" in workers["NightlySchedule"][1]
    assert workers["DeadLetterQueue"] == ("UPDATE_FAILED", "Resource update cancelled")
    for skip_id in gt["rollback_failed"]:
        stack, lid = skip_id.split(".")
        status, reason = _statuses(cfn, stack)[lid]
        assert status == "UPDATE_FAILED" and "S3 Error Code: NoSuchKey" in reason
    # the bytes are where the ground truth says
    bucket = gt["deployment_bucket"]
    for truth in gt["missing"].values():
        listing = s3.list_object_versions(Bucket=bucket, Prefix=truth["key"])
        if truth["source"] == "delete-marker":
            assert listing["DeleteMarkers"][0]["IsLatest"] and len(listing["Versions"]) == 1
        else:
            assert not listing.get("Versions")
    # events hold forward failure, cancellation and rollback failures
    events = cfn.describe_stack_events(StackName=gt["workers_stack"])["StackEvents"]
    reasons = {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events}
    assert {("NightlySchedule", "UPDATE_FAILED"), ("DeadLetterQueue", "UPDATE_FAILED"),
            ("IngestFunction", "UPDATE_FAILED"), ("IngestFunction", "UPDATE_COMPLETE")} <= reasons
    root_events = cfn.describe_stack_events(StackName="degap-prod")["StackEvents"]
    started = [e for e in root_events if e["LogicalResourceId"] == "degap-prod"
               and e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert started[-1]["ResourceStatusReason"] == (
        "The following resource(s) failed to update: [WorkersStack]. ")
    # CloudTrail: failed rollback calls, earlier successful ones with codeSha256, out-of-band ops
    names = [e["EventName"] for e in ct.lookup_events()["Events"]]
    assert {"CreateFunction20150331", "UpdateFunctionCode20150331v2",
            "DeleteFunction20150331"} <= set(names)
    created = [json.loads(e["CloudTrailEvent"]) for e in ct.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "CreateFunction20150331"}])["Events"]]
    shas = {r["responseElements"]["codeSha256"] for r in created}
    assert {m["sha256"] for m in gt["missing"].values()} <= shas
    hand = [r for r in created if "invokedBy" not in r["userIdentity"]]
    assert [r["requestParameters"]["functionName"] for r in hand] == gt["out_of_band"]
    # trail files in the trail bucket, real layout
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=gt["trail_bucket"])["Contents"]]
    logs = [k for k in keys if "/CloudTrail/" in k]
    assert logs and all(k.startswith(f"AWSLogs/{sb.account}/CloudTrail/{sb.region}/")
                        and k.endswith(".json.gz") for k in logs)
    total = sum(len(json.loads(gzip.decompress(s3.get_object(Bucket=gt["trail_bucket"], Key=k)[
        "Body"].read()))["Records"]) for k in logs)
    assert total == len(sb.world.trail.records())


def test_degap_cannot_skip_the_forward_failure(sandbox) -> None:
    sb = sandbox("degap")
    cfn = sb.client("cloudformation")
    cfn.continue_update_rollback(StackName="degap-prod",
                                 ResourcesToSkip=[sb.world.ground_truth["forward_failed"]])
    sb.world.settle()
    assert cfn.describe_stacks(StackName="degap-prod")["Stacks"][0]["StackStatusReason"] == SKIP_OK


def test_nested_skip(sandbox) -> None:
    sb = sandbox("nested-skip")
    gt = sb.world.ground_truth
    cfn = sb.client("cloudformation")
    child = _statuses(cfn, gt["child"])
    assert child["Database"][0] == "UPDATE_FAILED" and "Cannot upgrade" in child["Database"][1]
    assert child["CpuAlarm"] == ("UPDATE_FAILED", "Resource update cancelled")
    root = _statuses(cfn, "orders-platform")
    assert root["DataStack"][0] == "UPDATE_FAILED"
    assert root["ApiGateway"][0] == "CREATE_COMPLETE"
    # the unfixable resource fails again on a plain continue
    cfn.continue_update_rollback(StackName="orders-platform")
    sb.world.settle()
    assert _statuses(cfn, gt["child"])["Database"][0] == "UPDATE_FAILED"
    for wrong, message in gt["wrong_skips"].items():
        cfn.continue_update_rollback(StackName="orders-platform", ResourcesToSkip=[wrong])
        sb.world.settle()
        assert cfn.describe_stacks(StackName="orders-platform")["Stacks"][0][
            "StackStatusReason"] == message


def test_delete_failed(sandbox) -> None:
    sb = sandbox("delete-failed")
    gt = sb.world.ground_truth
    cfn = sb.client("cloudformation")
    root = cfn.describe_stacks(StackName="legacy-app")["Stacks"][0]
    assert root["StackStatus"] == "DELETE_FAILED"
    assert root["StackStatusReason"] == ("The following resource(s) failed to delete: "
                                         "[AppBucket, AppSecurityGroup, SeedData, NetworkStack]. ")
    res = _statuses(cfn, "legacy-app")
    assert {k for k, v in res.items() if v[0] == "DELETE_FAILED"} == set(gt["failed"])
    assert {k for k, v in res.items() if v[0] == "DELETE_COMPLETE"} == set(gt["deleted"])
    assert "Error Code: BucketNotEmpty" in res["AppBucket"][1]
    assert res["AppSecurityGroup"][1].startswith(
        f"resource {gt['security_group']} has a dependent object (Service: AmazonEC2; "
        "Status Code: 400; Error Code: DependencyViolation;")
    assert res["SeedData"][1].startswith(
        "CloudFormation did not receive a response from your Custom Resource.")
    child = cfn.describe_stacks(StackName=gt["child"])["Stacks"][0]
    assert child["StackStatus"] == "DELETE_FAILED"
    assert _statuses(cfn, gt["child"])["FlowLogsBucket"][0] == "DELETE_FAILED"


def test_cdk_bootstrap_deleted(sandbox) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    gt = sb.world.ground_truth
    cfn, iam, s3 = sb.client("cloudformation"), sb.client("iam"), sb.client("s3")
    stack = cfn.describe_stacks(StackName="billing-service")["Stacks"][0]
    assert stack["RoleARN"] == gt["role_arn"]
    existing = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert not existing & set(gt["deleted_roles"])
    toolkit = cfn.describe_stacks(StackName=gt["toolkit_stack_id"])["Stacks"][0]
    assert toolkit["StackStatus"] == "DELETE_COMPLETE"
    s3.head_object(Bucket=gt["staging_bucket"], Key=gt["asset_key"])
    ssm = sb.client("ssm")
    assert not ssm.describe_parameters()["Parameters"]


def test_healthy(sandbox) -> None:
    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")
    stacks = cfn.describe_stacks()["Stacks"]
    assert len(stacks) == 3 and all(s["StackStatus"] == "CREATE_COMPLETE" for s in stacks)
    assert sorted(sb.stacks) == ["shop-batch", "shop-web"]


def test_scenarios_are_deterministic(sandbox) -> None:
    first = sandbox("nested-skip")
    ids = [(s.stack_id, [e.event_id for e in s.events]) for s in first.world.cfn.stacks.values()]
    first.stop()
    second = sandbox("nested-skip")
    assert [(s.stack_id, [e.event_id for e in s.events])
            for s in second.world.cfn.stacks.values()] == ids
