"""Detectors and runbook choice on snapshots built from real event shapes.

The classifier is injected (a keyword stand-in) so these tests pin the timing and skip rules;
tests/test_diagnose.py runs the real classifier end to end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recover.decide.diagnose import diagnose
from recover.detectors import load_detectors
from recover.explain.taxonomy import Classification, FailureMode
from recover.model.stack import NESTED_STACK_TYPE, RoleCheck
from tests.builders import NodeBuilder, arn, snapshot

NOSUCHKEY = ('Resource handler returned message: "Error occurred while GetObject. S3 Error Code: '
             'NoSuchKey. S3 Error Message: The specified key does not exist. (Service: Lambda, '
             'Status Code: 400, Request ID: 1)" (RequestToken: 2, HandlerErrorCode: InvalidRequest)')


def keyword_classifier(message: str) -> Classification:
    if "NoSuchKey" in message:
        return Classification(FailureMode.MISSING_ARTIFACT, "artifacts", "code object gone",
                              rule="test")
    return Classification(FailureMode.UNKNOWN, None, "unknown", rule="test")


def rollback_failed_tree() -> tuple[NodeBuilder, NodeBuilder]:
    root = NodeBuilder("shop", "UPDATE_ROLLBACK_FAILED")
    child = NodeBuilder("shop-Api-ABC123DEF456", "UPDATE_ROLLBACK_FAILED", parent=root,
                        logical_id_in_parent="Api")
    root.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
    child.stack_event("UPDATE_IN_PROGRESS")
    child.event("Worker", "UPDATE_IN_PROGRESS").event("Worker", "UPDATE_FAILED", "Rate exceeded")
    child.event("Other", "UPDATE_FAILED", "Resource update cancelled")
    child.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Worker]")
    child.event("Handler", "UPDATE_IN_PROGRESS").event("Handler", "UPDATE_FAILED", NOSUCHKEY)
    child.stack_event("UPDATE_ROLLBACK_FAILED")
    root.event("Api", "UPDATE_FAILED", "Embedded stack failed", rtype=NESTED_STACK_TYPE,
               physical=child.stack_id)
    root.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    root.event("Table", "UPDATE_FAILED", "Table was deleted outside", rtype="AWS::DynamoDB::Table")
    root.event("Api", "UPDATE_FAILED", "Embedded stack was not successfully updated",
               rtype=NESTED_STACK_TYPE, physical=child.stack_id)
    root.stack_event("UPDATE_ROLLBACK_FAILED")
    child.resource("Worker", "UPDATE_FAILED").resource("Other", "UPDATE_FAILED")
    child.resource("Handler", "UPDATE_FAILED").resource("Ok", "UPDATE_COMPLETE")
    root.resource("Table", "UPDATE_FAILED", rtype="AWS::DynamoDB::Table")
    root.resource("Api", "UPDATE_FAILED", rtype=NESTED_STACK_TYPE, physical=child.stack_id)
    return root, child


def test_rollback_failures_are_timed_and_named_as_aws_wants() -> None:
    root, child = rollback_failed_tree()
    diag = diagnose(snapshot(root, child), keyword_classifier)
    by_id = {(f.stack_name, f.logical_id): f for f in diag.findings}
    handler = by_id[(child.name, "Handler")]
    assert handler.phase == "rollback" and handler.skippable
    assert handler.skip_id == "shop-Api-ABC123DEF456.Handler"  # child stack NAME, not logical id
    assert handler.failure_mode == FailureMode.MISSING_ARTIFACT
    worker = by_id[(child.name, "Worker")]
    assert worker.phase == "forward" and not worker.skippable and worker.skip_id == ""
    other = by_id[(child.name, "Other")]
    assert other.phase == "cancelled" and not other.skippable
    table = by_id[("shop", "Table")]
    assert table.skippable and table.skip_id == "Table"  # root resources: bare logical id
    api = by_id[("shop", "Api")]
    # The nested-stack resource cannot be skipped while its child is UPDATE_ROLLBACK_FAILED.
    assert api.failure_mode == FailureMode.NESTED_STACK_FAILURE and not api.skippable
    assert diag.runbook == "artifacts"


def test_nested_stack_resource_is_skippable_once_the_child_is_deleted() -> None:
    root, child = rollback_failed_tree()
    child.status = "DELETE_COMPLETE"
    diag = diagnose(snapshot(root, child), keyword_classifier)
    api = next(f for f in diag.findings if f.logical_id == "Api")
    assert api.skippable and api.skip_id == "Api"


def test_without_missing_artifacts_the_runbook_is_rollback_stuck() -> None:
    root, child = rollback_failed_tree()
    child.resources = [r for r in child.resources if r.logical_id != "Handler"]
    assert diagnose(snapshot(root, child), keyword_classifier).runbook == "rollback-stuck"


def test_delete_failed_resources_are_retainable() -> None:
    st = NodeBuilder("legacy", "DELETE_FAILED")
    st.stack_event("DELETE_IN_PROGRESS", "User Initiated")
    st.event("Bucket", "DELETE_FAILED", "The bucket you tried to delete is not empty",
             rtype="AWS::S3::Bucket")
    st.event("Fn", "DELETE_COMPLETE")
    st.resource("Bucket", "DELETE_FAILED", rtype="AWS::S3::Bucket").resource("Fn", "DELETE_COMPLETE")
    diag = diagnose(snapshot(st), keyword_classifier)
    assert [f.logical_id for f in diag.findings] == ["Bucket"]
    assert diag.findings[0].extracted["retainable"] is True
    assert diag.runbook == "delete-failed"


def test_missing_service_role_comes_first() -> None:
    role = "arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1"
    st = NodeBuilder("CdkApp", "UPDATE_ROLLBACK_FAILED", role_arn=role)
    diag = diagnose(snapshot(st, roles=(RoleCheck(role, "missing", detail="NoSuchEntity"),)),
                    keyword_classifier)
    assert diag.runbook == "bootstrap-role"
    f = next(f for f in diag.findings if f.detector == "R300")
    assert f.extracted["qualifier"] == "hnb659fds" and f.extracted["cdk"] is True


def test_role_failure_seen_only_in_events() -> None:
    st = NodeBuilder("app", "UPDATE_COMPLETE")
    st.stack_event("DELETE_FAILED", "Role arn:aws:iam::123456789012:role/deployer is invalid or "
                   "cannot be assumed")
    diag = diagnose(snapshot(st), keyword_classifier)
    assert diag.runbook == "bootstrap-role"
    assert diag.findings[0].extracted["role_name"] == "deployer"


def test_healthy_stack_has_no_findings() -> None:
    st = NodeBuilder("ok", "UPDATE_COMPLETE").resource("Fn", "UPDATE_COMPLETE")
    diag = diagnose(snapshot(st), keyword_classifier)
    assert diag.healthy and diag.runbook is None


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_FAILED",
                                    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_blocking_statuses_get_advice(status: str) -> None:
    diag = diagnose(snapshot(NodeBuilder("s", status)), keyword_classifier)
    assert diag.findings and diag.findings[0].failure_mode == FailureMode.STACK_STATE_BLOCKED


def test_an_express_update_failed_stack_is_its_own_mode_and_never_told_to_roll_back() -> None:
    """R900: after a failed EXPRESS update RollbackStack and classic updates are refused
    (docs/reference/aws-behaviour.md#express-deployment-mode): the advice names express-failed."""
    st = NodeBuilder("fast", "UPDATE_FAILED", deployment_mode="EXPRESS")
    st.event("Table", "UPDATE_FAILED", "Replacement type updates not supported on stack with "
             "disable-rollback.", rtype="AWS::DynamoDB::Table")
    st.resource("Table", "UPDATE_FAILED", rtype="AWS::DynamoDB::Table")
    diag = diagnose(snapshot(st), keyword_classifier)
    state = [f for f in diag.findings if f.detector == "R900"]
    assert [f.failure_mode for f in state] == [FailureMode.EXPRESS_UPDATE_FAILED]
    advice = state[0].explanation
    assert "call RollbackStack" not in advice and "retry the update" not in advice
    assert "EXPRESS mode" in advice
    assert diag.runbook == "express-failed"
    classic = diagnose(snapshot(NodeBuilder("slow", "UPDATE_FAILED", deployment_mode="STANDARD")),
                       keyword_classifier)
    assert classic.findings[0].failure_mode == FailureMode.STACK_STATE_BLOCKED


def test_a_crashing_detector_becomes_a_finding() -> None:
    def broken(message: str) -> Classification:
        raise RuntimeError("boom")

    root, child = rollback_failed_tree()
    diag = diagnose(snapshot(root, child), broken)
    assert any(f.detector == "E0002" and "boom" in f.reason for f in diag.findings)


def test_catalog_ids_are_unique_and_every_detector_has_a_test() -> None:
    mods = load_detectors()
    ids = [m.ID for m in mods]
    assert len(ids) == len(set(ids))
    here = Path(__file__).read_text()
    for m in mods:
        assert m.TITLE and m.PERMISSIONS
        assert m.__name__.rsplit(".", 1)[1].startswith(m.ID.lower())
        assert m.ID in here or m.__name__ in here, f"no test names detector {m.ID}"
    assert arn("x").endswith("/0000-x")


# Detector ids exercised above: R100 (rollback), R200 (delete), R300 (role), R400 (custom
# resource waiting), R900 (status). R500 (hook and validation failures of an operation):
# tests/detectors/test_operation_errors.py.


def test_r400_a_custom_resource_in_progress_points_to_custom_resource() -> None:
    """R400: a custom resource *_IN_PROGRESS in a stack *_IN_PROGRESS waits for its handler;
    diagnose chooses custom-resource. A finished one, or a plain resource in progress, is not."""
    st = NodeBuilder("reports", "DELETE_IN_PROGRESS")
    st.stack_event("DELETE_IN_PROGRESS", "User Initiated")
    st.event("Dns", "DELETE_IN_PROGRESS", rtype="Custom::DnsRecord")
    st.resource("Dns", "DELETE_IN_PROGRESS", rtype="Custom::DnsRecord")
    st.resource("Seed", "DELETE_COMPLETE", rtype="AWS::CloudFormation::CustomResource")
    st.resource("Fn", "DELETE_IN_PROGRESS")
    diag = diagnose(snapshot(st), keyword_classifier)
    waiting = [f for f in diag.findings if f.detector == "R400"]
    assert [(f.logical_id, f.failure_mode) for f in waiting] == [
        ("Dns", FailureMode.CUSTOM_RESOURCE_WAITING)]
    assert waiting[0].timestamp is not None
    assert diag.runbook == "custom-resource"
