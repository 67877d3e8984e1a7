"""Print `recover explain` accuracy per failure mode on ../shared/data/cfn-failure-messages.

Usage (from the repository root): python scripts/explain_accuracy.py [SHARED_DATA_DIR]

Two columns of agreement: against the file's hand-given labels (`raw`; `other` is outside the
taxonomy, so it can never match) and against the reviewed expectations in
tests/explain/explain_reviewed.py (each disagreement there has a one-line reason).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recover.classify import classify  # noqa: E402
from tests.explain.explain_reviewed import accuracy, load_rows  # noqa: E402


def main(argv: list[str]) -> int:
    shared = Path(argv[0]) if argv else ROOT.parent / "shared" / "data"
    rows = load_rows(shared)
    table = accuracy(rows, lambda text: classify(text).failure_mode.value)
    print("| label (messages.jsonl) | rows | raw label agrees | reviewed expectation agrees |")
    print("|---|---:|---:|---:|")
    for mode, n, raw, reviewed in table:
        print(f"| {mode} | {n} | {raw}/{n} ({raw / n:.0%}) | {reviewed}/{n} ({reviewed / n:.0%}) |")
    n = sum(r[1] for r in table)
    raw = sum(r[2] for r in table)
    reviewed = sum(r[3] for r in table)
    print(f"| **all** | {n} | {raw}/{n} ({raw / n:.0%}) | {reviewed}/{n} ({reviewed / n:.0%}) |")
    print()
    print("| label | predicted failure_mode (count) |")
    print("|---|---|")
    spread: dict[str, Counter[str]] = {}
    for row in rows:
        spread.setdefault(str(row["failure_mode"]), Counter())[
            classify(row["text"]).failure_mode.value] += 1
    for label in sorted(spread):
        cells = ", ".join(f"{m} ({c})" for m, c in spread[label].most_common())
        print(f"| {label} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
