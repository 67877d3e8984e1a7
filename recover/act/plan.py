"""Plan files: `--dry-run --plan-out FILE` writes one, `recover apply FILE` runs it later,
after checking that the stack has not moved since (DESIGN §2: plan then apply lets a second
engineer review the change during an incident)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from recover.act.calls import Call
from recover.errors import InputError
from recover.model.stack import StackSnapshot, parse_time
from recover.result import dumps

PLAN_VERSION = 1


def preconditions_of(snapshot: StackSnapshot) -> dict[str, Any]:
    """What must still hold when the plan runs: every stack's status and last update time,
    and the set of failed resources (stack name / logical id / status)."""
    return {
        "root_stack_id": snapshot.root_id,
        "stacks": {n.stack_id: {"name": n.name, "status": n.info.status,
                                "last_updated": (n.info.last_updated_time.isoformat()
                                                 if n.info.last_updated_time else None)}
                   for n in snapshot.nodes},
        "failed_resources": sorted(f"{n.name}/{r.logical_id}:{r.status}"
                                   for n in snapshot.nodes for r in n.resources
                                   if r.status.endswith("_FAILED")),
    }


def precondition_changes(expected: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Human-readable differences; empty when the stack has not moved."""
    changes: list[str] = []
    if expected.get("root_stack_id") != current.get("root_stack_id"):
        changes.append(f"root stack id changed: {expected.get('root_stack_id')} -> "
                       f"{current.get('root_stack_id')}")
    exp_stacks, cur_stacks = expected.get("stacks", {}), current.get("stacks", {})
    for sid, exp in exp_stacks.items():
        cur = cur_stacks.get(sid)
        if cur is None:
            changes.append(f"stack {exp.get('name')} is no longer in the tree")
            continue
        if cur["status"] != exp.get("status"):
            changes.append(f"stack {exp.get('name')} is now {cur['status']} (plan expected "
                           f"{exp.get('status')})")
        elif cur.get("last_updated") != exp.get("last_updated"):
            changes.append(f"stack {exp.get('name')} was updated at {cur.get('last_updated')} "
                           f"(plan expected {exp.get('last_updated')})")
    for sid, cur in cur_stacks.items():
        if sid not in exp_stacks:
            changes.append(f"new stack in the tree: {cur['name']}")
    exp_f, cur_f = set(expected.get("failed_resources", [])), set(current.get("failed_resources", []))
    for gone in sorted(exp_f - cur_f):
        changes.append(f"no longer failed: {gone}")
    for new in sorted(cur_f - exp_f):
        changes.append(f"newly failed: {new}")
    return changes


@dataclass
class Plan:
    runbook: str
    stack: str  # root stack name
    stack_id: str
    region: str
    account: str
    created_at: datetime
    preconditions: dict[str, Any]
    calls: list[Call]
    decisions: list[dict[str, Any]] = field(default_factory=list)
    # Runbook-specific settings the applier needs (role ARN, wait/timeout, restore sources...).
    settings: dict[str, Any] = field(default_factory=dict)
    version: int = PLAN_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"plan_version": self.version, "runbook": self.runbook, "stack": self.stack,
                "stack_id": self.stack_id, "region": self.region, "account": self.account,
                "created_at": self.created_at.isoformat(), "preconditions": self.preconditions,
                "decisions": self.decisions, "settings": self.settings,
                "calls": [c.to_dict() for c in self.calls]}

    def save(self, path: Path) -> None:
        try:
            path.write_text(dumps(self.to_dict()) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the plan to {path}: {exc.strerror}") from exc

    @classmethod
    def load(cls, path: Path) -> Plan:
        """Read and validate a plan file; any problem is one InputError line."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"plan file not found: {path}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read plan file {path}: {exc}") from exc
        except ValueError as exc:
            raise InputError(f"plan file {path} is not valid JSON ({exc})") from exc
        try:
            return cls.from_dict(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"plan file {path} is malformed: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def from_dict(cls, raw: Any) -> Plan:
        if not isinstance(raw, dict):
            raise TypeError("top level must be an object")
        if raw.get("plan_version") != PLAN_VERSION:
            raise ValueError(f"unsupported plan_version {raw.get('plan_version')!r} "
                             f"(this recover reads {PLAN_VERSION})")
        for key in ("runbook", "stack", "stack_id"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ValueError(f"{key} must be a non-empty string")
        if not isinstance(raw.get("preconditions"), dict):
            raise TypeError("preconditions must be an object")
        calls = raw.get("calls")
        if not isinstance(calls, list):
            raise TypeError("calls must be a list")
        created = parse_time(raw.get("created_at"))
        if created is None:
            raise ValueError("created_at is missing")
        decisions = raw.get("decisions", [])
        settings = raw.get("settings", {})
        if not isinstance(decisions, list) or not isinstance(settings, dict):
            raise TypeError("decisions must be a list and settings an object")
        return cls(runbook=raw["runbook"], stack=raw["stack"], stack_id=raw["stack_id"],
                   region=str(raw.get("region", "")), account=str(raw.get("account", "")),
                   created_at=created, preconditions=raw["preconditions"],
                   calls=[Call.from_dict(c) for c in calls], decisions=decisions,
                   settings=settings)
