"""artifacts: find each missing code object, find its bytes, verify, restore.

Used by `recover artifacts` and by rollback-stuck (before it continues the rollback).
Every restore goes through the executor (journaled; --dry-run stops there) after a last
HeadObject shows the key is still missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from rich.markup import escape
from rich.table import Table

from recover.act.executor import Executor
from recover.artifacts.choose import choose as choose_source
from recover.artifacts.choose import gate
from recover.artifacts.expected import settle, trail_facts
from recover.artifacts.find import (
    HISTORY,
    FailedFunction,
    read_code_records,
    resolve,
    wanted_artifacts,
)
from recover.artifacts.model import (
    Candidate,
    Choice,
    FailedSource,
    ResolvedCode,
    Restored,
    WantedArtifact,
    code_sha256,
)
from recover.artifacts.own_write import run_restore
from recover.artifacts.restore import restore_call
from recover.artifacts.sources import (
    SourceError,
    SourceSpec,
    function_code,
    lambda_candidates,
    lambda_hash_facts,
    lambda_versions,
    local_candidates,
    object_exists,
    parse_source_spec,
    read_source,
    s3_previous_versions,
    with_hash,
)
from recover.decide.diagnose import Diagnosis
from recover.decide.findings import Finding
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.errors import AbortedError, AuthError, NeedsDecisionError, translate_aws_error
from recover.run.evidence import EvidenceRun
from recover.run.services import source_deps
from recover.runbooks.render import candidates_table
from recover.ui import prompts

NONE_OF_THEM = "none"


@dataclass
class Located:
    wanted: list[WantedArtifact]
    present: list[WantedArtifact]  # the object exists after all (someone restored it)
    unknown: list[FailedFunction]  # no CloudTrail record names the key
    choices: list[Choice]
    trail: dict[str, Any]
    resolution: dict[str, Any] = field(default_factory=dict)  # which path found the keys


@dataclass
class RestoreOutcome:
    restored: list[Restored] = field(default_factory=list)
    unrecoverable: list[Finding] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    summary: str = ""


@dataclass(frozen=True)
class Acceptance:
    """What the flags accept: bytes not proven to be the old code."""

    unverified: bool = False  # --accept-unverified: no CodeSha256 is known for the key
    substitute: bool = False  # --accept-substitute: one is known and nothing matches it


def failed_functions(findings: list[Finding]) -> list[FailedFunction]:
    return [FailedFunction(function_name=f.physical_id, logical_id=f.logical_id,
                           stack_name=f.stack_name, skip_id=f.skip_id,
                           failed_at=f.timestamp)
            for f in findings if f.resource_type == "AWS::Lambda::Function" and f.physical_id]


def locate(rc: RunContext, ev: EvidenceRun, functions: list[FailedFunction], *, region: str,
           trail: str | None, since: datetime | None, until: datetime | None,
           specs: list[SourceSpec]) -> Located:
    """Gather: keys from GetFunction's resolved code location where Lambda reports one that is
    gone, from CloudTrail for the rest; the expected CodeSha256 from every record of it,
    existence, and every byte source with its hash. A source that cannot be read is recorded
    (evidence, journal) and left out; it never ends the run."""
    now = rc.clock()
    s3, lam = rc.aws.client("s3"), rc.aws.client("lambda")
    code = {f.function_name: _function_code(s3, lam, f.function_name) for f in functions}
    res = resolve(functions, {name: c for name, (_v, c) in code.items()})
    ev.write_json("lambda-code.json", {name: [c.to_dict() for c in codes]
                                       for name, (_v, codes) in code.items()})
    records: list[Any] = []
    unknown: list[FailedFunction] = []
    wanted = list(res.wanted)
    trail_info: dict[str, Any] = {"source": None, "records": 0,
                                  "skipped": "every key was resolved by GetFunction"}
    if res.rest:
        oldest = min((f.failed_at for f in res.rest if f.failed_at), default=now)
        read = read_code_records(source_deps(rc), trail or "lookup", region,
                                 [f.function_name for f in res.rest],
                                 since or (oldest - HISTORY), until or now)
        records = read.records
        found, unknown = wanted_artifacts(res.rest, records)
        wanted += found
        trail_info = {"source": read.source, "records": len(records), **read.stats.to_dict()}
    ev.write_json("cloudtrail-code-records.json", [r.raw for r in records])
    missing, present, choices = [], [], []
    for w in wanted:
        if object_exists(s3, w.bucket, w.key, w.version):
            present.append(w)
            continue
        choice = _sources(ev, w, records, specs, s3, lam, code.get(w.function_name))
        missing.append(choice.wanted)
        choices.append(choice)
    return Located(missing, present, unknown, choices, trail_info, res.to_dict())


def _function_code(s3: Any, lam: Any, function: str
                   ) -> tuple[list[dict[str, Any]], list[ResolvedCode]]:
    """ListVersionsByFunction and GetFunction of a function; ([], []) when Lambda refuses."""
    try:
        versions = lambda_versions(lam, function)
        return versions, function_code(lam, s3, function, versions)
    except ClientError as exc:
        _reason(exc)  # expired credentials end the run
        return [], []


def _sources(ev: EvidenceRun, w: WantedArtifact, records: list[Any], specs: list[SourceSpec],
             s3: Any, lam: Any,
             known: tuple[list[dict[str, Any]], list[ResolvedCode]] | None = None) -> Choice:
    """One key: its expected CodeSha256, every candidate with its hash, and the choice."""
    failed: list[FailedSource] = []

    def guarded(what: str, kind: str, read: Callable[..., list[Any]], *args: Any) -> list[Any]:
        try:
            return read(*args)
        except ClientError as exc:
            _record_failure(ev, w, failed, FailedSource(kind, what, _reason(exc)))
            return []

    facts = trail_facts(w, records)
    versions, codes = known if known and known[0] else (
        guarded(f"versions of {w.function_name} (ListVersionsByFunction)", "lambda",
                lambda_versions, lam, w.function_name), None)
    w = settle(w, [*facts.facts, *guarded(f"GetFunction of {w.function_name}", "lambda",
                                          lambda_hash_facts, lam, w, versions,
                                          dict(facts.versions), codes)])
    cands: list[Candidate] = []
    if not w.version:  # a pinned version that is gone cannot be brought back as itself
        cands += guarded("previous S3 versions of the key (ListObjectVersions)",
                         "s3-previous-version", s3_previous_versions, s3, w)
    cands += guarded("functions deployed with this code (Lambda)", "lambda",
                     lambda_candidates, lam, w, specs, versions)
    cands += local_candidates(w, specs)
    hashed = []
    for c in cands:
        if c.sha256 is not None:
            hashed.append(c)
            continue
        try:
            hashed.append(with_hash(c, read_source(c, w, s3, lam)))
        except SourceError as exc:
            _record_failure(ev, w, failed, FailedSource(c.kind, c.description, exc.reason))
    return choose_source(w, hashed, failed)


def _reason(exc: ClientError) -> str:
    err = translate_aws_error(exc)
    if isinstance(err, AuthError) and err.code != "access_denied":
        raise err from exc  # expired credentials end the run; they are no source's fault
    e = exc.response.get("Error", {})
    return f"{e.get('Code') or 'error'}: {e.get('Message') or exc}"[:300]


def _record_failure(ev: EvidenceRun, w: WantedArtifact, failed: list[FailedSource],
                    f: FailedSource) -> None:
    failed.append(f)
    ev.journal.append("source_failed", key=w.uri, source=f.description, source_kind=f.kind,
                      reason=f.reason)


def _ask_source(rc: RunContext, ev: EvidenceRun, ch: Choice, flag: str) -> Choice | None:
    """Interactive: show every candidate with its hash and let the operator pick (or none)."""
    w = ch.wanted
    ranked = list(ch.ranked)
    rc.console.print(candidates_table(f"{w.uri} (for {w.function_name}): {ch.why}",
                                      w.expected_sha256, [c.to_dict() for c in ranked]))
    options = [(str(i), f"{c.description} ({c.sha256 or 'hash unknown'})"
                + (", named for this key" if c.named else ""))
               for i, c in enumerate(ranked)]
    options.append((NONE_OF_THEM, "none of them: restore nothing for this key"))
    answer = prompts.choose(rc, ev.journal, f"Nothing proves any source to be the old code of "
                            f"{w.uri}. Restore which bytes?", options, flag=flag,
                            default=NONE_OF_THEM)
    if answer == NONE_OF_THEM:
        return None
    picked = ranked[int(answer)]
    return Choice(w, picked, ch.verification if picked is ch.candidate else (
                  "substitute" if w.expected_sha256 else "unverified"),
                  f"chosen by the operator: {picked.description}",
                  tuple(c for c in ranked if c is not picked), ch.failed)


def _decide(rc: RunContext, ev: EvidenceRun, ch: Choice,
            accept: Acceptance) -> tuple[Choice | None, str | None]:
    """(the choice to restore, who accepted it) or (None, None) when the operator declined.
    Unattended, bytes not proven to be the old code need their flag: NEEDS_DECISION names it."""
    g = gate(ch, accept_unverified=accept.unverified, accept_substitute=accept.substitute)
    if g.go:
        return ch, g.accepted_by
    assert g.needs is not None
    if not rc.interactive:
        raise NeedsDecisionError(_needs_message([ch]), flag=g.needs)
    picked = _ask_source(rc, ev, ch, g.needs)
    return (picked, "operator") if picked else (None, None)


def _needs_message(choices: list[Choice]) -> str:
    parts = [f"{c.wanted.uri} (for {c.wanted.function_name}): {c.verification} bytes from "
             f"{c.candidate.description if c.candidate else '?'}: {c.why}" for c in choices]
    return ("nothing proves the bytes to restore to be the old code: " + "; ".join(parts)
            + ". Name the old zip with --artifact-source file:KEY=PATH and accept it, or "
            "restore nothing")


def apply_choices(rc: RunContext, ev: EvidenceRun, executor: Executor, choices: list[Choice],
                  *, accept: Acceptance = Acceptance(), unproven_is_unrecoverable: bool = False
                  ) -> tuple[list[Restored], list[Choice]]:
    """Act: restore each chosen artifact; returns (restored, not restorable). Every decision
    is taken before the first write: unattended, a key whose bytes need acceptance that no flag
    gives ends the run (NEEDS_DECISION) with nothing written, unless the caller counts such a key
    as not restorable (`unproven_is_unrecoverable`: rollback-stuck --skip-unrecoverable skips a
    key whose only sources are guesses, none proven to be its old code; bytes the engineer named
    for the key still need their flag)."""
    pending = [(ch, gate(ch, accept_unverified=accept.unverified,
                         accept_substitute=accept.substitute)) for ch in choices]
    blocked = [ch for ch, g in pending if g.needs]
    # Bytes the engineer named for a key are a decision (accept them or not), never a reason to
    # skip: only keys whose every source is a guess count as unrecoverable.
    guessed = [ch for ch in blocked if not any(c.named for c in ch.ranked)]
    refused: list[Choice] = []
    if guessed and not rc.interactive and unproven_is_unrecoverable:
        for ch in guessed:
            ev.journal.append("unproven_not_restored", key=ch.wanted.uri,
                              verification=ch.verification, why=ch.why)
        refused = guessed
        pending = [(ch, g) for ch, g in pending if ch not in guessed]
        blocked = [ch for ch in blocked if ch not in guessed]
    if blocked and not rc.interactive:
        flags = sorted({g.needs for _, g in pending if g.needs}, reverse=True)
        raise NeedsDecisionError(_needs_message(blocked), flag=" and ".join(flags))
    decided: list[tuple[Choice, str | None]] = []
    for ch, _g in pending:
        if ch.candidate is None:
            refused.append(ch)
            continue
        picked, by = _decide(rc, ev, ch, accept)
        if picked is None:
            refused.append(ch)
        else:
            decided.append((picked, by))
    if decided and not executor.dry_run:
        decided, declined = _approve_restores(rc, ev, decided)
        refused += declined
    done: list[Restored] = []
    for ch, by in decided:
        outcome = _restore_one(rc, ev, executor, ch, by, accept)
        if outcome is None:
            refused.append(ch)
        else:
            done.append(outcome)
    return done, refused


def restores_table(decided: list[tuple[Choice, str | None]]) -> Table:
    """What is about to be written, before anything is: where each object goes, where its bytes
    come from, how they were verified, and what else was found."""
    table = Table(title="code objects to restore (nothing is written yet)", title_justify="left")
    for col in ("#", "function", "bucket / key", "bytes from", "verification", "alternatives"):
        table.add_column(col, overflow="fold")
    for i, (ch, by) in enumerate(decided, 1):
        w, c = ch.wanted, ch.candidate
        verification = ch.verification + (f" (accepted by {by})" if by else "")
        table.add_row(str(i), escape(w.function_name), escape(f"{w.bucket}/{w.key}"),
                      escape(c.description if c else "?"), escape(verification),
                      str(max(0, len(ch.ranked) - 1)))
    return table


def _approve_restores(rc: RunContext, ev: EvidenceRun, decided: list[tuple[Choice, str | None]]
                      ) -> tuple[list[tuple[Choice, str | None]], list[Choice]]:
    """Show every restore, then ask once for all (--yes answers it; a person may also go
    object by object). Returns (approved, declined); nothing has been written yet."""
    rc.console.print(restores_table(decided))
    question = f"Restore these {len(decided)} code object(s) as shown (never overwriting)?"
    if rc.options.yes or not rc.interactive:
        prompts.confirm_or_abort(rc, ev.journal, question)  # --yes, or exit 4 naming it
        return decided, []
    answer = prompts.choose(rc, ev.journal, question,
                            [("all", "yes: restore them all"),
                             ("each", "choose object by object"),
                             ("abort", "abort: write nothing")], flag="--yes", default="all")
    if answer == "abort":
        raise AbortedError("declined the restores; nothing was written")
    if answer == "all":
        return decided, []
    approved: list[tuple[Choice, str | None]] = []
    declined: list[Choice] = []
    for ch, by in decided:
        one = prompts.choose(rc, ev.journal, f"Restore {ch.wanted.uri} from "
                             f"{ch.candidate.description if ch.candidate else '?'}?",
                             [("yes", "restore it"), ("no", "leave it missing")], flag="--yes")
        if one == "yes":
            approved.append((ch, by))
        else:
            ev.journal.append("restore_declined", key=ch.wanted.uri)
            declined.append(ch)
    return approved, declined


def already_present(w: WantedArtifact, failed: tuple[FailedSource, ...] = ()) -> Restored:
    return Restored(w.function_name, w.bucket, w.key, "already present", "unverified", None,
                    skip_id=w.skip_id, written=False, written_by=None,
                    expected_sha256=w.expected_sha256, failed_sources=failed)


def _restore_one(rc: RunContext, ev: EvidenceRun, executor: Executor, ch: Choice,
                 by: str | None, accept: Acceptance) -> Restored | None:
    """Restore one key from the chosen source; a source that fails is recorded and the next
    candidate is chosen by the same rules (and the same acceptance)."""
    s3, lam = rc.aws.client("s3"), rc.aws.client("lambda")
    w = ch.wanted
    failed = list(ch.failed)
    current: Choice | None = ch
    while current is not None and current.candidate is not None:
        cand = current.candidate
        if object_exists(s3, w.bucket, w.key, w.version):  # re-check right before the change
            ev.journal.append("skip_restore", key=w.uri, why="object exists now")
            return already_present(w, tuple(failed))
        body, body_file, problem = None, None, None
        if cand.kind != "s3-previous-version":
            try:
                body = read_source(cand, w, s3, lam)
            except SourceError as exc:
                problem = exc.reason
            if body is not None and cand.sha256 and code_sha256(body) != cand.sha256:
                problem = (f"its bytes ({code_sha256(body)}) differ from the hash seen earlier "
                           f"({cand.sha256}): changed since")
        if problem is None:
            if body is not None:
                path = ev.write_blob(w.key.replace("/", "__") or "object", body)
                body_file = str(path)
            call = restore_call(current, ev.run_id, body_file=body_file, body=body)
            # the hash of the bytes this call writes, to recognise our own write after a 412
            sent = code_sha256(body) if body is not None else cand.sha256
            res = run_restore(executor, s3, call, sent=sent)
            if res.outcome not in ("written", "answer_lost"):
                # someone else's object, or whose cannot be told: kept, reported as found
                return Restored(w.function_name, w.bucket, w.key, "already present",
                                "unverified", res.sha256, new_version_id=res.version_id,
                                skip_id=w.skip_id, written=False, written_by=res.outcome,
                                expected_sha256=w.expected_sha256, failed_sources=tuple(failed))
            return Restored(
                w.function_name, w.bucket, w.key, cand.description, current.verification,
                cand.sha256, new_version_id=res.version_id, skip_id=w.skip_id,
                dry_run=executor.dry_run, verified=current.verified, source_kind=cand.kind,
                named=cand.named, accepted_unverified=not current.verified,
                accepted_by=None if current.verified else by,
                expected_sha256=w.expected_sha256, failed_sources=tuple(failed),
                answer_lost=res.outcome == "answer_lost")
        _record_failure(ev, w, failed, FailedSource(cand.kind, cand.description, problem))
        rest = [c for c in current.ranked if c is not cand]
        current = choose_source(w, rest, failed)
        if current.candidate is None:
            break
        if by == "operator" or not current.verified:
            current, by = _decide(rc, ev, current, accept)
    ev.journal.append("no_usable_source", key=w.uri, failed=[f.to_dict() for f in failed])
    return None


def restore_for_rollback(rc: RunContext, ev: EvidenceRun, executor: Executor,
                         snap: StackSnapshot, diag: Diagnosis, findings: list[Finding], *,
                         sources: list[str], trail: str | None,
                         accept: Acceptance = Acceptance(),
                         unproven_is_unrecoverable: bool = False) -> RestoreOutcome:
    specs = [parse_source_spec(s) for s in sources]
    functions = failed_functions(findings)
    rc.progress(f"looking for the code objects of {len(functions)} function(s) (GetFunction, "
                "then CloudTrail)…")
    loc = locate(rc, ev, functions, region=snap.region, trail=trail, since=None, until=None,
                 specs=specs)
    ev.write_json("artifacts-plan.json", {"choices": [c.to_dict() for c in loc.choices],
                                          "present": [w.to_dict() for w in loc.present],
                                          "unknown": [f.__dict__ for f in loc.unknown],
                                          "trail": loc.trail, "resolution": loc.resolution})
    restored, refused = apply_choices(rc, ev, executor, loc.choices, accept=accept,
                                      unproven_is_unrecoverable=unproven_is_unrecoverable)
    restored += [already_present(w) for w in loc.present]
    bad_ids = {c.wanted.skip_id for c in refused} | {f.skip_id for f in loc.unknown}
    unrecoverable = [f for f in findings if f.skip_id in bad_ids]
    parts = [f"{len(restored)} restored"]
    if refused:
        parts.append("no usable bytes for " + ", ".join(c.wanted.uri for c in refused))
    if loc.unknown:
        parts.append("no CloudTrail record names the key of " +
                     ", ".join(f.function_name for f in loc.unknown))
    return RestoreOutcome(restored, unrecoverable, loc.choices, "; ".join(parts))



def check_planned_uploads(rc: RunContext, ev: EvidenceRun, calls: list[Any],
                          restores: list[Any], accept: Acceptance) -> None:
    """`recover apply`: a saved plan's upload of bytes not proven to be the old code needs the
    same acceptance as when it was planned (a flag, or the operator's answer; --yes never
    gives it). An upload the plan's `restores` do not describe as verified counts as unproven."""
    by_key = {(r.get("bucket"), r.get("key")): r for r in restores if isinstance(r, dict)}
    for call in calls:
        if call.service != "s3" or call.operation not in ("PutObject", "CopyObject"):
            continue
        where = (call.params.get("Bucket"), call.params.get("Key"))
        r = by_key.get(where) or {}
        # Plans saved before `verified` existed recorded a verified restore as "exact".
        if r.get("verified", r.get("verification") == "exact") is True:
            continue
        flag = "--accept-substitute" if r.get("verification") == "substitute" else \
            "--accept-unverified"
        if (flag == "--accept-substitute" and accept.substitute) or (
                flag == "--accept-unverified" and accept.unverified):
            ev.journal.append("accepted_unverified", key=f"s3://{where[0]}/{where[1]}", via=flag)
            continue
        what = (f"s3://{where[0]}/{where[1]}: the plan uploads {r.get('verification') or 'unproven'} "
                f"bytes from {r.get('source') or 'an unknown source'}, which no recorded "
                "CodeSha256 proves to be the old code")
        if not rc.interactive:
            raise NeedsDecisionError(what, flag=flag)
        answer = prompts.choose(rc, ev.journal, f"{what}. Upload them anyway?",
                                [("no", "no: stop, change nothing"), ("yes", "yes, upload them")],
                                flag=flag, default="no")
        if answer != "yes":
            raise AbortedError("declined the unproven upload; nothing was changed")
