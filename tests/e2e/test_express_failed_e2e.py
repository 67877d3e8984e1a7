"""express-failed end to end: the CLI as a subprocess against the served `express-wedge`
scenario (orders-api UPDATE_FAILED after a failed EXPRESS update; the stable template is release
v41 in S3, docs/reference/aws-behaviour.md#express-deployment-mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import recover

pytestmark = pytest.mark.e2e


def status(sb: Any) -> str:
    return sb.client("cloudformation").describe_stacks(
        StackName="orders-api")["Stacks"][0]["StackStatus"]


def sent(evidence_dir: str) -> list[dict]:
    return [e["call"] for e in read_journal(Path(evidence_dir) / "journal.jsonl")
            if e.get("phase") == "before"]


def stable_version_url(sb: Any) -> str:
    t = sb.world.ground_truth
    return f"s3://{t['bucket']}/{t['current_key']}?versionId={t['stable_version']}"


def test_unattended_replay_of_a_previous_object_version_recovers(sandbox, tmp_path: Path) -> None:
    sb = sandbox("express-wedge")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "express-failed",
                             "orders-api", "--template", stable_version_url(sb),
                             "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_COMPLETE" == status(sb)
    assert data["replay"]["undone"]["changed"] == truth["changed"]
    assert data["replay"]["undone"]["removed"] == truth["removed"]
    (call,) = sent(data["evidence_dir"])
    assert call["operation"] == "UpdateStack"
    assert call["params"]["DeploymentConfig"] == {"Mode": "EXPRESS"}
    assert call["params"]["Parameters"] == [{"ParameterKey": "Stage", "UsePreviousValue": True}]
    assert call["params"]["Capabilities"] == ["CAPABILITY_IAM"]
    assert call["params"]["ClientRequestToken"]
    # a second run finds nothing to do
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "express-failed", "orders-api")
    assert code == ExitCode.OK and "nothing to do" in env["data"]["message"]


def test_unattended_without_template_exits_4_naming_the_flag(sandbox, tmp_path: Path) -> None:
    sb = sandbox("express-wedge")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "express-failed",
                           "orders-api")
    assert code == ExitCode.NEEDS_DECISION
    (error,) = env["errors"]
    assert error["details"]["flag"] == "--template" and "--template" in error["hint"]
    assert status(sb) == "UPDATE_FAILED"


def test_diagnose_names_express_failed_and_never_rollback(sandbox, tmp_path: Path) -> None:
    sb = sandbox("express-wedge")
    code, env, _ = recover(sb, tmp_path, "diagnose", "orders-api")
    assert env["data"]["runbook"] == "express-failed"
    modes = {f["failure_mode"] for f in env["data"]["findings"]}
    assert "express_update_failed" in modes
    text = " ".join(f.get("explanation") or "" for f in env["data"]["findings"])
    assert "call RollbackStack" not in text


def test_dry_run_plan_then_apply_from_a_local_file(sandbox, tmp_path: Path) -> None:
    sb = sandbox("express-wedge")
    truth = sb.world.ground_truth
    stable = tmp_path / "stable.json"
    stable.write_bytes(sb.client("s3").get_object(Bucket=truth["bucket"],
                                                  Key=truth["stable_key"])["Body"].read())
    plan = tmp_path / "plan.json"
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "express-failed",
                             "orders-api", "--template", str(stable), "--plan-out", str(plan),
                             "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    assert status(sb) == "UPDATE_FAILED" and plan.is_file()
    assert "--deployment-config" in env["data"]["calls"][0]["cli"]
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "UPDATE_COMPLETE" == status(sb)


def test_a_stack_that_is_no_express_wedge_is_refused(sandbox, tmp_path: Path) -> None:
    sb = sandbox("healthy")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "express-failed",
                           "shop-batch", "--template", "x.json")
    assert code == ExitCode.FAILURE_FOUND
    assert env["errors"][0]["code"] == "unsupported_state"


def test_a_missing_template_object_is_one_line(sandbox, tmp_path: Path) -> None:
    sb = sandbox("express-wedge")
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "express-failed",
                             "orders-api", "--template",
                             f"s3://{sb.world.ground_truth['bucket']}/no/such.json")
    assert code == ExitCode.NOT_FOUND, err
    assert "no/such.json" in env["errors"][0]["message"]
    assert status(sb) == "UPDATE_FAILED"
