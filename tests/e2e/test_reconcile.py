"""reconcile end to end through the CLI against the sandbox (issue 18 part 3): the skips a
rollback-stuck run made are open in the ledger, reconcile detects their drift, reverts what a
REVERT_DRIFT change set can revert, closes what is in sync, and leaves the rest open."""

from __future__ import annotations

import json
from pathlib import Path

from recover.run.exit_codes import ExitCode
from tests.conftest import recover

SKIPS = ["AlertTopic", "JobsQueue", "ExportBucket", "InvoiceHook"]


def ledger(tmp_path: Path) -> list[dict]:
    return json.loads((tmp_path / "ledger" / "orphans.json").read_text())["orphans"]


def states(tmp_path: Path) -> dict[str, str]:
    return {e["logical_id"]: e["state"] for e in ledger(tmp_path) if e.get("kind") == "skipped"}


def test_skips_are_reconciled_unattended(sandbox, tmp_path: Path) -> None:
    sb = sandbox("skip-pending")
    skip = [a for s in SKIPS for a in ("--skip", s)]
    code, out, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             "billing-api", *skip, "--poll-interval", "0.1")
    assert code == ExitCode.OK, err
    assert states(tmp_path) == dict.fromkeys(SKIPS, "open")
    code, out, _ = recover(sb, tmp_path, "orphans", "list")
    assert {o["kind"] for o in out["data"]["orphans"]} == {"skipped"}

    # unattended without --execute: the change set is created for review, exit 4 names the flag
    code, out, err = recover(sb, tmp_path, "--non-interactive", "reconcile", "billing-api")
    assert code == ExitCode.NEEDS_DECISION, err
    assert "--execute" in out["errors"][0]["details"]["flag"]
    assert sb.world.cfn.get("billing-api").status == "UPDATE_ROLLBACK_COMPLETE"  # unchanged
    assert states(tmp_path)["AlertTopic"] == "in_sync"  # in sync already: closed

    code, out, err = recover(sb, tmp_path, "--non-interactive", "reconcile", "billing-api",
                             "--execute", "--poll-interval", "0.1")
    assert code == ExitCode.FAILURE_FOUND, err  # the custom resource stays for a person
    data = out["data"]
    assert data["final_status"] == "UPDATE_COMPLETE" and data["change_set"]["executed"]
    verdicts = {v["logical_id"]: v for v in data["plan"]["verdicts"]}
    assert verdicts["JobsQueue"]["action"] == "close"
    assert verdicts["InvoiceHook"]["action"] == "check_by_hand"
    assert data["still_open"] == ["InvoiceHook"]
    assert states(tmp_path) == {"AlertTopic": "in_sync", "JobsQueue": "in_sync",
                                "ExportBucket": "in_sync", "InvoiceHook": "open"}
    evidence = Path(data["evidence_dir"])
    before = json.loads((evidence / "drift-before.json").read_text())
    queue = next(d for d in before if d["logical_id"] == "JobsQueue")
    assert queue["status"] == "MODIFIED"
    assert queue["differences"][0]["path"] == "/VisibilityTimeout"
    calls = [json.loads(line) for line in (evidence / "journal.jsonl").read_text().splitlines()]
    ops = [c["call"]["operation"] for c in calls if c["kind"] == "call" and c["phase"] == "before"]
    # the change set the first run created for review is the one executed: no second one
    assert ops == ["ExecuteChangeSet"]
    assert data["change_set"]["name"].startswith("recover-reconcile-")
    assert data["resumed"]["changes_done"][0]["operation"] == "CreateChangeSet"


def test_skips_made_outside_recover_and_the_fallback(sandbox, tmp_path: Path) -> None:
    sb = sandbox("skipped-drift")
    sb.world.cfn.revert_drift_supported = False  # the service refuses DeploymentMode
    code, out, err = recover(sb, tmp_path, "--non-interactive", "reconcile", "billing-api",
                             *[a for s in SKIPS for a in ("--resource", s)], "--execute")
    assert code == ExitCode.FAILURE_FOUND, err
    data = out["data"]
    assert data["fallbacks"] and "refused" in data["fallbacks"][0]
    assert "fallback" in err
    actions = {v["logical_id"]: v["action"] for v in data["plan"]["verdicts"]}
    assert actions == {"AlertTopic": "close", "JobsQueue": "redeploy_by_hand",
                       "ExportBucket": "redeploy_by_hand", "InvoiceHook": "check_by_hand"}
    meta = json.loads((Path(data["evidence_dir"]) / "metadata.json").read_text())
    assert meta["fallbacks"] == data["fallbacks"]
    assert sb.world.cfn.get("billing-api").status == "UPDATE_ROLLBACK_COMPLETE"


def test_without_drift_detection_everything_stays_open(sandbox, tmp_path: Path) -> None:
    sb = sandbox("skipped-drift")
    sb.world.cfn.drift_detection_supported = False
    code, out, err = recover(sb, tmp_path, "--non-interactive", "reconcile", "billing-api",
                             "--resource", "JobsQueue", "--no-execute")
    assert code == ExitCode.FAILURE_FOUND, err
    assert out["data"]["plan"]["verdicts"][0]["status"] == "UNAVAILABLE"
    assert "drift detection is not available" in out["data"]["fallbacks"][0]
    assert states(tmp_path) == {"JobsQueue": "open"}


def test_a_saved_plan_is_applied_then_reconcile_closes_the_skips(sandbox, tmp_path: Path) -> None:
    sb = sandbox("skipped-drift")
    plan = tmp_path / "plan.json"
    args = ("reconcile", "billing-api", "--resource", "JobsQueue", "--resource", "ExportBucket")
    code, out, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", *args, "--execute",
                             "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    assert [c["operation"] for c in out["data"]["calls"]] == ["CreateChangeSet",
                                                              "ExecuteChangeSet"]
    code, out, err = recover(sb, tmp_path / "apply", "--non-interactive", "--yes", "apply",
                             str(plan))
    assert code == ExitCode.OK, err
    data = out["data"]
    assert data["final_status"] == "UPDATE_COMPLETE" == sb.world.cfn.get("billing-api").status
    assert {c["logical_id"]: c["action"] for c in data["change_set"]["changes"]
            if c["drift_status"] != "UNSUPPORTED"} == {"JobsQueue": "Modify",
                                                       "ExportBucket": "Add"}
    assert data["next"] == ["recover reconcile billing-api"]
    # the skips close once drift detection finds them in sync
    code, out, err = recover(sb, tmp_path, "--non-interactive", *args)
    assert code == ExitCode.OK, err
    assert states(tmp_path) == {"JobsQueue": "in_sync", "ExportBucket": "in_sync"}
    assert out["data"]["change_set"] is None


def test_a_change_set_reaching_beyond_the_skips_needs_its_own_flag(sandbox,
                                                                   tmp_path: Path) -> None:
    """REVERT_DRIFT covers the whole stack: with only JobsQueue named, the change set would also
    recreate ExportBucket (deleted out of band, no skip names it). --execute alone leaves it for
    review (exit 4 naming --revert-all-drift); with the flag it runs."""
    sb = sandbox("skipped-drift")
    args = ("--non-interactive", "reconcile", "billing-api", "--resource", "JobsQueue",
            "--execute", "--poll-interval", "0.1")
    code, out, err = recover(sb, tmp_path, *args)
    assert code == ExitCode.NEEDS_DECISION, err
    assert out["errors"][0]["details"]["flag"] == "--revert-all-drift"
    assert "ExportBucket" in out["errors"][0]["message"]
    assert sb.world.cfn.get("billing-api").status == "UPDATE_ROLLBACK_COMPLETE"  # unchanged
    code, out, err = recover(sb, tmp_path, *args, "--revert-all-drift")
    assert code == ExitCode.OK, err
    assert out["data"]["change_set"]["beyond_skips"] == ["ExportBucket"]
    assert out["data"]["final_status"] == "UPDATE_COMPLETE"
    assert states(tmp_path) == {"JobsQueue": "in_sync"}


def test_beyond_skips_counts_only_reverted_drift_outside_the_skips() -> None:
    from recover.decide.reconcile import ReconcilePlan, Verdict, beyond_skips

    def v(lid: str) -> Verdict:
        return Verdict("e", lid, "app", lid, "AWS::SQS::Queue", "MODIFIED", "revert_drift", "")

    changes = [{"logical_id": "Q", "drift_status": "MODIFIED"},
               {"logical_id": "B", "drift_status": "DELETED"},
               {"logical_id": "Hook", "drift_status": "UNSUPPORTED"},
               {"logical_id": "Child", "drift_status": "MODIFIED",
                "resource_type": "AWS::CloudFormation::Stack"}]
    assert beyond_skips(ReconcilePlan([v("Q")]), changes) == ["B", "Child"]
    assert beyond_skips(ReconcilePlan([v("Q")], nested=True), changes) == ["B"]
    assert beyond_skips(ReconcilePlan([v("Q"), v("B")], nested=True), changes) == []
