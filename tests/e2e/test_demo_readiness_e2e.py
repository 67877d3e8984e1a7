"""`recover demo` on a scenario with no failure yet (the incident still to come) runs
readiness and shows what it finds, instead of stopping at "healthy"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recover.run.exit_codes import ExitCode
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("scenario", "missing", "hazard"), [
    ("degap-before", [], "expire-deployments-30d"),
    ("ecr-expired", ["Task"], "ecr-lifecycle"),
])
def test_readiness_scenarios_show_their_findings(tmp_path: Path, scenario: str,
                                                 missing: list[str], hazard: str) -> None:
    proc = run_cli(["--output", "json", "--evidence-dir", str(tmp_path), "demo", scenario,
                    "--step-delay", "0"], timeout=300)
    env = json.loads(proc.stdout)
    report = env["data"]["readiness"]
    assert env["data"]["diagnosis"]["healthy"] is True
    assert [m["logical_id"] for m in report["missing"]] == missing
    assert hazard in json.dumps(report["hazards"])
    ready = not missing
    assert report["ready"] is ready
    assert proc.returncode == (ExitCode.OK if ready else ExitCode.FAILURE_FOUND), proc.stderr


def test_human_demo_prints_the_readiness_report(tmp_path: Path) -> None:
    proc = run_cli(["--evidence-dir", str(tmp_path), "demo", "ecr-expired", "--step-delay", "0"],
                   env={"COLUMNS": "120"}, timeout=300)
    assert "healthy: no failure found" in proc.stdout
    assert "NOT READY orders-service" in proc.stdout and "orders-api:release-1" in proc.stdout
    assert "Traceback" not in proc.stderr
