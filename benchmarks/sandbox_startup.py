"""Sandbox benchmark: time to start + seed each scenario, and the latency of a few calls against
the served endpoint. Prints a table. Run: python benchmarks/sandbox_startup.py [rounds]"""

from __future__ import annotations

import statistics
import sys
import time

from recover.sandbox import scenario_names, start_sandbox


def main(rounds: int = 3) -> None:
    start_sandbox(None, step_delay=0).stop()  # warm the imports once
    rows = []
    for name in scenario_names():
        starts, calls = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            sb = start_sandbox(name, step_delay=0)
            starts.append(time.perf_counter() - t0)
            cfn = sb.client("cloudformation")
            root = sb.stacks[0]
            t0 = time.perf_counter()
            for _ in range(20):
                cfn.describe_stack_events(StackName=root)
            calls.append((time.perf_counter() - t0) / 20)
            sb.stop()
        rows.append((name, statistics.median(starts), statistics.median(calls)))
    print(f"{'scenario':<24} {'start+seed (s)':>15} {'DescribeStackEvents (ms)':>25}")
    for name, start, call in rows:
        print(f"{name:<24} {start:>15.3f} {call * 1000:>25.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
