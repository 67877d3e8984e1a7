"""artifacts: find (and restore) the Lambda code objects a failed rollback needs, then hand
over to rollback-stuck."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import RunbookSpec


def chosen_when(statuses: Collection[str], findings: Sequence[Any]) -> str | None:
    if "UPDATE_ROLLBACK_FAILED" in statuses and any(
            f.failure_mode == "missing_artifact" and f.phase == "rollback" for f in findings):
        return ("the rollback failed because Lambda code objects are missing from S3: restore "
                "them, then continue the rollback")
    return None


SPEC = RunbookSpec(
    id="artifacts",
    aliases=("missing-artifact",),
    help="Find (and with --restore, restore) the missing code objects of STACK's failed "
         "functions.",
    failure_modes=("missing_artifact",),
    operations=frozenset({("s3", "PutObject"), ("s3", "CopyObject")}),
    builders=("recover/artifacts/restore.py",),
    command="recover.runbooks.artifacts.command:command",
    chosen_when="recover.runbooks.artifacts:chosen_when",
    hands_over_to=("rollback-stuck",),
    next_commands=("recover artifacts {stack}", "recover rollback-stuck {stack} --restore-artifacts --dry-run"),
)
