"""Root cause first: tell the causes of a failed operation from their consequences (pure).

Like CloudFormation's console "Detect root cause", the root cause is the first cause event of
the failed operation. A finding is a consequence when its resource was cancelled because
another failed, when it is a nested-stack resource relaying its child's failure, or when its
message is itself a consequence or a summary (recover.explain.taxonomy.Kind); everything else is
a cause. Each consequence names the cause it follows from: the earliest cause in the same
stack, else in the child stack it relays, else the root cause.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from recover.decide.findings import Finding
from recover.explain.rules import rule_by_id
from recover.explain.taxonomy import FailureMode, Kind

CONSEQUENCE_MODES = frozenset({FailureMode.CANCELLED, FailureMode.NESTED_STACK_FAILURE,
                               FailureMode.CLEANUP_FAILED})
_LATEST = datetime.max


def is_consequence(f: Finding) -> bool:
    if f.phase == "cancelled" or f.failure_mode in CONSEQUENCE_MODES:
        return True
    try:
        kind = rule_by_id(f.rule).kind if f.rule else Kind.CAUSE
    except KeyError:
        kind = Kind.CAUSE
    return kind in (Kind.CONSEQUENCE, Kind.SUMMARY)


def _when(f: Finding) -> datetime:
    return f.timestamp.replace(tzinfo=None) if f.timestamp else _LATEST


def attribute(findings: list[Finding]) -> tuple[list[Finding], Finding | None]:
    """The findings with role and consequence_of set, in their order, and the root cause."""
    causes = sorted((f for f in findings if not is_consequence(f)), key=_when)
    root = causes[0] if causes else None
    out: list[Finding] = []
    for f in findings:
        if not is_consequence(f):
            out.append(replace(f, role="cause", consequence_of=""))
            continue
        same_stack = [c for c in causes if c.stack_id == f.stack_id]
        child = [c for c in causes if f.physical_id and c.stack_id == f.physical_id]
        origin = (same_stack or child or causes or [None])[0]
        out.append(replace(f, role="consequence", consequence_of=origin.key if origin else ""))
    return out, next((g for g in out if root is not None and g.key == root.key
                      and g.role == "cause"), None)
