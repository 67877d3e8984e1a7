"""The catalog of failure-message rules behind `recover explain`, one module per family.

Each family module (execution_role, artifacts, irreversible, name_conflicts...) keeps its rules
with their explanation, extraction and examples together. `RULES` is tried in order and the
first match wins, so the order below is part of the contract (docs/reference/failure-modes.md):
specific shapes before generic ones. Reasons for the less obvious places:

- execution role first: its text also says "invalid" and "not found";
- hooks next: a hook's verdict quotes the rules it checked ("Template failed validation"...);
- custom resources before artifacts: their reasons embed AccessDenied, "does not exist"...;
- artifacts before permissions: NoSuchKey or an S3 AccessDenied on a code fetch is the artifact;
- a nested stack's relay before the causes it may quote (recover.explain.classify re-reads the
  quoted reason and names that cause);
- throttling before quotas: "Request limit exceeded" and "Rate exceeded" are throttling;
- quotas before validation: "Number of resources ... is greater than maximum allowed" is a
  "Template format error" that is really a quota;
- references and internal failures before the generic "not found" of a resource deleted out of
  band; summaries and cancellations last.
"""

from __future__ import annotations

from typing import Any

from recover.explain.parse import Message
from recover.explain.rules import (
    artifacts,
    consequences,
    custom_resources,
    delete_blockers,
    execution_role,
    hooks,
    irreversible,
    name_conflicts,
    not_found,
    permissions,
    quotas,
    references,
    refused_values,
    stack_state,
    throttling,
    transient,
    validation,
)
from recover.explain.rules.base import KEEP, Rule
from recover.explain.taxonomy import FailureMode

__all__ = ["EXAMPLES", "FALLBACK", "KEEP", "RULES", "Rule", "first_match", "rule_by_id"]

RULES: tuple[Rule, ...] = (
    *execution_role.RULES,
    *hooks.RULES,
    *custom_resources.RULES,
    *artifacts.RULES,
    *stack_state.RULES,
    *consequences.RELAYS,
    *irreversible.RULES,
    *name_conflicts.RULES,
    *delete_blockers.RULES,
    *permissions.RULES,
    *transient.RULES,
    *throttling.RULES,
    *quotas.RULES,
    *refused_values.RULES,
    *validation.RULES,
    *references.RULES,
    *transient.LATE,
    *not_found.RULES,
    *consequences.RULES,
)

E_UNKNOWN = (
    "No rule matched: recover does not recognise this failure and does not guess. Read the "
    "resource's own events (`recover diagnose STACK`) and the service's message above for the "
    "underlying reason.")

FALLBACK = Rule("", FailureMode.UNKNOWN, 0, E_UNKNOWN, lambda msg: {}, confidence="low")

_BY_ID = {r.id: r for r in (*RULES, FALLBACK)}

# Every rule's first example: documentation (docs/reference/failure-modes.md) and the catalog
# meta-test (each example must classify to its own rule). Ids and accounts are made up.
EXAMPLES: dict[str, str] = {r.id: r.examples[0] for r in RULES}


def rule_by_id(rule_id: str) -> Rule:
    return _BY_ID[rule_id]


def first_match(msg: Message) -> tuple[Rule, dict[str, Any]]:
    """The first rule (in catalog order) matching the message, with the fields it extracted."""
    for rule in RULES:
        found = rule.match(msg)
        if found is not None:
            return rule, found
    return FALLBACK, {}
