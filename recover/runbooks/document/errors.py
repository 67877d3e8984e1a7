"""Runbook errors, as RecoverErrors with stable codes (kept here so recover/run/errors.py stays
the shared core)."""

from __future__ import annotations

from dataclasses import dataclass

from recover.run.errors import InputError, NotFoundError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a runbook document: where (file, path inside it) and what."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return one_line(f"{where}: {self.message}")


def one_line(text: str, limit: int = 500) -> str:
    """Values from a document are echoed in messages: keep them printable and on one line."""
    clean = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return clean if len(clean) <= limit else clean[:limit] + "..."


class RunbookNotFoundError(NotFoundError):
    code = "runbook_not_found"


class RunbookFormatError(InputError):
    """A runbook file that does not parse or does not pass the checks; `problems` lists all."""

    code = "bad_runbook"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid runbook"
        more = len(self.problems) - 1
        message = first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        super().__init__(message, details={"problems": [str(p) for p in self.problems]})
