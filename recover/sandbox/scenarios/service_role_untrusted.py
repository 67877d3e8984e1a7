"""service-role-untrusted: `orders-core` (with a nested `Queues` stack) runs as a hand-made
service role `/deploy/orders-cfn-service-role` that still exists, but a hardening script
rewrote its trust policy. An update failed, its rollback hit a transient `Rate exceeded` and
stopped in UPDATE_ROLLBACK_FAILED, and ContinueUpdateRollback is refused with `Role ... is
invalid or cannot be assumed` while the trust does not let CloudFormation in.

Ground truth (also in `world.ground_truth`): root `orders-core` UPDATE_ROLLBACK_FAILED, nested
`orders-core-Queues-<12>` inherits the RoleARN; role ARN
arn:aws:iam::<acct>:role/deploy/orders-cfn-service-role (PowerUserAccess attached, never
deleted). Its trust now has two statements: codebuild.amazonaws.com may assume it, and
cloudformation.amazonaws.com only under `StringEquals aws:SourceAccount 210987654321` (another
account, pasted from elsewhere), which CloudFormation in this account never satisfies. Adding
one statement that allows cloudformation.amazonaws.com fixes it; once it does, continuing the
rollback succeeds with no skip.
"""

from __future__ import annotations

import json

from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "orders-core"
ROLE = "orders-cfn-service-role"
PATH = "/deploy/"
POLICY = "arn:aws:iam::aws:policy/PowerUserAccess"
OTHER_ACCOUNT = "210987654321"
NARROWED_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Build", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
     "Action": "sts:AssumeRole"},
    {"Sid": "Deploy", "Effect": "Allow",
     "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole",
     "Condition": {"StringEquals": {"aws:SourceAccount": OTHER_ACCOUNT}}}]}


def seed(world: World) -> None:
    role_arn = kit.role(world, ROLE, kit.CFN_TRUST, managed=[POLICY], path=PATH)
    admin = world.operator_identity()
    kit.iam_event(world, "CreateRole", role_arn, {"roleName": ROLE, "path": PATH,
                                                  "assumeRolePolicyDocument": "{...}"}, admin)
    queues = kit.service_stack_with_throttled_rollback(
        world, ROOT, role_arn, service="orders", queue_id="FulfilmentQueue", queue_name="orders-fulfilment",
        description="Orders core service")
    world.client("iam").update_assume_role_policy(RoleName=ROLE,
                                                  PolicyDocument=json.dumps(NARROWED_TRUST))
    bot = dict(world.operator_identity(), userName="hardening-bot",
               arn=f"arn:aws:iam::{world.account}:user/hardening-bot")
    kit.iam_event(world, "UpdateAssumeRolePolicy", role_arn,
                  {"roleName": ROLE, "policyDocument": json.dumps(NARROWED_TRUST)}, bot)
    world.ground_truth.update({"root": ROOT, "child": queues.name, "role_arn": role_arn,
                               "role_name": ROLE, "role_path": PATH, "policy_arns": [POLICY],
                               "trust": NARROWED_TRUST, "changed_by": "hardening-bot"})
