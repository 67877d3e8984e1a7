"""The scan pipeline behind `recover trail scan`: turn a SOURCE string into a record source,
read it through the window, and extract the artifact fetch failures.

SOURCE forms:
  PATH           a .json / .json.gz file or a folder of them (recursively)
  -              stdin (gzip or not)
  s3://BUCKET[/PREFIX]   a trail bucket (standard or organization layout)
  lookup         CloudTrail Event history (LookupEvents) in each --region (default: the run's)
  athena://WORKGROUP/DATABASE.TABLE?output=s3://...   Athena over the CloudTrail table
  lake://EVENT_DATA_STORE_ID                           CloudTrail Lake

Times (--since/--until): ISO-8601 (`2026-11-23T10:00:00Z`, `2026-11-23`; no zone means UTC)
or relative to now: `90s`, `30m`, `2h`, `3d`, `1w`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from recover.cloudtrail.athena import AthenaSource, AthenaTarget, LakeSource, LakeTarget
from recover.cloudtrail.extract import (
    DEFAULT_EVENT_NAMES,
    PREFILTER_FAILURES,
    ArtifactFetchFailure,
    CodeUpdate,
    artifact_fetch_failures,
    code_history,
)
from recover.cloudtrail.record import TrailRecord
from recover.cloudtrail.sources import (
    LocalSource,
    LookupSource,
    RateLimiter,
    RecordSource,
    S3Source,
    ScanStats,
    StreamSource,
    Window,
)
from recover.run.errors import UsageError

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time_spec(text: str, now: datetime) -> datetime:
    """`2h`, `3d`, `30m`, `1w`, `90s` before `now`, or an ISO-8601 time (UTC if no zone)."""
    value = text.strip()
    m = _RELATIVE.match(value.lower())
    if m:
        try:
            return now - timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
        except OverflowError:  # 999999d: before year 1
            raise UsageError(f"the time {text[:40]!r} is too far back") from None
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(f"cannot read the time {text!r}: use ISO-8601 (2026-11-23T10:00:00Z) "
                         "or a relative time such as 30m, 2h, 3d, 1w") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@dataclass
class ScanOutcome:
    failures: list[ArtifactFetchFailure]
    stats: ScanStats
    source: str
    window: Window
    event_names: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "since": self.window.since.isoformat() if self.window.since else None,
            "until": self.window.until.isoformat() if self.window.until else None,
            "event_names": list(self.event_names),
            "regions": sorted(self.window.regions),
            "missing_artifacts": [f.to_dict() for f in self.failures],
            "stats": self.stats.to_dict(),
            **self.extra,
        }


@dataclass
class SourceDeps:
    """What building a source needs from the outside world (injected by the CLI or tests)."""

    client: Callable[[str, str | None], Any]  # (service, region) -> boto3 client
    lookup_client: Callable[[str], Any] | None = None  # region -> client without retries
    lookup_attempts: Callable[[str], int] | None = None  # region -> attempts per request
    stdin: IO[bytes] | None = None
    default_region: str | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    limiter: RateLimiter | None = None
    sleep: Callable[[float], None] | None = None


def build_source(spec: str, window: Window, event_names: tuple[str, ...], deps: SourceDeps,
                 *, workers: int = 4, validate: bool = False,
                 prefilter: tuple[bytes, ...] = PREFILTER_FAILURES) -> RecordSource:
    """The record source a SOURCE string names (see the module doc). File sources decode only
    records containing one of the `prefilter` byte strings (default: `NoSuchKey`; e.g.
    extract.PREFILTER_HISTORY for code history), or every record with validate=True."""
    needles = None if validate else prefilter
    if spec == "-":
        if deps.stdin is None:
            raise UsageError("no standard input to read")
        return StreamSource(deps.stdin, "-", needles)
    if spec.startswith("s3://"):
        bucket, _, prefix = spec[5:].partition("/")
        if not bucket:
            raise UsageError(f"no bucket in {spec!r} (expected s3://BUCKET/PREFIX)")
        return S3Source(deps.client("s3", None), bucket, prefix, window, needles,
                        workers=max(1, workers * 2), now=deps.now)
    if spec == "lookup":
        regions = sorted(window.regions) or ([deps.default_region] if deps.default_region else [])
        if not regions:
            raise UsageError("no region for LookupEvents: pass --region")
        client_for = deps.lookup_client or (lambda r: deps.client("cloudtrail", r))
        kwargs: dict[str, Any] = {}
        if deps.sleep is not None:
            kwargs["sleep"] = deps.sleep
        if deps.lookup_attempts is not None:
            kwargs["max_attempts"] = deps.lookup_attempts(regions[0])
        return LookupSource(client_for, regions, event_names or DEFAULT_EVENT_NAMES,
                            window.since, window.until, limiter=deps.limiter, now=deps.now,
                            **kwargs)
    if spec.startswith("athena://"):
        target = AthenaTarget.parse(spec)
        return AthenaSource(deps.client("athena", target.region), target, window, event_names)
    if spec.startswith("lake://"):
        lake = LakeTarget.parse(spec)
        return LakeSource(deps.client("cloudtrail", lake.region), lake, window, event_names)
    if "://" in spec:
        raise UsageError(f"unknown source {spec!r}: use a path, -, s3://BUCKET/PREFIX, lookup, "
                         "athena://WORKGROUP/DB.TABLE or lake://EVENT_DATA_STORE")
    return LocalSource([Path(spec)], window, needles, workers=workers)


def filtered(records: Iterable[TrailRecord], window: Window,
             event_names: tuple[str, ...]) -> Iterable[TrailRecord]:
    names = set(event_names)
    for rec in records:
        if names and rec.event_name not in names:
            continue
        if window.keep_record(rec):
            yield rec


def scan_missing_artifacts(source: RecordSource, window: Window, event_names: tuple[str, ...],
                           label: str) -> ScanOutcome:
    """Read the source and extract the artifact fetch failures in the window."""
    stats = ScanStats()
    failures = artifact_fetch_failures(filtered(source.iter_records(stats), window, event_names))
    extra: dict[str, Any] = {}
    if isinstance(source, LookupSource):
        extra["lookup_calls"] = [{"region": r, "event_name": n, "calls": c}
                                 for (r, n), c in sorted(source.calls.items())]
    if isinstance(source, AthenaSource | LakeSource):
        extra["query"] = source.sql
    return ScanOutcome(failures, stats, label, window, event_names, extra)


@dataclass
class HistoryOutcome:
    history: list[CodeUpdate]
    stats: ScanStats
    source: str
    function: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "function": self.function,
                "code_history": [h.to_dict() for h in self.history],
                "stats": self.stats.to_dict()}


def scan_code_history(source: RecordSource, window: Window, function: str | None,
                      label: str) -> HistoryOutcome:
    """Read the source and extract the successful code deployments (with codeSha256)."""
    stats = ScanStats()
    history = code_history(filtered(source.iter_records(stats), window, ()), function)
    return HistoryOutcome(history, stats, label, function)


def expected_lookup_calls(matching: int) -> int:
    """The most LookupEvents calls one event name in one Region needs: full pages of 50, plus
    one more when the service hands out a token after the last full page (docs/reference/aws-behaviour.md#lookupevents)."""
    return math.ceil(matching / 50) + 1
