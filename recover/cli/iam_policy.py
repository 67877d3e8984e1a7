"""`recover iam-policy [RUNBOOK_ID ...]`: the least-privilege IAM policy an on-call role needs
for the chosen runbooks (default: all), derived from the runbooks' declared permissions."""

from __future__ import annotations

import click
from rich.console import Console

from recover.cli.common import recover_command
from recover.context import RunContext
from recover.result import Result, dumps
from recover.runbooks.document.catalog import load_catalog
from recover.runbooks.document.iam import permissions_of, policy_document


@click.command("iam-policy")
@click.argument("runbook_ids", nargs=-1, metavar="[RUNBOOK_ID]...")
@click.option("--no-handovers", is_flag=True,
              help="Only the named runbooks, not the runbooks they may continue in.")
@recover_command("iam-policy")
def command(rc: RunContext, runbook_ids: tuple[str, ...], no_handovers: bool) -> Result:
    """Print the IAM policy JSON for the chosen runbooks (default: all of them)."""
    catalog = load_catalog()
    requested = list(dict.fromkeys(runbook_ids)) or catalog.ids()
    runbooks = ([catalog.get(rid) for rid in requested] if no_handovers
                else catalog.with_handovers(requested))
    policy = policy_document(runbooks)
    data = {"requested": requested, "runbooks": [r.id for r in runbooks],
            "permissions": permissions_of(runbooks), "policy": policy}

    def human(console: Console, result: Result) -> None:
        # Plain JSON on stdout, so `recover iam-policy > policy.json` gives a usable file.
        console.out(dumps(policy), highlight=False)
        rc.console.print(f"covers runbooks: {', '.join(data['runbooks'])}", style="dim")

    return Result(command="iam-policy", data=data, human=human)
