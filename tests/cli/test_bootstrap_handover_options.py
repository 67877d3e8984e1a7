"""bootstrap-role hands every rollback decision on to rollback-stuck: the skip flags, the
artifact restore, the bytes' sources and their acceptance, the CloudTrail source. Without
them an unverified key met after the role is back would stop with a flag bootstrap-role did not
take (issue 14 part 1 and 2 together)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from recover.cli import cli
from recover.decide import role_plan as rp
from recover.run.context import RunContext
from recover.run.result import Result
from recover.runbooks.bootstrap_role import flow as bootstrap_role
from recover.runbooks.bootstrap_role import operation
from recover.runbooks.rollback_stuck import flow as rollback_stuck

DECISIONS = ["--skip", "Fn", "--skip-unrecoverable", "--restore-artifacts",
             "--artifact-source", "file:app/code.zip=/tmp/old.zip", "--accept-unverified",
             "--accept-substitute", "--trail", "s3://trail-bucket"]


def test_the_cli_takes_every_rollback_decision(make_context: Callable[..., RunContext],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(rc: RunContext, stack: str, opts: bootstrap_role.BootstrapRoleOptions) -> Result:
        seen["opts"] = opts
        return Result(command="bootstrap-role")

    monkeypatch.setattr(bootstrap_role, "run", fake_run)
    result = CliRunner().invoke(cli, ["bootstrap-role", "my-stack", "--then", "continue-rollback",
                                      *DECISIONS], obj=make_context())
    assert result.exit_code == 0, result.output
    o = seen["opts"]
    assert (o.skip, o.skip_unrecoverable, o.restore_artifacts) == (["Fn"], True, True)
    assert o.artifact_sources == ["file:app/code.zip=/tmp/old.zip"]
    assert (o.accept_unverified, o.accept_substitute, o.trail) == (True, True, "s3://trail-bucket")


def test_the_handover_passes_them_to_rollback_stuck(monkeypatch: pytest.MonkeyPatch) -> None:
    got: dict[str, Any] = {}

    def fake_rollback(rc: Any, stack: str, opts: rollback_stuck.RollbackOptions) -> Result:
        got["opts"] = opts
        return Result(command="rollback-stuck", data={"final_status": "UPDATE_ROLLBACK_COMPLETE"})

    monkeypatch.setattr(rollback_stuck, "run", fake_rollback)
    opts = bootstrap_role.BootstrapRoleOptions(
        then=rp.THEN_CONTINUE, skip=["Fn"], skip_unrecoverable=True, restore_artifacts=True,
        artifact_sources=["file:k=/p"], accept_unverified=True, accept_substitute=True,
        trail="lookup")
    rc = SimpleNamespace(progress=lambda *_: None)
    ev = SimpleNamespace(journal=SimpleNamespace(append=lambda *a, **k: None))
    snap = SimpleNamespace(root=SimpleNamespace(name="my-stack", info=SimpleNamespace(
        status="UPDATE_ROLLBACK_FAILED")))
    with contextlib.suppress(Exception):  # only the options handed over matter here
        operation.run_operation(rc, ev, None, snap, rp.THEN_CONTINUE, None, opts)
    o = got["opts"]
    assert (o.skip, o.skip_unrecoverable, o.restore_artifacts) == (["Fn"], True, True)
    assert (o.artifact_sources, o.accept_unverified, o.accept_substitute, o.trail) == (
        ["file:k=/p"], True, True, "lookup")
