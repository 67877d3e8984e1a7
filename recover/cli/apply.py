"""`recover apply PLAN.json`: run a plan saved with --dry-run --plan-out, if the stack has not
moved since (else exit 6, PRECONDITION_CHANGED)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from recover.cli.common import recover_command
from recover.cli.params import examples
from recover.run.context import RunContext
from recover.run.errors import InputError
from recover.run.result import Result

if TYPE_CHECKING:
    from recover.act.plan import Plan
from recover.runbooks import canonical, registry


def appliers() -> dict[str, Callable[[RunContext, Plan], Result]]:
    """runbook id -> its plan applier, for every runbook that saves plans (the registry)."""
    return {spec.id: applier for spec in registry()
            if (applier := spec.load_applier()) is not None}


@examples(
    "recover --dry-run rollback-stuck my-stack --plan-out plan.json",
    "recover apply plan.json",
    "recover --non-interactive --yes apply plan.json",
)
@click.command("apply")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--empty-bucket", "empty_buckets", multiple=True, metavar="NAME",
              help="Confirm emptying this bucket when the plan does (stands for typing its "
                   "name; --yes never implies it). Repeatable.")
@click.option("--accept-unverified", is_flag=True,
              help="Allow the plan's uploads of bytes no recorded CodeSha256 proves to be the "
                   "old code (the plan records which; --yes never implies it).")
@click.option("--accept-substitute", is_flag=True,
              help="Allow the plan's uploads of bytes whose SHA-256 differs from the expected "
                   "CodeSha256.")
@recover_command("apply")
def command(rc: RunContext, plan_file: Path, empty_buckets: tuple[str, ...],
            accept_unverified: bool, accept_substitute: bool) -> Result:
    """Run PLAN_FILE (from `--dry-run --plan-out`) after checking the stack has not moved."""
    from recover.act.plan import Plan, short
    from recover.runbooks.plan_check import check_plan

    plan = Plan.load(plan_file)
    known = appliers()
    plan.runbook = canonical(plan.runbook)  # a plan saved under a runbook's earlier id
    if plan.runbook not in known:
        raise InputError(f"plan {plan_file} is for runbook {short(plan.runbook)}, which apply does not "
                         f"know (known: {', '.join(sorted(known))})")
    check_plan(plan)  # before anything is read from AWS: a bad plan sends nothing
    plan.settings["apply_empty_buckets"] = list(empty_buckets)
    plan.settings["apply_accept"] = {"unverified": accept_unverified,
                                     "substitute": accept_substitute}
    return known[plan.runbook](rc, plan)
