"""bootstrap-role: recreate a deleted stack service role (often the CDK cfn-exec-role), or let
CloudFormation back into one that exists but cannot be assumed, and finish the operation it
blocked."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import PASS_ROLE, ActionSpec, RunbookSpec


def chosen_when(statuses: Collection[str], findings: Sequence[Any]) -> str | None:
    # A fixed cause (Finding.remedied) needs no runbook.
    open_ = [f for f in findings if f.failure_mode == "execution_role_missing"
             and not f.remedied]
    if open_ and all((f.extracted or {}).get("role_state") == "untrusting" for f in open_):
        return ("the stack's service role exists but CloudFormation cannot assume it: every "
                "operation fails until its trust policy allows cloudformation.amazonaws.com "
                "(--fix-trust)")
    if open_:
        return "the stack's service role is missing: every operation fails until it exists"
    return None


SPEC = RunbookSpec(
    id="bootstrap-role",
    aliases=("execution-role-missing",),
    help="Recreate STACK's deleted service role (e.g. the CDK cfn-exec-role) and finish the "
         "operation it blocked.",
    failure_modes=("execution_role_missing",),
    operations=frozenset({
        ("iam", "CreateRole"), ("iam", "AttachRolePolicy"), ("cloudformation", "DeleteStack"),
        ("iam", "DetachRolePolicy"), ("iam", "DeleteRolePolicy"), ("iam", "DeleteRole"),
        ("iam", "UpdateAssumeRolePolicy")}),
    builders=("recover/runbooks/bootstrap_role/calls.py",),
    command="recover.runbooks.bootstrap_role.command:command",
    applier="recover.runbooks.bootstrap_role.apply:apply_plan",
    plan_settings="recover.runbooks.bootstrap_role.apply:PLAN_SETTINGS",
    chosen_when="recover.runbooks.bootstrap_role:chosen_when",
    scenarios={
        "cdk-bootstrap-deleted": {"then": "delete", "remove_role_after": True},
        "service-role-deleted": {"then": "continue-rollback", "remove_role_after": False,
                                 "policy_arns": ["arn:aws:iam::aws:policy/PowerUserAccess"]},
        "role-deleted-in-rollback": {"then": "continue-rollback", "remove_role_after": True},
        "service-role-untrusted": {"then": "continue-rollback", "fix_trust": True,
                                   "restore_trust_after": True}},
    demo="recover.runbooks.bootstrap_role.flow:demo",
    hands_over_to=("rollback-stuck",),
    next_commands=("recover bootstrap-role {stack} --dry-run", "recover bootstrap-role {stack}"),
    actions=(
        ActionSpec("trail.lookup_role_history", "Find the service role's CreateRole, policy and "
                   "DeleteRole records in CloudTrail", "gather",
                   uses=("recover.aws.role_history:lookup_role_history",)),
        ActionSpec("role.plan_recreate", "Choose name, path, trust and policies of the role to "
                   "recreate", "decide"),
        ActionSpec("stack.delete", "DeleteStack (the stack and the resources it does not retain)",
                   "act", ops=(("cloudformation", "DeleteStack"),), extra=PASS_ROLE),
        # a CreateRole with Tags needs iam:TagRole as well
        ActionSpec("role.recreate", "Create the service role again with its trust and policies",
                   "act", ops=(("iam", "CreateRole"), ("iam", "AttachRolePolicy")),
                   # a retry that meets the role: is it this run's? (GetRole)
                   uses=("recover.act.lost_answers:created_role",),
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
        ActionSpec("role.wait_usable", "Wait until the new role is visible to IAM readers (the "
                   "blocked operation then retries 'cannot be assumed' with backoff)", "follow",
                   uses=("recover.aws.iam_roles:wait_visible",)),
    ),
)
