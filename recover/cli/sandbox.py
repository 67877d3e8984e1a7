"""`recover sandbox serve|scenarios`: a broken AWS account on 127.0.0.1 (docs/reference/sandbox.md).

serve prints the endpoint and the environment to export (human), or ONE JSON envelope line
(--output json) as soon as the world is seeded, then serves until Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from rich.console import Console

from recover.cli.common import pass_run_context, recover_command
from recover.cli.params import examples
from recover.run.context import RunContext
from recover.run.errors import RecoverError, UsageError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result, dumps, render
from recover.sandbox import INSTALL_HINT, moto_available


@examples(
    "recover sandbox scenarios",
    "recover sandbox serve --scenario degap --port 4566",
)
@click.group("sandbox")
def command() -> None:
    """A broken AWS account on 127.0.0.1 (moto plus CloudFormation failure states)."""


@command.command("scenarios")
@recover_command("sandbox scenarios")
def scenarios(rc: RunContext) -> Result:
    """List the named scenarios and what each one breaks."""
    _require_moto()
    from recover.sandbox.scenarios import SCENARIOS, describe

    items = [{"name": name, "description": describe(name)} for name in sorted(SCENARIOS)]

    def human(console: Console, result: Result) -> None:
        for item in result.data["scenarios"]:
            console.print(f"[bold]{item['name']}[/]  {item['description']}", highlight=False)

    return Result(command="sandbox scenarios", data={"scenarios": items}, human=human)


@command.command("serve")
@click.option("--scenario", help="Seed this scenario (see `recover sandbox scenarios`).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0 = a free port).")
@click.option("--step-delay", type=click.FloatRange(0, 10), default=0.2, show_default=True,
              help="Seconds between CloudFormation operation steps (watchable progress).")
@pass_run_context
def serve(rc: RunContext, scenario: str | None, port: int, step_delay: float) -> int:
    """Serve the sandbox on 127.0.0.1 until Ctrl-C or SIGTERM."""
    name = "sandbox serve"
    try:
        sandbox = _start(scenario, port, step_delay)
    except RecoverError as err:
        result = Result.from_error(name, err)
        render(result, rc.options.output, rc.stdout, rc.out, errors=rc.console)
        return int(result.exit_code)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        data = {"endpoint": sandbox.endpoint, "region": sandbox.region,
                "account": sandbox.account, "stacks": sandbox.stacks, "scenario": scenario,
                "env": sandbox.env()}
        if rc.options.output == "json":
            envelope = Result(command=name, data=data).envelope()
            rc.stdout.write(dumps(envelope, indent=None) + "\n")
            rc.stdout.flush()
        else:
            _print_human(rc, data)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.stop()
    rc.progress("sandbox stopped")
    return int(ExitCode.OK)


def _start(scenario: str | None, port: int, step_delay: float) -> Any:
    _require_moto()
    from recover.sandbox import start_sandbox
    from recover.sandbox.scenarios import SCENARIOS

    if scenario is not None and scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}",
                         hint=f"known scenarios: {', '.join(sorted(SCENARIOS))}")
    try:
        return start_sandbox(scenario, port=port, step_delay=step_delay)
    except OSError as exc:
        raise RecoverError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}",
                           code="port_unavailable") from exc


def _require_moto() -> None:
    if not moto_available():
        raise RecoverError(INSTALL_HINT, code="sandbox_unavailable")


def _print_human(rc: RunContext, data: dict[str, Any]) -> None:
    rc.progress(f"sandbox serving on {data['endpoint']} (region {data['region']}, account "
                f"{data['account']}); scenario: {data['scenario'] or 'none'}")
    if data["stacks"]:
        rc.progress(f"root stacks: {', '.join(data['stacks'])}")
    rc.progress("export these, then run recover or the aws CLI against it (Ctrl-C stops):")
    for key, value in data["env"].items():
        rc.out.print(f"export {key}={value}", highlight=False, markup=False, soft_wrap=True)
