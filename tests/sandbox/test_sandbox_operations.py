"""The sandbox's operations (recover/sandbox/cfn/operations.py): every operation has an id,
DescribeStacks lists them (LastOperations), every event carries its id, DescribeEvents answers
an operation's (failed) events typed, GetHookResult answers recorded verdicts; and the switch
that makes all of it unavailable."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def test_operation_ids_types_and_failed_events(sandbox) -> None:
    sb = sandbox("degap")
    cfn = sb.client("cloudformation")
    root = cfn.describe_stacks(StackName="degap-prod")["Stacks"][0]
    ops = {o["OperationType"]: o["OperationId"] for o in root["LastOperations"]}
    assert set(ops) == {"CREATE_STACK", "UPDATE_STACK", "ROLLBACK"}
    events = cfn.describe_stack_events(StackName="degap-prod")["StackEvents"]
    assert all(e.get("OperationId") for e in events)
    assert events[0]["OperationId"] == ops["ROLLBACK"]  # the newest event is the rollback's
    failed = cfn.describe_events(StackName=root["StackId"], OperationId=ops["ROLLBACK"],
                                 Filters={"FailedEvents": True})["OperationEvents"]
    assert failed and all(e["OperationId"] == ops["ROLLBACK"] for e in failed)
    assert {e["EventType"] for e in failed} == {"STACK_EVENT", "PROVISIONING_ERROR"}
    assert all(e["OperationStatus"] == "FAILED" and e["OperationType"] == "ROLLBACK"
               for e in failed)
    everything = cfn.describe_events(StackName=root["StackId"], OperationId=ops["ROLLBACK"])
    assert len(everything["OperationEvents"]) > len(failed)
    # the child stacks have operations of their own
    child = next(s for s in cfn.describe_stacks()["Stacks"] if s.get("ParentId"))
    assert not {o["OperationId"] for o in child["LastOperations"]} & set(ops.values())


def test_continue_rollback_is_an_operation_of_its_own(sandbox) -> None:
    sb = sandbox("nested-skip")
    cfn = sb.client("cloudformation")
    child = sb.world.ground_truth["child"]
    cfn.continue_update_rollback(StackName="orders-platform",
                                 ResourcesToSkip=[f"{child}.Database"])
    sb.world.settle()
    listed = cfn.describe_stacks(StackName="orders-platform")["Stacks"][0]["LastOperations"]
    assert listed[0]["OperationType"] == "CONTINUE_ROLLBACK"
    assert [o["OperationType"] for o in listed][:3] == ["CONTINUE_ROLLBACK", "ROLLBACK",
                                                         "UPDATE_STACK"]


def test_hook_result_and_the_unavailable_switch(sandbox) -> None:
    sb = sandbox("hook-failed")
    cfn = sb.client("cloudformation")
    hook_id = sb.world.ground_truth["hook_result_id"]
    result = cfn.get_hook_result(HookResultId=hook_id)
    assert (result["FailureMode"], result["Status"]) == ("FAIL", "HOOK_COMPLETE_FAILED")
    assert result["Target"]["TargetId"] == "SiteBucket"
    hook_events = [e for e in cfn.describe_stack_events(StackName="media-site")["StackEvents"]
                   if e.get("HookInvocationId") == hook_id]
    assert hook_events and hook_events[0]["HookFailureMode"] == "FAIL"
    sb.world.operation_apis(False)
    assert "LastOperations" not in cfn.describe_stacks(StackName="media-site")["Stacks"][0]
    assert not any(e.get("OperationId") for e in
                   cfn.describe_stack_events(StackName="media-site")["StackEvents"])
    for call in (lambda: cfn.describe_events(StackName="media-site"),
                 lambda: cfn.get_hook_result(HookResultId=hook_id)):
        with pytest.raises(ClientError, match="InvalidAction"):
            call()


def test_the_switch_over_the_control_plane(sandbox) -> None:
    import json
    import urllib.request

    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")

    def post(spec: dict) -> None:
        req = urllib.request.Request(sb.endpoint + "/_sandbox/faults", method="POST",
                                     data=json.dumps(spec).encode())
        with urllib.request.urlopen(req) as resp:  # 127.0.0.1 only
            assert resp.status == 200

    post({"operation_apis": "unavailable"})
    assert "LastOperations" not in cfn.describe_stacks(StackName="shop-web")["Stacks"][0]
    post({"clear": True})
    assert cfn.describe_stacks(StackName="shop-web")["Stacks"][0]["LastOperations"]
