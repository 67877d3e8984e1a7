"""rollback-stuck end to end: the CLI as a subprocess against a served sandbox on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import recover, run_cli

pytestmark = pytest.mark.e2e


def versions(sb: Any, bucket: str) -> dict[tuple[str, str], str]:
    """(key, version id) -> ETag of every object version and delete marker in the bucket."""
    s3 = sb.client("s3")
    out: dict[tuple[str, str], str] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            out[(v["Key"], v["VersionId"])] = v["ETag"]
        for m in page.get("DeleteMarkers", []):
            out[(m["Key"], m["VersionId"])] = "delete-marker"
    return out


def test_degap_recovers_with_artifacts_restored_and_nothing_overwritten(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap")
    bucket = f"degap-artifacts-{sb.account}-{sb.region}"
    before = versions(sb, bucket)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             "degap-prod", "--restore-artifacts", "--poll-interval", "0.2")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert data["skipped"] == []  # every function's bytes were recoverable: no skip needed
    restored = {r["function_name"]: r for r in data["restored"]}
    assert set(restored) == {"degap-prod-orders", "degap-prod-users", "degap-prod-ingest",
                             "degap-prod-report"}
    assert all(r["verification"] == "exact" for r in restored.values())
    assert "degap-prod-ingest" in restored["degap-prod-ingest"]["source"]  # GetFunction source
    after = versions(sb, bucket)
    # Nothing lost: every version and delete marker that existed is still there, unchanged.
    assert all(after.get(k) == etag for k, etag in before.items())
    assert len(after) - len(before) == 4  # one new version per restored key, nothing else
    cfn = sb.client("cloudformation")
    for stack in cfn.describe_stacks()["Stacks"]:
        assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", stack["StackName"]
    journal = read_journal(Path(data["evidence_dir"]) / "journal.jsonl")
    ops = [e["call"]["operation"] for e in journal if e.get("phase") == "before"]
    assert ops.count("ContinueUpdateRollback") == 1 and ops[-1] == "ContinueUpdateRollback"
    assert sorted(ops[:-1]) == ["CopyObject"] * 3 + ["PutObject"]
    assert len([e for e in journal if e.get("phase") == "after" and e["ok"]]) == len(ops)


def test_nested_skip_uses_the_child_stack_name(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             "orders-platform", "--skip-unrecoverable", "--poll-interval", "0.2")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    [skip] = data["skipped"]
    child = next(s["StackName"] for s in sb.client("cloudformation").describe_stacks()["Stacks"]
                 if s["StackName"].startswith("orders-platform-DataStack-"))
    assert skip["target"] == f"{child}.Database"
    assert data["rounds"][0]["skipped"] == [f"{child}.Database"]
    assert "detect-stack-resource-drift" in skip["follow_up"] and skip["leaves_inconsistent"]
    assert truth  # the scenario states its ground truth


@pytest.mark.parametrize("bad", ["DataStack.Database", "Database", "DataStack"])
def test_invalid_manual_skip_is_refused_locally(sandbox, tmp_path: Path, bad: str) -> None:
    sb = sandbox("nested-skip")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                           "orders-platform", "--skip", bad)
    assert code == ExitCode.USAGE
    assert env["errors"][0]["code"] == "usage" and bad in env["errors"][0]["message"]
    root = sb.client("cloudformation").describe_stacks(StackName="orders-platform")["Stacks"][0]
    assert root["StackStatus"] == "UPDATE_ROLLBACK_FAILED"  # nothing was sent


def test_undecided_without_flags_needs_a_decision(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "rollback-stuck", "orders-platform")
    assert code == ExitCode.NEEDS_DECISION and env["status"] == "needs_decision"
    assert "--skip-unrecoverable" in env["errors"][0]["details"]["flag"]


def test_confirmation_needs_yes_when_unattended(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "rollback-stuck", "orders-platform",
                           "--skip-unrecoverable")
    assert code == ExitCode.NEEDS_DECISION and env["errors"][0]["details"]["flag"] == "--yes"


def test_plan_then_apply_and_stale_plan(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    plan = tmp_path / "plan.json"
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "rollback-stuck",
                             "orders-platform", "--skip-unrecoverable", "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    assert env["data"]["dry_run"] is True
    [call] = env["data"]["calls"]
    assert call["cli"].startswith("aws cloudformation continue-update-rollback --stack-name arn:")
    assert "--resources-to-skip orders-platform-DataStack-" in call["cli"]
    cfn = sb.client("cloudformation")
    assert cfn.describe_stacks(StackName="orders-platform")["Stacks"][0]["StackStatus"] == \
        "UPDATE_ROLLBACK_FAILED"  # dry run changed nothing
    # A stale plan: the stack moved after the plan was made.
    stale = json.loads(plan.read_text())
    stale["preconditions"]["failed_resources"].append("orders-platform/Phantom:UPDATE_FAILED")
    stale_path = tmp_path / "stale.json"
    stale_path.write_text(json.dumps(stale))
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(stale_path))
    assert code == ExitCode.PRECONDITION_CHANGED
    assert "no longer failed: orders-platform/Phantom" in env["errors"][0]["message"]
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    # Applying the same plan again: the stack is no longer what the plan expected.
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.PRECONDITION_CHANGED


def test_apply_refuses_when_status_changed_behind_our_back(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    plan = tmp_path / "plan.json"
    code, _, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "rollback-stuck",
                           "orders-platform", "--skip-unrecoverable", "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    sb.world.set_stack_status("orders-platform", "UPDATE_ROLLBACK_IN_PROGRESS")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.PRECONDITION_CHANGED
    assert "UPDATE_ROLLBACK_IN_PROGRESS" in env["errors"][0]["message"]


def test_wrong_state_is_a_clear_error(sandbox, tmp_path: Path) -> None:
    sb = sandbox("healthy")
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             "shop-web")
    assert code == ExitCode.FAILURE_FOUND and "Traceback" not in err
    assert env["errors"][0]["code"] == "unsupported_state"


def test_demo_degap_json(tmp_path: Path) -> None:
    """The README's first command, unattended: exit 0, status ok, rollback complete."""
    proc = run_cli(["--non-interactive", "--yes", "--output", "json", "--evidence-dir",
                    str(tmp_path), "demo", "degap", "--step-delay", "0"], timeout=300)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["status"] == "ok" and env["data"]["final_status"] == "UPDATE_ROLLBACK_COMPLETE"


def test_demo_without_a_terminal_runs_unattended(tmp_path: Path) -> None:
    """`python3 scripts/dev.py demo` piped or in CI: no prompt can be answered, so the demo
    (which only touches the local sandbox) runs unattended instead of stopping."""
    proc = run_cli(["--evidence-dir", str(tmp_path), "demo", "nested-skip", "--step-delay", "0"],
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "running unattended" in proc.stderr
    assert "final status: UPDATE_ROLLBACK_COMPLETE" in proc.stdout
