"""Turn what collect gathered into the bundle's files (pure: returns name → bytes).

Redaction happens first, on the inputs, so nothing rendered afterwards (timeline, summary,
evidence.json, HTML) ever sees a secret; a last pass over every file's text is a safety net.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from recover import __version__
from recover.bundle import BUNDLE_SCHEMA_VERSION
from recover.bundle.chart import build_chart
from recover.bundle.mermaid import chart_markdown
from recover.bundle.model import Collected, RunFolder, TrailOutcome
from recover.bundle.redact import Redactor, SecretBook, parse_template
from recover.bundle.relate import subjects_of
from recover.bundle.render_html import render_html
from recover.bundle.render_md import render_markdown
from recover.bundle.summary import build_summary, coverage_notes
from recover.bundle.timeline import build_timeline
from recover.model.stack import StackSnapshot


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"


def noecho_values(c: Collected, snapshot_dict: dict[str, Any]) -> set[str]:
    """Every secret value known from what was collected (recover.bundle.redact.SecretBook):
    NoEcho parameter values in every shape, secret-looking Lambda environment variables,
    CloudTrail credentials."""
    book = SecretBook()
    sources: list[Any] = [parse_template(t.body) for t in c.templates]
    sources += [snapshot_dict, c.trail.records]
    for run in c.runs:
        sources += [run.metadata, run.journal, run.json_files]
    book.learn([s for s in sources if s is not None])
    for run in c.runs:
        for text in run.texts.values():
            book.learn_text(text)
    return book.values


def redact_collected(c: Collected, r: Redactor,
                     snapshot_dict: dict[str, Any] | None = None) -> Collected:
    snap = StackSnapshot.from_dict(r.value(snapshot_dict or c.snapshot.to_dict()))
    templates = [replace(t, body=r.json_text(t.body) if t.body is not None else None)
                 for t in c.templates]
    trail = TrailOutcome(source=c.trail.source, records=r.value(c.trail.records),
                         relations=list(c.trail.relations), stats=c.trail.stats,
                         error=r.text(c.trail.error) if c.trail.error else None,
                         data_events_seen=c.trail.data_events_seen, scanned=c.trail.scanned)
    runs = [RunFolder(name=run.name, metadata=r.value(run.metadata), journal=r.value(run.journal),
                      json_files=r.value(run.json_files),
                      texts={k: r.text(v) for k, v in run.texts.items()},
                      unreadable=list(run.unreadable)) for run in c.runs]
    return replace(c, snapshot=snap, templates=templates, trail=trail, runs=runs)


def _template_name(t: Any) -> str:
    body = (t.body or "").lstrip()
    return f"raw/templates/{t.file_stem}.{'json' if body.startswith('{') else 'yaml'}"


def build_bundle(collected: Collected, *, now: datetime, html: bool = False) -> dict[str, bytes]:
    """The bundle's files (MANIFEST.sha256 excepted: write adds it)."""
    snapshot_dict = collected.snapshot.to_dict()  # asdict is slow on big trees: once
    redactor = Redactor(noecho_values(collected, snapshot_dict))
    c = redact_collected(collected, redactor, snapshot_dict)
    entries = build_timeline(c)
    snap = c.snapshot
    summary = build_summary(c, entries)
    subj = subjects_of(snap, {t.stack_id: parse_template(t.body) for t in c.templates
                              if t.label == "current"})
    files: dict[str, str] = {}
    files["raw/snapshot.json"] = _dump(snap.to_dict())
    for t in c.templates:
        if t.body is not None:
            files[_template_name(t)] = t.body if t.body.endswith("\n") else t.body + "\n"
    if c.trail.source:
        files["raw/cloudtrail/related.jsonl"] = "".join(
            json.dumps({"relation": rel, "record": rec}, ensure_ascii=False, default=str) + "\n"
            for rec, rel in zip(c.trail.records, c.trail.relations, strict=True))
        files["raw/cloudtrail/scan.json"] = _dump({"source": c.trail.source,
                                                   "stats": c.trail.stats,
                                                   "error": c.trail.error})
    for run in c.runs:
        base = f"raw/runs/{run.name}"
        files[f"{base}/metadata.json"] = _dump(run.metadata)
        if run.journal:
            files[f"{base}/journal.jsonl"] = "".join(
                json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in run.journal)
        for name, doc in run.json_files.items():
            files[f"{base}/{name}"] = _dump(doc)
        for name, text in run.texts.items():
            files[f"{base}/{name}"] = text
    doc: dict[str, Any] = {
        "schema_version": BUNDLE_SCHEMA_VERSION,
        "generated_at": c.generated_at.isoformat(),
        "recover_version": __version__,
        "stack": snap.root.name, "requested": c.stack, "root_stack_id": snap.root_id,
        "region": snap.region, "account": snap.account,
        "window": c.window.to_dict(),
        "summary": summary,
        "coverage": coverage_notes(c, now),
        "stacks": [{"name": n.name, "stack_id": n.stack_id, "status": n.info.status,
                    "status_reason": n.info.status_reason, "depth": n.depth,
                    "parent_id": n.info.parent_id or None, "role_arn": n.info.role_arn or None,
                    "resources": len(n.resources), "events": len(n.events),
                    "failed_resources": [r.logical_id for r in n.resources
                                         if r.status.endswith("_FAILED")],
                    "resource_statuses": [{"logical_id": r.logical_id, "type": r.resource_type,
                                           "status": r.status, "physical_id": r.physical_id,
                                           "reason": r.reason} for r in n.resources]}
                   for n in snap.nodes],
        "templates": [t.to_dict() | {"file": _template_name(t) if t.body is not None else None}
                      for t in c.templates],
        "cloudtrail": {"source": c.trail.source, "records_read": c.trail.scanned,
                       "related": len(c.trail.records),
                       "related_by_kind": dict(Counter(c.trail.relations)),
                       "data_events_seen": c.trail.data_events_seen, "error": c.trail.error,
                       "stats": c.trail.stats, "subjects": subj.to_dict()},
        "runs": [{"name": run.name, "command": run.command,
                  "outcome": run.metadata.get("outcome"),
                  "started_at": run.metadata.get("started_at"),
                  "ended_at": run.metadata.get("ended_at"),
                  "journal_entries": len(run.journal),
                  "journal_kinds": dict(Counter(str(e.get("kind")) for e in run.journal)),
                  "files": sorted([*run.json_files, *run.texts]),
                  "unreadable": run.unreadable} for run in c.runs],
        "runs_left_out": c.runs_left_out,
        "redaction": redactor.summary(),
        "entries": [e.to_dict() for e in entries],
    }
    chart = build_chart(f"{snap.root.name} incident UTC", entries)
    files["timeline.md"] = render_markdown(doc, entries, chart_markdown(chart))
    if html:
        files["timeline.html"] = render_html(doc, entries, chart)
    # Safety net: anything that still looks like a secret goes, and is counted.
    late = Redactor(redactor.known_values)
    files = {name: late.text(text) for name, text in files.items()}
    doc["redaction"]["final_pass"] = dict(late.counts)
    doc["files"] = sorted([*files, "evidence.json", "MANIFEST.sha256"])
    files["evidence.json"] = late.text(_dump(doc))
    return {name: text.encode("utf-8") for name, text in sorted(files.items())}
