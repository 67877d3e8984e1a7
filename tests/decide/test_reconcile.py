"""The reconcile planner (pure): one verdict per open skip, from its drift."""

from __future__ import annotations

from recover.decide.reconcile import (
    BY_HAND,
    CLOSE,
    PLAIN,
    REVERT,
    change_set_params,
    open_skips,
    parse_target,
    plan_reconcile,
    skip_record,
    skips_in_journal,
)
from recover.model.drift import PropertyDifference, ResourceDrift

ROOT = "arn:aws:cloudformation:us-east-1:1:stack/app/1"
CHILD = "arn:aws:cloudformation:us-east-1:1:stack/app-Data-X/2"


def entry(lid: str, stack_id: str = ROOT) -> dict:
    return skip_record(target=lid, stack_name="app", stack_id=stack_id, root="app",
                       logical_id=lid, resource_type="AWS::SQS::Queue", physical_id=lid,
                       region="us-east-1", account="1", reason="r", skipped_at="t", run_id="x",
                       evidence_dir="e", source="test")


def drift(lid: str, status: str, rtype: str = "AWS::SQS::Queue", stack_id: str = ROOT,
          diffs: tuple = ()) -> ResourceDrift:
    return ResourceDrift(stack_id, "app", lid, rtype, lid, status, diffs, "")


def test_each_status_gets_its_verdict() -> None:
    diff = (PropertyDifference("/VisibilityTimeout", "30", "120", "NOT_EQUAL"),)
    plan = plan_reconcile([
        (entry("A"), drift("A", "IN_SYNC")), (entry("B"), drift("B", "MODIFIED", diffs=diff)),
        (entry("C"), drift("C", "DELETED")),
        (entry("D"), drift("D", "UNSUPPORTED", "Custom::Thing")),
        (entry("E"), drift("E", "UNAVAILABLE"))], root_id=ROOT)
    assert [v.action for v in plan.verdicts] == [CLOSE, REVERT, REVERT, BY_HAND, BY_HAND]
    assert plan.verdicts[1].differences == ({"path": "/VisibilityTimeout", "expected": "30",
                                             "actual": "120", "type": "NOT_EQUAL"},)
    assert [v.target for v in plan.still_open] == ["B", "C", "D", "E"]
    assert not plan.nested and not plan.fallback


def test_without_revert_drift_the_plain_path_says_what_to_set_back() -> None:
    diff = (PropertyDifference("/VisibilityTimeout", "30", "120", "NOT_EQUAL"),)
    plan = plan_reconcile([(entry("B"), drift("B", "MODIFIED", diffs=diff)),
                           (entry("C"), drift("C", "DELETED"))], root_id=ROOT,
                          revert_unavailable="old SDK")
    assert [v.action for v in plan.verdicts] == [PLAIN, PLAIN]
    assert not plan.to_revert and plan.fallback == "old SDK"
    assert any("'120' back to '30'" in line for line in plan.verdicts[0].by_hand)
    assert "rename-to-replace" in plan.verdicts[1].by_hand[0]


def test_a_custom_resource_is_never_reverted_even_when_modified() -> None:
    plan = plan_reconcile([(entry("H"), drift("H", "MODIFIED", "Custom::Hook"))], root_id=ROOT)
    assert plan.verdicts[0].action == PLAIN


def test_a_nested_skip_asks_for_nested_change_sets() -> None:
    plan = plan_reconcile([(entry("T", CHILD), drift("T", "MODIFIED", stack_id=CHILD))],
                          root_id=ROOT)
    assert plan.nested
    params = change_set_params(stack_id=ROOT, name="n", parameters=["Env"], capabilities=[],
                               nested=plan.nested, token="t")
    assert params["DeploymentMode"] == "REVERT_DRIFT" and params["IncludeNestedStacks"] is True
    assert params["UsePreviousTemplate"] is True
    assert params["Parameters"] == [{"ParameterKey": "Env", "UsePreviousValue": True}]


def test_skips_in_journal_counts_only_calls_aws_accepted() -> None:
    def before(seq: int, skips: list[str]) -> dict:
        return {"kind": "call", "phase": "before", "seq": seq, "call": {
            "operation": "ContinueUpdateRollback", "params": {"ResourcesToSkip": skips}}}
    journal = [before(1, ["A", "child.B"]), {"kind": "call", "phase": "after", "ref": 1, "ok": True},
               before(3, ["C"]), {"kind": "call", "phase": "after", "ref": 3, "ok": False},
               before(5, ["D"])]  # no answer: not known to have happened
    assert skips_in_journal(journal) == ["A", "child.B"]
    assert parse_target("child.B", "app") == ("child", "B")
    assert parse_target("A", "app") == ("app", "A")


def test_open_skips_are_the_open_skipped_entries_of_the_tree() -> None:
    a, b = entry("A"), entry("B", "arn:other")
    closed = dict(entry("C"), state="in_sync")
    retained = {"id": "orph-1", "state": "retained"}
    assert open_skips([a, b, closed, retained], [ROOT]) == [a]
