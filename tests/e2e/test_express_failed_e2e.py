"""express-failed end to end: the CLI as a subprocess against the served `express-wedge`
scenario (orders-api UPDATE_FAILED after a failed EXPRESS update; the stable template is release
v41 in S3, docs/reference/aws-behaviour.md#express-deployment-mode)."""

from __future__ import annotations

import json
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
    # with --template: the stack's own capabilities (those of its last, failed, operation)
    assert call["params"]["Capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    assert call["params"]["ClientRequestToken"]
    # a second run finds nothing to do
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "express-failed", "orders-api")
    assert code == ExitCode.OK and "nothing to do" in env["data"]["message"]


def test_unattended_without_template_finds_it_in_cloudtrail(sandbox, tmp_path: Path) -> None:
    """The seeded history is hostile: a later accepted UpdateStack that rolled back, a refused
    one, the good deploy by change set, and the template object overwritten since."""
    sb = sandbox("express-wedge")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "express-failed",
                             "orders-api", "--poll-interval", "0.05")
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_COMPLETE" == status(sb)
    evidence = Path(data["evidence_dir"])
    found = json.loads((evidence / "stable-template-discovery.json").read_text())
    assert found["proven"] and found["template"] == stable_version_url(sb)
    assert found["carrier"]["event_name"] == "CreateChangeSet"
    assert found["operation"]["outcome"] == "UPDATE_COMPLETE"
    outcomes = [o["outcome"] for o in found["history"]]
    assert outcomes == ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
                        "UPDATE_COMPLETE", "UPDATE_FAILED"]
    (call,) = sent(data["evidence_dir"])
    # the capabilities of the operation that deployed the stable template, not the stack's
    assert call["params"]["Capabilities"] == truth["stable_capabilities"]
    replayed = json.loads(Path(call["files"]["TemplateBody"]).read_text())
    assert replayed["Description"] == "Orders API (release v41)"
    # what the failed update had changed that the replay undid: evidence, journal and result
    undone = json.loads((evidence / "undone.json").read_text())
    assert undone["applied"] == ["AlertsTopic", "OrdersQueue"] and undone["failed"] == [
        "OrdersTable"]
    assert data["replay"]["undone"]["applied"] == undone["applied"]
    kinds = [e.get("kind") for e in read_journal(evidence / "journal.jsonl")]
    assert "replay_undoes" in kinds and "stable_template_discovery" in kinds
    # the sandbox recorded the replay itself in CloudTrail, parameter keys without values
    records = [json.loads(e["CloudTrailEvent"]) for e in sb.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "UpdateStack"}]
    )["Events"]]
    mine = [r for r in records if r["requestParameters"].get("clientRequestToken")
            == call["params"]["ClientRequestToken"]]
    assert len(mine) == 1 and "errorCode" not in mine[0]
    assert mine[0]["requestParameters"]["parameters"] == [{"parameterKey": "Stage"}]


def test_unattended_without_a_provable_template_exits_4_naming_the_flag(
        sandbox, tmp_path: Path) -> None:
    sb = sandbox("express-wedge")
    empty = tmp_path / "trail"
    empty.mkdir()
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "express-failed",
                           "orders-api", "--trail", str(empty))
    assert code == ExitCode.NEEDS_DECISION
    (error,) = env["errors"]
    assert error["details"]["flag"] == "--template" and "--template" in error["hint"]
    assert "no matching CloudTrail record" in error["message"]
    assert status(sb) == "UPDATE_FAILED"


def test_a_classic_update_is_refused_and_recorded_as_refused(sandbox) -> None:
    sb = sandbox("express-wedge")
    cfn = sb.client("cloudformation")
    with pytest.raises(cfn.exceptions.ClientError, match="mode=EXPRESS"):
        cfn.update_stack(StackName="orders-api", UsePreviousTemplate=True)
    last = sb.world.trail.records()[-1]
    assert last["eventName"] == "UpdateStack" and last["errorCode"] == "ValidationError"
    assert "responseElements" not in last or not last["responseElements"]


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
