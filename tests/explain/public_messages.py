"""The labeled public messages of tests/explain/messages/public.jsonl and their accuracy table.

Each row: `text` (as pasted in a public issue), `expected` (failure_mode), `source_url`,
`heldout`. Rows marked held out were labeled with the others but set aside before the rules of
the broader taxonomy were written, so their accuracy measures rules not written from them.
Used by tests/explain/test_public_messages.py and scripts/explain_accuracy.py.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUBLIC = Path(__file__).resolve().parent / "messages" / "public.jsonl"


def load_public(path: Path = PUBLIC) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@dataclass(frozen=True)
class Table:
    rows: int
    correct: int
    unknown: int
    per_mode: dict[str, tuple[int, int]]  # expected mode -> (rows, correct)

    @property
    def accuracy(self) -> float:
        return self.correct / self.rows if self.rows else 0.0

    @property
    def unknown_share(self) -> float:
        return self.unknown / self.rows if self.rows else 0.0


def table(rows: list[dict[str, Any]], predict: Callable[[str], str]) -> Table:
    n: Counter[str] = Counter()
    ok: Counter[str] = Counter()
    unknown = 0
    for row in rows:
        got = predict(row["text"])
        n[row["expected"]] += 1
        ok[row["expected"]] += got == row["expected"]
        unknown += got == "unknown"
    return Table(rows=sum(n.values()), correct=sum(ok.values()), unknown=unknown,
                 per_mode={m: (n[m], ok[m]) for m in sorted(n)})
