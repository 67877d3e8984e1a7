"""Turn what collect gathered into the bundle's files, as a stream into a sink
(recover.bundle.write): one pass over the inputs in time order, with bounded memory.

Secrets are learned first (a read-only walk of every input), so that each input is redacted
as it streams by and nothing rendered afterwards (timeline, summary, evidence.json, HTML) ever
sees a secret; a last pass over every chunk written is a safety net. What grows with the
number of rows goes to disk (evidence.json's entries, the related CloudTrail records) or is
capped (timeline.md shows the incident window: recover.bundle.timeline.IncidentRows).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from recover import __version__
from recover.bundle import BUNDLE_SCHEMA_VERSION
from recover.bundle.chart import build_chart
from recover.bundle.mermaid import chart_markdown
from recover.bundle.model import Collected, Entry, RunFolder, TemplateCopy
from recover.bundle.operations import group_operations
from recover.bundle.redact import Redactor, SecretBook, parse_template
from recover.bundle.relate import subjects_of
from recover.bundle.render_html import render_html
from recover.bundle.render_md import render_markdown
from recover.bundle.summary import SummaryBuilder, coverage_notes
from recover.bundle.timeline import (
    IncidentRows,
    merge_sources,
    node_entries,
    run_sources,
    trail_entry,
)
from recover.bundle.write import MemorySink, Sink
from recover.cloudtrail.record import parse_event_time
from recover.model.stack import StackEvent, StackNode, StackSnapshot

_EVENT_FIELDS = tuple(f.name for f in fields(StackEvent))
_HOLE = "\u0000LIST\u0000"  # stands for a list streamed in its place
_HOLE_JSON = json.dumps(_HOLE)
_CHUNK = 1 << 20
BLOCK = 64 * 1024  # text the safety net reads at once (it used to read whole files)
LEARN_BATCH = 256
_EPOCH = datetime.min.replace(tzinfo=UTC)


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"


_LINE = json.JSONEncoder(ensure_ascii=False, default=str)  # json.dumps builds one per call


def _line(value: Any) -> str:
    return _LINE.encode(value)


def _around_hole(text: str) -> tuple[str, str]:
    before, _, after = text.partition(_HOLE_JSON)
    return before, after


# ---------------------------------------------------------------- inputs, in pieces

def _event_dict(ev: StackEvent) -> dict[str, Any]:
    """StackEvent.to_dict without dataclasses.asdict (ten times faster on a big tree)."""
    d = {name: getattr(ev, name) for name in _EVENT_FIELDS}
    d["timestamp"] = ev.timestamp.isoformat()
    return d


_EVENT_TEXT = tuple(f.name for f in fields(StackEvent) if f.type == "str")
_event_texts = attrgetter(*_EVENT_TEXT)


def _event_strings(ev: StackEvent) -> list[str]:
    """The event's text fields (the walk's view of it: everything but the timestamp)."""
    values = _event_texts(ev)
    return [v for v in values if isinstance(v, str)] if not all(
        isinstance(v, str) for v in values) else list(values)


def redact_event(ev: StackEvent, r: Redactor) -> StackEvent:
    """= Redactor.value on the event's dict: no field name of StackEvent is one the redactor
    treats specially, so each string is redacted as text (after one look at them all)."""
    strings = list(_event_strings(ev))
    if r.all_clean(strings):
        return ev
    return replace(ev, **{name: r.text(v) for name in _EVENT_FIELDS
                          if isinstance(v := getattr(ev, name), str)})


def _snapshot_head(snap: StackSnapshot) -> dict[str, Any]:
    d = snap.to_dict() if not snap.nodes else replace(snap, nodes=()).to_dict()
    d["nodes"] = _HOLE
    return d


def _node_head(node: StackNode) -> dict[str, Any]:
    d = replace(node, events=()).to_dict()
    d["events"] = _HOLE
    return d


def _learn_parts(c: Collected) -> Iterator[tuple[Any, str, str]]:
    """Every input as (value, key, parent key) as it sits in its whole document, stack events
    excepted (`_learn_secrets` reads their strings directly)."""
    for t in c.templates:
        tpl = parse_template(t.body)
        if tpl is not None:
            yield tpl, "", ""
    yield _snapshot_head(c.snapshot), "", ""
    for node in c.snapshot.nodes:
        yield _node_head(node), "nodes", ""
    yield c.trail.records, "", ""
    for run in c.runs:
        yield run.metadata, "", ""
        yield run.journal, "", ""
        yield run.json_files, "", ""


def learn_secrets(c: Collected) -> set[str]:
    """Every secret value known from what was collected (recover.bundle.redact.SecretBook):
    NoEcho parameter values in every shape, secret-looking Lambda environment variables,
    CloudTrail credentials. A stack event's fields mean nothing to the walk by their names,
    so only their text is read."""
    book = SecretBook()
    book.learn_names(_learn_parts(c))
    book.learn_values(_learn_parts(c))
    for node in c.snapshot.nodes:
        for i in range(0, len(node.events), LEARN_BATCH):  # one look at many, then each
            batch = [t for ev in node.events[i:i + LEARN_BATCH] for t in _event_strings(ev)]
            book.learn_plain_strings(batch)
    for run in c.runs:
        for text in run.texts.values():
            book.learn_text(text)
    return book.values


def redact_run(run: RunFolder, r: Redactor) -> RunFolder:
    return RunFolder(name=run.name, metadata=r.value(run.metadata), journal=r.value(run.journal),
                     json_files=r.value(run.json_files),
                     texts={k: r.text(v) for k, v in run.texts.items()},
                     unreadable=list(run.unreadable))


def _template_name(t: TemplateCopy) -> str:
    body = (t.body or "").lstrip()
    return f"raw/templates/{t.file_stem}.{'json' if body.startswith('{') else 'yaml'}"


def _trail_order(records: list[dict[str, Any]]) -> Iterable[int]:
    """Indexes of the related records in time order (read_trail sorts them; checked, since
    the merge relies on it)."""
    times = (parse_event_time(r.get("eventTime")) or _EPOCH for r in records)
    prev = _EPOCH
    for t in times:
        if t < prev:
            return sorted(range(len(records)), key=lambda i: parse_event_time(
                records[i].get("eventTime")) or _EPOCH)
        prev = t
    return range(len(records))


# ---------------------------------------------------------------- the stream

@dataclass
class _Pass:
    """State of one bundle build: the redactors and the files already written."""

    c: Collected
    sink: Sink
    r: Redactor  # inputs, counted (the redaction summary)
    quiet: Redactor  # a second look at values `r` counted already
    late: Redactor  # the safety net over what is written
    late_doc: Redactor  # the same for evidence.json, written after its counts are taken

    dirty: set[int] = field(default_factory=set)  # id() of the stack events that needed redacting

    def write_text(self, name: str, chunks: Iterable[str], late: Redactor | None = None) -> None:
        """Text chunks (whole lines) to a file, through the safety net a block at a time, as
        it used to go over whole files."""
        net = late or self.late
        self.sink.write(name, (net.text(b).encode("utf-8") for b in _blocks(chunks)))

    def snapshot_chunks(self) -> Iterator[str]:
        """raw/snapshot.json: StackSnapshot.to_dict redacted, one event per line."""
        snap = self.c.snapshot
        head, tail = _around_hole(_dump(self.r.value(_snapshot_head(snap))))
        yield head + "[\n"
        for i, node in enumerate(snap.nodes):
            n_head, n_tail = _around_hole(_line(self.r.value(_node_head(node), "nodes", "")))
            yield "    " + n_head + "[\n"
            for j, ev in enumerate(node.events):
                red = redact_event(ev, self.r)
                if red is not ev:
                    self.dirty.add(id(ev))
                d = _event_dict(red)
                yield "      " + _line(d) + (",\n" if j < len(node.events) - 1 else "\n")
            yield "    ]" + n_tail + (",\n" if i < len(snap.nodes) - 1 else "\n")
        yield "  ]" + tail

    def trail_source(self, related: IO[bytes], summary: SummaryBuilder) -> Iterator[Entry]:
        """The related records in time order, each redacted once: written to the related
        spool, told to the summary, and yielded as a timeline entry when in the window."""
        t = self.c.trail
        for i in _trail_order(t.records):
            rel = t.relations[i]
            rec = self.r.value(t.records[i])
            related.write((self.late.text(_line({"relation": rel, "record": rec}))
                           + "\n").encode("utf-8"))
            summary.add_trail(rec, rel)
            e = trail_entry(rec, rel, self.c.window)
            if e is not None:
                yield e

    def run_files(self, run: RunFolder) -> None:
        base = f"raw/runs/{run.name}"
        self.write_text(f"{base}/metadata.json", [_dump(run.metadata)])
        if run.journal:
            self.write_text(f"{base}/journal.jsonl", (_line(e) + "\n" for e in run.journal))
        for name, doc in run.json_files.items():
            self.write_text(f"{base}/{name}", [_dump(doc)])
        for name, text in run.texts.items():
            self.write_text(f"{base}/{name}", [text])


def _blocks(chunks: Iterable[str], size: int = 0) -> Iterator[str]:
    block: list[str] = []
    n = 0
    for ch in chunks:
        block.append(ch)
        n += len(ch)
        if n >= (size or BLOCK):
            yield "".join(block)
            block, n = [], 0
    if block:
        yield "".join(block)


def _spool(spool: IO[bytes], lines: list[str], late: Redactor) -> None:
    """evidence.json entries, one per line, separated by commas, through the safety net."""
    if lines:
        sep = ",\n" if spool.tell() else ""
        spool.write((sep + late.text(",\n".join(lines))).encode("utf-8"))


def _copy(spool: IO[bytes]) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(_CHUNK):
        yield chunk


def stream_bundle(collected: Collected, sink: Sink, *, now: datetime, html: bool = False,
                  spool_dir: Path | None = None) -> dict[str, Any]:
    """Write the bundle's files into `sink` (MANIFEST.sha256 excepted: `sink.close()` adds
    it) and return evidence.json's document without its entries, plus `entry_count`.
    `spool_dir`: where the rows wait, in anonymous 0600 files, until the summary above them
    is known (the bundle's folder; the system's temporary folder when None)."""
    c = collected
    secrets = learn_secrets(c)
    p = _Pass(c, sink, Redactor(secrets), Redactor(secrets, count=False), Redactor(secrets),
              Redactor(secrets, count=False))
    r = p.r
    templates = [replace(t, body=r.json_text(t.body) if t.body is not None else None)
                 for t in c.templates]
    for t in templates:
        if t.body is not None:
            p.write_text(_template_name(t), [t.body if t.body.endswith("\n") else t.body + "\n"])
    p.write_text("raw/snapshot.json", p.snapshot_chunks())
    runs = [redact_run(run, r) for run in c.runs]
    for run in runs:
        p.run_files(run)
    red = replace(c, templates=templates, runs=runs,
                  trail=replace(c.trail, error=r.text(c.trail.error) if c.trail.error else None))
    summary = SummaryBuilder(red, p.quiet.text)
    picker = IncidentRows()
    spool_at = str(spool_dir) if spool_dir is not None else None
    with tempfile.TemporaryFile(dir=spool_at) as entries_spool, \
            tempfile.TemporaryFile(dir=spool_at) as related:
        quiet = p.quiet

        def redact_quietly(ev: StackEvent) -> StackEvent:
            # raw/snapshot.json looked at every event: only those it redacted need a look
            return redact_event(ev, quiet) if id(ev) in p.dirty else ev

        sources: list[Iterable[Entry]] = [node_entries(n, c.window, redact_quietly, quiet.text)
                                          for n in c.snapshot.nodes]
        sources.append(p.trail_source(related, summary))
        for run in runs:
            sources += run_sources(run, c.window)
        lines: list[str] = []
        size = 0
        for e in merge_sources(sources):
            summary.add(e)
            picker.add(e)
            line = "    " + _line(e.to_dict())
            lines.append(line)
            size += len(line)
            if size >= BLOCK:
                _spool(entries_spool, lines, p.late_doc)
                lines, size = [], 0
        _spool(entries_spool, lines, p.late_doc)
        if c.trail.source:
            sink.write("raw/cloudtrail/related.jsonl", _copy(related))
            p.write_text("raw/cloudtrail/scan.json", [_dump({
                "source": c.trail.source, "stats": c.trail.stats, "error": red.trail.error})])
        doc = _document(red, summary.result(), r, now)
        rows = picker.rows()
        # The chart reads the rows timeline.md shows: with a long history they are the incident
        # window (every failure, status change and recover action) and the last rows.
        chart = build_chart(f"{doc['stack']} incident UTC", [e for _, e in rows])
        p.write_text("timeline.md", [render_markdown(doc, rows, picker.total,
                                                     chart_markdown(chart))])
        if html:
            p.write_text("timeline.html", [render_html(doc, rows, picker.total, chart)])
        doc["redaction"]["final_pass"] = dict(p.late.counts)
        doc["files"] = sorted([*sink.digests, "evidence.json", "MANIFEST.sha256"])
        doc["entries"] = _HOLE
        head, tail = _around_hole(_dump(doc))
        del doc["entries"]
        sink.write("evidence.json", _evidence_chunks(p.late_doc, head, tail, entries_spool,
                                                     picker.total))
    doc["entry_count"] = picker.total
    return doc


def _evidence_chunks(late: Redactor, head: str, tail: str, spool: IO[bytes],
                     count: int) -> Iterator[bytes]:
    yield late.text(head + ("[\n" if count else "[")).encode("utf-8")
    yield from _copy(spool)
    yield late.text(("\n  ]" if count else "]") + tail).encode("utf-8")


def _document(c: Collected, summary: dict[str, Any], r: Redactor,
              now: datetime) -> dict[str, Any]:
    """evidence.json without its entries. `c` has its templates, runs and trail error
    redacted, not its snapshot: what comes from the snapshot goes through `r` here."""
    snap = c.snapshot
    subj = subjects_of(snap, {t.stack_id: parse_template(t.body) for t in c.templates
                              if t.label == "current"})
    quiet = Redactor(r.known_values, count=False)
    return {
        "schema_version": BUNDLE_SCHEMA_VERSION,
        "generated_at": c.generated_at.isoformat(),
        "recover_version": __version__,
        "stack": quiet.text(snap.root.name), "requested": quiet.text(c.stack),
        "root_stack_id": quiet.text(snap.root_id),
        "region": snap.region, "account": snap.account,
        "window": c.window.to_dict(),
        "summary": summary,
        "coverage": [quiet.text(n) for n in coverage_notes(c, now)],
        "stacks": [{"name": n.name, "stack_id": n.stack_id, "status": n.info.status,
                    "status_reason": n.info.status_reason, "depth": n.depth,
                    "parent_id": n.info.parent_id or None, "role_arn": n.info.role_arn or None,
                    "resources": len(n.resources), "events": len(n.events),
                    "failed_resources": [r.logical_id for r in n.resources
                                         if r.status.endswith("_FAILED")],
                    "resource_statuses": [{"logical_id": r.logical_id, "type": r.resource_type,
                                           "status": r.status, "physical_id": r.physical_id,
                                           "reason": r.reason} for r in n.resources]}
                   for n in (_quiet_node(n, quiet) for n in snap.nodes)],
        "operations": quiet.value(group_operations(snap, c.runs)),
        "templates": [t.to_dict() | {"file": _template_name(t) if t.body is not None else None}
                      for t in c.templates],
        "cloudtrail": {"source": c.trail.source, "records_read": c.trail.scanned,
                       "related": len(c.trail.records),
                       "related_by_kind": dict(Counter(c.trail.relations)),
                       "data_events_seen": c.trail.data_events_seen, "error": c.trail.error,
                       "stats": c.trail.stats,
                       "subjects": quiet.value(subj.to_dict())},
        "runs": [{"name": run.name, "command": run.command,
                  "outcome": run.metadata.get("outcome"),
                  "started_at": run.metadata.get("started_at"),
                  "ended_at": run.metadata.get("ended_at"),
                  "journal_entries": len(run.journal),
                  "journal_kinds": dict(Counter(str(e.get("kind")) for e in run.journal)),
                  "files": sorted([*run.json_files, *run.texts]),
                  "unreadable": run.unreadable} for run in c.runs],
        "runs_left_out": quiet.value(c.runs_left_out),
        "redaction": r.summary(),
    }


def _quiet_node(node: StackNode, quiet: Redactor) -> StackNode:
    """The node's info and resources redacted (raw/snapshot.json counted them already)."""
    d = quiet.value(replace(node, events=()).to_dict(), "nodes", "")
    return replace(StackNode.from_dict(d), events=node.events)


def build_bundle(collected: Collected, *, now: datetime, html: bool = False) -> dict[str, bytes]:
    """The bundle's files in memory (MANIFEST.sha256 excepted: write adds it): for small
    bundles and tests; `write_bundle` streams to disk."""
    sink = MemorySink()
    stream_bundle(collected, sink, now=now, html=html)
    return dict(sorted(sink.files.items()))


def write_bundle(collected: Collected, out: Path, *, fmt: str, now: datetime,
                 html: bool = False) -> tuple[Path, dict[str, Any]]:
    """Stream the bundle to `out` (a zip, or a folder when fmt is "dir"); the path written
    and evidence.json's document without entries (`entry_count` says how many; `files`
    names every file)."""
    from recover.bundle.write import DirSink, ZipSink

    sink: Sink = DirSink(out) if fmt == "dir" else ZipSink(out, now)
    try:
        doc = stream_bundle(collected, sink, now=now, html=html, spool_dir=out.parent)
        path = sink.close()
    except BaseException:
        sink.abort()
        raise
    assert path is not None
    return path, doc

