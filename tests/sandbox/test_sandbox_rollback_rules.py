"""ContinueUpdateRollback / UpdateStack rules (docs/reference/aws-behaviour.md#continueupdaterollback-request, docs/reference/aws-behaviour.md#stack-statuses, docs/reference/aws-behaviour.md#continueupdaterollback-runs-on-the-root, docs/reference/aws-behaviour.md#resourcestoskip-rules) through raw boto3 against
a served sandbox on 127.0.0.1. Each test names its section; messages are the sheet's verbatim
ones where it has them."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e  # every test here serves a sandbox on 127.0.0.1


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def _root(cfn, name: str) -> dict:
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def test_continue_only_from_update_rollback_failed(sandbox) -> None:
    """docs/reference/aws-behaviour.md#stack-statuses: ContinueUpdateRollback goes from UPDATE_ROLLBACK_FAILED only (message unconfirmed,
    docs/reference/aws-behaviour.md#unconfirmed-rollback-details: the sandbox uses the Eucalyptus wording)."""
    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName="shop-web")
    code, message = _error(exc)
    assert code == "ValidationError"
    assert "is in CREATE_COMPLETE state and can not continue to update rollback" in message
    assert _root(cfn, "shop-web")["StackStatus"] == "CREATE_COMPLETE"


def test_update_stack_refused_in_update_rollback_failed(sandbox) -> None:
    """docs/reference/aws-behaviour.md#stack-statuses / docs/reference/aws-behaviour.md#aws-messages-recover-recognises verbatim: `Stack:<arn> is in UPDATE_ROLLBACK_FAILED state and can not be
    updated.`"""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    arn = _root(cfn, "orders-platform")["StackId"]
    with pytest.raises(ClientError) as exc:
        cfn.update_stack(StackName="orders-platform", UsePreviousTemplate=True)
    assert _error(exc) == ("ValidationError",
                           f"Stack:{arn} is in UPDATE_ROLLBACK_FAILED state and can not be updated.")


def test_continue_on_child_stack_refused(sandbox) -> None:
    """docs/reference/aws-behaviour.md#continueupdaterollback-runs-on-the-root: `RollbackUpdatedStack cannot be invoked on child stacks` (observed in operator notes)."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName=sb.world.ground_truth["child"])
    assert _error(exc) == ("ValidationError",
                           "RollbackUpdatedStack cannot be invoked on child stacks")


@pytest.mark.parametrize("which", ["forward_failed", "cancelled"])
def test_skip_only_resources_failed_during_rollback(sandbox, which: str) -> None:
    """docs/reference/aws-behaviour.md#resourcestoskip-rules rule 1: skipping a forward-failed or cancelled resource fails the attempt with
    `Only the resources failed during UpdateRollback are allowed to be skipped`, shown as the
    root's UPDATE_ROLLBACK_FAILED reason (sync vs async unconfirmed, docs/reference/aws-behaviour.md#unconfirmed-rollback-details)."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    cfn.continue_update_rollback(StackName="orders-platform",
                                 ResourcesToSkip=[sb.world.ground_truth[which]])
    sb.world.settle()
    root = _root(cfn, "orders-platform")
    assert root["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert root["StackStatusReason"] == (
        "Only the resources failed during UpdateRollback are allowed to be skipped")


def test_skip_with_logical_id_prefix_names_missing_stack(sandbox) -> None:
    """docs/reference/aws-behaviour.md#resourcestoskip-rules rule 3: the prefix is the child's stack NAME; the logical id gives
    `Stack [DataStack] does not exist`."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    cfn.continue_update_rollback(StackName="orders-platform",
                                 ResourcesToSkip=["DataStack.Database"])
    sb.world.settle()
    assert _root(cfn, "orders-platform")["StackStatusReason"] == "Stack [DataStack] does not exist"


def test_skip_nested_stack_resource_needs_deleted_child(sandbox) -> None:
    """docs/reference/aws-behaviour.md#resourcestoskip-rules rule 5: an AWS::CloudFormation::Stack resource may be skipped only when its child is
    DELETE_*; otherwise `Nested stacks could not be skipped`."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    cfn.continue_update_rollback(StackName="orders-platform", ResourcesToSkip=["DataStack"])
    sb.world.settle()
    assert _root(cfn, "orders-platform")["StackStatusReason"] == "Nested stacks could not be skipped"


def test_skip_nested_stack_resource_allowed_when_child_deleted(sandbox) -> None:
    """docs/reference/aws-behaviour.md#resourcestoskip-rules rule 5, allowed case: with the child DELETE_FAILED, the parent resource may be
    skipped (the child is not touched)."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    child = sb.world.ground_truth["child"]
    sb.world.set_stack_status(child, "DELETE_FAILED")
    cfn.continue_update_rollback(StackName="orders-platform", ResourcesToSkip=["DataStack"])
    sb.world.settle()
    assert _root(cfn, "orders-platform")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert cfn.describe_stacks(StackName=child)["Stacks"][0]["StackStatus"] == "DELETE_FAILED"


def test_bare_logical_id_of_nested_resource_refused(sandbox) -> None:
    """docs/reference/aws-behaviour.md#resourcestoskip-rules rule 2: a bare logical id names a resource of the stack called; a nested resource
    given bare does not belong to the root (full wording unknown, operator notes truncate it)."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    cfn.continue_update_rollback(StackName="orders-platform", ResourcesToSkip=["Database"])
    sb.world.settle()
    root = _root(cfn, "orders-platform")
    assert root["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert "does not belong to stack orders-platform" in root["StackStatusReason"]


def test_correct_nested_skip_completes_and_leaves_resource_inconsistent(sandbox) -> None:
    """docs/reference/aws-behaviour.md#resourcestoskip-rules rules 3, 4, 6: `<child-stack-name>.<LogicalId>` in one call on the root completes
    the rollback of root and child; the skipped resource is UPDATE_COMPLETE but not rolled back."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    gt = sb.world.ground_truth
    cfn.continue_update_rollback(StackName="orders-platform", ResourcesToSkip=gt["skip"])
    sb.world.settle()
    assert _root(cfn, "orders-platform")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _root(cfn, gt["child"])["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    db = cfn.describe_stack_resource(StackName=gt["child"], LogicalResourceId="Database")
    assert db["StackResourceDetail"]["ResourceStatus"] == "UPDATE_COMPLETE"
    # inconsistent with the template: the engine version was never rolled back
    assert sb.world.stack(gt["child"]).resources["Database"].properties["EngineVersion"] == "16.4"
    statuses = {r["LogicalResourceId"]: r["ResourceStatus"] for r in
                cfn.list_stack_resources(StackName=gt["child"])["StackResourceSummaries"]}
    assert set(statuses.values()) == {"UPDATE_COMPLETE"}


def test_skip_pattern_validated_synchronously(sandbox) -> None:
    """docs/reference/aws-behaviour.md#continueupdaterollback-request: ResourcesToSkip members must match the botocore pattern (one dot at most)."""
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName="orders-platform",
                                     ResourcesToSkip=["a.b.c"])
    code, message = _error(exc)
    assert code == "ValidationError"
    assert "resourcesToSkip.1.member" in message and "regular expression pattern" in message
    assert _root(cfn, "orders-platform")["StackStatus"] == "UPDATE_ROLLBACK_FAILED"


def test_client_request_token_idempotency(sandbox) -> None:
    """docs/reference/aws-behaviour.md#client-request-tokens / docs/reference/aws-behaviour.md#errors-and-waiters: the same token and request starts nothing new; the token reused for another
    request gives TokenAlreadyExistsException."""
    sb = sandbox("degap")
    cfn = sb.client("cloudformation")

    def attempts() -> int:
        events = sb.world.stack("degap-prod").events
        return sum(1 for e in events if e.status == "UPDATE_ROLLBACK_IN_PROGRESS"
                   and e.logical_id == "degap-prod")

    before = attempts()
    cfn.continue_update_rollback(StackName="degap-prod", ClientRequestToken="retry-1")
    sb.world.settle()
    assert attempts() == before + 1
    cfn.continue_update_rollback(StackName="degap-prod", ClientRequestToken="retry-1")
    sb.world.settle()
    assert attempts() == before + 1
    tokens = {e["ClientRequestToken"] for e in
              cfn.describe_stack_events(StackName="degap-prod")["StackEvents"][:1]}
    assert tokens == {"retry-1"}
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName="degap-prod", ClientRequestToken="retry-1",
                                     ResourcesToSkip=["WorkersStack"])
    assert _error(exc)[0] == "TokenAlreadyExistsException"


def test_operations_are_asynchronous(sandbox) -> None:
    """Like AWS, the call returns with the stack *_IN_PROGRESS; the walk happens afterwards."""
    sb = sandbox("nested-skip", step_delay=0.01)
    cfn = sb.client("cloudformation")
    sb.world.hold_operations()
    try:
        cfn.continue_update_rollback(StackName="orders-platform",
                                     ResourcesToSkip=sb.world.ground_truth["skip"])
        assert _root(cfn, "orders-platform")["StackStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"
        with pytest.raises(ClientError) as exc:  # one operation at a time
            cfn.continue_update_rollback(StackName="orders-platform")
        assert "UPDATE_ROLLBACK_IN_PROGRESS state" in _error(exc)[1]
        with pytest.raises(ClientError):
            cfn.delete_stack(StackName="orders-platform")
    finally:
        sb.world.release_operations()
    sb.world.settle()
    assert _root(cfn, "orders-platform")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    first = cfn.describe_stack_events(StackName="orders-platform")["StackEvents"][-1]
    assert first["ResourceStatus"] == "CREATE_IN_PROGRESS"  # oldest last


def test_role_arn_given_on_continue_sticks_to_the_stack(sandbox) -> None:
    """docs/reference/aws-behaviour.md#service-roles-rolearn: a RoleARN passed to an operation is used for all future operations."""
    import json

    sb = sandbox("nested-skip")
    cfn, iam = sb.client("cloudformation"), sb.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName="orders-cfn", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"]["Arn"]
    cfn.continue_update_rollback(StackName="orders-platform", RoleARN=arn)
    sb.world.settle()
    assert _root(cfn, "orders-platform")["RoleARN"] == arn
    iam.delete_role(RoleName="orders-cfn")
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName="orders-platform")
    assert _error(exc)[1] == f"Role {arn} is invalid or cannot be assumed"


def _three_levels(sb) -> tuple:
    """root -> Mid -> Leaf; Leaf's `Thing` can never roll back; seeded on an empty sandbox."""
    from recover.sandbox.cfn.model import NESTED_STACK, SimResource

    def res(lid: str, type_: str = "AWS::SQS::Queue") -> SimResource:
        return SimResource(logical_id=lid, type=type_, physical_id=None if type_ == NESTED_STACK
                           else lid.lower(), status="CREATE_IN_PROGRESS")

    cfn = sb.world.cfn
    root = cfn.add_stack("web-infra", [res("Mid", NESTED_STACK)])
    mid = cfn.add_stack("", [res("Leaf", NESTED_STACK), res("Queue")], parent=root,
                        logical_id="Mid")
    thing = res("Thing")
    leaf = cfn.add_stack("", [thing], parent=mid, logical_id="Leaf")
    thing.rollback_failure = "Resource handler returned message: \"nope\""
    cfn.fail_update(root, changes={mid.name: {"Queue": {"DelaySeconds": 5}},
                                   leaf.name: {"Thing": {"DelaySeconds": 9}}},
                    failure=(mid.name, "Queue", "forward failure"))
    return root, mid, leaf


def test_multi_level_skip_is_flat_owning_stack_name(sandbox) -> None:
    """docs/reference/aws-behaviour.md#resourcestoskip-rules rule 4: at any depth the id is `<immediately-owning-stack-name>.<LogicalId>`, all in
    one call on the root; the middle stack's nested resource cannot be skipped instead."""
    sb = sandbox(None)
    root, mid, leaf = _three_levels(sb)
    cfn = sb.client("cloudformation")
    assert _root(cfn, "web-infra")["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert _root(cfn, "web-infra")["StackStatusReason"] == (
        "The following resource(s) failed to update: [Mid]. ")
    assert re.fullmatch(r"web-infra-Mid-[A-Z0-9]{12}-Leaf-[A-Z0-9]{12}", leaf.name)
    assert _root(cfn, leaf.name)["RootId"] == root.stack_id
    assert _root(cfn, leaf.name)["ParentId"] == mid.stack_id
    cfn.continue_update_rollback(StackName="web-infra", ResourcesToSkip=[f"{mid.name}.Leaf"])
    sb.world.settle()
    assert _root(cfn, "web-infra")["StackStatusReason"] == "Nested stacks could not be skipped"
    cfn.continue_update_rollback(StackName="web-infra", ResourcesToSkip=[f"{leaf.name}.Thing"])
    sb.world.settle()
    for stack in (root, mid, leaf):
        assert _root(cfn, stack.stack_id)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
