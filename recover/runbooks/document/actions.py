"""The engine actions a runbook step may name, with the metadata the catalog checks.

This module is metadata only: which actions exist, whether they change AWS, and the IAM
actions they need (derived from what the code that makes the calls declares, recover.act.needs).
The actions several runbooks share are below; each runbook declares its own in its spec
(recover/runbooks/<name>/__init__.py, `actions`), and ACTIONS joins them. The loader rejects a step whose action
is unknown, whose `mutates` flag disagrees with the action, or whose declared permissions do
not cover the action's (cloud-custodian's declared-permissions lesson, docs/explanation/design.md#what-we-borrowed).

Permissions are IAM action names, not API operation names: S3 ListObjectVersions needs
`s3:ListBucketVersions`, a GetObject with a VersionId needs `s3:GetObjectVersion`.
"""

from __future__ import annotations

from recover.runbooks import registry
from recover.runbooks.spec import ActionSpec

# A step a person performs; the engine shows it and waits for the operator.
MANUAL = "manual"
# A step that continues in another runbook (`handover` maps stack status → runbook id).
HANDOVER = "runbook.handover"


_SNAPSHOT = "recover.aws.snapshot:take_snapshot"
_FOLLOW = "recover.aws.watch:StackWatcher"
_TEMPLATES = "recover.run.services:read_templates"

# Actions several runbooks' steps name; each runbook's own are in its spec (`actions`).
_COMMON: tuple[ActionSpec, ...] = (
    # gather: read AWS into plain data
    ActionSpec("stack.describe", "Read one stack (status, RoleARN, ParentId/RootId)", "gather",
               ops=(("cloudformation", "DescribeStacks"),)),
    # GetTemplate too: every run reads each stack's template once to learn its NoEcho
    # parameters, so the evidence is redacted as it is written (recover/run/services.py)
    ActionSpec("stack.snapshot", "Read the stack tree: stacks, events, resources and "
               "templates", "gather", uses=(_SNAPSHOT, _TEMPLATES)),
    ActionSpec("role.check", "Check that the stack's service role exists and trusts "
               "CloudFormation", "gather", uses=("recover.aws.iam_roles:role_exists",)),
    # follow: watch what an act started
    ActionSpec("stack.follow", "Follow the root and nested stacks until a terminal status",
               "follow", uses=(_FOLLOW,)),
    # record: the local evidence folder
    ActionSpec("evidence.record", "Write the ledger of what was done and what it left behind",
               "record"),
    # flow
    ActionSpec(HANDOVER, "Continue in another runbook", "flow"),
)


def _table() -> dict[str, ActionSpec]:
    out: dict[str, ActionSpec] = {}
    for owner, action in [("shared", a) for a in _COMMON] + [
            (spec.id, a) for spec in registry() for a in spec.actions]:
        if action.id in out:
            raise ValueError(f"engine action {action.id} declared twice (again by {owner})")
        out[action.id] = action
    return out


ACTIONS: dict[str, ActionSpec] = _table()


def get_action(action_id: str) -> ActionSpec | None:
    return ACTIONS.get(action_id)


def known_action_ids() -> list[str]:
    return sorted([*ACTIONS, MANUAL])
