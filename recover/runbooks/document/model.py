"""A runbook as frozen plain data (the YAML file in runbooks/<id>.yaml, checked and typed).

The format is documented in docs/reference/runbook-format.md. Building these objects from
YAML and checking them is recover.runbooks.document.validate's job; this module only holds the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CONFIRM_KINDS = ("yes-no", "typed")


@dataclass(frozen=True)
class Confirm:
    """The confirmation a mutating step needs before it runs (destructive ones default to No)."""

    kind: str  # "yes-no": an explicit yes; "typed": the operator types `answer`
    prompt: str
    answer: str = ""  # what must be typed, e.g. "<STACK>" (typed only)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "prompt": self.prompt}
        if self.answer:
            out["answer"] = self.answer
        return out


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    action: str
    mutates: bool
    permissions: tuple[str, ...]
    why: str
    changes: str
    undo: str = ""
    cli: str = ""
    requires_status: tuple[str, ...] = ()
    expects_status: tuple[str, ...] = ()
    confirm: Confirm | None = None
    flags: tuple[str, ...] = ()
    # runbook.handover only: stack status → runbook id to continue with.
    handover: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "title": self.title, "action": self.action, "mutates": self.mutates,
            "permissions": list(self.permissions), "why": self.why, "changes": self.changes,
        }
        optional: dict[str, Any] = {
            "undo": self.undo, "cli": self.cli,
            "requires_status": list(self.requires_status),
            "expects_status": list(self.expects_status),
            "confirm": self.confirm.to_dict() if self.confirm else None,
            "flags": list(self.flags), "handover": dict(self.handover),
        }
        out.update({k: v for k, v in optional.items() if v})
        return out


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    version: int
    summary: str
    failure_modes: tuple[str, ...]
    applies_to: tuple[str, ...]
    permissions: tuple[str, ...]
    steps: tuple[Step, ...]
    # Where it was loaded from (for error messages and `runbooks show --format yaml`).
    source: str = field(default="", compare=False)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def handovers(self) -> tuple[str, ...]:
        """Runbooks this one may continue in, in first-mention order."""
        seen: dict[str, None] = {}
        for s in self.steps:
            for _, target in s.handover:
                seen.setdefault(target, None)
        return tuple(seen)

    def summary_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "version": self.version,
                "summary": self.summary, "failure_modes": list(self.failure_modes),
                "applies_to": list(self.applies_to), "steps": len(self.steps)}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "version": self.version,
                "summary": self.summary, "failure_modes": list(self.failure_modes),
                "applies_to": list(self.applies_to), "permissions": list(self.permissions),
                "steps": [s.to_dict() for s in self.steps]}
