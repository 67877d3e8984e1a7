"""`recover diagnose STACK`: read-only; classify every failure in the stack tree."""

from __future__ import annotations

import shlex
from typing import Any

import click

from recover.cli.common import recover_command
from recover.cli.params import STACK, examples
from recover.run.context import RunContext
from recover.run.exit_codes import ExitCode
from recover.run.result import Result


def with_global_options(commands: list[str], argv: list[str], name: str) -> list[str]:
    """The next commands with the global options this one was given (endpoint, region,
    profile...), so they paste into the same place."""
    if name not in argv:
        return commands
    before = argv[:argv.index(name)]
    if not before:
        return commands
    prefix = " ".join(["recover", *(shlex.quote(a) for a in before)])
    return [prefix + c.removeprefix("recover") for c in commands]


@examples(
    "recover diagnose my-stack",
    "recover --region eu-west-1 diagnose my-stack --all-events",
    "recover --output json diagnose my-stack",
)
@click.command("diagnose")
@click.argument("stack", type=STACK)
@click.option("--all-events", is_flag=True,
              help="Read every event of every stack (default: the failed events of the "
                   "failing operations, by operation id where CloudFormation offers it).")
@recover_command("diagnose")
def command(rc: RunContext, stack: str, all_events: bool) -> Result:
    """Read-only: classify every failure of STACK and its nested stacks, and name the runbook."""
    from recover.aws.snapshot import SnapshotOptions, take_snapshot
    from recover.decide.diagnose import diagnose
    from recover.run.services import open_evidence
    from recover.ui.diagnosis import render_diagnosis

    with open_evidence(rc, "diagnose", stack) as ev:
        rc.progress(f"reading stack {stack} and its nested stacks…")
        snap = take_snapshot(rc.aws, stack, clock=rc.clock, options=SnapshotOptions(
            events="all" if all_events else "operations"))
        ev.write_json("snapshot.json", snap)
        result = diagnose(snap, ledger_entries=_ledger_entries(rc))
        data = result.to_dict(snap)
        data["evidence_dir"] = str(ev.dir)
        if data.get("events_source"):  # which path read the events, also in the metadata
            ev.set(events_source=data["events_source"]["source"],
                   events_fallback_reason=data["events_source"]["fallback_reason"])
        data["next"] = with_global_options(data["next"], rc.options.argv, "diagnose")
        ev.write_json("diagnosis.json", data)
        code = ExitCode.OK if result.healthy else ExitCode.FAILURE_FOUND
        ev.finish("healthy" if result.healthy else "failure_found", int(code))
    return Result(command="diagnose", data=data, exit_code=code, human=render_diagnosis,
                  status="ok" if result.healthy else "partial")


def _ledger_entries(rc: RunContext) -> list[dict[str, Any]]:
    """The local orphan ledger's entries (gather); an unreadable ledger is said, not fatal."""
    from recover.orphans import ledger
    from recover.run.errors import InputError

    try:
        return list(ledger.load(ledger.resolve(None))["orphans"])
    except InputError as exc:  # the diagnosis stands without the ledger
        rc.progress(f"the orphan ledger could not be read ({exc}): open skips not shown")
        return []

