"""Operations end to end (issue 18 part 1), each with the operation APIs and without them
(sandbox switch: no LastOperations, no OperationId, InvalidAction for DescribeEvents and
GetHookResult; or a role denied cloudformation:DescribeEvents). The path used shows in the
output and the evidence; the findings are the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import recover

pytestmark = pytest.mark.e2e


def _diagnose(sb: Any, tmp_path: Path, stack: str) -> dict[str, Any]:
    code, env, err = recover(sb, tmp_path, "diagnose", stack)
    assert code == ExitCode.FAILURE_FOUND, err
    return env["data"]


def _failures(data: dict[str, Any]) -> set[tuple[str, str, str, bool]]:
    return {(f["key"], f["failure_mode"], f["phase"], f["skippable"]) for f in data["findings"]}


def test_diagnose_reads_by_operation_and_falls_back_to_stack_events(sandbox, tmp_path: Path
                                                                    ) -> None:
    sb = sandbox("degap")
    by_op = _diagnose(sb, tmp_path / "a", "degap-prod")
    src = by_op["events_source"]
    assert src["source"] == "describe-events" and src["fallback_reason"] is None
    assert {o["operation_type"] for o in src["operations"]["degap-prod"]} >= {
        "UPDATE_STACK", "ROLLBACK"}
    meta = json.loads((Path(by_op["evidence_dir"]) / "metadata.json").read_text())
    assert meta["events_source"] == "describe-events"
    snap = json.loads((Path(by_op["evidence_dir"]) / "snapshot.json").read_text())
    assert all(n["operations"]["source"] == "describe-events" for n in snap["nodes"])
    assert all(n["events"] == [] for n in snap["nodes"])  # no stack event was paged

    sb.world.operation_apis(False)
    asked = sb.world.faults.request_log("cloudformation:DescribeEvents")["count"]
    paged = _diagnose(sb, tmp_path / "b", "degap-prod")
    assert paged["events_source"]["source"] == "stack-events"
    assert "no LastOperations" in paged["events_source"]["fallback_reason"]
    # without operation ids there is nothing to ask DescribeEvents for: not even one call
    assert sb.world.faults.request_log("cloudformation:DescribeEvents")["count"] == asked
    meta = json.loads((Path(paged["evidence_dir"]) / "metadata.json").read_text())
    assert meta["events_source"] == "stack-events"
    assert "no LastOperations" in meta["events_fallback_reason"]
    assert _failures(by_op) == _failures(paged)
    skips = {k for k, _, phase, skippable in _failures(by_op) if skippable}
    assert len(skips) == 4  # the four functions whose code is gone, failed in the rollback
    # the human output says which path it used
    code, text, _ = recover(sb, tmp_path / "c", "diagnose", "degap-prod", output="human")
    assert "reconstructed from DescribeStackEvents" in " ".join(text.split())


def test_a_role_without_describe_events_falls_back_once(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap")
    sb.world.deny("cloudformation:DescribeEvents")
    data = _diagnose(sb, tmp_path, "degap-prod")
    assert data["events_source"]["source"] == "stack-events"
    assert data["events_source"]["fallback_reason"] == "DescribeEvents answered AccessDenied"
    assert sb.world.faults.request_log("cloudformation:DescribeEvents")["count"] == 1


def test_hook_failure_with_its_verdict_and_without_the_apis(sandbox, tmp_path: Path) -> None:
    sb = sandbox("hook-failed")
    truth = sb.world.ground_truth
    data = _diagnose(sb, tmp_path / "a", "media-site")
    [f] = data["findings"]
    assert (f["logical_id"], f["failure_mode"]) == ("SiteBucket", "hook_failure")
    assert f["extracted"]["hook_type"] == truth["hook"]
    assert f["extracted"]["hook_failure_mode"] == "FAIL"
    assert f["extracted"]["hook_invocation_id"] == truth["hook_result_id"]
    assert f["extracted"]["annotations"][0]["remediation"] == truth["remediation"]
    assert truth["remediation"] in f["explanation"]
    assert data["runbook"] is None and data["root_cause"] == f["key"]

    sb.world.operation_apis(False)
    paged = _diagnose(sb, tmp_path / "b", "media-site")
    [g] = paged["findings"]
    assert (g["logical_id"], g["failure_mode"]) == ("SiteBucket", "hook_failure")
    assert g["extracted"]["hook_type"] == truth["hook"]  # from the stack event's hook fields
    assert "annotations" not in g["extracted"]  # GetHookResult unavailable too
    assert paged["events_source"]["source"] == "stack-events"


@pytest.mark.parametrize("apis", [True, False])
def test_rollback_stuck_ties_its_call_to_the_operation_and_the_bundle_groups_them(
        sandbox, tmp_path: Path, apis: bool) -> None:
    sb = sandbox("degap")
    sb.world.operation_apis(apis)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             "degap-prod", "--restore-artifacts", "--poll-interval", "0.2")
    assert code == ExitCode.OK, err
    journal = read_journal(Path(env["data"]["evidence_dir"]) / "journal.jsonl")
    [started] = [e for e in journal if e["kind"] == "operation_started"]
    assert started["operation"] == "ContinueUpdateRollback"
    cfn = sb.client("cloudformation")
    if apis:
        listed = cfn.describe_stacks(StackName="degap-prod")["Stacks"][0]["LastOperations"]
        assert {"OperationType": "CONTINUE_ROLLBACK",
                "OperationId": started["operation_id"]} in listed
    else:
        assert started["operation_id"] is None
        assert "ClientRequestToken is the link" in started["source"]
    code, env, err = recover(sb, tmp_path, "evidence", "degap-prod", "--format", "dir",
                             "--out", str(tmp_path / "bundle"))
    assert code == ExitCode.OK, err
    doc = json.loads((tmp_path / "bundle" / "evidence.json").read_text())
    root_ops = [o for o in doc["operations"] if o["stack"] == "degap-prod"]
    assert [o["operation_type"] for o in root_ops][-3:] == [
        "UPDATE_STACK", "ROLLBACK", "CONTINUE_ROLLBACK"]
    cont = root_ops[-1]
    assert cont["outcome"] == "UPDATE_ROLLBACK_COMPLETE" and cont["duration_s"] >= 0
    assert cont["started_by"].endswith(": ContinueUpdateRollback")
    assert cont["grouped_by"] == ("OperationId" if apis else "stack status events")
    if apis:
        assert cont["operation_id"] == started["operation_id"]
    assert "## Operations" in (tmp_path / "bundle" / "timeline.md").read_text()
