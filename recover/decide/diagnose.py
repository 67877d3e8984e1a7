"""Diagnose: run every detector over a snapshot and pick the runbook that applies."""

from __future__ import annotations

import shlex
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from recover.decide.causes import attribute
from recover.decide.findings import Finding
from recover.decide.remedies import remedy_fact
from recover.detectors import load_detectors
from recover.detectors._common import Classifier, default_classifier
from recover.explain.taxonomy import FailureMode
from recover.model.operations import SOURCE_OPERATIONS
from recover.model.stack import StackSnapshot
from recover.model.statuses import FAILED
from recover.runbooks import find, registry

FAILED_STATUSES = FAILED


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
            "next": next_commands(self.runbook, self.root_name),
            "stacks": [{"name": n.name, "stack_id": n.stack_id, "status": n.info.status,
                        "status_reason": n.info.status_reason, "depth": n.depth,
                        "parent_id": n.info.parent_id or None,
                        "logical_id_in_parent": n.logical_id_in_parent or None,
                        "role_arn": n.info.role_arn or None} for n in snapshot.nodes],
            "root_cause": self.root_cause.key if self.root_cause else None,
            "findings": [f.to_dict() for f in self.findings],
            "unreadable": [{"stack_id": s, "reason": r} for s, r in snapshot.unreadable],
            "api_calls": snapshot.api_calls,
            "events_source": events_source(snapshot),
        }


def events_source(snapshot: StackSnapshot) -> dict[str, Any] | None:
    """How the failed operations' events were read (docs/reference/aws-behaviour.md#stack-operations-and-operation-events):
    `describe-events` (by operation id, failed events only) or `stack-events` (DescribeStackEvents
    paged back to the operation's start, when the operation APIs are missing), with the reason
    for the fallback. None when the snapshot did not ask (runbooks' own reads)."""
    read = [n.operations for n in snapshot.nodes if n.operations is not None]
    if not read:
        return None
    fell_back = [o for o in read if o.source != SOURCE_OPERATIONS]
    return {"source": fell_back[0].source if fell_back else SOURCE_OPERATIONS,
            "fallback_reason": fell_back[0].fallback_reason if fell_back else None,
            "stacks_by_operation": len(read) - len(fell_back),
            "stacks_reconstructed": len(fell_back),
            "operations": {n.name: [o.to_dict() for o in n.info.last_operations]
                           for n in snapshot.nodes if n.info.last_operations}}


def next_commands(runbook: str | None, stack: str) -> list[str]:
    """The commands to run next for this runbook, ready to paste (its spec's next_commands)."""
    spec = find(runbook) if runbook else None
    return [c.format(stack=shlex.quote(stack)) for c in spec.next_commands] if spec else []


def diagnose(snapshot: StackSnapshot, classify: Classifier | None = None, *,
             ledger_entries: Sequence[dict[str, Any]] = ()) -> Diagnosis:
    """`ledger_entries`: the local orphan ledger's entries (gathered by the caller): the skips
    of this tree still open there become findings, so reconcile can be chosen."""
    from recover.decide.reconcile import open_skip_findings

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
    findings += open_skip_findings(ledger_entries, snapshot)
    findings, root_cause = attribute(findings)
    runbook, why = choose_runbook(snapshot, findings)
    return Diagnosis(root_name=snapshot.root.name, root_status=snapshot.root.info.status,
                     findings=tuple(findings), runbook=runbook, runbook_reason=why,
                     root_cause=root_cause)


def choose_runbook(snapshot: StackSnapshot, findings: list[Finding]) -> tuple[str | None, str]:
    """The one runbook to run first, and why: the first runbook of the registry that says it
    comes first (each runbook's `chosen_when`, recover/runbooks/<name>/__init__.py), else the
    runbook a finding's failure mode points to, else plain advice."""
    statuses = {n.info.status for n in snapshot.nodes}
    for spec in registry():
        chooser = spec.load_chooser()
        why = chooser(statuses, findings) if chooser else None
        if why:
            return spec.id, why
    for f in findings:
        if f.runbook:
            return f.runbook, f.explanation
    if findings:
        return None, findings[0].explanation
    return None, "no failure found"
