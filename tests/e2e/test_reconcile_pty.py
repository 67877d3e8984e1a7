"""reconcile interactively in a real pseudo-terminal (pexpect): the drift of each skipped
resource shown, the REVERT_DRIFT change set shown and its execution confirmed, followed to
UPDATE_COMPLETE, every skip closed in the ledger (issue 18 part 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.e2e


def test_interactive_shows_drift_confirms_and_ends_in_sync(sandbox, tmp_path: Path) -> None:
    from tests.e2e.test_interactive_pty import spawn

    sb = sandbox("skipped-drift", step_delay=0.01)
    ledger = tmp_path / "orphans.json"
    child = spawn(sb, tmp_path, "reconcile", "billing-api", "--resource", "AlertTopic",
                  "--resource", "JobsQueue", "--resource", "ExportBucket", "--ledger",
                  str(ledger), "--poll-interval", "0.1")
    # what differs, per resource, before anything is created
    child.expect(r"IN_SYNC\s+\S*\s*AlertTopic")
    child.expect(r"MODIFIED\s+\S*\s*JobsQueue")
    child.expect(r"/VisibilityTimeout: expected '30', actual '120'")
    child.expect(r"DELETED\s+\S*\s*ExportBucket")
    # the change set, created for review (it changes nothing), then the question
    child.expect(r"change set\S*\s+recover-reconcile-\w+: CREATE_COMPLETE")
    child.expect(r"Modify\s+JobsQueue")
    child.expect(r"Add\s+ExportBucket")
    child.expect(r"Execute change set recover-reconcile-\w+ on billing-api")
    assert sb.world.cfn.get("billing-api").status == "UPDATE_ROLLBACK_COMPLETE"
    child.send("y")
    child.expect(r"final status:\S*\s+UPDATE_COMPLETE", timeout=180)
    child.expect(r"closed in the ledger:\S*\s+3 skip")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, (tmp_path / "transcript.txt").read_text()
    assert sb.world.cfn.get("billing-api").status == "UPDATE_COMPLETE"
    entries = json.loads(ledger.read_text())["orphans"]
    assert {e["logical_id"]: e["state"] for e in entries} == dict.fromkeys(
        ["AlertTopic", "JobsQueue", "ExportBucket"], "in_sync")
