"""`recover rollback-stuck STACK`: continue an UPDATE_ROLLBACK_FAILED rollback to the end."""

from __future__ import annotations

from pathlib import Path

import click

from recover.cli.common import recover_command
from recover.cli.params import STACK, examples, follow_options, rollback_options
from recover.run.context import RunContext
from recover.run.result import Result


@examples(
    "recover rollback-stuck my-stack --dry-run",
    "recover rollback-stuck my-stack --restore-artifacts",
    "recover --non-interactive --yes rollback-stuck my-stack --skip-unrecoverable",
)
@click.command("rollback-stuck")
@click.argument("stack", type=STACK)
@rollback_options()
@click.option("--role-arn", help="Service role for ContinueUpdateRollback (RoleARN).")
@follow_options("the rollback", rounds="the rollback")
@recover_command("rollback-stuck")
def command(rc: RunContext, stack: str, skip: tuple[str, ...], skip_unrecoverable: bool,
            restore_artifacts: bool | None, artifact_sources: tuple[str, ...],
            accept_substitute: bool, accept_unverified: bool, trail: str | None,
            role_arn: str | None, wait: bool, timeout: float, max_rounds: int, poll_interval: float, plan_out: Path | None) -> Result:
    """Continue the rollback of STACK (root or nested) from UPDATE_ROLLBACK_FAILED to the end."""
    from recover.runbooks.rollback_stuck.flow import RollbackOptions, run

    return run(rc, stack, RollbackOptions(
        skip=list(skip), skip_unrecoverable=skip_unrecoverable,
        restore_artifacts=restore_artifacts, artifact_sources=list(artifact_sources),
        accept_substitute=accept_substitute, accept_unverified=accept_unverified, trail=trail,
        role_arn=role_arn, wait=wait, timeout=timeout, max_rounds=max_rounds, poll_interval=poll_interval, plan_out=plan_out))
