"""Is the cause of a failure gone now? (pure: facts the snapshot gathered, no AWS call)

A failure message describes the world when the resource failed. Some causes are fixed outside
the failed operation (a service role recreated, by recover or by hand), and continuing the
rollback then simply re-attempts the resource: no skip, no decision. Each rule here reads one
gathered fact and returns a one-line statement of it, or "" when the cause is still there (or
nothing gathered says otherwise). diagnose() stores the statement on the finding (`remedied`),
so every planner and every report sees the same fact.
"""

from __future__ import annotations

from collections.abc import Callable

from recover.decide.findings import Finding
from recover.explain.taxonomy import FailureMode
from recover.model.stack import StackSnapshot

Rule = Callable[[Finding, StackSnapshot], str]


def _role_back(f: Finding, snap: StackSnapshot) -> str:
    """`Role <arn> is invalid or cannot be assumed` (docs/reference/aws-behaviour.md#service-roles-rolearn) is over once a role at that exact ARN
    exists and trusts cloudformation.amazonaws.com (iam:GetRole, read by the snapshot)."""
    arn = str(f.extracted.get("role_arn") or "")
    if not arn:
        node = snap.node(f.stack_id)
        arn = node.info.role_arn if node else ""
    check = snap.role(arn) if arn else None
    if check is None or check.state != "exists":
        return ""
    return (f"role {check.name} exists again at {arn} and trusts cloudformation.amazonaws.com "
            f"(iam:GetRole{', id ' + check.role_id if check.role_id else ''})")


RULES: dict[FailureMode, Rule] = {
    FailureMode.EXECUTION_ROLE_MISSING: _role_back,
}


def remedy_fact(f: Finding, snap: StackSnapshot) -> str:
    """The gathered fact showing the cause of `f` is gone, or ""."""
    rule = RULES.get(f.failure_mode)
    return rule(f, snap) if rule else ""
