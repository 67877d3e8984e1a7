"""Soak the generated failure worlds (issue 14 part 7): run recover unattended against many
seeded worlds and print, per failure kind and trait, how many worlds held each invariant.

    PYTHONPATH=$PWD python scripts/soak_worlds.py --seeds 2000            # seeds 0..1999
    PYTHONPATH=$PWD python scripts/soak_worlds.py --seeds 200 --start 5000 --minutes 10
    PYTHONPATH=$PWD python scripts/soak_worlds.py --seed 17 --seed 42 --subprocess

By default recover runs in this process (click, standalone mode off) against a served sandbox
on 127.0.0.1, which saves an interpreter start per world; --subprocess runs the real CLI as
tests/worlds does. --minutes stops starting new worlds after that long. Violations are listed
with their seed so each one can be replayed alone (`--seed N --subprocess -v`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.worlds

from recover.sandbox.generated.check import INVARIANTS, NAMES  # noqa: E402
from recover.sandbox.generated.spec import KINDS, TRAITS  # noqa: E402
from tests.worlds.harness import WorldRun, run_world  # noqa: E402


def table(runs: list[WorldRun]) -> str:
    worlds: Counter[str] = Counter()
    broken: dict[str, Counter[str]] = defaultdict(Counter)
    for run in runs:
        for label in ["all", *sorted(run.spec.kinds() | run.spec.traits())]:
            worlds[label] += 1
            for inv in {v.invariant for v in run.violations}:
                broken[label][inv] += 1
    head = ["kind / trait", "worlds", *[f"{i} {NAMES[i]}" for i in INVARIANTS], "held"]
    rows = [head]
    for label in ["all", *KINDS, *TRAITS]:
        if not worlds[label]:
            rows.append([label, "0", *["-"] * len(INVARIANTS), "-"])
            continue
        failing = sum(1 for r in runs if label == "all" or label in r.spec.kinds() | r.spec.traits()
                      if r.violations)
        rows.append([label, str(worlds[label]), *[str(broken[label][i]) for i in INVARIANTS],
                     f"{worlds[label] - failing}/{worlds[label]}"])
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _one(seed: int, *, root: Path, in_process: bool, bundle: bool) -> WorldRun:
    """One world in a worker process (its own sandbox: moto's backends are per process)."""
    try:
        return run_world(seed, root / str(seed), in_process=in_process, bundle=bundle)
    finally:
        shutil.rmtree(root / str(seed), ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=0, help="run seeds START..START+N-1")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seed", type=int, action="append", default=[], help="one seed (repeatable)")
    ap.add_argument("--minutes", type=float, default=0, help="stop starting worlds after this")
    ap.add_argument("--subprocess", action="store_true", help="run the real CLI per world")
    ap.add_argument("--no-bundle", action="store_true",
                    help="skip `recover evidence` after each run (faster; (e) then checks only "
                         "the run's evidence folder)")
    ap.add_argument("--workers", type=int, default=1,
                    help="worlds run at once, one process (and sandbox) each: most of a run is "
                         "waiting (LookupEvents at 2/s, polling), so 2-4 fit on a small machine")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every world")
    args = ap.parse_args(argv)
    seeds = args.seed + list(range(args.start, args.start + args.seeds))
    if not seeds:
        ap.error("give --seeds N or --seed S")
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else None
    runs: list[WorldRun] = []
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="recover-soak-"))
    job = partial(_one, root=root, in_process=not args.subprocess, bundle=not args.no_bundle)
    try:
        with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
            pending = iter(seeds)
            running = set()
            while True:
                while len(running) < max(1, args.workers) and (
                        deadline is None or time.monotonic() < deadline):
                    seed = next(pending, None)
                    if seed is None:
                        break
                    running.add(pool.submit(job, seed))
                if not running:
                    break
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    run = fut.result()
                    runs.append(run)
                    if args.verbose or run.violations:
                        print(run.summary(), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    runs.sort(key=lambda r: seeds.index(r.spec.seed))
    took = time.monotonic() - started
    mode = "subprocess" if args.subprocess else "in-process"
    print(f"{len(runs)} worlds (seeds {runs[0].spec.seed}..{runs[-1].spec.seed}) in {took:.0f} s, "
          f"recover {mode}; columns (a)-(g): worlds with that invariant violated\n")
    print(table(runs))
    bad = [r for r in runs if r.violations]
    if bad:
        print(f"\n{len(bad)} world(s) with violations:")
        for r in bad:
            print(f"- seed {r.spec.seed} [{', '.join(sorted(r.spec.kinds()))}]: "
                  + "; ".join(str(v) for v in r.violations))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
