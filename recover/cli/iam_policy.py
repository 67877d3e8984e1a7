"""`recover iam-policy [RUNBOOK_ID ...]`: the least-privilege IAM policy an on-call role needs
for the chosen runbooks (default: all), derived from the runbooks' declared permissions."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from recover.cli.common import recover_command
from recover.run.context import RunContext
from recover.run.errors import UsageError
from recover.run.result import Result, dumps
from recover.runbooks import canonical
from recover.runbooks.document.iam import (
    DEFAULT_TRAILS,
    TRAIL_SOURCES,
    permissions_of,
    policy_document,
)


@click.command("iam-policy")
@click.argument("runbook_ids", nargs=-1, metavar="[RUNBOOK_ID]...")
@click.option("--no-handovers", is_flag=True,
              help="Only the named runbooks, not the runbooks they may continue in.")
@click.option("--trail", "trails", multiple=True, type=click.Choice([*TRAIL_SOURCES, "all"]),
              help="CloudTrail sources the role will read with --trail (default: lookup). "
                   "Repeatable.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Only what running this saved plan (`recover apply`) needs, on the "
                   "resources it names.")
@recover_command("iam-policy")
def command(rc: RunContext, runbook_ids: tuple[str, ...], no_handovers: bool,
            trails: tuple[str, ...], plan_file: Path | None) -> Result:
    """Print the IAM policy JSON for the chosen runbooks (default: all of them).

    \b
    Examples:
      recover iam-policy > recover-oncall.json
      recover iam-policy rollback-stuck --trail athena
      recover iam-policy --plan plan.json      # just what `recover apply plan.json` needs
    """
    from recover.act.plan import Plan
    from recover.runbooks.document.catalog import load_catalog
    from recover.runbooks.plan_check import check_plan
    from recover.runbooks.plan_policy import plan_policy

    if plan_file is not None:
        if runbook_ids or trails or no_handovers:
            raise UsageError("--plan gives the policy of one plan: name no runbook, --trail "
                             "or --no-handovers with it")
        plan = Plan.load(plan_file)
        check_plan(plan)
        policy = plan_policy(plan)
        data = {"plan": str(plan_file), "runbooks": [plan.runbook], "policy": policy,
                "permissions": sorted({a for st in policy["Statement"] for a in st["Action"]})}
    else:
        catalog = load_catalog()
        requested = [canonical(r) for r in dict.fromkeys(runbook_ids)] or catalog.ids()
        runbooks = ([catalog.get(rid) for rid in requested] if no_handovers
                    else catalog.with_handovers(requested))
        kinds = list(TRAIL_SOURCES) if "all" in trails else list(dict.fromkeys(trails)) or \
            list(DEFAULT_TRAILS)
        policy = policy_document(runbooks, kinds)
        data = {"requested": requested, "runbooks": [r.id for r in runbooks], "trails": kinds,
                "permissions": permissions_of(runbooks, kinds, diagnose=True), "policy": policy}

    def human(console: Console, result: Result) -> None:
        # Plain JSON on stdout, so `recover iam-policy > policy.json` gives a usable file.
        console.out(dumps(policy), highlight=False)
        rc.console.print(f"covers runbooks: {', '.join(data['runbooks'])}", style="dim")

    return Result(command="iam-policy", data=data, human=human)
