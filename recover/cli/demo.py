"""`recover demo [SCENARIO]`: the whole experience with no AWS account.

Starts the sandbox (moto plus CloudFormation failure states) on 127.0.0.1 in this process,
seeds the scenario, and runs the runbook that fits it against the sandbox: interactively on a
terminal, unattended with --non-interactive --yes (then with the flags an on-call engineer
would pass for that scenario).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click
from rich.console import Console

from recover.cli.common import recover_command
from recover.cli.params import examples
from recover.run.context import RunContext
from recover.run.errors import RecoverError, UsageError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result

SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                       "aws_session_token": "testing"}


def sandbox_context(rc: RunContext, endpoint: str, region: str) -> RunContext:
    """The same run context, pointed at the sandbox with its test credentials. Without a
    terminal the demo runs unattended and approves its own confirmations: it only ever
    changes the local sandbox."""
    from recover.aws.session import SessionFactory

    options = replace(rc.options, endpoint_url=endpoint, region=region, profile=None,
                      yes=rc.options.yes or not rc.interactive)
    return RunContext(options=options, console=rc.console, out=rc.out, stdout=rc.stdout,
                      stdin=rc.stdin, is_tty=rc.is_tty, clock=rc.clock,
                      session_factory_cls=functools.partial(SessionFactory,
                                                            credentials=SANDBOX_CREDENTIALS))


@examples(
    "recover demo",
    "recover demo nested-skip",
    "recover --non-interactive demo delete-failed",
)
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
    from recover.run.services import open_evidence
    from recover.runbooks import for_scenario

    spec = for_scenario(scenario)
    run = spec.load_demo() if spec else None
    if spec is not None and run is not None:
        # unattended, the options an on-call engineer would pass; on a terminal, the prompts
        return run(rc, root, spec.scenarios[scenario] if not rc.interactive else {})
    # Other scenarios: diagnose them (read-only); a stack with no failure yet is what
    # `readiness` is for (degap-before, ecr-expired: the incident still to come), so then the
    # demo also runs readiness and shows what it finds.
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

    if diag.findings:
        return Result(command="demo", data=data, human=render_diagnosis)
    rc.progress(f"no failure in {root}: checking whether it could still roll back "
                f"(recover readiness {root})…")
    return _readiness(rc, root, data, render_diagnosis)


def _readiness(rc: RunContext, root: str, diagnosis: dict[str, Any],
               render_diagnosis: Callable[[Console, Result], None]) -> Result:
    """`recover readiness ROOT` on the sandbox: exit 3 when a rollback would fail, as there."""
    from recover.readiness.decide import Options
    from recover.readiness.render import render_result
    from recover.readiness.run import check_stack
    from recover.run.services import open_evidence

    with open_evidence(rc, "readiness", root) as ev:
        report = check_stack(rc.aws, root, clock=rc.clock, options=Options()).to_dict()
        report["evidence_dir"] = str(ev.dir)
        ev.write_json("readiness.json", report)
        code = ExitCode.OK if report["ready"] else ExitCode.FAILURE_FOUND
        ev.finish("ready" if report["ready"] else "not_ready", int(code))

    def human(console: Console, result: Result) -> None:
        render_diagnosis(console, replace(result, data=result.data["diagnosis"]))
        console.print()
        render_result(console, replace(result, data=result.data["readiness"]))

    return Result(command="demo", data={"diagnosis": diagnosis, "readiness": report},
                  exit_code=code, status="ok" if report["ready"] else "partial", human=human)
