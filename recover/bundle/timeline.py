"""The single chronological timeline: stack events of every stack of the tree, related
CloudTrail records and recover's own actions and operator answers (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from recover.bundle.model import SOURCE_ORDER, Collected, Entry, RunFolder, Window
from recover.cloudtrail.record import TrailRecord, parse_event_time
from recover.model.stack import StackSnapshot

DETAIL_MAX = 400
_JOURNAL_SKIP = {"seq", "time", "kind"}


def short(text: Any, limit: int = DETAIL_MAX) -> str:
    """One line, at most `limit` characters."""
    s = " ".join(str(text).split()) if text is not None else ""
    return s if len(s) <= limit else s[: limit - 1] + "…"


def stack_entries(snapshot: StackSnapshot, window: Window) -> list[Entry]:
    out: list[Entry] = []
    for node in snapshot.nodes:
        for ev in node.events:
            if not window.contains(ev.timestamp):
                continue
            what = "stack" if ev.is_stack_event else f"{ev.logical_id} ({ev.resource_type})"
            out.append(Entry(ev.timestamp, "stack", "stack_event", node.name, what, ev.status,
                             short(ev.reason), ev.event_id))
    return out


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


def trail_entries(records: Iterable[Mapping[str, Any]], relations: Iterable[str],
                  window: Window) -> list[Entry]:
    out: list[Entry] = []
    for raw, relation in zip(records, relations, strict=False):
        rec = TrailRecord(raw)
        when = rec.event_time
        if when is None or not window.contains(when):
            continue
        source = (rec.event_source or "?").split(".", 1)[0]
        status = f"error {rec.error_code}" if rec.error_code else "ok"
        out.append(Entry(when, "cloudtrail", f"trail:{relation}", _caller(rec),
                         f"{source}:{rec.event_name}", status, _trail_detail(rec, relation),
                         rec.event_id or ""))
    return out


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


def build_timeline(c: Collected) -> list[Entry]:
    """Every entry in the window, oldest first; at equal times stack events, then CloudTrail,
    then recover, each in the order its source gave."""
    entries = stack_entries(c.snapshot, c.window)
    entries += trail_entries(c.trail.records, c.trail.relations, c.window)
    for run in c.runs:
        entries += run_entries(run, c.window)
        entries += journal_entries(run, c.window)
    indexed = list(enumerate(entries))
    indexed.sort(key=lambda p: (p[1].time, SOURCE_ORDER.get(p[1].source, 9), p[0]))
    return [e for _, e in indexed]
