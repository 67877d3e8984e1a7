"""The postmortem's timeline per operation (recover.bundle.operations): grouped by OperationId
where events carry it, reconstructed from the stack's status events where they do not; each
with duration and outcome, and the recover call that started it."""

from __future__ import annotations

from dataclasses import replace

from recover.bundle.model import RunFolder
from recover.bundle.operations import ROLLED_BACK, group_operations
from recover.bundle.render_md import operations_section
from recover.model.operations import OperationRef
from tests.builders import NodeBuilder, snapshot


def failed_then_continued() -> NodeBuilder:
    b = NodeBuilder("shop", "UPDATE_ROLLBACK_COMPLETE")
    b.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
    b.event("Fn", "UPDATE_IN_PROGRESS").event("Fn", "UPDATE_FAILED", "boom")
    b.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Fn]")
    b.event("Fn", "UPDATE_FAILED", "NoSuchKey")
    b.stack_event("UPDATE_ROLLBACK_FAILED")
    b.stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
    b.event("Fn", "UPDATE_COMPLETE")
    b.stack_event("UPDATE_ROLLBACK_COMPLETE")
    return b


def with_ids(b: NodeBuilder, ids: list[str], token: str = "") -> None:
    """Stamp each event with the id of the operation it belongs to (4 events, 2, 3)."""
    spans = [ids[0]] * 3 + [ids[1]] * 3 + [ids[2]] * 3
    b.events = [replace(e, operation_id=i, client_request_token=token if i == ids[2] else "")
                for e, i in zip(b.events, spans, strict=True)]


def test_operations_by_id_with_types_durations_outcomes_and_who_started_them() -> None:
    b = failed_then_continued()
    with_ids(b, ["op-u", "op-r", "op-c"], token="recover-tok")
    snap = snapshot(b)
    root = snap.nodes[0]
    snap = replace(snap, nodes=(replace(root, info=replace(root.info, last_operations=(
        OperationRef("CONTINUE_ROLLBACK", "op-c"), OperationRef("ROLLBACK", "op-r"),
        OperationRef("UPDATE_STACK", "op-u")))),))
    run = RunFolder("shop-20261120T030000Z", {"command": "rollback-stuck"}, [
        {"seq": 1, "kind": "call", "phase": "before", "call": {
            "operation": "ContinueUpdateRollback", "params": {"ClientRequestToken": "other"}}},
        {"seq": 3, "kind": "operation_started", "ref": 1, "operation": "ContinueUpdateRollback",
         "operation_id": "op-c"}], {}, {})
    ops = group_operations(snap, [run])
    assert [(o["operation_type"], o["operation_id"], o["outcome"]) for o in ops] == [
        ("UPDATE_STACK", "op-u", ROLLED_BACK),
        ("ROLLBACK", "op-r", "UPDATE_ROLLBACK_FAILED"),
        ("CONTINUE_ROLLBACK", "op-c", "UPDATE_ROLLBACK_COMPLETE")]
    assert ops[0]["failed"] == ["Fn"] and ops[1]["failed"] == ["Fn"]
    assert ops[0]["duration_s"] == 10.0  # 3 events 5 s apart
    assert ops[2]["started_by"] == "shop-20261120T030000Z: ContinueUpdateRollback"
    assert all(o["grouped_by"] == "OperationId" for o in ops)
    page = "\n".join(operations_section(ops))
    assert "| CONTINUE_ROLLBACK | op-c |" in page and "Grouped by CloudFormation's" in page


def test_without_operation_ids_operations_are_reconstructed_from_status_events() -> None:
    ops = group_operations(snapshot(failed_then_continued()), [])
    assert [(o["operation_type"], o["operation_id"], o["outcome"]) for o in ops] == [
        ("UPDATE_STACK", None, ROLLED_BACK),
        ("ROLLBACK", None, "UPDATE_ROLLBACK_FAILED"),
        ("CONTINUE_ROLLBACK", None, "UPDATE_ROLLBACK_COMPLETE")]
    assert all(o["grouped_by"] == "stack status events" for o in ops)
    assert "reconstructed" in "\n".join(operations_section(ops))
