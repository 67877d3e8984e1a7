"""Plan the deletion of a DELETE_FAILED stack tree (pure): per failed resource retry, retain,
or empty-and-delete (buckets), and the ordered DeleteStack calls.

Rules (docs/reference/aws-behaviour.md#deletestack-and-retainresources):
- RetainResources only for a stack in DELETE_FAILED (docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed), only logical ids of that stack,
  never a resource already DELETE_COMPLETE (docs/reference/aws-behaviour.md#which-resources-may-be-retained: AWS refuses the whole call);
- nested: a DELETE_FAILED child is deleted first with its own RetainResources, then its parent
  again, which now deletes the (gone) child normally (docs/reference/aws-behaviour.md#deletestack-and-retainresources, observed in operator notes); a nested
  stack resource itself is never retained (that would leave a DELETE_FAILED stack behind);
- a resource is retried when the cause is transient or the engineer fixed it; a non-empty bucket
  is emptied only when its name was typed or given with --empty-bucket (never by --yes alone).
Targets name resources like ResourcesToSkip does: the bare logical id for the root's own
resources, `<child-stack-name>.<LogicalId>` for nested ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from recover.decide.diagnose import Diagnosis
from recover.decide.findings import Finding
from recover.explain.taxonomy import FailureMode
from recover.model.blockers import BucketContents
from recover.model.stack import StackNode, StackSnapshot

DELETE_FAILED = "DELETE_FAILED"
# Verbatim AWS message for retaining a DELETE_COMPLETE resource (docs/reference/aws-behaviour.md#which-resources-may-be-retained).
AWS_RETAIN_DELETED = ("The specified resources to retain must be in a valid state. Do not "
                      "specify resources that are in the DELETE_COMPLETE state.")
TRANSIENT = re.compile(r"rate exceeded|throttl|did not stabili[sz]e|internal failure|service "
                       r"unavailable|try again|security token", re.IGNORECASE)
BUCKET = "AWS::S3::Bucket"


class Action:
    RETAIN = "retain"  # RetainResources: the stack goes, the resource stays (orphan ledger)
    RETRY = "retry"  # delete it again (transient cause, or fixed outside recover)
    EMPTY = "empty-and-delete"  # delete every object version of the bucket, then delete it
    CHILD_FIRST = "child-first"  # nested stack: delete its child first, then retry it here
    ROLE = "role"  # the service role is missing: nothing works until it exists


@dataclass
class DeleteChoices:
    """What the engineer decided: flags, or answers to prompts (target -> Action.*)."""

    retain: list[str] = field(default_factory=list)
    retain_all_failed: bool = False
    empty_buckets: list[str] = field(default_factory=list)  # bucket names, typed or flagged
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    finding: Finding
    target: str
    action: str
    why: str
    fix: str = ""  # what would let a retry succeed
    blocker: dict[str, Any] = field(default_factory=dict)  # gathered facts (counts, ENIs)

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        return {"target": self.target, "stack_name": f.stack_name, "logical_id": f.logical_id,
                "resource_type": f.resource_type, "physical_id": f.physical_id,
                "failure_mode": f.failure_mode.value, "phase": f.phase, "reason": f.reason,
                "action": self.action, "why": self.why, "fix": self.fix or None,
                "blocker": self.blocker or None}


@dataclass(frozen=True)
class Undecided:
    target: str
    question: str
    flags: tuple[str, ...]
    options: tuple[str, ...]  # Action.* values that make sense here
    fix: str = ""  # what would let a retry succeed


@dataclass(frozen=True)
class DeleteStep:
    """One DeleteStack call: a DELETE_FAILED stack and the logical ids it retains."""

    stack_name: str
    stack_id: str
    depth: int
    retain: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"stack_name": self.stack_name, "stack_id": self.stack_id, "depth": self.depth,
                "retain": list(self.retain)}


@dataclass(frozen=True)
class DeletePlan:
    root_name: str
    root_id: str
    decisions: tuple[Decision, ...]
    undecided: tuple[Undecided, ...]
    steps: tuple[DeleteStep, ...]  # deepest stacks first, the root last
    empty: tuple[BucketContents, ...] = ()
    blocked: str = ""

    @property
    def retained(self) -> list[Decision]:
        return [d for d in self.decisions if d.action == Action.RETAIN]

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root_name, "root_stack_id": self.root_id,
                "steps": [s.to_dict() for s in self.steps],
                "empty_buckets": [b.to_dict() for b in self.empty],
                "decisions": [d.to_dict() for d in self.decisions],
                "undecided": [{"target": u.target, "question": u.question, "flags": list(u.flags),
                               "options": list(u.options), "fix": u.fix or None}
                              for u in self.undecided],
                "blocked": self.blocked or None}


def target_of(snapshot: StackSnapshot, node: StackNode, logical_id: str) -> str:
    return logical_id if node.stack_id == snapshot.root_id else f"{node.name}.{logical_id}"


def resolve_target(snapshot: StackSnapshot, target: str) -> tuple[StackNode | None, str, str]:
    """(stack, logical id, error) for a `LogicalId` or `<child-stack-name>.<LogicalId>`."""
    prefix, _, logical = target.strip().rpartition(".")
    if not prefix:
        return snapshot.root, logical, ""
    node = snapshot.node(prefix)
    if node is None:
        by_lid = next((n for n in snapshot.nodes if n.logical_id_in_parent == prefix), None)
        if by_lid is not None:
            return None, logical, (f"{prefix!r} is the nested stack's logical id in its parent; "
                                   f"name the child stack: {by_lid.name}.{logical}")
        return None, logical, f"no stack named {prefix!r} in this stack tree"
    if node.stack_id == snapshot.root_id:
        return None, logical, f"resources of the root stack are named by their bare logical id: {logical}"
    return node, logical, ""


def validate_retains(snapshot: StackSnapshot, requested: Iterable[str]) -> list[str]:
    """One message per --retain entry AWS (or the nested rule) would refuse."""
    errors: list[str] = []
    for raw in requested:
        node, logical, err = resolve_target(snapshot, raw)
        if node is None:
            errors.append(f"{raw}: {err}")
            continue
        res = node.resource(logical)
        if res is None:
            errors.append(f"{raw}: no resource {logical} in stack {node.name}")
        elif res.status == "DELETE_COMPLETE":
            errors.append(f"{raw}: it is already DELETE_COMPLETE, there is nothing left to retain "
                          f"(AWS: '{AWS_RETAIN_DELETED}')")
        elif node.info.status != DELETE_FAILED:
            errors.append(f"{raw}: stack {node.name} is {node.info.status}; RetainResources is "
                          "accepted only for a stack in DELETE_FAILED (docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed)")
        elif res.is_nested_stack:
            child = snapshot.node(res.physical_id)
            inside = f"{child.name}.<LogicalId>" if child else "<child-stack-name>.<LogicalId>"
            errors.append(f"{raw}: a nested stack is not retained (its stack would stay behind "
                          f"in DELETE_FAILED): retain the resources inside it ({inside}); recover "
                          "deletes the child stack first, then its parent")
    return errors


def validate_retries(snapshot: StackSnapshot, requested: Iterable[str],
                     retained: Iterable[str]) -> list[str]:
    """--retry must name a resource that failed to delete, and not one also retained."""
    errors: list[str] = []
    keep = {r.strip() for r in retained}
    for raw in requested:
        node, logical, err = resolve_target(snapshot, raw)
        res = node.resource(logical) if node else None
        if node is None:
            errors.append(f"--retry {raw}: {err}")
        elif res is None or res.status != DELETE_FAILED or res.is_nested_stack:
            errors.append(f"--retry {raw}: not a resource that failed to delete in {node.name}")
        elif raw.strip() in keep:
            errors.append(f"--retry {raw}: also given to --retain; choose one")
    return errors


def validate_empty_buckets(snapshot: StackSnapshot, names: Iterable[str]) -> list[str]:
    """--empty-bucket must name a bucket that failed to delete in this stack tree."""
    failed = {r.physical_id for n in snapshot.nodes for r in n.resources
              if r.resource_type == BUCKET and r.status == DELETE_FAILED}
    return [f"--empty-bucket {n}: not a bucket that failed to delete in this stack tree"
            + (f" (those are: {', '.join(sorted(failed))})" if failed else "")
            for n in names if n not in failed]


def fix_for(f: Finding, blocker: Mapping[str, Any]) -> str:
    """What the engineer can change so that a retry succeeds."""
    mode = f.failure_mode
    if mode == FailureMode.DELETE_BLOCKED_NONEMPTY_BUCKET:
        return (f"empty bucket {f.physical_id} (every object version and delete marker) — recover "
                "can do it after you type the bucket name — or retain it to keep the data")
    if mode == FailureMode.DELETE_BLOCKED_DEPENDENCY:
        enis = blocker.get("network_interfaces") or []
        if enis:
            named = ", ".join(f"{e['id']} ({e.get('description') or e.get('status') or 'ENI'})"
                              for e in enis)
            return f"delete or detach what still uses it: {named}; then retry"
        if "protected" in f.reason.lower():
            return "turn deletion protection off on the resource, then retry"
        dep = f.extracted.get("blocked_resource_id") or f.physical_id
        return f"remove the objects that depend on {dep}, then retry"
    if mode == FailureMode.CUSTOM_RESOURCE_FAILURE:
        rid = f.extracted.get("request_id")
        return ("fix the custom resource's handler so it answers the Delete request (its logs: "
                f"requestId {rid})" if rid else "fix the custom resource's handler") + \
            "; a retry without a fix waits for the timeout again"
    if mode == FailureMode.PERMISSION_DENIED:
        action = f.extracted.get("iam_action")
        return f"grant {action} to the stack's service role, then retry" if action else \
            "grant the missing permission to the stack's service role, then retry"
    return "fix the cause in the reason, then retry"


def plan_delete(snapshot: StackSnapshot, diagnosis: Diagnosis, choices: DeleteChoices,
                blockers: Mapping[str, Mapping[str, Any]] | None = None,
                buckets: Mapping[str, BucketContents] | None = None) -> DeletePlan:
    """Decide each resource that failed to delete. Validate `choices.retain` with
    validate_retains first: entries naming nothing retainable are ignored here."""
    blockers = blockers or {}
    buckets = buckets or {}
    requested = {r.strip() for r in choices.retain}
    empty_names = set(choices.empty_buckets)
    decisions: list[Decision] = []
    undecided: list[Undecided] = []
    blocked = ""
    for f in diagnosis.findings:
        if f.failure_mode == FailureMode.EXECUTION_ROLE_MISSING:
            blocked = (f"{f.reason}: DeleteStack runs as that role and fails until it exists "
                       f"again; run `recover bootstrap-role {snapshot.root.name}` first")
            decisions.append(Decision(f, f.logical_id or f.stack_name, Action.ROLE, blocked))
    for f in diagnosis.findings:
        if f.detector != "R200":
            continue
        node = snapshot.node(f.stack_id)
        if node is None or node.info.status != DELETE_FAILED:
            continue
        target = target_of(snapshot, node, f.logical_id)
        blocker = dict(blockers.get(target, {}))
        answer = choices.answers.get(target)
        if f.resource_type == "AWS::CloudFormation::Stack":
            child = snapshot.node(f.physical_id)
            if child is not None and child.info.status == DELETE_FAILED:
                decisions.append(Decision(f, target, Action.CHILD_FIRST,
                                          f"its child stack {child.name} is DELETE_FAILED: delete "
                                          "it first (with its own retains), then this stack "
                                          "deletes it again (docs/reference/aws-behaviour.md#deletestack-and-retainresources)"))
            else:
                status = child.info.status if child else "gone"
                decisions.append(Decision(f, target, Action.RETRY,
                                          f"its child stack is {status}: deleting this stack "
                                          "again finishes it"))
            continue
        fix = fix_for(f, blocker)
        is_bucket = f.resource_type == BUCKET
        if answer == Action.RETAIN or target in requested:
            decisions.append(Decision(f, target, Action.RETAIN, "retain requested by the "
                                      "engineer: the stack goes, the resource stays (orphan "
                                      "ledger)", fix, blocker))
            continue
        if is_bucket and (answer == Action.EMPTY or f.physical_id in empty_names):
            contents = buckets.get(f.physical_id)
            if contents is not None:
                blocker.update(contents.to_dict())
            decisions.append(Decision(f, target, Action.EMPTY,
                                      "emptying confirmed by its typed name: every object version "
                                      "and delete marker is deleted, then the bucket with the "
                                      "stack", fix, blocker))
            continue
        if answer is None and blocker.get("gone"):
            decisions.append(Decision(f, target, Action.RETRY,
                                      f"{blocker['gone']}: deleting again finds nothing to "
                                      "delete and succeeds", fix, blocker))
            continue
        if answer == Action.RETRY or (answer is None and TRANSIENT.search(f.reason)):
            decisions.append(Decision(f, target, Action.RETRY,
                                      "fixed outside recover: delete it again" if answer else
                                      "a transient cause: deleting again re-attempts it",
                                      fix, blocker))
            continue
        if choices.retain_all_failed:
            decisions.append(Decision(f, target, Action.RETAIN, "--retain-all-failed", fix,
                                      blocker))
            continue
        options = [Action.RETAIN, Action.RETRY] + ([Action.EMPTY] if is_bucket else [])
        flags = [f"--retain {target}", "--retain-all-failed"]
        if is_bucket:
            flags.append(f"--empty-bucket {f.physical_id}")
        undecided.append(Undecided(target, f"{target} failed to delete ({f.failure_mode.value}): "
                                   "retain it, fix it and retry, or "
                                   + ("empty it?" if is_bucket else "abort?"),
                                   tuple(flags), tuple(options), fix))
    by_node: dict[str, list[str]] = {}
    for d in decisions:
        if d.action == Action.RETAIN:
            by_node.setdefault(d.finding.stack_id, []).append(d.finding.logical_id)
    failed_nodes = [n for n in snapshot.nodes if n.info.status == DELETE_FAILED]
    # deepest first; among equals keep tree order (parents before children is reversed by depth)
    ordered = sorted(failed_nodes, key=lambda n: -n.depth)
    steps = tuple(DeleteStep(n.name, n.stack_id, n.depth, tuple(sorted(by_node.get(n.stack_id, []))))
                  for n in ordered)
    empty = tuple(buckets[d.finding.physical_id] for d in decisions
                  if d.action == Action.EMPTY and d.finding.physical_id in buckets)
    return DeletePlan(root_name=snapshot.root.name, root_id=snapshot.root_id,
                      decisions=tuple(decisions), undecided=tuple(undecided), steps=steps,
                      empty=empty, blocked=blocked)
