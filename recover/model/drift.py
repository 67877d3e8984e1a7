"""Drift of one stack resource, as plain data (what DetectStackResourceDrift answered, or why
it could not answer): docs/reference/aws-behaviour.md#drift-detection."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

IN_SYNC = "IN_SYNC"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
# Not a verdict on the resource: drift detection could not check it (type not supported,
# NOT_CHECKED / UNKNOWN / UNSUPPORTED answered) or the API is not there at all.
UNCHECKED = ("NOT_CHECKED", "UNKNOWN", "UNSUPPORTED")
UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class PropertyDifference:
    path: str
    expected: str
    actual: str
    kind: str  # ADD | REMOVE | NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    stack_id: str
    stack_name: str
    logical_id: str
    resource_type: str
    physical_id: str
    status: str  # IN_SYNC | MODIFIED | DELETED | NOT_CHECKED | UNKNOWN | UNSUPPORTED | UNAVAILABLE
    differences: tuple[PropertyDifference, ...] = field(default_factory=tuple)
    reason: str = ""  # DriftStatusReason, or why detection could not run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
