"""EXPRESS deployment mode in the sandbox (docs/reference/aws-behaviour.md#express-deployment-mode),
through raw boto3 against the served `express-wedge` scenario: the stack reports its mode, AWS's
three refusals come with the captured texts, and an EXPRESS replay of the stable template
ends UPDATE_COMPLETE."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from recover.sandbox.cfn.express import FOLLOW_UP_REFUSED, ROLLBACK_ON_REFUSED, ROLLBACK_REFUSED

pytestmark = pytest.mark.e2e


def _stack(cfn) -> dict:
    return cfn.describe_stacks(StackName="orders-api")["Stacks"][0]


def _refusal(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_the_wedged_stack_reports_express_mode_and_its_failure(sandbox) -> None:
    sb = sandbox("express-wedge")
    cfn = sb.client("cloudformation")
    stack = _stack(cfn)
    assert (stack["StackStatus"], stack["DeploymentConfig"], stack["DisableRollback"]) == (
        "UPDATE_FAILED", {"Mode": "EXPRESS"}, True)
    failed = [r for r in cfn.list_stack_resources(StackName="orders-api")["StackResourceSummaries"]
              if r["ResourceStatus"] == "UPDATE_FAILED"]
    assert [r["LogicalResourceId"] for r in failed] == sb.world.ground_truth["failed"]


def test_rollback_classic_updates_and_rollback_on_are_refused_verbatim(sandbox) -> None:
    sb = sandbox("express-wedge")
    cfn = sb.client("cloudformation")
    assert "Follow-up operations must use the same DeploymentConfig (mode=EXPRESS)" in \
        FOLLOW_UP_REFUSED
    assert _refusal(lambda: cfn.rollback_stack(StackName="orders-api")) == (
        "ValidationError", ROLLBACK_REFUSED)
    assert _refusal(lambda: cfn.update_stack(StackName="orders-api", UsePreviousTemplate=True)) \
        == ("ValidationError", FOLLOW_UP_REFUSED)
    assert _refusal(lambda: cfn.create_change_set(
        StackName="orders-api", ChangeSetName="retry", UsePreviousTemplate=True)) == (
        "ValidationError", FOLLOW_UP_REFUSED)
    assert _refusal(lambda: cfn.update_stack(
        StackName="orders-api", UsePreviousTemplate=True,
        DeploymentConfig={"Mode": "EXPRESS", "DisableRollback": False})) == (
        "ValidationError", ROLLBACK_ON_REFUSED)
    assert _stack(cfn)["StackStatus"] == "UPDATE_FAILED"  # nothing moved


def test_an_express_replay_of_the_stable_version_completes(sandbox) -> None:
    sb = sandbox("express-wedge")
    truth = sb.world.ground_truth
    cfn, s3 = sb.client("cloudformation"), sb.client("s3")
    body = s3.get_object(Bucket=truth["bucket"], Key=truth["current_key"],
                         VersionId=truth["stable_version"])["Body"].read().decode()
    cfn.update_stack(StackName="orders-api", TemplateBody=body,
                     Parameters=[{"ParameterKey": "Stage", "UsePreviousValue": True}],
                     Capabilities=["CAPABILITY_IAM"], DeploymentConfig={"Mode": "EXPRESS"},
                     ClientRequestToken="replay-1")
    for _ in range(200):
        if not _stack(cfn)["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(0.05)
    stack = _stack(cfn)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["Parameters"] == [{"ParameterKey": "Stage", "ParameterValue": "prod"}]
    resources = {r["LogicalResourceId"] for r in
                 cfn.list_stack_resources(StackName="orders-api")["StackResourceSummaries"]}
    assert resources == {"OrdersRole", "OrdersTable", "OrdersQueue"}
    template = cfn.get_template(StackName="orders-api")["TemplateBody"]
    assert template["Resources"]["OrdersQueue"]["Properties"]["VisibilityTimeout"] == \
        truth["stable_queue_timeout"]
    # the same token again is the same request: accepted, nothing new starts
    assert cfn.update_stack(StackName="orders-api", TemplateBody=body,
                            Parameters=[{"ParameterKey": "Stage", "UsePreviousValue": True}],
                            Capabilities=["CAPABILITY_IAM"], DeploymentConfig={"Mode": "EXPRESS"},
                            ClientRequestToken="replay-1")["StackId"] == stack["StackId"]
    assert json.dumps(template)  # GetTemplate serves the replayed body
