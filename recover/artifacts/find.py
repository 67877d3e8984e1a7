"""Which code object each failed function wants (gather + a pure join).

The stack events only say NoSuchKey; the key itself is in CloudTrail: the failed
UpdateFunctionCode20150331v2 / CreateFunction20150331 record carries s3Bucket/s3Key
(docs/reference/aws-behaviour.md#cloudtrail-records). What CloudTrail says of the key's CodeSha256 (expected.trail_facts) is
joined here; Lambda's own records are added by the flow (sources.lambda_hash_facts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from recover.artifacts.expected import PUBLISH_VERSION_EVENTS, settle, trail_facts
from recover.artifacts.model import WantedArtifact
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
