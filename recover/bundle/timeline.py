"""The single chronological timeline: stack events of every stack of the tree, related
CloudTrail records and recover's own actions and operator answers (pure)."""

from __future__ import annotations

import heapq
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from recover.bundle.model import SOURCE_ORDER, Collected, Entry, RunFolder, Window
from recover.cloudtrail.record import TrailRecord, parse_event_time
from recover.model.stack import StackEvent, StackNode, StackSnapshot

DETAIL_MAX = 400
_JOURNAL_SKIP = {"seq", "time", "kind"}


def short(text: Any, limit: int = DETAIL_MAX) -> str:
    """One line, at most `limit` characters."""
    s = " ".join(str(text).split()) if text is not None else ""
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _same(s: str) -> str:
    return s


def events_oldest_first(events: tuple[StackEvent, ...]) -> Iterator[StackEvent]:
    """A stack's events in time order without copying them: DescribeStackEvents gives them
    newest first, so they are read backwards, each group of equal times kept in its given
    order (as a stable sort would); any other order is sorted."""
    n = len(events)
    if all(events[i].timestamp <= events[i + 1].timestamp for i in range(n - 1)):
        yield from events
        return
    if not all(events[i].timestamp >= events[i + 1].timestamp for i in range(n - 1)):
        yield from sorted(events, key=lambda e: e.timestamp)
        return
    end = n
    while end > 0:
        start = end - 1
        while start > 0 and events[start - 1].timestamp == events[end - 1].timestamp:
            start -= 1
        yield from events[start:end]
        end = start


def _event_same(ev: StackEvent) -> StackEvent:
    return ev


def node_entries(node: StackNode, window: Window,
                 redact: Callable[[StackEvent], StackEvent] = _event_same,
                 text: Callable[[str], str] = _same) -> Iterator[Entry]:
    """One stack's events as entries, oldest first; `redact` gives an event with its fields
    redacted, `text` redacts the stack's name."""
    name = text(node.name)
    for ev in events_oldest_first(node.events):
        if not window.contains(ev.timestamp):
            continue
        is_stack = ev.is_stack_event
        ev = redact(ev)
        what = "stack" if is_stack else f"{ev.logical_id} ({ev.resource_type})"
        yield Entry(ev.timestamp, "stack", "stack_event", name, what, ev.status,
                    short(ev.reason) if ev.reason else "", ev.event_id)


def stack_entries(snapshot: StackSnapshot, window: Window) -> list[Entry]:
    return [e for node in snapshot.nodes for e in node_entries(node, window)]


def _caller(rec: TrailRecord) -> str:
    ident = rec.user_identity
    issuer = ident.get("sessionContext", {})
    issuer = issuer.get("sessionIssuer", {}) if isinstance(issuer, Mapping) else {}
    name = (issuer.get("userName") if isinstance(issuer, Mapping) else None) \
        or ident.get("userName") or (rec.caller or "?").rsplit("/", 1)[-1]
    via = f" via {rec.invoked_by}" if rec.invoked_by else ""
    return f"{name}{via}"


def _trail_detail(rec: TrailRecord, relation: str) -> str:
    p = rec.request_parameters
    bits = [relation.replace("_", " ")]
    for key in ("stackName", "functionName", "roleName", "bucketName", "key", "s3Bucket", "s3Key"):
        if isinstance(p.get(key), str):
            bits.append(f"{key}={p[key]}")
    code = p.get("code")
    if isinstance(code, Mapping):
        for key in ("s3Bucket", "s3Key"):
            if isinstance(code.get(key), str):
                bits.append(f"{key}={code[key]}")
    if rec.error_message:
        bits.append(rec.error_message)
    return short("; ".join(bits))


def trail_entry(raw: Mapping[str, Any], relation: str, window: Window) -> Entry | None:
    rec = TrailRecord(raw)
    when = rec.event_time
    if when is None or not window.contains(when):
        return None
    source = (rec.event_source or "?").split(".", 1)[0]
    status = f"error {rec.error_code}" if rec.error_code else "ok"
    return Entry(when, "cloudtrail", f"trail:{relation}", _caller(rec),
                 f"{source}:{rec.event_name}", status, _trail_detail(rec, relation),
                 rec.event_id or "")


def trail_entries(records: Iterable[Mapping[str, Any]], relations: Iterable[str],
                  window: Window) -> list[Entry]:
    out = (trail_entry(raw, rel, window) for raw, rel in zip(records, relations, strict=False))
    return [e for e in out if e is not None]


def _params_brief(params: Mapping[str, Any]) -> str:
    keep = []
    for key in ("StackName", "ResourcesToSkip", "RetainResources", "RoleARN", "Bucket", "Key",
                "FunctionName", "RoleName", "CopySource", "VersionId"):
        if key in params:
            value = params[key]
            keep.append(f"{key}={json.dumps(value) if not isinstance(value, str) else value}")
    return ", ".join(keep)


def journal_entries(run: RunFolder, window: Window) -> list[Entry]:
    """Entries of one run's journal. A call's `before` and `after` become one row at the
    time it started, with the answer as its status; unknown kinds are shown generically."""
    afters = {e.get("ref"): e for e in run.journal
              if e.get("kind") == "call" and e.get("phase") == "after"}
    # a restore whose answer was lost: the call failed (412 on the retry) but did write
    lost = {e.get("ref"): e for e in run.journal if e.get("kind") == "restore_answer_lost"}
    out: list[Entry] = []
    for e in run.journal:
        when = parse_event_time(e.get("time"))
        if when is None or not window.contains(when):
            continue
        kind = str(e.get("kind") or "?")
        ref = f"{run.name}#{e.get('seq')}"
        if kind == "call":
            if e.get("phase") == "after":
                continue
            call = e.get("call") if isinstance(e.get("call"), Mapping) else {}
            after = afters.get(e.get("seq"))
            if e.get("seq") in lost:
                note = lost[e.get("seq")]
                status = (f"ok, answer lost: written by recover (version "
                          f"{note.get('version_id')}; the retry met 412)")
            elif after is None:
                status = "no answer recorded"
            elif after.get("ok"):
                status = "ok"
            else:
                err = after.get("error") or {}
                status = f"error {err.get('code')}: {short(err.get('message'), 200)}"
            detail = "; ".join(x for x in (short(call.get("description")),
                                           _params_brief(call.get("params") or {})) if x)
            out.append(Entry(when, "recover", "recover:call", run.name,
                             f"{call.get('service')}:{call.get('operation')}", status,
                             short(detail), ref))
        elif kind == "dry_run":
            call = e.get("call") if isinstance(e.get("call"), Mapping) else {}
            out.append(Entry(when, "recover", "recover:dry_run", run.name,
                             f"would call {call.get('service')}:{call.get('operation')}",
                             "dry-run", short(call.get("description")), ref))
        elif kind == "answer":
            via = f" (via {e['via']})" if e.get("via") else ""
            out.append(Entry(when, "recover", "recover:answer", run.name, "operator answer",
                             short(e.get("answer"), 80),
                             short(f"{e.get('question')}{via}"), ref))
        else:
            rest = {k: v for k, v in e.items() if k not in _JOURNAL_SKIP}
            out.append(Entry(when, "recover", f"recover:{kind}", run.name, kind.replace("_", " "),
                             "noted", short(json.dumps(rest, ensure_ascii=False, default=str)),
                             ref))
    return out


def run_entries(run: RunFolder, window: Window) -> list[Entry]:
    meta = run.metadata
    out: list[Entry] = []
    argv = " ".join(str(a) for a in meta.get("argv") or [])
    start = parse_event_time(meta.get("started_at"))
    if start is not None and window.contains(start):
        ident = meta.get("identity") or {}
        who = ident.get("Arn") if isinstance(ident, Mapping) else None
        out.append(Entry(start, "recover", "recover:run", run.name,
                         f"run started: recover {run.command}", "started",
                         short(f"argv: {argv}" + (f"; identity {who}" if who else "")),
                         f"{run.name}#start"))
    end = parse_event_time(meta.get("ended_at"))
    if end is not None and window.contains(end):
        out.append(Entry(end, "recover", "recover:run", run.name,
                         f"run ended: recover {run.command}", str(meta.get("outcome")),
                         short(f"exit code {meta.get('exit_code')}"
                               + (f"; {meta['error'].get('message')}"
                                  if isinstance(meta.get("error"), Mapping) else "")),
                         f"{run.name}#end"))
    return out


def _order(e: Entry) -> tuple[Any, int]:
    return e.time, SOURCE_ORDER.get(e.source, 9)


def merge_sources(sources: Iterable[Iterable[Entry]]) -> Iterator[Entry]:
    """Sources each in time order → one stream, oldest first; at equal times stack events,
    then CloudTrail, then recover, and within that the order of `sources` (heapq.merge is
    stable). Memory: one pending entry per source."""
    return heapq.merge(*sources, key=_order)


def run_sources(run: RunFolder, window: Window) -> list[Iterable[Entry]]:
    """A run's start/end and its journal, each in time order (a journal is written in order;
    one that is not, from a clock step, is sorted: runs are small)."""
    journal = journal_entries(run, window)
    if any(journal[i].time > journal[i + 1].time for i in range(len(journal) - 1)):
        journal.sort(key=lambda e: e.time)
    return [run_entries(run, window), journal]


def iter_timeline(c: Collected) -> Iterator[Entry]:
    """`build_timeline` as a stream (the trail's records are in time order: read_trail)."""
    sources: list[Iterable[Entry]] = [node_entries(n, c.window) for n in c.snapshot.nodes]
    sources.append(trail_entries(c.trail.records, c.trail.relations, c.window))
    for run in c.runs:
        sources += run_sources(run, c.window)
    return merge_sources(sources)


def build_timeline(c: Collected) -> list[Entry]:
    """Every entry in the window, oldest first; at equal times stack events, then CloudTrail,
    then recover, each in the order its source gave."""
    return list(iter_timeline(c))


MD_MAX_ROWS = 1000  # timeline.md stays a page people read; evidence.json holds every entry
CONTEXT_ROWS = 3
TAIL_ROWS = 10
_NOTABLE_TRAIL = frozenset({"trail:service_role", "trail:object_deletion",
                            "trail:stack_operation", "trail:artifact_fetch_failure"})


def notable(e: Entry) -> bool:
    """A row the incident window always shows: a failure, a stack's own status change, a
    CloudTrail change to the stack, its role or its objects, anything recover did."""
    return e.failed or e.source == "recover" or (e.source == "stack" and e.what == "stack") \
        or e.kind in _NOTABLE_TRAIL


class IncidentRows:
    """The rows timeline.md shows, chosen in one pass with bounded memory: every row when
    there are at most `cap`; otherwise the incident window: each notable row with
    `context` rows either side, and the last `tail` rows (the state things ended in), up to
    `cap` rows. Rows keep their number in the whole timeline (evidence.json `entries`)."""

    def __init__(self, cap: int = MD_MAX_ROWS, context: int = CONTEXT_ROWS,
                 tail: int = TAIL_ROWS) -> None:
        self.cap, self.context = cap, context
        self.total = 0
        self._all: list[tuple[int, Entry]] | None = []
        self._picked: list[tuple[int, Entry]] = []
        self._before: deque[tuple[int, Entry]] = deque(maxlen=context)
        self._after = 0
        self._tail: deque[tuple[int, Entry]] = deque(maxlen=tail)

    def add(self, e: Entry) -> None:
        self.total += 1
        row = (self.total, e)
        if self._all is not None:
            self._all.append(row)
            if len(self._all) > self.cap:
                self._all = None
        self._tail.append(row)
        if notable(e):
            while self._before:
                self._pick(self._before.popleft())
            self._pick(row)
            self._after = self.context
        elif self._after > 0:
            self._pick(row)
            self._after -= 1
        else:
            self._before.append(row)

    def _pick(self, row: tuple[int, Entry]) -> None:
        if len(self._picked) < self.cap - (self._tail.maxlen or 0):
            self._picked.append(row)

    def rows(self) -> list[tuple[int, Entry]]:
        """(number, entry), oldest first."""
        if self._all is not None:
            return list(self._all)
        last = self._picked[-1][0] if self._picked else 0
        return self._picked + [r for r in self._tail if r[0] > last]
