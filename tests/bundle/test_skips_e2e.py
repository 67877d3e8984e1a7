"""The postmortem bundle shows the skips of the stack still open in the orphan ledger, and those
`recover reconcile` closed (issue 18 part 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recover.run.exit_codes import ExitCode
from tests.bundle.helpers import bundle_files
from tests.conftest import recover, run_cli

pytestmark = pytest.mark.e2e

SKIPS = ["AlertTopic", "JobsQueue", "ExportBucket", "InvoiceHook"]


def test_bundle_lists_open_and_reconciled_skips(sandbox: Callable[..., Any],
                                                tmp_path: Path) -> None:
    sb = sandbox("skip-pending")
    code, _, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                           "billing-api", *[a for s in SKIPS for a in ("--skip", s)],
                           "--poll-interval", "0.1")
    assert code == ExitCode.OK, err
    code, _, err = recover(sb, tmp_path, "--non-interactive", "reconcile", "billing-api",
                           "--execute", "--poll-interval", "0.1")
    assert code == ExitCode.FAILURE_FOUND, err  # the custom resource stays open
    out = tmp_path / "bundle.zip"
    env = dict(sb.env(), RECOVER_ORPHAN_LEDGER=str(tmp_path / "ledger" / "orphans.json"))
    proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", "json",
                    "--evidence-dir", str(tmp_path / "ev"), "evidence", "billing-api", "--out",
                    str(out), "--html"], env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = bundle_files(out)
    summary = json.loads(files["evidence.json"])["summary"]
    [still_open] = summary["skips_open"]
    assert still_open.startswith("billing-api/InvoiceHook (Custom::InvoiceNumbering)")
    assert "recover reconcile billing-api" in still_open
    closed = sorted(line.split(" ")[0] for line in summary["skips_closed"])
    assert closed == ["billing-api/AlertTopic", "billing-api/ExportBucket",
                      "billing-api/JobsQueue"]
    assert all("in sync since" in line for line in summary["skips_closed"])
    # what reconcile closed is no longer called inconsistent; the open one still is
    inconsistent = " ".join(summary["still_inconsistent"])
    assert "InvoiceHook" in inconsistent
    assert not any(s in inconsistent for s in ("AlertTopic", "JobsQueue", "ExportBucket"))
    assert "ledger_skips" not in inconsistent  # bookkeeping, not a decision
    md, html = files["timeline.md"].decode(), files["timeline.html"].decode()
    assert "### Skipped resources still open" in md and "billing-api/InvoiceHook" in md
    assert "<h2>Skipped resources reconciled</h2>" in html and "billing-api/JobsQueue" in html
