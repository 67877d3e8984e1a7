"""The interactive walk driven in a real pseudo-terminal (pexpect): prompts answered by keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.e2e


def spawn(sb: Any, tmp_path: Path, *args: str) -> Any:
    env = dict(os.environ, **sb.env(), PYTHONPATH=str(REPO), TERM="xterm", COLUMNS="120",
               LINES="40")
    child = pexpect.spawn(sys.executable, ["-m", "recover", "--evidence-dir", str(tmp_path),
                                           *args], env=env, encoding="utf-8", timeout=120,
                          dimensions=(40, 120))
    child.logfile_read = open(tmp_path / "transcript.txt", "w")  # noqa: SIM115 - kept for the test's life
    return child


def test_interactive_rollback_walk_restores_and_confirms(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap", step_delay=0.01)
    child = spawn(sb, tmp_path, "rollback-stuck", "degap-prod", "--poll-interval", "0.2")
    for _ in range(4):  # one question per function whose code object is missing
        child.expect("restore the missing code object of")
        child.expect("restore the missing code object, then continue")
        child.send("\r")  # first choice: restore
    child.expect(r"Call ContinueUpdateRollback on degap-prod \(no skips\)\?")
    child.send("y")
    child.expect(r"final status:\S*\s+UPDATE_ROLLBACK_COMPLETE", timeout=180)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    transcript = (tmp_path / "transcript.txt").read_text()
    assert "restored\x1b[0m degap-prod-ingest" in transcript or "restored degap-prod-ingest" in transcript


def test_interactive_decline_changes_nothing(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip", step_delay=0.01)
    child = spawn(sb, tmp_path, "rollback-stuck", "orders-platform")
    child.expect("or skip it")
    child.send("\x1b[B")  # down: skip
    child.send("\r")
    child.expect(r"Call ContinueUpdateRollback on orders-platform, skipping .*\?")
    child.send("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5  # ABORTED
    status = sb.client("cloudformation").describe_stacks(
        StackName="orders-platform")["Stacks"][0]["StackStatus"]
    assert status == "UPDATE_ROLLBACK_FAILED"
