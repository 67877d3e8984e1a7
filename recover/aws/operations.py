"""Gather: a stack's failed operations through the operation APIs, or a note saying why not.

docs/reference/aws-behaviour.md#stack-operations-and-operation-events: `LastOperations` (read with
DescribeStacks, no extra call) names the stack's recent operations; DescribeEvents with
`OperationId` and `Filters={"FailedEvents": True}` returns only their failed events, typed
(provisioning, validation, hook invocation errors); GetHookResult details a hook failure.

Where the API is missing (an SDK without the operation, an endpoint answering InvalidAction, a
role without cloudformation:DescribeEvents) the caller falls back to paging DescribeStackEvents,
and the returned StackOperations says so (source, fallback_reason).
"""

from __future__ import annotations

from typing import Any

import botocore
from botocore.exceptions import ClientError

from recover.act.needs import needs
from recover.model.operations import (
    SOURCE_OPERATIONS,
    SOURCE_RECONSTRUCTED,
    HookResult,
    OperationEvent,
    StackOperations,
    operations_of_failure,
)
from recover.model.stack import StackEvent, StackInfo, StackResource

# Answers meaning "this API is not here for you": the reconstruction is used instead.
UNAVAILABLE = frozenset({"InvalidAction", "UnknownOperation", "UnknownOperationException",
                         "UnsupportedOperation", "NotImplemented", "AccessDenied",
                         "AccessDeniedException", "UnauthorizedOperation", "OptInRequired"})
HOOK_FAILED = ("HOOK_COMPLETE_FAILED", "HOOK_FAILED")


def sdk_has(client: Any, operation: str) -> bool:
    """Does this SDK's model know `operation`? (An older botocore has no DescribeEvents.)"""
    return operation in client.meta.service_model.operation_names


def needs_events(info: StackInfo, resources: tuple[StackResource, ...], root_status: str = ""
                 ) -> bool:
    """Only a stack with something failed has failed events worth a call. A nested stack that
    rolled back completely (nothing failed in it now) matters only when the whole tree rolled
    back: then the cause (a hook, a validation) may be anywhere; under a root stuck in its
    rollback it is a bystander."""
    if "FAILED" in info.status or any(r.status.endswith("_FAILED") for r in resources):
        return True
    if "ROLLBACK" not in info.status:
        return False
    return not info.parent_id or "ROLLBACK_COMPLETE" in root_status


MISSING_SDK = "has no DescribeEvents"
ANSWERED = "DescribeEvents answered"


def api_missing(ops: StackOperations) -> bool:
    """The API itself is unavailable here (not just this stack without LastOperations): every
    other stack of the account would get the same answer."""
    return MISSING_SDK in ops.fallback_reason or ops.fallback_reason.startswith(ANSWERED)


def fallback(info: StackInfo, reason: str) -> StackOperations:
    return StackOperations(stack_id=info.stack_id, source=SOURCE_RECONSTRUCTED,
                           operations=info.last_operations, fallback_reason=reason)


@needs("cloudformation:DescribeEvents", "cloudformation:GetHookResult",
       "cloudformation:DescribeStackEvents")
def read_operations(cfn: Any, info: StackInfo, resources: tuple[StackResource, ...],
                    root_status: str = "") -> StackOperations:
    """The failed events of every operation `LastOperations` lists, with hook results; a
    SOURCE_RECONSTRUCTED result (no events) when the operation APIs cannot be used.
    Raises ClientError for any other error."""
    if not sdk_has(cfn, "DescribeEvents"):
        return fallback(info, f"botocore {botocore.__version__} {MISSING_SDK}")
    if not info.last_operations:
        return fallback(info, "DescribeStacks gave no LastOperations for this stack")
    if not needs_events(info, resources, root_status):
        return StackOperations(stack_id=info.stack_id, source=SOURCE_OPERATIONS,
                               operations=info.last_operations)
    failed: list[OperationEvent] = []
    try:
        for op in operations_of_failure(info.status, info.last_operations):
            pages = cfn.get_paginator("describe_events").paginate(
                StackName=info.stack_id, OperationId=op.operation_id,
                Filters={"FailedEvents": True})
            for page in pages:
                for raw in page.get("OperationEvents", []):
                    ev = OperationEvent.from_api(raw)
                    if not ev.operation_type:
                        ev = _with(ev, operation_type=op.operation_type)
                    failed.append(ev)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in UNAVAILABLE:
            return fallback(info, f"{ANSWERED} {code}")
        raise
    failed.sort(key=lambda e: (e.timestamp is None, e.timestamp))
    failed, hooks = _hook_details(cfn, info, failed)
    return StackOperations(stack_id=info.stack_id, source=SOURCE_OPERATIONS,
                           operations=info.last_operations, failed=tuple(failed),
                           hooks=tuple(hooks))


def _with(ev: OperationEvent, **changes: Any) -> OperationEvent:
    from dataclasses import replace

    return replace(ev, **changes)


def _hook_details(cfn: Any, info: StackInfo, failed: list[OperationEvent]
                  ) -> tuple[list[OperationEvent], list[HookResult]]:
    """GetHookResult for each hook failure. Operation events carry no invocation id, the stack
    event does (docs/reference/aws-behaviour.md#stack-operations-and-operation-events): page
    DescribeStackEvents, newest first, only until every hook failure has its id."""
    wanted = [e for e in failed if e.event_type == "HOOK_INVOCATION_ERROR"]
    if not wanted:
        return failed, []
    ids: dict[tuple[str, str], str] = {}
    keys = {(e.logical_id, e.hook_type) for e in wanted}
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=info.stack_id):
        for raw in page.get("StackEvents", []):
            key = (raw.get("LogicalResourceId", ""), raw.get("HookType", ""))
            if key in keys and raw.get("HookInvocationId") and key not in ids \
                    and raw.get("HookStatus") in HOOK_FAILED:
                ids[key] = raw["HookInvocationId"]
        if len(ids) == len(keys):
            break
    hooks: list[HookResult] = []
    out: list[OperationEvent] = []
    for ev in failed:
        invocation = ids.get((ev.logical_id, ev.hook_type), "")
        if ev.event_type == "HOOK_INVOCATION_ERROR" and invocation:
            ev = _with(ev, hook_invocation_id=invocation)
            if not any(h.hook_result_id == invocation for h in hooks) \
                    and sdk_has(cfn, "GetHookResult"):
                try:
                    hooks.append(HookResult.from_api(
                        cfn.get_hook_result(HookResultId=invocation)))
                except ClientError as exc:  # details are a bonus: the event says what failed
                    code = exc.response.get("Error", {}).get("Code", "")
                    hooks.append(HookResult(hook_result_id=invocation, type_name=ev.hook_type,
                                            failure_mode=ev.hook_failure_mode,
                                            status=ev.hook_status,
                                            reason=f"GetHookResult answered {code}"))
        out.append(ev)
    return out, hooks


def with_stack_event_hooks(cfn: Any, ops: StackOperations, events: tuple[StackEvent, ...]
                           ) -> StackOperations:
    """The reconstruction's view of hook failures: the stack events that carry a failed hook
    verdict, as HOOK_INVOCATION_ERROR events, with GetHookResult where it answers."""
    failed = [OperationEvent(stack_id=e.stack_id, operation_id=e.operation_id,
                             operation_type="", event_type="HOOK_INVOCATION_ERROR",
                             timestamp=e.timestamp, logical_id=e.logical_id,
                             physical_id=e.physical_id, resource_type=e.resource_type,
                             status=e.status, reason=e.reason, hook_type=e.hook_type,
                             hook_status=e.hook_status, hook_reason=e.hook_reason,
                             hook_failure_mode=e.hook_failure_mode,
                             hook_invocation_id=e.hook_invocation_id)
              for e in events if e.hook_status in HOOK_FAILED]
    if not failed:
        return ops
    hooks: list[HookResult] = []
    for ev in failed:
        if not ev.hook_invocation_id or not sdk_has(cfn, "GetHookResult") \
                or any(h.hook_result_id == ev.hook_invocation_id for h in hooks):
            continue
        try:
            hooks.append(HookResult.from_api(cfn.get_hook_result(
                HookResultId=ev.hook_invocation_id)))
        except ClientError:
            continue  # unavailable like DescribeEvents: the stack event says enough
    from dataclasses import replace

    return replace(ops, failed=tuple(failed), hooks=tuple(hooks))
