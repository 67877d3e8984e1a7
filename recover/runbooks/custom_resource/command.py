"""`recover custom-resource STACK`: answer the request a custom resource's handler never
answered."""

from __future__ import annotations

from pathlib import Path

import click

from recover.cli.common import recover_command
from recover.cli.params import STACK, Seconds, examples
from recover.orphans.ledger import ENV_VAR
from recover.run.context import RunContext
from recover.run.result import Result


@examples(
    "recover custom-resource my-stack --dry-run",
    "recover --non-interactive --yes custom-resource my-stack --respond SUCCESS",
    "recover custom-resource my-stack --logical-id DnsRecord --respond FAILED "
    "--reason 'handler crashed; see INC-123'",
)
@click.command("custom-resource")
@click.argument("stack", type=STACK)
@click.option("--respond", type=click.Choice(["SUCCESS", "FAILED"]), default=None,
              help="The answer to send. Proposed: FAILED for a Create/Update of a forward "
                   "operation, SUCCESS for an Update during a rollback or a Delete. Required "
                   "unattended.")
@click.option("--reason", default=None, help="The response's Reason (shown in the stack's "
                                            "events; default: says recover answered by hand).")
@click.option("--logical-id", default=None, metavar="ID|CHILD-STACK.ID",
              help="The custom resource to answer when several wait.")
@click.option("--log-group", default=None,
              help="The handler's log group (default: the ServiceToken function's).")
@click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Orphan ledger for an answered Delete (default: ${ENV_VAR}, else "
                   "~/.recover/orphans.json).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Follow the stack until it ends.")
@click.option("--timeout", type=Seconds(min=1), default=3600, show_default=True,
              help="Seconds to follow the stack before giving up watching.")
@click.option("--poll-interval", type=Seconds(min=0, min_open=True), default=3.0,
              show_default=True, help="Seconds between polls while following.")
@recover_command("custom-resource")
def command(rc: RunContext, stack: str, respond: str | None, reason: str | None,
            logical_id: str | None, log_group: str | None, ledger: Path | None, wait: bool,
            timeout: float, poll_interval: float) -> Result:
    """Answer a custom resource request its handler never answered, then follow STACK."""
    from recover.runbooks.custom_resource.flow import CustomOptions, run

    return run(rc, stack, CustomOptions(respond=respond, reason=reason, logical_id=logical_id,
                                        log_group=log_group, ledger=ledger, wait=wait,
                                        timeout=timeout, poll_interval=poll_interval))
