"""service-role-deleted: `payments-core` (with a nested `Queues` stack) runs as a hand-made
service role `/deploy/payments-cfn-service-role` (not a CDK role). An update failed, its
rollback hit a transient `Rate exceeded` and stopped in UPDATE_ROLLBACK_FAILED, and then a
clean-up script deleted the role. ContinueUpdateRollback is refused with `Role ... is invalid or
cannot be assumed` until a role of that name AND path exists and trusts CloudFormation.

Ground truth (also in `world.ground_truth`): root `payments-core` UPDATE_ROLLBACK_FAILED,
nested `payments-core-Queues-<12>` inherits the RoleARN; role ARN
arn:aws:iam::<acct>:role/deploy/payments-cfn-service-role (path `/deploy/`), which had the AWS
managed policy PowerUserAccess; once the role is back, continuing the rollback succeeds with no
skip (the throttling is over).
"""

from __future__ import annotations

from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "payments-core"
ROLE = "payments-cfn-service-role"
PATH = "/deploy/"
POLICY = "arn:aws:iam::aws:policy/PowerUserAccess"


def seed(world: World) -> None:
    role_arn = kit.role(world, ROLE, kit.CFN_TRUST, managed=[POLICY], path=PATH)
    admin = world.operator_identity()
    kit.iam_event(world, "CreateRole", role_arn, {"roleName": ROLE, "path": PATH,
                                                  "assumeRolePolicyDocument": "{...}"}, admin)
    kit.iam_event(world, "AttachRolePolicy", role_arn, {"roleName": ROLE, "policyArn": POLICY},
                  admin)
    queues = kit.service_stack_with_throttled_rollback(
        world, ROOT, role_arn, service="payments", queue_id="SettlementQueue", queue_name="payments-settlement",
        description="Payments core service")
    iam = world.client("iam")
    iam.detach_role_policy(RoleName=ROLE, PolicyArn=POLICY)
    iam.delete_role(RoleName=ROLE)
    cleanup = dict(world.operator_identity(), userName="cleanup-bot",
                   arn=f"arn:aws:iam::{world.account}:user/cleanup-bot")
    kit.iam_event(world, "DetachRolePolicy", role_arn, {"roleName": ROLE, "policyArn": POLICY},
                  cleanup)
    kit.iam_event(world, "DeleteRole", role_arn, {"roleName": ROLE}, cleanup)
    world.ground_truth.update({"root": ROOT, "child": queues.name, "role_arn": role_arn,
                               "role_name": ROLE, "role_path": PATH, "policy_arns": [POLICY],
                               "deleted_by": "cleanup-bot"})
