"""R400: a custom resource waiting for its handler's answer (the stack *_IN_PROGRESS, the
resource *_IN_PROGRESS). CloudFormation waits up to ServiceTimeout (default one hour) per
attempt (docs/reference/aws-behaviour.md#custom-resource-requests-and-responses); the request
can be answered by hand with the custom-resource runbook."""

from __future__ import annotations

from recover.decide.custom_response import is_custom
from recover.decide.findings import Finding
from recover.detectors._common import Classifier
from recover.explain.taxonomy import CUSTOM_RESOURCE, FailureMode
from recover.model.stack import StackSnapshot

ID = "R400"
TITLE = "Custom resource waiting for its handler"
PERMISSIONS = ("cloudformation:ListStackResources",)


def detect(snapshot: StackSnapshot, classify: Classifier) -> list[Finding]:
    findings: list[Finding] = []
    for node in snapshot.nodes:
        if not node.info.status.endswith("_IN_PROGRESS"):
            continue
        for res in node.resources:
            if not (is_custom(res.resource_type) and res.status.endswith("_IN_PROGRESS")):
                continue
            since = next((e.timestamp for e in reversed(node.events)
                          if e.logical_id == res.logical_id and e.status == res.status), None)
            findings.append(Finding(
                detector=ID, failure_mode=FailureMode.CUSTOM_RESOURCE_WAITING,
                stack_name=node.name, stack_id=node.stack_id, status=res.status,
                reason=res.reason, runbook=CUSTOM_RESOURCE,
                explanation=("A custom resource waits for its handler's answer; CloudFormation "
                             "waits until its ServiceTimeout (default one hour) per attempt. "
                             "The request (ResponseURL) is often in the handler's logs and can "
                             "be answered by hand."),
                logical_id=res.logical_id, physical_id=res.physical_id,
                resource_type=res.resource_type, depth=node.depth, timestamp=since,
                rule="custom-resource-waiting"))
    return findings
