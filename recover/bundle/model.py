"""Plain data the bundle is made of: what collect gathered, and the timeline entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recover.model.stack import StackSnapshot

SOURCE_ORDER = {"stack": 0, "cloudtrail": 1, "recover": 2}


@dataclass(frozen=True)
class Window:
    since: datetime | None = None
    until: datetime | None = None

    def contains(self, when: datetime | None) -> bool:
        if when is None:
            return self.since is None and self.until is None
        return (self.since is None or when >= self.since) and (self.until is None
                                                               or when <= self.until)

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}


@dataclass(frozen=True)
class TemplateCopy:
    """One template CloudFormation gave back (or why it did not)."""

    stack_id: str
    stack_name: str
    label: str  # "current" or "change set NAME"
    body: str | None = None
    error: str | None = None
    stages: tuple[str, ...] = ()

    @property
    def file_stem(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.label)
        return f"{self.stack_name}.{safe}"

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack_name, "stack_id": self.stack_id, "label": self.label,
                "available": self.body is not None, "error": self.error,
                "stages": list(self.stages)}


@dataclass
class TrailOutcome:
    """Related CloudTrail records (raw dicts) and what reading the source cost."""

    source: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    relations: list[str] = field(default_factory=list)  # parallel to records
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    data_events_seen: int = 0
    scanned: int = 0


@dataclass
class RunFolder:
    """One of recover's own evidence folders for this stack (recover.run.evidence)."""

    name: str
    metadata: dict[str, Any]
    journal: list[dict[str, Any]]
    json_files: dict[str, Any]  # file name -> parsed JSON (plan.json, orphans.json...)
    texts: dict[str, str]  # other readable files (run.log...)
    unreadable: list[str] = field(default_factory=list)

    @property
    def command(self) -> str:
        return str(self.metadata.get("command") or "?")


@dataclass
class Collected:
    stack: str  # as asked
    snapshot: StackSnapshot
    templates: list[TemplateCopy]
    trail: TrailOutcome
    runs: list[RunFolder]
    window: Window
    generated_at: datetime
    evidence_root: str = ""
    # runs of the same stack name that are not this stack's: {name, command, started_at, reasons}
    runs_left_out: list[dict[str, Any]] = field(default_factory=list)
    # the orphan ledger's entries of resources of this tree skipped by ContinueUpdateRollback
    # (kind "skipped"; state open, or in_sync once reconcile found them in sync)
    ledger_skips: list[dict[str, Any]] = field(default_factory=list)
    ledger_error: str = ""  # why the ledger could not be read, if it could not


@dataclass(frozen=True)
class Entry:
    """One row of the timeline."""

    time: datetime
    source: str  # stack | cloudtrail | recover
    kind: str  # stack_event, trail:<relation>, recover:<journal kind>, recover:run
    subject: str  # stack name, caller, or run folder
    what: str
    status: str
    detail: str = ""
    ref: str = ""  # event id, CloudTrail eventID, run/seq

    @property
    def failed(self) -> bool:
        s = self.status
        return s.endswith("_FAILED") or s.startswith("error")

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "source": self.source, "kind": self.kind,
                "subject": self.subject, "what": self.what, "status": self.status,
                "detail": self.detail, "ref": self.ref}
