"""The unattended degap recovery under random throttling, per botocore retry mode.

    PYTHONPATH=. python benchmarks/retry_modes.py [--percent 0 30] [--modes adaptive standard]

Each cell starts a fresh sandbox (degap scenario, no step delay), throttles PERCENT of the calls
of every operation at random (seeded, so every mode meets the same faults), runs
`recover rollback-stuck degap-prod --restore-artifacts` as a subprocess with AWS_RETRY_MODE set,
and prints wall time, API calls, HTTP attempts and the final status as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recover.sandbox import start_sandbox  # noqa: E402 - after the path is set


def run(mode: str, percent: float) -> dict[str, object]:
    sb = start_sandbox("degap", step_delay=0)
    try:
        if percent:
            sb.world.throttle("*", percent, seed=9)
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, **sb.env(), AWS_RETRY_MODE=mode,
                       PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "recover", "--endpoint-url", sb.endpoint, "--region",
                 sb.region, "--output", "json", "--non-interactive", "--yes", "--evidence-dir",
                 tmp, "rollback-stuck", "degap-prod", "--restore-artifacts",
                 "--poll-interval", "0.1"], env=env, capture_output=True, text=True,
                timeout=900)
            wall = time.perf_counter() - started
        data = json.loads(proc.stdout).get("data", {})
        calls = data.get("api_calls") or {}
        return {"mode": mode, "percent": percent, "wall": wall, "exit": proc.returncode,
                "calls": calls.get("total"), "attempts": calls.get("http_attempts"),
                "status": data.get("final_status")}
    finally:
        sb.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--percent", type=float, nargs="+", default=[0, 30])
    parser.add_argument("--modes", nargs="+", default=["adaptive", "standard"])
    args = parser.parse_args()
    print("| retry mode | throttled | wall | API calls | HTTP attempts | exit | final status |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for mode in args.modes:
        for percent in args.percent:
            r = run(mode, percent)
            print(f"| {r['mode']} | {r['percent']:.0f}% | {r['wall']:.1f} s | {r['calls']} | "
                  f"{r['attempts']} | {r['exit']} | {r['status']} |", flush=True)


if __name__ == "__main__":
    main()
