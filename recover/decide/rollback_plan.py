"""Plan a ContinueUpdateRollback (pure): what to fix, what to retry, what to skip.

Rules (docs/reference/aws-behaviour.md#continueupdaterollback-runs-on-the-root, docs/reference/aws-behaviour.md#resourcestoskip-rules, docs/reference/aws-behaviour.md#service-roles-rolearn, docs/reference/aws-behaviour.md#why-a-rollback-fails):
- one call, on the root stack, whatever the depth of the failures;
- ResourcesToSkip holds only resources that failed *during the rollback*: a bare logical id
  for the root's own resources, `<child-stack-name>.<LogicalId>` for nested ones (the child's
  stack NAME, never its logical id in the parent); an AWS::CloudFormation::Stack resource only
  when its child stack is DELETE_*; each entry matches the API pattern;
- skip the minimum: causes from docs/reference/aws-behaviour.md#why-a-rollback-fails that only need a retry (throttling, not stabilised,
  expired token) are retried, and so is a failure whose cause the snapshot shows fixed since
  (`Finding.remedied`, e.g. the service role exists again); missing artifacts are restored; the
  rest needs a fix or a skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from recover.decide.diagnose import Diagnosis
from recover.decide.findings import Finding
from recover.decide.judgement import judge
from recover.decide.phases import Phase
from recover.explain.taxonomy import FailureMode
from recover.model.stack import NESTED_STACK_TYPE, StackSnapshot

# botocore's ResourceToSkip pattern (docs/reference/aws-behaviour.md#continueupdaterollback-request): one dot at most.
SKIP_ID_PATTERN = re.compile(r"^(?:[a-zA-Z0-9]+|[a-zA-Z][-a-zA-Z0-9]*\.[a-zA-Z0-9]+)$")

class Action:
    RESTORE = "restore"  # put the missing artifact back, then continue (artifacts runbook)
    RETRY = "retry"  # nothing to change: continuing re-attempts it (docs/reference/aws-behaviour.md#why-a-rollback-fails)
    SKIP = "skip"  # ResourcesToSkip: CloudFormation marks it UPDATE_COMPLETE without acting
    ROLE = "role"  # the service role must exist again first (bootstrap-role runbook)
    AUTOMATIC = "automatic"  # not a cause: CloudFormation handles it when the rollback continues


@dataclass(frozen=True)
class Decision:
    finding: Finding
    action: str
    why: str
    leaves_inconsistent: str = ""
    follow_up: str = ""

    @property
    def target(self) -> str:
        return self.finding.target

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        return {"target": self.target, "stack_name": f.stack_name, "logical_id": f.logical_id,
                "resource_type": f.resource_type, "physical_id": f.physical_id,
                "failure_mode": f.failure_mode.value, "phase": f.phase, "reason": f.reason,
                "action": self.action, "why": self.why,
                "leaves_inconsistent": self.leaves_inconsistent or None,
                "follow_up": self.follow_up or None}


@dataclass
class Choices:
    """What the engineer decided (flags, or answers to prompts)."""

    skip: list[str] = field(default_factory=list)  # explicit ResourcesToSkip entries
    skip_unrecoverable: bool = False
    restore_artifacts: bool | None = None  # None: not decided yet
    # Per-target answers from the interactive walk: target -> Action.*
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Undecided:
    target: str
    question: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class RollbackPlan:
    root_name: str
    root_id: str
    decisions: tuple[Decision, ...]
    undecided: tuple[Undecided, ...]
    blocked: str = ""  # why ContinueUpdateRollback cannot be called now (e.g. role missing)

    @property
    def skips(self) -> list[str]:
        return sorted(d.target for d in self.decisions if d.action == Action.SKIP)

    @property
    def restores(self) -> list[Decision]:
        return [d for d in self.decisions if d.action == Action.RESTORE]

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root_name, "root_stack_id": self.root_id,
                "resources_to_skip": self.skips,
                "decisions": [d.to_dict() for d in self.decisions],
                "undecided": [{"target": u.target, "question": u.question, "flags": list(u.flags)}
                              for u in self.undecided],
                "blocked": self.blocked or None}


def skippable_targets(findings: Iterable[Finding]) -> dict[str, Finding]:
    return {f.skip_id: f for f in findings if f.skippable and f.skip_id}


def validate_skips(snapshot: StackSnapshot, findings: list[Finding],
                   requested: Iterable[str]) -> list[str]:
    """One message per invalid ResourcesToSkip entry, worded after AWS's own rules (docs/reference/aws-behaviour.md#resourcestoskip-rules)."""
    allowed = skippable_targets(findings)
    by_logical: dict[str, list[Finding]] = {}
    for f in findings:
        if f.logical_id:
            by_logical.setdefault(f.logical_id, []).append(f)
    errors: list[str] = []
    for raw in requested:
        sid = raw.strip()
        if sid in allowed:
            continue
        if not SKIP_ID_PATTERN.match(sid):
            errors.append(f"{sid!r} is not a valid ResourcesToSkip entry: use LogicalId for the "
                          "root stack's resources or <child-stack-name>.<LogicalId> (one dot)")
            continue
        prefix, _, logical = sid.rpartition(".")
        if prefix:
            node = snapshot.node(prefix)
            child_by_logical = next((n for n in snapshot.nodes if n.logical_id_in_parent == prefix),
                                    None)
            if node is None and child_by_logical is not None:
                errors.append(f"{sid}: {prefix!r} is the nested stack's logical id in its parent; "
                              f"AWS wants the child stack's name: {child_by_logical.name}.{logical} "
                              f"(AWS would answer 'Stack [{prefix}] does not exist')")
                continue
            if node is None:
                errors.append(f"{sid}: no stack named {prefix!r} in this stack tree")
                continue
            if node.stack_id == snapshot.root_id:
                errors.append(f"{sid}: resources of the root stack are skipped by their bare "
                              f"logical id: {logical}")
                continue
        else:
            node = snapshot.root
        candidates = [f for f in by_logical.get(logical, []) if f.stack_id == node.stack_id]
        res = node.resource(logical)
        if res is None:
            elsewhere = [f for f in by_logical.get(logical, []) if f.skippable]
            if not prefix and elsewhere:
                errors.append(f"{sid}: that resource belongs to nested stack "
                              f"{elsewhere[0].stack_name}; skip it as {elsewhere[0].skip_id}")
            else:
                errors.append(f"{sid}: no resource {logical} in stack {node.name}")
            continue
        if res.resource_type == NESTED_STACK_TYPE and res.status == "UPDATE_FAILED":
            child = snapshot.node(res.physical_id)
            errors.append(f"{sid}: a nested stack resource can be skipped only when its child "
                          f"stack is DELETE_*; {child.name if child else res.physical_id} is "
                          f"{child.info.status if child else 'unknown'}: skip the failed "
                          "resources inside it instead (AWS: 'Nested stacks could not be skipped')")
            continue
        phase = candidates[0].phase if candidates else ""
        if res.status != "UPDATE_FAILED":
            why = f"it is {res.status}, not UPDATE_FAILED"
        elif phase == Phase.FORWARD:
            why = "it failed in the forward update, not during the rollback"
        elif phase == Phase.CANCELLED:
            why = "it was cancelled, it did not fail during the rollback"
        else:
            why = "it did not fail during the rollback"
        errors.append(f"{sid}: {why} (AWS: 'Only the resources failed during UpdateRollback are "
                      "allowed to be skipped')")
    return errors


def follow_up_for(f: Finding) -> tuple[str, str]:
    """What a skip leaves inconsistent, and the follow-up (docs/reference/aws-behaviour.md#resourcestoskip-rules rule 6)."""
    where = f"{f.logical_id} ({f.resource_type or 'resource'}) in {f.stack_name}"
    inconsistent = (f"{where} keeps whatever state it is in now while the stack records the "
                    "rolled-back template: they disagree until fixed.")
    drift = (f"aws cloudformation detect-stack-resource-drift --stack-name {f.stack_name} "
             f"--logical-resource-id {f.logical_id}")
    if f.failure_mode == FailureMode.RESOURCE_DELETED_OUT_OF_BAND:
        follow = ("The physical resource is gone: before the next deploy, recreate it with the "
                  "template's properties, or rename it (new logical id or name) so CloudFormation "
                  f"creates a fresh one (rename-to-replace). Check with: {drift}")
    elif f.resource_type == "AWS::Lambda::Function":
        follow = ("The function keeps its current code and configuration: redeploy the app (or "
                  "update the function) so code, configuration and template agree; if its code "
                  "object is gone, publish the code again under a NEW key/name so the next update "
                  f"does not depend on the missing object. Check with: {drift}")
    else:
        follow = ("Update the resource or the stack so they agree again before the next deploy, "
                  f"or the next update may fail and the stack become unrecoverable. Check with: {drift}")
    return inconsistent, follow


def plan_rollback(snapshot: StackSnapshot, diagnosis: Diagnosis, choices: Choices) -> RollbackPlan:
    """Decide each rollback failure. Validate `choices.skip` with validate_skips first: entries
    that name nothing skippable are ignored here."""
    decisions: list[Decision] = []
    undecided: list[Undecided] = []
    requested = {s.strip() for s in choices.skip}
    blocked = ""
    for f in diagnosis.findings:
        if f.failure_mode == FailureMode.EXECUTION_ROLE_MISSING and not f.remedied:
            blocked = (f"{f.reason}: every operation fails until the role exists again; run "
                       f"`recover bootstrap-role {snapshot.root.name}` first")
            decisions.append(Decision(f, Action.ROLE, blocked))
    for f in diagnosis.findings:
        if f.detector != "R100":
            continue
        target = f.target
        answer = choices.answers.get(target)
        if f.phase != Phase.ROLLBACK or (f.resource_type == NESTED_STACK_TYPE and not f.skippable):
            why = {Phase.FORWARD: "failed in the forward update; the rollback re-attempts it",
                   Phase.CANCELLED: "cancelled because another resource failed"}.get(
                f.phase, "nested stack: it follows its child stack")
            decisions.append(Decision(f, Action.AUTOMATIC, why))
            continue
        inconsistent, follow = follow_up_for(f)
        skip = Decision(f, Action.SKIP, "", inconsistent, follow)
        if answer == Action.SKIP or f.skip_id in requested:
            decisions.append(_with_why(skip, "skip requested by the engineer"))
            continue
        if f.remedied and answer in (None, Action.RETRY):
            decisions.append(Decision(f, Action.RETRY, f"its cause is fixed: {f.remedied}; "
                                      "continuing the rollback re-attempts it (no skip)"))
            continue
        if f.failure_mode == FailureMode.EXECUTION_ROLE_MISSING:
            # fixable by recreating the role (the plan is blocked until then): never a skip
            decisions.append(Decision(f, Action.ROLE, "fails until the service role exists "
                                      "again; retried once it does (no skip)"))
            continue
        if f.failure_mode == FailureMode.MISSING_ARTIFACT:
            if answer == Action.RESTORE or (answer is None and choices.restore_artifacts):
                decisions.append(Decision(
                    f, Action.RESTORE, "its code object is missing from S3: restore it, then the "
                    "rollback can update the function back (no skip needed)"))
                continue
            if choices.skip_unrecoverable and (choices.restore_artifacts is False
                                               or answer == Action.SKIP):
                decisions.append(_with_why(skip, "--skip-unrecoverable and no artifact restore"))
                continue
            undecided.append(Undecided(target, f"restore the missing code object of {target} "
                                       "or skip it?", ("--restore-artifacts", f"--skip {target}",
                                                       "--skip-unrecoverable")))
            continue
        verdict = judge(f)  # the same judgement as the prompt's default (recover.decide.judgement)
        if answer == Action.RETRY or (answer is None and verdict.automatic):
            decisions.append(Decision(f, Action.RETRY, verdict.reason if answer is None else
                                      "retry chosen by the engineer (no skip)"))
            continue
        if choices.skip_unrecoverable:
            decisions.append(_with_why(skip, "--skip-unrecoverable: " + (
                verdict.reason if verdict.unrecoverable
                else f"recover cannot fix {f.failure_mode.value} itself")))
            continue
        undecided.append(Undecided(target, f"{target} failed during the rollback "
                                   f"({f.failure_mode.value}): fix it outside recover and retry, "
                                   "or skip it?", (f"--skip {target}", "--skip-unrecoverable")))
    return RollbackPlan(root_name=snapshot.root.name, root_id=snapshot.root_id,
                        decisions=tuple(decisions), undecided=tuple(undecided), blocked=blocked)


def _with_why(d: Decision, why: str) -> Decision:
    return Decision(d.finding, d.action, why, d.leaves_inconsistent, d.follow_up)
