"""`recover evidence` benchmark: build + write a bundle for growing synthetic incidents
(stacks x events, related CloudTrail records, journal entries), and the related-record scan
over the real CloudTrail files in ../shared/data. Prints a table. No AWS, no network.

Each figure is printed beside its baseline, measured in the same run: the same incident
built by the code of --baseline (a git revision, extracted to a temporary folder), each
measurement in a fresh process.

Run: python benchmarks/evidence_bundle.py [--baseline REV] [--max-rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

# the code measured: this checkout, or the baseline tree a worker is started on
sys.path.insert(0, os.environ.get("RECOVER_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent))

from recover.bundle.collect import read_trail  # noqa: E402
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


BASELINE = "41fd407"  # main before the streaming bundle (issue 19): build_bundle + write_zip
SIZES = ((3, 100, 50, 20), (10, 1000, 1000, 200), (20, 5000, 10000, 2000),
         (40, 22500, 96000, 8000))
BASELINE_MAX_ROWS = 200_000  # the old build holds ~4 KB a row: 1M rows would need ~4 GB


def worker(stacks: int, events: int, records: int, journal: int) -> dict[str, float]:
    """One measurement, in this (fresh) process, with whatever `recover` is importable: the
    streaming `write_bundle` when it exists, else the old build_bundle + write_zip. Time is
    CPU time (the machine is shared); peak memory is tracemalloc's, on a second build."""
    import recover.bundle.document as document

    c = Collected("app", snapshot(stacks, events), [], trail(records), [run(journal)], Window(),
                  T0 + timedelta(days=1))
    now = T0 + timedelta(days=2)

    def once(out: Path) -> Path:
        if hasattr(document, "write_bundle"):
            return document.write_bundle(c, out, fmt="zip", now=now, html=True)[0]
        return write_zip(document.build_bundle(c, now=now, html=True), out, T0)

    with tempfile.TemporaryDirectory() as tmp:
        cpu, wall = time.process_time(), time.perf_counter()
        size = once(Path(tmp) / "a.zip").stat().st_size
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        tracemalloc.start()  # a second build, traced (tracing slows it down: not timed)
        once(Path(tmp) / "b.zip")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"rows": stacks * events + records + journal // 2 + 1, "cpu": cpu, "wall": wall,
            "peak": peak / 1e6, "zip": size / 1e6}


def measure(root: Path, size: tuple[int, ...]) -> dict[str, float] | None:
    env = {**os.environ, "RECOVER_BENCH_ROOT": str(root)}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                           *map(str, size)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  ({root}: {proc.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def baseline_tree(rev: str, into: Path) -> Path | None:
    """The `recover` package of `rev`, extracted from git (None when git cannot)."""
    repo = Path(__file__).resolve().parent.parent
    try:
        tar = subprocess.run(["git", "-C", str(repo), "archive", rev, "recover", "runbooks"],
                             capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=tar, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return into


def bench_scan() -> tuple[int, int, float] | None:
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "cloudtrail"
    if not folder.is_dir():
        return None
    snap = snapshot(1, 10)
    t0 = time.perf_counter()
    out = read_trail(str(folder), Window(), snap, [], SourceDeps(client=lambda s, r: None))
    return out.scanned, len(out.records), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--worker", nargs=4, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--max-rows", type=int, default=2_000_000, help="skip larger incidents")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    here = Path(__file__).resolve().parent.parent
    print("| stacks x events | trail | journal | rows | CPU s | baseline CPU s | speed-up "
          "| peak MB | baseline peak MB | zip MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        old = None if args.no_baseline else baseline_tree(args.baseline, Path(tmp))
        for size in SIZES:
            stacks, events, records, journal = size
            if stacks * events + records > args.max_rows:
                continue
            now = measure(here, size)
            base = measure(old, size) if old and stacks * events + records <= \
                BASELINE_MAX_ROWS else None
            if now is None:
                continue
            b_cpu = f"{base['cpu']:.2f}" if base else "n/a"
            b_peak = f"{base['peak']:.1f}" if base else "n/a"
            speed = f"{base['cpu'] / now['cpu']:.1f}x" if base and now["cpu"] else "n/a"
            print(f"| {stacks} x {events} | {records} | {journal} | {now['rows']:,} | "
                  f"{now['cpu']:.2f} | {b_cpu} | {speed} | {now['peak']:.1f} | {b_peak} | "
                  f"{now['zip']:.2f} |", flush=True)
    print(f"\nbaseline: {args.baseline if old else 'none'}; CPU s is build + zip (CPU time of "
          "the process; the machine is shared), peak MB is tracemalloc's peak during a second "
          "build (the input incident is built before and not counted).")
    scan = bench_scan()
    if scan:
        n, related, secs = scan
        print(f"\nrelated-record scan of shared/data/cloudtrail (all files, full decode): "
              f"{n} records in {secs:.2f} s ({n / secs:,.0f} records/s), {related} related")


if __name__ == "__main__":
    main()
