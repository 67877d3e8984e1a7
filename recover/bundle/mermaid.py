"""A Mermaid gantt chart of the timeline that renders on GitHub, and its validator (pure).

Mermaid's gantt grammar ends a task's text at `:` and treats `#` and `;` as comment and
statement separators, so labels are reduced to a safe character set; every task gets an
explicit id, start and end (no durations, no dependencies), which keeps the syntax to the
subset GitHub's renderer has supported for years.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from recover.bundle.model import Entry

DATE_FORMAT = "YYYY-MM-DD HH:mm:ss"
_PY_FORMAT = "%Y-%m-%d %H:%M:%S"
_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,/+=@\-]+")
LABEL_MAX = 70
MAX_MILESTONES = 25
MAX_BARS_PER_SECTION = 20
_DIRECTIVE = re.compile(r"^(title [^:#;]*|dateFormat " + re.escape(DATE_FORMAT)
                        + r"|axisFormat [%A-Za-z :\-]+|todayMarker off)$")
_SECTION = re.compile(r"^section [A-Za-z0-9 _.,/+=@\-]+$")
_TASK = re.compile(r"^(?P<label>[A-Za-z0-9 _.,/+=@\-]+?)\s*:\s*(?P<tags>(?:(?:crit|done|active|"
                   r"milestone),\s*)*)(?P<id>[a-z][a-z0-9]*),\s*(?P<start>\d{4}-\d\d-\d\d "
                   r"\d\d:\d\d:\d\d),\s*(?P<end>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$")
RESERVED = ("title", "section", "dateformat", "axisformat", "todaymarker", "excludes",
            "includes", "tickinterval", "weekday", "click", "gantt")


def label(text: str) -> str:
    """A task/section label Mermaid cannot misread (no `:`, `;`, `#`, brackets, quotes)."""
    s = " ".join(_UNSAFE.sub(" ", text).split())[:LABEL_MAX].strip() or "event"
    if s.lower().split(" ", 1)[0] in RESERVED:
        s = "- " + s
    return s


@dataclass
class _Task:
    label: str
    tags: tuple[str, ...]
    start: datetime
    end: datetime


def _fmt(t: datetime) -> str:
    return t.strftime(_PY_FORMAT)


def _stack_bars(entries: list[Entry]) -> dict[str, list[_Task]]:
    """One bar per stack operation: from a stack-level *_IN_PROGRESS to the next terminal
    stack-level status (or to the stack's last event while it is still running)."""
    out: dict[str, list[_Task]] = {}
    open_: dict[str, tuple[Entry, Entry]] = {}
    for e in entries:
        if e.source != "stack" or e.what != "stack":
            continue
        if e.status.endswith("_IN_PROGRESS"):
            first, _ = open_.get(e.subject, (e, e))
            open_[e.subject] = (first, e)
            continue
        first, _ = open_.pop(e.subject, (e, e))
        tags = ("crit",) if e.status.endswith("_FAILED") else ("done",)
        text = first.status if first is e else f"{first.status} to {e.status}"
        out.setdefault(e.subject, []).append(_Task(label(text), tags, first.time, e.time))
    for stack, (first, last) in open_.items():
        out.setdefault(stack, []).append(_Task(label(f"{first.status} still running"),
                                               ("active",), first.time, last.time))
    return {k: v[-MAX_BARS_PER_SECTION:] for k, v in out.items()}


def _milestone(e: Entry, text: str, crit: bool) -> _Task:
    tags = ("crit", "milestone") if crit else ("milestone",)
    return _Task(label(text), tags, e.time, e.time + timedelta(seconds=1))


def gantt(title: str, entries: list[Entry]) -> str:
    lines = ["gantt", f"    title {label(title)}", f"    dateFormat {DATE_FORMAT}",
             "    axisFormat %m-%d %H:%M", "    todayMarker off"]
    sections: list[tuple[str, list[_Task]]] = []
    for stack, bars in _stack_bars(entries).items():
        sections.append((f"stack {stack}", bars))
    failures: list[_Task] = []
    seen: set[tuple[str, str, str]] = set()
    for e in entries:
        if e.source == "stack" and e.what != "stack" and e.status.endswith("_FAILED"):
            key = (e.subject, e.what, e.status)
            if key not in seen:
                seen.add(key)
                failures.append(_milestone(e, f"{e.what.split(' ', 1)[0]} {e.status}", True))
    if failures:
        sections.append(("resource failures", failures[:MAX_MILESTONES]))
    trail = [_milestone(e, f"{e.what.split(':', 1)[-1]} {e.status}", e.failed)
             for e in entries if e.source == "cloudtrail"
             and (e.failed or e.kind in ("trail:service_role", "trail:object_deletion",
                                         "trail:stack_operation"))]
    if trail:
        sections.append(("CloudTrail", trail[:MAX_MILESTONES]))
    recover: list[_Task] = []
    starts: dict[str, Entry] = {}
    for e in entries:
        if e.kind == "recover:run" and e.status == "started":
            starts[e.subject] = e
        elif e.kind == "recover:run":
            s = starts.pop(e.subject, e)
            recover.append(_Task(label(f"{e.what.replace('run ended: ', '')} {e.status}"),
                                 ("crit",) if e.status in ("failed", "interrupted") else ("done",),
                                 s.time, max(e.time, s.time + timedelta(seconds=1))))
        elif e.kind == "recover:call":
            recover.append(_milestone(e, f"{e.what.split(':', 1)[-1]} {e.status.split(':')[0]}",
                                      e.failed))
    if recover:
        sections.append(("recover", recover[:MAX_MILESTONES * 2]))
    n = 0
    for name, tasks in sections:
        lines.append(f"    section {label(name)}")
        for t in tasks:
            n += 1
            tags = "".join(f"{tag}, " for tag in t.tags)
            lines.append(f"    {t.label} :{tags}t{n}, {_fmt(t.start)}, {_fmt(t.end)}")
    if n == 0:
        return ""
    return "\n".join(lines)


def validate_gantt(text: str) -> list[str]:
    """Problems that would stop GitHub rendering the chart (empty list: well formed)."""
    problems: list[str] = []
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "gantt":
        return ["the chart must start with `gantt`"]
    ids: set[str] = set()
    tasks = 0
    for i, ln in enumerate(lines[1:], 2):
        if _DIRECTIVE.match(ln) or _SECTION.match(ln):
            continue
        m = _TASK.match(ln)
        if not m:
            problems.append(f"line {i}: not a directive, section or task: {ln!r}")
            continue
        tasks += 1
        if m["id"] in ids:
            problems.append(f"line {i}: duplicate task id {m['id']}")
        ids.add(m["id"])
        start = datetime.strptime(m["start"], _PY_FORMAT)
        end = datetime.strptime(m["end"], _PY_FORMAT)
        if end < start:
            problems.append(f"line {i}: ends before it starts")
        if m["label"].lower().split(" ", 1)[0] in RESERVED:
            problems.append(f"line {i}: label starts with a keyword")
    if tasks == 0:
        problems.append("no task")
    return problems


def fences_balanced(markdown: str) -> bool:
    return sum(1 for ln in markdown.splitlines() if ln.startswith("```")) % 2 == 0


def mermaid_blocks(markdown: str) -> Iterable[str]:
    """The bodies of ```mermaid blocks of a Markdown text."""
    body: list[str] | None = None
    for ln in markdown.splitlines():
        if body is None and ln.strip() == "```mermaid":
            body = []
        elif body is not None and ln.strip() == "```":
            yield "\n".join(body)
            body = None
        elif body is not None:
            body.append(ln)
