"""Root cause first (recover.decide.causes) and the one judgement behind the rollback prompt's
default and --skip-unrecoverable (recover.decide.judgement)."""

from __future__ import annotations

from datetime import UTC, datetime

from recover.decide.causes import attribute
from recover.decide.diagnose import diagnose
from recover.decide.findings import Finding
from recover.decide.judgement import RETRY, SKIP, judge
from recover.decide.rollback_plan import Action, Choices, plan_rollback
from recover.explain.classify import classify
from recover.explain.taxonomy import FailureMode
from recover.model.stack import NESTED_STACK_TYPE
from tests.builders import NodeBuilder, snapshot


def finding(logical: str, mode: FailureMode, *, stack: str = "app", phase: str = "rollback",
            minute: int = 0, physical: str = "", reason: str = "", remedied: str = "") -> Finding:
    return Finding(detector="R100", failure_mode=mode, stack_name=stack, stack_id=f"id-{stack}",
                   status="UPDATE_FAILED", reason=reason, runbook="rollback-stuck",
                   explanation="", logical_id=logical, physical_id=physical, phase=phase,
                   timestamp=datetime(2026, 1, 1, 0, minute, tzinfo=UTC), remedied=remedied)


def test_root_cause_is_the_first_cause_event_and_consequences_point_at_causes() -> None:
    found, root = attribute([
        finding("Parent", FailureMode.NESTED_STACK_FAILURE, stack="root", physical="id-child",
                minute=9),
        finding("Alarm", FailureMode.CANCELLED, stack="child", phase="cancelled", minute=2),
        finding("Db", FailureMode.IRREVERSIBLE_CHANGE, stack="child", minute=5),
        finding("Params", FailureMode.REFUSED_VALUE, stack="child", phase="forward", minute=1),
    ])
    roles = {f.logical_id: (f.role, f.consequence_of) for f in found}
    assert root is not None and root.logical_id == "Params"
    assert roles == {"Parent": ("consequence", "child.Params"),
                     "Alarm": ("consequence", "child.Params"),
                     "Db": ("cause", ""), "Params": ("cause", "")}


def test_no_cause_means_no_root_cause() -> None:
    found, root = attribute([finding("Alarm", FailureMode.CANCELLED, phase="cancelled")])
    assert root is None and found[0].role == "consequence" and found[0].consequence_of == ""


def test_diagnosis_json_names_the_root_cause_and_each_role() -> None:
    root = NodeBuilder("shop", "UPDATE_ROLLBACK_FAILED")
    root.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
    root.event("Params", "UPDATE_FAILED", "The parameter group family postgres16 is not valid "
               "for this engine version")
    root.event("Alarm", "UPDATE_FAILED", "Resource update cancelled")
    root.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    root.event("Db", "UPDATE_FAILED", "Cannot upgrade postgres from 16.4 to 15.8",
               rtype="AWS::RDS::DBInstance")
    root.stack_event("UPDATE_ROLLBACK_FAILED")
    for lid in ("Params", "Alarm", "Db"):
        root.resource(lid, "UPDATE_FAILED")
    snap = snapshot(root)
    data = diagnose(snap, classify).to_dict(snap)
    by = {f["logical_id"]: f for f in data["findings"]}
    assert data["root_cause"] == "shop.Params"
    assert {k: (f["failure_mode"], f["role"]) for k, f in by.items()} == {
        "Params": ("refused_value", "cause"), "Alarm": ("cancelled", "consequence"),
        "Db": ("irreversible_change", "cause")}
    assert by["Alarm"]["consequence_of"] == "shop.Params"


def test_failures_a_retry_cannot_fix_default_to_skip_with_the_reason() -> None:
    for mode in (FailureMode.IRREVERSIBLE_CHANGE, FailureMode.RESOURCE_DELETED_OUT_OF_BAND,
                 FailureMode.REFUSED_VALUE):
        verdict = judge(finding("Db", mode))
        assert (verdict.default, verdict.automatic) == (SKIP, False), mode
        assert mode.value in verdict.reason and "fails the same way" in verdict.reason


def test_failures_a_retry_can_fix_default_to_retry() -> None:
    assert judge(finding("Q", FailureMode.THROTTLED)).automatic
    assert judge(finding("Q", FailureMode.UNKNOWN, reason="Rate exceeded")).automatic
    gone = judge(finding("Sg", FailureMode.DELETE_BLOCKED_DEPENDENCY, remedied="eni-1 is gone"))
    assert (gone.default, gone.automatic) == (RETRY, True) and "eni-1 is gone" in gone.reason
    fix = judge(finding("P", FailureMode.PERMISSION_DENIED))
    assert (fix.default, fix.automatic) == (RETRY, False)
    unsure = judge(finding("X", FailureMode.UNKNOWN))
    assert (unsure.default, unsure.automatic) == (RETRY, False)
    assert "cannot tell" in unsure.reason


def test_skip_unrecoverable_uses_the_same_judgement_as_the_prompt() -> None:
    root = NodeBuilder("shop", "UPDATE_ROLLBACK_FAILED")
    root.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
    root.event("Db", "UPDATE_FAILED", "Cannot upgrade postgres from 16.4 to 15.8")
    root.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    root.event("Db", "UPDATE_FAILED", "Cannot upgrade postgres from 16.4 to 15.8")
    root.event("Topic", "UPDATE_FAILED", "Rate exceeded (Service: Sns)")
    root.event("Nested", "UPDATE_FAILED", "Embedded stack failed", rtype=NESTED_STACK_TYPE)
    root.stack_event("UPDATE_ROLLBACK_FAILED")
    for lid in ("Db", "Topic"):
        root.resource(lid, "UPDATE_FAILED")
    snap = snapshot(root)
    diag = diagnose(snap, classify)
    asked = plan_rollback(snap, diag, Choices())
    assert [u.target for u in asked.undecided] == ["Db"]  # the throttled topic is retried
    unattended = plan_rollback(snap, diag, Choices(skip_unrecoverable=True))
    by = {d.target: d for d in unattended.decisions}
    assert by["Db"].action == Action.SKIP
    assert by["Db"].why == "--skip-unrecoverable: " + judge(
        next(f for f in diag.findings if f.logical_id == "Db")).reason
    assert by["Topic"].action == Action.RETRY and "transient" in by["Topic"].why
