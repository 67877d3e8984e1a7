"""Issue 15 item 3: diagnose and every needs-decision refusal end with the exact commands to run
next, ready to paste: the same global options, and the flags that settle the decision."""

from __future__ import annotations

import shlex
from pathlib import Path

from recover.run.exit_codes import ExitCode
from tests.conftest import recover


def test_diagnose_names_the_commands_to_run_next(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    code, env, _ = recover(sb, tmp_path, "diagnose", "orders-platform")
    assert code == ExitCode.FAILURE_FOUND
    nxt = env["data"]["next"]
    assert [shlex.split(c)[-2:] for c in nxt] == [["orders-platform", "--dry-run"],
                                                  ["rollback-stuck", "orders-platform"]]
    for command in nxt:  # the same endpoint and region, so it runs against the same account
        words = shlex.split(command)
        assert words[0] == "recover" and sb.endpoint in words and sb.region in words


def test_a_refusal_names_one_command_per_flag_that_settles_it(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip")
    code, env, err = recover(sb, tmp_path, "--non-interactive", "rollback-stuck",
                             "orders-platform", output="human")
    assert code == ExitCode.NEEDS_DECISION
    lines = [ln.strip() for ln in err.splitlines() if ln.strip().startswith("recover ")]
    assert any(ln.endswith("--skip-unrecoverable") for ln in lines), err
    assert any(".Database" in ln and "--skip " in ln for ln in lines), err
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "rollback-stuck", "orders-platform")
    nxt = env["errors"][0]["details"]["next"]
    assert all(c.startswith("recover ") and "rollback-stuck orders-platform" in c for c in nxt)


def test_after_skips_rollback_stuck_and_diagnose_name_reconcile(sandbox, tmp_path: Path) -> None:
    """Issue 18 part 3: skipped resources stay open in the ledger; the run that skipped them
    and a later diagnose of the (now settled) stack both point at reconcile."""
    sb = sandbox("skip-pending")
    skips = ["AlertTopic", "JobsQueue", "ExportBucket", "InvoiceHook"]
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             "billing-api", *[a for s in skips for a in ("--skip", s)],
                             "--poll-interval", "0.1")
    assert code == ExitCode.OK, err
    nxt = env["data"]["next"]
    assert [shlex.split(c)[-2:] for c in nxt] == [["billing-api", "--dry-run"],
                                                  ["reconcile", "billing-api"]]
    assert all(sb.endpoint in shlex.split(c) for c in nxt)

    code, env, _ = recover(sb, tmp_path, "diagnose", "billing-api")
    assert code == ExitCode.FAILURE_FOUND
    data = env["data"]
    assert data["runbook"] == "reconcile"
    open_skips = [f for f in data["findings"] if f["failure_mode"] == "skipped_resource_drift"]
    assert sorted(f["logical_id"] for f in open_skips) == sorted(skips)
    assert shlex.split(data["next"][-1])[-2:] == ["reconcile", "billing-api"]
    code, text, _ = recover(sb, tmp_path, "diagnose", "billing-api", output="human")
    assert "skipped_resource_drift" in text and "Runbook: reconcile" in text
    assert "reconcile billing-api --dry-run" in text
