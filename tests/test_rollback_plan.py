"""The rollback planner and the local ResourcesToSkip validator (aws-semantics §1.4)."""

from __future__ import annotations

from recover.decide.diagnose import diagnose
from recover.decide.rollback_plan import Action, Choices, plan_rollback, validate_skips
from recover.model.stack import NESTED_STACK_TYPE
from recover.taxonomy import Classification, FailureMode
from tests.builders import NodeBuilder, snapshot
from tests.test_detectors import NOSUCHKEY, keyword_classifier


def classifier(message: str) -> Classification:
    if "deleted" in message:
        return Classification(FailureMode.RESOURCE_DELETED_OUT_OF_BAND, "rollback-stuck", "gone")
    return keyword_classifier(message)


def tree() -> tuple[NodeBuilder, NodeBuilder]:
    root = NodeBuilder("shop", "UPDATE_ROLLBACK_FAILED")
    child = NodeBuilder("shop-Api-ABC123DEF456", "UPDATE_ROLLBACK_FAILED", parent=root,
                        logical_id_in_parent="Api")
    root.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
    child.stack_event("UPDATE_IN_PROGRESS")
    child.event("Worker", "UPDATE_FAILED", "Invalid request")
    child.event("Other", "UPDATE_FAILED", "Resource update cancelled")
    child.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    child.event("Handler", "UPDATE_FAILED", NOSUCHKEY)
    child.event("Queue", "UPDATE_FAILED", "Queue was deleted outside CloudFormation",
                rtype="AWS::SQS::Queue")
    child.event("Poller", "UPDATE_FAILED", "Rate exceeded (Service: Lambda)")
    child.stack_event("UPDATE_ROLLBACK_FAILED")
    root.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    root.event("Table", "UPDATE_FAILED", "Table was deleted outside", rtype="AWS::DynamoDB::Table")
    root.event("Api", "UPDATE_FAILED", "Embedded stack failed", rtype=NESTED_STACK_TYPE,
               physical=child.stack_id)
    root.stack_event("UPDATE_ROLLBACK_FAILED")
    for lid in ("Worker", "Other", "Handler", "Poller"):
        child.resource(lid, "UPDATE_FAILED")
    child.resource("Queue", "UPDATE_FAILED", rtype="AWS::SQS::Queue")
    root.resource("Table", "UPDATE_FAILED", rtype="AWS::DynamoDB::Table")
    root.resource("Api", "UPDATE_FAILED", rtype=NESTED_STACK_TYPE, physical=child.stack_id)
    return root, child


def setup():  # type: ignore[no-untyped-def]
    snap = snapshot(*tree())
    return snap, diagnose(snap, classifier)


def test_valid_skips_pass() -> None:
    snap, diag = setup()
    assert validate_skips(snap, list(diag.findings),
                          ["Table", "shop-Api-ABC123DEF456.Queue"]) == []


def test_invalid_skips_get_aws_worded_reasons() -> None:
    snap, diag = setup()
    errors = dict(zip(
        ["Api.Queue", "Queue", "shop.Table", "shop-Api-ABC123DEF456.Worker",
         "shop-Api-ABC123DEF456.Other", "Api", "a.b.c", "Nope"],
        validate_skips(snap, list(diag.findings),
                       ["Api.Queue", "Queue", "shop.Table", "shop-Api-ABC123DEF456.Worker",
                        "shop-Api-ABC123DEF456.Other", "Api", "a.b.c", "Nope"]), strict=True))
    assert "child stack's name: shop-Api-ABC123DEF456.Queue" in errors["Api.Queue"]
    assert "Stack [Api] does not exist" in errors["Api.Queue"]
    assert "skip it as shop-Api-ABC123DEF456.Queue" in errors["Queue"]
    assert "bare logical id: Table" in errors["shop.Table"]
    assert "forward update" in errors["shop-Api-ABC123DEF456.Worker"]
    assert "cancelled" in errors["shop-Api-ABC123DEF456.Other"]
    assert "Nested stacks could not be skipped" in errors["Api"]
    assert "one dot" in errors["a.b.c"]
    assert "no resource Nope" in errors["Nope"]


def test_non_interactive_without_flags_leaves_decisions_open() -> None:
    snap, diag = setup()
    plan = plan_rollback(snap, diag, Choices())
    targets = {u.target for u in plan.undecided}
    assert targets == {"shop-Api-ABC123DEF456.Handler", "shop-Api-ABC123DEF456.Queue", "Table"}
    actions = {d.target: d.action for d in plan.decisions}
    assert actions["shop-Api-ABC123DEF456.Poller"] == Action.RETRY  # throttling: §1.6
    assert actions["shop-Api-ABC123DEF456.Worker"] == Action.AUTOMATIC
    assert plan.skips == []


def test_restore_and_skip_unrecoverable_settle_everything_minimally() -> None:
    snap, diag = setup()
    plan = plan_rollback(snap, diag, Choices(restore_artifacts=True, skip_unrecoverable=True))
    assert plan.undecided == ()
    assert plan.skips == ["Table", "shop-Api-ABC123DEF456.Queue"]
    assert [d.target for d in plan.restores] == ["shop-Api-ABC123DEF456.Handler"]
    skipped = next(d for d in plan.decisions if d.target == "Table")
    assert "rename" in skipped.follow_up and "detect-stack-resource-drift" in skipped.follow_up
    assert validate_skips(snap, list(diag.findings), plan.skips) == []


def test_no_restore_with_skip_unrecoverable_skips_the_function() -> None:
    snap, diag = setup()
    plan = plan_rollback(snap, diag, Choices(restore_artifacts=False, skip_unrecoverable=True))
    assert "shop-Api-ABC123DEF456.Handler" in plan.skips


def test_explicit_skip_and_answers() -> None:
    snap, diag = setup()
    plan = plan_rollback(snap, diag, Choices(skip=["Table"], answers={
        "shop-Api-ABC123DEF456.Queue": Action.SKIP, "shop-Api-ABC123DEF456.Handler": Action.RESTORE}))
    assert plan.undecided == ()
    assert plan.skips == ["Table", "shop-Api-ABC123DEF456.Queue"]
