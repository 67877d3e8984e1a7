"""Findings: what diagnose (and the runbook planners) know about each failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recover.explain.taxonomy import FailureMode


@dataclass(frozen=True)
class Finding:
    detector: str  # stable id of the detector that raised it (R1xx, R2xx, ...)
    failure_mode: FailureMode
    stack_name: str
    stack_id: str
    status: str
    reason: str
    runbook: str | None
    explanation: str
    logical_id: str = ""  # "" for a stack-level finding
    physical_id: str = ""
    resource_type: str = ""
    phase: str = ""  # forward | rollback | cancelled | delete | cleanup | "" (stack level)
    skippable: bool = False  # may go into ResourcesToSkip (docs/reference/aws-behaviour.md#resourcestoskip-rules)
    skip_id: str = ""  # the id AWS wants in ResourcesToSkip: LogicalId or <child-stack>.<LogicalId>
    depth: int = 0
    timestamp: datetime | None = None
    extracted: dict[str, Any] = field(default_factory=dict)
    rule: str = ""  # the classification rule that chose failure_mode
    # the gathered fact showing the cause is gone now (recover.decide.remedies), "" if not
    remedied: str = ""
    # cause | consequence (recover.decide.causes); a consequence names the cause it follows from
    role: str = "cause"
    consequence_of: str = ""

    @property
    def key(self) -> str:
        """How a finding is named among the others: its skip id, stack.logical id, or stack."""
        if self.skip_id:
            return self.skip_id
        return f"{self.stack_name}.{self.logical_id}" if self.logical_id else self.stack_name

    @property
    def target(self) -> str:
        """How flags and prompts name this resource: its ResourcesToSkip id when it has one,
        else <stack>.<LogicalId>."""
        return self.skip_id or f"{self.stack_name}.{self.logical_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector, "failure_mode": self.failure_mode.value,
            "stack_name": self.stack_name, "stack_id": self.stack_id,
            "logical_id": self.logical_id, "physical_id": self.physical_id,
            "resource_type": self.resource_type, "status": self.status, "reason": self.reason,
            "phase": self.phase, "failed_during_rollback": self.phase == "rollback",
            "skippable": self.skippable, "skip_id": self.skip_id or None,
            "runbook": self.runbook, "explanation": self.explanation, "depth": self.depth,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "extracted": self.extracted, "rule": self.rule,
            "remedied": self.remedied or None,
            "key": self.key, "role": self.role, "consequence_of": self.consequence_of or None,
        }
