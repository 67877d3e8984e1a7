"""The delete-failed planner and the orphan records (pure): AWS's retain rules (docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed, docs/reference/aws-behaviour.md#which-resources-may-be-retained),
nested child-first ordering, the empty-and-delete gate, and the follow-ups of each orphan."""

from __future__ import annotations

import pytest

from recover.decide.delete_plan import (
    AWS_RETAIN_DELETED,
    Action,
    BucketContents,
    DeleteChoices,
    plan_delete,
    validate_empty_buckets,
    validate_retains,
    validate_retries,
)
from recover.decide.diagnose import diagnose
from recover.decide.orphans import (
    arn_for,
    delete_commands,
    import_mapping,
    orphan_id,
    orphan_record,
)
from recover.model.stack import NESTED_STACK_TYPE, RoleCheck
from recover.runbooks.delete_failed.flow import empty_calls
from tests.builders import ACCOUNT, REGION, NodeBuilder, arn, snapshot

BUCKET_REASON = ("The bucket you tried to delete is not empty (Service: Amazon S3; Status Code: "
                 "409; Error Code: BucketNotEmpty; Request ID: R1; S3 Extended Request ID: X; "
                 "Proxy: null)")
SG_REASON = ("resource sg-0abc has a dependent object (Service: AmazonEC2; Status Code: 400; "
             "Error Code: DependencyViolation; Request ID: r2)")
CUSTOM_REASON = ("CloudFormation did not receive a response from your Custom Resource. Please "
                 "check your logs for requestId [3f2a-11]. If you are using the Python "
                 "cfn-response module, you may need to update your Lambda function code so that "
                 "CloudFormation can attach the updated version.")
CHILD = "app-Net-ABC123"


def delete_failed_tree(child_status: str = "DELETE_FAILED"):  # type: ignore[no-untyped-def]
    root = NodeBuilder("app", "DELETE_FAILED")
    child = NodeBuilder(CHILD, child_status, parent=root, logical_id_in_parent="Net")
    root.stack_event("DELETE_IN_PROGRESS", "User Initiated")
    root.event("Role", "DELETE_COMPLETE", rtype="AWS::IAM::Role")
    root.event("Data", "DELETE_FAILED", BUCKET_REASON, rtype="AWS::S3::Bucket", physical="app-data")
    root.event("Sg", "DELETE_FAILED", SG_REASON, rtype="AWS::EC2::SecurityGroup", physical="sg-0abc")
    root.event("Seed", "DELETE_FAILED", CUSTOM_REASON, rtype="Custom::Seeder", physical="seed-1")
    nested_reason = f"Embedded stack {arn(CHILD)} was not successfully deleted: x"
    root.event("Net", "DELETE_FAILED", nested_reason, rtype=NESTED_STACK_TYPE, physical=arn(CHILD))
    root.stack_event("DELETE_FAILED", "The following resource(s) failed to delete: [Data]. ")
    root.resource("Role", "DELETE_COMPLETE", "AWS::IAM::Role")
    root.resource("Data", "DELETE_FAILED", "AWS::S3::Bucket", "app-data", BUCKET_REASON)
    root.resource("Sg", "DELETE_FAILED", "AWS::EC2::SecurityGroup", "sg-0abc", SG_REASON)
    root.resource("Seed", "DELETE_FAILED", "Custom::Seeder", "seed-1", CUSTOM_REASON)
    root.resource("Net", "DELETE_FAILED", NESTED_STACK_TYPE, arn(CHILD), nested_reason)
    child.stack_event("DELETE_IN_PROGRESS", "User Initiated")
    child.event("LogsRole", "DELETE_COMPLETE", rtype="AWS::IAM::Role")
    child.event("Logs", "DELETE_FAILED", BUCKET_REASON, rtype="AWS::S3::Bucket", physical="app-logs")
    child.stack_event(child_status)
    child.resource("LogsRole", "DELETE_COMPLETE", "AWS::IAM::Role")
    child.resource("Logs", "DELETE_FAILED" if child_status == "DELETE_FAILED" else "DELETE_COMPLETE",
                   "AWS::S3::Bucket", "app-logs", BUCKET_REASON)
    return snapshot(root, child)


def plan(choices: DeleteChoices, **kw):  # type: ignore[no-untyped-def]
    snap = kw.pop("snap", None) or delete_failed_tree()
    return snap, plan_delete(snap, diagnose(snap), choices, **kw)


def actions(p) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d.target: d.action for d in p.decisions}


def test_retain_all_failed_deletes_the_child_first_then_the_root() -> None:
    _, p = plan(DeleteChoices(retain_all_failed=True))
    assert not p.undecided and not p.blocked
    assert actions(p) == {"Data": Action.RETAIN, "Sg": Action.RETAIN, "Seed": Action.RETAIN,
                          "Net": Action.CHILD_FIRST, f"{CHILD}.Logs": Action.RETAIN}
    assert [(s.stack_name, s.retain) for s in p.steps] == [
        (CHILD, ("Logs",)), ("app", ("Data", "Seed", "Sg"))]
    assert "Role" not in {t for s in p.steps for t in s.retain}  # DELETE_COMPLETE never retained


def test_nested_resource_is_retried_when_its_child_is_already_gone() -> None:
    _, p = plan(DeleteChoices(retain_all_failed=True), snap=delete_failed_tree("DELETE_COMPLETE"))
    assert actions(p)["Net"] == Action.RETRY
    assert [s.stack_name for s in p.steps] == ["app"]


def test_undecided_names_the_flags_and_only_buckets_offer_emptying() -> None:
    _, p = plan(DeleteChoices())
    by_target = {u.target: u for u in p.undecided}
    assert set(by_target) == {"Data", "Sg", "Seed", f"{CHILD}.Logs"}
    assert "--empty-bucket app-data" in by_target["Data"].flags
    assert Action.EMPTY in by_target["Data"].options
    assert Action.EMPTY not in by_target["Sg"].options
    assert not any(f.startswith("--empty-bucket") for f in by_target["Sg"].flags)
    assert f"--retain {CHILD}.Logs" in by_target[f"{CHILD}.Logs"].flags


def test_empty_needs_the_bucket_name_and_shows_its_counts() -> None:
    contents = BucketContents("app-data", 1, 2, 1, (("k", "v1"), ("k", "v2"), ("k", "m1")))
    _, p = plan(DeleteChoices(retain_all_failed=True), buckets={"app-data": contents})
    assert actions(p)["Data"] == Action.RETAIN  # --retain-all-failed never empties
    _, p = plan(DeleteChoices(retain_all_failed=True, empty_buckets=["app-data"]),
                buckets={"app-data": contents})
    assert actions(p)["Data"] == Action.EMPTY
    assert p.empty == (contents,)
    decision = next(d for d in p.decisions if d.target == "Data")
    assert decision.blocker["to_delete"] == 3 and decision.blocker["versions"] == 2
    assert "Data" not in p.steps[-1].retain


def test_explicit_retain_wins_and_answers_retry() -> None:
    _, p = plan(DeleteChoices(retain=["Sg"], answers={"Seed": Action.RETRY},
                              retain_all_failed=True))
    assert actions(p)["Sg"] == Action.RETAIN and actions(p)["Seed"] == Action.RETRY
    assert p.steps[-1].retain == ("Data", "Sg")


def test_transient_reason_is_retried_without_asking() -> None:
    root = NodeBuilder("app", "DELETE_FAILED")
    root.event("Fn", "DELETE_FAILED", "Rate exceeded (Service: Lambda; Status Code: 429)")
    root.resource("Fn", "DELETE_FAILED", reason="Rate exceeded (Service: Lambda; Status Code: 429)")
    snap = snapshot(root)
    p = plan_delete(snap, diagnose(snap), DeleteChoices())
    assert actions(p) == {"Fn": Action.RETRY} and not p.undecided


def test_fix_names_the_dependent_network_interface() -> None:
    blockers = {"Sg": {"network_interfaces": [{"id": "eni-42", "description": "attached by hand",
                                               "status": "in-use"}]}}
    _, p = plan(DeleteChoices(retain_all_failed=True), blockers=blockers)
    sg = next(d for d in p.decisions if d.target == "Sg")
    assert "eni-42 (attached by hand)" in sg.fix
    seed = next(d for d in p.decisions if d.target == "Seed")
    assert "3f2a-11" in seed.fix


def test_missing_service_role_blocks_the_plan() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}"
    root = NodeBuilder("app", "DELETE_FAILED", role_arn=role)
    root.event("Data", "DELETE_FAILED", BUCKET_REASON, rtype="AWS::S3::Bucket")
    root.resource("Data", "DELETE_FAILED", "AWS::S3::Bucket", reason=BUCKET_REASON)
    snap = snapshot(root, roles=(RoleCheck(role, "missing"),))
    p = plan_delete(snap, diagnose(snap), DeleteChoices(retain_all_failed=True))
    assert "bootstrap-role app" in p.blocked


@pytest.mark.parametrize(("target", "expected"), [
    ("Role", AWS_RETAIN_DELETED),
    (f"{CHILD}.LogsRole", AWS_RETAIN_DELETED),
    ("Net", f"{CHILD}.<LogicalId>"),
    ("Net.Logs", f"name the child stack: {CHILD}.Logs"),
    ("Nope", "no resource Nope in stack app"),
    ("other-stack.Logs", "no stack named 'other-stack'"),
    ("app.Data", "bare logical id: Data"),
])
def test_validate_retains_refuses_what_aws_would(target: str, expected: str) -> None:
    [error] = validate_retains(delete_failed_tree(), [target])
    assert error.startswith(target) and expected in error


def test_validate_retains_accepts_failed_resources_and_checks_stack_status() -> None:
    snap = delete_failed_tree()
    assert validate_retains(snap, ["Data", "Sg", "Seed", f"{CHILD}.Logs"]) == []
    gone = delete_failed_tree("DELETE_COMPLETE")
    [error] = validate_retains(gone, [f"{CHILD}.LogsRole"])
    assert AWS_RETAIN_DELETED in error


def test_validate_retries_and_empty_buckets() -> None:
    snap = delete_failed_tree()
    assert validate_retries(snap, ["Sg"], []) == []
    assert "choose one" in validate_retries(snap, ["Sg"], ["Sg"])[0]
    assert "not a resource that failed" in validate_retries(snap, ["Role"], [])[0]
    assert validate_empty_buckets(snap, ["app-data", "app-logs"]) == []
    [error] = validate_empty_buckets(snap, ["somebody-else"])
    assert "app-data, app-logs" in error


def test_empty_calls_batch_by_1000_with_version_ids() -> None:
    entries = tuple((f"k{i}", f"v{i}") for i in range(2500))
    calls = empty_calls(BucketContents("b", 2500, 2500, 0, entries))
    assert [len(c.params["Delete"]["Objects"]) for c in calls] == [1000, 1000, 500]
    assert calls[0].params["Delete"]["Objects"][0] == {"Key": "k0", "VersionId": "v0"}
    assert calls[2].cli().startswith("aws s3api delete-objects --bucket b --delete ")
    assert "batch 3/3" in calls[2].description


@pytest.mark.parametrize(("rtype", "physical", "expected"), [
    ("AWS::S3::Bucket", "b1", "arn:aws:s3:::b1"),
    ("AWS::EC2::SecurityGroup", "sg-1", f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1"),
    ("AWS::SQS::Queue", f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q1",
     f"arn:aws:sqs:{REGION}:{ACCOUNT}:q1"),
    ("AWS::CloudFormation::Stack", arn("x"), arn("x")),
    ("Custom::Thing", "thing-1", None),
    ("AWS::Made::Up", "x", None),
])
def test_arn_for(rtype: str, physical: str, expected: str | None) -> None:
    assert arn_for(rtype, physical, REGION, ACCOUNT) == expected


def test_import_mapping_uses_the_cdk_path_and_refuses_custom_resources() -> None:
    snippet = {"Type": "AWS::S3::Bucket", "Metadata": {"aws:cdk:path": "App/Data/Resource"}}
    m = import_mapping("AWS::S3::Bucket", "DataB1C2", "app-data", snippet)
    assert m["resources_to_import"] == [{"ResourceType": "AWS::S3::Bucket",
                                         "LogicalResourceId": "DataB1C2",
                                         "ResourceIdentifier": {"BucketName": "app-data"}}]
    assert m["cdk_resource_mapping"] == {"App/Data/Resource": {"BucketName": "app-data"}}
    assert any("--change-set-type IMPORT" in c for c in m["commands"])
    assert import_mapping("Custom::X", "C", "c", None)["importable"] is False
    unknown = import_mapping("AWS::Made::Up", "U", "u", None)
    assert unknown["importable"] is False and "get-template-summary" in unknown["identifier_check"]


def test_delete_commands_empty_versioned_buckets_first() -> None:
    cmds = delete_commands("AWS::S3::Bucket", "my bucket", REGION)
    assert "list-object-versions" in cmds[1] and "'my bucket'" in cmds[1]
    assert cmds[-1] == f"aws s3api delete-bucket --bucket 'my bucket' --region {REGION}"
    assert delete_commands("AWS::EC2::SecurityGroup", "sg-1", "")[-1] == \
        "aws ec2 delete-security-group --group-id sg-1"


def test_orphan_record_is_complete_and_its_id_stable() -> None:
    kw = dict(stack_name="app", stack_id=arn("app"), root_stack="app", logical_id="Data",
              resource_type="AWS::S3::Bucket", physical_id="app-data", region=REGION,
              account=ACCOUNT, reason=BUCKET_REASON, failure_mode="delete_blocked_nonempty_bucket",
              tags={"team": "a"}, tags_source="tag:GetResources",
              snippet={"Type": "AWS::S3::Bucket"}, retained_at="t", run_id="r",
              evidence_dir="e")
    r = orphan_record(**kw)  # type: ignore[arg-type]
    assert r["id"] == orphan_id(ACCOUNT, REGION, arn("app"), "Data", "app-data")
    assert r["id"] == orphan_record(**dict(kw, retained_at="later"))["id"]  # type: ignore[arg-type]
    assert r["arn"] == "arn:aws:s3:::app-data" and r["costs_money"] is True
    assert r["left_stack"] == {"name": "app", "stack_id": arn("app"), "root": "app"}
    assert r["follow_up"]["delete_later"] and r["follow_up"]["adopt_again"]["importable"]


def test_a_resource_removed_by_hand_is_retried() -> None:
    blockers = {"Data": {"gone": "app-data no longer exists (NoSuchBucket)"}}
    _, p = plan(DeleteChoices(), blockers=blockers)
    data = next(d for d in p.decisions if d.target == "Data")
    assert data.action == Action.RETRY and "no longer exists" in data.why
    assert "Data" not in {u.target for u in p.undecided}
    _, p = plan(DeleteChoices(retain=["Data"]), blockers=blockers)
    assert actions(p)["Data"] == Action.RETAIN  # an explicit decision still wins


def test_describe_blocker_lines() -> None:
    from recover.runbooks.delete_failed.flow import describe_blocker

    assert describe_blocker(BucketContents("b", 1, 2, 1).to_dict()) == (
        "1 current object(s), 2 object version(s), 1 delete marker(s)")
    assert describe_blocker({"network_interfaces": [{"id": "eni-1", "description": "lambda"}]}) \
        == "used by eni-1 (lambda)"
    assert describe_blocker({"network_interfaces": []}) == "no network interface uses it now"
    assert describe_blocker({}) == ""


def test_undecided_carries_the_fix() -> None:
    blockers = {"Sg": {"network_interfaces": [{"id": "eni-9", "description": "lambda"}]}}
    _, p = plan(DeleteChoices(), blockers=blockers)
    sg = next(u for u in p.undecided if u.target == "Sg")
    assert "eni-9 (lambda)" in sg.fix
    assert p.to_dict()["undecided"][1]["fix"] == sg.fix
