"""What a rule is, and the matcher helpers every family module uses (pure data and regexes).

A rule has a stable id, the failure mode it reports, what kind of message it is (a cause, a
consequence, a summary), how informative it is when a paste holds several failures (`rank`), a
one-paragraph explanation template, a matcher returning the fields it extracts (or None), and
at least one example message it must match (tests/explain/test_failure_rules_catalog.py).
Matchers see `Message.text` (envelopes removed) and `Message.fields` (what the envelopes said:
HandlerErrorCode, Error Code, status...). Patterns follow AWS's message shapes, not samples.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from recover.explain.parse import Message
from recover.explain.taxonomy import FailureMode, Kind

Matcher = Callable[[Message], "dict[str, Any] | None"]
Extract = Callable[["re.Match[str] | None", Message], "dict[str, Any]"]
KEEP = "keep"  # Rule.runbook: use taxonomy.runbook_for(mode)
# Set by a matcher in its result when only an error code (no text pattern) matched.
BY_CODE = "_by_code"


@dataclass(frozen=True)
class Rule:
    id: str
    mode: FailureMode
    rank: int
    explanation: str
    match: Matcher
    examples: tuple[str, ...] = ()
    confidence: str = "high"
    runbook: str | None = KEEP
    defaults: dict[str, str] = field(default_factory=dict)
    kind: Kind = Kind.CAUSE
    family: str = ""


def _rx(pattern: str, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def when(*patterns: str, codes: tuple[str, ...] = (), extract: Extract | None = None,
         unless: str | None = None) -> Matcher:
    """A matcher: any pattern found in the text, or any error code (exact, case-insensitive)."""
    rxs = [_rx(p) for p in patterns]
    not_rx = _rx(unless) if unless else None
    wanted = {c.lower() for c in codes}

    def match(msg: Message) -> dict[str, Any] | None:
        if not_rx and not_rx.search(msg.text):
            return None
        for rx in rxs:
            m = rx.search(msg.text)
            if m:
                return extract(m, msg) if extract else {}
        if wanted and msg.codes & wanted:
            return {**(extract(None, msg) if extract else {}), BY_CODE: True}
        return None

    return match


def groups(**names: int) -> Extract:
    """Extract numbered regex groups into named fields (skipping empty ones)."""
    def extract(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
        if m is None:
            return {}
        return {k: m.group(i).strip() for k, i in names.items()
                if i <= (m.re.groups or 0) and m.group(i)}
    return extract


def reason(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    return {"reason": msg.text.rstrip(". ")}


def family(name: str, *rules: Rule) -> tuple[Rule, ...]:
    """Tag each rule of a family module with the family's name."""
    from dataclasses import replace

    return tuple(replace(r, family=name) for r in rules)
