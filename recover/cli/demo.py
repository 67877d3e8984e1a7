"""`recover demo [SCENARIO]`: the whole experience with no AWS account.

Starts the sandbox (moto plus CloudFormation failure states) on 127.0.0.1 in this process,
seeds the scenario, and runs the runbook that fits it against the sandbox: interactively on a
terminal, unattended with --non-interactive --yes (then with the flags an on-call engineer
would pass for that scenario).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import click

from recover.aws.session import SessionFactory
from recover.cli.common import recover_command
from recover.context import RunContext
from recover.errors import RecoverError, UsageError
from recover.result import Result

SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                       "aws_session_token": "testing"}


def sandbox_context(rc: RunContext, endpoint: str, region: str) -> RunContext:
    """The same run context, pointed at the sandbox with its test credentials. Without a
    terminal the demo runs unattended and approves its own confirmations: it only ever
    changes the local sandbox."""
    options = replace(rc.options, endpoint_url=endpoint, region=region, profile=None,
                      yes=rc.options.yes or not rc.interactive)
    return RunContext(options=options, console=rc.console, out=rc.out, stdout=rc.stdout,
                      stdin=rc.stdin, is_tty=rc.is_tty, clock=rc.clock,
                      session_factory_cls=functools.partial(SessionFactory,
                                                            credentials=SANDBOX_CREDENTIALS))


@click.command("demo")
@click.argument("scenario", default="degap")
@click.option("--step-delay", type=click.FloatRange(min=0), default=0.3, show_default=True,
              help="Seconds between the sandbox's CloudFormation steps (watchable progress).")
@recover_command("demo")
def command(rc: RunContext, scenario: str, step_delay: float) -> Result:
    """Run a runbook end to end on a local sandbox scenario (default: degap, the seed incident)."""
    from recover import sandbox

    if not sandbox.moto_available():
        raise RecoverError(sandbox.INSTALL_HINT, code="sandbox_missing")
    names = sandbox.scenario_names()
    if scenario not in names:
        raise UsageError(f"unknown scenario {scenario!r}; choose one of: {', '.join(names)}")
    sb = sandbox.start_sandbox(scenario, step_delay=step_delay)
    try:
        sub = sandbox_context(rc, sb.endpoint, sb.region)
        root = sb.stacks[0]
        rc.progress(f"[bold]sandbox[/] {scenario} on {sb.endpoint} (account {sb.account}, region "
                    f"{sb.region}); stacks: {', '.join(sb.stacks)}")
        if not rc.interactive:
            rc.progress("no terminal to ask on: running unattended with the flags an on-call "
                        "engineer would pass (this changes only the local sandbox)")
        result = _run_scenario(sub, scenario, root)
    finally:
        sb.stop()
    result.command = "demo"
    result.data = {"scenario": scenario, "stack": root, "endpoint": sb.endpoint, **result.data}
    return result


def _run_scenario(rc: RunContext, scenario: str, root: str) -> Result:
    from recover.runbooks import for_scenario
    from recover.runs import open_evidence

    spec = for_scenario(scenario)
    run = spec.load_demo() if spec else None
    if spec is not None and run is not None:
        # unattended, the options an on-call engineer would pass; on a terminal, the prompts
        return run(rc, root, spec.scenarios[scenario] if not rc.interactive else {})
    # Scenarios no runbook recovers (healthy, readiness worlds): diagnose them (read-only).
    from recover.aws.snapshot import SnapshotOptions, take_snapshot
    from recover.decide.diagnose import diagnose

    with open_evidence(rc, "diagnose", root) as ev:
        snap = take_snapshot(rc.aws, root, clock=rc.clock,
                             options=SnapshotOptions(events="last-operation"))
        ev.write_json("snapshot.json", snap)
        diag = diagnose(snap)
        data = diag.to_dict(snap)
        data["evidence_dir"] = str(ev.dir)
    from recover.ui.diagnosis import render_diagnosis

    return Result(command="demo", data=data, human=render_diagnosis)
