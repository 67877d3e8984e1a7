"""Issue 14 part 4: the evidence of a stack is the runs made in its account, region and endpoint
on that very stack (its id); runs of the same name elsewhere are left out of the bundle and
listed with why, and resume never picks them up. Real CLI subprocesses against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recover.bundle.collect import RunScope, scope_reasons
from recover.run.evidence import EvidenceRun
from tests.bundle.helpers import timeline_rows
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e


def plant_run(sb: Any, root: Path, stack: str, name: str, *, region: str | None = None,
              endpoint: str | None = "same", account: str | None = None,
              stack_id: str | None = None, outcome: str = "finished",
              command: str = "rollback-stuck") -> Path:
    """An evidence folder as a real run leaves it (EvidenceRun), in the world it says."""
    with EvidenceRun(root, command, stack, clock=sb.world.clock, argv=[command, stack],
                     region=region or sb.region,
                     endpoint_url=sb.endpoint if endpoint == "same" else endpoint) as ev:
        ev.set(identity={"Account": account or sb.account, "Arn": "arn:x", "UserId": "u"},
               stack_id=stack_id or sb.world.stack(stack).stack_id, label=name)
        ev.journal.append("answer", question=f"planted {name}", answer="yes", via="--yes")
        if outcome == "interrupted":  # a change sent, no answer read: a resume would take it
            ev.journal.append("call", phase="before", call={
                "service": "cloudformation", "operation": "ContinueUpdateRollback",
                "params": {"StackName": stack, "ClientRequestToken": f"tok-{name}"}})
            ev.metadata["signal"] = "SIGINT"
            ev.finish("interrupted", 130)
        else:
            ev.finish(outcome, 0)
    sb.world.clock.advance(5)
    return ev.dir


def test_evidence_keeps_only_this_stacks_runs_and_says_which_it_left_out(
        sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sb = sandbox("healthy")
    stack = sb.stacks[0]
    root = tmp_path / "ev"
    sid = sb.world.stack(stack).stack_id
    mine = plant_run(sb, root, stack, "mine")
    others = {
        "region": plant_run(sb, root, stack, "region", region="eu-west-1"),
        "account": plant_run(sb, root, stack, "account", account="999999999999"),
        "endpoint": plant_run(sb, root, stack, "endpoint", endpoint="http://127.0.0.1:9"),
        "aws": plant_run(sb, root, stack, "aws", endpoint=None),
        "stack id": plant_run(sb, root, stack, "stack id",
                              stack_id=sid.rsplit("/", 1)[0] + "/0000-recreated-before"),
    }
    out = tmp_path / "bundle"
    proc = run_cli(["--output", "json", "--evidence-dir", str(root), "evidence", stack,
                    "--format", "dir", "--out", str(out), "--html"], env=sb.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["runs"] == [mine.name]
    doc = json.loads((out / "evidence.json").read_text())
    assert [r["name"] for r in doc["runs"]] == [mine.name]
    left = {r["name"]: r["reasons"] for r in doc["runs_left_out"]}
    assert left == {d.name: left[d.name] for d in others.values()}  # exactly the others
    for why, d in others.items():
        prefix = "endpoint AWS" if why == "aws" else why
        assert len(left[d.name]) == 1 and left[d.name][0].startswith(prefix), (why, left[d.name])
    assert data["runs_left_out"] == doc["runs_left_out"]
    assert not [p for p in (out / "raw" / "runs").iterdir() if p.name != mine.name]
    md = (out / "timeline.md").read_text()
    section = md.split("## Runs left out", 1)[1].split("\n## ", 1)[0]
    for d in others.values():
        assert d.name in section
    assert "eu-west-1" in section and "999999999999" in section
    # none of their journal entries is in the timeline
    assert not [r for r in timeline_rows(md) if "planted" in r[4] + r[6]
                and "planted mine" not in r[4] + r[6]]
    assert "Runs left out" in (out / "timeline.html").read_text()


def test_resume_does_not_pick_up_a_run_of_another_region_endpoint_or_account(
        sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sb = sandbox("healthy")
    stack = sb.stacks[0]
    root = tmp_path / "ev"
    planted = []
    for name, kw in (("region", {"region": "eu-west-1"}),
                     ("endpoint", {"endpoint": "http://127.0.0.1:9"}),
                     ("aws", {"endpoint": None}),
                     ("account", {"account": "999999999999"})):
        planted.append(str(plant_run(sb, root, stack, name, outcome="interrupted", **kw)))
    before = set(root.iterdir())
    proc = run_cli(["--output", "json", "--evidence-dir", str(root), "--non-interactive",
                    "rollback-stuck", stack], env=sb.env(), cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    (new,) = set(root.iterdir()) - before
    meta = json.loads((new / "metadata.json").read_text())
    assert "resumed_from" not in meta, meta.get("resumed_from")
    assert "resum" not in proc.stderr.lower()
    # control: an interrupted run of this very world is picked up
    control = plant_run(sb, root, stack, "control", outcome="interrupted")
    before = set(root.iterdir())
    run_cli(["--output", "json", "--evidence-dir", str(root), "--non-interactive",
             "rollback-stuck", stack], env=sb.env(), cwd=tmp_path)
    (new,) = set(root.iterdir()) - before
    resumed = json.loads((new / "metadata.json").read_text())["resumed_from"]
    assert resumed[0] == str(control) and not set(planted) & set(resumed)


def test_scope_reasons_ignore_what_a_run_did_not_record() -> None:
    scope = RunScope(account="1", region="us-east-1", endpoint_url="http://h:1/",
                     stack_ids=frozenset({"arn:s/1"}))
    assert scope_reasons({}, scope) == []  # an old or torn metadata: kept, nothing says no
    assert scope_reasons({"endpoint_url": "HTTP://h:1", "region": "us-east-1",
                          "identity": {"error": "expired"}, "stack_id": "arn:s/1"}, scope) == []
    assert scope_reasons({"subject": "arn:s/2"}, scope)[0].startswith("stack id arn:s/2")
