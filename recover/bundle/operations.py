"""The timeline per operation (pure): the failed update, its rollback, each continue, each
delete, with when it started and ended, how long it took and how it ended.

Where events carry `OperationId` (docs/reference/aws-behaviour.md#stack-operations-and-operation-events)
they are grouped by it and typed from the stack's LastOperations; where they do not (older SDK,
endpoints without the operation APIs) operations are reconstructed from the stack's own status
events: a status that opens an operation (or its rollback) starts a new one. Each operation
recover started is named by the run and call that started it: the operation id its executor
read back (`operation_started` journal entries), else the ClientRequestToken on the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recover.bundle.model import RunFolder
from recover.model.stack import StackEvent, StackNode, StackSnapshot
from recover.model.statuses import OPERATION_START, ROLLBACK_START

ROLLBACKS = ("ROLLBACK", "CONTINUE_ROLLBACK")
ROLLED_BACK = "FAILED (rolled back)"
OPENS = {"CREATE_IN_PROGRESS": "CREATE_STACK", "UPDATE_IN_PROGRESS": "UPDATE_STACK",
         "DELETE_IN_PROGRESS": "DELETE_STACK", "IMPORT_IN_PROGRESS": "IMPORT",
         "ROLLBACK_IN_PROGRESS": "ROLLBACK", "IMPORT_ROLLBACK_IN_PROGRESS": "ROLLBACK"}


@dataclass
class Operation:
    stack: str
    operation_id: str  # "" when reconstructed
    operation_type: str
    start: datetime
    end: datetime
    outcome: str = "IN_PROGRESS"  # the last stack status of the operation
    events: int = 0
    failed: list[str] = field(default_factory=list)  # logical ids that failed in it
    tokens: set[str] = field(default_factory=set)
    started_by: str = ""

    @property
    def duration_s(self) -> float:
        return round((self.end - self.start).total_seconds(), 3)

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "operation_id": self.operation_id or None,
                "operation_type": self.operation_type, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "duration_s": self.duration_s,
                "outcome": self.outcome, "events": self.events,
                "failed": list(dict.fromkeys(self.failed)),
                "started_by": self.started_by or None,
                "grouped_by": "OperationId" if self.operation_id else "stack status events"}


def _opens(ev: StackEvent, previous: Operation | None) -> str | None:
    """The operation type a stack event opens, or None."""
    if not ev.is_stack_event:
        return None
    if ev.status == "UPDATE_ROLLBACK_IN_PROGRESS":
        return "ROLLBACK" if previous and previous.operation_type == "UPDATE_STACK" \
            else "CONTINUE_ROLLBACK"
    return OPENS.get(ev.status) if ev.status in OPERATION_START | ROLLBACK_START else None


def node_operations(node: StackNode) -> list[Operation]:
    """The node's events (oldest first) as operations, in order."""
    types = {o.operation_id: o.operation_type for o in node.info.last_operations}
    out: list[Operation] = []
    by_id: dict[str, Operation] = {}
    for ev in sorted(node.events, key=lambda e: e.timestamp):
        current = out[-1] if out else None
        if ev.operation_id:
            op = by_id.get(ev.operation_id)
            if op is None:
                kind = types.get(ev.operation_id) or _opens(ev, current) or "UNKNOWN"
                op = Operation(node.name, ev.operation_id, kind, ev.timestamp, ev.timestamp)
                by_id[ev.operation_id] = op
                out.append(op)
        else:
            kind = _opens(ev, current)
            if kind is not None or current is None or current.operation_id:
                op = Operation(node.name, "", kind or "UNKNOWN", ev.timestamp, ev.timestamp)
                out.append(op)
            else:
                op = current
        op.end = max(op.end, ev.timestamp)
        op.events += 1
        if ev.client_request_token:
            op.tokens.add(ev.client_request_token)
        if ev.is_stack_event:
            op.outcome = ev.status
        elif ev.status.endswith("_FAILED"):
            op.failed.append(ev.logical_id)
    for op, after in zip(out, out[1:], strict=False):
        # an update or create whose rollback began never reached a status of its own
        if op.outcome.endswith("_IN_PROGRESS") and after.operation_type in ROLLBACKS:
            op.outcome = ROLLED_BACK
    return out


def _starters(runs: list[RunFolder]) -> tuple[dict[str, str], dict[str, str]]:
    """operation id -> "run: Operation" and token -> "run: Operation" of recover's calls."""
    by_id: dict[str, str] = {}
    by_token: dict[str, str] = {}
    for run in runs:
        calls = {e.get("seq"): e.get("call") for e in run.journal
                 if e.get("kind") == "call" and e.get("phase") == "before"}
        for e in run.journal:
            if e.get("kind") == "operation_started" and e.get("operation_id"):
                by_id[str(e["operation_id"])] = f"{run.name}: {e.get('operation')}"
        for call in calls.values():
            params = (call or {}).get("params") or {}
            token = params.get("ClientRequestToken")
            if isinstance(token, str):
                by_token[token] = f"{run.name}: {(call or {}).get('operation')}"
    return by_id, by_token


def group_operations(snapshot: StackSnapshot, runs: list[RunFolder]) -> list[dict[str, Any]]:
    """Every operation of every stack of the tree, oldest first."""
    by_id, by_token = _starters(runs)
    ops: list[Operation] = []
    for node in snapshot.nodes:
        for op in node_operations(node):
            op.started_by = by_id.get(op.operation_id, "") or next(
                (by_token[t] for t in sorted(op.tokens) if t in by_token), "")
            ops.append(op)
    ops.sort(key=lambda o: o.start)
    return [o.to_dict() for o in ops]
