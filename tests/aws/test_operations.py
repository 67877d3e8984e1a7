"""Gather through the operation APIs (recover.aws.operations), stubbed: which path, which
calls, and the fallback's reason (docs/reference/aws-behaviour.md#stack-operations-and-operation-events)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from recover.aws.operations import api_missing, read_operations
from recover.model.operations import SOURCE_OPERATIONS, SOURCE_RECONSTRUCTED, OperationRef
from recover.model.stack import StackInfo, StackResource
from tests.conftest import OfflineSessionFactory

ARN = "arn:aws:cloudformation:eu-west-1:123456789012:stack/web/1"
T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
INFO = StackInfo(stack_id=ARN, name="web", status="UPDATE_ROLLBACK_COMPLETE",
                 last_operations=(OperationRef("ROLLBACK", "op-rb"),
                                  OperationRef("UPDATE_STACK", "op-upd")))
HOOK_ID = "0123abcd-0123-4567-89ab-0123456789ab"


def cfn() -> Any:
    return OfflineSessionFactory(region="eu-west-1").client("cloudformation")


def test_an_sdk_without_describe_events_falls_back_without_a_call() -> None:
    old = SimpleNamespace(meta=SimpleNamespace(service_model=SimpleNamespace(
        operation_names=["DescribeStacks", "DescribeStackEvents"])))
    ops = read_operations(old, INFO, ())
    assert ops.source == SOURCE_RECONSTRUCTED and "has no DescribeEvents" in ops.fallback_reason
    assert api_missing(ops)


def test_invalid_action_falls_back_and_names_the_answer() -> None:
    client = cfn()
    client._recover_stub.add_client_error("describe_events", "InvalidAction",
                                          "Could not find operation DescribeEvents")
    ops = read_operations(client, INFO, ())
    assert (ops.source, ops.fallback_reason) == (SOURCE_RECONSTRUCTED,
                                                 "DescribeEvents answered InvalidAction")
    assert api_missing(ops) and ops.operations == INFO.last_operations


def test_failed_events_of_the_forward_operation_with_the_hooks_result() -> None:
    client = cfn()
    stub = client._recover_stub
    # a completed rollback: the story is in the update (never the rollback: no call for it)
    stub.add_response("describe_events", {"OperationEvents": [{
        "EventId": "e1", "StackId": ARN, "OperationId": "op-upd", "OperationType": "UPDATE_STACK",
        "EventType": "HOOK_INVOCATION_ERROR", "LogicalResourceId": "SiteBucket",
        "ResourceType": "AWS::S3::Bucket", "Timestamp": T, "HookType": "Org::S3::Hook",
        "HookStatus": "HOOK_COMPLETE_FAILED", "HookStatusReason": "public bucket",
        "HookFailureMode": "FAIL"}]},
        {"StackName": ARN, "OperationId": "op-upd", "Filters": {"FailedEvents": True}})
    stub.add_response("describe_stack_events", {"StackEvents": [{
        "StackId": ARN, "EventId": "e1", "StackName": "web", "LogicalResourceId": "SiteBucket",
        "Timestamp": T, "HookType": "Org::S3::Hook", "HookStatus": "HOOK_COMPLETE_FAILED",
        "HookInvocationId": HOOK_ID}]}, {"StackName": ARN})
    stub.add_response("get_hook_result", {
        "HookResultId": HOOK_ID, "TypeName": "Org::S3::Hook", "FailureMode": "FAIL",
        "Status": "HOOK_COMPLETE_FAILED", "HookStatusReason": "public bucket",
        "Annotations": [{"AnnotationName": "S3_PUBLIC", "Status": "FAILED",
                         "RemediationMessage": "Block public access"}]},
        {"HookResultId": HOOK_ID})
    ops = read_operations(client, INFO, (StackResource("SiteBucket", "AWS::S3::Bucket",
                                                       "UPDATE_COMPLETE"),))
    stub.assert_no_pending_responses()
    assert ops.source == SOURCE_OPERATIONS and not ops.fallback_reason
    [ev] = ops.failed
    assert (ev.event_type, ev.hook_invocation_id, ev.operation_type) == (
        "HOOK_INVOCATION_ERROR", HOOK_ID, "UPDATE_STACK")
    assert ops.hook(HOOK_ID).annotations[0].remediation == "Block public access"  # type: ignore[union-attr]


def test_a_stack_with_nothing_failed_costs_no_call() -> None:
    healthy = StackInfo(stack_id=ARN, name="web", status="UPDATE_COMPLETE",
                        last_operations=(OperationRef("UPDATE_STACK", "op-upd"),))
    ops = read_operations(cfn(), healthy, ())  # no reply queued: a call would fail
    assert ops.source == SOURCE_OPERATIONS and ops.failed == ()
