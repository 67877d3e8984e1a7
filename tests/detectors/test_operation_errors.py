"""R500 and failure timing from the operation APIs (docs/reference/aws-behaviour.md#stack-operations-and-operation-events):
a failure's phase comes from the type of the operation it belongs to, hook failures are their own
failure mode with the hook's verdict, early validation errors are template_invalid."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from recover.decide.diagnose import diagnose
from recover.decide.phases import Phase, failure_timing
from recover.detectors import r500_operation_errors as r500
from recover.explain.taxonomy import FailureMode
from recover.model.operations import (
    SOURCE_OPERATIONS,
    SOURCE_RECONSTRUCTED,
    HookAnnotation,
    HookResult,
    OperationEvent,
    OperationRef,
    StackOperations,
)
from recover.model.stack import StackSnapshot
from tests.builders import T0, NodeBuilder, snapshot

UPD, RB = OperationRef("UPDATE_STACK", "op-upd"), OperationRef("ROLLBACK", "op-rb")


def _event(lid: str, status: str, reason: str, op: OperationRef, minute: int,
           kind: str = "PROVISIONING_ERROR", **extra: str) -> OperationEvent:
    return OperationEvent(stack_id="", operation_id=op.operation_id,
                          operation_type=op.operation_type, event_type=kind,
                          timestamp=T0 + timedelta(minutes=minute), logical_id=lid,
                          status=status, reason=reason, **extra)


def _with_ops(snap: StackSnapshot, *failed: OperationEvent, hooks: tuple[HookResult, ...] = (),
              source: str = SOURCE_OPERATIONS) -> StackSnapshot:
    root = snap.nodes[0]
    ops = StackOperations(stack_id=root.stack_id, source=source, operations=(RB, UPD),
                          failed=tuple(replace(e, stack_id=root.stack_id) for e in failed),
                          hooks=hooks)
    return replace(snap, nodes=(replace(root, operations=ops), *snap.nodes[1:]))


def test_phase_comes_from_the_operation_type_without_any_stack_event() -> None:
    b = NodeBuilder("shop", "UPDATE_ROLLBACK_FAILED")
    b.resource("Fn", "UPDATE_FAILED", reason="x").resource("Queue", "UPDATE_FAILED", reason="y")
    b.resource("Other", "UPDATE_FAILED", reason="Resource update cancelled")
    snap = _with_ops(snapshot(b),
                     _event("Queue", "UPDATE_FAILED", "Rate exceeded", UPD, 1),
                     _event("Other", "UPDATE_FAILED", "Resource update cancelled", UPD, 1),
                     _event("Fn", "UPDATE_FAILED", "S3 Error Code: NoSuchKey", RB, 3))
    node = snap.root
    assert not node.events  # the operations path reads no stack event
    assert failure_timing(node, node.resource("Fn")).phase == Phase.ROLLBACK  # type: ignore[arg-type]
    assert failure_timing(node, node.resource("Queue")).phase == Phase.FORWARD  # type: ignore[arg-type]
    assert failure_timing(node, node.resource("Other")).phase == Phase.CANCELLED  # type: ignore[arg-type]
    d = diagnose(snap)
    by_id = {f.logical_id: f for f in d.findings}
    assert by_id["Fn"].skippable and by_id["Fn"].skip_id == "Fn"
    assert not by_id["Queue"].skippable
    assert by_id["Fn"].failure_mode == FailureMode.MISSING_ARTIFACT


def test_hook_failure_is_its_own_mode_with_the_hooks_verdict() -> None:
    b = NodeBuilder("web", "UPDATE_ROLLBACK_COMPLETE")
    b.resource("SiteBucket", "UPDATE_COMPLETE", rtype="AWS::S3::Bucket")
    result = HookResult(
        hook_result_id="h-1", type_name="Org::Security::S3Hook", failure_mode="FAIL",
        status="HOOK_COMPLETE_FAILED", reason="Bucket allows public reads",
        annotations=(HookAnnotation("S3_PUBLIC_READ", "FAILED", "public ACL",
                                    "Block public access to the bucket", "", "HIGH"),))
    snap = _with_ops(snapshot(b), _event(
        "SiteBucket", "UPDATE_FAILED", "The following hook(s) failed: [Org::Security::S3Hook]",
        UPD, 1, kind="HOOK_INVOCATION_ERROR", hook_type="Org::Security::S3Hook",
        hook_status="HOOK_COMPLETE_FAILED", hook_reason="Bucket allows public reads",
        hook_failure_mode="FAIL", hook_invocation_id="h-1"), hooks=(result,))
    d = diagnose(snap)
    [f] = [f for f in d.findings if f.detector == r500.ID]
    assert f.failure_mode == FailureMode.HOOK_FAILURE and f.role == "cause"
    assert f.extracted["hook_type"] == "Org::Security::S3Hook"
    assert f.extracted["hook_failure_mode"] == "FAIL"
    assert f.extracted["annotations"][0]["remediation"] == "Block public access to the bucket"
    assert "Block public access to the bucket" in f.explanation
    assert "Bucket allows public reads" in f.explanation
    assert d.root_cause is not None and d.root_cause.key == f.key
    assert d.runbook is None  # plain advice: no runbook fixes a template


def test_warn_mode_hook_is_not_a_finding() -> None:
    b = NodeBuilder("web", "UPDATE_COMPLETE")
    snap = _with_ops(snapshot(b), _event(
        "SiteBucket", "UPDATE_COMPLETE", "", UPD, 1, kind="HOOK_INVOCATION_ERROR",
        hook_type="Org::Security::S3Hook", hook_status="HOOK_COMPLETE_FAILED",
        hook_failure_mode="WARN"))
    assert r500.detect(snap, lambda m: None) == []  # type: ignore[arg-type,return-value]


def test_validation_error_is_template_invalid_with_its_path() -> None:
    b = NodeBuilder("web", "UPDATE_ROLLBACK_COMPLETE")
    snap = _with_ops(snapshot(b), _event(
        "Table", "", "", UPD, 1, kind="VALIDATION_ERROR", validation_name="PROPERTY_VALIDATION",
        validation_path="/Resources/Table/Properties/BillingMode",
        validation_reason="BillingMode must be PROVISIONED or PAY_PER_REQUEST"))
    [f] = r500.detect(snap, lambda m: None)  # type: ignore[arg-type,return-value]
    assert f.failure_mode == FailureMode.TEMPLATE_INVALID
    assert f.extracted["validation_path"] == "/Resources/Table/Properties/BillingMode"
    assert "PAY_PER_REQUEST" in f.explanation


def test_reconstructed_path_still_times_by_stack_events() -> None:
    b = NodeBuilder("shop", "UPDATE_ROLLBACK_FAILED")
    b.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
    b.event("Fn", "UPDATE_FAILED", "boom")
    b.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    b.resource("Fn", "UPDATE_FAILED", reason="boom")
    snap = _with_ops(snapshot(b), source=SOURCE_RECONSTRUCTED)
    assert failure_timing(snap.root, snap.root.resource("Fn")).phase == Phase.FORWARD  # type: ignore[arg-type]
