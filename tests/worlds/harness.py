"""The harness (test code, not the sandbox: the sandbox never imports recover). Run one
generated world: start a served sandbox seeded with it, run recover unattended (a
real `python -m recover` subprocess, or in this process for a faster soak), then check the
invariants on the world itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recover.sandbox.generated.build import build
from recover.sandbox.generated.check import Violation, capture, check
from recover.sandbox.generated.spec import WorldSpec, generate


@dataclass
class WorldRun:
    spec: WorldSpec
    exit_code: int | None
    violations: list[Violation]
    seconds: float
    envelope: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        errors = self.envelope.get("errors") or []
        err = f" error={errors[0].get('code')}: {errors[0].get('message', '')[:160]}" \
            if errors else ""
        lines = [f"{self.spec.describe()}", f"  exit {self.exit_code} in {self.seconds:.1f}s{err}"]
        lines += [f"  {v}" for v in self.violations]
        return "\n".join(lines)


def run_world(seed: int, workdir: Path, *, in_process: bool = False, bundle: bool = True,
              timeout: float = 300) -> WorldRun:
    from recover.sandbox import start_sandbox

    spec = generate(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    files = workdir / "files"
    facts: dict[str, Any] = {}

    def seed_world(world: Any) -> None:
        facts.update(build(world, spec, files))

    started = time.monotonic()
    sb = start_sandbox(None, step_delay=0, seed=seed, builder=seed_world,
                       clock_start=spec.clock_start())
    try:
        before = capture(sb.client)
        mark = len(sb.world.requests)
        if spec.faults:
            sb.world.faults.apply(spec.faults)
        evidence = workdir / "evidence"
        base = ["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", "json",
                "--non-interactive", "--yes", "--evidence-dir", str(evidence)]
        env = dict(sb.env(), RECOVER_ORPHAN_LEDGER=str(workdir / "orphans.json"))
        code, stdout, stderr = _recover(base + spec.command(files), env, in_process, timeout)
        sb.world.faults.clear()
        sb.world.settle(timeout=30)
        requests = sb.world.requests_since(mark)  # the run's requests only, not the checker's
        dirs = [evidence]
        if bundle:  # the postmortem export must be clean too
            out = workdir / "bundle"
            _recover(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", "json",
                      "--non-interactive", "--evidence-dir", str(workdir / "evidence-export"),
                      "evidence", spec.root, "--trail", "lookup", "--format", "dir",
                      "--out", str(out)], env, in_process, timeout)
            dirs += [out, workdir / "evidence-export"]
        after = capture(sb.client)
        violations = check(spec, facts, sb.world, sb.client, before, after, requests, code, dirs)
    finally:
        sb.stop()
    try:
        envelope = json.loads(stdout) if stdout.strip() else {}
    except ValueError:
        envelope = {"errors": [{"code": "unparsable-stdout", "message": stdout[:200]}]}
    if "Traceback" in stderr:
        violations.append(Violation("a", "recover printed a traceback: "
                                    + stderr.strip().splitlines()[-1][:200]))
    return WorldRun(spec, code, violations, time.monotonic() - started, envelope,
                    stderr[-2000:])


def _recover(args: list[str], env: dict[str, str], in_process: bool,
             timeout: float) -> tuple[int | None, str, str]:
    if in_process:
        return _recover_in_process(args, env)
    full = dict(os.environ)
    full.update(env)
    repo = str(Path(__file__).resolve().parents[3])
    full["PYTHONPATH"] = repo + os.pathsep + full.get("PYTHONPATH", "")
    try:
        proc = subprocess.run([sys.executable, "-m", "recover", *args], env=full, text=True,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return None, str(exc.stdout or ""), f"timed out after {timeout}s"
    return proc.returncode, proc.stdout, proc.stderr


def _recover_in_process(args: list[str], env: dict[str, str]) -> tuple[int | None, str, str]:
    """The click command in this process, standalone mode off (the soak's fast path: no
    interpreter start, no imports per world). The environment is swapped for the call by
    click's runner, which also captures stdout and stderr."""
    import traceback

    import click
    from click.testing import CliRunner

    from recover.cli import cli

    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=True,
                                standalone_mode=False)
    stderr = result.stderr
    exc = result.exception
    if isinstance(exc, SystemExit):
        return int(exc.code or 0), result.stdout, stderr
    if isinstance(exc, click.ClickException):
        return 2, result.stdout, stderr + exc.format_message()
    if exc is not None:
        return 1, result.stdout, stderr + "Traceback (in-process)\n" + "".join(
            traceback.format_exception(exc))
    rv = result.return_value
    return (int(rv) if isinstance(rv, int) else 0), result.stdout, stderr
