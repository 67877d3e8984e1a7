"""The incident chart as plain data (pure): what timeline.md draws with Mermaid and
timeline.html draws as inline SVG.

A stack's life spans weeks while the incident itself lasts minutes, so charting everything on
one axis turns every bar of the incident into an invisible sliver. The chart therefore covers
the incident window only: from the start of the first stack operation that failed through the
last row of the timeline (the recovery). What happened before is summarised in words. Inside
the window, activity separated by a long quiet gap (the failure at night, the recovery the
next morning) becomes separate episodes, each drawn at its own scale.

Lanes: one per stack of the tree (its operations as bars, its failed resources as red
markers), then CloudTrail (failed calls and the calls that explain the incident), then
recover (its runs as bars, its calls as markers).

The builder reads the timeline rows once, oldest first (`ChartBuilder.add`), and keeps only
what it draws: stack operations, failure markers and recover's calls, with caps, so it can
follow a streamed timeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from recover.bundle.model import Entry

GAP = timedelta(minutes=10)  # quieter than this between two rows: a new episode
MIN_SPAN = timedelta(seconds=1)
MAX_ROWS_PER_LANE = 30  # rows of one lane in one episode; the rest are counted
MAX_KEPT_MARKS = 5000  # markers kept while reading (bounded memory on huge trails)
TRAIL_LANE = "CloudTrail"
RECOVER_LANE = "recover"
_TRAIL_KINDS = ("trail:service_role", "trail:object_deletion", "trail:stack_operation")


@dataclass(frozen=True)
class Bar:
    """A span: one stack operation, or one recover run."""

    lane: str
    label: str
    start: datetime
    end: datetime
    state: str  # failed | done | running

    @property
    def failed(self) -> bool:
        return self.state == "failed"


@dataclass(frozen=True)
class Mark:
    """A point in time: a resource failure, a CloudTrail call, a recover call. `count` is how
    many equal markers within a second it stands for."""

    lane: str
    label: str
    time: datetime
    failed: bool
    count: int = 1

    @property
    def start(self) -> datetime:
        return self.time

    @property
    def end(self) -> datetime:
        return self.time


@dataclass(frozen=True)
class Episode:
    start: datetime
    end: datetime
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...]
    left_out: int = 0  # rows over MAX_ROWS_PER_LANE

    @property
    def span(self) -> timedelta:
        return max(self.end - self.start, MIN_SPAN)

    def rows(self, lane: str) -> list[Bar | Mark]:
        """The lane's rows in time order (bars before markers at equal times)."""
        items: list[Bar | Mark] = [b for b in self.bars if b.lane == lane]
        items += [m for m in self.marks if m.lane == lane]
        return sorted(items, key=lambda i: (i.start, isinstance(i, Mark)))

    @property
    def failed(self) -> bool:
        return any(b.failed for b in self.bars) or any(m.failed for m in self.marks)


@dataclass(frozen=True)
class Chart:
    title: str
    lanes: tuple[str, ...]  # stacks in order of first appearance, then CloudTrail, recover
    episodes: tuple[Episode, ...]
    history: tuple[str, ...]  # what happened before the incident window, in words
    window_start: datetime | None
    window_end: datetime | None
    failed_resources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lane -> ids

    @property
    def empty(self) -> bool:
        return not self.episodes


def duration(d: timedelta) -> str:
    """A short human duration: 19 s, 4 min 05 s, 3 h 20 min, 24 d 22 h."""
    s = int(d.total_seconds())
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
               43200, 86400, 172800, 604800)


def tick_step(span: timedelta, target: int = 10) -> int:
    """Seconds between axis ticks: the smallest round step that gives at most `target`."""
    total = span.total_seconds()
    return next((s for s in _NICE_STEPS if total / s <= target), _NICE_STEPS[-1])


def operation(status: str) -> str:
    """`UPDATE_ROLLBACK_IN_PROGRESS` -> `update rollback`."""
    return status.removesuffix("_IN_PROGRESS").replace("_", " ").lower()


def when(t: datetime, ref: datetime | None = None) -> str:
    """A timestamp, without its date when `ref` is the same day."""
    if ref is not None and ref.date() == t.date():
        return t.strftime("%H:%M:%S")
    return t.strftime("%Y-%m-%d %H:%M:%S")


class ChartBuilder:
    """Feed the timeline rows oldest first with `add`, then call `build`."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._lanes: list[str] = []
        self._open: dict[str, tuple[Entry, Entry]] = {}  # stack -> (first, last) in progress
        self._ops: list[Bar] = []
        self._marks: list[Mark] = []
        self._runs: dict[str, Entry] = {}
        self._first_failure: datetime | None = None
        self._first_run: datetime | None = None
        self._last: datetime | None = None
        self._dropped = 0
        self._failed_resources: dict[str, list[str]] = {}

    def _lane(self, name: str) -> str:
        if name not in self._lanes:
            self._lanes.append(name)
        return name

    def _mark(self, m: Mark) -> None:
        last = self._marks[-1] if self._marks else None
        if last is not None and (last.lane, last.label, last.failed) == (m.lane, m.label,
                                                                         m.failed) \
                and m.time - last.time <= MIN_SPAN:
            self._marks[-1] = Mark(last.lane, last.label, last.time, last.failed,
                                   last.count + 1)
            return
        if len(self._marks) >= MAX_KEPT_MARKS:
            self._dropped += 1
            return
        self._marks.append(m)

    def add(self, e: Entry) -> None:
        self._last = e.time if self._last is None else max(self._last, e.time)
        if e.source == "stack":
            self._stack(e)
        elif e.source == "cloudtrail":
            if e.failed or e.kind in _TRAIL_KINDS:
                self._mark(Mark(TRAIL_LANE, f"{e.what.split(':', 1)[-1]} {e.status}", e.time,
                                e.failed))
        elif e.kind == "recover:run":
            self._run(e)
        elif e.kind == "recover:call":
            self._mark(Mark(RECOVER_LANE, f"{e.what.split(':', 1)[-1]} "
                                          f"{e.status.split(':')[0]}{_left_alone(e.detail)}",
                            e.time, e.failed))

    def _stack(self, e: Entry) -> None:
        lane = self._lane(e.subject)
        if e.what != "stack":
            if e.status.endswith("_FAILED"):
                if self._first_failure is None:
                    self._first_failure = e.time
                logical = e.what.split(" ", 1)[0]
                ids = self._failed_resources.setdefault(lane, [])
                if logical not in ids:
                    ids.append(logical)
                self._mark(Mark(lane, f"{logical} {e.status}", e.time, True))
            return
        if e.status.endswith("_IN_PROGRESS"):
            first, _ = self._open.get(e.subject, (e, e))
            self._open[e.subject] = (first, e)
            return
        first, _ = self._open.pop(e.subject, (e, e))
        failed = e.status.endswith("_FAILED")
        if failed and self._first_failure is None:
            self._first_failure = e.time
        text = e.status if first is e else f"{operation(first.status)} ended {e.status}"
        self._ops.append(Bar(lane, text, first.time, e.time, "failed" if failed else "done"))

    def _run(self, e: Entry) -> None:
        if e.status == "started":
            self._runs[e.subject] = e
            if self._first_run is None:
                self._first_run = e.time
            return
        s = self._runs.pop(e.subject, e)
        state = "failed" if e.status in ("failed", "interrupted") else "done"
        self._ops.append(Bar(RECOVER_LANE, f"{e.what.replace('run ended: ', '')} {e.status}",
                             s.time, e.time, state))

    def build(self) -> Chart:
        bars = list(self._ops)
        for stack, (first, last) in self._open.items():
            bars.append(Bar(stack, f"{operation(first.status)} still running", first.time,
                            last.time,
                            "running"))
        for s in self._runs.values():
            bars.append(Bar(RECOVER_LANE, f"{s.what.replace('run started: ', '')} no end "
                                          "recorded", s.time, s.time, "running"))
        lanes = list(self._lanes)
        for extra in (TRAIL_LANE, RECOVER_LANE):
            if any(i.lane == extra for i in [*bars, *self._marks]):
                lanes.append(extra)
        start = self._window_start(bars)
        if start is None:
            return Chart(self.title, tuple(lanes), (), (), None, None)
        before = [b for b in bars if b.end < start]
        inside_bars = [_clip(b, start) for b in bars if b.end >= start]
        inside_marks = [m for m in self._marks if m.time >= start]
        episodes = _episodes(inside_bars, inside_marks)
        used = {i.lane for ep in episodes for i in [*ep.bars, *ep.marks]}
        history = _history(before, [m for m in self._marks if m.time < start], start,
                           self._dropped)
        return Chart(self.title, tuple(ln for ln in lanes if ln in used), tuple(episodes),
                     tuple(history), start, self._last,
                     {k: tuple(v) for k, v in self._failed_resources.items()})

    def _window_start(self, bars: list[Bar]) -> datetime | None:
        """The start of the operation that was running when the first failure happened (the
        earliest one, across stacks: a nested failure starts with its root's update); with no
        failure, the first recover run; else the last stack operation."""
        t = self._first_failure
        if t is not None:
            around = [b.start for b in bars if b.lane not in (TRAIL_LANE, RECOVER_LANE)
                      and b.start <= t <= b.end]
            return min(around, default=t)
        if self._first_run is not None:
            return self._first_run
        stack_bars = [b for b in bars if b.lane != RECOVER_LANE]
        if stack_bars:
            return max(b.start for b in stack_bars)
        return min((m.time for m in self._marks), default=None)


_LEFT_ALONE = re.compile(r"(ResourcesToSkip|RetainResources)=(\[[^\]]*\])")


def _left_alone(detail: str) -> str:
    """`, skipping A, B` / `, retaining A` for a call that skipped or retained resources (the
    timeline row's detail holds its ResourcesToSkip / RetainResources as JSON)."""
    m = _LEFT_ALONE.search(detail)
    if m is None:
        return ""
    try:
        ids = [str(i).rsplit(".", 1)[-1] for i in json.loads(m[2])]
    except ValueError:
        return ""
    if not ids:
        return ""
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return f", {'skipping' if m[1] == 'ResourcesToSkip' else 'retaining'} {shown}"


def _clip(b: Bar, start: datetime) -> Bar:
    if b.start >= start:
        return b
    return Bar(b.lane, f"{b.label} (started {when(b.start)})", start, b.end, b.state)


def _episodes(bars: list[Bar], marks: list[Mark]) -> list[Episode]:
    """Group the window's rows into episodes separated by more than GAP of quiet."""
    items: list[Bar | Mark] = sorted([*bars, *marks], key=lambda i: i.start)
    groups: list[list[Bar | Mark]] = []
    end: datetime | None = None
    for item in items:
        if end is None or item.start > end + GAP:
            groups.append([])
            end = item.end
        groups[-1].append(item)
        end = max(end, item.end)
    out: list[Episode] = []
    for group in groups:
        kept: list[Bar | Mark] = []
        per_lane: dict[str, int] = {}
        left = 0
        for item in group:
            n = per_lane.get(item.lane, 0)
            # bars (operations) are never dropped; markers beyond the cap are counted
            if isinstance(item, Mark) and n >= MAX_ROWS_PER_LANE:
                left += 1
                continue
            per_lane[item.lane] = n + 1
            kept.append(item)
        out.append(Episode(min(i.start for i in group), max(i.end for i in group),
                           tuple(i for i in kept if isinstance(i, Bar)),
                           tuple(i for i in kept if isinstance(i, Mark)), left))
    return out


def _history(bars: list[Bar], marks: list[Mark], start: datetime, dropped: int) -> list[str]:
    """Before the window, in words: per stack, its operations and how they ended."""
    out: list[str] = []
    by_lane: dict[str, list[Bar]] = {}
    for b in bars:
        by_lane.setdefault(b.lane, []).append(b)
    for lane, ops in by_lane.items():
        failed = sum(1 for b in ops if b.failed)
        last = ops[-1]
        noun = "run" if lane == RECOVER_LANE else "operation"
        out.append(f"{lane}: {len(ops)} {noun}{'s' if len(ops) != 1 else ''} from "
                   f"{when(ops[0].start)} to {when(last.end)}"
                   f"{f', {failed} failed' if failed else ', none failed'}; the last ended "
                   f"{last.label.rsplit(' ended ', 1)[-1]}")
    if marks:
        bad = sum(m.count for m in marks if m.failed)
        out.append(f"{sum(m.count for m in marks)} other marked event(s) before the window"
                   f"{f' ({bad} failed)' if bad else ''}")
    if bars or marks:
        first = min([*(b.start for b in bars), *(m.time for m in marks)])
        out.insert(0, f"Before the incident window ({when(first)} to {when(start)}, "
                      f"{duration(start - first)}), summarised:")
    if dropped:
        out.append(f"{dropped} marked event(s) not drawn (more than {MAX_KEPT_MARKS})")
    return out


def build_chart(title: str, entries: Iterable[Entry]) -> Chart:
    builder = ChartBuilder(title)
    for e in entries:
        builder.add(e)
    return builder.build()
