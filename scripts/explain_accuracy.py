"""Print `recover explain` accuracy per failure mode, and the share answered `unknown`.

Usage (from the repository root): python scripts/explain_accuracy.py [SHARED_DATA_DIR]

1. tests/explain/messages/public.jsonl (real messages from public issues, with their source),
   separately for the training rows and the held-out rows (`heldout: true`, set aside before
   the rules were written): the held-out column measures rules not written from those rows.
2. ../shared/data/cfn-failure-messages (when present): agreement with the file's hand-given
   labels (`raw`; `other` is outside the taxonomy, so it can never match) and with the reviewed
   expectations in tests/explain/explain_reviewed.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recover.explain.classify import classify  # noqa: E402
from tests.explain.explain_reviewed import accuracy, load_rows  # noqa: E402
from tests.explain.public_messages import Table, load_public, table  # noqa: E402


def _mode(text: str) -> str:
    return classify(text).failure_mode.value


def _pct(ok: int, n: int) -> str:
    return f"{ok}/{n} ({ok / n:.0%})" if n else "-"


def print_public() -> None:
    rows = load_public()
    train = table([r for r in rows if not r["heldout"]], _mode)
    held = table([r for r in rows if r["heldout"]], _mode)
    print("tests/explain/messages/public.jsonl")
    print("| expected mode | training | held out |")
    print("|---|---:|---:|")
    for mode in sorted(set(train.per_mode) | set(held.per_mode)):
        print(f"| {mode} | {_pct(*reversed(train.per_mode.get(mode, (0, 0))))} "
              f"| {_pct(*reversed(held.per_mode.get(mode, (0, 0))))} |")
    print(f"| **all** | {_pct(train.correct, train.rows)} | {_pct(held.correct, held.rows)} |")
    print(f"| answered `unknown` | {_share(train)} | {_share(held)} |")


def _share(t: Table) -> str:
    return f"{t.unknown}/{t.rows} ({t.unknown_share:.0%})"


def print_shared(shared: Path) -> None:
    if not (shared / "cfn-failure-messages").is_dir():
        print(f"\n({shared}/cfn-failure-messages not found: skipped)")
        return
    rows = load_rows(shared)
    result = accuracy(rows, _mode)
    print("\n../shared/data/cfn-failure-messages/messages.jsonl")
    print("| label (messages.jsonl) | rows | raw label agrees | reviewed expectation agrees |")
    print("|---|---:|---:|---:|")
    for mode, n, raw, reviewed in result:
        print(f"| {mode} | {n} | {_pct(raw, n)} | {_pct(reviewed, n)} |")
    n = sum(r[1] for r in result)
    print(f"| **all** | {n} | {_pct(sum(r[2] for r in result), n)} "
          f"| {_pct(sum(r[3] for r in result), n)} |")
    unknown = sum(_mode(r["text"]) == "unknown" for r in rows)
    print(f"| answered `unknown` | {n} | {_pct(unknown, n)} | |")


def main(argv: list[str]) -> int:
    print_public()
    print_shared(Path(argv[0]) if argv else ROOT.parent / "shared" / "data")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
