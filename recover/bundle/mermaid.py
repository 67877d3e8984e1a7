"""A Mermaid gantt chart of the timeline that renders on GitHub, and its validator (pure).

Mermaid's gantt grammar ends a task's text at `:` and treats `#` and `;` as comment and
statement separators, so labels are reduced to a safe character set; every task gets an
explicit id, start and end (no durations, no dependencies), which keeps the syntax to the
subset GitHub's renderer has supported for years.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from recover.bundle.chart import (
    GAP,
    MIN_SPAN,
    RECOVER_LANE,
    TRAIL_LANE,
    Bar,
    Chart,
    Episode,
    Mark,
    duration,
    tick_step,
    when,
)

DATE_FORMAT = "YYYY-MM-DD HH:mm:ss"
_PY_FORMAT = "%Y-%m-%d %H:%M:%S"
_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,/+=@\-]+")
LABEL_MAX = 70
LEFT_PADDING_MAX = 320
_INIT = re.compile(r'^%%\{init: \{"gantt": \{"leftPadding": \d{2,3}\}\}\}%%$')
_DIRECTIVE = re.compile(r"^(title [^:#;]*|dateFormat " + re.escape(DATE_FORMAT)
                        + r"|axisFormat [%A-Za-z :\-]+|todayMarker off"
                        r"|tickInterval [1-9][0-9]*(millisecond|second|minute|hour|day|week|month))$")
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


def _fmt(t: datetime) -> str:
    return t.strftime(_PY_FORMAT)


def axis_format(span: timedelta) -> str:
    """A tick format that suits the episode's length (d3 time format, as Mermaid takes it)."""
    if span <= timedelta(minutes=30):
        return "%H:%M:%S"
    if span <= timedelta(days=1):
        return "%H:%M"
    return "%m-%d %H:%M"


def tick_interval(span: timedelta) -> str:
    """Mermaid's `tickInterval` for the episode (without it, a short episode repeats labels)."""
    step = tick_step(span)
    for unit, n in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if step % n == 0:
            return f"{step // n}{unit}"
    return f"{step}second"


def init_directive(lanes: Iterable[str]) -> str:
    """Room on the left for the longest lane title (Mermaid's default, 75 px, cuts stack names
    across the bars)."""
    longest = max((len(label(t)) for t in lanes), default=10)
    pad = min(LEFT_PADDING_MAX, max(75, longest * 7 + 16))
    return '%%{init: {"gantt": {"leftPadding": ' + str(pad) + '}}}%%'


def _row(item: Bar | Mark) -> tuple[str, tuple[str, ...], datetime, datetime]:
    if isinstance(item, Mark):
        text = item.label + (f" x{item.count}" if item.count > 1 else "")
        tags = ("crit", "milestone") if item.failed else ("milestone",)
        return label(text), tags, item.time, item.time
    tags = {"failed": ("crit",), "done": ("done",), "running": ("active",)}[item.state]
    return label(item.label), tags, item.start, max(item.end, item.start + MIN_SPAN)


def lane_title(lane: str) -> str:
    if lane in (TRAIL_LANE, RECOVER_LANE):
        return lane
    return f"stack {lane}"


def episode_gantt(chart: Chart, ep: Episode) -> str:
    """One episode as a Mermaid gantt: one section per lane, one row per bar or marker."""
    titles = [lane_title(lane) for lane in chart.lanes if ep.rows(lane)]
    lines = [init_directive(titles), "gantt", f"    title {label(chart.title)}",
             f"    dateFormat {DATE_FORMAT}", f"    axisFormat {axis_format(ep.span)}",
             f"    tickInterval {tick_interval(ep.span)}", "    todayMarker off"]
    n = 0
    for lane in chart.lanes:
        rows = ep.rows(lane)
        if not rows:
            continue
        lines.append(f"    section {label(lane_title(lane))}")
        for item in rows:
            n += 1
            text, tags, start, end = _row(item)
            lines.append(f"    {text} :{''.join(f'{t}, ' for t in tags)}t{n}, {_fmt(start)}, "
                         f"{_fmt(end)}")
    return "\n".join(lines) if n else ""


def episode_heading(i: int, chart: Chart, ep: Episode) -> str:
    what = []
    if any(b.failed for b in ep.bars if b.lane not in (TRAIL_LANE, RECOVER_LANE)) or any(
            m.failed for m in ep.marks if m.lane not in (TRAIL_LANE, RECOVER_LANE)):
        what.append("stack failures")
    if any(i.lane == RECOVER_LANE for i in [*ep.bars, *ep.marks]):
        what.append("recover")
    n = len(chart.episodes)
    head = f"{i} of {n}: " if n > 1 else ""
    return (f"{head}{when(ep.start)} to {when(ep.end, ep.start)} UTC ({duration(ep.span)})"
            + (f": {', '.join(what)}" if what else ""))


def chart_markdown(chart: Chart) -> str:
    """The chart section of timeline.md (empty when there is nothing to draw): the earlier
    history in words, then one Mermaid gantt per episode of the incident window."""
    if chart.empty:
        return ""
    out: list[str] = []
    if chart.history:
        out += [chart.history[0], "", *(f"- {h}" for h in chart.history[1:]), ""]
    if len(chart.episodes) > 1:
        out += [f"The incident window has {len(chart.episodes)} episodes separated by more "
                f"than {duration(GAP)} of quiet; each is drawn at its own scale.", ""]
    failed = [f"{lane}: {', '.join(ids)}" for lane, ids in chart.failed_resources.items()]
    if failed:
        out += ["Failed resources (red markers): " + "; ".join(failed) + ".", ""]
    for i, ep in enumerate(chart.episodes, 1):
        out += [f"### {episode_heading(i, chart, ep)}", ""]
        if ep.left_out:
            out += [f"{ep.left_out} more marker(s) are in the table below.", ""]
        out += ["```mermaid", episode_gantt(chart, ep), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def validate_gantt(text: str) -> list[str]:
    """Problems that would stop GitHub rendering the chart (empty list: well formed)."""
    problems: list[str] = []
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and _INIT.match(lines[0]):
        lines = lines[1:]
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
