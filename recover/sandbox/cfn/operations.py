"""Stack operations in the sandbox (docs/reference/aws-behaviour.md#stack-operations-and-operation-events).

Every status that opens an operation gives the stack a new operation id; every event the stack
emits from then on carries it (`OperationId`); DescribeStacks lists the stack's recent operations
(`LastOperations`, newest first); DescribeEvents answers the events of an operation, typed, with
the `FailedEvents` filter; GetHookResult answers the hook results a scenario recorded.

The engine calls `begin` from its stack-event hook and stamps `current` on events; everything
else lives here. `set_unavailable(engine)` (fault spec {"operation_apis": "unavailable"}) makes the
sandbox answer like an endpoint without these APIs: no LastOperations, no OperationId, and
InvalidAction for DescribeEvents and GetHookResult.

Each stack, nested ones included, gets ids of its own (docs/reference/aws-behaviour.md#unconfirmed-operation-details).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from recover.sandbox.cfn.model import NESTED_STACK, CfnError, SimEvent, SimStack

if TYPE_CHECKING:
    from recover.sandbox.cfn.runner import Runner

OPENS = {"CREATE_IN_PROGRESS": "CREATE_STACK", "UPDATE_IN_PROGRESS": "UPDATE_STACK",
         "DELETE_IN_PROGRESS": "DELETE_STACK", "ROLLBACK_IN_PROGRESS": "ROLLBACK"}
KEEP = 5  # LastOperations entries kept per stack (AWS's number is not documented)
HOOK_FAILED = ("HOOK_COMPLETE_FAILED", "HOOK_FAILED")


@dataclass
class SimOperation:
    operation_id: str
    operation_type: str
    stack_id: str
    started: datetime
    status: str = "IN_PROGRESS"  # IN_PROGRESS | SUCCEEDED | FAILED
    ended: datetime | None = None


@dataclass
class OperationState:
    """Per engine: each stack's operations (oldest first) and the recorded hook results."""

    by_stack: dict[str, list[SimOperation]] = field(default_factory=dict)
    hook_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    unavailable: bool = False


def state(engine: Runner) -> OperationState:
    return engine.operations


def set_unavailable(engine: Runner, unavailable: bool = True) -> None:
    state(engine).unavailable = unavailable


def current(engine: Runner, stack: SimStack) -> str | None:
    ops = state(engine).by_stack.get(stack.stack_id)
    return ops[-1].operation_id if ops else None


def begin(engine: Runner, stack: SimStack, status: str) -> None:
    """Called before a stack-level event of `status` is emitted: open a new operation when the
    status opens one, close the current one when the status is terminal."""
    ops = state(engine).by_stack.setdefault(stack.stack_id, [])
    now = engine.world.clock()
    kind = OPENS.get(status)
    if status == "UPDATE_ROLLBACK_IN_PROGRESS":
        # after a failed update (or a failed EXPRESS update, RollbackStack): its rollback; after
        # a failed rollback: ContinueUpdateRollback re-running it
        kind = "ROLLBACK" if ops and ops[-1].operation_type == "UPDATE_STACK" \
            else "CONTINUE_ROLLBACK"
    if kind is not None:
        if ops and ops[-1].status == "IN_PROGRESS":
            ops[-1].status, ops[-1].ended = "FAILED", now  # the update that turned to rollback
        ops.append(SimOperation(engine.world.new_uuid(), kind, stack.stack_id, now))
        return
    if ops and not status.endswith("_IN_PROGRESS"):
        ops[-1].status = "FAILED" if status.endswith("FAILED") else "SUCCEEDED"
        ops[-1].ended = now


def last_operations(engine: Runner, stack: SimStack) -> list[dict[str, str]]:
    ops = state(engine).by_stack.get(stack.stack_id, [])
    return [{"OperationType": o.operation_type, "OperationId": o.operation_id}
            for o in reversed(ops[-KEEP:])]


def record_hook(engine: Runner, stack: SimStack, *, logical_id: str, resource_type: str,
                hook_type: str, failure_mode: str, reason: str, action: str,
                annotations: list[dict[str, str]]) -> str:
    """A hook's verdict on one resource: returns the invocation id (the HookResultId)."""
    hook_id = engine.world.new_uuid()
    state(engine).hook_results[hook_id] = {
        "HookResultId": hook_id, "InvocationPoint": "PRE_PROVISION",
        "FailureMode": failure_mode, "TypeName": hook_type,
        "TypeArn": f"arn:aws:cloudformation:{engine.world.region}:{engine.world.account}:type/hook/"
                   + hook_type.replace("::", "-"),
        "Status": "HOOK_COMPLETE_FAILED", "HookStatusReason": reason,
        "InvokedAt": engine.world.clock(),
        "Target": {"TargetType": "RESOURCE", "TargetTypeName": resource_type,
                   "TargetId": logical_id, "Action": action},
        "Annotations": annotations,
    }
    return hook_id


# --- what the API answers --------------------------------------------------------------------

def present(engine: Runner, action: str, result: dict[str, Any]) -> dict[str, Any]:
    """DescribeStacks / DescribeStackEvents answers with LastOperations and OperationId, or
    without them when the operation APIs are switched off."""
    off = state(engine).unavailable
    if action == "DescribeStacks":
        for s in result.get("Stacks", []):
            stack = engine.find(s.get("StackId", ""))
            if stack is not None and not off:
                s["LastOperations"] = last_operations(engine, stack)
    if action == "DescribeStackEvents" and off:
        for e in result.get("StackEvents", []):
            e.pop("OperationId", None)
    return result


def _require_apis(engine: Runner, action: str) -> None:
    if state(engine).unavailable:
        raise CfnError(f"Could not find operation {action} for version 2010-05-15",
                       "InvalidAction")


def get_hook_result(engine: Runner, p: dict[str, Any]) -> dict[str, Any]:
    _require_apis(engine, "GetHookResult")
    found = state(engine).hook_results.get(p.get("HookResultId") or "")
    if found is None:
        # modelled error code; the message wording is not documented
        raise CfnError(f"Hook result {p.get('HookResultId')} not found",
                       "HookResultNotFoundException", 404)
    return dict(found)


def describe_events(engine: Runner, p: dict[str, Any]) -> dict[str, Any]:
    _require_apis(engine, "DescribeEvents")
    op_id = p.get("OperationId")
    if not (op_id or p.get("StackName") or p.get("ChangeSetName")):
        raise CfnError("One of ChangeSetName, OperationId or StackName must be specified")
    failed_only = bool((p.get("Filters") or {}).get("FailedEvents"))
    st = state(engine)
    if p.get("StackName"):
        stacks = [engine.get(p["StackName"], "Stack [{}] does not exist")]
    else:
        stacks = [engine.stacks[o.stack_id] for ops in st.by_stack.values() for o in ops
                  if o.operation_id == op_id]
    out: list[dict[str, Any]] = []
    with engine.lock:
        for stack in stacks:
            ops = {o.operation_id: o for o in st.by_stack.get(stack.stack_id, [])}
            for ev in reversed(stack.events):  # newest first, like DescribeStackEvents
                if op_id and ev.operation_id != op_id:
                    continue
                if failed_only and not _failed(ev):
                    continue
                op = ops.get(ev.operation_id or "")
                out.append(_operation_event(stack, ev, op))
    return _page(out, p.get("NextToken"), engine.page_size)


def _failed(ev: SimEvent) -> bool:
    return ev.status.endswith("_FAILED") or (ev.hook_status or "") in HOOK_FAILED


def _operation_event(stack: SimStack, ev: SimEvent, op: SimOperation | None) -> dict[str, Any]:
    base = ev.to_api()
    base.pop("StackName", None)
    base.pop("HookInvocationId", None)  # operation events have no invocation id
    if ev.hook_status:
        kind = "HOOK_INVOCATION_ERROR" if ev.hook_status in HOOK_FAILED else "PROGRESS_EVENT"
    elif ev.resource_type == NESTED_STACK and ev.physical_id == stack.stack_id:
        kind = "STACK_EVENT"
    else:
        kind = "PROVISIONING_ERROR" if ev.status.endswith("_FAILED") else "PROGRESS_EVENT"
    base["EventType"] = kind
    if op is not None:
        base.update({"OperationType": op.operation_type, "OperationStatus": op.status,
                     "StartTime": op.started})
        if op.ended:
            base["EndTime"] = op.ended
    return base


def _page(items: list[Any], token: str | None, size: int) -> dict[str, Any]:
    start = int(token) if token and token.isdigit() else 0
    out: dict[str, Any] = {"OperationEvents": items[start:start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out
