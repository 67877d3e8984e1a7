"""Every question recover asks a person goes through here (questionary is used nowhere else).

Each answer is journaled. In non-interactive mode nothing is asked: a question reaching this
module then ends the run with NEEDS_DECISION naming the flag that settles it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from recover.run.context import RunContext
from recover.run.errors import AbortedError, NeedsDecisionError
from recover.run.evidence import Journal


def _ask(question: Any) -> Any:
    # unsafe_ask lets Ctrl-C and SIGTERM (recover.run.interrupts.Interrupted) through unchanged, so
    # the run ends as interrupted with the signal's exit code; EOF on stdin counts as Ctrl-C.
    try:
        answer = question.unsafe_ask()
    except EOFError as exc:
        raise KeyboardInterrupt from exc
    if answer is None:
        raise KeyboardInterrupt
    return answer


def _require_interactive(rc: RunContext, what: str, flag: str) -> None:
    if not rc.interactive:
        raise NeedsDecisionError(f"{what}: no terminal to ask on (non-interactive)", flag=flag)


def choose(rc: RunContext, journal: Journal, question: str, choices: Sequence[tuple[str, str]],
           *, flag: str, default: str | None = None) -> str:
    """Pick one of `choices` ((value, label) pairs)."""
    import questionary

    _require_interactive(rc, question, flag)
    qs = [questionary.Choice(title=label, value=value) for value, label in choices]
    answer = _ask(questionary.select(question, choices=qs, default=default))
    journal.append("answer", question=question, answer=answer)
    return str(answer)


def text(rc: RunContext, journal: Journal, question: str, *, flag: str) -> str:
    """A free-text answer (a path, a URL); an empty answer is returned as "" (the caller
    decides what that means)."""
    import questionary

    _require_interactive(rc, question, flag)
    answer = str(_ask(questionary.text(question))).strip()
    journal.append("answer", question=question, answer=answer)
    return answer


def confirm(rc: RunContext, journal: Journal, question: str, *, flag: str = "--yes") -> bool:
    """A yes/no confirmation defaulting to No. --yes answers it (and is journaled as such)."""
    import questionary

    if rc.options.yes:
        journal.append("answer", question=question, answer="yes", via="--yes")
        return True
    _require_interactive(rc, question, flag)
    answer = bool(_ask(questionary.confirm(question, default=False)))
    journal.append("answer", question=question, answer="yes" if answer else "no")
    return answer


def confirm_or_abort(rc: RunContext, journal: Journal, question: str, *, flag: str = "--yes") -> None:
    if not confirm(rc, journal, question, flag=flag):
        raise AbortedError("declined at the confirmation; nothing after it was changed")


def typed_confirmation(rc: RunContext, journal: Journal, question: str, expected: str, *,
                       flag: str, otherwise: str = "changes nothing") -> bool:
    """Destructive steps: the person types `expected` exactly. --yes never answers this. The
    prompt says what any other answer, Enter included, does (`otherwise`)."""
    import questionary

    _require_interactive(rc, question, flag)
    answer = _ask(questionary.text(f"{question} Type {expected} to confirm (Enter or anything "
                                   f"else {otherwise}):"))
    ok = answer.strip() == expected
    journal.append("answer", question=question, answer=answer.strip(), matched=ok)
    return ok
