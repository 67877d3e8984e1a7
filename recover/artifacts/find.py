"""Which code object each failed function wants (gather + a pure join).

Two paths, and the output says which one found each key (`located_by`):
- resolved: a function that keeps its code by REFERENCE names the S3 object version it runs in
  GetFunction `Code.ResolvedS3Object`, with the hash Lambda recorded for it
  (docs/reference/aws-behaviour.md#lambda-s3-object-storage-mode). A referenced object that can
  no longer be read is wanted, and no CloudTrail is needed for that function;
- cloudtrail: otherwise (COPY code, an API or partition without the field, or no referenced
  object missing).

The stack events only say NoSuchKey; the key itself is in CloudTrail: the failed
UpdateFunctionCode20150331v2 / CreateFunction20150331 record carries s3Bucket/s3Key
(docs/reference/aws-behaviour.md#cloudtrail-records). What CloudTrail says of the key's CodeSha256 (expected.trail_facts) is
joined here; Lambda's own records are added by the flow (sources.lambda_hash_facts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from recover.artifacts.expected import PUBLISH_VERSION_EVENTS, HashFact, settle, trail_facts
from recover.artifacts.model import ResolvedCode, WantedArtifact
from recover.cloudtrail.extract import artifact_fetch_failures
from recover.cloudtrail.record import TrailRecord
from recover.cloudtrail.scan import SourceDeps, build_source
from recover.cloudtrail.sources import ScanStats, Window

CODE_EVENTS = ("UpdateFunctionCode20150331v2", "CreateFunction20150331",
               *PUBLISH_VERSION_EVENTS)
# LookupEvents keeps 90 days (docs/reference/aws-behaviour.md#lookupevents): the code history of the last good deploy is in there.
HISTORY = timedelta(days=90)


@dataclass(frozen=True)
class FailedFunction:
    function_name: str
    logical_id: str
    stack_name: str
    skip_id: str
    failed_at: datetime | None


@dataclass
class TrailRead:
    records: list[TrailRecord]
    stats: ScanStats
    source: str


def read_code_records(deps: SourceDeps, source: str, region: str, functions: Iterable[str],
                      since: datetime | None, until: datetime | None) -> TrailRead:
    """Lambda code records (failed and successful) of these functions from a trail source.
    `deps` is the run's SourceDeps (recover.cli.trail.source_deps): LookupEvents then goes
    through the rate-limited client, at most 2 calls/s per account and region (docs/reference/aws-behaviour.md#lookupevents)."""
    wanted = set(functions)
    window = Window(since=since, until=until, regions=frozenset({region}) if region else frozenset())
    src = build_source(source, window, CODE_EVENTS, deps, validate=True)
    stats = ScanStats()
    keep = [r for r in src.iter_records(stats)
            if r.event_name in CODE_EVENTS and r.function_name in wanted
            and window.keep_record(r)]
    return TrailRead(keep, stats, source)


def wanted_artifacts(failed: Iterable[FailedFunction], records: list[TrailRecord],
                     ) -> tuple[list[WantedArtifact], list[FailedFunction]]:
    """Join failed functions with CloudTrail: (artifacts found, functions with no record)."""
    failures = artifact_fetch_failures(records)
    out: list[WantedArtifact] = []
    unknown: list[FailedFunction] = []
    for fn in failed:
        mine = [f for f in failures if f.function_name == fn.function_name and f.bucket and f.key]
        if not mine:
            unknown.append(fn)
            continue
        # The newest failure is the rollback's own attempt.
        last = mine[-1]
        wanted = WantedArtifact(
            function_name=fn.function_name, bucket=last.bucket or "", key=last.key or "",
            version=last.object_version, logical_id=fn.logical_id, stack_name=fn.stack_name,
            skip_id=fn.skip_id,
            found_in=f"cloudtrail {last.event_name} {last.event_id} "
                     f"{last.event_time.isoformat() if last.event_time else ''}".strip(),
            failed_at=last.event_time)
        out.append(settle(wanted, trail_facts(wanted, records).facts))
    return out, unknown


@dataclass(frozen=True)
class Resolution:
    """The resolved path's share of the work: keys found without CloudTrail, and the
    functions left to CloudTrail."""

    wanted: list[WantedArtifact]
    rest: list[FailedFunction]
    field_seen: bool  # some GetFunction answer carried Code.ResolvedS3Object

    def to_dict(self) -> dict[str, object]:
        by = sorted({w.function_name for w in self.wanted})
        return {"resolved_functions": by,
                "cloudtrail_functions": [f.function_name for f in self.rest],
                "resolved_s3_object": "present" if self.field_seen else "absent",
                "path": ("resolved" if not self.rest else
                         "cloudtrail" if not self.wanted else "resolved+cloudtrail")}


def resolve(functions: Iterable[FailedFunction],
            codes: dict[str, list[ResolvedCode]]) -> Resolution:
    """Pure: each function whose referenced code object (any version) cannot be read gets its
    wanted keys from GetFunction; the others are left to CloudTrail."""
    wanted: list[WantedArtifact] = []
    rest: list[FailedFunction] = []
    seen_field = False
    for fn in functions:
        mine = codes.get(fn.function_name, [])
        seen_field = seen_field or any(c.resolved for c in mine)
        found = resolved_wanted(fn, mine)
        if found:
            wanted += found
        else:
            rest.append(fn)
    return Resolution(wanted, rest, seen_field)


def resolved_wanted(fn: FailedFunction, codes: list[ResolvedCode]) -> list[WantedArtifact]:
    """One WantedArtifact per referenced key that cannot be read, with the hash Lambda recorded
    for the referenced version. The key is restored as itself (no version): a deleted version
    never comes back, so `follow_up` says which function versions stay broken."""
    groups: dict[tuple[str, str], list[ResolvedCode]] = {}
    for c in codes:
        if c.unreadable:
            groups.setdefault((c.bucket, c.key), []).append(c)
    out: list[WantedArtifact] = []
    for (bucket, key), refs in groups.items():
        first = refs[0]  # $LATEST first, then the newest versions (function_code's order)
        labels = [f"{fn.function_name}:{c.qualifier}" for c in refs]
        gone = sorted({c.version for c in refs if c.version and not c.version_exists})
        follow = ""
        if gone:
            follow = (f"Lambda references version(s) {', '.join(gone)} of s3://{bucket}/{key}, "
                      f"which no longer exist: {', '.join(labels)} cannot load its code. "
                      "Restored bytes get a new version id: point the function at it (aws "
                      f"lambda update-function-code --function-name {fn.function_name} "
                      f"--s3-bucket {bucket} --s3-key {key} --s3-object-version NEW_VERSION "
                      "--s3-object-storage-mode REFERENCE), publish again the versions that "
                      "need it, or redeploy the stack")
        facts = [HashFact(c.code_sha256, f"GetFunction {fn.function_name}:{c.qualifier} "
                          "Code.ResolvedS3Object (the hash Lambda recorded for this object)",
                          c.last_modified) for c in refs if c.code_sha256]
        w = WantedArtifact(
            function_name=fn.function_name, bucket=bucket, key=key, version=None,
            logical_id=fn.logical_id, stack_name=fn.stack_name, skip_id=fn.skip_id,
            found_in=f"GetFunction {labels[0]} Code.ResolvedS3Object s3://{bucket}/{key}"
                     + (f"?versionId={first.version}" if first.version else ""),
            failed_at=fn.failed_at, located_by="resolved", resolved_version=first.version,
            lambda_error=next((f"{c.error_code}: {c.error_message}".strip(": ")
                               for c in refs if c.error_code or c.error_message), ""),
            follow_up=follow)
        out.append(settle(w, facts))
    return out
