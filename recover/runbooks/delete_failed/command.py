"""`recover delete-failed STACK`: finish deleting a DELETE_FAILED stack, retaining what cannot
be deleted and recording it in the orphan ledger."""

from __future__ import annotations

from pathlib import Path

import click

from recover.cli.common import recover_command
from recover.cli.params import RESOURCE_ID, STACK, examples, follow_options
from recover.orphans.ledger import ENV_VAR
from recover.run.context import RunContext
from recover.run.result import Result


@examples(
    "recover delete-failed my-stack --dry-run",
    "recover delete-failed my-stack --retain-all-failed",
    "recover delete-failed my-stack --empty-bucket my-logs-bucket",
)
@click.command("delete-failed")
@click.argument("stack", type=STACK)
@click.option("--retain", "retain", multiple=True, type=RESOURCE_ID, metavar="ID",
              help="Retain this resource: LogicalId (root) or <child-stack-name>.<LogicalId>. "
                   "Repeatable.")
@click.option("--retain-all-failed", is_flag=True,
              help="Retain every resource that failed to delete and that no other flag decides.")
@click.option("--retry", "retry", multiple=True, type=RESOURCE_ID, metavar="ID",
              help="You fixed this resource's blocker: delete it again instead of retaining it "
                   "(first round; if it fails again it is decided anew). Repeatable.")
@click.option("--empty-bucket", "empty_buckets", multiple=True, metavar="NAME",
              help="Delete every object version and delete marker of this bucket, then let the "
                   "stack delete it (stands for typing its name; --yes never implies it). "
                   "Repeatable, one bucket each.")
@click.option("--role-arn", help="Service role for DeleteStack (RoleARN).")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Orphan ledger file (default: ${ENV_VAR}, else "
                   "<user data dir>/recover/orphans.json).")
@follow_options("each delete", rounds="the delete")
@recover_command("delete-failed")
def command(rc: RunContext, stack: str, retain: tuple[str, ...], retry: tuple[str, ...],
            retain_all_failed: bool,
            empty_buckets: tuple[str, ...], role_arn: str | None, ledger: Path | None,
            wait: bool, timeout: float, max_rounds: int, poll_interval: float,
            plan_out: Path | None) -> Result:
    """Finish deleting STACK from DELETE_FAILED (root and nested stacks)."""
    from recover.runbooks.delete_failed.flow import DeleteOptions, run

    return run(rc, stack, DeleteOptions(
        retain=list(retain), retry=list(retry), retain_all_failed=retain_all_failed,
        empty_buckets=list(empty_buckets), role_arn=role_arn, ledger=ledger, wait=wait,
        timeout=timeout, max_rounds=max_rounds, poll_interval=poll_interval, plan_out=plan_out))
