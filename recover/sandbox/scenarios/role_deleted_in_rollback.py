"""role-deleted-in-rollback: `inventory-api` (with a nested `Workers` stack) runs as the CDK
bootstrap execution role of qualifier `inv26`; someone deleted that role while an update was
running, so every resource the rollback reached failed with `Role arn:aws:iam::<acct>:role/
cdk-inv26-cfn-exec-role-<acct>-<region> is invalid or cannot be assumed` and the stack stopped in
UPDATE_ROLLBACK_FAILED.

Ground truth (also in `world.ground_truth`): root `inventory-api` UPDATE_ROLLBACK_FAILED with
`EventsTopic` and `Workers` failed during the rollback; child `inventory-api-Workers-<12>`
UPDATE_ROLLBACK_FAILED with `JobsQueue` failed during the rollback (role message) and
`DeadLetterQueue` failed in the forward update. The only cause of the rollback failures is the
missing role: once a role of that name AND path exists and trusts CloudFormation, continuing the
rollback succeeds with no skip. `build()` makes the same world for any role name and path (tests
use random CDK qualifiers and non-CDK roles under a path).
"""

from __future__ import annotations

from recover.sandbox.cfn.handlers import handler_message
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "inventory-api"
QUALIFIER = "inv26"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def seed(world: World) -> None:
    build(world, root_name=ROOT,
          role_name=f"cdk-{QUALIFIER}-cfn-exec-role-{world.account}-{world.region}",
          path="/", policy=ADMIN_POLICY)


def build(world: World, *, root_name: str, role_name: str, path: str, policy: str,
          nested: bool = True) -> None:
    """A stack whose rollback failed only because its service role `path+role_name` (with the
    managed policy `policy`) was deleted while the update ran."""
    role_arn = kit.role(world, role_name, kit.CFN_TRUST, managed=[policy], path=path)
    admin = world.operator_identity()
    kit.iam_event(world, "CreateRole", role_arn, {"roleName": role_name, "path": path,
                                                  "assumeRolePolicyDocument": "{...}"}, admin)
    kit.iam_event(world, "AttachRolePolicy", role_arn, {"roleName": role_name,
                                                        "policyArn": policy}, admin)
    topic = kit.res("EventsTopic", "AWS::SNS::Topic",
                    f"arn:aws:sns:{world.region}:{world.account}:{root_name}-events",
                    DisplayName="inventory events")
    root_resources = [topic] + ([kit.nested("Workers")] if nested else [])
    root = world.cfn.add_stack(root_name, root_resources, role_arn=role_arn,
                               description="Inventory API")
    changes = {root_name: {"EventsTopic": {"DisplayName": "inventory events v2"}}}
    child_name = ""
    jobs = kit.res("JobsQueue", "AWS::SQS::Queue", f"{root_name}-jobs", VisibilityTimeout=30)
    dlq = kit.res("DeadLetterQueue", "AWS::SQS::Queue", f"{root_name}-dlq",
                  MessageRetentionPeriod=345600)
    forward_reason = handler_message(world, "Sqs", 400, "Invalid value for the parameter "
                                     "MessageRetentionPeriod", "InvalidRequest")
    if nested:
        child = world.cfn.add_stack("", [jobs, dlq], parent=root, logical_id="Workers")
        child_name = child.name
        changes[child_name] = {"JobsQueue": {"VisibilityTimeout": 60},
                               "DeadLetterQueue": {"MessageRetentionPeriod": 9999999}}
        failure = (child_name, "DeadLetterQueue", forward_reason)
    else:
        root.resources["DeadLetterQueue"] = dlq
        dlq.status = "CREATE_COMPLETE"
        changes[root_name]["DeadLetterQueue"] = {"MessageRetentionPeriod": 9999999}
        failure = (root_name, "DeadLetterQueue", forward_reason)
    world.roots.append(root_name)
    world.clock.advance(5 * 86400)
    cleanup = dict(world.operator_identity(), userName="cleanup-bot",
                   arn=f"arn:aws:iam::{world.account}:user/cleanup-bot")

    def delete_role() -> None:
        """While the update runs, a clean-up script deletes the role (detach, then delete)."""
        iam = world.client("iam")
        iam.detach_role_policy(RoleName=role_name, PolicyArn=policy)
        iam.delete_role(RoleName=role_name)
        kit.iam_event(world, "DetachRolePolicy", role_arn,
                      {"roleName": role_name, "policyArn": policy}, cleanup)
        kit.iam_event(world, "DeleteRole", role_arn, {"roleName": role_name}, cleanup)

    world.cfn.fail_update(root, changes=changes, failure=failure, before_rollback=delete_role)
    failed = [f"{child_name}.JobsQueue", "EventsTopic"] if nested else ["EventsTopic"]
    world.ground_truth.update({
        "root": root_name, "child": child_name, "role_arn": role_arn, "role_name": role_name,
        "role_path": path, "policy_arns": [policy], "deleted_by": "cleanup-bot",
        "role_failed": sorted(failed),
        "role_message": f"Role {role_arn} is invalid or cannot be assumed"})
