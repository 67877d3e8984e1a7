"""Drift detection and drift-aware change sets, read side (gather): one resource's drift by
DetectStackResourceDrift, whether this SDK knows CreateChangeSet's DeploymentMode, and a change
set's description once CloudFormation has computed it
(docs/reference/aws-behaviour.md#drift-detection, #drift-aware-change-sets).

DetectStackResourceDrift starts a check but changes no resource: it is a read here, not an
executor call. An SDK or endpoint without it, or a type drift detection does not support, is
an answer (status UNAVAILABLE or UNSUPPORTED with the reason), not an error: reconcile then
falls back to checking by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from recover.act.needs import needs
from recover.model.drift import UNAVAILABLE, PropertyDifference, ResourceDrift
from recover.run.errors import translate_aws_error

# Error codes of an endpoint that does not implement an operation.
_MISSING = {"InvalidAction", "UnknownOperation", "UnknownOperationException",
            "NotImplemented", "UnsupportedOperation"}
CHANGE_SET_DONE = ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED")


def sdk_has_revert_drift(client: Any) -> bool:
    """Does this botocore's CloudFormation model have CreateChangeSet DeploymentMode (added
    for drift-aware change sets)? An older SDK would refuse the parameter before sending it."""
    try:
        shape = client.meta.service_model.operation_model("CreateChangeSet").input_shape
    except Exception:  # noqa: BLE001 - no such operation in a very old model
        return False
    return "DeploymentMode" in shape.members


@needs("cloudformation:DetectStackResourceDrift")
def detect_resource_drift(client: Any, *, stack_id: str, stack_name: str, logical_id: str,
                          resource_type: str, physical_id: str) -> ResourceDrift:
    def answer(status: str, reason: str) -> ResourceDrift:
        return ResourceDrift(stack_id, stack_name, logical_id, resource_type, physical_id,
                             status, (), reason)

    if not hasattr(client, "detect_stack_resource_drift"):
        return answer(UNAVAILABLE, "this SDK has no DetectStackResourceDrift")
    try:
        drift = client.detect_stack_resource_drift(
            StackName=stack_id, LogicalResourceId=logical_id)["StackResourceDrift"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        if code in _MISSING:
            return answer(UNAVAILABLE, f"the endpoint refused DetectStackResourceDrift "
                                       f"({code}: {message})")
        if code == "ValidationError" and "not supported" in message.lower():
            return answer("UNSUPPORTED", message)
        raise translate_aws_error(exc) or exc from exc
    diffs = tuple(PropertyDifference(str(d.get("PropertyPath", "")),
                                     str(d.get("ExpectedValue", "")),
                                     str(d.get("ActualValue", "")),
                                     str(d.get("DifferenceType", "")))
                  for d in drift.get("PropertyDifferences") or [])
    return ResourceDrift(stack_id, stack_name, logical_id,
                         drift.get("ResourceType") or resource_type,
                         drift.get("PhysicalResourceId") or physical_id,
                         drift.get("StackResourceDriftStatus") or "UNKNOWN", diffs,
                         drift.get("DriftStatusReason") or "")


@needs("cloudformation:DescribeChangeSet")
def wait_change_set(client: Any, change_set_id: str, *, timeout: float = 300.0,
                    poll_interval: float = 2.0,
                    sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """The change set once CloudFormation has finished computing it (or the last answer when
    `timeout` passes), every page of its Changes."""
    waited = 0.0
    while True:
        desc = client.describe_change_set(ChangeSetName=change_set_id)
        if desc.get("Status") in CHANGE_SET_DONE or waited >= timeout:
            break
        sleep(poll_interval)
        waited += poll_interval
    changes = list(desc.get("Changes") or [])
    token = desc.get("NextToken")
    while token:
        page = client.describe_change_set(ChangeSetName=change_set_id, NextToken=token)
        changes += page.get("Changes") or []
        token = page.get("NextToken")
    return dict(desc, Changes=changes)


@needs("cloudformation:DescribeChangeSet")
def existing_change_set(client: Any, name: str, stack_id: str) -> str | None:
    """The id of the change set `name` of the stack, or None when there is none (an earlier
    run's CreateChangeSet that never reached AWS, or a change set deleted since)."""
    try:
        return str(client.describe_change_set(ChangeSetName=name,
                                              StackName=stack_id)["ChangeSetId"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ChangeSetNotFound",
                                                         "ChangeSetNotFoundException"):
            return None
        raise
