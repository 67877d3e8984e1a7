"""Reconciliation after skips (pure): which skipped resources are still open, what drift
detection says of each, and the repair to propose
(docs/reference/aws-behaviour.md#drift-detection, #drift-aware-change-sets,
#resourcestoskip-rules rule 6).

A resource skipped by ContinueUpdateRollback is UPDATE_COMPLETE but not in the state its
template says. Each skip is an open entry in the orphan ledger (kind `skipped`) until drift
detection finds it IN_SYNC. The repair, per resource:
- IN_SYNC: nothing to do; the entry closes;
- MODIFIED or DELETED, drift-aware change sets available, a type drift detection reads: one
  UPDATE change set on the root with the same template and DeploymentMode=REVERT_DRIFT, which
  sets the resource back to its template definition;
- MODIFIED or DELETED without them (older SDK, the service refused): the plain path, by hand:
  set the properties back with the service's API, or rename-to-replace (a plain redeploy of the
  same template changes nothing: CloudFormation compares templates, not live state);
- not checkable (NOT_CHECKED, UNKNOWN, UNSUPPORTED, detection unavailable): stays open, with
  what to compare by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from recover.decide.findings import Finding
from recover.explain.rules.stack_state import E_SKIP_DRIFT
from recover.explain.taxonomy import FailureMode
from recover.model.drift import DELETED, IN_SYNC, MODIFIED, UNAVAILABLE, ResourceDrift
from recover.model.stack import StackSnapshot

KIND = "skipped"  # ledger entries of skipped resources (retained ones have no kind)
OPEN = "open"
CLOSED = "in_sync"

CLOSE = "close"
REVERT = "revert_drift"
PLAIN = "redeploy_by_hand"
BY_HAND = "check_by_hand"
# Types whose drift neither detection nor a change set can revert (not registry types).
NOT_REVERTIBLE_PREFIXES = ("Custom::", "AWS::CloudFormation::CustomResource",
                           "AWS::CloudFormation::Stack")


def parse_target(target: str, root_name: str) -> tuple[str, str]:
    """A ResourcesToSkip entry → (owning stack name, logical id): `<child-stack-name>.<LogicalId>`
    for a nested resource, a bare logical id for the root's."""
    stack, dot, logical = target.rpartition(".")
    return (stack, logical) if dot else (root_name, target)


def skips_in_journal(entries: Iterable[dict[str, Any]]) -> list[str]:
    """The ResourcesToSkip of every ContinueUpdateRollback AWS accepted in a run's journal."""
    befores: dict[Any, list[str]] = {}
    accepted: list[str] = []
    for e in entries:
        if e.get("kind") != "call":
            continue
        if e.get("phase") == "before":
            call = e.get("call") or {}
            skips = (call.get("params") or {}).get("ResourcesToSkip")
            if call.get("operation") == "ContinueUpdateRollback" and skips:
                befores[e.get("seq")] = [str(s) for s in skips]
        elif e.get("phase") == "after" and e.get("ok") is True and e.get("ref") in befores:
            accepted += befores[e["ref"]]
    return list(dict.fromkeys(accepted))


def skip_id(account: str, region: str, stack_id: str, logical_id: str) -> str:
    raw = "|".join((account, region, stack_id, logical_id))
    return "skip-" + hashlib.sha256(raw.encode()).hexdigest()[:10]


def skip_record(*, target: str, stack_name: str, stack_id: str, root: str, logical_id: str,
                resource_type: str, physical_id: str, region: str, account: str, reason: str,
                skipped_at: str, run_id: str, evidence_dir: str, source: str) -> dict[str, Any]:
    """The ledger entry of one skip, open until reconcile finds the resource IN_SYNC."""
    return {
        "id": skip_id(account, region, stack_id, logical_id), "kind": KIND, "state": OPEN,
        "target": target, "resource_type": resource_type, "logical_id": logical_id,
        "physical_id": physical_id, "arn": None, "region": region, "account": account,
        "stack": {"name": stack_name, "stack_id": stack_id, "root": root},
        "why_skipped": reason, "skipped_at": skipped_at, "run_id": run_id,
        "evidence_dir": evidence_dir, "source": source,
        "follow_up": f"recover reconcile {root}",
    }


def open_skips(entries: Iterable[dict[str, Any]], stack_ids: Iterable[str]) -> list[dict[str, Any]]:
    ids = set(stack_ids)
    return [e for e in entries if e.get("kind") == KIND and e.get("state") == OPEN
            and (e.get("stack") or {}).get("stack_id") in ids]


NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
# the drift statuses a REVERT_DRIFT change set acts on (a change of an UNSUPPORTED type is not a
# revert of anything drift detection saw)
REVERTED = ("MODIFIED", "DELETED")


@dataclass(frozen=True)
class Verdict:
    entry_id: str
    target: str
    stack_name: str
    logical_id: str
    resource_type: str
    status: str
    action: str  # CLOSE | REVERT | PLAIN | BY_HAND
    why: str
    differences: tuple[dict[str, str], ...] = ()
    by_hand: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReconcilePlan:
    verdicts: list[Verdict]
    fallback: str = ""  # why drift-aware change sets are not used ("" when they are)
    nested: bool = False  # a skip to revert is in a nested stack
    undecided: list[Any] = field(default_factory=list)

    @property
    def to_revert(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.action == REVERT]

    @property
    def still_open(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.action != CLOSE]

    def to_dict(self) -> dict[str, Any]:
        return {"verdicts": [v.to_dict() for v in self.verdicts], "fallback": self.fallback or None,
                "change_set": bool(self.to_revert), "nested": self.nested}


def beyond_skips(plan: ReconcilePlan, changes: list[dict[str, Any]]) -> list[str]:
    """The resources a REVERT_DRIFT change set would change that no open skip names: it covers
    the whole stack, so it also reverts drift nobody asked recover to touch. A nested stack's
    own resource is not counted when a skip lives in a nested stack (its change carries the
    skip's)."""
    skipped = {v.logical_id for v in plan.verdicts}
    return sorted({str(c.get("logical_id")) for c in changes
                   if c.get("drift_status") in REVERTED and c.get("logical_id") not in skipped
                   and not (plan.nested and c.get("resource_type") == NESTED_STACK_TYPE)})


def revertible(resource_type: str) -> bool:
    return not resource_type.startswith(NOT_REVERTIBLE_PREFIXES)


def _by_hand(d: ResourceDrift) -> tuple[str, ...]:
    if d.resource_type.startswith(("Custom::", "AWS::CloudFormation::CustomResource")):
        return ("a custom resource has no state CloudFormation can read: check what its "
                "handler created (its logs) against the template's properties",
                f"aws cloudformation get-template --stack-name {d.stack_id} --query "
                f"'TemplateBody.Resources.{d.logical_id}'")
    return (f"compare {d.physical_id or d.logical_id} with its template definition using "
            f"the {d.resource_type.split('::')[1] if '::' in d.resource_type else ''} "
            "console or CLI",
            f"aws cloudformation get-template --stack-name {d.stack_id} --query "
            f"'TemplateBody.Resources.{d.logical_id}'")


def _plain(d: ResourceDrift) -> tuple[str, ...]:
    if d.status == DELETED:
        return ("recreate it through CloudFormation: give it a new logical id or physical name "
                "in the template and deploy (rename-to-replace); a redeploy of the same template "
                "does not notice the deletion",)
    sets = [f"{x.path}: set {x.actual!r} back to {x.expected!r}" for x in d.differences]
    return ("set the differing properties back to the template's values with the service's "
            "own API, then run `recover reconcile` again", *sets,
            "or replace it: a new physical name in the template, then deploy (rename-to-replace)")


def plan_reconcile(items: Sequence[tuple[dict[str, Any], ResourceDrift]], *, root_id: str,
                   revert_unavailable: str = "") -> ReconcilePlan:
    """One verdict per open skip (ledger entry, its drift). revert_unavailable: why
    drift-aware change sets cannot be used ("" when they can)."""
    verdicts: list[Verdict] = []
    nested = False
    for entry, d in items:
        diffs = tuple({"path": x.path, "expected": x.expected, "actual": x.actual,
                       "type": x.kind} for x in d.differences)
        base = {"entry_id": entry["id"], "target": entry.get("target") or d.logical_id,
                "stack_name": d.stack_name, "logical_id": d.logical_id,
                "resource_type": d.resource_type, "status": d.status, "differences": diffs}
        if d.status == IN_SYNC:
            verdicts.append(Verdict(**base, action=CLOSE,
                                    why="its real state matches the template: the skip is closed"))
        elif d.status in (MODIFIED, DELETED) and revertible(d.resource_type) \
                and not revert_unavailable:
            what = "recreates it" if d.status == DELETED else "sets its properties back"
            verdicts.append(Verdict(**base, action=REVERT,
                                    why=f"a REVERT_DRIFT change set {what} to the template"))
            nested = nested or d.stack_id != root_id
        elif d.status in (MODIFIED, DELETED):
            why = revert_unavailable or f"{d.resource_type} cannot be reverted by a change set"
            verdicts.append(Verdict(**base, action=PLAIN, why=why, by_hand=_plain(d)))
        else:
            why = (d.reason or "drift detection cannot check it") if d.status != UNAVAILABLE \
                else d.reason
            verdicts.append(Verdict(**base, action=BY_HAND,
                                    why=f"{d.status}: {why}; the skip stays open",
                                    by_hand=_by_hand(d)))
    return ReconcilePlan(verdicts, fallback=revert_unavailable, nested=nested)


def change_set_params(*, stack_id: str, name: str, parameters: Sequence[str],
                      capabilities: Sequence[str], nested: bool, token: str) -> dict[str, Any]:
    """CreateChangeSet: the stack's own template and parameter values, in REVERT_DRIFT mode."""
    params: dict[str, Any] = {
        "StackName": stack_id, "ChangeSetName": name, "ChangeSetType": "UPDATE",
        "UsePreviousTemplate": True, "DeploymentMode": "REVERT_DRIFT", "ClientToken": token,
        "Description": "recover reconcile: revert the drift of resources skipped in a rollback"}
    if parameters:
        params["Parameters"] = [{"ParameterKey": k, "UsePreviousValue": True} for k in parameters]
    if capabilities:
        params["Capabilities"] = list(capabilities)
    if nested:
        params["IncludeNestedStacks"] = True
    return params


def open_skip_findings(entries: Iterable[dict[str, Any]],
                       snapshot: StackSnapshot) -> list[Finding]:
    """diagnose: one finding per skip of this stack tree still open in the orphan ledger (the
    ledger's entries are a gathered fact; nothing is read here). A skipped resource is
    UPDATE_COMPLETE, so nothing else in the snapshot says it is not the template's."""
    depth = {n.stack_id: n.depth for n in snapshot.nodes}
    out = []
    for e in open_skips(entries, depth):
        stack = e.get("stack") or {}
        out.append(Finding(
            detector="L100", failure_mode=FailureMode.SKIPPED_RESOURCE_DRIFT,
            stack_name=str(stack.get("name", "")), stack_id=str(stack.get("stack_id", "")),
            status="UPDATE_COMPLETE (skipped)",
            reason=f"skipped {e.get('skipped_at') or ''} ({e.get('why_skipped') or 'skipped'}); "
                   "open in the orphan ledger until reconcile finds it in sync",
            runbook="reconcile", explanation=E_SKIP_DRIFT,
            logical_id=str(e.get("logical_id", "")), physical_id=str(e.get("physical_id") or ""),
            resource_type=str(e.get("resource_type", "")), depth=depth[stack["stack_id"]],
            extracted={"ledger_id": e.get("id"), "target": e.get("target")},
            rule="ledger-open-skip"))
    return out

