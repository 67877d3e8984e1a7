"""Benchmark `recover readiness --all` on a sandbox region with many stacks.

    python benchmarks/readiness_region.py                 # 200 stacks, concurrency 1 4 8 16
    python benchmarks/readiness_region.py --stacks 50 --concurrency 4

The region is built through the sandbox world (CloudFormation engine + moto S3/ECR): each
stack has 1-3 Lambda functions whose code lives in one versioned deployment bucket with a
lifecycle rule; every 10th stack has a nested stack, every 5th a container image in ECR and
every 7th references a key that was deleted. Then the real CLI runs in a subprocess
(`--output json readiness --all`) and the table shows wall time and the API calls per stack
as counted by the tool itself (CALL_SCOPE). Calls against the sandbox are ~1-3 ms; on AWS
they take tens of ms, so the calls per stack are the number to extrapolate from.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recover.sandbox import start_sandbox  # noqa: E402
from recover.sandbox.scenarios import _kit as kit  # noqa: E402
from recover.sandbox.scenarios.ecr_expired import _manifest  # noqa: E402


def build(sb, stacks: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    w = sb.world
    bucket = f"bench-deploy-{w.account}-{w.region}"
    kit.bucket(w, bucket, versioned=True)
    w.client("s3").put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
        "Rules": [{"ID": "expire-90d", "Filter": {"Prefix": "lambda/"}, "Status": "Enabled",
                   "Expiration": {"Days": 90},
                   "NoncurrentVersionExpiration": {"NoncurrentDays": 7}}]})
    ecr = w.client("ecr")
    ecr.create_repository(repositoryName="bench")
    registry = f"{w.account}.dkr.ecr.{w.region}.amazonaws.com/bench"
    counts = {"functions": 0, "images": 0, "deleted_keys": 0, "nested": 0}
    for i in range(stacks):
        resources = []
        for f in range(1 + i % 3):
            key = f"lambda/stack{i}/fn{f}.zip"
            kit.put(w, bucket, key, kit.go_zip(f"fn{i}-{f}", "v1"))
            if i % 7 == 0 and f == 0:
                w.client("s3").delete_object(Bucket=bucket, Key=key)
                counts["deleted_keys"] += 1
            resources.append(kit.res(f"Fn{f}", "AWS::Lambda::Function", f"bench-{i}-{f}",
                                     Code={"S3Bucket": bucket, "S3Key": key},
                                     Runtime="provided.al2023", Handler="bootstrap"))
            counts["functions"] += 1
        if i % 5 == 0:
            ecr.put_image(repositoryName="bench", imageManifest=_manifest(f"v{i}"),
                          imageTag=f"v{i}")
            resources.append(kit.res("Task", "AWS::ECS::TaskDefinition", f"task-{i}",
                                     ContainerDefinitions=[{"Name": "app",
                                                            "Image": f"{registry}:v{i}"}]))
            counts["images"] += 1
        if i % 10 == 0:
            resources.append(kit.nested("Child"))
        root = w.cfn.add_stack(f"bench-{i:03d}", resources)
        if i % 10 == 0:
            key = f"lambda/stack{i}/child.zip"
            kit.put(w, bucket, key, kit.go_zip(f"child{i}", "v1"))
            w.cfn.add_stack("", [kit.res("ChildFn", "AWS::Lambda::Function", f"child-{i}",
                                         Code={"S3Bucket": bucket, "S3Key": key})],
                            parent=root, logical_id="Child")
            counts["nested"] += 1
    return counts


def _delayed(app, seconds: float):  # type: ignore[no-untyped-def]
    """The served WSGI app with a fixed delay per request (threads sleep without the GIL, so
    concurrent requests overlap as they would against AWS)."""
    if not seconds:
        return app

    def wrapped(environ, start_response):  # type: ignore[no-untyped-def]
        time.sleep(seconds)
        return app(environ, start_response)

    return wrapped


def run(sb, concurrency: int) -> dict:  # type: ignore[no-untyped-def]
    env = {**os.environ, **sb.env(), "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "recover", "--output", "json",
                               "--evidence-dir", tmp, "readiness", "--all",
                               "--concurrency", str(concurrency)],
                              env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
    doc = json.loads(proc.stdout)
    data = doc["data"]
    per = [r["api_calls_total"] for r in data["reports"]]
    return {"concurrency": concurrency, "wall": wall, "exit": proc.returncode,
            "stacks": data["count"], "total": data["api_calls"]["total"],
            "mean": statistics.mean(per), "max": max(per), "min": min(per),
            "missing": len(data["missing"]), "not_ready": sum(
                1 for r in data["reports"] if not r.get("report", {}).get("ready", False))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stacks", type=int, default=200)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8, 16])
    ap.add_argument("--latency-ms", type=float, nargs="+", default=[0, 50],
                    help="added to every request the sandbox answers (AWS calls take tens of "
                         "ms; the sandbox answers in ~1-3 ms)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    sb = start_sandbox(None, step_delay=0)
    try:
        counts = build(sb, args.stacks)
        print(f"built {args.stacks} root stacks ({counts}) in {time.perf_counter() - t0:.1f} s")
        inner = sb._server.app
        rows = []
        for latency in args.latency_ms:
            sb._server.app = _delayed(inner, latency / 1000)
            rows += [{**run(sb, c), "latency": latency} for c in args.concurrency]
    finally:
        sb.stop()
    print()
    print("| stacks | added latency ms | concurrency | wall s | stacks/s | API calls | "
          "per stack mean | min | max | missing found | not ready | exit |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['stacks']} | {r['latency']:.0f} | {r['concurrency']} | {r['wall']:.1f} | "
              f"{r['stacks'] / r['wall']:.1f} | {r['total']} | {r['mean']:.1f} | {r['min']} | "
              f"{r['max']} | {r['missing']} | {r['not_ready']} | {r['exit']} |")


if __name__ == "__main__":
    main()
