"""Gather everything a postmortem bundle holds: the stack tree with all its events, the
templates CloudFormation still gives back, related CloudTrail records, and recover's own
evidence folders for the stack. Read-only; the decisions about what it means are pure
functions elsewhere in recover.bundle."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recover.aws.session import SessionFactory
from recover.aws.snapshot import SnapshotOptions, take_snapshot
from recover.bundle.model import Collected, RunFolder, TemplateCopy, TrailOutcome, Window
from recover.bundle.redact import parse_template
from recover.bundle.relate import (
    LOOKUP_EVENT_NAMES,
    caller_key_id,
    issued_key_id,
    relation,
    subjects_of,
)
from recover.cloudtrail.record import TrailRecord, parse_event_time
from recover.cloudtrail.scan import SourceDeps, build_source
from recover.cloudtrail.sources import ScanStats
from recover.cloudtrail.sources import Window as TrailWindow
from recover.model.stack import StackSnapshot
from recover.run.errors import NotFoundError, RecoverError, UsageError, translate_aws_error
from recover.run.evidence import read_journal

MAX_CHANGE_SET_TEMPLATES = 3
MAX_ISSUERS = 100_000  # STS records kept while scanning, to name the origin of sessions
MAX_RUN_FILE = 20 * 1024 * 1024  # bigger files in a run folder are listed, not copied
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")  # recover.run.evidence names folders with this
_STAMP = r"-\d{8}T\d{6}Z(?:-\d+)?$"
_DATA_EVENT_NAMES = frozenset({"GetObject", "PutObject", "DeleteObject", "DeleteObjects",
                               "CopyObject", "HeadObject"})


def _aws_error(exc: BaseException) -> str:
    err = translate_aws_error(exc)
    return err.message if err else f"{type(exc).__name__}: {exc}"


def _body_text(body: Any) -> str:
    # botocore decodes JSON template bodies into dicts; YAML stays text.
    return body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)


def read_templates(aws: SessionFactory, snapshot: StackSnapshot) -> list[TemplateCopy]:
    """The current template (TemplateStage Original) of every stack of the tree, and the
    templates of change sets that still exist (CloudFormation keeps no other history)."""
    cfn = aws.client("cloudformation")
    out: list[TemplateCopy] = []
    for node in snapshot.nodes:
        sid, name = node.stack_id, node.name
        try:
            resp = cfn.get_template(StackName=sid, TemplateStage="Original")
            out.append(TemplateCopy(sid, name, "current", _body_text(resp.get("TemplateBody")),
                                    stages=tuple(resp.get("StagesAvailable") or ())))
        except (ClientError, BotoCoreError) as exc:
            out.append(TemplateCopy(sid, name, "current", error=_aws_error(exc)))
        try:
            summaries = cfn.list_change_sets(StackName=sid).get("Summaries") or []
        except (ClientError, BotoCoreError) as exc:
            out.append(TemplateCopy(sid, name, "change sets", error=_aws_error(exc)))
            continue
        for cs in summaries[:MAX_CHANGE_SET_TEMPLATES]:
            label = f"change set {cs.get('ChangeSetName')}"
            try:
                resp = cfn.get_template(StackName=sid, ChangeSetName=cs["ChangeSetId"],
                                        TemplateStage="Original")
                out.append(TemplateCopy(sid, name, label, _body_text(resp.get("TemplateBody"))))
            except (ClientError, BotoCoreError) as exc:
                out.append(TemplateCopy(sid, name, label, error=_aws_error(exc)))
    return out


def parsed_templates(templates: Iterable[TemplateCopy]) -> dict[str, dict[str, Any] | None]:
    return {t.stack_id: parse_template(t.body) for t in templates if t.label == "current"}


def read_trail(spec: str | None, window: Window, snapshot: StackSnapshot,
               templates: Iterable[TemplateCopy], deps: SourceDeps | None) -> TrailOutcome:
    """Stream every record of the source (no prefilter: validate=True) and keep the related
    ones; memory grows with the related records only."""
    if not spec:
        return TrailOutcome()
    if deps is None:
        raise UsageError("no way to read CloudTrail here")
    subj = subjects_of(snapshot, parsed_templates(templates))
    trail_window = TrailWindow(since=window.since, until=window.until)
    names = LOOKUP_EVENT_NAMES if spec == "lookup" else ()
    outcome = TrailOutcome(source=spec)
    stats = ScanStats()
    seen: set[str] = set()
    issuers: dict[str, dict[str, Any]] = {}  # issued access key id -> the STS record
    try:
        source = build_source(spec, trail_window, names, deps, validate=True)
        for rec in source.iter_records(stats):
            outcome.scanned += 1
            if not trail_window.keep_record(rec):
                continue
            if rec.event_category == "Data" or rec.event_name in _DATA_EVENT_NAMES:
                outcome.data_events_seen += 1
            why = relation(rec, subj)
            if why is None:
                issued = issued_key_id(rec)
                if issued and len(issuers) < MAX_ISSUERS:
                    issuers.setdefault(issued, dict(rec.raw))
                continue
            key = rec.event_id or json.dumps(rec.raw, sort_keys=True, default=str)
            if key in seen:  # CloudTrail can deliver a record twice (docs/reference/aws-behaviour.md#cloudtrail-records)
                continue
            seen.add(key)
            outcome.records.append(dict(rec.raw))
            outcome.relations.append(why)
        # who was behind the temporary credentials of related calls
        for key_id in sorted({k for r in outcome.records
                              if (k := caller_key_id(TrailRecord(r))) is not None}):
            origin = issuers.get(key_id)
            if origin is not None:
                outcome.records.append(origin)
                outcome.relations.append("credentials_origin")
    except (UsageError, NotFoundError):
        raise
    except (RecoverError, ClientError, BotoCoreError) as exc:
        outcome.error = _aws_error(exc)
    order = sorted(range(len(outcome.records)),
                   key=lambda i: str(outcome.records[i].get("eventTime") or ""))
    outcome.records = [outcome.records[i] for i in order]
    outcome.relations = [outcome.relations[i] for i in order]
    outcome.stats = stats.to_dict()
    return outcome


def _run_matches(folder: Path, meta: dict[str, Any], names: set[str]) -> bool:
    if meta.get("subject") in names:
        return True
    return any(re.match(re.escape(_SAFE.sub("_", n)) + _STAMP, folder.name) for n in names)


def read_run(folder: Path, meta: dict[str, Any]) -> RunFolder:
    run = RunFolder(name=folder.name, metadata=meta, journal=[], json_files={}, texts={})
    # symlinks are not followed: a link to ~/.aws/credentials must not end up in a bundle
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(folder).as_posix()
        if rel == "metadata.json":
            continue
        if path.stat().st_size > MAX_RUN_FILE:
            run.unreadable.append(f"{rel}: larger than {MAX_RUN_FILE} bytes, not copied")
            continue
        if rel == "journal.jsonl":
            run.journal = read_journal(path)
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            run.unreadable.append(f"{rel}: cannot be read ({exc.strerror or exc})")
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # e.g. the code zip a restore uploaded: listed, not copied
            run.unreadable.append(f"{rel}: binary file ({len(data)} bytes, sha256 "
                                  f"{hashlib.sha256(data).hexdigest()}), not copied: its "
                                  "bytes cannot be redacted")
            continue
        if rel.endswith(".json"):
            try:
                run.json_files[rel] = json.loads(text)
                continue
            except (ValueError, RecursionError):  # RecursionError: nested thousands deep
                run.unreadable.append(f"{rel}: not valid JSON (kept as text)")
        run.texts[rel] = text
    return run


@dataclass(frozen=True)
class RunScope:
    """What a run must share with the stack to be its evidence: account, region, endpoint
    (None: AWS itself) and, when the run recorded it, a stack id of the tree (a stack deleted
    and recreated under the same name has a new id)."""

    account: str | None
    region: str | None
    endpoint_url: str | None
    stack_ids: frozenset[str]


def _norm_endpoint(url: Any) -> str | None:
    return str(url).rstrip("/").lower() if url else None


def scope_reasons(meta: dict[str, Any], scope: RunScope) -> list[str]:
    """Why a run of the same stack name is not this stack's evidence (empty: it is). A field
    the run did not record is no reason (runs of older versions, a run stopped early). Pure."""
    why: list[str] = []
    identity = meta.get("identity") if isinstance(meta.get("identity"), dict) else {}
    account = identity.get("Account") if identity else None
    if account and scope.account and str(account) != scope.account:
        why.append(f"account {account}, not {scope.account}")
    region = meta.get("region")
    if region and scope.region and region != scope.region:
        why.append(f"region {region}, not {scope.region}")
    if "endpoint_url" in meta and _norm_endpoint(meta.get("endpoint_url")) != _norm_endpoint(
            scope.endpoint_url):
        why.append(f"endpoint {meta.get('endpoint_url') or 'AWS'}, not "
                   f"{scope.endpoint_url or 'AWS'}")
    stack_id = meta.get("stack_id")
    subject = str(meta.get("subject") or "")
    ids = [x for x in (stack_id, subject if subject.startswith("arn:") else None) if x]
    if ids and scope.stack_ids and not any(x in scope.stack_ids for x in ids):
        why.append(f"stack id {ids[0]}, not a stack of this tree (a stack of the same name, "
                   "deleted or elsewhere)")
    return why


def read_runs(root: Path, snapshot: StackSnapshot, exclude: Path | None = None,
              scope: RunScope | None = None) -> tuple[list[RunFolder], list[dict[str, Any]]]:
    """recover's evidence folders for any stack of the tree (by metadata subject or folder
    name), except `recover evidence` runs themselves, oldest first; and the runs of the same
    name left out by `scope` (another account, region, endpoint or stack id), with why."""
    if not root.is_dir():
        return [], []
    names = {n.name for n in snapshot.nodes} | {n.stack_id for n in snapshot.nodes}
    if snapshot.requested:
        names.add(snapshot.requested)
    runs: list[RunFolder] = []
    left_out: list[dict[str, Any]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if exclude is not None and folder.resolve() == exclude.resolve():
            continue
        try:
            meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
            meta = meta if isinstance(meta, dict) else {}
        except (OSError, ValueError, RecursionError):
            meta = {}
        if meta.get("command") == "evidence" or not _run_matches(folder, meta, names):
            continue
        why = scope_reasons(meta, scope) if scope is not None else []
        if why:
            left_out.append({"name": folder.name, "command": meta.get("command"),
                             "started_at": meta.get("started_at"), "reasons": why})
            continue
        runs.append(read_run(folder, meta))
    runs.sort(key=lambda r: (str(r.metadata.get("started_at") or ""), r.name))
    return runs, left_out


def run_overlaps(run: RunFolder, window: Window) -> bool:
    """Does the run (started_at..ended_at, or its journal's times) touch the window?"""
    times = [parse_event_time(run.metadata.get("started_at")),
             parse_event_time(run.metadata.get("ended_at"))]
    times += [parse_event_time(e.get("time")) for e in run.journal[:1] + run.journal[-1:]]
    known = [t for t in times if t is not None]
    if not known:
        return True  # nothing says when it ran: keep it, the reader decides
    start, end = min(known), max(known)
    return (window.until is None or start <= window.until) and \
        (window.since is None or end >= window.since)



def collect(aws: SessionFactory, stack: str, *, window: Window, trail: str | None,
            evidence_root: Path, clock: Callable[[], datetime],
            trail_deps: SourceDeps | None = None, exclude_run: Path | None = None,
            endpoint_url: str | None = None, ledger_path: Path | None = None,
            progress: Callable[[str], None] = lambda _m: None) -> Collected:
    progress(f"reading stack {stack}, its nested stacks and all their events…")
    snapshot = take_snapshot(aws, stack, clock=clock, options=SnapshotOptions(events="all"))
    progress(f"reading the templates of {len(snapshot.nodes)} stack(s)…")
    templates = read_templates(aws, snapshot)
    if trail:
        progress(f"reading CloudTrail from {trail}…")
    trail_outcome = read_trail(trail, window, snapshot, templates, trail_deps)
    scope = RunScope(account=snapshot.account or None, region=snapshot.region or None,
                     endpoint_url=endpoint_url,
                     stack_ids=frozenset(n.stack_id for n in snapshot.nodes if n.stack_id))
    found, left_out = read_runs(evidence_root, snapshot, exclude_run, scope)
    runs = [r for r in found if run_overlaps(r, window)]
    skips, ledger_error = read_ledger_skips(ledger_path, snapshot)
    return Collected(stack=stack, snapshot=snapshot, templates=templates, trail=trail_outcome,
                     runs=runs, window=window, generated_at=clock(),
                     evidence_root=str(evidence_root), runs_left_out=left_out,
                     ledger_skips=skips, ledger_error=ledger_error)


def read_ledger_skips(path: Path | None,
                      snapshot: StackSnapshot) -> tuple[list[dict[str, Any]], str]:
    """The orphan ledger's skip entries (open and closed) of the stacks of this tree, or why
    the ledger could not be read (recover/orphans/ledger.py; default: $RECOVER_ORPHAN_LEDGER)."""
    from recover.decide.reconcile import KIND
    from recover.orphans import ledger

    ids = {n.stack_id for n in snapshot.nodes}
    try:
        entries = ledger.load(ledger.resolve(path))["orphans"]
    except RecoverError as exc:
        return [], exc.message
    return [e for e in entries if isinstance(e, dict) and e.get("kind") == KIND
            and (e.get("stack") or {}).get("stack_id") in ids], ""
