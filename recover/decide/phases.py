"""When did a resource fail: in the forward operation, during the rollback, or was it cancelled?

AWS lets ContinueUpdateRollback skip only resources that failed *during the rollback*
(docs/reference/aws-behaviour.md#resourcestoskip-rules rule 1); a resource that failed in the forward update, or was cancelled
because another failed, cannot be skipped. The events of the current operation tell which.
"""

from __future__ import annotations

from dataclasses import dataclass

from recover.model.operations import ROLLBACK_TYPES, SOURCE_OPERATIONS, OperationEvent
from recover.model.stack import StackEvent, StackNode, StackResource
from recover.model.statuses import OPERATION_START, ROLLBACK_START


class Phase:
    FORWARD = "forward"  # failed while applying the change (create/update)
    ROLLBACK = "rollback"  # failed while rolling back: the only kind AWS lets you skip
    CANCELLED = "cancelled"  # cancelled because another resource failed
    DELETE = "delete"  # failed while deleting the stack
    CLEANUP = "cleanup"  # an old resource could not be deleted after an update (docs/reference/aws-behaviour.md#why-a-delete-fails)


def operation_events(node: StackNode) -> tuple[StackEvent, ...]:
    """The events of the stack's newest operation, oldest first (all events if none opens one)."""
    events = node.events
    for i in range(len(events) - 1, -1, -1):
        ev = events[i]
        if ev.is_stack_event and ev.status in OPERATION_START:
            return events[i:]
    return events


def is_cancellation(reason: str) -> bool:
    # "Resource update cancelled" / "Resource creation cancelled" (docs/reference/aws-behaviour.md#resourcestoskip-rules, docs/reference/aws-behaviour.md#aws-messages-recover-recognises); the CDK matches
    # the substring "cancelled" the same way.
    return "cancelled" in reason.lower()


@dataclass(frozen=True)
class FailureTiming:
    phase: str
    event: StackEvent | None  # the event that recorded the failure, when the events show it
    reason: str


def as_stack_event(node: StackNode, ev: OperationEvent) -> StackEvent:
    """An operation event in the shape the rest of the code reads."""
    return StackEvent(stack_id=ev.stack_id or node.stack_id, stack_name=node.name,
                      event_id=f"{ev.logical_id}-{ev.status}-{ev.operation_id}",
                      logical_id=ev.logical_id, resource_type=ev.resource_type,
                      timestamp=ev.timestamp or node.info.last_updated_time,  # type: ignore[arg-type]
                      status=ev.status, physical_id=ev.physical_id, reason=ev.message,
                      operation_id=ev.operation_id)


def _timing_from_operations(node: StackNode, resource: StackResource) -> FailureTiming:
    """The operation APIs say which operation each failure belongs to: a failure in a
    ROLLBACK or CONTINUE_ROLLBACK operation failed during the rollback."""
    assert node.operations is not None
    mine = [e for e in node.operations.failed
            if e.logical_id == resource.logical_id and e.status == resource.status
            and e.event_type != "STACK_EVENT"]
    newest = max(mine, key=lambda e: (e.timestamp is not None, e.timestamp), default=None)
    event = as_stack_event(node, newest) if newest else None
    reason = (newest.message if newest and newest.message else resource.reason) or ""
    if resource.status == "DELETE_FAILED":
        stack_deleting = node.info.status.startswith("DELETE_")
        return FailureTiming(Phase.DELETE if stack_deleting else Phase.CLEANUP, event, reason)
    if is_cancellation(reason):
        return FailureTiming(Phase.CANCELLED, event, reason)
    op_type = newest.operation_type or node.operations.operation_type(newest.operation_id) \
        if newest else ""
    if op_type in ROLLBACK_TYPES:
        return FailureTiming(Phase.ROLLBACK, event, reason)
    return FailureTiming(Phase.FORWARD, event, reason)


def failure_timing(node: StackNode, resource: StackResource) -> FailureTiming:
    if node.operations is not None and node.operations.source == SOURCE_OPERATIONS:
        return _timing_from_operations(node, resource)
    window = operation_events(node)
    first_rollback = next((i for i, ev in enumerate(window)
                           if ev.is_stack_event and ev.status in ROLLBACK_START), None)
    idx, event = None, None
    for i in range(len(window) - 1, -1, -1):
        ev = window[i]
        if ev.logical_id == resource.logical_id and not ev.is_stack_event \
                and ev.status == resource.status:
            idx, event = i, ev
            break
    reason = (event.reason if event and event.reason else resource.reason) or ""
    if resource.status == "DELETE_FAILED":
        stack_deleting = node.info.status.startswith("DELETE_")
        return FailureTiming(Phase.DELETE if stack_deleting else Phase.CLEANUP, event, reason)
    if is_cancellation(reason):
        return FailureTiming(Phase.CANCELLED, event, reason)
    if first_rollback is not None and idx is not None and idx > first_rollback:
        return FailureTiming(Phase.ROLLBACK, event, reason)
    if first_rollback is not None and idx is None and node.info.status.startswith("UPDATE_ROLLBACK"):
        # No event left in the window (truncated history): trust ListStackResources timing.
        rb = window[first_rollback]
        if resource.last_updated and resource.last_updated >= rb.timestamp:
            return FailureTiming(Phase.ROLLBACK, None, reason)
    return FailureTiming(Phase.FORWARD, event, reason)
