"""data.roles[].outcome and the human line for each role say what really happened."""

from __future__ import annotations

import io

from rich.console import Console

from recover.run.result import Result
from recover.runbooks.bootstrap_role.render import render_done as _render_done
from recover.runbooks.bootstrap_role.roles import RoleOutcome


def _line(o: RoleOutcome) -> str:
    buf = io.StringIO()
    data = {"stack": "app", "status_before": "UPDATE_ROLLBACK_FAILED",
            "final_status": "UPDATE_ROLLBACK_COMPLETE", "then": "continue-rollback",
            "roles": [o.to_dict()], "evidence_dir": "/tmp/ev"}
    _render_done(Console(file=buf, width=300), Result(command="bootstrap-role", data=data))
    return next(line for line in buf.getvalue().splitlines() if "role r" in line)


def test_each_outcome_has_a_true_sentence() -> None:
    created = dict(arn="arn:aws:iam::123456789012:role/r", name="r", state_before="missing",
                   created=True, created_by_recover=True)
    removed = RoleOutcome(**created, removed=True, exists_after=False)
    assert removed.outcome == "created_removed"
    assert "created, then removed" in _line(removed) and "does not exist now" in _line(removed)
    kept = RoleOutcome(**created, kept_because="--keep-role", exists_after=True)
    assert kept.outcome == "created_kept" and "kept (--keep-role); it exists now" in _line(kept)
    failed = RoleOutcome(**created, removal_error="access denied: iam:DeleteRole",
                         exists_after=True)
    assert failed.outcome == "removal_failed"
    assert "removal FAILED: access denied" in _line(failed) and "removed" not in _line(failed)
    existing = RoleOutcome(arn=created["arn"], name="r", state_before="exists",
                           kept_because="not created by recover", exists_after=True)
    assert existing.outcome == "existing_kept" and "already there, kept" in _line(existing)
    gone = RoleOutcome(arn=created["arn"], name="r", state_before="missing", exists_after=False)
    assert gone.outcome == "not_created" and "not created" in _line(gone)
    assert RoleOutcome(arn=created["arn"], name="r", state_before="exists",
                       created_by_recover=True, kept_because="already gone",
                       exists_after=False).outcome == "already_gone"
