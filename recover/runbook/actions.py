"""The engine actions a runbook step may name, with the metadata the catalog checks.

This module is metadata only: which actions exist, whether they change AWS, and the IAM
actions they need. The implementations arrive with the runbooks' own issues; until then a
step's `cli` field is the way to perform it by hand. The loader rejects a step whose action
is unknown, whose `mutates` flag disagrees with the action, or whose declared permissions do
not cover the action's (cloud-custodian's declared-permissions lesson, EXAMPLES §3).

Permissions are IAM action names, not API operation names: S3 ListObjectVersions needs
`s3:ListBucketVersions`, a GetObject with a VersionId needs `s3:GetObjectVersion`.
"""

from __future__ import annotations

from dataclasses import dataclass

# A step a person performs; the engine shows it and waits for the operator.
MANUAL = "manual"
# A step that continues in another runbook (`handover` maps stack status → runbook id).
HANDOVER = "runbook.handover"


@dataclass(frozen=True)
class ActionSpec:
    id: str
    title: str
    mutating: bool
    permissions: tuple[str, ...] = ()
    # False for pure decisions and local bookkeeping: no AWS call at all.
    calls_aws: bool = True


_CFN_READ = ("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
             "cloudformation:ListStackResources")

_ACTIONS: tuple[ActionSpec, ...] = (
    # gather
    ActionSpec("stack.describe", "Read one stack (status, RoleARN, ParentId/RootId)", False,
               ("cloudformation:DescribeStacks",)),
    ActionSpec("stack.snapshot", "Read the stack tree: stacks, events and resources", False,
               _CFN_READ),
    ActionSpec("role.check", "Check that the stack's service role exists and trusts "
               "CloudFormation", False, ("iam:GetRole",)),
    ActionSpec("trail.lookup_artifact_failures", "Find Lambda code fetches that failed with "
               "NoSuchKey in CloudTrail", False, ("cloudtrail:LookupEvents",)),
    ActionSpec("trail.lookup_role_history", "Find the service role's CreateRole, policy and "
               "DeleteRole records in CloudTrail", False, ("cloudtrail:LookupEvents",)),
    ActionSpec("s3.list_versions", "List the versions and delete markers of an S3 key", False,
               ("s3:ListBucketVersions",)),
    ActionSpec("lambda.find_deployed_code", "Read the code a Lambda function and its published "
               "versions still run", False, ("lambda:GetFunction", "lambda:ListVersionsByFunction")),
    ActionSpec("orphans.capture", "Capture template snippet, ARN and tags of resources to "
               "retain", False, ("cloudformation:GetTemplate",
                                 "cloudformation:DescribeStackResources", "tag:GetResources")),
    ActionSpec("s3.verify_object", "Read a restored object back and check its SHA-256", False,
               ("s3:GetObject",)),
    # decide (pure functions of the snapshot; no AWS call)
    ActionSpec("rollback.classify_failures", "Split failed resources into rollback failures "
               "and forward-update failures", False, calls_aws=False),
    ActionSpec("rollback.plan_skips", "Compute the minimal valid ResourcesToSkip", False,
               calls_aws=False),
    ActionSpec("artifacts.find_wanted", "Work out the bucket, key and version each function "
               "wants", False, calls_aws=False),
    ActionSpec("artifacts.choose_source", "Pick the bytes to restore and check them against "
               "the expected CodeSha256", False, calls_aws=False),
    ActionSpec("delete.plan_retains", "Decide, per failed resource, fix or retain", False,
               calls_aws=False),
    ActionSpec("role.plan_recreate", "Choose name, path, trust and policies of the role to "
               "recreate", False, calls_aws=False),
    # act
    ActionSpec("stack.continue_update_rollback", "ContinueUpdateRollback on the root stack",
               True, ("cloudformation:ContinueUpdateRollback", "iam:PassRole")),
    ActionSpec("stack.delete_retaining", "DeleteStack with RetainResources", True,
               ("cloudformation:DeleteStack", "iam:PassRole")),
    ActionSpec("s3.restore_object", "Write the artifact to its exact key, never overwriting",
               True, ("s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt",
                      "kms:GenerateDataKey")),
    ActionSpec("role.recreate", "Create the service role again with its trust and policies",
               True, ("iam:CreateRole", "iam:TagRole", "iam:AttachRolePolicy")),
    ActionSpec("role.remove", "Detach the policies of the temporary role and delete it", True,
               ("iam:ListAttachedRolePolicies", "iam:DetachRolePolicy", "iam:ListRolePolicies",
                "iam:DeleteRolePolicy", "iam:DeleteRole")),
    # follow
    ActionSpec("stack.follow", "Follow the root and nested stacks until a terminal status",
               False, ("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents")),
    ActionSpec("role.wait_usable", "Wait until the new role is visible to IAM readers", False,
               ("iam:GetRole",)),
    # record (local evidence folder) and flow
    ActionSpec("evidence.record", "Write the ledger of what was done and what it left behind",
               False, calls_aws=False),
    ActionSpec(HANDOVER, "Continue in another runbook", False, calls_aws=False),
)

ACTIONS: dict[str, ActionSpec] = {a.id: a for a in _ACTIONS}


def get_action(action_id: str) -> ActionSpec | None:
    return ACTIONS.get(action_id)


def known_action_ids() -> list[str]:
    return sorted([*ACTIONS, MANUAL])
