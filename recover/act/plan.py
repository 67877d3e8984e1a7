"""Plan files: `--dry-run --plan-out FILE` writes one, `recover apply FILE` runs it later,
after checking that the stack has not moved since (docs/reference/cli.md#recover-apply-planjson: plan then apply lets a second
engineer review the change during an incident)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from recover.act.calls import Call
from recover.model.stack import StackSnapshot, parse_time
from recover.run.errors import InputError
from recover.run.private_files import replace_private
from recover.run.result import dumps
from recover.runbooks import canonical

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
            replace_private(path, (dumps(self.to_dict()) + "\n").encode("utf-8"))
        except OSError as exc:
            raise InputError(f"cannot write the plan to {path}: {exc.strerror}") from exc

    @classmethod
    def load(cls, path: Path) -> Plan:
        """Read and validate a plan file; any problem is one InputError line."""
        try:
            size = path.stat().st_size
            if size > MAX_PLAN_BYTES:
                raise InputError(f"plan file {path} is {size} bytes; a plan is at most "
                                 f"{MAX_PLAN_BYTES} bytes")
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"plan file not found: {path}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read plan file {path}: {one_line(exc)}") from exc
        except RecursionError as exc:  # the C decoder's answer to `[[[[...` a few thousand deep
            raise InputError(f"plan file {path} is not valid JSON (nested too deeply)") from exc
        except ValueError as exc:
            raise InputError(f"plan file {path} is not valid JSON ({one_line(exc)})") from exc
        try:
            return cls.from_dict(raw)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise InputError(f"plan file {path} is malformed: {one_line(exc)}") from exc

    @classmethod
    def from_dict(cls, raw: Any) -> Plan:
        """A plan from its JSON form, every field type-checked (ValueError names the field):
        the appliers can then trust what they read."""
        if not isinstance(raw, dict):
            raise ValueError(f"the top level must be an object, got {kind(raw)}")
        if nesting(raw) > MAX_DEPTH:  # json could read it, but dumping it again might not
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels (a plan is shallow)")
        try:  # recover writes plans as UTF-8: a \ud800-style escape was typed in by hand
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("holds a lone surrogate escape (\\uD800-\\uDFFF), which is not "
                             "text") from None
        version = raw.get("plan_version")
        if type(version) is not int or version != PLAN_VERSION:
            raise ValueError(f"unsupported plan_version {short(version)} (this recover reads "
                             f"{PLAN_VERSION})")
        for key in ("runbook", "stack", "stack_id"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ValueError(f"{key}: expected a non-empty string, got {kind(raw.get(key))}")
        if not STACK_NAME.fullmatch(raw["stack"]):
            raise ValueError(f"stack: {short(raw['stack'])} is not a CloudFormation stack name")
        if not STACK_NAME_OR_ID.fullmatch(raw["stack_id"]):
            raise ValueError(f"stack_id: {short(raw['stack_id'])} is not a stack name or ARN")
        for key in ("region", "account"):
            if not isinstance(raw.get(key, ""), str):
                raise ValueError(f"{key}: expected a string, got {kind(raw[key])}")
        created_raw = raw.get("created_at")
        if not isinstance(created_raw, str):
            raise ValueError(f"created_at: expected an ISO-8601 time, got {kind(created_raw)}")
        try:
            created = parse_time(created_raw)
        except ValueError:
            raise ValueError(f"created_at: {short(created_raw)} is not an ISO-8601 time") from None
        if created is None:
            raise ValueError("created_at is missing")
        _check_preconditions(raw.get("preconditions"))
        calls = raw.get("calls")
        if not isinstance(calls, list):
            raise ValueError(f"calls: expected a list, got {kind(calls)}")
        decisions = raw.get("decisions", [])
        settings = raw.get("settings", {})
        if not isinstance(decisions, list):
            raise ValueError(f"decisions: expected a list, got {kind(decisions)}")
        if not isinstance(settings, dict):
            raise ValueError(f"settings: expected an object, got {kind(settings)}")
        parsed = []
        for i, c in enumerate(calls):
            try:
                parsed.append(Call.from_dict(c))
            except ValueError as exc:
                raise ValueError(f"calls[{i}]: {exc}") from None
        return cls(runbook=canonical(raw["runbook"]), stack=raw["stack"], stack_id=raw["stack_id"],
                   region=raw.get("region", ""), account=raw.get("account", ""),
                   created_at=created, preconditions=raw["preconditions"],
                   calls=parsed, decisions=decisions, settings=settings)


# docs/reference/aws-behaviour.md#continueupdaterollback-request: StackName is a `StackNameOrId`, `[a-zA-Z][-a-zA-Z0-9]*` or a stack ARN.
STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
STACK_NAME_OR_ID = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*|arn:(aws|aws-us-gov|aws-cn):[-a-zA-Z0-9:/._+]*")
MAX_DEPTH = 32  # a real plan nests about 8 deep
MAX_PLAN_BYTES = 16 << 20  # a real plan is a few KB; the largest holds 1000-key DeleteObjects


def _check_preconditions(pre: Any) -> None:
    """The shape precondition_changes() reads: stack ids to {name, status, last_updated}, the
    failed resources as strings, and (bootstrap-role) role ARNs to their state."""
    if not isinstance(pre, dict):
        raise ValueError(f"preconditions: expected an object, got {kind(pre)}")
    if not isinstance(pre.get("root_stack_id"), str):
        raise ValueError("preconditions.root_stack_id: expected a string, got "
                         f"{kind(pre.get('root_stack_id'))}")
    stacks = pre.get("stacks")
    if not isinstance(stacks, dict) or not stacks:
        raise ValueError(f"preconditions.stacks: expected a non-empty object, got {kind(stacks)}")
    for sid, st in stacks.items():
        where = f"preconditions.stacks[{short(sid)}]"
        if not isinstance(st, dict):
            raise ValueError(f"{where}: expected an object, got {kind(st)}")
        for key in ("name", "status"):
            if not isinstance(st.get(key), str):
                raise ValueError(f"{where}.{key}: expected a string, got {kind(st.get(key))}")
        if not isinstance(st.get("last_updated"), str | None):
            raise ValueError(f"{where}.last_updated: expected a string or null, got "
                             f"{kind(st.get('last_updated'))}")
    if pre["root_stack_id"] not in stacks:
        raise ValueError("preconditions.root_stack_id is not one of preconditions.stacks")
    failed = pre.get("failed_resources", [])
    if not isinstance(failed, list) or not all(isinstance(f, str) for f in failed):
        raise ValueError("preconditions.failed_resources: expected a list of strings")
    roles = pre.get("roles", {})
    if not isinstance(roles, dict) or not all(isinstance(v, str) for v in roles.values()):
        raise ValueError("preconditions.roles: expected an object of role ARN -> state")


def nesting(value: Any) -> int:
    """How deep lists and objects nest in `value` (iterative: no recursion limit)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            todo.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item))
    return deepest


def kind(value: Any) -> str:
    """`a list`, `the number 3`...: what a value is, for messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {short(value)}"
    if isinstance(value, str):
        return f"the string {short(value)}"
    return {"list": "a list", "dict": "an object"}.get(type(value).__name__,
                                                       type(value).__name__)


def short(value: Any, limit: int = 60) -> str:
    """A value for a one-line message: repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception as one line of at most `limit` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"
