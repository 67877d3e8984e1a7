"""custom-resource end to end: the CLI as a subprocess against the served custom resource
scenarios (a handler that logged its request and died; docs/reference/aws-behaviour.md
#custom-resource-requests-and-responses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import recover

pytestmark = pytest.mark.e2e


def sent(evidence_dir: str) -> list[dict]:
    return [e["call"] for e in read_journal(Path(evidence_dir) / "journal.jsonl")
            if e.get("phase") == "before"]


def status(sb: Any, stack_id: str) -> str:
    return sb.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"][0][
        "StackStatus"]


def test_unattended_delete_answers_the_newest_request_of_this_stack(sandbox,
                                                                     tmp_path: Path) -> None:
    sb = sandbox("custom-resource-delete", step_delay=0.01)
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "custom-resource",
                             "reports-pipeline", "--respond", "SUCCESS", "--poll-interval", "0.1")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "DELETE_COMPLETE"
    assert data["resource"]["request"]["request_id"] == truth["request_id"]
    why = {r["request_id"]: r["why"] for r in data["resource"]["rejected"]}
    assert why[truth["other_stack_request"]] == "another stack's request"
    assert any("not https" in w for w in why.values())  # the hostile URL, set aside
    assert data["resource"]["logs"]["pages"] > 1
    (call,) = sent(data["evidence_dir"])
    # the journal keeps the URL without its signature (whoever holds it can answer)
    url, _, signature = call["params"]["ResponseURL"].partition("X-Amz-Signature=")
    assert url == truth["response_url"].partition("X-Amz-Signature=")[0]
    assert signature == "[REDACTED:url_signature]"
    doc = call["params"]["Response"]
    assert doc["Status"] == "SUCCESS" and doc["RequestId"] == truth["request_id"]
    assert doc["PhysicalResourceId"] == "Z0SANDBOX42/reports.example.com/CNAME"
    (answer,) = sb.world.custom.answered
    assert json.loads(answer["body"]) == doc and answer["outcome"] is None
    ledger = json.loads((tmp_path / "ledger" / "orphans.json").read_text())
    assert [o["logical_id"] for o in ledger["orphans"]] == ["DnsRecord"]


def test_unattended_rollback_update_answered_success_finishes_the_rollback(
        sandbox, tmp_path: Path) -> None:
    sb = sandbox("custom-resource-rollback", step_delay=0.01)
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "custom-resource",
                             "billing-api", "--respond", "SUCCESS", "--logical-id", "RateTable",
                             "--poll-interval", "0.1")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    req = data["resource"]["request"]
    assert req["request_id"] == truth["request_id"] != truth["forward_request"]
    assert data["response"]["PhysicalResourceId"] == truth["physical_id"]
    assert "orphan" not in data


def test_unattended_without_respond_exits_4_naming_the_flag(sandbox, tmp_path: Path) -> None:
    sb = sandbox("custom-resource-rollback", step_delay=0.01)
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "custom-resource",
                           "billing-api")
    assert code == ExitCode.NEEDS_DECISION
    (error,) = env["errors"]
    assert error["details"]["flag"] == "--respond"
    assert "proposed: SUCCESS" in error["message"]
    assert not sb.world.custom.answered
    stack_id = sb.world.stack("billing-api").stack_id
    assert status(sb, stack_id) == "UPDATE_ROLLBACK_IN_PROGRESS"


def test_dry_run_shows_the_put_and_sends_nothing(sandbox, tmp_path: Path) -> None:
    sb = sandbox("custom-resource-delete", step_delay=0.01)
    code, out, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "custom-resource",
                             "reports-pipeline", "--respond", "SUCCESS", output="human")
    assert code == ExitCode.OK, err
    assert "curl -sS -X PUT -H 'Content-Type:'" in err
    assert not sb.world.custom.answered
    assert not (tmp_path / "ledger" / "orphans.json").exists()


def test_no_request_in_the_logs_says_when_cloudformation_gives_up(sandbox,
                                                                   tmp_path: Path) -> None:
    sb = sandbox("custom-resource-silent", step_delay=0.01)
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "custom-resource",
                           "search-indexer", "--respond", "SUCCESS")
    assert code == ExitCode.FAILURE_FOUND
    data = env["data"]
    assert data["resource"]["request"] is None
    assert data["resource"]["cloudformation_gives_up_at"]
    assert 0 < data["resource"]["seconds_left"] <= 900
    assert data["checks"]
    assert not sb.world.custom.answered


def test_diagnose_chooses_custom_resource(sandbox, tmp_path: Path) -> None:
    sb = sandbox("custom-resource-delete", step_delay=0.01)
    code, env, _ = recover(sb, tmp_path, "diagnose", "reports-pipeline")
    assert env["data"]["runbook"] == "custom-resource"
    assert any("custom-resource reports-pipeline --dry-run" in n for n in env["data"]["next"])
