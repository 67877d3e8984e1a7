"""Classify a pasted CloudFormation / Lambda / CDK failure into the taxonomy (pure, no boto3).

`classify(text)` splits the paste into failure messages (recover.explain.parse), runs each
through the rule catalog (recover.explain.rules, first match wins), fills the rule's
explanation with what was extracted, and picks the most informative failure as the primary
one; the other distinct failures are listed in `Classification.others`.

Honest confidence: every answer names the rule that matched and how (`match`: its text
pattern, only an error code, or the cause quoted in a nested stack's relay). When no rule
matches, the answer is `unknown` with the closest rules by wording (`candidates`), never a guess.

Choosing the primary: a rule's `rank` says how informative its kind of failure is (a root
cause such as NoSuchKey or DependencyViolation outranks the status refusal it leads to, which
outranks a nested-stack relay, a "The following resource(s) failed" summary and a cascade
cancellation). Ties go to higher confidence, then to the first in the paste.
"""

from __future__ import annotations

import dataclasses
import re
import string
from typing import Any

from recover.explain.fields import common_fields
from recover.explain.parse import Message, split_failures
from recover.explain.rules import FALLBACK, KEEP, RULES, Rule, first_match, rule_by_id
from recover.explain.rules.base import BY_CODE
from recover.explain.taxonomy import Candidate, Classification, FailureMode, Kind, runbook_for

_CONFIDENCE_ORDER = {"high": 2, "medium": 1, "low": 0}
# An unrecognised reason on a *_FAILED event outranks relays, summaries and cancellations
# (ranks 20, 15, 5 in recover.explain.rules) but not a recognised root cause.
_UNRECOGNISED_FAILED_RANK = 25


def _opt(key: str, fmt: str) -> Any:
    return lambda f: fmt.format(f[key]) if f.get(key) else ""


# Optional phrases of the explanation templates: empty when the message did not name the thing.
_PHRASES: dict[str, Any] = {
    "at": lambda f: (f" s3://{f['bucket']}/{f['key']}" if f.get("key") else
                     f" in bucket {f['bucket']}" if f.get("bucket") else ""),
    "bucket_at": _opt("bucket", " {}"),
    "principal_at": _opt("principal", " {}"),
    "resource_at": _opt("resource", " on {}"),
    "denied_at": _opt("denied_by", " ({})"),
    "op_at": _opt("denied_operation", " ({})"),
    "what_at": lambda f: _opt("limit", " ({})")(f) or _opt("missing", " ({})")(f),
    "blocked_at": _opt("blocked_resource_id", " {}"),
    "dependent_at": _opt("dependent_object", " ({})"),
    "because": lambda f: " because of " + ", ".join(f["logical_ids"]) if f.get("logical_ids") else "",
}


class _Fill(dict[str, Any]):
    """format_map source: extracted fields, then rule defaults, then a neutral phrase."""

    def __init__(self, fields: dict[str, Any], defaults: dict[str, str]) -> None:
        super().__init__()
        self.fields, self.defaults = fields, defaults

    def __missing__(self, key: str) -> str:
        if key in _PHRASES:
            return str(_PHRASES[key](self.fields))
        value = self.fields.get(key)
        if value in (None, "", []):
            return self.defaults.get(key, "(not named in the message)")
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)


def explain_text(template: str, fields: dict[str, Any], defaults: dict[str, str]) -> str:
    return string.Formatter().vformat(template, (), _Fill(fields, defaults))


# A parent's relay quoting the child's reason: `... was not successfully updated. Currently in
# UPDATE_ROLLBACK_IN_PROGRESS with reason: <reason>` or `... was not successfully created: <reason>`.
_RELAYED_RE = re.compile(r"was not successfully (?:created|updated|deleted)"
                         r"(?:\.\s*Currently in \w+ with reason|\s*\.?)\s*:\s*(?P<reason>.+)$", re.S | re.I)


def classify_message(msg: Message) -> Classification:
    """Classify one already-split failure message."""
    rule, found = first_match(msg)
    if rule.kind is Kind.CONSEQUENCE and rule.id == "nested-stack-failed":
        relayed = _relayed_cause(msg)
        if relayed is not None:
            return relayed
    return _fill(msg, rule, found)


def _relayed_cause(msg: Message) -> Classification | None:
    """The cause a nested stack's relay quotes, classified as that cause (None: no cause quoted)."""
    quoted = _RELAYED_RE.search(msg.text)
    if not quoted:
        return None
    inner = Message(raw=quoted.group("reason"), text=quoted.group("reason").strip(),
                    fields={k: v for k, v in msg.fields.items() if k != "stack_arn"})
    rule, found = first_match(inner)
    if not rule.id or rule.kind is not Kind.CAUSE:
        return None
    cause = _fill(inner, rule, found)
    child = _fill(msg, *first_match(msg)).extracted
    extracted = {**{k: v for k, v in child.items() if k.startswith("child_")}, **cause.extracted}
    where = child.get("child_stack_name", "a nested stack")
    return dataclasses.replace(
        cause, extracted=extracted, message=msg.text, match="relayed",
        explanation=f"Relayed by the parent of nested stack {where}, which failed because: "
                    f"{cause.explanation}")


def _fill(msg: Message, rule: Rule, found: dict[str, Any]) -> Classification:
    fields: dict[str, Any] = dict(msg.fields)
    fields.update(common_fields(msg.text, fields))
    fields.update(common_fields(msg.raw, fields))  # what only the wrappers named (S3 URLs...)
    found = dict(found)
    private = {k: found.pop(k) for k in list(found) if k.startswith("_")}
    fields.update(found)
    for key in private.get("_drop", ()):
        if fields.get(key) == fields.get("child_" + key):
            fields.pop(key, None)
    confidence = private.get("_confidence", rule.confidence)
    runbook = _runbook(rule, private, fields)
    explanation = explain_text(rule.explanation, fields, rule.defaults)
    extracted = {k: v for k, v in fields.items()
                 if v not in (None, "", [], {}) and k not in ("reason", "state_advice", "skip_rule")}
    if not rule.id:
        return Classification(failure_mode=rule.mode, runbook=runbook, explanation=explanation,
                              extracted=extracted, rule="", confidence=confidence,
                              message=msg.text, match="none", candidates=candidates(msg.text))
    return Classification(failure_mode=rule.mode, runbook=runbook, explanation=explanation,
                          extracted=extracted, rule=rule.id, confidence=confidence,
                          message=msg.text, match="code" if private.get(BY_CODE) else "pattern",
                          kind=rule.kind, family=rule.family)


def _runbook(rule: Rule, private: dict[str, Any], fields: dict[str, Any]) -> str | None:
    """The mode's runbook, unless the rule (or the stack status it saw) says otherwise."""
    if "_runbook" in private:
        return private["_runbook"]
    if rule.runbook != KEEP:
        return rule.runbook
    found = runbook_for(rule.mode)
    if found is None:
        # Plain-advice modes still land in a runbook when the failed status selects one
        # (taxonomy.RUNBOOK_FOR_MODE's comment): a DELETE_FAILED resource → delete-failed.
        status = str(fields.get("resource_status") or fields.get("status") or "")
        if status == "DELETE_FAILED" and rule.mode is not FailureMode.UNKNOWN:
            return "delete-failed"
    return found


_WORD_RE = re.compile(r"[a-z][a-z0-9]{2,}")
_STOP = frozenset(["the", "and", "for", "with", "this", "that", "from", "was", "not", "are", "has", "have", "been", "its", "into"])
MIN_SIMILARITY = 0.12


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD_RE.findall(text.lower()) if w not in _STOP)


def candidates(text: str, limit: int = 3) -> tuple[Candidate, ...]:
    """The rules whose examples share the most words with `text` (Jaccard), best first.
    Shown with an unmatched message as "closest", never used to answer."""
    words = _words(text)
    if not words:
        return ()
    scored: list[Candidate] = []
    for rule in RULES:
        best = max((len(words & ex) / len(words | ex)
                    for ex in (_words(e) for e in rule.examples) if ex), default=0.0)
        if best >= MIN_SIMILARITY:
            scored.append(Candidate(rule.id, rule.mode, best))
    scored.sort(key=lambda c: -c.similarity)
    return tuple(scored[:limit])


def classify(text: str) -> Classification:
    """Classify a pasted message (one line or many); several failures → primary + others."""
    results = [classify_message(m) for m in split_failures(text)]
    if not results:
        return classify_message(Message(raw=text, text=text.strip()))
    failures = [r for r in results if _is_failure(r, alone=len(results) == 1)]
    if not failures:  # nothing recognisable line by line: read the paste as one message
        return classify_message(Message(raw=text, text=" ".join(text.split())))
    order = sorted(range(len(failures)), key=lambda i: (
        -_rank(failures[i]), -_CONFIDENCE_ORDER.get(failures[i].confidence, 0), i))
    primary = failures[order[0]]
    seen = {_identity(primary)}
    kept: list[int] = []
    for i in sorted(order[1:]):  # the others keep the paste's order
        if _identity(failures[i]) not in seen:
            seen.add(_identity(failures[i]))
            kept.append(i)
    return dataclasses.replace(primary, others=tuple(failures[i] for i in kept))


def _rank(c: Classification) -> int:
    if not c.rule:  # unrecognised, but the event says this resource failed: a root cause
        return _UNRECOGNISED_FAILED_RANK
    return rule_by_id(c.rule).rank if c.rule != FALLBACK.id else 0


def _is_failure(c: Classification, alone: bool) -> bool:
    """Lines of a paste worth reporting: recognised failures, and unrecognised messages only
    when alone or when their event row says FAILED (not progress, headers, tracebacks)."""
    if c.rule:
        return True
    return alone or str(c.extracted.get("resource_status", "")).endswith("FAILED")


def _identity(c: Classification) -> tuple[Any, ...]:
    return (c.rule, c.message)
