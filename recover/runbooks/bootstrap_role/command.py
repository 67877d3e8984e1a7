"""`recover bootstrap-role STACK`: recreate a deleted stack service role (the CDK cfn-exec-role
or any other) and finish the operation it blocked."""

from __future__ import annotations

from pathlib import Path

import click

from recover.cli.common import recover_command
from recover.cli.params import STACK, Seconds, examples, follow_options, rollback_options
from recover.decide.role_plan import THEN_CHOICES
from recover.run.context import RunContext
from recover.run.result import Result


@examples(
    "recover bootstrap-role my-stack --dry-run",
    "recover bootstrap-role my-stack --then continue-rollback --keep-role",
    "recover --non-interactive --yes bootstrap-role my-stack --then delete --remove-role-after",
)
@click.command("bootstrap-role")
@click.argument("stack", type=STACK)
@click.option("--qualifier", metavar="Q",
              help="CDK bootstrap qualifier the role must have (default: read from the role "
                   "name; hnb659fds is the CDK's default).")
@click.option("--policy-arn", "policy_arns", multiple=True, metavar="ARN",
              help="Managed policy for the new role. Repeatable. Default for a CDK role: "
                   "AdministratorAccess (as the bootstrap template); required for other roles.")
@click.option("--permissions-boundary", metavar="ARN|NAME",
              help="Permissions boundary for the new role, if the account requires one.")
@click.option("--then", "then", type=click.Choice(THEN_CHOICES),
              help="What to do once the role exists: delete the stack, continue its rollback "
                   "(rollback-stuck), or nothing (default: ask).")
@click.option("--remove-role-after/--keep-role", "remove_role_after", default=None,
              help="Delete the temporary role when done (only a role recover created), or keep "
                   "it (default: ask).")
@click.option("--fix-trust", "fix_trust", is_flag=True, default=False,
              help="When the role exists but CloudFormation cannot assume it: add one statement "
                   "allowing cloudformation.amazonaws.com to its trust policy, keeping every "
                   "other (default: ask for the role name to be typed; unattended, exit 4).")
@click.option("--restore-trust-after/--keep-trust", "restore_trust_after", default=None,
              help="With --fix-trust: put the original trust policy back once the operation "
                   "succeeded (only if nobody changed it since), or keep the fixed one "
                   "(default: ask). A role recover did not create is never deleted.")
@rollback_options("With --then continue-rollback, passed to rollback-stuck: ")
@click.option("--retry-delay", type=Seconds(min=0), default=2.0, show_default=True,
              help="First wait when CloudFormation cannot assume the new role yet (doubles, "
                   "capped at 20 s).")
@click.option("--retry-attempts", type=click.IntRange(1, 20), default=8, show_default=True,
              help="Attempts in all for the blocked operation while IAM propagates the role.")
@follow_options("the operation")
@recover_command("bootstrap-role")
def command(rc: RunContext, stack: str, qualifier: str | None, policy_arns: tuple[str, ...],
            permissions_boundary: str | None, then: str | None, remove_role_after: bool | None,
            fix_trust: bool, restore_trust_after: bool | None,
            skip: tuple[str, ...], skip_unrecoverable: bool, restore_artifacts: bool | None,
            artifact_sources: tuple[str, ...], accept_substitute: bool, accept_unverified: bool,
            trail: str | None, wait: bool, timeout: float, poll_interval: float, retry_delay: float,
            retry_attempts: int, plan_out: Path | None) -> Result:
    """Recreate STACK's deleted service role (e.g. the CDK cfn-exec-role) and finish the
    operation it blocked."""
    from recover.act.retry import Backoff
    from recover.runbooks.bootstrap_role.flow import BootstrapRoleOptions, run

    return run(rc, stack, BootstrapRoleOptions(
        qualifier=qualifier, policy_arns=list(policy_arns),
        permissions_boundary=permissions_boundary, then=then,
        remove_role_after=remove_role_after, fix_trust=fix_trust,
        restore_trust_after=restore_trust_after, wait=wait, timeout=timeout,
        poll_interval=poll_interval,
        retry=Backoff(first=retry_delay, max_attempts=retry_attempts), plan_out=plan_out,
        skip=list(skip), skip_unrecoverable=skip_unrecoverable,
        restore_artifacts=restore_artifacts, artifact_sources=list(artifact_sources),
        accept_substitute=accept_substitute, accept_unverified=accept_unverified, trail=trail))
