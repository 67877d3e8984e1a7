"""reconcile: close the loop after ResourcesToSkip. A skipped resource is UPDATE_COMPLETE but not
in its template's state (docs/reference/aws-behaviour.md#resourcestoskip-rules rule 6): detect
its drift, show what differs, and revert it with a drift-aware change set (REVERT_DRIFT), or say
what to do by hand; each skip stays open in the ledger until it is in sync."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import PASS_ROLE, ActionSpec, RunbookSpec

MODE = "skipped_resource_drift"


def chosen_when(statuses: Collection[str], findings: Sequence[Any]) -> str | None:
    # Skips leave no failure on the stack: only a finding of this mode names reconcile, and
    # only once the stack is settled (a stuck or busy stack has its own runbook first).
    if any(s.endswith(("_FAILED", "_IN_PROGRESS")) for s in statuses):
        return None
    if any(str(f.failure_mode) == MODE for f in findings):
        return "resources skipped in a rollback are not in their template's state: reconcile them"
    return None


SPEC = RunbookSpec(
    id="reconcile",
    aliases=(),
    help="Reconcile the resources a rollback skipped with STACK's template (drift detection, "
         "then a REVERT_DRIFT change set).",
    failure_modes=("skipped_resource_drift",),
    operations=frozenset({("cloudformation", "CreateChangeSet"),
                          ("cloudformation", "ExecuteChangeSet")}),
    builders=("recover/runbooks/reconcile/flow.py",),
    command="recover.runbooks.reconcile.command:command",
    applier="recover.runbooks.reconcile.apply:apply_plan",
    plan_settings="recover.runbooks.reconcile.apply:PLAN_SETTINGS",
    scenarios={"skipped-drift": {"resources": ["AlertTopic", "JobsQueue", "ExportBucket",
                                               "InvoiceHook"], "execute": True}},
    chosen_when="recover.runbooks.reconcile:chosen_when",
    demo="recover.runbooks.reconcile.flow:demo",
    next_commands=("recover reconcile {stack} --dry-run", "recover reconcile {stack}"),
    actions=(
        ActionSpec("drift.detect", "Detect the drift of each skipped resource "
                   "(DetectStackResourceDrift)", "gather",
                   uses=("recover.aws.drift:detect_resource_drift",)),
        ActionSpec("changeset.describe", "Read the change set once CloudFormation has computed "
                   "it", "gather", uses=("recover.aws.drift:wait_change_set",)),
        ActionSpec("reconcile.plan", "Per skipped resource: close, revert with a REVERT_DRIFT "
                   "change set, or what to do by hand", "decide"),
        # creating a change set changes no resource, but it is a call that creates something
        ActionSpec("changeset.create_revert_drift", "CreateChangeSet on the root with the same "
                   "template and DeploymentMode REVERT_DRIFT", "act",
                   ops=(("cloudformation", "CreateChangeSet"),), extra=PASS_ROLE),
        ActionSpec("changeset.execute", "ExecuteChangeSet: revert the drift it lists", "act",
                   ops=(("cloudformation", "ExecuteChangeSet"),)),
    ),
)
