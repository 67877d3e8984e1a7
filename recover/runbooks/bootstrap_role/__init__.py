"""bootstrap-role: recreate a deleted stack service role (often the CDK cfn-exec-role), or let
CloudFormation back into one that exists but cannot be assumed, and finish the operation it
blocked."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import RunbookSpec


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
)
