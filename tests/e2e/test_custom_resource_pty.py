"""custom-resource interactively in a real pseudo-terminal (pexpect): shown the waiting request
and the time left, asked for the answer (SUCCESS proposed for a rollback's Update), confirmed,
followed to UPDATE_ROLLBACK_COMPLETE."""

from __future__ import annotations

from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.e2e

ENTER = "\r"


def test_interactive_answers_the_rollback_update(sandbox, tmp_path: Path) -> None:
    from tests.e2e.test_interactive_pty import spawn

    sb = sandbox("custom-resource-rollback", step_delay=0.01)
    child = spawn(sb, tmp_path, "custom-resource", "billing-api", "--poll-interval", "0.1")
    child.expect(r"min \d+ s left")
    child.expect("pending request")
    child.expect("Answer the Update request of RateTable with")
    child.expect(r"SUCCESS \(proposed\)")
    child.send(ENTER)  # the proposed answer is the default
    child.expect(r"Answer RateTable's Update request with SUCCESS\?")
    child.send("y")
    child.expect(r"final status:\S*\s+UPDATE_ROLLBACK_COMPLETE", timeout=180)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert len(sb.world.custom.answered) == 1
