"""missing-artifact: find each missing code object, find its bytes, verify, restore.

Used by `recover artifacts` and by rollback-stuck (before it continues the rollback).
Every restore goes through the executor (journaled; --dry-run stops there) after a last
HeadObject shows the key is still missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from recover.act.executor import Executor
from recover.artifacts.choose import choose
from recover.artifacts.find import HISTORY, FailedFunction, read_code_records, wanted_artifacts
from recover.artifacts.model import Candidate, Choice, Restored, WantedArtifact, code_sha256
from recover.artifacts.restore import restore_call
from recover.artifacts.sources import (
    SourceSpec,
    fetch,
    lambda_candidates,
    local_candidates,
    object_exists,
    parse_source_spec,
    s3_previous_versions,
    with_hash,
)
from recover.context import RunContext
from recover.decide.diagnose import Diagnosis
from recover.decide.findings import Finding
from recover.errors import NeedsDecisionError
from recover.evidence import EvidenceRun
from recover.model.stack import StackSnapshot
from recover.runs import source_deps
from recover.ui import prompts


@dataclass
class Located:
    wanted: list[WantedArtifact]
    present: list[WantedArtifact]  # the object exists after all (someone restored it)
    unknown: list[FailedFunction]  # no CloudTrail record names the key
    choices: list[Choice]
    trail: dict[str, Any]


@dataclass
class RestoreOutcome:
    restored: list[Restored] = field(default_factory=list)
    unrecoverable: list[Finding] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    summary: str = ""


def failed_functions(findings: list[Finding]) -> list[FailedFunction]:
    return [FailedFunction(function_name=f.physical_id, logical_id=f.logical_id,
                           stack_name=f.stack_name, skip_id=f.skip_id,
                           failed_at=f.timestamp)
            for f in findings if f.resource_type == "AWS::Lambda::Function" and f.physical_id]


def locate(rc: RunContext, ev: EvidenceRun, functions: list[FailedFunction], *, region: str,
           trail: str | None, since: datetime | None, until: datetime | None,
           specs: list[SourceSpec]) -> Located:
    """Gather: keys from CloudTrail, existence, and every byte source with its hash."""
    now = rc.clock()
    oldest = min((f.failed_at for f in functions if f.failed_at), default=now)
    read = read_code_records(source_deps(rc), trail or "lookup", region,
                             [f.function_name for f in functions],
                             since or (oldest - HISTORY), until or now)
    ev.write_json("cloudtrail-code-records.json", [r.raw for r in read.records])
    wanted, unknown = wanted_artifacts(functions, read.records)
    s3, lam = rc.aws.client("s3"), rc.aws.client("lambda")
    missing, present, choices = [], [], []
    for w in wanted:
        if object_exists(s3, w.bucket, w.key, w.version):
            present.append(w)
            continue
        missing.append(w)
        cands: list[Candidate] = []
        if not w.version:  # a pinned version that is gone cannot be brought back as itself
            cands += s3_previous_versions(s3, w)
        cands += lambda_candidates(lam, w, specs) + local_candidates(w, specs)
        hashed = []
        for c in cands:
            if c.sha256 is None:
                hashed.append(with_hash(c, fetch(c, w, s3, lam)))
            else:
                hashed.append(c)
        choices.append(choose(w, hashed))
    trail_info = {"source": read.source, "records": len(read.records), **read.stats.to_dict()}
    return Located(missing, present, unknown, choices, trail_info)


def apply_choices(rc: RunContext, ev: EvidenceRun, executor: Executor, choices: list[Choice],
                  *, accept_substitute: bool) -> tuple[list[Restored], list[Choice]]:
    """Act: restore each chosen artifact; returns (restored, not restorable)."""
    s3, lam = rc.aws.client("s3"), rc.aws.client("lambda")
    done: list[Restored] = []
    refused: list[Choice] = []
    for ch in choices:
        w, cand = ch.wanted, ch.candidate
        if cand is None:
            refused.append(ch)
            continue
        if ch.verification == "substitute" and not accept_substitute:
            if not rc.interactive:
                raise NeedsDecisionError(
                    f"{w.uri}: only a substitute was found ({ch.why})", flag="--accept-substitute")
            if not prompts.confirm(rc, ev.journal, f"Upload a SUBSTITUTE for {w.uri}? {ch.why}",
                                   flag="--accept-substitute"):
                refused.append(ch)
                continue
        if object_exists(s3, w.bucket, w.key, w.version):  # re-check right before the change
            ev.journal.append("skip_restore", key=w.uri, why="object exists now")
            done.append(Restored(w.function_name, w.bucket, w.key, "already present",
                                 "unverified", None, skip_id=w.skip_id))
            continue
        body, body_file = None, None
        if cand.kind != "s3-previous-version":
            body = fetch(cand, w, s3, lam)
            if w.expected_sha256 and ch.verification == "exact" and code_sha256(body) != w.expected_sha256:
                refused.append(ch)  # the bytes changed since they were hashed
                continue
            path = ev.write_blob(w.key.replace("/", "__") or "object", body)
            body_file = str(path)
        call = restore_call(ch, ev.run_id, body_file=body_file, body=body)
        try:
            resp = executor.run(call)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                ev.journal.append("skip_restore", key=w.uri, why=f"{code}: the key exists now; "
                                  "left untouched")
                done.append(Restored(w.function_name, w.bucket, w.key, "already present",
                                     "unverified", None, skip_id=w.skip_id))
                continue
            raise
        done.append(Restored(w.function_name, w.bucket, w.key, cand.description, ch.verification,
                             cand.sha256, new_version_id=resp.get("VersionId"), skip_id=w.skip_id,
                             dry_run=executor.dry_run))
    return done, refused


def restore_for_rollback(rc: RunContext, ev: EvidenceRun, executor: Executor,
                         snap: StackSnapshot, diag: Diagnosis, findings: list[Finding], *,
                         sources: list[str], trail: str | None,
                         accept_substitute: bool = False) -> RestoreOutcome:
    specs = [parse_source_spec(s) for s in sources]
    functions = failed_functions(findings)
    rc.progress(f"looking for the code objects of {len(functions)} function(s) in CloudTrail…")
    loc = locate(rc, ev, functions, region=snap.region, trail=trail, since=None, until=None,
                 specs=specs)
    ev.write_json("artifacts-plan.json", {"choices": [c.to_dict() for c in loc.choices],
                                          "present": [w.to_dict() for w in loc.present],
                                          "unknown": [f.__dict__ for f in loc.unknown],
                                          "trail": loc.trail})
    restored, refused = apply_choices(rc, ev, executor, loc.choices,
                                      accept_substitute=accept_substitute)
    restored += [Restored(w.function_name, w.bucket, w.key, "already present", "unverified",
                          None, skip_id=w.skip_id) for w in loc.present]
    bad_ids = {c.wanted.skip_id for c in refused} | {f.skip_id for f in loc.unknown}
    unrecoverable = [f for f in findings if f.skip_id in bad_ids]
    parts = [f"{len(restored)} restored"]
    if refused:
        parts.append("no usable bytes for " + ", ".join(c.wanted.uri for c in refused))
    if loc.unknown:
        parts.append("no CloudTrail record names the key of " +
                     ", ".join(f.function_name for f in loc.unknown))
    return RestoreOutcome(restored, unrecoverable, loc.choices, "; ".join(parts))

