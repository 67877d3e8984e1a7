"""Diagnose: run every detector over a snapshot and pick the runbook that applies."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, replace
from typing import Any

from recover.decide.causes import attribute
from recover.decide.findings import Finding
from recover.decide.remedies import remedy_fact
from recover.detectors import load_detectors
from recover.detectors._common import Classifier, default_classifier
from recover.explain.taxonomy import (
    DELETE_FAILED,
    EXECUTION_ROLE_MISSING,
    MISSING_ARTIFACT,
    ROLLBACK_STUCK,
    FailureMode,
)
from recover.model.stack import StackSnapshot

FAILED_STATUSES = frozenset({"UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "ROLLBACK_FAILED",
                             "CREATE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_FAILED"})


@dataclass(frozen=True)
class Diagnosis:
    root_name: str
    root_status: str
    findings: tuple[Finding, ...]
    runbook: str | None
    runbook_reason: str
    root_cause: Finding | None = None  # the first cause event (recover.decide.causes)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def failures(self) -> frozenset[tuple[str, str, str]]:
        """What fails and why: (stack, resource, failure mode). A round that meets exactly these
        again after changing nothing would meet them forever; a resource failing again for
        another cause (its role is back, now its old code is missing) is a new failure."""
        return frozenset((f.stack_name, f.logical_id, f.failure_mode.value)
                         for f in self.findings)

    def to_dict(self, snapshot: StackSnapshot) -> dict[str, Any]:
        return {
            "stack": self.root_name,
            "requested": snapshot.requested or self.root_name,
            "root_status": self.root_status,
            "healthy": self.healthy,
            "runbook": self.runbook,
            "runbook_reason": self.runbook_reason,
            "stacks": [{"name": n.name, "stack_id": n.stack_id, "status": n.info.status,
                        "status_reason": n.info.status_reason, "depth": n.depth,
                        "parent_id": n.info.parent_id or None,
                        "logical_id_in_parent": n.logical_id_in_parent or None,
                        "role_arn": n.info.role_arn or None} for n in snapshot.nodes],
            "root_cause": self.root_cause.key if self.root_cause else None,
            "findings": [f.to_dict() for f in self.findings],
            "unreadable": [{"stack_id": s, "reason": r} for s, r in snapshot.unreadable],
            "api_calls": snapshot.api_calls,
        }


def diagnose(snapshot: StackSnapshot, classify: Classifier | None = None) -> Diagnosis:
    classify = classify or default_classifier()
    findings: list[Finding] = []
    for det in load_detectors():
        try:
            findings.extend(det.detect(snapshot, classify))
        except Exception as exc:  # noqa: BLE001 - a crashing detector becomes a finding
            findings.append(Finding(
                detector="E0002", failure_mode=FailureMode.UNKNOWN,
                stack_name=snapshot.root.name, stack_id=snapshot.root_id, status="",
                reason=f"detector {det.ID} crashed: {type(exc).__name__}: {exc}",
                runbook=None, explanation="".join(traceback.format_exception_only(exc)).strip()))
    findings = [replace(f, remedied=fact) if (fact := remedy_fact(f, snapshot)) else f
                for f in findings]
    findings, root_cause = attribute(findings)
    runbook, why = choose_runbook(snapshot, findings)
    return Diagnosis(root_name=snapshot.root.name, root_status=snapshot.root.info.status,
                     findings=tuple(findings), runbook=runbook, runbook_reason=why,
                     root_cause=root_cause)


def choose_runbook(snapshot: StackSnapshot, findings: list[Finding]) -> tuple[str | None, str]:
    """The one runbook to run first, and why. A missing service role blocks every other
    operation, so it comes first; missing artifacts must be restored before the rollback is
    continued (the missing-artifact runbook then hands over to rollback-stuck)."""
    modes = {f.failure_mode for f in findings if not f.remedied}  # a fixed cause needs no runbook
    statuses = {n.info.status for n in snapshot.nodes}
    if FailureMode.EXECUTION_ROLE_MISSING in modes:
        return EXECUTION_ROLE_MISSING, "the stack's service role is missing: every operation fails until it exists"
    if "UPDATE_ROLLBACK_FAILED" in statuses:
        if any(f.failure_mode == FailureMode.MISSING_ARTIFACT and f.phase == "rollback"
               for f in findings):
            return MISSING_ARTIFACT, ("the rollback failed because Lambda code objects are "
                                      "missing from S3: restore them, then continue the rollback")
        return ROLLBACK_STUCK, "the stack is UPDATE_ROLLBACK_FAILED: continue the rollback"
    if "DELETE_FAILED" in statuses or "ROLLBACK_FAILED" in statuses:
        return DELETE_FAILED, "the stack failed to delete: retry or retain what cannot be deleted"
    for f in findings:
        if f.runbook:
            return f.runbook, f.explanation
    if findings:
        return None, findings[0].explanation
    return None, "no failure found"
