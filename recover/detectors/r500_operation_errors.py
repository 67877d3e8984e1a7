"""R500: what the operation APIs type as validation and hook failures
(docs/reference/aws-behaviour.md#stack-operations-and-operation-events).

A hook failure is a failure mode of its own (`hook_failure`): which hook, its failure mode (FAIL
stops the provisioning, WARN only warns), its reason, and its annotations' remediation from
GetHookResult. A WARN verdict stopped nothing: it is not a finding (the snapshot keeps it). A VALIDATION_ERROR (CloudFormation's early validation) is `template_invalid`: nothing
was touched. On the fallback path (no operation APIs) hook verdicts come from the stack
events' hook fields and validation errors show as the resources' ordinary failures.
"""

from __future__ import annotations

from typing import Any

from recover.decide.findings import Finding
from recover.detectors._common import Classifier
from recover.explain.taxonomy import FailureMode
from recover.model.operations import HookResult, OperationEvent, StackOperations
from recover.model.stack import StackNode, StackSnapshot

ID = "R500"
TITLE = "Hook and validation failures of the stack's operations"
PERMISSIONS = ("cloudformation:DescribeEvents", "cloudformation:GetHookResult",
               "cloudformation:DescribeStackEvents")


def detect(snapshot: StackSnapshot, classify: Classifier) -> list[Finding]:
    findings: list[Finding] = []
    for node in snapshot.nodes:
        ops = node.operations
        if ops is None:
            continue
        seen: set[tuple[str, str, str]] = set()
        for ev in ops.failed:
            key = (ev.event_type, ev.logical_id, ev.hook_type or ev.validation_name)
            if key in seen:
                continue
            seen.add(key)
            if ev.event_type == "HOOK_INVOCATION_ERROR":
                found = _hook(node, ops, ev)
                if found.extracted["hook_failure_mode"] != "WARN":  # WARN stopped nothing
                    findings.append(found)
            elif ev.event_type == "VALIDATION_ERROR":
                findings.append(_validation(node, ev))
    return findings


def hook_guidance(ev: OperationEvent, result: HookResult | None) -> str:
    """What to do, from the hook's own words where GetHookResult gave them."""
    mode = (result.failure_mode if result else "") or ev.hook_failure_mode or "FAIL"
    who = ev.hook_type or (result.type_name if result else "") or "a hook"
    steps = [a.remediation for a in (result.annotations if result else ())
             if a.status == "FAILED" and a.remediation]
    fix = ("; ".join(steps) + ". " if steps else
           "Make the resource comply with the hook's rule and deploy again. ")
    if mode == "WARN":
        return f"Hook {who} (WARN mode) flagged {ev.logical_id} and let it go on. {fix}"
    return (f"Hook {who} (FAIL mode) stopped the provisioning of {ev.logical_id}: "
            f"{ev.hook_reason or (result.reason if result else '') or 'see its result'}. {fix}"
            "If the hook itself is wrong, its owner can fix it or switch it to WARN; retrying "
            "unchanged fails the same way.")


def _hook(node: StackNode, ops: StackOperations, ev: OperationEvent) -> Finding:
    result = ops.hook(ev.hook_invocation_id) if ev.hook_invocation_id else None
    extracted: dict[str, Any] = {
        "hook_type": ev.hook_type or (result.type_name if result else ""),
        "hook_failure_mode": (result.failure_mode if result else "") or ev.hook_failure_mode,
        "hook_status": (result.status if result else "") or ev.hook_status,
        "hook_reason": ev.hook_reason or (result.reason if result else ""),
        "hook_invocation_id": ev.hook_invocation_id or None,
        "operation_id": ev.operation_id or None, "operation_type": ev.operation_type or None,
        "source": ops.source}
    if result is not None:
        extracted["annotations"] = [a.to_dict() for a in result.annotations]
        extracted["target_action"] = result.action or None
    return Finding(
        detector=ID, failure_mode=FailureMode.HOOK_FAILURE, stack_name=node.name,
        stack_id=node.stack_id, status=ev.status or ev.hook_status,
        reason=ev.hook_reason or ev.reason, runbook=None,
        explanation=hook_guidance(ev, result), logical_id=ev.logical_id,
        physical_id=ev.physical_id, resource_type=ev.resource_type, phase="forward",
        depth=node.depth, timestamp=ev.timestamp, extracted=extracted, rule="hook-failed")


def _validation(node: StackNode, ev: OperationEvent) -> Finding:
    where = f" at {ev.validation_path}" if ev.validation_path else ""
    return Finding(
        detector=ID, failure_mode=FailureMode.TEMPLATE_INVALID, stack_name=node.name,
        stack_id=node.stack_id, status=ev.status or "VALIDATION_FAILED",
        reason=ev.validation_reason or ev.reason, runbook=None,
        explanation=(f"CloudFormation's early validation {ev.validation_name or ''} refused "
                     f"{ev.logical_id or 'the template'}{where} before touching any resource: "
                     f"{ev.validation_reason or ev.reason}. Fix the template and deploy again."),
        logical_id=ev.logical_id, resource_type=ev.resource_type, phase="forward",
        depth=node.depth, timestamp=ev.timestamp, rule="template-invalid",
        extracted={"validation_name": ev.validation_name or None,
                   "validation_path": ev.validation_path or None,
                   "validation_failure_mode": ev.validation_failure_mode or None,
                   "operation_id": ev.operation_id or None})
