"""Unit tests of resume (recover/run/resume.py) and signal handling (recover/run/interrupts.py)."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recover.run import interrupts
from recover.run.evidence import EvidenceRun
from recover.run.resume import (
    PriorRuns,
    Seen,
    calls_of,
    load_prior,
    our_operation_running,
    reached_aws,
    token_to_reuse,
)

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/shop/1"
CUR = {"service": "cloudformation", "operation": "ContinueUpdateRollback",
       "params": {"StackName": STACK, "ClientRequestToken": "recover-aaaa-r1"}}


def before(seq: int, call: dict) -> dict:
    return {"seq": seq, "kind": "call", "phase": "before", "call": call}


def after(seq: int, ref: int, **fields: object) -> dict:
    return {"seq": seq, "kind": "call", "phase": "after", "ref": ref, **fields}


def test_calls_of_tells_done_failed_and_in_doubt_apart() -> None:
    put = {"service": "s3", "operation": "PutObject", "params": {"Bucket": "b", "Key": "k"}}
    entries = [
        before(1, put), after(2, 1, ok=True),
        before(3, put), after(4, 3, ok=False, error={"code": "AccessDenied"}),
        before(5, put), after(6, 5, ok=False, error={"code": "ReadTimeoutError"}),
        before(7, put), after(8, 7, ok=None, in_doubt=True, error={"code": "interrupted"}),
        {"seq": 9, "kind": "answer", "answer": "yes"},
        before(10, CUR),  # killed before its answer was journaled
    ]
    assert [c.outcome for c in calls_of(entries, "d")] == \
        ["done", "failed", "in_doubt", "in_doubt", "in_doubt"]


def prior_with(*outcomes: str) -> PriorRuns:
    entries: list[dict] = []
    for i, outcome in enumerate(outcomes):
        call = dict(CUR, params=dict(CUR["params"], ClientRequestToken=f"t{i}"))
        entries.append(before(2 * i + 1, call))
        if outcome == "done":
            entries.append(after(2 * i + 2, 2 * i + 1, ok=True))
        elif outcome == "failed":
            entries.append(after(2 * i + 2, 2 * i + 1, ok=False, error={"code": "Throttling"}))
    return PriorRuns(({"dir": "d", "outcome": "interrupted"},), tuple(calls_of(entries, "d")))


def test_an_in_doubt_call_is_sent_again_with_its_token_only_if_no_event_carries_it() -> None:
    prior = prior_with("in_doubt")
    params = {"StackName": STACK, "ClientRequestToken": "fresh"}
    assert token_to_reuse(prior, "ContinueUpdateRollback", params, set()) == "t0"
    assert token_to_reuse(prior, "ContinueUpdateRollback", params, {"t0"}) is None  # it ran
    other = dict(params, ResourcesToSkip=["shop-Api-1.Queue"])  # another call: fresh token
    assert token_to_reuse(prior, "ContinueUpdateRollback", other, set()) is None
    assert token_to_reuse(prior_with("done"), "ContinueUpdateRollback", params, set()) is None
    assert token_to_reuse(prior_with("failed"), "ContinueUpdateRollback", params, set()) is None


def test_our_operation_is_running_when_done_or_its_token_is_on_the_events() -> None:
    assert our_operation_running(prior_with("done"), "ContinueUpdateRollback", STACK, set())
    assert not our_operation_running(prior_with("in_doubt"), "ContinueUpdateRollback", STACK,
                                     set())
    assert our_operation_running(prior_with("in_doubt"), "ContinueUpdateRollback", STACK,
                                 {"t0"})
    assert not our_operation_running(prior_with("failed"), "ContinueUpdateRollback", STACK,
                                     {"t0"})
    assert not our_operation_running(prior_with("done"), "ContinueUpdateRollback", "other",
                                     set())
    assert not our_operation_running(PriorRuns(), "ContinueUpdateRollback", STACK, set())


def seen(*operation_ids: str, tokens: tuple[str, ...] = ()) -> Seen:
    out = Seen(tokens)
    out.operations = frozenset(operation_ids)
    return out


def test_the_operation_id_read_back_decides_whose_operation_is_running() -> None:
    """A run that journaled the operation id its call started follows that id: the stack's
    operation is ours only while LastOperations lists it (another engineer's newer continue is
    not ours), and without LastOperations the token rule still applies."""
    entries = [before(1, CUR), after(2, 1, ok=True),
               {"seq": 3, "kind": "operation_started", "ref": 1, "operation_id": "op-ours",
                "operation_type": "CONTINUE_ROLLBACK"}]
    prior = PriorRuns(({"dir": "d", "outcome": "interrupted"},), tuple(calls_of(entries, "d")))
    assert prior.calls[0].operation_id == "op-ours"
    assert prior.calls[0].to_dict()["operation_id"] == "op-ours"
    op = "ContinueUpdateRollback"
    assert our_operation_running(prior, op, STACK, seen("op-ours", "op-update"))
    assert not our_operation_running(prior, op, STACK, seen("op-someone-else", "op-update"))
    assert our_operation_running(prior, op, STACK, seen())  # no LastOperations: "done" decides


def test_reached_aws_matches_plan_calls_by_operation_and_params() -> None:
    prior = prior_with("done", "in_doubt")
    plan_calls = [dict(CUR, params=dict(CUR["params"], ClientRequestToken=t))
                  for t in ("t0", "t1", "t2")]
    assert reached_aws(prior, plan_calls, set()) == {0}
    assert reached_aws(prior, plan_calls, {"t1"}) == {0, 1}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_run(root: Path, clock: Clock, outcome: str, *, subject: str = "shop",
             argv: list[str] | None = None, calls: list[dict] | None = None) -> EvidenceRun:
    ev = EvidenceRun(root, "rollback-stuck", subject, clock=clock, argv=argv or [],
                     region="us-east-1")
    for call in calls or []:
        b = ev.journal.append("call", phase="before", call=call)
        ev.journal.append("call", phase="after", ref=b["seq"], ok=True)
    ev.set(stack_id=STACK)
    ev.finish(outcome)
    return ev


def test_load_prior_walks_back_to_the_last_run_that_ended_on_its_own(tmp_path: Path) -> None:
    clock = Clock()
    make_run(tmp_path, clock, "UPDATE_ROLLBACK_COMPLETE", calls=[CUR])  # ended: not resumed
    a = make_run(tmp_path, clock, "interrupted", calls=[CUR])
    make_run(tmp_path, clock, "finished", argv=["--dry-run"])  # a dry run hides nothing
    make_run(tmp_path, clock, "interrupted", subject="other")  # another stack
    b = make_run(tmp_path, clock, "failed")
    current = EvidenceRun(tmp_path, "rollback-stuck", "shop", clock=clock, region="us-east-1")
    prior = load_prior(tmp_path, "rollback-stuck", "shop", region="us-east-1",
                       endpoint_url=None, exclude_run_id=current.run_id)
    assert [r["dir"] for r in prior.runs] == [str(b.dir), str(a.dir)]
    assert [c.outcome for c in prior.calls] == ["done"]
    assert prior.stack_id == STACK
    assert "2 unfinished run(s)" in prior.describe()
    assert not load_prior(tmp_path, "rollback-stuck", "shop", region="eu-west-1",
                          endpoint_url=None)
    refused = load_prior(tmp_path, "rollback-stuck", "shop", region="us-east-1",
                         endpoint_url=None, exclude_run_id=current.run_id,
                         accept=lambda d: d != b.dir)
    assert [r["dir"] for r in refused.runs] == [str(a.dir)]


def test_load_prior_ignores_unreadable_folders(tmp_path: Path) -> None:
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / "metadata.json").write_text("{not json")
    (tmp_path / "a-file").write_text("x")
    assert not load_prior(tmp_path, "rollback-stuck", "shop", region=None, endpoint_url=None)
    assert not load_prior(tmp_path / "missing", "rollback-stuck", "shop", region=None,
                          endpoint_url=None)


@pytest.fixture
def handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    interrupts.install()
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def test_a_signal_during_a_change_waits_for_its_end(handlers: None) -> None:
    done = []
    with pytest.raises(interrupts.Interrupted) as info, interrupts.change_in_flight():
        os.kill(os.getpid(), signal.SIGTERM)
        done.append("the call returned and was journaled")
    assert done and info.value.signum == signal.SIGTERM
    assert interrupts.exit_code_of(info.value) == 143


def test_a_second_signal_stops_at_once(handlers: None) -> None:
    reached = []
    with pytest.raises(interrupts.Interrupted) as info, interrupts.change_in_flight():
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        reached.append("never")
    assert reached == [] and interrupts.exit_code_of(info.value) == 130


def test_outside_a_change_a_signal_stops_at_once(handlers: None) -> None:
    with pytest.raises(interrupts.Interrupted):
        os.kill(os.getpid(), signal.SIGINT)
        json.dumps({})  # a bytecode boundary for the handler to run at
