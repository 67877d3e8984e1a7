"""recover readiness end to end: the CLI as a subprocess against served sandboxes on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from recover.readiness.s3_lifecycle import lifecycle_date
from recover.run.exit_codes import ExitCode
from tests.conftest import recover, run_cli

pytestmark = pytest.mark.e2e


def test_healthy_stacks_are_ready_one_by_one_and_with_all(sandbox, tmp_path: Path) -> None:
    sb = sandbox("healthy")
    code, env, err = recover(sb, tmp_path, "readiness", "shop-web", "--fail-on", "hazards")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["ready"] and data["missing"] == [] and data["hazards"] == []
    assert data["summary"]["stacks"] == 2  # shop-web and its nested Assets stack
    code, env, err = recover(sb, tmp_path, "readiness", "--all", "--concurrency", "2")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["ready"] and data["count"] == 2
    per_stack = {r["stack"]: r for r in data["reports"]}
    assert set(per_stack) == {"shop-web", "shop-batch"}
    # calls are counted per stack: shop-web's tree has two stacks, shop-batch one
    web, batch = per_stack["shop-web"]["api_calls"], per_stack["shop-batch"]["api_calls"]
    assert web["cloudformation:GetTemplate"] == 2 and batch["cloudformation:GetTemplate"] == 1
    assert data["api_calls"]["total"] >= sum(r["api_calls_total"] for r in data["reports"])


def test_degap_before_the_incident_flags_the_rule_and_every_key_at_risk(sandbox,
                                                                        tmp_path: Path) -> None:
    sb = sandbox("degap-before")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "readiness", "degap-prod")
    assert code == ExitCode.OK, err  # nothing is missing yet: a rollback works today
    data = env["data"]
    assert data["ready"] and data["missing"] == [] and data["unresolved"] == []
    lifecycle = [h for h in data["hazards"] if h["kind"] == "lifecycle-rule"]
    assert {h["rule"] for h in lifecycle} == {truth["rule"]}  # the other rules never match
    assert {h["bucket"] for h in lifecycle} == {truth["deployment_bucket"]}
    expiration = next(h for h in lifecycle if h["action"] == "expiration")
    purge = next(h for h in lifecycle if h["action"] == "noncurrent-expiration")
    assert {k["resource"]: k["key"] for k in expiration["keys"]} == truth["at_risk"]
    assert {k["resource"]: k["key"] for k in purge["keys"]} == truth["at_risk"]
    assert purge["permanent"] and not expiration["permanent"]
    # dates: LastModified + 30 days rounded to midnight UTC; then + 1 noncurrent day
    s3 = sb.client("s3")
    for k in expiration["keys"]:
        modified = s3.head_object(Bucket=truth["deployment_bucket"], Key=k["key"])["LastModified"]
        assert datetime.fromisoformat(k["date"]) == lifecycle_date(modified, 30)
    for k in purge["keys"]:
        first = next(e for e in expiration["keys"] if e["key"] == k["key"])
        assert datetime.fromisoformat(k["date"]) == datetime.fromisoformat(
            first["date"]) + timedelta(days=1)
    # every artifact was found through the YAML templates (short forms, parameters, !Sub)
    kinds = sorted(a["kind"] for a in data["artifacts"])
    assert kinds == ["lambda-code"] * 4 + ["nested-template"] * 2
    assert all(a["status"] == "present" for a in data["artifacts"])
    # CI: fail on hazards
    code, env, _ = recover(sb, tmp_path, "readiness", "degap-prod", "--fail-on", "hazards")
    assert code == ExitCode.FAILURE_FOUND and env["status"] == "partial"
    # human report names the rule and the keys
    code, out, _ = recover(sb, tmp_path, "readiness", "degap-prod", output="human")
    assert code == ExitCode.OK
    assert truth["rule"] in out and out.startswith("READY degap-prod")
    for key in truth["at_risk"].values():
        assert key in out


def test_a_deleted_service_role_is_flagged(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "readiness", truth["root"])
    assert code == ExitCode.FAILURE_FOUND, err
    data = env["data"]
    assert not data["ready"]
    [role] = [h for h in data["hazards"] if h["kind"] == "service-role-missing"]
    assert role["role_arn"] == truth["role_arn"] and role["severity"] == "blocking"
    assert "cdk bootstrap" in role["fix"]
    # the asset is still in the retained staging bucket
    [asset] = data["artifacts"]
    assert asset["status"] == "present" and truth["asset_key"] in asset["location"]
    assert any(h["kind"] == "cdk-gc-rollback-buffer" for h in data["hazards"])


def test_an_image_expired_by_the_ecr_policy_is_flagged(sandbox, tmp_path: Path) -> None:
    sb = sandbox("ecr-expired")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "readiness", truth["root"])
    assert code == ExitCode.FAILURE_FOUND, err
    data = env["data"]
    [missing] = data["missing"]
    assert missing["location"] == truth["missing_image"] and missing["logical_id"] == "Task"
    assert "lifecycle policy" in missing["reason"]
    [hazard] = [h for h in data["hazards"] if h["kind"] == "ecr-lifecycle"]
    assert hazard["images"] == [truth["at_risk_image"]]
    assert hazard["rule"].startswith(truth["rule"])


def test_after_the_incident_the_keys_are_missing(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "readiness", "degap-prod")
    assert code == ExitCode.FAILURE_FOUND, err
    data = env["data"]
    # the templates (generated JSON here) point at the v1 keys the rollback needs
    assert {f"{m['stack']}.{m['logical_id']}" for m in data["missing"]} == set(truth["missing"])
    assert {h["kind"] for h in data["hazards"]} >= {"stack-not-stable"}


def test_bad_input_is_one_line(sandbox, tmp_path: Path) -> None:
    sb = sandbox("healthy")
    code, env, _ = recover(sb, tmp_path, "readiness")
    assert code == ExitCode.USAGE and "STACK or --all" in env["errors"][0]["message"]
    code, env, _ = recover(sb, tmp_path, "readiness", "no-such-stack")
    assert code == ExitCode.NOT_FOUND and env["errors"][0]["code"] == "stack_not_found"
    proc = run_cli(["--endpoint-url", sb.endpoint, "readiness", "--fail-on", "sometimes"],
                   env=sb.env())
    assert proc.returncode == ExitCode.USAGE and "Traceback" not in proc.stderr
