"""Executor (journal before/after, dry-run), planned calls' CLI rendering, plan files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.plan import Plan, precondition_changes, preconditions_of
from recover.run.errors import InputError
from recover.run.evidence import Journal, read_journal
from tests.builders import NodeBuilder, snapshot
from tests.conftest import FakeClock, OfflineSessionFactory

CUR = Call("cloudformation", "ContinueUpdateRollback",
           {"StackName": "shop", "ResourcesToSkip": ["Table", "shop-Api-X.Queue"],
            "ClientRequestToken": "recover-1"}, "continue the rollback")


def test_cli_rendering() -> None:
    assert CUR.cli() == ("aws cloudformation continue-update-rollback --stack-name shop "
                         "--resources-to-skip Table shop-Api-X.Queue --client-request-token recover-1")
    put = Call("s3", "PutObject", {"Bucket": "b", "Key": "k 1.zip", "Body": b"zip", "IfNoneMatch": "*"},
               "restore", files={"Body": "/tmp/k.zip"})
    assert put.cli() == ("aws s3api put-object --bucket b --key 'k 1.zip' --body fileb:///tmp/k.zip "
                         "--if-none-match '*'")
    assert put.to_dict()["params"]["Body"]["size"] == 3  # bytes never go into journals/plans


def test_executor_journals_before_and_after(tmp_path: Path) -> None:
    aws = OfflineSessionFactory(region="eu-west-1")
    aws.stub("cloudformation").add_response("continue_update_rollback", {},
                                            dict(CUR.params))
    journal = Journal(tmp_path / "j.jsonl", FakeClock())
    Executor(aws, journal).run(CUR)
    entries = read_journal(tmp_path / "j.jsonl")
    assert [(e["kind"], e.get("phase")) for e in entries] == [
        ("call", "before"), ("call", "after"), ("operation_started", None)]
    assert entries[1]["ok"] is True and entries[1]["ref"] == entries[0]["seq"]
    assert entries[0]["call"]["cli"].startswith("aws cloudformation continue-update-rollback")


STACK = {"StackName": "shop", "StackStatus": "UPDATE_ROLLBACK_IN_PROGRESS",
         "CreationTime": "2026-11-20T02:00:00Z"}


def test_executor_ties_a_stack_call_to_the_operation_it_started(tmp_path: Path) -> None:
    """docs/reference/aws-behaviour.md#unconfirmed-operation-details: read LastOperations back
    after the call and take the first entry of the type the call starts."""
    aws = OfflineSessionFactory(region="eu-west-1")
    stub = aws.stub("cloudformation")
    stub.add_response("continue_update_rollback", {}, dict(CUR.params))
    stub.add_response("describe_stacks", {"Stacks": [dict(STACK, LastOperations=[
        {"OperationType": "ROLLBACK", "OperationId": "op-rb"},
        {"OperationType": "CONTINUE_ROLLBACK", "OperationId": "op-cont"},
        {"OperationType": "UPDATE_STACK", "OperationId": "op-upd"}])]}, {"StackName": "shop"})
    journal = Journal(tmp_path / "j.jsonl", FakeClock())
    ex = Executor(aws, journal)
    ex.run(CUR)
    started = read_journal(tmp_path / "j.jsonl")[-1]
    assert started["kind"] == "operation_started"
    assert (started["operation_id"], started["operation_type"], started["source"]) == (
        "op-cont", "CONTINUE_ROLLBACK", "LastOperations")
    assert started["ref"] == read_journal(tmp_path / "j.jsonl")[0]["seq"]
    assert ex.operations[0]["operation_id"] == "op-cont"


def test_executor_says_when_no_operation_id_can_be_read(tmp_path: Path) -> None:
    aws = OfflineSessionFactory(region="eu-west-1")
    stub = aws.stub("cloudformation")
    stub.add_response("continue_update_rollback", {}, dict(CUR.params))
    stub.add_response("describe_stacks", {"Stacks": [STACK]}, {"StackName": "shop"})
    journal = Journal(tmp_path / "j.jsonl", FakeClock())
    Executor(aws, journal).run(CUR)
    started = read_journal(tmp_path / "j.jsonl")[-1]
    assert started["operation_id"] is None
    assert "ClientRequestToken is the link" in started["source"]


def test_executor_journals_failures(tmp_path: Path) -> None:
    aws = OfflineSessionFactory(region="eu-west-1")
    aws.stub("cloudformation").add_client_error("continue_update_rollback", "ValidationError",
                                                "Stack is in UPDATE_COMPLETE state")
    journal = Journal(tmp_path / "j.jsonl", FakeClock())
    with pytest.raises(Exception, match="UPDATE_COMPLETE"):
        Executor(aws, journal).run(CUR)
    after = read_journal(tmp_path / "j.jsonl")[-1]
    assert after["ok"] is False and after["error"]["code"] == "ValidationError"


def test_dry_run_never_calls_aws(tmp_path: Path) -> None:
    aws = OfflineSessionFactory(region="eu-west-1")  # no reply queued: a real call would fail
    journal = Journal(tmp_path / "j.jsonl", FakeClock())
    ex = Executor(aws, journal, dry_run=True)
    assert ex.run(CUR) == {}
    assert ex.would_run == [CUR]
    assert read_journal(tmp_path / "j.jsonl")[0]["kind"] == "dry_run"


def test_torn_journal_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    Journal(path, FakeClock()).append("answer", question="q", answer="yes")
    with open(path, "a") as fh:
        fh.write('{"seq": 2, "kind": "call", "pha')
    assert len(read_journal(path)) == 1


def _snap(status: str = "UPDATE_ROLLBACK_FAILED"):  # type: ignore[no-untyped-def]
    st = NodeBuilder("shop", status).resource("Fn", "UPDATE_FAILED")
    return snapshot(st)


def test_plan_round_trip_and_preconditions(tmp_path: Path) -> None:
    snap = _snap()
    plan = Plan(runbook="rollback-stuck", stack="shop", stack_id=snap.root_id, region="eu-west-1",
                account="123456789012", created_at=datetime(2026, 11, 23, tzinfo=UTC),
                preconditions=preconditions_of(snap), calls=[CUR],
                decisions=[{"target": "Fn", "action": "skip"}])
    path = tmp_path / "plan.json"
    plan.save(path)
    again = Plan.load(path)
    assert again.calls == [CUR] and again.preconditions == plan.preconditions
    assert precondition_changes(plan.preconditions, preconditions_of(_snap())) == []
    moved = precondition_changes(plan.preconditions, preconditions_of(_snap("UPDATE_ROLLBACK_IN_PROGRESS")))
    assert moved == ["stack shop is now UPDATE_ROLLBACK_IN_PROGRESS (plan expected UPDATE_ROLLBACK_FAILED)"]


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"plan_version": 99}',
                                     '{"plan_version": 1, "runbook": "x", "stack": "s", "stack_id": "i",'
                                     ' "preconditions": {}, "calls": [{"service": "s"}], "created_at": "2026-01-01"}'])
def test_malformed_plans_are_one_line_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        Plan.load(path)
    assert "\n" not in err.value.message and str(path) in err.value.message


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        Plan.load(tmp_path / "nope.json")
    assert json.dumps(CUR.to_dict())


def test_judge_tells_our_lost_write_from_someone_elses() -> None:
    from recover.artifacts.own_write import judge

    assert judge(["v0"], [("v2", "theirs"), ("v1", "ours")], "ours") == ("answer_lost", "v1",
                                                                           "ours")
    assert judge(["v0"], [("v1", "theirs")], "ours") == ("other", "v1", "theirs")
    assert judge(["v0"], [], "ours") == ("other", None, None)  # nothing new: not ours
    assert judge(None, [("v1", "ours")], "ours")[0] == "unknown"  # no listing before the call
    assert judge([], [("null", "ours")], None)[0] == "unknown"  # bytes sent unknown
