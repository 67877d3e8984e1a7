"""Human output piped to a file or a CI log is wrapped, never cut, and respects COLUMNS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

MESSAGE = ('Resource handler returned message: "Error occurred while GetObject. S3 Error Code: '
           'NoSuchKey. S3 Error Message: The specified key does not exist." (RequestToken: '
           '1f2e, HandlerErrorCode: InvalidRequest)')


def run(args: list[str], columns: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = columns
    proc = subprocess.run([sys.executable, "-m", "recover", *args], capture_output=True,
                          text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    return proc.stdout


def words(text: str) -> str:
    """The text without box drawing and layout whitespace: what a reader gets from it."""
    return " ".join(re.sub(r"[│╭╮╰╯─┃━┏┓┗┛]", " ", text).split())


@pytest.mark.parametrize("columns,width", [(None, 80), ("80", 80), ("250", 250), ("60", 60)])
def test_explain_advice_is_whole_at_any_width(columns: str | None, width: int) -> None:
    explanation = json.loads(run(["--output", "json", "explain", MESSAGE], columns))["data"][
        "explanation"]
    assert len(explanation) > 300
    out = run(["explain", MESSAGE], columns)
    assert words(explanation) in words(out)
    assert max(len(line) for line in out.splitlines()) <= width


def test_runbook_text_is_whole_when_piped() -> None:
    out = run(["runbooks", "show", "rollback-stuck"], None)
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
