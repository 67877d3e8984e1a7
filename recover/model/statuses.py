"""CloudFormation stack statuses, and every set of them the code decides by: one home, so a
rule about statuses is written once (docs/reference/aws-behaviour.md#stack-statuses, the 23
`StackStatus` values)."""

from __future__ import annotations

STACK_STATUSES: frozenset[str] = frozenset({
    "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE",
    "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE",
    "DELETE_IN_PROGRESS", "DELETE_FAILED", "DELETE_COMPLETE",
    "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE",
    "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_IN_PROGRESS", "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE",
})

# CloudFormation is still working: nothing acts on a stack in one of these.
IN_PROGRESS: frozenset[str] = frozenset(s for s in STACK_STATUSES if s.endswith("_IN_PROGRESS"))
# Every status a stack that still exists can have (ListStacks' filter for "not deleted").
LIVE: tuple[str, ...] = tuple(sorted(STACK_STATUSES - {"DELETE_COMPLETE"}))
# A stack stopped on a failure (diagnose reads these).
FAILED: frozenset[str] = frozenset({"UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "ROLLBACK_FAILED",
                                    "CREATE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_FAILED"})
# The next deploy can start from these and, if it fails, roll back.
STABLE: frozenset[str] = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE",
                                    "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                                    "IMPORT_ROLLBACK_COMPLETE"})
# A resource or stack event in one of these opens an operation / its rollback.
OPERATION_START: frozenset[str] = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS",
                                             "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS"})
ROLLBACK_START: frozenset[str] = frozenset({"UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS",
                                            "IMPORT_ROLLBACK_IN_PROGRESS"})
# A nested stack whose parent is rolling back: skippable while deleted or being deleted.
CHILD_SKIPPABLE: frozenset[str] = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE",
                                             "DELETE_FAILED"})
IN_ROLLBACK: frozenset[str] = frozenset({"UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS"})
# A continued rollback still running (rollback-stuck follows it after a stop).
ROLLBACK_RUNNING: tuple[str, ...] = ("UPDATE_ROLLBACK_IN_PROGRESS",
                                     "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
# A delete that was started: bootstrap-role resumes or finds done the one it sent.
DELETE_STARTED: tuple[str, ...] = ("DELETE_IN_PROGRESS", "DELETE_COMPLETE")
