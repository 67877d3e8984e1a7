"""R900: stack statuses that block or need advice rather than a resource fix.

Source: docs/reference/aws-behaviour.md#stack-statuses (the CDK's rollbackChoice table),
docs/reference/aws-behaviour.md#express-deployment-mode (failed EXPRESS updates), docs/reference/aws-behaviour.md#why-a-rollback-fails (stuck cleanup states),
docs/reference/aws-behaviour.md#stack-statuses (status meanings).
"""

from __future__ import annotations

from recover.decide.findings import Finding
from recover.detectors._common import Classifier
from recover.explain.taxonomy import DELETE_FAILED, EXPRESS_FAILED, FailureMode
from recover.model.stack import StackSnapshot

ID = "R900"
TITLE = "Stack status that needs advice"
PERMISSIONS = ("cloudformation:DescribeStacks",)

ADVICE = {
    "ROLLBACK_FAILED": ("A failed create could not roll back. Nothing but a delete works on this "
                        "stack (docs/reference/aws-behaviour.md#stack-statuses); retain what cannot be deleted.", DELETE_FAILED),
    "ROLLBACK_COMPLETE": ("A failed create was rolled back. Only a delete operation can be "
                          "performed (docs/reference/aws-behaviour.md#stack-statuses); delete the stack and create it again.", None),
    "CREATE_FAILED": ("Create failed with rollback disabled. Fix the cause and retry, or call "
                      "RollbackStack (docs/reference/aws-behaviour.md#stack-statuses, docs/reference/aws-behaviour.md#rollbackstack-and-disabled-rollback).", None),
    "UPDATE_FAILED": ("Update failed with rollback disabled (STANDARD mode). Fix the cause and retry "
                      "the update, or call RollbackStack (docs/reference/aws-behaviour.md#stack-statuses, docs/reference/aws-behaviour.md#rollbackstack-and-disabled-rollback).", None),
    "IMPORT_ROLLBACK_FAILED": ("An import could not roll back. Fix the resources named in the "
                               "events, then retry or delete.", None),
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": (
        "Cleanup after an update. If it stays here long after its siblings finished, a failed "
        "nested sibling cancelled its cleanup signal; AWS documents contacting AWS Support (docs/reference/aws-behaviour.md#why-a-rollback-fails).",
        None),
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": (
        "Cleanup after a rollback. If it stays here long, AWS documents contacting AWS Support "
        "(docs/reference/aws-behaviour.md#why-a-rollback-fails).", None),
}
# After a failed EXPRESS update RollbackStack and every classic update are refused; only an
# UpdateStack in EXPRESS mode gets out (docs/reference/aws-behaviour.md#express-deployment-mode).
# Never advise RollbackStack or a plain update for such a stack.
EXPRESS_ADVICE = ("An update in EXPRESS deployment mode failed with rollback off. AWS refuses "
                  "a rollback (RollbackStack) and any update without DeploymentConfig "
                  "Mode=EXPRESS until the stack is *_COMPLETE: replay the last stable template "
                  "in EXPRESS mode (docs/reference/aws-behaviour.md#express-deployment-mode).")
IN_PROGRESS_ADVICE = ("An operation is in progress; wait for a terminal status (`aws "
                      "cloudformation wait`) before acting.")


def detect(snapshot: StackSnapshot, classify: Classifier) -> list[Finding]:
    findings: list[Finding] = []
    for node in snapshot.nodes:
        status = node.info.status
        mode = FailureMode.STACK_STATE_BLOCKED
        if status == "UPDATE_FAILED" and node.info.deployment_mode == "EXPRESS":
            text, runbook, mode = EXPRESS_ADVICE, EXPRESS_FAILED, FailureMode.EXPRESS_UPDATE_FAILED
        elif status in ADVICE:
            text, runbook = ADVICE[status]
        elif status.endswith("_IN_PROGRESS") and node.depth == 0:
            text, runbook = IN_PROGRESS_ADVICE, None
        else:
            continue
        findings.append(Finding(
            detector=ID, failure_mode=mode, stack_name=node.name,
            stack_id=node.stack_id, status=status, reason=node.info.status_reason,
            runbook=runbook, explanation=text, depth=node.depth, rule=f"status:{status}"))
    return findings
