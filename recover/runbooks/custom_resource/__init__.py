"""custom-resource: a stack held *_IN_PROGRESS by a custom resource whose handler never
answered: find the pending request in the handler's logs and answer it by hand, per the custom
resource protocol (docs/reference/aws-behaviour.md#custom-resource-requests-and-responses)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import RunbookSpec

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
)
