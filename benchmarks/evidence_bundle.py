"""`recover evidence` benchmark: build + write a bundle for growing synthetic incidents
(stacks x events, related CloudTrail records, journal entries), and the related-record scan
over the real CloudTrail files in ../shared/data. Prints a table. No AWS, no network.

Run: python benchmarks/evidence_bundle.py
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recover.bundle.collect import read_trail  # noqa: E402
from recover.bundle.document import build_bundle  # noqa: E402
from recover.bundle.model import Collected, RunFolder, TrailOutcome, Window  # noqa: E402
from recover.bundle.write import write_zip  # noqa: E402
from recover.cloudtrail.scan import SourceDeps  # noqa: E402
from recover.model.stack import (  # noqa: E402
    StackEvent,
    StackInfo,
    StackNode,
    StackResource,
    StackSnapshot,
)

T0 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
ACCT = "123456789012"


def snapshot(stacks: int, events: int) -> StackSnapshot:
    nodes = []
    root_id = f"arn:aws:cloudformation:us-east-1:{ACCT}:stack/app/0"
    for s in range(stacks):
        sid = root_id if s == 0 else f"arn:aws:cloudformation:us-east-1:{ACCT}:stack/app-C{s}/0"
        name = "app" if s == 0 else f"app-C{s}"
        evs = tuple(StackEvent(sid, name, f"e{s}-{i}", f"Fn{i % 50}", "AWS::Lambda::Function",
                               T0 + timedelta(seconds=i), "UPDATE_FAILED" if i % 97 == 0
                               else "UPDATE_COMPLETE", f"fn-{s}-{i % 50}",
                               "S3 Error Code: NoSuchKey" if i % 97 == 0 else "")
                    for i in range(events))
        res = tuple(StackResource(f"Fn{i}", "AWS::Lambda::Function", "UPDATE_COMPLETE",
                                  f"fn-{s}-{i}") for i in range(50))
        info = StackInfo(sid, name, "UPDATE_ROLLBACK_COMPLETE",
                         parent_id="" if s == 0 else root_id)
        nodes.append(StackNode(info, res, evs, "" if s == 0 else f"C{s}", 0 if s == 0 else 1))
    return StackSnapshot(root_id, tuple(nodes), T0 + timedelta(days=1), "us-east-1", ACCT)


def trail(n: int) -> TrailOutcome:
    recs = [{"eventVersion": "1.08", "eventTime": (T0 + timedelta(seconds=i)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"), "eventSource": "lambda.amazonaws.com",
        "eventName": "UpdateFunctionCode20150331v2", "eventID": f"ct{i}",
        "userIdentity": {"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"},
        "requestParameters": {"functionName": f"fn-0-{i % 50}", "s3Bucket": "b",
                              "s3Key": f"k{i}.zip"}, "responseElements": {"codeSha256": "x"},
        "awsRegion": "us-east-1"} for i in range(n)]
    return TrailOutcome("bench", recs, ["by_cloudformation"] * n, {}, None, 0, n)


def run(journal: int) -> RunFolder:
    entries = []
    for i in range(journal // 2):
        t = (T0 + timedelta(seconds=2 * i)).isoformat()
        entries.append({"seq": 2 * i + 1, "time": t, "kind": "call", "phase": "before",
                        "call": {"service": "s3", "operation": "PutObject",
                                 "params": {"Bucket": "b", "Key": f"k{i}"}, "description": "x"}})
        entries.append({"seq": 2 * i + 2, "time": t, "kind": "call", "phase": "after",
                        "ref": 2 * i + 1, "ok": True})
    meta = {"command": "rollback-stuck", "started_at": T0.isoformat(), "outcome": "finished"}
    return RunFolder("app-20261112T090000Z", meta, entries, {}, {"run.log": "x\n" * 1000})


def bench_bundle(stacks: int, events: int, records: int, journal: int) -> tuple[float, ...]:
    c = Collected("app", snapshot(stacks, events), [], trail(records), [run(journal)], Window(),
                  T0 + timedelta(days=1))
    t0 = time.perf_counter()
    files = build_bundle(c, now=T0 + timedelta(days=2), html=True)
    built = time.perf_counter() - t0
    tracemalloc.start()  # a second build, traced (tracing slows it down: not timed)
    build_bundle(c, now=T0 + timedelta(days=2), html=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = write_zip(files, Path(tmp) / "b.zip", T0)
        written = time.perf_counter() - t0
        size = out.stat().st_size
    rows = stacks * events + records + journal // 2 + 2
    return rows, built, written, peak / 1e6, size / 1e6


def bench_scan() -> tuple[int, int, float] | None:
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "cloudtrail"
    if not folder.is_dir():
        return None
    snap = snapshot(1, 10)
    t0 = time.perf_counter()
    out = read_trail(str(folder), Window(), snap, [], SourceDeps(client=lambda s, r: None))
    return out.scanned, len(out.records), time.perf_counter() - t0


def main() -> None:
    print(f"{'stacks x events':>16} {'trail':>6} {'journal':>8} {'rows':>7} {'build s':>8} "
          f"{'zip s':>6} {'peak MB':>8} {'zip MB':>7}")
    for stacks, events, records, journal in ((3, 100, 50, 20), (10, 1000, 1000, 200),
                                             (20, 5000, 10000, 2000)):
        rows, built, written, peak, size = bench_bundle(stacks, events, records, journal)
        print(f"{f'{stacks} x {events}':>16} {records:>6} {journal:>8} {rows:>7} {built:>8.2f} "
              f"{written:>6.2f} {peak:>8.1f} {size:>7.2f}")
    scan = bench_scan()
    if scan:
        n, related, secs = scan
        print(f"\nrelated-record scan of shared/data/cloudtrail (all files, full decode): "
              f"{n} records in {secs:.2f} s ({n / secs:,.0f} records/s), {related} related")


if __name__ == "__main__":
    main()
