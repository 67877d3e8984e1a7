"""CLI start-up: wall time of `recover --help`, `--version`, `CMD --help` and shell completion,
beside `python -c pass` and `python -c "import boto3"` measured in the same run.

    python benchmarks/cli_startup.py            # 15 runs each, median and min
    python benchmarks/cli_startup.py --runs 5

Each row is a fresh process (`python -m recover ...` with this interpreter), so the figures
include the interpreter's own start-up, as a shell's Tab does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CASES: list[tuple[str, list[str], dict[str, str]]] = [
    ("python -c pass (floor)", ["-c", "pass"], {}),
    ("python -c 'import boto3'", ["-c", "import boto3"], {}),
    ("recover --version", ["-m", "recover", "--version"], {}),
    ("recover --help", ["-m", "recover", "--help"], {}),
    ("recover diagnose --help", ["-m", "recover", "diagnose", "--help"], {}),
    ("recover rollback-stuck --help", ["-m", "recover", "rollback-stuck", "--help"], {}),
    ("recover explain --help", ["-m", "recover", "explain", "--help"], {}),
    ("completion: recover ro<Tab>", ["-m", "recover"],
     {"_RECOVER_COMPLETE": "bash_complete", "COMP_WORDS": "recover ro", "COMP_CWORD": "1"}),
    ("completion: recover rollback-stuck --s<Tab>", ["-m", "recover"],
     {"_RECOVER_COMPLETE": "bash_complete", "COMP_WORDS": "recover rollback-stuck --s",
      "COMP_CWORD": "2"}),
]


def time_case(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    full_env = {**os.environ, **env}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], env=full_env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    opts = parser.parse_args()
    print("| command | median s | min s |")
    print("|---|---:|---:|")
    for label, args, env in CASES:
        times = time_case(args, env, opts.runs)
        print(f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} |")


if __name__ == "__main__":
    main()
