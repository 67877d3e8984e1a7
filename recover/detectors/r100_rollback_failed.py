"""R100: resources that failed in a stack stuck in UPDATE_ROLLBACK_FAILED (root or nested).

Each failed resource is timed (forward / rollback / cancelled, recover.decide.phases) and
classified. Skippable per docs/reference/aws-behaviour.md#resourcestoskip-rules: failed during the rollback; nested resources as
`<child-stack-name>.<LogicalId>`; an AWS::CloudFormation::Stack resource only when its child
stack is DELETE_IN_PROGRESS, DELETE_COMPLETE or DELETE_FAILED.
"""

from __future__ import annotations

from recover.decide.findings import Finding
from recover.decide.phases import Phase, failure_timing
from recover.detectors._common import Classifier
from recover.explain.taxonomy import ROLLBACK_STUCK, FailureMode, runbook_for
from recover.model.stack import StackNode, StackResource, StackSnapshot
from recover.model.statuses import CHILD_SKIPPABLE, IN_ROLLBACK

ID = "R100"
TITLE = "Resources that failed during an update rollback"
PERMISSIONS = ("cloudformation:DescribeStacks", "cloudformation:ListStackResources",
               "cloudformation:DescribeStackEvents")



def skip_id(snapshot: StackSnapshot, node: StackNode, logical_id: str) -> str:
    """The ResourcesToSkip form (docs/reference/aws-behaviour.md#resourcestoskip-rules rules 2-4): flat at any depth, one dot at most."""
    return logical_id if node.stack_id == snapshot.root_id else f"{node.name}.{logical_id}"


def detect(snapshot: StackSnapshot, classify: Classifier) -> list[Finding]:
    findings: list[Finding] = []
    root = snapshot.root
    if root.info.status not in IN_ROLLBACK and not any(
            n.info.status in IN_ROLLBACK for n in snapshot.nodes):
        return findings
    for node in snapshot.nodes:
        for res in node.resources:
            if res.status != "UPDATE_FAILED":
                continue
            findings.append(_finding(snapshot, node, res, classify))
    return findings


def _finding(snapshot: StackSnapshot, node: StackNode, res: StackResource,
             classify: Classifier) -> Finding:
    timing = failure_timing(node, res)
    cls = classify(timing.reason)
    mode, explanation = cls.failure_mode, cls.explanation
    skippable = timing.phase == Phase.ROLLBACK
    if res.is_nested_stack:
        child = snapshot.node(res.physical_id)
        mode = FailureMode.NESTED_STACK_FAILURE
        child_status = child.info.status if child else "unknown"
        skippable = skippable and child_status in CHILD_SKIPPABLE
        explanation = (f"Nested stack {child.name if child else res.physical_id} is "
                       f"{child_status}; fix or skip the failed resources inside it. The "
                       "nested-stack resource itself can only be skipped when its child stack "
                       "is DELETE_* (docs/reference/aws-behaviour.md#resourcestoskip-rules rule 5).")
    elif timing.phase == Phase.FORWARD:
        explanation = ("Failed in the forward update, not during the rollback: AWS does not "
                       "allow skipping it (docs/reference/aws-behaviour.md#resourcestoskip-rules rule 1). " + explanation)
    elif timing.phase == Phase.CANCELLED:
        explanation = ("Cancelled because another resource failed; it is not a cause and "
                       "cannot be skipped (docs/reference/aws-behaviour.md#resourcestoskip-rules rule 1).")
    runbook = runbook_for(mode) or ROLLBACK_STUCK
    return Finding(
        detector=ID, failure_mode=mode, stack_name=node.name, stack_id=node.stack_id,
        status=res.status, reason=timing.reason, runbook=runbook, explanation=explanation,
        logical_id=res.logical_id, physical_id=res.physical_id, resource_type=res.resource_type,
        phase=timing.phase, skippable=skippable,
        skip_id=skip_id(snapshot, node, res.logical_id) if skippable else "",
        depth=node.depth, timestamp=timing.event.timestamp if timing.event else res.last_updated,
        extracted=dict(cls.extracted), rule=cls.rule)
