"""delete-failed's interactive walk in a real pseudo-terminal (pexpect): a wrong typed bucket
name empties nothing and asks again; the right one empties it; the others are retained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.e2e

DOWN, ENTER = "\x1b[B", "\r"


def test_interactive_empty_needs_the_exact_bucket_name(sandbox, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.e2e.test_interactive_pty import spawn

    sb = sandbox("delete-failed", step_delay=0.01)
    truth = sb.world.ground_truth
    ledger = tmp_path / "orphans.json"
    monkeypatch.setenv("RECOVER_ORPHAN_LEDGER", str(ledger))
    child = spawn(sb, tmp_path, "delete-failed", "legacy-app", "--poll-interval", "0.1")
    child.expect("AppBucket failed to delete")
    child.send(DOWN + DOWN + ENTER)  # empty the bucket
    child.expect(r"deletes 3 item\(s\) for good")
    child.expect(f"Type {truth['bucket']} to confirm")
    child.send("legacy-app-data" + ENTER)  # not the exact name
    child.expect("the name did not match: the bucket is not emptied")
    child.expect("AppBucket failed to delete")  # asked again
    child.send(DOWN + DOWN + ENTER)
    child.expect(f"Type {truth['bucket']} to confirm")
    child.send(truth["bucket"] + ENTER)
    for name in ("AppSecurityGroup", "SeedData", "FlowLogsBucket"):
        child.expect(f"{name} failed to delete")
        child.send(ENTER)  # retain
    child.expect(r"Delete 2 stack\(s\) of legacy-app, retaining 3 resource\(s\)\?")
    child.send("y")
    child.expect(r"final status:\S*\s+DELETE_COMPLETE", timeout=180)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert truth["bucket"] not in {b["Name"] for b in sb.client("s3").list_buckets()["Buckets"]}
    kept = {o["physical_id"] for o in json.loads(ledger.read_text())["orphans"]}
    assert kept == {truth["logs_bucket"], truth["security_group"], "legacy-app-SeedData-1XK2P9Q"}


def test_demo_delete_failed_unattended(tmp_path: Path) -> None:
    proc = run_cli(["--non-interactive", "--yes", "--output", "json", "--evidence-dir",
                    str(tmp_path), "demo", "delete-failed", "--step-delay", "0"], timeout=300)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["data"]["final_status"] == "DELETE_COMPLETE" and len(env["data"]["orphans"]) == 4
    assert env["data"]["ledger"] == str(tmp_path / "demo-orphans.json")
    assert (tmp_path / "demo-orphans.json").exists()
