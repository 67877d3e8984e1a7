"""Snapshot layer against moto (in-process) and against real describe-stack-events dumps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from recover.aws.session import SessionFactory
from recover.aws.snapshot import SnapshotOptions, take_snapshot, trusts_principal
from recover.model.stack import StackSnapshot
from recover.run.errors import StackNotFoundError

CLOCK = lambda: datetime(2026, 11, 23, tzinfo=UTC)  # noqa: E731


def _make_tree(children: int) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="templates")
    child = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    s3.put_object(Bucket="templates", Key="child.json", Body=json.dumps(child))
    url = "https://templates.s3.amazonaws.com/child.json"
    root = {"Resources": {f"Child{i}": {"Type": "AWS::CloudFormation::Stack",
                                       "Properties": {"TemplateURL": url}}
                          for i in range(children)}}
    root["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue"}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="app", TemplateBody=json.dumps(root))


@mock_aws
def test_snapshot_reads_the_whole_nested_tree_and_counts_calls() -> None:
    _make_tree(5)
    aws = SessionFactory(region="us-east-1")
    snap = take_snapshot(aws, "app", clock=CLOCK)
    assert snap.root.name == "app"
    assert len(snap.nodes) == 6
    children = snap.children(snap.root)
    assert sorted(n.logical_id_in_parent for n in children) == [f"Child{i}" for i in range(5)]
    assert all(n.depth == 1 and n.info.parent_id == snap.root_id for n in children)
    assert all(n.resource("Topic") is not None for n in children)
    # 1 DescribeStacks + 1 ListStackResources + 1 DescribeStackEvents per stack.
    assert snap.api_calls == 18
    assert aws.counter.as_dict()["by_operation"]["cloudformation:DescribeStacks"] == 6
    # Events come back oldest first.
    times = [e.timestamp for e in snap.root.events]
    assert times == sorted(times)


@mock_aws
def test_snapshot_round_trips_through_json() -> None:
    _make_tree(2)
    snap = take_snapshot(SessionFactory(region="us-east-1"), "app", clock=CLOCK)
    again = StackSnapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap


@mock_aws
def test_unknown_stack_is_a_clear_error() -> None:
    with pytest.raises(StackNotFoundError) as err:
        take_snapshot(SessionFactory(region="us-east-1"), "nope", clock=CLOCK)
    assert "nope" in err.value.message and "us-east-1" in err.value.message


@mock_aws
def test_missing_service_role_is_seen_via_get_role() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "cloudformation.amazonaws.com"}}]}
    role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="app", RoleARN=role["Arn"],
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    aws = SessionFactory(region="us-east-1")
    assert take_snapshot(aws, "app", clock=CLOCK).roles[0].state == "exists"
    iam.delete_role(RoleName="deploy")
    snap = take_snapshot(aws, "app", clock=CLOCK)
    assert snap.roles[0].state == "missing"
    assert snap.roles[0].arn == role["Arn"]


@mock_aws
def test_same_role_name_under_another_path_is_another_role() -> None:
    """CloudFormation uses the role at the stack's ARN (path included, docs/reference/aws-behaviour.md#service-roles-rolearn); names are unique
    whatever the path, so a same-named role elsewhere is not the stack's role."""
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "cloudformation.amazonaws.com"}}]}
    role = iam.create_role(RoleName="deploy", Path="/svc/",
                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="app", RoleARN=role["Arn"],
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    iam.delete_role(RoleName="deploy")
    iam.create_role(RoleName="deploy", Path="/other/", AssumeRolePolicyDocument=json.dumps(trust))
    [check] = take_snapshot(SessionFactory(region="us-east-1"), "app", clock=CLOCK).roles
    assert check.arn == role["Arn"] and check.state == "other_path"
    assert "/other/" in check.detail


def test_roles_named_in_failure_reasons_are_gathered() -> None:
    from recover.aws.snapshot import roles_named_in_failures
    from tests.builders import NodeBuilder

    arn = "arn:aws:iam::123456789012:role/a/b/svc-role"
    node = NodeBuilder("app", "UPDATE_ROLLBACK_FAILED").resource(
        "Topic", "UPDATE_FAILED", reason=f"Role {arn} is invalid or cannot be assumed").resource(
        "Queue", "UPDATE_FAILED", reason="Rate exceeded").node(0)
    assert roles_named_in_failures([node]) == [arn]


def test_trust_policy_evaluation() -> None:
    allow = {"Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole"],
                            "Principal": {"Service": ["cloudformation.amazonaws.com"]}}]}
    other = {"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "lambda.amazonaws.com"}}}
    deny = {"Statement": allow["Statement"] + [{"Effect": "Deny", "Action": "sts:AssumeRole",
                                               "Principal": {"Service": "cloudformation.amazonaws.com"}}]}
    assert trusts_principal(allow, "cloudformation.amazonaws.com")
    assert trusts_principal(json.dumps(allow), "cloudformation.amazonaws.com")
    assert not trusts_principal(other, "cloudformation.amazonaws.com")
    assert not trusts_principal(deny, "cloudformation.amazonaws.com")
    assert not trusts_principal("not json", "cloudformation.amazonaws.com")


def test_snapshot_from_a_real_event_dump_with_stubbed_replies(shared_data) -> None:
    """Real `describe-stack-events` output (Makazine ingestion pipeline), replayed through
    botocore's Stubber: events paginate, are kept oldest first, and last-operation stops early."""
    dump = json.loads((shared_data / "stack-events/Makazine_ingestion-pipeline/stack-events-log.json")
                      .read_text())["StackEvents"]
    stack_id = dump[0]["StackId"]
    name = dump[0]["StackName"]
    aws = SessionFactory(region="us-east-1")
    cfn = aws.client("cloudformation")
    stub = Stubber(cfn)
    status = next(e["ResourceStatus"] for e in dump if e["LogicalResourceId"] == name)
    stub.add_response("describe_stacks", {"Stacks": [{
        "StackId": stack_id, "StackName": name, "StackStatus": status,
        "CreationTime": dump[-1]["Timestamp"]}]})
    stub.add_response("list_stack_resources", {"StackResourceSummaries": []})
    half = len(dump) // 2
    stub.add_response("describe_stack_events", {"StackEvents": dump[:half], "NextToken": "p2"})
    stub.add_response("describe_stack_events", {"StackEvents": dump[half:]})
    with stub:
        snap = take_snapshot(aws, name, clock=CLOCK,
                             options=SnapshotOptions(check_roles=False))
    assert len(snap.root.events) == len(dump)
    assert snap.root.events[0].event_id == dump[-1]["EventId"]
    assert snap.root.events[-1].event_id == dump[0]["EventId"]
    assert snap.account == stack_id.split(":")[4]
