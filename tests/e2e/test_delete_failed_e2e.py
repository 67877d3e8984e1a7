"""delete-failed end to end: the CLI as a subprocess against the served `delete-failed`
sandbox scenario (legacy-app: AppBucket, AppSecurityGroup, SeedData and the nested
NetworkStack, whose child fails on FlowLogsBucket; AppRole/AppQueue/FlowLogsRole are gone)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from recover.decide.delete_plan import AWS_RETAIN_DELETED
from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import recover

pytestmark = pytest.mark.e2e


def stacks(sb: Any) -> dict[str, str]:
    """Stack name -> status for every stack the sandbox ever had (deleted ones included)."""
    cfn = sb.client("cloudformation")
    return {s["StackName"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}


def bucket_exists(sb: Any, bucket: str) -> bool:
    try:
        sb.client("s3").head_bucket(Bucket=bucket)
        return True
    except ClientError:
        return False


def security_group_exists(sb: Any, group_id: str) -> bool:
    try:
        sb.client("ec2").describe_security_groups(GroupIds=[group_id])
        return True
    except ClientError:
        return False


def versions(sb: Any, bucket: str) -> int:
    listing = sb.client("s3").list_object_versions(Bucket=bucket)
    return len(listing.get("Versions", [])) + len(listing.get("DeleteMarkers", []))


def journal_calls(evidence_dir: str) -> list[dict]:
    return [e["call"] for e in read_journal(Path(evidence_dir) / "journal.jsonl")
            if e.get("phase") == "before"]


def test_retain_all_failed_deletes_the_tree_and_writes_the_ledger(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                             "legacy-app", "--retain-all-failed", "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "DELETE_COMPLETE"
    assert stacks(sb) == {"legacy-app": "DELETE_COMPLETE", truth["child"]: "DELETE_COMPLETE"}
    # every retained resource still exists in the sandbox...
    assert bucket_exists(sb, truth["bucket"]) and bucket_exists(sb, truth["logs_bucket"])
    assert security_group_exists(sb, truth["security_group"])
    assert versions(sb, truth["bucket"]) == 3  # data untouched: 2 versions + 1 delete marker
    # ...and is in the ledger with its ARN and tags, read from the ledger file itself
    ledger = json.loads((tmp_path / "ledger" / "orphans.json").read_text())
    by_physical = {o["physical_id"]: o for o in ledger["orphans"]}
    assert set(by_physical) == {truth["bucket"], truth["logs_bucket"], truth["security_group"],
                                "legacy-app-SeedData-1XK2P9Q"}
    for physical, tags in truth["tags"].items():
        assert by_physical[physical]["tags"] == tags
        assert by_physical[physical]["state"] == "retained"
    assert by_physical[truth["bucket"]]["arn"] == f"arn:aws:s3:::{truth['bucket']}"
    sg = by_physical[truth["security_group"]]
    assert sg["arn"] == (f"arn:aws:ec2:{sb.region}:{sb.account}:security-group/"
                         f"{truth['security_group']}")
    assert sg["blocker"]["network_interfaces"][0]["id"] == truth["eni"]
    assert sg["follow_up"]["delete_later"][-1].endswith(
        f"delete-security-group --region {sb.region} --group-id {truth['security_group']}")
    seed = by_physical["legacy-app-SeedData-1XK2P9Q"]
    assert seed["arn"] is None and seed["follow_up"]["adopt_again"]["importable"] is False
    logs = by_physical[truth["logs_bucket"]]
    assert logs["left_stack"]["name"] == truth["child"] and logs["left_stack"]["root"] == "legacy-app"
    assert logs["template_snippet"] == {"Type": "AWS::S3::Bucket",
                                        "Properties": {"BucketName": truth["logs_bucket"]}}
    assert logs["follow_up"]["adopt_again"]["resources_to_import"] == [{
        "ResourceType": "AWS::S3::Bucket", "LogicalResourceId": "FlowLogsBucket",
        "ResourceIdentifier": {"BucketName": truth["logs_bucket"]}}]
    assert all(o["region"] == sb.region and o["account"] == sb.account
               for o in ledger["orphans"])
    # nested: the child is deleted first with its own retains, then the root (docs/reference/aws-behaviour.md#deletestack-and-retainresources, docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed)
    calls = journal_calls(data["evidence_dir"])
    assert [c["operation"] for c in calls] == ["DeleteStack", "DeleteStack"]
    child_call, root_call = (c["params"] for c in calls)
    assert f"stack/{truth['child']}/" in child_call["StackName"]
    assert child_call["RetainResources"] == ["FlowLogsBucket"]
    assert root_call["RetainResources"] == ["AppBucket", "AppSecurityGroup", "SeedData"]
    assert child_call["ClientRequestToken"] != root_call["ClientRequestToken"]
    assert all(c["params"]["ClientRequestToken"].startswith("recover-") for c in calls)
    # the evidence folder holds the same records
    evidence = json.loads((Path(data["evidence_dir"]) / "orphans.json").read_text())
    assert {o["id"] for o in evidence} == {o["id"] for o in ledger["orphans"]}
    # `recover orphans list|show` read the same ledger
    code, env, _ = recover(sb, tmp_path, "orphans", "list")
    assert code == ExitCode.OK and env["data"]["count"] == 4
    code, env, _ = recover(sb, tmp_path, "orphans", "list", "--stack", truth["child"])
    assert [o["physical_id"] for o in env["data"]["orphans"]] == [truth["logs_bucket"]]
    code, env, _ = recover(sb, tmp_path, "orphans", "show", truth["bucket"])
    assert code == ExitCode.OK
    orphan = env["data"]["orphan"]
    assert orphan["logical_id"] == "AppBucket" and orphan["tags"] == truth["tags"][truth["bucket"]]
    assert orphan["template_snippet"]["Properties"]["VersioningConfiguration"] == {
        "Status": "Enabled"}
    code, env, _ = recover(sb, tmp_path, "orphans", "show", orphan["id"][:9])
    assert code == ExitCode.OK and env["data"]["orphan"]["id"] == orphan["id"]


@pytest.mark.parametrize("bad", ["AppRole", "AppQueue", "{child}.FlowLogsRole"])
def test_retaining_a_delete_complete_resource_is_refused_locally(sandbox, tmp_path: Path,
                                                                  bad: str) -> None:
    sb = sandbox("delete-failed")
    target = bad.format(child=sb.world.ground_truth["child"])
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                           "legacy-app", "--retain", target, "--retain-all-failed")
    assert code == ExitCode.USAGE
    message = env["errors"][0]["message"]
    assert target in message and AWS_RETAIN_DELETED in message
    assert stacks(sb)["legacy-app"] == "DELETE_FAILED"  # nothing was sent
    assert not (tmp_path / "ledger" / "orphans.json").exists()


def test_retaining_a_nested_stack_or_naming_it_by_logical_id_is_refused(sandbox,
                                                                         tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    child = sb.world.ground_truth["child"]
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                           "legacy-app", "--retain", "NetworkStack",
                           "--retain", "NetworkStack.FlowLogsBucket")
    assert code == ExitCode.USAGE
    message = env["errors"][0]["message"]
    assert f"{child}.<LogicalId>" in message and f"{child}.FlowLogsBucket" in message


def test_empty_bucket_is_never_implied_by_yes(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    truth = sb.world.ground_truth
    child = truth["child"]
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                           "legacy-app", "--retain", "AppSecurityGroup", "--retain", "SeedData",
                           "--retain", f"{child}.FlowLogsBucket")
    assert code == ExitCode.NEEDS_DECISION
    err = env["errors"][0]
    assert "AppBucket" in err["message"]
    assert f"--empty-bucket {truth['bucket']}" in err["details"]["flag"]
    assert versions(sb, truth["bucket"]) == 3 and stacks(sb)["legacy-app"] == "DELETE_FAILED"


def test_empty_bucket_named_deletes_every_version_then_the_bucket(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                             "legacy-app", "--empty-bucket", truth["bucket"],
                             "--retain-all-failed", "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "DELETE_COMPLETE"
    assert not bucket_exists(sb, truth["bucket"])  # emptied, then deleted by the stack delete
    assert truth["bucket"] not in {o["physical_id"] for o in data["orphans"]}
    assert data["rounds"][0]["emptied"] == [{"bucket": truth["bucket"], "objects": 0,
                                             "versions": 2, "delete_markers": 1, "to_delete": 3}]
    calls = journal_calls(data["evidence_dir"])
    [empty] = [c for c in calls if c["operation"] == "DeleteObjects"]
    assert len(empty["params"]["Delete"]["Objects"]) == 3
    assert all(o["VersionId"] for o in empty["params"]["Delete"]["Objects"])
    assert [c["operation"] for c in calls].index("DeleteObjects") == 0  # before any DeleteStack
    root_call = calls[-1]["params"]
    assert "AppBucket" not in root_call["RetainResources"]


def test_unknown_empty_bucket_is_a_usage_error(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                           "legacy-app", "--empty-bucket", "someone-elses-bucket",
                           "--retain-all-failed")
    assert code == ExitCode.USAGE and "someone-elses-bucket" in env["errors"][0]["message"]


def test_retry_after_a_fix_deletes_the_resource(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    truth = sb.world.ground_truth
    sb.client("ec2").delete_network_interface(NetworkInterfaceId=truth["eni"])  # the fix
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                             "legacy-app", "--retry", "AppSecurityGroup", "--retain-all-failed",
                             "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "DELETE_COMPLETE" and len(data["rounds"]) == 1
    assert data["rounds"][0]["retried"] == ["AppSecurityGroup"]
    assert not security_group_exists(sb, truth["security_group"])
    assert truth["security_group"] not in {o["physical_id"] for o in data["orphans"]}


def test_a_retry_that_fails_again_is_planned_again(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                             "legacy-app", "--retry", "AppSecurityGroup", "--retain-all-failed",
                             "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    data = env["data"]
    first, second = data["rounds"]
    assert first["final_status"] == "DELETE_FAILED"
    assert any(f.startswith("legacy-app.AppSecurityGroup: resource sg-")
               for f in first["new_failures"])
    assert second["retained"] == ["AppSecurityGroup"] and data["final_status"] == "DELETE_COMPLETE"
    assert security_group_exists(sb, truth["security_group"])
    assert truth["security_group"] in {o["physical_id"] for o in data["orphans"]}


def test_dry_run_plan_then_apply(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    truth = sb.world.ground_truth
    plan = tmp_path / "plan.json"
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "delete-failed",
                             "legacy-app", "--retain-all-failed", "--empty-bucket",
                             truth["logs_bucket"], "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["dry_run"] is True
    clis = [c["cli"] for c in data["calls"]]
    assert clis[0].startswith(f"aws s3api delete-objects --bucket {truth['logs_bucket']}")
    assert clis[1].startswith("aws cloudformation delete-stack --stack-name arn:")
    assert "--retain-resources" not in clis[1]  # the child retains nothing: its bucket is emptied
    assert "--retain-resources AppBucket AppSecurityGroup SeedData" in clis[2]
    assert stacks(sb)["legacy-app"] == "DELETE_FAILED" and versions(sb, truth["logs_bucket"]) == 1
    assert not (tmp_path / "ledger" / "orphans.json").exists()  # dry run: ledger untouched
    # emptying is confirmed again at apply time: --yes alone does not do it
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.NEEDS_DECISION
    assert env["errors"][0]["details"]["flag"] == f"--empty-bucket {truth['logs_bucket']}"
    # a plan whose stack moved is refused
    stale = json.loads(plan.read_text())
    stale["preconditions"]["failed_resources"].append("legacy-app/Phantom:DELETE_FAILED")
    stale_path = tmp_path / "stale.json"
    stale_path.write_text(json.dumps(stale))
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(stale_path),
                           "--empty-bucket", truth["logs_bucket"])
    assert code == ExitCode.PRECONDITION_CHANGED
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan),
                             "--empty-bucket", truth["logs_bucket"])
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "DELETE_COMPLETE"
    assert not bucket_exists(sb, truth["logs_bucket"])
    assert {o["physical_id"] for o in env["data"]["orphans"]} == {
        truth["bucket"], truth["security_group"], "legacy-app-SeedData-1XK2P9Q"}
    ledger = json.loads((tmp_path / "ledger" / "orphans.json").read_text())
    assert len(ledger["orphans"]) == 3


def test_changed_stack_status_stops_before_the_delete(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    plan = tmp_path / "plan.json"
    code, _, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "delete-failed",
                           "legacy-app", "--retain-all-failed", "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    sb.world.set_stack_status("legacy-app", "DELETE_IN_PROGRESS")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.PRECONDITION_CHANGED
    assert "DELETE_IN_PROGRESS" in env["errors"][0]["message"]


def test_wrong_state_and_needs_yes(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "delete-failed", "legacy-app",
                           "--retain-all-failed")
    assert code == ExitCode.NEEDS_DECISION and env["errors"][0]["details"]["flag"] == "--yes"
    assert stacks(sb)["legacy-app"] == "DELETE_FAILED"
    sb.world.set_stack_status("legacy-app", "UPDATE_COMPLETE")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                           "legacy-app", "--retain-all-failed")
    assert code == ExitCode.FAILURE_FOUND and env["errors"][0]["code"] == "unsupported_state"


def test_a_bucket_removed_by_hand_is_retried_not_retained(sandbox, tmp_path: Path) -> None:
    sb = sandbox("delete-failed")
    truth = sb.world.ground_truth
    s3 = sb.client("s3")
    s3.delete_object(Bucket=truth["logs_bucket"], Key="flowlogs/part-0000.log.gz")
    s3.delete_bucket(Bucket=truth["logs_bucket"])  # the engineer cleaned it up by hand
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "delete-failed",
                             "legacy-app", "--retain-all-failed", "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["rounds"][0]["retried"] == [f"{truth['child']}.FlowLogsBucket"]
    assert truth["logs_bucket"] not in {o["physical_id"] for o in data["orphans"]}
    child_call = journal_calls(data["evidence_dir"])[0]["params"]
    assert "RetainResources" not in child_call and data["final_status"] == "DELETE_COMPLETE"
