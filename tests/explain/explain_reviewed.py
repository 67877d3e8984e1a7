"""Reviewed expectations for ../shared/data/cfn-failure-messages/messages.jsonl.

The file's labels were given by hand and `other` is outside the taxonomy. Where the reviewed
expectation differs from the label, it is listed here with a one-line reason; every other row
is expected to match its label. Keys are 1-based line numbers, with the start of the text to
catch a changed file. Used by tests/explain/test_explain_dataset.py and scripts/explain_accuracy.py.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

MESSAGES = Path("cfn-failure-messages") / "messages.jsonl"

# line: (text prefix, reviewed failure_mode, reason)
REVIEWED: dict[int, tuple[str, str, str]] = {
    1: ('Resource handler returned message: "ndjson-manifests', "name_conflict",
        "AlreadyExists: the name is held by a bucket an earlier rolled-back create retained"),
    2: ("Resource handler returned message: \"Resource of type 'AWS::DynamoDB", "name_conflict",
        "AlreadyExists: an orphan of an earlier failed attempt holds the name"),
    3: ('Resource handler returned message: "Unable to validate', "unknown",
        "S3 notification destination validation: a configuration error"),
    4: ("The following resource(s) failed to create: [FileTracking", "nested_stack_failure",
        "a stack-level summary: names the failed resources, the cause is in their own events"),
    8: ("Requires capabilities", "template_invalid",
        "missing CAPABILITY_AUTO_EXPAND: the request failed validation"),
    9: ("Update successful. One or more resources could not be deleted", "cleanup_failed",
        "the text only says clean-up left resources behind; the AccessDenied is in other events"),
    13: ('Resource handler returned message: "The specified KMS Key Id', "invalid_reference",
         "a referenced KMS key is missing: configuration, not a stack resource deleted"),
    15: ('Resource handler returned message: "Resource tradingedge', "unknown",
         "IAM policy syntax error (not ARN format)"),
    16: ("[RRSet of type A", "name_conflict", "conflicting DNS record already exists"),
    17: ("216989098479-informatica-input already exists", "name_conflict",
         "AlreadyExists (owned by another stack)"),
    18: ('Resource handler returned message: "The specified bucket does not exist', "resource_deleted_out_of_band",
         "HandlerErrorCode NotFound: the bucket the handler was acting on is gone"),
    25: ("Could not unzip uploaded file", "refused_value",
         "a corrupt package, not a missing one: restoring bytes would not help"),
    26: ("The following  \nresource(s) failed to create", "nested_stack_failure",
         "a stack-level summary (terminal-wrapped)"),
    27: ("The following resource(s) failed to create: [BrokenWait", "nested_stack_failure",
         "a stack-level summary"),
    28: ("Error: Failed to create changeset", "stack_state_blocked",
         "UpdateStack refused in ROLLBACK_COMPLETE: an operation refused because of the status"),
    29: ("egamitv-links-dev already exists", "name_conflict", "AlreadyExists (owned by another stack)"),
    30: ("Policy arn:aws:iam::aws:policy/AmazonConnectFullAccess", "invalid_reference",
         "a referenced managed policy does not exist: configuration error"),
    31: ("Stack with id foo does not exist", "invalid_reference",
         "stack lookup failed (name/region): not a stack failure"),
    32: ("Stack:arn:aws:cloudformation:eu-central-1", "stack_state_blocked",
         "UpdateStack refused in UPDATE_ROLLBACK_FAILED"),
    33: ("The following resource(s) failed to update: [fnbs", "nested_stack_failure",
         "a stack-level summary"),
    34: ("Received FAILURE signal", "signal_failure", "cfn-signal failure"),
    35: ("IdentityPoolRoles Resource cannot be updated", "unknown", "not recognised: honest unknown"),
    36: ("The repository with name 'appme", "delete_blocked_nonempty_bucket",
         "a non-empty ECR repository: same remedy (empty or retain) and runbook as a bucket"),
    37: ("Stack:arn:aws:cloudformation:us-east-1:993655754359", "stack_state_blocked",
         "UpdateStack refused in ROLLBACK_COMPLETE"),
    41: ("The following resource(s) failed to delete: [S3Bucket]. ", "nested_stack_failure",
         "a bare summary: the bucket's own event holds the cause (not necessarily BucketNotEmpty)"),
    42: ("The following resource(s) failed to delete: [S3Bucket].", "nested_stack_failure",
         "a bare summary, as line 41"),
}


def load_rows(shared_data: Path) -> list[dict[str, Any]]:
    lines = (shared_data / MESSAGES).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def expected_mode(line: int, row: dict[str, Any]) -> str:
    if line in REVIEWED:
        prefix, mode, _ = REVIEWED[line]
        if not row["text"].startswith(prefix):
            raise AssertionError(f"messages.jsonl line {line} changed; review REVIEWED[{line}]")
        return mode
    return str(row["failure_mode"])


def accuracy(rows: list[dict[str, Any]], predict: Any) -> list[tuple[str, int, int, int]]:
    """Per label mode: (mode, rows, correct against the raw label, correct against review)."""
    n: Counter[str] = Counter()
    raw: Counter[str] = Counter()
    reviewed: Counter[str] = Counter()
    by_mode: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows, start=1):
        label = str(row["failure_mode"])
        got = predict(row["text"])
        n[label] += 1
        by_mode[label].append(i)
        raw[label] += got == label
        reviewed[label] += got == expected_mode(i, row)
    return [(mode, n[mode], raw[mode], reviewed[mode]) for mode in sorted(n)]
