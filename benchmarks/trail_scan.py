#!/usr/bin/env python3
"""Benchmark `recover trail scan` against the decompression floor, jq and naive json.load.

Builds (or reuses) a CloudTrail archive in the S3 layout on local disk from real records
(../shared/data/cloudtrail/invictus-ir_aws_dataset, replicated with fresh eventIDs and times),
plants artifact fetch failures (UpdateFunctionCode / CreateFunction failing with NoSuchKey,
some delivered twice as CloudTrail may do) plus decoys that contain the bytes `NoSuchKey` but
are not failures, and keeps the ground truth. Then, for a small archive and one SCALE times
larger, in the same run, it times each method in a fresh process and records its peak RSS:

  zcat            xargs zcat > /dev/null       (the decompression floor)
  jq              xargs zcat | jq (select the NoSuchKey records)
  json.load       gzip.open + json.load per file, then the same selection in Python
  recover API     recover.cloudtrail.scan.scan_missing_artifacts (python -c), 1 and 2 workers
  recover CLI     python -m recover --output json trail scan DIR

and checks that every method's answer equals the ground truth exactly.

    python benchmarks/trail_scan.py                      # 60k and 600k records
    python benchmarks/trail_scan.py --records 5000 --scale 2 --skip-jq   # quick look
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "cloudtrail" / "invictus-ir_aws_dataset"
ACCOUNT = "218007301253"
REGIONS = ("us-east-1", "eu-west-1")
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
NOSUCHKEY = ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
             "The specified key does not exist.")
_T, _I = "\u0001TIME\u0001", "\u0001ID\u0001"
TIME = "/usr/bin/time"  # GNU time, for peak RSS
FORMAT_VERSION = 3  # bump when the archive layout or content rules change


# ------------------------------------------------------------------ building the archive


def _templates(records: list[dict]) -> list[tuple[bytes, bytes, bytes]]:
    """Each record as compact JSON split around its eventTime and eventID values, so copies
    with new values are made by concatenation (fast) instead of json.dumps."""
    out = []
    for r in records:
        r = dict(r, eventTime=_T, eventID=_I)
        text = json.dumps(r, separators=(",", ":"))
        a, rest = text.split(json.dumps(_T), 1)
        b, c = rest.split(json.dumps(_I), 1)
        out.append((a.encode(), b.encode(), c.encode()))
    return out


def _render(tpl: tuple[bytes, bytes, bytes], when: datetime, event_id: str) -> bytes:
    return b"".join((tpl[0], f'"{when:%Y-%m-%dT%H:%M:%SZ}"'.encode(), tpl[1],
                     f'"{event_id}"'.encode(), tpl[2]))


def _planted(real: list[dict], rng: random.Random) -> tuple[dict, dict]:
    """A failing UpdateFunctionCode and CreateFunction built from the real successful records
    of the dataset (their exact shapes, docs/reference/aws-behaviour.md#cloudtrail-records), plus a decoy S3 data event with NoSuchKey."""
    upd = next(r for r in real if r["eventName"] == "UpdateFunctionCode20150331v2")
    crt = next(r for r in real if r["eventName"] == "CreateFunction20150331"
               and "errorCode" not in r)
    return upd, crt


def build_archive(root: Path, records: int, seed: int) -> dict:
    """Write the archive under root/AWSLogs/...; return the manifest with the ground truth."""
    real = []
    for f in sorted(SHARED.glob("*.json")):
        real += json.loads(f.read_text())["Records"]
    if not real:
        sys.exit(f"no records under {SHARED}")
    rng = random.Random(seed)
    templates = _templates(real)
    upd, crt = _planted(real, rng)
    every = 4000  # one planted failure per ~4000 records
    truth: dict[str, dict] = {}
    pending_dupes: list[bytes] = []
    files = 0
    written = 0
    when = START
    raw_bytes = 0
    while written < records:
        n = min(records - written, rng.randint(50, 900))
        region = REGIONS[files % len(REGIONS)]
        when += timedelta(minutes=5)
        body: list[bytes] = []
        for _ in range(n):
            t = when - timedelta(seconds=rng.randint(0, 600))
            eid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            roll = rng.randrange(every)
            if roll == 0:
                fn = f"svc-{rng.randrange(10**6):06d}"
                key = f"assets/{hashlib.sha256(eid.encode()).hexdigest()}.zip"
                base = upd if rng.random() < 0.6 else crt
                rec = json.loads(json.dumps(base))
                rec.update(eventID=eid, eventTime=f"{t:%Y-%m-%dT%H:%M:%SZ}", awsRegion=region,
                           errorCode="InvalidParameterValueException", errorMessage=NOSUCHKEY,
                           responseElements=None)
                params = rec["requestParameters"]
                if base is upd:
                    params["functionName"] = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}"
                    params.update(s3Bucket="cdk-hnb659fds-assets", s3Key=key)
                else:
                    params["functionName"] = fn
                    params["code"] = {"s3Bucket": "cdk-hnb659fds-assets", "s3Key": key}
                line = json.dumps(rec, separators=(",", ":")).encode()
                truth[eid] = {"function_name": fn, "key": key, "event_name": rec["eventName"]}
                body.append(line)
                if rng.random() < 0.1:
                    pending_dupes.append(line)  # delivered again in a later file
            elif roll == 1:  # decoy: NoSuchKey bytes, but an S3 data event, not a failure
                body.append(json.dumps({
                    "eventVersion": "1.08", "eventTime": f"{t:%Y-%m-%dT%H:%M:%SZ}",
                    "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
                    "awsRegion": region, "errorCode": "NoSuchKey",
                    "errorMessage": "The specified key does not exist.",
                    "requestParameters": {"bucketName": "b", "key": "k"}, "eventID": eid,
                    "eventType": "AwsApiCall", "managementEvent": False,
                    "recipientAccountId": ACCOUNT, "eventCategory": "Data"},
                    separators=(",", ":")).encode())
            else:
                body.append(_render(rng.choice(templates), t, eid))
        if pending_dupes and rng.random() < 0.5:
            body.append(pending_dupes.pop())
        rng.shuffle(body)  # records are not ordered in a file (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3)
        data = b'{"Records":[' + b",".join(body) + b"]}"
        raw_bytes += len(data)
        unique = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                         for _ in range(16))
        folder = root / "AWSLogs" / ACCOUNT / "CloudTrail" / region / f"{when:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{ACCOUNT}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{unique}.json.gz"
        (folder / name).write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
        files += 1
        written += n
    # a digest folder, as a real trail has: every reader must skip it
    digest = root / "AWSLogs" / ACCOUNT / "CloudTrail-Digest" / REGIONS[0] / "2026/11/20"
    digest.mkdir(parents=True, exist_ok=True)
    (digest / f"{ACCOUNT}_CloudTrail-Digest_{REGIONS[0]}_t_{REGIONS[0]}_20261120T010000Z.json.gz"
     ).write_bytes(gzip.compress(b'{"digestStartTime":"x","logFiles":[]}'))
    return {"format": FORMAT_VERSION, "records": records, "seed": seed, "files": files,
            "raw_bytes": raw_bytes, "truth": truth}


def archive(workdir: Path, records: int, seed: int) -> tuple[Path, dict]:
    root = workdir / f"archive-{records}-{seed}"
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") == FORMAT_VERSION:
            return root, manifest
    if root.exists():
        subprocess.run(["rm", "-rf", str(root)], check=True)
    root.mkdir(parents=True)
    t = time.perf_counter()
    manifest = build_archive(root, records, seed)
    manifest_path.write_text(json.dumps(manifest))
    print(f"built {root} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return root, manifest


# ------------------------------------------------------------------ measuring


def measure(cmd: list[str] | str, env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB, largest process of the command) and stdout of a command
    run in a fresh process."""
    argv = ["bash", "-c", cmd] if isinstance(cmd, str) else cmd
    with tempfile.NamedTemporaryFile("r") as rss_file:
        # GNU time reports the peak RSS of the command and of the processes it waited for
        start = time.perf_counter()
        proc = subprocess.run([TIME, "-f", "%M", "-o", rss_file.name, *argv],
                              stdout=subprocess.PIPE, env=env)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"command failed ({proc.returncode}): {cmd}")
        rss_kib = int(rss_file.read().split()[-1])
    return wall, rss_kib / 1024, proc.stdout.decode()


def _files_cmd(root: Path) -> str:
    return (f"find {shlex.quote(str(root / 'AWSLogs'))} -path '*/CloudTrail/*' "
            "-name '*.json.gz' -print0 | sort -z")


JQ_FILTER = ('.Records[] | select(.eventSource == "lambda.amazonaws.com" and '
             '(.eventName | test("^(UpdateFunctionCode|CreateFunction|PublishLayerVersion)'
             '[0-9]{8}(v[0-9]+)?$")) and ((.errorMessage // "") | '
             'contains("S3 Error Code: NoSuchKey"))) | .eventID')

NAIVE = r"""
import gzip, json, re, sys
from pathlib import Path
name = re.compile(r"^(UpdateFunctionCode|CreateFunction|PublishLayerVersion)\d{8}(v\d+)?$")
ids = set()
for f in sorted(Path(sys.argv[1]).rglob("*.json.gz")):
    if "/CloudTrail/" not in str(f):
        continue
    with gzip.open(f) as fh:
        for r in json.load(fh)["Records"]:
            if (r.get("eventSource") == "lambda.amazonaws.com" and name.match(r["eventName"])
                    and "S3 Error Code: NoSuchKey" in (r.get("errorMessage") or "")):
                ids.add(r["eventID"])
print("\n".join(sorted(ids)))
"""

API = r"""
import sys
from pathlib import Path
from recover.cloudtrail.scan import scan_missing_artifacts
from recover.cloudtrail.sources import LocalSource, Window
w = Window()
out = scan_missing_artifacts(LocalSource([Path(sys.argv[1])], w,
                                         needles=(b"NoSuchKey",), workers=int(sys.argv[2])),
                             w, (), sys.argv[1])
print("\n".join(sorted(f.event_id for f in out.failures)))
print(f"# records={out.stats.records} decoded={out.stats.decoded}", file=sys.stderr)
"""


def run_methods(root: Path, manifest: dict, skip_jq: bool,
                isal_path: Path | None) -> list[tuple[str, float, float, bool]]:
    truth = set(manifest["truth"])
    path = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    env = dict(os.environ, PYTHONPATH=path, RECOVER_NO_ISAL="1")  # plain zlib, the fallback
    extra = f"{os.pathsep}{isal_path}" if isal_path else ""
    env_isal = dict(os.environ, PYTHONPATH=f"{path}{extra}")
    env_isal.pop("RECOVER_NO_ISAL", None)
    py = sys.executable
    has_isal = subprocess.run([py, "-c", "import isal"], env=env_isal,
                              capture_output=True).returncode == 0
    rows: list[tuple[str, float, float, bool]] = []

    def add(label: str, cmd: list[str] | str, parse=lambda out: set(out.split()),
            use_env: dict = env) -> None:
        wall, rss, out = measure(cmd, use_env)
        rows.append((label, wall, rss, parse(out) == truth if parse else True))

    add("zcat > /dev/null (floor)", f"{_files_cmd(root)} | xargs -0 zcat > /dev/null",
        parse=None)
    if not skip_jq:
        add("zcat, jq select", f"{_files_cmd(root)} | xargs -0 zcat | jq -r "
                                f"{shlex.quote(JQ_FILTER)}")
    add("python json.load per file", [py, "-c", NAIVE, str(root)])
    add("recover API, 1 worker, zlib", [py, "-c", API, str(root), "1"])
    add("recover API, 2 workers, zlib", [py, "-c", API, str(root), "2"])

    def cli_ids(out: str) -> set[str]:
        return {f["event_id"] for f in json.loads(out)["data"]["missing_artifacts"]}

    cli = [py, "-m", "recover", "--output", "json", "trail", "scan", str(root), "--workers", "2"]
    add("recover CLI (--workers 2), zlib (RECOVER_NO_ISAL=1)", cli, parse=cli_ids)
    if has_isal:  # the default install (isal is a dependency where PyPI has wheels)
        add("recover API, 1 worker, isal", [py, "-c", API, str(root), "1"], use_env=env_isal)
        add("recover API, 2 workers, isal", [py, "-c", API, str(root), "2"], use_env=env_isal)
        add("recover CLI (--workers 2), isal: the default install", cli, parse=cli_ids,
            use_env=env_isal)
    else:
        print("python-isal is not importable here: install recover (it depends on isal) or "
              "pass --with-isal DIR to measure the default install", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=60_000, help="records in the small archive")
    ap.add_argument("--scale", type=int, default=10, help="the large archive is this many times "
                    "larger (1 = only the small one)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/recover-trail-bench"),
                    help="where archives are built and kept for reuse")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-jq", action="store_true")
    ap.add_argument("--with-isal", type=Path, metavar="DIR",
                    help="python-isal importable from DIR (pip install --target DIR isal), for "
                         "an interpreter that lacks it; recover uses it when present")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"needs the shared data at {SHARED}", file=sys.stderr)
        return 2
    sizes = [args.records] + ([args.records * args.scale] if args.scale > 1 else [])
    results = []
    for n in sizes:
        root, manifest = archive(args.workdir, n, args.seed)
        gz = sum(p.stat().st_size for p in (root / "AWSLogs").rglob("*.json.gz"))
        results.append((n, manifest, gz, run_methods(root, manifest, args.skip_jq, args.with_isal)))

    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} CPUs; times are wall seconds "
          "of a fresh process, RSS is the peak of its largest process\n")
    print("| archive | method | wall s | x zcat | MB/s (raw) | peak RSS MiB | exact |")
    print("|---|---|---:|---:|---:|---:|:---:|")
    for n, manifest, gz, rows in results:
        floor = rows[0][1]
        label = (f"{n:,} records, {manifest['files']} files, {gz / 2**20:.0f} MiB gz / "
                 f"{manifest['raw_bytes'] / 2**20:.0f} MiB raw, {len(manifest['truth'])} planted")
        for method, wall, rss, exact in rows:
            mbps = manifest["raw_bytes"] / 2**20 / wall
            print(f"| {label} | {method} | {wall:.2f} | {wall / floor:.2f} | {mbps:.0f} | "
                  f"{rss:.0f} | {'yes' if exact else 'NO'} |")
            label = ""
    n, _, _, rows = results[-1]
    floor = rows[0][1]
    for method, wall, _, _ in rows:
        if method.startswith("recover CLI"):
            print(f"\n{n:,} records: {method} at {wall / floor:.2f}x the zcat floor "
                  "(issue 19 target for the default install: 0.6x or less)")
    ok = all(exact for *_, rows in results for *_, exact in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
