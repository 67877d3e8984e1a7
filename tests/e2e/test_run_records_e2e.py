"""What the evidence says about a run is what the run did: a dry run is never "restored", a
skipped resource is listed once, and the bundle lands in the evidence folder, not wherever
the command was started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recover.run.exit_codes import ExitCode
from tests.conftest import recover, run_cli

pytestmark = pytest.mark.e2e


def _metadata(ev_root: Path, command: str) -> list[dict]:
    out = []
    for meta in sorted(ev_root.glob("*/metadata.json")):
        doc = json.loads(meta.read_text())
        if doc["command"] == command:
            out.append(doc)
    return out


def test_dry_run_restore_is_recorded_as_a_dry_run(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap")
    code, env, err = recover(sb, tmp_path, "--dry-run", "--non-interactive", "artifacts",
                             "degap-prod", "--restore")
    assert code == ExitCode.OK, err
    (meta,) = _metadata(tmp_path / "ev", "artifacts")
    assert meta["outcome"] == "dry-run" and meta["outcome_if_applied"] == "restored"
    code, env, err = recover(sb, tmp_path, "evidence", "degap-prod", "--format", "dir")
    assert code == ExitCode.OK, err
    done = " ".join(env["data"]["summary"]["what_was_done"])
    assert "outcome dry-run" in done and "restored" not in done


def test_skipped_resource_listed_once_and_bundle_in_the_evidence_folder(
        sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    root = sb.stacks[0]
    code, _, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck", root,
                           "--skip-unrecoverable")
    assert code == ExitCode.OK, err
    cwd = tmp_path / "work"
    cwd.mkdir()
    proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", "json",
                    "--evidence-dir", str(tmp_path / "ev"), "evidence", root],
                   env=sb.env(), cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert list(cwd.iterdir()) == []  # nothing left in the current folder
    bundle = Path(data["bundle"])
    assert bundle.is_file() and bundle.parent == Path(data["evidence_dir"])
    left = data["summary"]["still_inconsistent"]
    skipped = [line for line in left if "Database" in line and "DataStack" in line]
    assert len(skipped) == 1, left
    assert "skipped by ContinueUpdateRollback" in skipped[0]
    assert "follow-up" in skipped[0]  # the plan's follow-up joins the same line
