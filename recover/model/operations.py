"""Frozen data about stack operations (docs/reference/aws-behaviour.md#stack-operations-and-operation-events):
the operations a stack lists (`LastOperations`), the failed events of one operation
(DescribeEvents), hook results (GetHookResult), and how they were read: through the operation
APIs or reconstructed from paged stack events when those APIs are missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# How the failing operation's events were read.
SOURCE_OPERATIONS = "describe-events"  # DescribeEvents(OperationId, FailedEvents)
SOURCE_RECONSTRUCTED = "stack-events"  # DescribeStackEvents paged and cut at operation starts

# The operation type each mutating CloudFormation call starts
# (docs/reference/aws-behaviour.md#unconfirmed-operation-details).
STARTED_BY: dict[str, str] = {
    "ContinueUpdateRollback": "CONTINUE_ROLLBACK", "UpdateStack": "UPDATE_STACK",
    "DeleteStack": "DELETE_STACK", "RollbackStack": "ROLLBACK", "CreateStack": "CREATE_STACK",
    "ExecuteChangeSet": "UPDATE_STACK",
}
ROLLBACK_TYPES = ("ROLLBACK", "CONTINUE_ROLLBACK")


def parse_time(value: Any) -> datetime | None:
    """Like recover.model.stack.parse_time (not imported: stack.py imports this module)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OperationRef:
    """One `LastOperations` entry."""

    operation_type: str
    operation_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"operation_type": self.operation_type, "operation_id": self.operation_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OperationRef:
        return cls(operation_type=str(d.get("operation_type") or d.get("OperationType") or ""),
                   operation_id=str(d.get("operation_id") or d.get("OperationId") or ""))


def last_operations(stack: dict[str, Any]) -> tuple[OperationRef, ...]:
    """`LastOperations` of a DescribeStacks `Stack` (empty when AWS or the SDK does not say)."""
    return tuple(OperationRef.from_dict(o) for o in stack.get("LastOperations") or []
                 if o.get("OperationId"))


def operations_of_failure(status: str, ops: tuple[OperationRef, ...]) -> tuple[OperationRef, ...]:
    """The listed operations whose failed events explain a stack in `status`, chosen by type,
    never by the list's order (which AWS does not document,
    docs/reference/aws-behaviour.md#stack-operations-and-operation-events). A stack stuck in its
    rollback needs only the rollback's failures: a resource that failed in the forward
    operation keeps that failure's reason in ListStackResources, and not failing during the
    rollback is what makes it forward (not skippable). A rollback that completed leaves the
    story in the forward operation (a hook or a validation that refused the change)."""
    if status.endswith(("ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS")):
        kinds: tuple[str, ...] = ROLLBACK_TYPES
    elif status == "UPDATE_ROLLBACK_COMPLETE" or status.startswith("UPDATE"):
        kinds = ("UPDATE_STACK",)
    elif status.startswith(("ROLLBACK", "CREATE")):
        kinds = ("CREATE_STACK",)
    elif status.startswith("DELETE"):
        kinds = ("DELETE_STACK",)
    else:
        kinds = tuple({o.operation_type for o in ops})
    return tuple(o for o in ops if o.operation_type in kinds)


@dataclass(frozen=True)
class OperationEvent:
    """One failed event of an operation (DescribeEvents with FailedEvents)."""

    stack_id: str
    operation_id: str
    operation_type: str
    event_type: str  # PROVISIONING_ERROR | VALIDATION_ERROR | HOOK_INVOCATION_ERROR | ...
    timestamp: datetime | None
    logical_id: str = ""
    physical_id: str = ""
    resource_type: str = ""
    status: str = ""
    reason: str = ""
    operation_status: str = ""
    hook_type: str = ""
    hook_status: str = ""
    hook_reason: str = ""
    hook_failure_mode: str = ""
    hook_invocation_id: str = ""  # from the matching stack event (operation events lack it)
    validation_name: str = ""
    validation_path: str = ""
    validation_reason: str = ""
    validation_failure_mode: str = ""

    @property
    def message(self) -> str:
        """What failed, in AWS's words."""
        return self.reason or self.hook_reason or self.validation_reason

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v not in ("", None)}
        out["timestamp"] = self.timestamp.isoformat() if self.timestamp else None
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OperationEvent:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["timestamp"] = parse_time(known.get("timestamp"))
        known.setdefault("stack_id", "")
        known.setdefault("operation_id", "")
        known.setdefault("operation_type", "")
        known.setdefault("event_type", "")
        return cls(**known)

    @classmethod
    def from_api(cls, e: dict[str, Any]) -> OperationEvent:
        return cls(stack_id=e.get("StackId", ""), operation_id=e.get("OperationId", ""),
                   operation_type=e.get("OperationType", ""), event_type=e.get("EventType", ""),
                   timestamp=parse_time(e.get("Timestamp") or e.get("StartTime")),
                   logical_id=e.get("LogicalResourceId", ""),
                   physical_id=e.get("PhysicalResourceId") or "",
                   resource_type=e.get("ResourceType", ""), status=e.get("ResourceStatus", ""),
                   reason=e.get("ResourceStatusReason") or "",
                   operation_status=e.get("OperationStatus", ""),
                   hook_type=e.get("HookType", ""), hook_status=e.get("HookStatus", ""),
                   hook_reason=e.get("HookStatusReason") or "",
                   hook_failure_mode=e.get("HookFailureMode", ""),
                   validation_name=e.get("ValidationName", ""),
                   validation_path=e.get("ValidationPath", ""),
                   validation_reason=e.get("ValidationStatusReason") or "",
                   validation_failure_mode=e.get("ValidationFailureMode", ""))


@dataclass(frozen=True)
class HookAnnotation:
    name: str
    status: str
    message: str = ""
    remediation: str = ""
    link: str = ""
    severity: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class HookResult:
    """GetHookResult, trimmed to what a person needs to act."""

    hook_result_id: str
    type_name: str
    failure_mode: str  # FAIL | WARN
    status: str
    reason: str = ""
    target_type_name: str = ""
    target_id: str = ""
    action: str = ""
    type_arn: str = ""
    annotations: tuple[HookAnnotation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self.__dict__.items() if k != "annotations"}
        out["annotations"] = [a.to_dict() for a in self.annotations]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HookResult:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__
                      and k != "annotations"},
                   annotations=tuple(HookAnnotation(**a) for a in d.get("annotations", [])))

    @classmethod
    def from_api(cls, r: dict[str, Any]) -> HookResult:
        target = r.get("Target") or {}
        return cls(hook_result_id=r.get("HookResultId", ""), type_name=r.get("TypeName", ""),
                   failure_mode=r.get("FailureMode", ""), status=r.get("Status", ""),
                   reason=r.get("HookStatusReason") or "",
                   target_type_name=target.get("TargetTypeName", ""),
                   target_id=target.get("TargetId", ""), action=target.get("Action", ""),
                   type_arn=r.get("TypeArn", ""),
                   annotations=tuple(HookAnnotation(
                       name=a.get("AnnotationName", ""), status=a.get("Status", ""),
                       message=a.get("StatusMessage", ""),
                       remediation=a.get("RemediationMessage", ""),
                       link=a.get("RemediationLink", ""), severity=a.get("SeverityLevel", ""))
                       for a in r.get("Annotations") or []))


@dataclass(frozen=True)
class StackOperations:
    """What the operation APIs said about one stack, or why they could not be used."""

    stack_id: str
    source: str  # SOURCE_OPERATIONS | SOURCE_RECONSTRUCTED
    operations: tuple[OperationRef, ...] = ()
    failed: tuple[OperationEvent, ...] = ()  # failed events of the operations read, oldest first
    hooks: tuple[HookResult, ...] = ()
    fallback_reason: str = ""  # why the reconstruction was used ("" on the operations path)

    def to_dict(self) -> dict[str, Any]:
        return {"stack_id": self.stack_id, "source": self.source,
                "operations": [o.to_dict() for o in self.operations],
                "failed": [e.to_dict() for e in self.failed],
                "hooks": [h.to_dict() for h in self.hooks],
                "fallback_reason": self.fallback_reason or None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StackOperations:
        return cls(stack_id=d["stack_id"], source=d["source"],
                   operations=tuple(OperationRef.from_dict(o) for o in d.get("operations", [])),
                   failed=tuple(OperationEvent.from_dict(e) for e in d.get("failed", [])),
                   hooks=tuple(HookResult.from_dict(h) for h in d.get("hooks", [])),
                   fallback_reason=d.get("fallback_reason") or "")

    def hook(self, invocation_id: str) -> HookResult | None:
        return next((h for h in self.hooks if h.hook_result_id == invocation_id), None)

    def operation_type(self, operation_id: str) -> str:
        return next((o.operation_type for o in self.operations
                     if o.operation_id == operation_id), "")
