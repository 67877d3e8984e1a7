"""`recover reconcile STACK`: the resources a rollback skipped, back in line with the template."""

from __future__ import annotations

from pathlib import Path

import click

from recover.cli.common import recover_command
from recover.cli.params import STACK, examples, follow_options
from recover.orphans.ledger import ENV_VAR
from recover.run.context import RunContext
from recover.run.result import Result


@examples(
    "recover reconcile my-stack --dry-run",
    "recover reconcile my-stack --execute",
    "recover reconcile my-stack --resource MyQueue --resource my-stack-Data-1A2B.Table --no-execute",
)
@click.command("reconcile")
@click.argument("stack", type=STACK)
@click.option("--resource", "resources", multiple=True, metavar="ID",
              help="A resource skipped outside recover (console, CLI, cdk rollback --force), "
                   "as in ResourcesToSkip: LogicalId or CHILD-STACK-NAME.LogicalId. Repeatable.")
@click.option("--execute/--no-execute", "execute", default=None,
              help="Execute the REVERT_DRIFT change set (--execute) or only create it for "
                   "review (--no-execute). Unattended, one of them is required.")
@click.option("--revert-all-drift", is_flag=True,
              help="With --execute: also revert drift on resources no skip names (the change "
                   "set covers the whole stack); without it such a change set is left for "
                   "review (exit 4).")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Orphan ledger file (default: ${ENV_VAR}, else "
                   "<user data dir>/recover/orphans.json).")
@follow_options("the change set's execution")
@recover_command("reconcile")
def command(rc: RunContext, stack: str, resources: tuple[str, ...], execute: bool | None,
            revert_all_drift: bool, ledger: Path | None, wait: bool, timeout: float, poll_interval: float,
            plan_out: Path | None) -> Result:
    """Reconcile the resources a rollback skipped with STACK's template (drift detection, then
    a REVERT_DRIFT change set)."""
    from recover.runbooks.reconcile.flow import ReconcileOptions, run

    return run(rc, stack, ReconcileOptions(resources=list(resources), execute=execute,
                                           revert_all_drift=revert_all_drift, ledger=ledger, wait=wait, timeout=timeout,
                                           poll_interval=poll_interval, plan_out=plan_out))
