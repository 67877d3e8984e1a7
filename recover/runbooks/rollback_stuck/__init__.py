"""rollback-stuck: continue an UPDATE_ROLLBACK_FAILED rollback (root or nested) to the end."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import PASS_ROLE, ActionSpec, RunbookSpec


def chosen_when(statuses: Collection[str], findings: Sequence[Any]) -> str | None:
    if "UPDATE_ROLLBACK_FAILED" in statuses:
        return "the stack is UPDATE_ROLLBACK_FAILED: continue the rollback"
    return None


SPEC = RunbookSpec(
    id="rollback-stuck",
    aliases=(),
    help="Continue the rollback of STACK (root or nested) from UPDATE_ROLLBACK_FAILED to the "
         "end.",
    failure_modes=("nested_stack_failure", "resource_deleted_out_of_band"),
    operations=frozenset({("s3", "PutObject"), ("s3", "CopyObject"),
                          ("cloudformation", "ContinueUpdateRollback")}),
    builders=("recover/runbooks/rollback_stuck/flow.py", "recover/artifacts/restore.py"),
    command="recover.runbooks.rollback_stuck.command:command",
    applier="recover.runbooks.rollback_stuck.flow:apply_plan",
    plan_settings="recover.runbooks.rollback_stuck.flow:PLAN_SETTINGS",
    chosen_when="recover.runbooks.rollback_stuck:chosen_when",
    scenarios={"degap": {"restore_artifacts": True},
               "nested-skip": {"skip_unrecoverable": True},
               "stale-latest": {"restore_artifacts": True, "skip_unrecoverable": True},
               "reference-code": {"skip": ["ThumbsFunction"]},
               "skip-pending": {"skip": ["AlertTopic", "JobsQueue", "ExportBucket",
                                         "InvoiceHook"]}},
    demo="recover.runbooks.rollback_stuck.flow:demo",
    hands_over_to=("artifacts",),
    also_handles=("custom_resource_failure", "permission_denied", "limit_exceeded"),
    # after a run with skips: `recover reconcile {stack}` (the run's result names it)
    next_commands=("recover rollback-stuck {stack} --dry-run", "recover rollback-stuck {stack}"),
    actions=(
        ActionSpec("rollback.classify_failures", "Split failed resources into rollback failures "
                   "and forward-update failures", "decide"),
        ActionSpec("rollback.plan_skips", "Compute the minimal valid ResourcesToSkip", "decide"),
        ActionSpec("stack.continue_update_rollback", "ContinueUpdateRollback on the root stack",
                   "act", ops=(("cloudformation", "ContinueUpdateRollback"),), extra=PASS_ROLE),
    ),
)
