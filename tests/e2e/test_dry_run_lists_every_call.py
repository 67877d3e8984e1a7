"""Issue 15 item 1: the human dry run prints every call of the plan, in order, each with its
`aws` CLI equivalent, for every runbook that saves plans (the registry says which)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from recover.act.plan import Plan
from recover.run.exit_codes import ExitCode
from recover.runbooks import registry
from tests.conftest import recover

# runbook -> (scenario, its command line up to the flags that decide it unattended)
DRY_RUNS = {
    "rollback-stuck": ("degap", ("rollback-stuck", "degap-prod", "--restore-artifacts")),
    "delete-failed": ("delete-failed", ("delete-failed", "legacy-app", "--retain-all-failed")),
    "bootstrap-role": ("cdk-bootstrap-deleted", ("bootstrap-role", "billing-service", "--then",
                                                 "delete", "--remove-role-after")),
    "express-failed": ("express-wedge", lambda sb: (
        "express-failed", "orders-api", "--template",
        "s3://{bucket}/{current_key}?versionId={stable_version}".format(**sb.world.ground_truth))),
    "reconcile": ("skipped-drift", ("reconcile", "billing-api", "--resource", "JobsQueue",
                                    "--execute")),
}


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_runbook_with_plans_is_covered() -> None:
    assert set(DRY_RUNS) == {s.id for s in registry() if s.applier}


@pytest.mark.parametrize("runbook", sorted(DRY_RUNS))
def test_the_human_dry_run_shows_the_plans_calls_in_order(sandbox, tmp_path: Path,
                                                          runbook: str) -> None:
    scenario, args = DRY_RUNS[runbook]
    sb = sandbox(scenario)
    args = args(sb) if callable(args) else args
    plan_file = tmp_path / "plan.json"
    code, out, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", *args,
                             "--plan-out", str(plan_file), output="human")
    assert code == ExitCode.OK, err
    calls = Plan.load(plan_file).calls
    assert len(calls) >= 1
    shown = flat(err)
    at = 0
    for call in calls:  # every call, each with its aws CLI line, in the plan's order
        line = flat(call.cli())
        found = shown.find(line, at)
        assert found >= 0, f"{call.operation} not shown (or out of order): {line}"
        at = found + len(line)
    if runbook == "rollback-stuck":  # the restores come before the rollback call
        assert [c.operation for c in calls][-1] == "ContinueUpdateRollback"
        assert {"CopyObject", "PutObject"} & {c.operation for c in calls}
