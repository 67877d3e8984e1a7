"""Parse and check runbook documents (pure: no AWS, no files except what the caller passes).

Two passes, like orquesta's `spec.inspect()`:
  1. `build(data, source)`: the shape — required keys, types, no unknown keys — and, when the
     shape is right, the frozen Runbook.
  2. `inspect(runbook)`: the meaning — known failure modes, statuses and actions, unique step
     ids, permissions that cover each action and add up to the runbook's list, mutating steps
     that say how to undo them, what they run by hand and how they are confirmed.
Every problem names the file, the path inside the document and what is wrong, on one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from recover.explain.taxonomy import FailureMode
from recover.runbooks.document.actions import ACTIONS, HANDOVER, MANUAL
from recover.runbooks.document.errors import Problem, RunbookFormatError
from recover.runbooks.document.model import CONFIRM_KINDS, Confirm, Runbook, Step
from recover.runbooks.document.statuses import STACK_STATUSES

ID_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PERMISSION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
FLAG_RE = re.compile(r"^--[a-z][a-z0-9-]*(/--[a-z][a-z0-9-]*)?$")

RUNBOOK_KEYS = {"id", "title", "version", "summary", "failure_modes", "applies_to",
                "permissions", "steps"}
STEP_REQUIRED = {"id", "title", "action", "mutates", "permissions", "why", "changes"}
STEP_OPTIONAL = {"undo", "cli", "requires_status", "expects_status", "confirm", "flags",
                 "handover"}
CONFIRM_KEYS = {"kind", "prompt", "answer"}


class _Collector:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.source, path, message))


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), f"a {type(value).__name__}")


def _text(c: _Collector, d: dict[str, Any], key: str, path: str, required: bool = True) -> str:
    if key not in d:
        if required:
            c.add(path, f"missing required key '{key}'")
        return ""
    v = d[key]
    if not isinstance(v, str):
        c.add(f"{path}.{key}".lstrip("."), f"expected text, got {_kind(v)}")
        return ""
    if not v.strip():
        c.add(f"{path}.{key}".lstrip("."), "must not be empty")
    return v.strip()


def _str_list(c: _Collector, d: dict[str, Any], key: str, path: str, required: bool = True,
              check: Callable[[str], str | None] | None = None) -> tuple[str, ...]:
    where = f"{path}.{key}".lstrip(".")
    if key not in d:
        if required:
            c.add(path, f"missing required key '{key}'")
        return ()
    v = d[key]
    if not isinstance(v, list):
        c.add(where, f"expected a list, got {_kind(v)}")
        return ()
    out: list[str] = []
    for i, item in enumerate(v):
        if not isinstance(item, str) or not item.strip():
            c.add(f"{where}[{i}]", f"expected a non-empty string, got {_kind(item)}")
            continue
        problem = check(item) if check else None
        if problem:
            c.add(f"{where}[{i}]", problem)
        out.append(item.strip())
    seen: set[str] = set()
    for item in out:
        if item in seen:
            c.add(where, f"'{item}' is listed twice")
        seen.add(item)
    return tuple(out)


def _unknown_keys(c: _Collector, d: dict[str, Any], allowed: set[str], path: str) -> None:
    for k in d:
        if k not in allowed:
            c.add(path, f"unknown key '{k}' (allowed: {', '.join(sorted(allowed))})")


def _check_status(value: str) -> str | None:
    return None if value in STACK_STATUSES else f"'{value}' is not a CloudFormation stack status"


def _check_permission(value: str) -> str | None:
    return None if PERMISSION_RE.match(value) else (
        f"'{value}' is not an IAM action (expected service:Action, e.g. cloudformation:DescribeStacks)")


def _check_mode(value: str) -> str | None:
    valid = {m.value for m in FailureMode}
    return None if value in valid else (
        f"'{value}' is not a failure mode (one of: {', '.join(sorted(valid))})")


def _check_flag(value: str) -> str | None:
    return None if FLAG_RE.match(value) else f"'{value}' is not a command-line flag (--name)"


def _build_confirm(c: _Collector, v: Any, path: str) -> Confirm | None:
    if not isinstance(v, dict):
        c.add(path, f"expected a mapping with kind and prompt, got {_kind(v)}")
        return None
    _unknown_keys(c, v, CONFIRM_KEYS, path)
    kind = _text(c, v, "kind", path)
    if kind and kind not in CONFIRM_KINDS:
        c.add(f"{path}.kind", f"'{kind}' is not a confirmation kind (one of: {', '.join(CONFIRM_KINDS)})")
    prompt = _text(c, v, "prompt", path)
    answer = _text(c, v, "answer", path, required=(kind == "typed"))
    if answer and kind == "yes-no":
        c.add(f"{path}.answer", "only a typed confirmation has an answer")
    return Confirm(kind=kind, prompt=prompt, answer=answer)


def _build_handover(c: _Collector, v: Any, path: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, dict) or not v:
        c.add(path, f"expected a mapping of stack status to runbook id, got {_kind(v)}")
        return ()
    out = []
    for status, target in v.items():
        if not isinstance(status, str) or _check_status(status):
            c.add(path, f"'{status}' is not a CloudFormation stack status")
            continue
        if not isinstance(target, str) or not ID_RE.match(target):
            c.add(f"{path}.{status}", f"expected a runbook id, got {target!r}")
            continue
        out.append((status, target))
    return tuple(out)


def _build_step(c: _Collector, raw: Any, path: str) -> Step | None:
    if not isinstance(raw, dict):
        c.add(path, f"expected a step mapping, got {_kind(raw)}")
        return None
    before = len(c.problems)
    _unknown_keys(c, raw, STEP_REQUIRED | STEP_OPTIONAL, path)
    sid = _text(c, raw, "id", path)
    if sid and not ID_RE.match(sid):
        c.add(f"{path}.id", f"'{sid}' is not a valid id (lower-case words joined by '-')")
    title = _text(c, raw, "title", path)
    action = _text(c, raw, "action", path)
    mutates = raw.get("mutates")
    if "mutates" not in raw:
        c.add(path, "missing required key 'mutates'")
    elif not isinstance(mutates, bool):
        c.add(f"{path}.mutates", f"expected true or false, got {_kind(mutates)}")
    permissions = _str_list(c, raw, "permissions", path, check=_check_permission)
    why = _text(c, raw, "why", path)
    changes = _text(c, raw, "changes", path)
    undo = _text(c, raw, "undo", path, required=False)
    cli = _text(c, raw, "cli", path, required=False)
    requires_status = _str_list(c, raw, "requires_status", path, False, _check_status)
    expects_status = _str_list(c, raw, "expects_status", path, False, _check_status)
    confirm = _build_confirm(c, raw["confirm"], f"{path}.confirm") if "confirm" in raw else None
    flags = _str_list(c, raw, "flags", path, False, _check_flag)
    handover = _build_handover(c, raw["handover"], f"{path}.handover") if "handover" in raw else ()
    step = Step(id=sid, title=title, action=action, mutates=bool(mutates),
                permissions=permissions, why=why, changes=changes, undo=undo, cli=cli,
                requires_status=requires_status, expects_status=expects_status,
                confirm=confirm, flags=flags, handover=handover)
    return step if len(c.problems) == before else None


def build(data: Any, source: str) -> tuple[Runbook | None, list[Problem]]:
    """Check the document's shape; return the Runbook when there is nothing wrong with it."""
    c = _Collector(source)
    if not isinstance(data, dict):
        c.add("", f"expected a runbook mapping (id, title, steps...), got {_kind(data)}")
        return None, c.problems
    _unknown_keys(c, data, RUNBOOK_KEYS, "(top)")
    # Checked in the order the keys appear in a runbook file, so problems read top to bottom.
    rid = _text(c, data, "id", "(top)")
    if rid and not ID_RE.match(rid):
        c.add("id", f"'{rid}' is not a valid id (lower-case words joined by '-')")
    title = _text(c, data, "title", "(top)")
    version = data.get("version")
    if "version" not in data:
        c.add("(top)", "missing required key 'version'")
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        c.add("version", f"expected a whole number >= 1, got {_kind(version)}")
    summary = _text(c, data, "summary", "(top)")
    failure_modes = _str_list(c, data, "failure_modes", "(top)", check=_check_mode)
    applies_to = _str_list(c, data, "applies_to", "(top)", check=_check_status)
    permissions = _str_list(c, data, "permissions", "(top)", check=_check_permission)
    raw_steps = data.get("steps")
    steps: list[Step] = []
    if "steps" not in data:
        c.add("(top)", "missing required key 'steps'")
    elif not isinstance(raw_steps, list) or not raw_steps:
        c.add("steps", f"expected a non-empty list of steps, got {_kind(raw_steps)}")
    else:
        for i, raw in enumerate(raw_steps):
            step = _build_step(c, raw, f"steps[{i}]")
            if step:
                steps.append(step)
    runbook = Runbook(id=rid, title=title, version=version if isinstance(version, int) else 0,
                      summary=summary, failure_modes=failure_modes, applies_to=applies_to,
                      permissions=permissions, steps=tuple(steps), source=source)
    if c.problems:
        return None, c.problems
    return runbook, []


def inspect(runbook: Runbook) -> list[Problem]:
    """Static checks of a well-formed runbook (the meaning, not the shape)."""
    c = _Collector(runbook.source or runbook.id)
    if not runbook.failure_modes:
        c.add("failure_modes", "a runbook handles at least one failure mode")
    if not runbook.applies_to:
        c.add("applies_to", "name at least one stack status the runbook applies to")
    seen: set[str] = set()
    union: set[str] = set()
    for i, step in enumerate(runbook.steps):
        path = f"steps[{i}]"
        if step.id in seen:
            c.add(f"{path}.id", f"step id '{step.id}' is used twice")
        seen.add(step.id)
        union.update(step.permissions)
        _inspect_step(c, runbook, step, path)
    declared = set(runbook.permissions)
    if missing := sorted(union - declared):
        c.add("permissions", f"missing the steps' permissions: {', '.join(missing)}")
    if extra := sorted(declared - union):
        c.add("permissions", f"lists permissions no step declares: {', '.join(extra)}")
    if not any(s.mutates for s in runbook.steps):
        c.add("steps", "a runbook has at least one step that changes something")
    return c.problems


def _inspect_step(c: _Collector, runbook: Runbook, step: Step, path: str) -> None:
    if step.action == MANUAL:
        pass
    elif (spec := ACTIONS.get(step.action)) is None:
        c.add(f"{path}.action", f"unknown action '{step.action}' (see recover/runbooks/document/actions.py)")
    else:
        if spec.mutating != step.mutates:
            c.add(f"{path}.mutates", f"action '{spec.id}' {'changes' if spec.mutating else 'does not change'} "
                  f"AWS, so mutates must be {str(spec.mutating).lower()}")
        if missing := sorted(set(spec.permissions) - set(step.permissions)):
            c.add(f"{path}.permissions", f"action '{spec.id}' needs {', '.join(missing)}")
    if step.action == HANDOVER:
        if not step.handover:
            c.add(path, "a runbook.handover step needs 'handover' (stack status: runbook id)")
        for status, target in step.handover:
            if target == runbook.id:
                c.add(f"{path}.handover.{status}", "a runbook cannot hand over to itself")
    elif step.handover:
        c.add(f"{path}.handover", f"only action '{HANDOVER}' hands over to another runbook")
    if step.mutates:
        if not step.undo:
            c.add(path, "a step that changes something must say how to undo it ('undo'), or why it cannot be undone")
        if not step.confirm:
            c.add(path, "a step that changes something needs a 'confirm'")
    if (step.mutates or step.permissions) and not step.cli:
        c.add(path, "a step that calls AWS needs its 'cli' equivalent")
    if step.cli and (step.mutates or step.permissions) and not re.search(r"(?m)^\s*aws ", step.cli):
        c.add(f"{path}.cli", "expected at least one 'aws ...' command line")
    if step.confirm and not step.flags:
        c.add(f"{path}.flags", "a confirmed step names the flags that settle it without a prompt")
    if step.confirm and step.confirm.kind == "typed" and not step.confirm.answer:
        c.add(f"{path}.confirm", "a typed confirmation says what must be typed ('answer')")


def parse_text(text: str, source: str) -> Any:
    """YAML text → plain data, with a one-line error instead of the YAML library's report."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        what = (exc.problem or "not valid YAML").replace("\n", " ")
        raise RunbookFormatError([Problem(source, where, f"not valid YAML: {what}")]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        what = str(exc).replace("\n", " ")[:200] or type(exc).__name__
        raise RunbookFormatError([Problem(source, "", f"not valid YAML: {what}")]) from None


def load_text(text: str, source: str) -> Runbook:
    """Parse, build and inspect one document; raise RunbookFormatError listing every problem."""
    runbook, problems = build(parse_text(text, source), source)
    if runbook is None:
        raise RunbookFormatError(problems)
    if problems := inspect(runbook):
        raise RunbookFormatError(problems)
    return runbook
