"""express-failed interactively in a real pseudo-terminal (pexpect): asked for the stable
template, shown what the replay changes back, confirmed, followed to UPDATE_COMPLETE; and the
demo unattended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.e2e

ENTER = "\r"


def test_interactive_asks_for_the_template_then_replays(sandbox, tmp_path: Path) -> None:
    from tests.e2e.test_interactive_pty import spawn

    sb = sandbox("express-wedge", step_delay=0.01)
    t = sb.world.ground_truth
    empty = tmp_path / "no-trail"
    empty.mkdir()
    child = spawn(sb, tmp_path, "express-failed", "orders-api", "--poll-interval", "0.1",
                  "--trail", str(empty))
    child.expect("CloudTrail does not prove the last stable template")
    child.expect("Template to replay")
    child.send(f"s3://{t['bucket']}/{t['current_key']}?versionId={t['stable_version']}" + ENTER)
    child.expect(r"- AlertsTopic \(deleted")
    child.expect(r"Replay the template from .* in EXPRESS mode\?")
    child.send("y")
    child.expect(r"final status:\S*\s+UPDATE_COMPLETE", timeout=180)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    stack = sb.client("cloudformation").describe_stacks(StackName="orders-api")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"


def test_interactive_finds_the_template_in_cloudtrail_then_replays(sandbox,
                                                                    tmp_path: Path) -> None:
    from tests.e2e.test_interactive_pty import spawn

    sb = sandbox("express-wedge", step_delay=0.01)
    t = sb.world.ground_truth
    child = spawn(sb, tmp_path, "express-failed", "orders-api", "--poll-interval", "0.1")
    child.expect("From CloudTrail:")
    child.expect(r"overwritten since")
    child.expect(r"- AlertsTopic \(deleted")
    child.expect(r"--capabilities CAPABILITY_NAMED_IAM ")
    child.expect(r"Replay the template from")
    child.expect(r"EXPRESS mode\?")
    child.send("y")
    child.expect(r"final status:\S*\s+UPDATE_COMPLETE", timeout=180)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    (call,) = [e for e in sb.world.trail.records() if e["eventName"] == "UpdateStack"
               and (e["requestParameters"].get("clientRequestToken") or "").startswith("recover-")]
    assert call["requestParameters"]["capabilities"] == t["stable_capabilities"]


def test_demo_express_wedge_unattended(tmp_path: Path) -> None:
    proc = run_cli(["--non-interactive", "--yes", "--output", "json", "--evidence-dir",
                    str(tmp_path), "demo", "express-wedge", "--step-delay", "0"], timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["final_status"] == "UPDATE_COMPLETE"
    assert data["replay"]["undone"]["removed"] == ["AlertsTopic"]
