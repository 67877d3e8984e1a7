"""The least-privilege IAM policy an on-call role needs, derived from what the code declares
(cloud-custodian's lesson: permissions are metadata, the policy is derived, never written by
hand):

- for a runbook: the actions each of its steps' engine actions declare where their calls are
  made (recover.act.needs; recover.runbooks.document.actions names the call sites), and what a
  manual step lists for the person doing it;
- for the CloudTrail sources a run may read (`--trail`): what each source class declares;
- for `recover diagnose`: what its reads declare (DIAGNOSE_READS);
- for one saved plan (`--plan`): what `recover apply` reads before each change, and the exact
  calls of the plan, each on the resources it names.

The runbook files list permissions too: the loader checks they cover what the code declares,
so the documents cannot fall behind the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recover.runbooks.document.actions import MANUAL, get_action
from recover.runbooks.document.model import Runbook

POLICY_VERSION = "2012-10-17"

# --trail kinds -> the class that reads them ("module:Class", its PERMISSIONS)
TRAIL_SOURCES: dict[str, str] = {
    "lookup": "recover.cloudtrail.sources:LookupSource",
    "s3": "recover.cloudtrail.sources:S3Source",
    "athena": "recover.cloudtrail.athena:AthenaSource",
    "lake": "recover.cloudtrail.athena:LakeSource",
}
DEFAULT_TRAILS = ("lookup",)
# What the read-only `recover diagnose`, which every on-call engineer runs first, reads beyond
# the runbooks' own snapshots: the failing operations by id and the hooks' results (it falls
# back to the stack's events without them, docs/reference/aws-behaviour.md#stack-operations-and-operation-events).
DIAGNOSE_READS = ("recover.aws.snapshot:take_snapshot", "recover.aws.operations:read_operations")


def _sort_key(permission: str) -> tuple[str, str]:
    service, _, action = permission.partition(":")
    return service, action


def permissions_of(runbooks: Iterable[Runbook], trails: Iterable[str] = (), *,
                   diagnose: bool = False) -> list[str]:
    """Every IAM action the runbooks' steps need, and the chosen trail sources' (and
    `recover diagnose`'s reads when asked), sorted."""
    from recover.act.needs import declared
    from recover.runbooks.spec import load

    found: set[str] = set()
    for runbook in runbooks:
        for step in runbook.steps:
            spec = get_action(step.action)
            found.update(spec.permissions if spec is not None and step.action != MANUAL
                         else step.permissions)
    for kind in trails:
        found.update(declared(load(TRAIL_SOURCES[kind])))
    for path in DIAGNOSE_READS if diagnose else ():
        found.update(declared(load(path)))
    return sorted(found, key=_sort_key)


def _sid(service: str) -> str:
    return "Recover" + "".join(part.capitalize() for part in service.replace("-", " ").split())


def policy_document(runbooks: Iterable[Runbook], trails: Iterable[str] = DEFAULT_TRAILS
                    ) -> dict[str, Any]:
    """One Allow statement per service, actions sorted, on every resource.

    Resource "*" because the stacks, buckets and roles are only known during an incident;
    docs/reference/iam-policy.md says how to narrow each statement when they are known, and
    `recover iam-policy --plan` does it for one saved plan.
    """
    by_service: dict[str, list[str]] = {}
    for permission in permissions_of(runbooks, trails, diagnose=True):
        by_service.setdefault(permission.partition(":")[0], []).append(permission)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": _sid(service), "Effect": "Allow", "Action": actions, "Resource": "*"}
            for service, actions in sorted(by_service.items())
        ],
    }
