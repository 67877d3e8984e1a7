"""The failure taxonomy (docs/reference/failure-modes.md): every finding and every explained message carries one
of these `failure_mode` values, and each maps to a runbook or to plain advice.

A mode also says what a retry of the failed step can do (`RETRY_OUTLOOK`), which
recover.decide.judgement turns into the default answer for a failure during a rollback."""

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
    # UPDATE_FAILED after an EXPRESS-mode update: only an EXPRESS UpdateStack gets out
    EXPRESS_UPDATE_FAILED = "express_update_failed"
    # a custom resource *_IN_PROGRESS whose handler has not answered: answer it by hand
    CUSTOM_RESOURCE_WAITING = "custom_resource_waiting"
    # a resource ResourcesToSkip left inconsistent with its template (recover reconcile)
    SKIPPED_RESOURCE_DRIFT = "skipped_resource_drift"
    # consequences: not a cause by themselves
    CANCELLED = "cancelled"
    CLEANUP_FAILED = "cleanup_failed"
    # causes outside the runbooks, each with its own advice
    IRREVERSIBLE_CHANGE = "irreversible_change"
    NAME_CONFLICT = "name_conflict"
    REFUSED_VALUE = "refused_value"
    TEMPLATE_INVALID = "template_invalid"
    INVALID_REFERENCE = "invalid_reference"
    THROTTLED = "throttled"
    TRANSIENT_ERROR = "transient_error"
    SIGNAL_FAILURE = "signal_failure"
    # a CloudFormation Hook in FAIL mode refused a resource (recover/explain/rules/hooks.py)
    HOOK_FAILURE = "hook_failure"
    NO_CHANGE = "no_change"
    UNKNOWN = "unknown"


class Kind(StrEnum):
    """What a message is in the story of a failed operation."""

    CAUSE = "cause"  # a resource failed for this reason
    CONSEQUENCE = "consequence"  # failed because something else failed (cancelled, a parent relaying)
    SUMMARY = "summary"  # lists what failed; each listed resource has its own cause
    NOT_A_FAILURE = "not_a_failure"  # "No updates are to be performed"


# Runbook ids, for the code that names one (each runbook declares itself in its folder,
# recover/runbooks/<name>/__init__.py, and the registry lists them).
ROLLBACK_STUCK = "rollback-stuck"
MISSING_ARTIFACT = "artifacts"
DELETE_FAILED = "delete-failed"
EXECUTION_ROLE_MISSING = "bootstrap-role"
EXPRESS_FAILED = "express-failed"
CUSTOM_RESOURCE = "custom-resource"

# The runbook a failure mode points to by itself, from the runbooks' declared failure modes.
# Modes mapped to None get plain advice; the stack's status may still select a runbook (a
# DELETE_FAILED stack → delete-failed).
RUNBOOK_FOR_MODE: dict[FailureMode, str | None] = {mode: for_mode(mode) for mode in FailureMode}


class Outlook(StrEnum):
    """Whether re-attempting the failed step (continuing a rollback) can succeed."""

    RETRY_WORKS = "retry_works"  # transient: nothing to change, a retry can succeed
    FIX_THEN_RETRY = "fix_then_retry"  # succeeds once something outside the stack is fixed
    CANNOT_SUCCEED = "cannot_succeed"  # the same request fails again whatever is fixed outside
    UNKNOWN = "unknown"


RETRY_OUTLOOK: dict[FailureMode, Outlook] = {
    FailureMode.THROTTLED: Outlook.RETRY_WORKS,
    FailureMode.TRANSIENT_ERROR: Outlook.RETRY_WORKS,
    FailureMode.IRREVERSIBLE_CHANGE: Outlook.CANNOT_SUCCEED,
    FailureMode.RESOURCE_DELETED_OUT_OF_BAND: Outlook.CANNOT_SUCCEED,
    FailureMode.REFUSED_VALUE: Outlook.CANNOT_SUCCEED,
    FailureMode.TEMPLATE_INVALID: Outlook.CANNOT_SUCCEED,
    FailureMode.MISSING_ARTIFACT: Outlook.FIX_THEN_RETRY,
    FailureMode.EXECUTION_ROLE_MISSING: Outlook.FIX_THEN_RETRY,
    FailureMode.PERMISSION_DENIED: Outlook.FIX_THEN_RETRY,
    FailureMode.LIMIT_EXCEEDED: Outlook.FIX_THEN_RETRY,
    FailureMode.NAME_CONFLICT: Outlook.FIX_THEN_RETRY,
    FailureMode.INVALID_REFERENCE: Outlook.FIX_THEN_RETRY,
    FailureMode.CUSTOM_RESOURCE_FAILURE: Outlook.FIX_THEN_RETRY,
    FailureMode.SIGNAL_FAILURE: Outlook.FIX_THEN_RETRY,
    FailureMode.HOOK_FAILURE: Outlook.FIX_THEN_RETRY,
    FailureMode.DELETE_BLOCKED_DEPENDENCY: Outlook.FIX_THEN_RETRY,
    FailureMode.DELETE_BLOCKED_NONEMPTY_BUCKET: Outlook.FIX_THEN_RETRY,
}

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
    FailureMode.CANCELLED: (
        "Not a cause: CloudFormation cancelled this resource's operation because another "
        "resource failed. Deal with that resource's failure."),
    FailureMode.CLEANUP_FAILED: (
        "The operation finished; only the clean-up of old resources failed. Delete the "
        "left-over resources by hand, or leave them."),
    FailureMode.IRREVERSIBLE_CHANGE: (
        "The requested change can never be applied as asked (an engine downgrade, a "
        "replacement of a custom-named resource, an immutable property). Retrying fails the same "
        "way: change the template, or during a rollback skip the resource and reconcile it."),
    FailureMode.NAME_CONFLICT: (
        "A name the stack needs is already taken (a resource, a stack or an export). Remove or "
        "import the holder, or rename, then retry."),
    FailureMode.REFUSED_VALUE: (
        "The service refused a property value (a deprecated runtime, an invalid combination). "
        "Change the value in the template and deploy again; a retry with the same value fails."),
    FailureMode.TEMPLATE_INVALID: (
        "The template or request failed validation before any resource was touched. Fix it "
        "and deploy again."),
    FailureMode.INVALID_REFERENCE: (
        "The template refers to something that does not exist (an export, a stack, a key, a "
        "policy). Fix the reference or create what it names, then deploy again."),
    FailureMode.THROTTLED: (
        "AWS throttled the calls (a request rate, not a resource quota). Wait and retry."),
    FailureMode.TRANSIENT_ERROR: (
        "A transient service condition (not stabilised in time, no capacity, an internal "
        "error). Retry later; nothing in the stack has to change."),
    FailureMode.SIGNAL_FAILURE: (
        "The resource waited for success signals and got a failure or too few. Read the "
        "instance's bootstrap logs, fix it, then retry."),
    FailureMode.HOOK_FAILURE: (
        "A CloudFormation Hook (FAIL mode) refused a resource as non-compliant, or failed. Read "
        "its verdict (hook type, reason, annotations with remediation), make the resource "
        "comply and deploy again, or have the hook's owner fix it or switch it to WARN."),
    FailureMode.NO_CHANGE: "Not a failure: there was nothing to change.",
    FailureMode.UNKNOWN: (
        "recover does not recognise this failure. Read the resource's own events "
        "(`recover diagnose STACK`) for the underlying reason."),
}


def runbook_for(mode: FailureMode | str) -> str | None:
    return RUNBOOK_FOR_MODE[FailureMode(mode)]


def retry_outlook(mode: FailureMode | str) -> Outlook:
    return RETRY_OUTLOOK.get(FailureMode(mode), Outlook.UNKNOWN)


@dataclass(frozen=True)
class Candidate:
    """A rule close to an unmatched message (never a match: a hint for the reader)."""

    rule: str
    failure_mode: FailureMode
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "failure_mode": self.failure_mode.value,
                "similarity": round(self.similarity, 2)}


@dataclass(frozen=True)
class Classification:
    """What a single error message means (result of recover.explain.classify.classify)."""

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
    # How the rule matched: "pattern" (its text pattern), "code" (only the error code),
    # "relayed" (the cause quoted inside a parent's relay), "none" (no rule matched).
    match: str = "pattern"
    kind: Kind = Kind.CAUSE
    family: str = ""
    # When no rule matched: the closest rules by wording, best first.
    candidates: tuple[Candidate, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "failure_mode": self.failure_mode.value, "runbook": self.runbook,
            "explanation": self.explanation, "extracted": self.extracted,
            "rule": self.rule, "confidence": self.confidence, "message": self.message,
            "match": self.match, "kind": self.kind.value, "family": self.family or None,
            "retry_outlook": retry_outlook(self.failure_mode).value,
            "candidates": [c.to_dict() for c in self.candidates]}
        out["others"] = [o.to_dict() for o in self.others]
        return out
