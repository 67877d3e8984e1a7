"""express-failed: plan the replay of the last stable template on a stack wedged in
UPDATE_FAILED by a failed EXPRESS-mode update (pure: no AWS call).

After such a failure AWS refuses RollbackStack and any update without
DeploymentConfig Mode=EXPRESS (docs/reference/aws-behaviour.md#express-deployment-mode). The
way out is one UpdateStack in EXPRESS mode with the last stable template, the stack's current
parameter values (UsePreviousValue) and the capabilities the stack already has. This module
decides what that call is, what it would change back (the difference between the stack's
current template and the stable one) and what is still open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from recover.model.stack import StackSnapshot

STUCK = "UPDATE_FAILED"
EXPRESS = "EXPRESS"
# UpdateStack's TemplateBody limit (bytes); larger templates need TemplateURL (not yet planned)
MAX_BODY = 51_200
TEMPLATE_FLAG = "--template"


@dataclass(frozen=True)
class Undecided:
    target: str
    question: str
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "question": self.question, "flags": list(self.flags)}


@dataclass(frozen=True)
class Decision:
    target: str
    action: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "action": self.action, "why": self.why,
                "failure_mode": "express_update_failed", "phase": "update (EXPRESS)"}


@dataclass(frozen=True)
class TemplateDiff:
    """What replaying the stable template changes, resource by resource (logical ids)."""

    changed: tuple[str, ...] = ()  # in both, with another definition
    added: tuple[str, ...] = ()  # in the stable template only: the replay creates them
    removed: tuple[str, ...] = ()  # in the current template only: the replay deletes them
    parameters: tuple[str, ...] = ()  # parameter declarations that differ

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed or self.parameters)

    def to_dict(self) -> dict[str, Any]:
        return {"changed": list(self.changed), "added": list(self.added),
                "removed": list(self.removed), "parameters": list(self.parameters)}

    def lines(self) -> list[str]:
        if self.empty:
            return ["the stable template equals the current one: the replay only finishes the "
                    "operation"]
        out = [f"~ {lid} (its failed-update definition is replaced)" for lid in self.changed]
        out += [f"+ {lid} (created again)" for lid in self.added]
        out += [f"- {lid} (deleted: the failed update added it)" for lid in self.removed]
        out += [f"~ parameter {p}" for p in self.parameters]
        return out


@dataclass
class ExpressPlan:
    stack: str
    undecided: list[Undecided] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    blocked: str = ""  # a reason the plan cannot run at all (the driver refuses it)
    problems: list[str] = field(default_factory=list)  # the template cannot be replayed as is
    params: dict[str, Any] = field(default_factory=dict)  # UpdateStack's, without the token
    diff: TemplateDiff = field(default_factory=TemplateDiff)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        params = {k: v for k, v in self.params.items() if k != "TemplateBody"}
        return {"stack": self.stack, "source": self.source,
                "undecided": [u.to_dict() for u in self.undecided],
                "decisions": [d.to_dict() for d in self.decisions], "blocked": self.blocked,
                "problems": list(self.problems), "diff": self.diff.to_dict(), "call": params}


def is_express_wedge(snap: StackSnapshot) -> bool:
    info = snap.root.info
    return info.status == STUCK and info.deployment_mode == EXPRESS


def diff_templates(current: dict[str, Any], stable: dict[str, Any]) -> TemplateDiff:
    now, then = current.get("Resources") or {}, stable.get("Resources") or {}
    p_now, p_then = current.get("Parameters") or {}, stable.get("Parameters") or {}
    return TemplateDiff(
        changed=tuple(lid for lid in then if lid in now and now[lid] != then[lid]),
        added=tuple(lid for lid in then if lid not in now),
        removed=tuple(lid for lid in now if lid not in then),
        parameters=tuple(sorted(k for k in {*p_now, *p_then} if p_now.get(k) != p_then.get(k))))


def plan_replay(snap: StackSnapshot, *, source: str | None, body: str | None,
                stable: dict[str, Any] | None, current: dict[str, Any],
                role_arn: str | None = None, capabilities: Sequence[str] | None = None,
                unknown: str = "") -> ExpressPlan:
    """The EXPRESS UpdateStack that replays `stable` (its text `body`, read from `source`),
    or what is missing to make it. `capabilities`: those of the operation that deployed the
    stable template (from CloudTrail); None: the stack's own. `unknown`: why CloudTrail did
    not prove the template, said in the question."""
    info = snap.root.info
    plan = ExpressPlan(stack=info.name, source=source or "")
    if source is None or body is None or stable is None:
        why = f" (CloudTrail did not prove it: {unknown})" if unknown else ""
        plan.undecided.append(Undecided(
            info.name, f"{info.name}: which template is the last stable one (replayed in "
            f"EXPRESS mode)? recover does not guess it{why}", (TEMPLATE_FLAG,)))
        return plan
    plan.diff = diff_templates(current, stable)
    if len(body.encode("utf-8")) > MAX_BODY:
        plan.problems.append(f"the template is {len(body.encode('utf-8'))} bytes, over "
                             f"UpdateStack's TemplateBody limit of {MAX_BODY}: upload it and "
                             "replay it by hand with --template-url (not yet planned by recover)")
    declared = stable.get("Parameters") or {}
    previous = dict(info.parameters)
    parameters: list[dict[str, Any]] = []
    for key, spec in declared.items():
        if key in previous:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
        elif not isinstance(spec, dict) or "Default" not in spec:
            plan.problems.append(f"parameter {key} of the stable template has no value on the "
                                 "stack and no Default")
    params: dict[str, Any] = {"StackName": snap.root_id, "TemplateBody": body}
    if parameters:
        params["Parameters"] = parameters
    caps = list(info.capabilities) if capabilities is None else list(capabilities)
    if caps:
        params["Capabilities"] = caps
    if role_arn:
        params["RoleARN"] = role_arn
    # Only EXPRESS is accepted until the stack is *_COMPLETE again; rollback stays as the mode
    # sets it (off), so the request is the one the CDK's `deploy --express` would send.
    params["DeploymentConfig"] = {"Mode": EXPRESS}
    plan.params = params
    d = plan.diff
    plan.decisions.append(Decision(
        info.name, "replay",
        f"UpdateStack in EXPRESS mode with the template from {source}; it changes back "
        f"{len(d.changed)}, creates {len(d.added)} and deletes {len(d.removed)} resource(s)"))
    return plan
