"""delete-failed: finish deleting a DELETE_FAILED stack, retaining what cannot be deleted and
keeping a ledger of the orphans."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import PASS_ROLE, ActionSpec, RunbookSpec


def chosen_when(statuses: Collection[str], findings: Sequence[Any]) -> str | None:
    if "DELETE_FAILED" in statuses or "ROLLBACK_FAILED" in statuses:
        return "the stack failed to delete: retry or retain what cannot be deleted"
    return None


SPEC = RunbookSpec(
    id="delete-failed",
    aliases=(),
    help="Finish deleting STACK from DELETE_FAILED (root and nested stacks).",
    failure_modes=("delete_blocked_nonempty_bucket", "delete_blocked_dependency"),
    operations=frozenset({("s3", "DeleteObjects"), ("cloudformation", "DeleteStack")}),
    builders=("recover/runbooks/delete_failed/flow.py",),
    command="recover.runbooks.delete_failed.command:command",
    applier="recover.runbooks.delete_failed.apply:apply_plan",
    plan_settings="recover.runbooks.delete_failed.apply:PLAN_SETTINGS",
    chosen_when="recover.runbooks.delete_failed:chosen_when",
    scenarios={"delete-failed": {"retain_all_failed": True}},
    demo="recover.runbooks.delete_failed.flow:demo",
    also_handles=("custom_resource_failure",),
    next_commands=("recover delete-failed {stack} --dry-run", "recover delete-failed {stack}"),
    actions=(
        ActionSpec("delete.find_blockers", "Count the versions of non-empty buckets and find the "
                   "network interfaces that use a security group", "gather",
                   uses=("recover.aws.blockers:gather_blockers",)),
        ActionSpec("orphans.capture", "Capture template snippet, ARN and tags of resources to "
                   "retain", "gather", uses=("recover.orphans.capture:capture_orphans",)),
        ActionSpec("delete.plan_retains", "Decide, per failed resource, fix or retain", "decide"),
        ActionSpec("stack.delete_retaining", "DeleteStack with RetainResources", "act",
                   ops=(("cloudformation", "DeleteStack"),), extra=PASS_ROLE),
        ActionSpec("s3.empty_bucket", "Delete every object version and delete marker of a bucket "
                   "(DeleteObjects, 1000 a call)", "act",
                   ops=(("s3", "ListObjectVersions"), ("s3", "DeleteObjects"))),
        ActionSpec("orphans.record", "Add the retained resources to the orphan ledger file",
                   "record"),
    ),
)
