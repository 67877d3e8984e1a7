"""Where CloudTrail records come from: local files and folders, stdin, a trail bucket in S3, and
the LookupEvents API. Each source yields TrailRecords and accounts for what it read in a
ScanStats; damage in one file is counted and reported, never fatal.

These read AWS (the gather layer); the extractors that decide what the records mean are in
recover.cloudtrail.extract.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from recover.cloudtrail.parse import READ_SIZE, FileStats, decompressed, iter_records
from recover.cloudtrail.record import TrailRecord
from recover.run.errors import (
    NotFoundError,
    ThrottledError,
    UsageError,
    no_answer_error,
    transient_kind,
)

# docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3: <acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz (delivery time, UTC)
_TRAIL_FILE = re.compile(
    r"(?P<acct>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_(?P<when>\d{8}T\d{4}Z)_[A-Za-z0-9]+"
    r"\.json(?:\.gz)?$")
_SKIP_DIRS = ("CloudTrail-Digest", "CloudTrail-Insight")  # docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3: not event records


def _digest_or_insight(path: str) -> bool:
    """A digest or Insights file, by folder or by its `<acct>_CloudTrail-Digest_...` name."""
    name = path.rsplit("/", 1)[-1]
    return any(f"/{d}/" in f"/{path}" or f"_{d}_" in name for d in _SKIP_DIRS)
_EXTENSIONS = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".gz")
LOOKUP_PAGE = 50  # docs/reference/aws-behaviour.md#lookupevents: MaxResults at most 50
LOOKUP_RATE = 2  # docs/reference/aws-behaviour.md#lookupevents: "two per second, per account, per Region"
EVENT_HISTORY = timedelta(days=90)  # docs/reference/aws-behaviour.md#lookupevents
# Records reach a file up to ~15 minutes after the call (docs/reference/aws-behaviour.md#cloudtrail-delivery-and-blind-spots "about 5 minutes", not
# guaranteed), so a file can sit in the next day's folder: list one extra day after `until`.
DELIVERY_SLACK = timedelta(days=1)


@dataclass
class ScanStats:
    """What a scan read, for `data.stats`."""

    files: int = 0
    records: int = 0
    bytes: int = 0
    bytes_uncompressed: int = 0
    decoded: int = 0
    corrupt_records: int = 0
    corrupt_files: int = 0
    api_calls: int = 0
    skipped_files: Counter[str] = field(default_factory=Counter)  # reason -> count
    corrupt: list[dict[str, Any]] = field(default_factory=list)  # per file: reasons
    listed_prefixes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_file(self, fs: FileStats) -> None:
        with self._lock:
            self.files += 1
            self.records += fs.records
            self.bytes += fs.bytes
            self.bytes_uncompressed += fs.bytes_uncompressed
            self.decoded += fs.decoded
            self.corrupt_records += fs.corrupt_records
            if fs.corrupt:
                self.corrupt_files += 1
                self.corrupt.append({"file": fs.name, "corrupt_records": fs.corrupt_records,
                                     "reasons": dict(fs.problems)})

    def skip(self, reason: str) -> None:
        with self._lock:
            self.skipped_files[reason] += 1

    def to_dict(self) -> dict[str, Any]:
        out = {"files": self.files, "records": self.records, "bytes": self.bytes,
               "bytes_uncompressed": self.bytes_uncompressed, "decoded": self.decoded,
               "corrupt_records": self.corrupt_records, "corrupt_files": self.corrupt_files,
               "skipped_files": sum(self.skipped_files.values()),
               "skipped_by_reason": dict(self.skipped_files), "corrupt": self.corrupt,
               "api_calls": self.api_calls}
        if self.listed_prefixes:
            out["listed_prefixes"] = self.listed_prefixes
        return out


class RecordSource(Protocol):
    def iter_records(self, stats: ScanStats) -> Iterator[TrailRecord]: ...


@dataclass(frozen=True)
class Window:
    """What the caller wants; sources use it to avoid reading what cannot match."""

    since: datetime | None = None
    until: datetime | None = None
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def keep_record(self, rec: TrailRecord) -> bool:
        if self.regions and rec.region not in self.regions:
            return False
        if self.accounts and rec.account not in self.accounts:
            return False
        if self.since or self.until:
            when = rec.event_time
            if when is None:
                return False
            if self.since and when < self.since:
                return False
            if self.until and when > self.until:
                return False
        return True

    def skip_file_reason(self, name: str) -> str | None:
        """Why a file need not be read, judging by its CloudTrail file name (None: read it)."""
        m = _TRAIL_FILE.search(name)
        if not m:
            return None
        if self.accounts and m["acct"] not in self.accounts:
            return "other account"
        if self.regions and m["region"] not in self.regions:
            return "other region"
        if self.since:
            delivered = datetime.strptime(m["when"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
            # a file holds only events from before its delivery time (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3)
            if delivered < self.since.replace(second=0, microsecond=0):
                return "delivered before --since"
        return None


# ------------------------------------------------------------------ files (local, stdin)


FileTask = tuple[str, Callable[[], Iterable[bytes]]]


class SkipFile(Exception):
    """A file that could not be read (gone since it was listed, download cut): reported on the
    file, the scan goes on."""


def read_file(name: str, open_raw: Callable[[], Iterable[bytes]],
              needles: tuple[bytes, ...] | None) -> tuple[FileStats, Iterator[TrailRecord]]:
    fs = FileStats(name)

    def gen() -> Iterator[TrailRecord]:
        try:
            yield from iter_records(decompressed(open_raw(), fs), fs, needles)
        except OSError as exc:
            fs.problem(f"cannot read: {exc.strerror or exc}")
        except SkipFile as exc:
            fs.problem(str(exc))

    return fs, gen()


def run_files(tasks: Iterable[FileTask], stats: ScanStats, needles: tuple[bytes, ...] | None,
              workers: int = 1) -> Iterator[TrailRecord]:
    """Read files one after the other (workers=1: record by record) or several at a time in
    threads (zlib and socket reads release the GIL). With threads, at most 2*workers files are
    in flight and each keeps only the records it decoded, so memory stays bounded; results come
    back in task order."""
    if workers <= 1:
        for name, opener in tasks:
            fs, records = read_file(name, opener, needles)
            yield from records
            stats.add_file(fs)
        return

    def job(name: str, opener: Callable[[], Iterable[bytes]]) -> tuple[FileStats, list]:
        fs, records = read_file(name, opener, needles)
        return fs, list(records)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trail") as pool:
        inflight: deque[Future] = deque()
        for name, opener in tasks:
            inflight.append(pool.submit(job, name, opener))
            if len(inflight) >= 2 * workers:
                fs, recs = inflight.popleft().result()
                stats.add_file(fs)
                yield from recs
        while inflight:
            fs, recs = inflight.popleft().result()
            stats.add_file(fs)
            yield from recs


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(READ_SIZE):
            yield chunk


class LocalSource:
    """Files and folders on disk (folders walked recursively, in name order)."""

    def __init__(self, paths: list[Path], window: Window | None = None,
                 needles: tuple[bytes, ...] | None = None, workers: int = 1) -> None:
        for p in paths:
            if not p.exists():
                raise NotFoundError(f"no such file or folder: {p}")
            if not os.access(p, os.R_OK):
                raise UsageError(f"cannot read {p}: permission denied", code="unreadable")
        self.paths = paths
        self.window = window or Window()
        self.needles = needles
        self.workers = workers

    def tasks(self, stats: ScanStats) -> Iterator[FileTask]:
        for root in self.paths:
            if root.is_file():
                if _digest_or_insight(root.name):
                    stats.skip("digest or insight file")
                    continue
                yield str(root), lambda p=root: _file_chunks(p)
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                kept = []
                for d in sorted(dirnames):
                    if d in _SKIP_DIRS:
                        stats.skip("digest or insight folder")
                    else:
                        kept.append(d)
                dirnames[:] = kept
                for fname in sorted(filenames):
                    if _digest_or_insight(fname):
                        stats.skip("digest or insight file")
                        continue
                    if not fname.endswith(_EXTENSIONS):
                        stats.skip("not a .json/.json.gz file")
                        continue
                    reason = self.window.skip_file_reason(fname)
                    if reason:
                        stats.skip(reason)
                        continue
                    path = Path(dirpath) / fname
                    yield str(path), lambda p=path: _file_chunks(p)

    def iter_records(self, stats: ScanStats) -> Iterator[TrailRecord]:
        return run_files(self.tasks(stats), stats, self.needles, self.workers)


class StreamSource:
    """One stream (stdin), gzip or not."""

    def __init__(self, stream: IO[bytes], name: str = "-",
                 needles: tuple[bytes, ...] | None = None) -> None:
        self.stream = stream
        self.name = name
        self.needles = needles

    def iter_records(self, stats: ScanStats) -> Iterator[TrailRecord]:
        def chunks() -> Iterator[bytes]:
            while chunk := self.stream.read(READ_SIZE):
                yield chunk

        return run_files([(self.name, chunks)], stats, self.needles)


# ------------------------------------------------------------------ S3 trail bucket


_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")


class S3Source:
    """Trail log files in a bucket: `<prefix>/AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/` and
    the organization layout `<prefix>/AWSLogs/<o-id>/<acct>/CloudTrail/...` (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3).

    Listing is pruned: accounts and regions given in the window are not listed, only the day
    folders from --since to --until (+1 day of delivery slack) are listed, and the digest and
    Insight folders are never entered. Objects are fetched with bounded parallelism."""

    PERMISSIONS = ("s3:ListBucket", "s3:GetObject")  # the trail bucket's listing and files

    def __init__(self, client: Any, bucket: str, prefix: str = "", window: Window | None = None,
                 needles: tuple[bytes, ...] | None = None, workers: int = 8,
                 now: Callable[[], datetime] | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.lstrip("/")
        self.window = window or Window()
        self.needles = needles
        self.workers = workers
        self.now = now or (lambda: datetime.now(UTC))

    # -- listing
    def _children(self, prefix: str, stats: ScanStats) -> list[str]:
        """The sub-folder names directly under `prefix`."""
        stats.listed_prefixes.append(prefix)
        names: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, Delimiter="/")
        for page in pages:
            stats.api_calls += 1
            for cp in page.get("CommonPrefixes", []):
                names.append(cp["Prefix"][len(prefix):].rstrip("/"))
        return names

    def _objects(self, prefix: str, stats: ScanStats) -> Iterator[str]:
        stats.listed_prefixes.append(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            stats.api_calls += 1
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def _split(self) -> tuple[str, list[str]]:
        """The prefix up to and including `AWSLogs/`, and the layout parts given after it."""
        before, sep, after = self.prefix.partition("AWSLogs/")
        if not sep:
            base = self.prefix.rstrip("/") + "/" if self.prefix.strip("/") else ""
            return base + "AWSLogs/", []
        return before + "AWSLogs/", [p for p in after.split("/") if p]

    def listing_prefixes(self, stats: ScanStats) -> list[str]:
        """The prefixes whose objects get listed, listing folders as little as possible: the
        accounts and Regions of the window are used as given, only day folders in the window
        are listed, and CloudTrail-Digest / CloudTrail-Insight (siblings of CloudTrail/) are
        never entered. A prefix that already names a day (or deeper) is listed as given."""
        base, parts = self._split()
        if parts and _ORG.match(parts[0]):
            roots = [base + parts[0] + "/"]
            parts = parts[1:]
            accounts = parts[:1] or self._accounts(roots[0], stats)
            acct_prefixes = [roots[0] + a + "/" for a in accounts]
        elif parts:
            acct_prefixes = [base + parts[0] + "/"]
        else:
            acct_prefixes = []
            for child in self._children(base, stats):
                if _ORG.match(child):
                    org = base + child + "/"
                    acct_prefixes += [org + a + "/" for a in self._accounts(org, stats)]
                elif _ACCOUNT.match(child) and self._want_account(child):
                    acct_prefixes.append(base + child + "/")
        rest = parts[1:]  # after the account: CloudTrail, region, YYYY, MM, DD
        if rest and rest[0] != "CloudTrail":
            return []  # e.g. a CloudTrail-Digest prefix: nothing to read there
        out: list[str] = []
        for acct_prefix in acct_prefixes:
            trail = acct_prefix + "CloudTrail/"
            if len(rest) > 1:
                regions = [rest[1]]
            elif self.window.regions:
                regions = sorted(self.window.regions)
            else:
                regions = self._children(trail, stats)
            for region in regions:
                if self.window.regions and region not in self.window.regions:
                    continue
                region_prefix = trail + region + "/"
                if len(rest) > 2:  # the prefix names a year, month or day: take it as given
                    out.append(region_prefix + "/".join(rest[2:]) + "/")
                else:
                    out += self.day_prefixes(region_prefix)
        return out

    def _accounts(self, org_prefix: str, stats: ScanStats) -> list[str]:
        if self.window.accounts:
            return sorted(self.window.accounts)
        return [a for a in self._children(org_prefix, stats) if _ACCOUNT.match(a)]

    def _want_account(self, acct: str) -> bool:
        return not self.window.accounts or acct in self.window.accounts

    def day_prefixes(self, region_prefix: str) -> list[str]:
        """One prefix per day from --since to --until (+ slack); the region prefix itself when
        there is no --since (nothing to prune by)."""
        if self.window.since is None:
            return [region_prefix]
        start = self.window.since.astimezone(UTC).date()
        end = ((self.window.until or self.now()).astimezone(UTC) + DELIVERY_SLACK).date()
        days = []
        day = start
        while day <= end:
            days.append(f"{region_prefix}{day:%Y/%m/%d}/")
            day += timedelta(days=1)
        return days

    def keys(self, stats: ScanStats) -> Iterator[str]:
        for prefix in self.listing_prefixes(stats):
            for key in self._objects(prefix, stats):
                if _digest_or_insight(key):
                    stats.skip("digest or insight folder")
                    continue
                if not key.endswith(_EXTENSIONS):
                    stats.skip("not a .json/.json.gz file")
                    continue
                reason = self.window.skip_file_reason(key.rsplit("/", 1)[-1])
                if reason:
                    stats.skip(reason)
                    continue
                yield key

    def _get(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError, ResponseStreamingError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):  # expired or deleted since it was listed
                raise SkipFile("gone since it was listed (NoSuchKey)") from None
            raise  # AccessDenied and the like stop the scan with a clear error
        try:
            yield from body.iter_chunks(READ_SIZE)
        except ResponseStreamingError as exc:
            raise SkipFile(f"download interrupted ({exc})") from None
        finally:
            body.close()

    def iter_records(self, stats: ScanStats) -> Iterator[TrailRecord]:
        def tasks() -> Iterator[FileTask]:
            for key in self.keys(stats):
                stats.api_calls += 1  # the GetObject
                yield f"s3://{self.bucket}/{key}", lambda k=key: self._get(k)

        return run_files(tasks(), stats, self.needles, self.workers)


# ------------------------------------------------------------------ LookupEvents


class RateLimiter:
    """At most `rate` calls in any `per`-second sliding window, per key (account + Region).
    Clock and sleep are injected so tests run without waiting.

    `acquire` counts a call from the moment it is sent. `slot` counts it until its answer
    came back: AWS counts a request when it arrives, at some point between our send and its
    answer, so spacing the next-but-one send a second after the answer keeps AWS's own count
    at `rate` per second whatever the network delays (a retried request needs a new
    connection and can arrive late)."""

    def __init__(self, rate: int = LOOKUP_RATE, per: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.per = per
        self.clock = clock
        self.sleep = sleep
        # key -> [time, in flight] per call in the window; a call in flight never expires
        self._calls: dict[Any, list[list[Any]]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: Any) -> list[Any]:
        while True:
            with self._lock:
                calls = self._calls.setdefault(key, [])
                now = self.clock()
                calls[:] = [c for c in calls if c[1] or now - c[0] < self.per]
                if len(calls) < self.rate:
                    entry = [now, False]
                    calls.append(entry)
                    return entry
                waits = [c[0] + self.per - now for c in calls if not c[1]]
            # only calls in flight (other threads): poll until one is answered. Never asleep
            # with the lock held: the answer that frees a place needs it.
            self.sleep(min(waits) if waits else 0.05)

    @contextmanager
    def slot(self, key: Any) -> Iterator[None]:
        """Hold a place from the send until the answer (or the error) is back."""
        entry = self.acquire(key)
        entry[1] = True
        try:
            yield
        finally:
            with self._lock:
                entry[0], entry[1] = self.clock(), False


_SHARED_LIMITER = RateLimiter()


def shared_limiter() -> RateLimiter:
    """The process-wide LookupEvents limiter: every reader of one run (the artifacts search,
    the role's history, the evidence bundle) shares the 2/s budget of an account and Region."""
    return _SHARED_LIMITER


def lookup_page(client: Any, region: str, params: dict[str, Any], *, limiter: RateLimiter,
                account: str = "default", max_attempts: int = 8,
                sleep: Callable[[float], None] = time.sleep,
                rng: random.Random | None = None) -> dict[str, Any]:
    """One LookupEvents page. Every attempt passes the limiter and holds its place until its
    answer. Throttling, 5xx and no answer at all (a reset, a timeout) are retried with the
    same parameters (the same NextToken): the rule every retry loop of recover follows
    (recover.run.errors.transient_kind). `client` must have botocore's retries off."""
    rng = rng or random.Random()
    attempts = max(1, max_attempts)
    for attempt in range(attempts):
        try:
            with limiter.slot((account, region)):
                return client.lookup_events(**params)
        except Exception as exc:
            kind = transient_kind(exc)
            if kind is None:
                raise
            if attempt + 1 == attempts:
                if kind == "no answer":
                    raise no_answer_error(exc, "cloudtrail:LookupEvents", attempts,
                                          region) from exc
                raise ThrottledError(
                    f"cloudtrail:LookupEvents in {region} kept failing ({kind}) after "
                    f"{attempts} attempts; wait a minute and run again") from exc
            # full jitter: uniform(0, min(cap, base * 2^attempt))
            sleep(rng.uniform(0, min(20.0, 0.5 * 2 ** attempt)))
    raise AssertionError("unreachable")


class LookupSource:
    """CloudTrail Event history (LookupEvents): one server-side EventName filter per name, a time
    window, 50 events per page, never more than 2 calls per second per account and Region
    (retries included), and exponential backoff with jitter on throttling, 5xx and on no
    answer at all (a reset connection, a timeout).

    The NextToken loop is written out (not a boto3 paginator) because each page request has to
    pass the rate limiter, and a failed page is retried with the same token (docs/reference/aws-behaviour.md#lookupevents: the token
    must be reused with identical parameters). The client must have botocore's own retries
    off (SessionFactory.unretried_client), so every HTTP request goes through the limiter;
    `max_attempts` is then the bound botocore would have used (SessionFactory.attempts)."""

    PERMISSIONS = ("cloudtrail:LookupEvents",)

    def __init__(self, client_for: Callable[[str], Any], regions: list[str],
                 event_names: Iterable[str], since: datetime | None, until: datetime | None,
                 limiter: RateLimiter | None = None, account: str = "default",
                 sleep: Callable[[float], None] = time.sleep, max_attempts: int = 8,
                 rng: random.Random | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.client_for = client_for
        self.regions = regions
        self.event_names = list(event_names)
        self.now = now or (lambda: datetime.now(UTC))
        self.until = until or self.now()
        # docs/reference/aws-behaviour.md#lookupevents: Event history keeps 90 days; asking for more just returns nothing older.
        self.since = since or (self.until - EVENT_HISTORY)
        # sleep given (tests): a limiter of their own that sleeps the same way
        self.limiter = limiter or (shared_limiter() if sleep is time.sleep
                                   else RateLimiter(sleep=sleep))
        self.account = account
        self.sleep = sleep
        self.max_attempts = max(1, max_attempts)
        self.rng = rng or random.Random()
        self.calls: Counter[tuple[str, str]] = Counter()  # (region, event name) -> calls

    def _call(self, client: Any, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return lookup_page(client, region, params, limiter=self.limiter, account=self.account,
                           max_attempts=self.max_attempts, sleep=self.sleep, rng=self.rng)

    def iter_records(self, stats: ScanStats) -> Iterator[TrailRecord]:
        for region in self.regions:
            client = self.client_for(region)
            for name in self.event_names:
                fs = FileStats(f"lookup:{region}:{name}")
                params: dict[str, Any] = {
                    "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                    "StartTime": self.since, "EndTime": self.until, "MaxResults": LOOKUP_PAGE}
                while True:
                    page = self._call(client, region, params)
                    stats.api_calls += 1
                    self.calls[(region, name)] += 1
                    for event in page.get("Events", []):
                        fs.records += 1
                        yield from _lookup_record(event, fs)
                    token = page.get("NextToken")
                    if not token:
                        break
                    params["NextToken"] = token
                stats.add_file(fs)


def _lookup_record(event: dict[str, Any], fs: FileStats) -> Iterator[TrailRecord]:
    raw = event.get("CloudTrailEvent")
    try:
        obj = json.loads(raw) if isinstance(raw, str) else None
    except (ValueError, RecursionError):
        obj = None
    fs.decoded += 1
    rec = TrailRecord.from_obj(obj)
    if rec is None:
        fs.problem("CloudTrailEvent is missing or not a CloudTrail record")
        fs.corrupt_records += 1
        return
    yield rec
