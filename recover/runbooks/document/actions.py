"""The engine actions a runbook step may name, with the metadata the catalog checks.

This module is metadata only: which actions exist, whether they change AWS, and the IAM
actions they need. The implementations arrive with the runbooks' own issues; until then a
step's `cli` field is the way to perform it by hand. The loader rejects a step whose action
is unknown, whose `mutates` flag disagrees with the action, or whose declared permissions do
not cover the action's (cloud-custodian's declared-permissions lesson, docs/explanation/design.md#what-we-borrowed).

Permissions are IAM action names, not API operation names: S3 ListObjectVersions needs
`s3:ListBucketVersions`, a GetObject with a VersionId needs `s3:GetObjectVersion`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# A step a person performs; the engine shows it and waits for the operator.
MANUAL = "manual"
# A step that continues in another runbook (`handover` maps stack status → runbook id).
HANDOVER = "runbook.handover"


# Where an action sits in a recovery: gather → decide → act → follow → record (docs/explanation/design.md#gather-decide-act);
# "flow" moves to another runbook.
PHASES = ("gather", "decide", "act", "follow", "record", "flow")


@dataclass(frozen=True)
class ActionSpec:
    id: str
    title: str
    phase: str
    # Where its calls are made ("module:function" or "module:Class"): what they declare
    # (recover.act.needs) is what the action needs.
    uses: tuple[str, ...] = ()
    # The changes it makes (service, Operation): their IAM actions.
    ops: tuple[tuple[str, str], ...] = ()
    # What no call site declares: iam:PassRole (CloudFormation is handed the stack's role).
    extra: tuple[str, ...] = ()

    @property
    def permissions(self) -> tuple[str, ...]:
        return _permissions(self)

    @property
    def mutating(self) -> bool:
        return self.phase == "act"

    @property
    def calls_aws(self) -> bool:
        """False for pure decisions, local bookkeeping and hand-overs."""
        return bool(self.uses or self.ops or self.extra)


@functools.cache
def _permissions(spec: ActionSpec) -> tuple[str, ...]:
    from recover.act.needs import actions_for_operation, declared, union
    from recover.runbooks.spec import load

    return tuple(union([*(declared(load(u)) for u in spec.uses),
                        *(actions_for_operation(s, o) for s, o in spec.ops), spec.extra]))


_SNAPSHOT = "recover.aws.snapshot:take_snapshot"
_FOLLOW = "recover.aws.watch:StackWatcher"
_TEMPLATES = "recover.runs:read_templates"
_PASS_ROLE = ("iam:PassRole",)

_ACTIONS: tuple[ActionSpec, ...] = (
    # gather: read AWS into plain data
    ActionSpec("stack.describe", "Read one stack (status, RoleARN, ParentId/RootId)", "gather",
               ops=(("cloudformation", "DescribeStacks"),)),
    # GetTemplate too: every run reads each stack's template once to learn its NoEcho
    # parameters, so the evidence is redacted as it is written (recover/runs.py)
    ActionSpec("stack.snapshot", "Read the stack tree: stacks, events, resources and "
               "templates", "gather", uses=(_SNAPSHOT, _TEMPLATES)),
    ActionSpec("role.check", "Check that the stack's service role exists and trusts "
               "CloudFormation", "gather", uses=("recover.aws.iam_roles:role_exists",)),
    ActionSpec("trail.lookup_artifact_failures", "Find Lambda code fetches that failed with "
               "NoSuchKey in CloudTrail", "gather",
               uses=("recover.cloudtrail.sources:LookupSource",)),
    ActionSpec("trail.lookup_role_history", "Find the service role's CreateRole, policy and "
               "DeleteRole records in CloudTrail", "gather",
               uses=("recover.aws.role_history:lookup_role_history",)),
    ActionSpec("s3.list_versions", "List the versions and delete markers of an S3 key", "gather",
               ops=(("s3", "ListObjectVersions"),)),
    ActionSpec("lambda.find_deployed_code", "Read the code a Lambda function and its published "
               "versions still run", "gather",
               uses=("recover.artifacts.sources:lambda_versions",
                     "recover.artifacts.sources:function_code",
                     "recover.artifacts.sources:lambda_hash_facts")),
    ActionSpec("delete.find_blockers", "Count the versions of non-empty buckets and find the "
               "network interfaces that use a security group", "gather",
               uses=("recover.aws.blockers:gather_blockers",)),
    ActionSpec("orphans.capture", "Capture template snippet, ARN and tags of resources to "
               "retain", "gather", uses=("recover.orphans.capture:capture_orphans",)),
    ActionSpec("template.read_source", "Read the template the engineer names (a file, or an "
               "S3 object or one of its versions)", "gather",
               uses=("recover.aws.template_source:read_template_source",)),
    ActionSpec("drift.detect", "Detect the drift of each skipped resource "
               "(DetectStackResourceDrift)", "gather",
               uses=("recover.aws.drift:detect_resource_drift",)),
    ActionSpec("changeset.describe", "Read the change set once CloudFormation has computed it",
               "gather", uses=("recover.aws.drift:wait_change_set",)),
    # decide: pure functions of the gathered data, no AWS call
    ActionSpec("rollback.classify_failures", "Split failed resources into rollback failures "
               "and forward-update failures", "decide"),
    ActionSpec("rollback.plan_skips", "Compute the minimal valid ResourcesToSkip", "decide"),
    ActionSpec("artifacts.find_wanted", "Work out the bucket, key and version each function "
               "wants", "decide"),
    ActionSpec("artifacts.choose_source", "Pick the bytes to restore and check them against "
               "the expected CodeSha256", "decide"),
    ActionSpec("delete.plan_retains", "Decide, per failed resource, fix or retain", "decide"),
    ActionSpec("express.plan_replay", "Plan the EXPRESS UpdateStack of the stable template "
               "and what it changes back", "decide"),
    ActionSpec("reconcile.plan", "Per skipped resource: close, revert with a REVERT_DRIFT "
               "change set, or what to do by hand", "decide"),
    ActionSpec("role.plan_recreate", "Choose name, path, trust and policies of the role to "
               "recreate", "decide"),
    # act: the only actions that change AWS (through the one executor)
    ActionSpec("stack.continue_update_rollback", "ContinueUpdateRollback on the root stack",
               "act", ops=(("cloudformation", "ContinueUpdateRollback"),), extra=_PASS_ROLE),
    ActionSpec("stack.update_express", "UpdateStack in EXPRESS mode (DeploymentConfig)", "act",
               ops=(("cloudformation", "UpdateStack"),), extra=_PASS_ROLE),
    # creating a change set changes no resource, but it is a call that creates something
    ActionSpec("changeset.create_revert_drift", "CreateChangeSet on the root with the same "
               "template and DeploymentMode REVERT_DRIFT", "act",
               ops=(("cloudformation", "CreateChangeSet"),), extra=_PASS_ROLE),
    ActionSpec("changeset.execute", "ExecuteChangeSet: revert the drift it lists", "act",
               ops=(("cloudformation", "ExecuteChangeSet"),)),
    ActionSpec("stack.delete_retaining", "DeleteStack with RetainResources", "act",
               ops=(("cloudformation", "DeleteStack"),), extra=_PASS_ROLE),
    ActionSpec("s3.empty_bucket", "Delete every object version and delete marker of a bucket "
               "(DeleteObjects, 1000 a call)", "act",
               ops=(("s3", "ListObjectVersions"), ("s3", "DeleteObjects"))),
    ActionSpec("stack.delete", "DeleteStack (the stack and the resources it does not retain)",
               "act", ops=(("cloudformation", "DeleteStack"),), extra=_PASS_ROLE),
    # the key's versions before and after the write recognise recover's own write when its
    # answer is lost and the retry meets 412 (own_write.py)
    ActionSpec("s3.restore_object", "Write the artifact to its exact key, never overwriting",
               "act", uses=("recover.artifacts.own_write:run_restore",)),
    # a CreateRole with Tags needs iam:TagRole as well
    ActionSpec("role.recreate", "Create the service role again with its trust and policies",
               "act", ops=(("iam", "CreateRole"), ("iam", "AttachRolePolicy")),
               extra=("iam:TagRole",)),
    ActionSpec("role.remove", "Detach the policies of the temporary role and delete it", "act",
               uses=("recover.aws.iam_roles:attached_policies",
                     "recover.aws.iam_roles:inline_policies", "recover.aws.iam_roles:role_tags"),
               ops=(("iam", "DetachRolePolicy"), ("iam", "DeleteRolePolicy"),
                    ("iam", "DeleteRole"))),
    ActionSpec("role.fix_trust", "Add one statement letting CloudFormation assume an existing "
               "role (UpdateAssumeRolePolicy), or put its original trust back", "act",
               uses=("recover.aws.iam_roles:role_trust",),
               ops=(("iam", "UpdateAssumeRolePolicy"),)),
    # follow: watch what an act started
    ActionSpec("stack.follow", "Follow the root and nested stacks until a terminal status",
               "follow", uses=(_FOLLOW,)),
    ActionSpec("role.wait_usable", "Wait until the new role is visible to IAM readers (the "
               "blocked operation then retries 'cannot be assumed' with backoff)", "follow",
               uses=("recover.aws.iam_roles:wait_visible",)),
    ActionSpec("s3.verify_object", "Read a restored object back and check its SHA-256", "follow",
               ops=(("s3", "GetObject"),)),
    # record: the local evidence folder
    ActionSpec("evidence.record", "Write the ledger of what was done and what it left behind",
               "record"),
    ActionSpec("orphans.record", "Add the retained resources to the orphan ledger file",
               "record"),
    # flow
    ActionSpec(HANDOVER, "Continue in another runbook", "flow"),
)

ACTIONS: dict[str, ActionSpec] = {a.id: a for a in _ACTIONS}


def get_action(action_id: str) -> ActionSpec | None:
    return ACTIONS.get(action_id)


def known_action_ids() -> list[str]:
    return sorted([*ACTIONS, MANUAL])
