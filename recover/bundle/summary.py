"""The summary at the top of the bundle and its coverage notes (pure).

Summary: what failed, why, what was done, what is still inconsistent. "What was done" and
"still inconsistent" come from recover's own runs: journaled calls (ContinueUpdateRollback
ResourcesToSkip, DeleteStack RetainResources), plan decisions with their follow-ups, orphan
ledger entries, and the stacks' current statuses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from recover.bundle.model import Collected, Entry, RunFolder
from recover.bundle.timeline import short
from recover.cloudtrail.extract import artifact_fetch_failure
from recover.cloudtrail.record import TrailRecord
from recover.decide.diagnose import diagnose

STABLE_SUFFIXES = ("_COMPLETE",)
MAX_FAILED = 40
MAX_LISTED = 100  # CloudTrail lines of the summary; the rest are counted, all are in the data
MAX_REASONS = 10_000  # distinct failure reasons counted (bounded memory on huge trees)
EVENT_HISTORY_DAYS = 90  # docs/reference/aws-behaviour.md#lookupevents
DELIVERY_LAG = timedelta(minutes=15)  # docs/reference/aws-behaviour.md#cloudtrail-delivery-and-blind-spots: "about 5 minutes", not guaranteed

# What no bundle can show, whatever the inputs (docs/reference/aws-behaviour.md#cloudtrail-delivery-and-blind-spots, docs/reference/aws-behaviour.md#lookupevents; docs/reference/evidence.md#coverage-notes).
STATIC_COVERAGE = (
    "S3 lifecycle expirations (Expiration, NoncurrentVersionExpiration, CDK garbage "
    "collection by lifecycle) are done by S3 itself and never appear in CloudTrail: an artifact "
    "that vanished that way leaves no record of who or what removed it.",
    "DeleteObjects (batch delete) is logged without the keys it deleted, and object-level S3 "
    "calls (GetObject, PutObject, DeleteObject) are data events: they are only in a trail that "
    "logs data events for the bucket, which is off by default.",
    "CloudTrail Event history (LookupEvents) covers the last 90 days of management events in "
    "one Region only; it never holds data events.",
    "CloudTrail delivers records about 5 minutes after the call (not guaranteed; allow 5-15 "
    "minutes): the most recent calls may be missing.",
    "CloudFormation keeps no template history: GetTemplate returns the stack's current "
    "template (for deleted stacks, for 90 days), and an earlier template only through a change "
    "set that still exists. Which template GetTemplate returns while a stack is in "
    "UPDATE_ROLLBACK_FAILED is not confirmed.",
    "DescribeStacks masks NoEcho parameter values as ****; values seen elsewhere are redacted.",
)


def _skips_and_retains(runs: Iterable[RunFolder]
                       ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """ResourcesToSkip / RetainResources of calls that AWS accepted (journal `after` ok), as
    (resource, text) pairs."""
    skips: list[tuple[str, str]] = []
    retains: list[tuple[str, str]] = []
    for run in runs:
        ok = {e.get("ref") for e in run.journal if e.get("kind") == "call"
              and e.get("phase") == "after" and e.get("ok")}
        for e in run.journal:
            if e.get("kind") != "call" or e.get("phase") != "before" or e.get("seq") not in ok:
                continue
            call = e.get("call") or {}
            params = call.get("params") or {}
            when = short(e.get("time"), 25)
            if call.get("operation") == "ContinueUpdateRollback":
                for s in params.get("ResourcesToSkip") or []:
                    skips.append((str(s), f"{s} skipped by ContinueUpdateRollback at {when} "
                                          f"({run.name})"))
            if call.get("operation") == "DeleteStack":
                for r in params.get("RetainResources") or []:
                    retains.append((str(r), f"{r} retained by DeleteStack of "
                                            f"{params.get('StackName')} at {when} ({run.name})"))
    return skips, retains


def _plan_followups(runs: Iterable[RunFolder]) -> list[tuple[str, str, str]]:
    """(resource, action, what it leaves and its follow-up) of every skip or retain a plan
    decided, with the plan file it comes from."""
    out: list[tuple[str, str, str]] = []
    for run in runs:
        for name, doc in run.json_files.items():
            if not name.startswith("plan") or not isinstance(doc, Mapping):
                continue
            decisions = doc.get("decisions") or (doc.get("plan") or {}).get("decisions") or []
            for d in decisions if isinstance(decisions, list) else []:
                if not isinstance(d, Mapping) or d.get("action") not in ("skip", "retain"):
                    continue
                text = ""
                if d.get("leaves_inconsistent"):
                    text += f" — leaves inconsistent: {d['leaves_inconsistent']}"
                if d.get("follow_up"):
                    text += f" — follow-up: {d['follow_up']}"
                out.append((str(d.get("target") or d.get("logical_id")), str(d.get("action")),
                            text + f" ({run.name}/{name})"))
    return out


def _per_resource(skips: list[tuple[str, str]], retains: list[tuple[str, str]],
                  plans: list[tuple[str, str, str]]) -> list[str]:
    """One line per resource: what an accepted call did to it, with what the plan says it
    leaves inconsistent and its follow-up (a resource is never listed twice because two
    files mention it); plan decisions no accepted call carried out keep their own line."""
    lines: dict[str, str] = {}
    for target, text in [*skips, *retains]:
        lines.setdefault(target, text)
    explained: set[str] = set()
    for target, action, details in plans:
        if target in explained:
            continue
        explained.add(target)
        if target in lines:
            lines[target] = f"{lines[target]}{details.rsplit(' (', 1)[0]}"
        else:
            lines[target] = f"{target}: {action}{details}"
    return [short(text, 600) for text in lines.values()]


def _orphans(runs: Iterable[RunFolder]) -> list[str]:
    """Orphan ledger entries (delete-failed): any JSON file named *orphan* in a run folder,
    or journal entries of a kind containing `orphan`; read generically."""
    out: list[str] = []

    def describe(item: Mapping[str, Any]) -> str:
        keys = ("logical_id", "LogicalResourceId", "resource_type", "type", "physical_id",
                "PhysicalResourceId", "arn", "region", "follow_up", "follow_ups")
        return ", ".join(f"{k}={short(item[k], 160)}" for k in keys if item.get(k))

    for run in runs:
        for name, doc in run.json_files.items():
            if "orphan" not in name:
                continue
            items = doc if isinstance(doc, list) else (
                doc.get("orphans") or doc.get("entries") or doc.get("resources") or [doc]
                if isinstance(doc, Mapping) else [])
            for item in items if isinstance(items, list) else []:
                if isinstance(item, Mapping):
                    out.append(f"{describe(item) or short(item, 300)} ({run.name}/{name})")
        for e in run.journal:
            if "orphan" in str(e.get("kind")):
                item = e.get("orphan") or e.get("resource") or e
                out.append(f"{describe(item) if isinstance(item, Mapping) else short(item)} "
                           f"({run.name}#{e.get('seq')})")
    return out


# journal kinds that record where something was written, not something left undone
BOOKKEEPING = frozenset({"ledger_skips"})


def _other_notes(runs: Iterable[RunFolder]) -> list[str]:
    """Journal kinds that record a decision to leave something undone (skip_restore...)."""
    out: list[str] = []
    for run in runs:
        for e in run.journal:
            kind = str(e.get("kind"))
            if kind in BOOKKEEPING:
                continue
            if "skip" in kind or "retain" in kind:
                rest = {k: v for k, v in e.items() if k not in ("seq", "time", "kind")}
                out.append(short(f"{kind}: {rest} ({run.name}#{e.get('seq')})", 500))
    return out


_IDS = re.compile(r"(Extended Request ID|Request ID|RequestToken|requestId)[: \[]+[^,)\]]*")


def _out_of_band_line(rec: TrailRecord) -> str:
    """A successful change to a tree resource that CloudFormation did not make (CloudTrail
    `on_stack_resource`): the stack's view of it may be stale (drift)."""
    who = rec.caller or "?"
    target = rec.function_name or next(
        (v for v in rec.request_parameters.values() if isinstance(v, str)), "?")
    when = rec.event_time.isoformat() if rec.event_time else "?"
    return short(f"{target}: {rec.event_name} by {who} at {when}, outside "
                 "CloudFormation (the stack may not match it: check for drift)", 400)


def _capped(items: list[str], more: int, where: str) -> list[str]:
    return items + ([f"… and {more} more (see {where})"] if more else [])


class SummaryBuilder:
    """The summary, fed one timeline entry and one related CloudTrail record at a time (the
    bundle streams them); its memory is bounded by the caps, not by the rows. `text` redacts
    what comes from the snapshot, which the bundle does not hold redacted."""

    def __init__(self, c: Collected, text: Callable[[str], str] = lambda s: s) -> None:
        self._c = c
        self._text = text
        self.failed: list[str] = []
        self._seen_failed: set[tuple[str, str, str]] = set()
        self._first: Entry | None = None
        self._reasons: Counter[str] = Counter()
        self._fetch: list[str] = []
        self._fetch_more = 0
        self._oob: list[str] = []
        self._oob_more = 0
        self.counts: Counter[str] = Counter()

    def add(self, e: Entry) -> None:
        self.counts[e.source] += 1
        if e.source != "stack" or not e.status.endswith("_FAILED"):
            return
        key = (e.subject, e.what, e.status)
        if len(self.failed) < MAX_FAILED and key not in self._seen_failed:
            self._seen_failed.add(key)
            self.failed.append(short(f"{e.time.isoformat()} {e.subject}/{e.what} {e.status}"
                                     + (f": {e.detail}" if e.detail else ""), 500))
        if e.what == "stack":
            return
        # the first failure of the window (what set the rest off) and the failure reasons
        # with how many resources each hit (request ids stripped so equal causes group)
        if self._first is None and "cancelled" not in e.detail \
                and not e.detail.startswith("Embedded stack"):
            self._first = e
        if e.detail and not e.detail.startswith("Embedded stack"):
            reason = _IDS.sub(r"\1 …", e.detail)[:220]
            if reason in self._reasons or len(self._reasons) < MAX_REASONS:
                self._reasons[reason] += 1

    def add_trail(self, raw: Mapping[str, Any], relation: str) -> None:
        rec = TrailRecord(raw)
        fail = artifact_fetch_failure(rec)
        if fail is not None:
            if len(self._fetch) < MAX_LISTED:
                self._fetch.append(short(
                    f"CloudTrail {fail.event_time.isoformat() if fail.event_time else '?'}: "
                    f"{fail.event_name} of {fail.function_name or fail.layer} could not fetch "
                    f"s3://{fail.bucket}/{fail.key} (NoSuchKey)", 400))
            else:
                self._fetch_more += 1
        if relation == "on_stack_resource" and not rec.failed:
            if len(self._oob) < MAX_LISTED:
                self._oob.append(_out_of_band_line(rec))
            else:
                self._oob_more += 1

    def _story(self) -> list[str]:
        out: list[str] = []
        first = self._first
        if first is not None:
            out.append(short(f"first failure: {first.subject}/{first.what} {first.status} at "
                             f"{first.time.isoformat()}: {first.detail}", 600))
        for reason, n in self._reasons.most_common(5):
            out.append(f"{n} resource failure event(s): {reason}")
        return out

    def result(self) -> dict[str, Any]:
        c, text = self._c, self._text
        snap = c.snapshot
        diag = diagnose(snap)
        findings = [f for f in diag.findings if f.detector != "E0002"]  # E0002: crashed
        modes = Counter(f.failure_mode.value for f in findings)
        why = self._story()
        for mode, n in modes.most_common():
            where = ", ".join(sorted({f"{f.stack_name}/{f.logical_id}" if f.logical_id
                                      else f.stack_name for f in findings
                                      if f.failure_mode.value == mode}))
            why.append(short(text(f"{mode}: {n} finding(s) ({where})"), 600))
        if diag.runbook:
            why.append(text(f"runbook {diag.runbook}: {diag.runbook_reason}"))
        why += _capped(self._fetch, self._fetch_more, "raw/cloudtrail/related.jsonl")
        done: list[str] = []
        for run in c.runs:
            calls = [e for e in run.journal
                     if e.get("kind") == "call" and e.get("phase") == "after"]
            bad = sum(1 for e in calls if not e.get("ok"))
            answers = sum(1 for e in run.journal if e.get("kind") == "answer")
            dry = sum(1 for e in run.journal if e.get("kind") == "dry_run")
            ops = Counter(str((e.get("call") or {}).get("operation")) for e in run.journal
                          if e.get("kind") == "call" and e.get("phase") == "before")
            ops_text = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in ops.items())
            done.append(short(
                f"recover {run.command} ({run.name}): outcome {run.metadata.get('outcome')}, "
                f"{len(calls)} change call(s){f' ({bad} failed)' if bad else ''}"
                f"{f': {ops_text}' if ops_text else ''}; {answers} operator answer(s)"
                f"{f'; {dry} dry-run call(s)' if dry else ''}", 600))
        skips, retains = _skips_and_retains(c.runs)
        # a skip reconcile found in sync since is listed as reconciled, not as inconsistent
        synced = {str(e.get("target")) for e in c.ledger_skips if e.get("state") != "open"}
        skips = [(t, x) for t, x in skips if t not in synced]
        plans = [p for p in _plan_followups(c.runs) if p[0] not in synced]
        inconsistent = _per_resource(skips, retains, plans) + _orphans(c.runs) + \
            _other_notes(c.runs) + _capped(self._oob, self._oob_more,
                                           "raw/cloudtrail/related.jsonl")
        for n in snap.nodes:
            if not n.info.status.endswith(STABLE_SUFFIXES) or n.info.status == "ROLLBACK_COMPLETE":
                inconsistent.append(text(f"stack {n.name} is {n.info.status}"
                                         + (f": {short(n.info.status_reason, 300)}"
                                            if n.info.status_reason else "")))
            for r in n.resources:
                if r.status.endswith("_FAILED"):
                    inconsistent.append(short(text(f"{n.name}/{r.logical_id} "
                                                   f"({r.resource_type}) is {r.status}: "
                                                   f"{r.reason}"), 400))
        still_open, closed = ledger_skips(c.ledger_skips, snap.root.name, text)
        if c.ledger_error:
            still_open.append(text(f"the orphan ledger could not be read: {c.ledger_error}"))
        return {"stack": text(snap.root.name), "root_status": snap.root.info.status,
                "what_failed": list(self.failed), "why": why, "what_was_done": done,
                "still_inconsistent": inconsistent, "skips_open": still_open,
                "skips_closed": closed, "counts": dict(self.counts)}


def ledger_skips(entries: Iterable[Mapping[str, Any]], root: str,
                 text: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """The skips still open in the orphan ledger (each with the command that closes it) and
    those reconcile found in sync, as lines."""
    still_open: list[str] = []
    closed: list[str] = []
    for e in sorted(entries, key=lambda e: (str(e.get("skipped_at")), str(e.get("target")))):
        stack = (e.get("stack") or {}).get("name") or root
        what = (f"{stack}/{e.get('logical_id')} ({e.get('resource_type')}), skipped "
                f"{e.get('skipped_at') or '?'} by {e.get('source') or 'a rollback'}")
        if e.get("state") == "open":
            still_open.append(short(text(f"{what}: not checked against its template since; "
                                         f"run `recover reconcile {root}`"), 600))
        else:
            closed.append(short(text(f"{what}: in sync since {e.get('closed_at') or '?'} "
                                     f"(recover reconcile, run {e.get('closed_by_run') or '?'})"),
                                600))
    return still_open, closed


def build_summary(c: Collected, entries: Iterable[Entry]) -> dict[str, Any]:
    b = SummaryBuilder(c)
    for e in entries:
        b.add(e)
    for raw, rel in zip(c.trail.records, c.trail.relations, strict=False):
        b.add_trail(raw, rel)
    return b.result()


def coverage_notes(c: Collected, now: datetime) -> list[str]:
    notes = list(STATIC_COVERAGE)
    t = c.trail
    if t.source is None:
        notes.insert(0, "No CloudTrail source was given (--trail): the timeline has no CloudTrail "
                        "records. Run again with --trail lookup, a trail bucket (s3://...) or "
                        "trail files.")
    elif t.error:
        notes.insert(0, f"CloudTrail could not be read from {t.source}: {t.error}")
    else:
        if t.source == "lookup":
            notes.insert(0, "CloudTrail came from Event history (LookupEvents): management "
                            "events of the last 90 days in this Region; object deletions "
                            "(data events) cannot be there.")
        if t.data_events_seen == 0 and t.source != "lookup":
            notes.insert(0, f"No data events were found in {t.source}: S3 object-level calls "
                            "(DeleteObject) are not covered.")
        corrupt = t.stats.get("corrupt_files") or 0
        if corrupt:
            notes.insert(0, f"{corrupt} CloudTrail file(s) were damaged; "
                            f"{t.stats.get('corrupt_records', 0)} record(s) were skipped.")
    until = c.window.until or now
    if now - until < DELIVERY_LAG:
        notes.insert(0, "The window ends less than 15 minutes ago: CloudTrail may not have "
                        "delivered the latest calls yet.")
    if c.window.since and now - c.window.since > timedelta(days=EVENT_HISTORY_DAYS):
        notes.append("The window starts more than 90 days ago: Event history and deleted "
                     "stacks' details are no longer kept that long.")
    missing = [tc for tc in c.templates if tc.label == "current" and tc.body is None]
    for tc in missing:
        notes.append(f"The template of {tc.stack_name} could not be read: {tc.error}")
    for stack_id, reason in c.snapshot.unreadable:
        notes.append(f"Nested stack {stack_id} could not be read: {reason}")
    if not c.runs:
        notes.append(f"No recover evidence folders for this stack were found under "
                     f"{c.evidence_root or 'the evidence directory'}: actions taken by hand "
                     "or from another machine only show through CloudTrail.")
    return notes
