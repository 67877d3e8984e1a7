"""R200: resources that failed to delete in a DELETE_FAILED stack (root or nested).

RetainResources is accepted only for a stack in DELETE_FAILED and never for a resource already
DELETE_COMPLETE (docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed, docs/reference/aws-behaviour.md#which-resources-may-be-retained); such resources are marked retainable.
"""

from __future__ import annotations

from recover.decide.findings import Finding
from recover.decide.phases import Phase, failure_timing
from recover.detectors._common import Classifier
from recover.explain.taxonomy import DELETE_FAILED, FailureMode
from recover.model.stack import StackSnapshot

ID = "R200"
TITLE = "Resources that failed to delete"
PERMISSIONS = ("cloudformation:DescribeStacks", "cloudformation:ListStackResources",
               "cloudformation:DescribeStackEvents")


def detect(snapshot: StackSnapshot, classify: Classifier) -> list[Finding]:
    findings: list[Finding] = []
    for node in snapshot.nodes:
        if node.info.status not in ("DELETE_FAILED", "DELETE_IN_PROGRESS"):
            continue
        for res in node.resources:
            if res.status != "DELETE_FAILED":
                continue
            timing = failure_timing(node, res)
            cls = classify(timing.reason)
            mode = FailureMode.NESTED_STACK_FAILURE if res.is_nested_stack else cls.failure_mode
            findings.append(Finding(
                detector=ID, failure_mode=mode, stack_name=node.name, stack_id=node.stack_id,
                status=res.status, reason=timing.reason, runbook=DELETE_FAILED,
                explanation=cls.explanation, logical_id=res.logical_id,
                physical_id=res.physical_id, resource_type=res.resource_type,
                phase=Phase.DELETE, depth=node.depth,
                timestamp=timing.event.timestamp if timing.event else res.last_updated,
                extracted=dict(cls.extracted, retainable=node.info.status == "DELETE_FAILED"),
                rule=cls.rule))
    return findings
