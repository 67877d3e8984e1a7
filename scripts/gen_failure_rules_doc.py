"""Regenerate the rules table of docs/reference/failure-modes.md from the rule catalog.

Usage (from the repository root): python scripts/gen_failure_rules_doc.py [--check]
The table sits between `<!-- rules:begin -->` and `<!-- rules:end -->`; --check exits 1 when
the file is out of date (tests/explain/test_failure_rules_catalog.py runs the same comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recover.explain.rules import EXAMPLES, FALLBACK, RULES  # noqa: E402

DOC = ROOT / "docs" / "reference" / "failure-modes.md"
BEGIN, END = "<!-- rules:begin -->", "<!-- rules:end -->"


def rules_table() -> str:
    lines = ["| order | family | rule | failure_mode | kind | confidence | runbook override | example |",
             "|---:|---|---|---|---|---|---|---|"]
    for i, rule in enumerate(RULES, start=1):
        override = "" if rule.runbook == "keep" else f"`{rule.runbook}`"
        example = EXAMPLES[rule.id].replace("|", "\\|")
        lines.append(f"| {i} | {rule.family} | `{rule.id}` | {rule.mode.value} | {rule.kind.value} "
                     f"| {rule.confidence} | {override} | `{example}` |")
    lines.append(f"| - | | (none) | {FALLBACK.mode.value} | | {FALLBACK.confidence} | "
                 "| anything else: \"no rule matched\" with the closest candidates |")
    return "\n".join(lines)


def render(doc: str) -> str:
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{rules_table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    doc = DOC.read_text(encoding="utf-8")
    new = render(doc)
    if "--check" in argv:
        return 0 if new == doc else 1
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
