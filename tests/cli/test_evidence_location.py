"""Issue 15 item 8: a read-only command runs from a folder it cannot write (the evidence goes to
the user's state folder, and it says so), and a mistyped stack name leaves no evidence folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recover.run.exit_codes import ExitCode
from tests.conftest import recover


def test_the_state_folder_when_the_current_one_is_not_writable(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    from recover.run.context import GlobalOptions, RunContext

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    rc = RunContext.from_options(GlobalOptions())
    assert rc.evidence_root == Path("recover-evidence")
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    assert rc.evidence_root == tmp_path / "state" / "recover" / "evidence"


def test_a_mistyped_stack_leaves_no_evidence_folder(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    code, env, _ = recover(sb, tmp_path, "diagnose", "no-such-stack")
    assert code != ExitCode.OK and env["errors"][0]["code"] == "stack_not_found"
    assert not list((tmp_path / "ev").glob("no-such-stack*"))
