"""artifacts: find (and restore) the Lambda code objects a failed rollback needs, then hand
over to rollback-stuck."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import ActionSpec, RunbookSpec


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
    actions=(
        ActionSpec("trail.lookup_artifact_failures", "Find Lambda code fetches that failed with "
                   "NoSuchKey in CloudTrail", "gather",
                   uses=("recover.cloudtrail.sources:LookupSource",)),
        ActionSpec("s3.list_versions", "List the versions and delete markers of an S3 key", "gather",
                   ops=(("s3", "ListObjectVersions"),)),
        ActionSpec("lambda.find_deployed_code", "Read the code a Lambda function and its published "
                   "versions still run", "gather",
                   uses=("recover.artifacts.sources:lambda_versions",
                         "recover.artifacts.sources:function_code",
                         "recover.artifacts.sources:lambda_hash_facts")),
        ActionSpec("artifacts.find_wanted", "Work out the bucket, key and version each function "
                   "wants", "decide"),
        ActionSpec("artifacts.choose_source", "Pick the bytes to restore and check them against "
                   "the expected CodeSha256", "decide"),
        # the key's versions before and after the write recognise recover's own write when its
        # answer is lost and the retry meets 412 (own_write.py)
        ActionSpec("s3.restore_object", "Write the artifact to its exact key, never overwriting",
                   "act", uses=("recover.artifacts.own_write:run_restore",)),
        ActionSpec("s3.verify_object", "Read a restored object back and check its SHA-256", "follow",
                   ops=(("s3", "GetObject"),)),
    ),
)
