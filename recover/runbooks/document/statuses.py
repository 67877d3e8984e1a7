"""CloudFormation stack statuses as data (docs/reference/aws-behaviour.md#stack-statuses, the 23 `StackStatus` values).

Runbook steps name the statuses they require and expect; the loader checks every name
against this set so a typo in a runbook file is caught before anything runs.
"""

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

# Statuses in which CloudFormation is still working: a runbook never acts on them.
IN_PROGRESS: frozenset[str] = frozenset(s for s in STACK_STATUSES if s.endswith("_IN_PROGRESS"))
