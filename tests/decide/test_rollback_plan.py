"""The rollback planner and the local ResourcesToSkip validator (docs/reference/aws-behaviour.md#resourcestoskip-rules)."""

from __future__ import annotations

from recover.decide.diagnose import diagnose
from recover.decide.rollback_plan import Action, Choices, plan_rollback, validate_skips
from recover.explain.taxonomy import Classification, FailureMode
from recover.model.stack import NESTED_STACK_TYPE, RoleCheck
from tests.builders import ACCOUNT, NodeBuilder, snapshot
from tests.detectors.test_detectors import NOSUCHKEY, keyword_classifier


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
    assert actions["shop-Api-ABC123DEF456.Poller"] == Action.RETRY  # throttling: docs/reference/aws-behaviour.md#why-a-rollback-fails
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


ROLE = f"arn:aws:iam::{ACCOUNT}:role/ops/svc-cfn-role"
ROLE_MESSAGE = f"Role {ROLE} is invalid or cannot be assumed"


def role_world(state: str | None, reason: str = ROLE_MESSAGE):  # type: ignore[no-untyped-def]
    """Root and child run as ROLE; the rollback failed in both because of `reason`. `state` is
    what the snapshot's iam:GetRole read says now (None: not read)."""
    root = NodeBuilder("shop", "UPDATE_ROLLBACK_FAILED", role_arn=ROLE)
    child = NodeBuilder("shop-Api-ABC123DEF456", "UPDATE_ROLLBACK_FAILED", parent=root,
                        logical_id_in_parent="Api", role_arn=ROLE)
    root.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
    child.stack_event("UPDATE_IN_PROGRESS")
    child.event("Dlq", "UPDATE_FAILED", "Invalid request", rtype="AWS::SQS::Queue")
    child.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    child.event("Jobs", "UPDATE_FAILED", reason, rtype="AWS::SQS::Queue")
    child.stack_event("UPDATE_ROLLBACK_FAILED")
    root.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    root.event("Topic", "UPDATE_FAILED", reason, rtype="AWS::SNS::Topic")
    root.event("Api", "UPDATE_FAILED", "Embedded stack failed", rtype=NESTED_STACK_TYPE,
               physical=child.stack_id)
    root.stack_event("UPDATE_ROLLBACK_FAILED")
    child.resource("Dlq", "UPDATE_FAILED", rtype="AWS::SQS::Queue")
    child.resource("Jobs", "UPDATE_FAILED", rtype="AWS::SQS::Queue", reason=reason)
    root.resource("Topic", "UPDATE_FAILED", rtype="AWS::SNS::Topic", reason=reason)
    root.resource("Api", "UPDATE_FAILED", rtype=NESTED_STACK_TYPE, physical=child.stack_id)
    roles = () if state is None else (RoleCheck(arn=ROLE, state=state, role_id="AROANEW"),)
    snap = snapshot(root, child, roles=roles)
    return snap, diagnose(snap)  # the real classifier: the message is AWS's verbatim text


def test_role_failures_are_retried_once_the_snapshot_shows_the_role_back() -> None:
    snap, diag = role_world("exists")
    plan = plan_rollback(snap, diag, Choices())
    assert not plan.blocked and not plan.undecided and plan.skips == []
    retried = {d.target: d for d in plan.decisions if d.action == Action.RETRY}
    assert set(retried) == {"Topic", "shop-Api-ABC123DEF456.Jobs"}
    assert all("svc-cfn-role exists again" in d.why for d in retried.values())
    # the fact is on the finding, for every report; the runbook is no longer the role's
    assert all(f.remedied for f in diag.findings if f.logical_id in ("Topic", "Jobs"))
    assert diag.runbook == "rollback-stuck"


def test_role_failures_block_while_the_role_is_not_usable() -> None:
    for state in ("missing", "untrusting", "other_path", None):
        snap, diag = role_world(state)
        plan = plan_rollback(snap, diag, Choices(skip_unrecoverable=True))
        assert plan.blocked and plan.skips == [], state
        assert not any(f.remedied for f in diag.findings), state
        assert diag.runbook == "bootstrap-role", state


def test_remedied_failure_still_honours_an_explicit_skip() -> None:
    snap, diag = role_world("exists")
    plan = plan_rollback(snap, diag, Choices(skip=["Topic"]))
    assert plan.skips == ["Topic"]


def test_a_role_named_in_a_message_is_not_confused_with_another() -> None:
    """The fact must be about the role the failure names: another role existing is no remedy."""
    other = f"arn:aws:iam::{ACCOUNT}:role/ops/another-role"
    snap, diag = role_world("exists", reason=f"Role {other} is invalid or cannot be assumed")
    plan = plan_rollback(snap, diag, Choices())
    assert plan.blocked and not any(d.action == Action.RETRY for d in plan.decisions)
