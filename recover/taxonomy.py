"""The failure taxonomy (docs/reference/failure-modes.md): every finding and every explained message carries one
of these `failure_mode` values, and each maps to a runbook or to plain advice."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from recover.runbooks import for_mode


class FailureMode(StrEnum):
    MISSING_ARTIFACT = "missing_artifact"
    EXECUTION_ROLE_MISSING = "execution_role_missing"
    NESTED_STACK_FAILURE = "nested_stack_failure"
    RESOURCE_DELETED_OUT_OF_BAND = "resource_deleted_out_of_band"
    DELETE_BLOCKED_NONEMPTY_BUCKET = "delete_blocked_nonempty_bucket"
    DELETE_BLOCKED_DEPENDENCY = "delete_blocked_dependency"
    CUSTOM_RESOURCE_FAILURE = "custom_resource_failure"
    PERMISSION_DENIED = "permission_denied"
    LIMIT_EXCEEDED = "limit_exceeded"
    STACK_STATE_BLOCKED = "stack_state_blocked"
    UNKNOWN = "unknown"


# Runbook ids, for the code that names one (each runbook declares itself in its folder,
# recover/runbooks/<name>/__init__.py, and the registry lists them).
ROLLBACK_STUCK = "rollback-stuck"
MISSING_ARTIFACT = "artifacts"
DELETE_FAILED = "delete-failed"
EXECUTION_ROLE_MISSING = "bootstrap-role"

# The runbook a failure mode points to by itself, from the runbooks' declared failure modes.
# Modes mapped to None get plain advice; the stack's status may still select a runbook (a
# DELETE_FAILED stack → delete-failed).
RUNBOOK_FOR_MODE: dict[FailureMode, str | None] = {mode: for_mode(mode) for mode in FailureMode}

ADVICE: dict[FailureMode, str] = {
    FailureMode.CUSTOM_RESOURCE_FAILURE: (
        "The custom resource's handler failed or never answered. Read its CloudWatch logs "
        "(requestId in the reason); once fixed, retry; if it cannot answer, skip (rollback) "
        "or retain (delete) it."),
    FailureMode.PERMISSION_DENIED: (
        "CloudFormation (or the stack's service role) lacked a permission. Grant the IAM "
        "action named in the reason, then retry the operation; no resource needs to change."),
    FailureMode.LIMIT_EXCEEDED: (
        "An account or service quota was reached. Delete unused resources or raise the quota "
        "(Service Quotas), then retry."),
    FailureMode.STACK_STATE_BLOCKED: (
        "The operation was refused because of the stack's current status. Run `recover "
        "diagnose STACK` to see the status and the runbook that gets it out of it."),
    FailureMode.UNKNOWN: (
        "recover does not recognise this failure. Read the resource's own events "
        "(`recover diagnose STACK`) for the underlying reason."),
}


def runbook_for(mode: FailureMode | str) -> str | None:
    return RUNBOOK_FOR_MODE[FailureMode(mode)]


@dataclass(frozen=True)
class Classification:
    """What a single error message means (result of recover.classify.classify)."""

    failure_mode: FailureMode
    runbook: str | None
    explanation: str
    extracted: dict[str, Any] = field(default_factory=dict)
    # Stable id of the rule that matched, for tests and evidence ("" when nothing matched).
    rule: str = ""
    confidence: str = "high"  # high | medium | low
    # The failure message as classified (wrappers removed), and, for a paste holding several
    # failures, the other distinct ones in paste order (each without its own `others`).
    message: str = ""
    others: tuple[Classification, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "failure_mode": self.failure_mode.value, "runbook": self.runbook,
            "explanation": self.explanation, "extracted": self.extracted,
            "rule": self.rule, "confidence": self.confidence, "message": self.message}
        out["others"] = [o.to_dict() for o in self.others]
        return out
