"""docs/reference/cli.md's command table names every command of the CLI exactly once."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from recover.cli import COMMANDS

CLI_MD = Path(__file__).resolve().parents[2] / "docs" / "reference" / "cli.md"


def _table_commands() -> list[str]:
    text = CLI_MD.read_text(encoding="utf-8")
    table = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    return [m[1] for m in re.finditer(r"^\| `([a-z-]+)", table, re.M)]


def test_every_command_is_in_the_table_once() -> None:
    counts = Counter(_table_commands())
    assert {c: n for c, n in counts.items() if n > 1} == {}
    assert set(counts) == set(COMMANDS)
