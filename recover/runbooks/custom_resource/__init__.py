"""custom-resource: a stack held *_IN_PROGRESS by a custom resource whose handler never
answered: find the pending request in the handler's logs and answer it by hand, per the custom
resource protocol (docs/reference/aws-behaviour.md#custom-resource-requests-and-responses)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import ActionSpec, RunbookSpec

MODE = "custom_resource_waiting"


def chosen_when(statuses: Collection[str], findings: Sequence[Any]) -> str | None:
    if any(str(f.failure_mode) == MODE for f in findings):
        return ("a custom resource waits for its handler's answer: find the request in the "
                "handler's logs and answer it (CloudFormation otherwise waits up to an hour per "
                "attempt)")
    return None


SPEC = RunbookSpec(
    id="custom-resource",
    aliases=(),
    help="Answer a custom resource request its handler never answered, then follow STACK.",
    failure_modes=(MODE,),
    operations=frozenset({("cloudformation-response", "PutCustomResourceResponse")}),
    builders=("recover/runbooks/custom_resource/flow.py",),
    command="recover.runbooks.custom_resource.command:command",
    chosen_when="recover.runbooks.custom_resource:chosen_when",
    scenarios={"custom-resource-delete": {"respond": "SUCCESS"},
               "custom-resource-rollback": {"respond": "SUCCESS", "logical_id": "RateTable"}},
    demo="recover.runbooks.custom_resource.flow:demo",
    next_commands=("recover custom-resource {stack} --dry-run",),
    actions=(
        ActionSpec("custom.find_request", "Find a waiting custom resource's request (RequestId, "
                   "ResponseURL) in its handler's CloudWatch Logs", "gather",
                   uses=("recover.aws.custom_requests:gather_handler_logs",)),
        ActionSpec("custom.plan_response", "Check the request's ResponseURL and choose the "
                   "answer (SUCCESS or FAILED) and its document", "decide"),
        # an HTTP PUT to the pre-signed URL CloudFormation gave the handler needs no IAM
        # action; what it needs is the re-read of the stack right before it
        ActionSpec("custom.respond", "Re-read the stack, then send the custom resource response "
                   "document to the request's pre-signed ResponseURL (HTTP PUT)", "act",
                   uses=("recover.aws.snapshot:take_snapshot",)),
    ),
)
