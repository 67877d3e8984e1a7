"""Typed confirmations say what Enter (or any other answer) does, before the person answers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from recover.run.context import GlobalOptions, RunContext
from recover.run.evidence import Journal
from recover.ui import prompts


class _Text:
    def __init__(self, asked: list[str], message: str, answer: str) -> None:
        asked.append(message)
        self.answer = answer

    def unsafe_ask(self) -> str:
        return self.answer


def _rc() -> RunContext:
    return RunContext(options=GlobalOptions(), console=Console(file=io.StringIO()),
                      out=Console(file=io.StringIO()), stdout=io.StringIO(),
                      stdin=io.StringIO(), is_tty=True)


@pytest.mark.parametrize("kwargs", [{}, {"otherwise": "keeps the role"}])
def test_typed_confirmation_says_what_empty_input_does(tmp_path: Path, monkeypatch: Any,
                                                       kwargs: dict[str, str]) -> None:
    import questionary

    asked: list[str] = []
    monkeypatch.setattr(questionary, "text", lambda message, **_: _Text(asked, message, ""))
    journal = Journal(tmp_path / "j.jsonl", lambda: datetime(2026, 11, 23, tzinfo=UTC))
    ok = prompts.typed_confirmation(_rc(), journal, "Delete role r?", "r", flag="--keep-role",
                                    **kwargs)
    assert ok is False
    assert "Enter" in asked[0]
    assert kwargs.get("otherwise", "changes nothing") in asked[0]
    assert journal.entries()[-1]["matched"] is False
