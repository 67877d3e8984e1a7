"""Command results are values; rendering them (human or JSON envelope) happens in one place."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from recover.run.errors import RecoverError
from recover.run.exit_codes import ExitCode, status_for

RESULT_VERSION = 1


@dataclass
class Result:
    command: str
    data: dict[str, Any] = field(default_factory=dict)
    exit_code: ExitCode = ExitCode.OK
    errors: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # Renders `data` for people; receives the stdout console. Rich tables live here only.
    human: Callable[[Console, Result], None] | None = None
    status: str | None = None  # override of the status derived from exit_code

    @classmethod
    def from_error(cls, command: str, err: RecoverError, data: dict[str, Any] | None = None) -> Result:
        return cls(command=command, data=data or {}, exit_code=err.exit_code, errors=[err.as_dict()])

    def envelope(self) -> dict[str, Any]:
        return {
            "recover_result_version": RESULT_VERSION,
            "command": self.command,
            "status": self.status or status_for(self.exit_code),
            "exit_code": int(self.exit_code),
            "data": self.data,
            "errors": self.errors,
        }


def to_jsonable(value: Any) -> Any:
    """json.dumps default: datetimes as ISO-8601, enums by value, paths as strings, dataclasses."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any, indent: int | None = 2) -> str:
    text = json.dumps(value, default=to_jsonable, indent=indent, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (bytes that are not UTF-8 in argv or a file name, kept by Python's
        # surrogateescape) cannot be written as UTF-8. It only occurs inside JSON strings,
        # where its \uXXXX escape is valid JSON and reads back as the same character.
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def render(result: Result, output: str, stdout: IO[str], console: Console,
           errors: Console | None = None) -> None:
    """Write the result: the JSON envelope on stdout, or the human view (errors on the
    `errors` console, stderr in the CLI, so a script piping stdout still sees them)."""
    if output == "json":
        stdout.write(dumps(result.envelope()) + "\n")
        stdout.flush()
        return
    if result.human is not None:
        result.human(console, result)
    for msg in result.messages:
        console.print(msg)
    for err in result.errors:
        line = f"[bold red]error:[/] {_esc(err['message'])}"
        if err.get("hint"):
            line += f"\n[dim]hint: {_esc(err['hint'])}[/]"
        (errors or console).print(line, highlight=False)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
