"""Can CloudFormation assume a role with a given trust policy? (pure: a reading of the
document, shared by gather (the snapshot's role check) and decide (recover/decide/trust_fix.py).)

CloudFormation assumes a stack's service role as the service principal
cloudformation.amazonaws.com calling sts:AssumeRole; the role's trust policy must allow that,
and an explicit Deny wins over any Allow (docs/reference/aws-behaviour.md#service-roles-rolearn,
#iam-trust-policy-update). recover cannot know every request context key CloudFormation sends,
so an Allow narrowed by a Condition is judged "may not be assumable" unless the condition
certainly fails (then "not assumable"); either way the condition is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

PRINCIPAL = "cloudformation.amazonaws.com"

# verdicts
TRUSTS = "trusts"  # an unconditioned Allow for the principal and no Deny
NO_STATEMENT = "no_statement"  # no statement allows the principal
CONDITION_FAILS = "condition_fails"  # every Allow is narrowed by a condition that cannot hold
CONDITION_UNKNOWN = "condition_unknown"  # an Allow is narrowed by a condition recover cannot judge
DENIED = "denied"  # an explicit Deny applies: adding an Allow cannot fix it
UNREADABLE = "unreadable"  # not a JSON policy document

_ASSUME = ("sts:AssumeRole", "sts:*", "*")


@dataclass(frozen=True)
class TrustAssessment:
    verdict: str
    reasons: tuple[str, ...] = ()
    conditions: tuple[dict[str, Any], ...] = field(default=())  # the conditions that narrow it

    @property
    def assumable(self) -> bool:
        return self.verdict == TRUSTS

    @property
    def fixable(self) -> bool:
        return self.verdict in (NO_STATEMENT, CONDITION_FAILS, CONDITION_UNKNOWN)

    def summary(self) -> str:
        head = {TRUSTS: "trusts cloudformation.amazonaws.com",
                NO_STATEMENT: "does not trust cloudformation.amazonaws.com",
                CONDITION_FAILS: "is not assumable by cloudformation.amazonaws.com",
                CONDITION_UNKNOWN: "may not be assumable by cloudformation.amazonaws.com",
                DENIED: "denies cloudformation.amazonaws.com",
                UNREADABLE: "has a trust policy recover cannot read"}[self.verdict]
        return head + (": " + "; ".join(self.reasons) if self.reasons else "")


def parse_document(document: Any) -> dict[str, Any] | None:
    """A trust policy as IAM returns it (boto3 decodes it to a dict; a string is JSON)."""
    if isinstance(document, str):
        try:  # IAM's API returns it URL-encoded; SDKs usually decode it
            document = json.loads(unquote(document) if document.startswith("%") else document)
        except ValueError:
            return None
    return document if isinstance(document, dict) else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements_of(doc: dict[str, Any]) -> list[Any]:
    return _as_list(doc.get("Statement"))


def _applies(st: dict[str, Any]) -> bool:
    """Does the statement name the principal and sts:AssumeRole? (NotPrincipal/NotAction:
    treated as applying, the conservative reading for a Deny and for an Allow alike.)"""
    if "NotAction" in st:
        actions_ok = "sts:AssumeRole" not in _as_list(st["NotAction"])
    else:
        actions_ok = any(a in _ASSUME for a in _as_list(st.get("Action")))
    if not actions_ok:
        return False
    if "NotPrincipal" in st:
        p = st["NotPrincipal"]
        return not (isinstance(p, dict) and PRINCIPAL in _as_list(p.get("Service")))
    p = st.get("Principal")
    if p == "*":
        return True
    if isinstance(p, dict):
        return PRINCIPAL in _as_list(p.get("Service")) or "*" in _as_list(p.get("AWS"))
    return False


def condition_certainly_fails(condition: dict[str, Any], account: str) -> str | None:
    """Why `condition` cannot hold for CloudFormation's AssumeRole, or None when recover cannot
    tell. Only cases that fail whatever CloudFormation sends are judged: aws:SourceAccount naming
    only other accounts (absent or this account, StringEquals fails either way), and requiring
    MFA (a service principal never has it)."""
    for op, keys in condition.items():
        if not isinstance(keys, dict):
            continue
        base = op.split(":")[-1]
        for key, values in keys.items():
            vals = [str(v) for v in _as_list(values)]
            if op.startswith("ForAnyValue") or op.startswith("ForAllValues") \
                    or base.endswith("IfExists"):
                continue
            if key.lower() == "aws:sourceaccount" and base == "StringEquals" and account \
                    and account not in vals:
                return f"aws:SourceAccount must be {', '.join(vals)} (this account is {account})"
            if key.lower() == "aws:multifactorauthpresent" and base == "Bool" \
                    and vals == ["true"]:
                return "it requires MFA, which a service principal never has"
    return None


def assess_trust(document: Any, account: str = "") -> TrustAssessment:
    """Can cloudformation.amazonaws.com assume a role with this trust policy?"""
    doc = parse_document(document)
    if doc is None:
        return TrustAssessment(UNREADABLE, ("the trust policy is not a JSON policy document",))
    conditioned: list[dict[str, Any]] = []
    deny_conditions: list[dict[str, Any]] = []
    failing: list[str] = []
    plain_allow = False
    for st in statements_of(doc):
        if not isinstance(st, dict) or not _applies(st):
            continue
        if st.get("Effect") == "Deny":
            if not st.get("Condition"):
                return TrustAssessment(DENIED, ("an explicit Deny statement"
                                                + (f" ({st['Sid']})" if st.get("Sid") else "")
                                                + " applies; a Deny wins over any Allow",))
            deny_conditions.append(st["Condition"])  # a conditional Deny: cannot tell
            continue
        if st.get("Effect") != "Allow":
            continue
        cond = st.get("Condition")
        if not cond:
            plain_allow = True
            continue
        why = condition_certainly_fails(cond, account) if isinstance(cond, dict) else None
        if why:
            failing.append(why)
        else:
            conditioned.append(cond)
    if plain_allow and not deny_conditions:
        return TrustAssessment(TRUSTS)
    if deny_conditions and (plain_allow or conditioned or failing):
        return TrustAssessment(CONDITION_UNKNOWN, (
            "a Deny statement for CloudFormation has a Condition recover cannot evaluate: "
            + json.dumps(deny_conditions, sort_keys=True),),
            tuple(c for c in deny_conditions if isinstance(c, dict)))
    if conditioned:
        shown = tuple(c for c in conditioned if isinstance(c, dict))
        return TrustAssessment(CONDITION_UNKNOWN, (
            "its statement for CloudFormation has a Condition recover cannot evaluate: "
            + json.dumps(conditioned, sort_keys=True),), shown)
    if failing:
        return TrustAssessment(CONDITION_FAILS, tuple(
            f"the only statement allowing it has a condition that cannot hold: {w}"
            for w in failing))
    return TrustAssessment(NO_STATEMENT, ("no statement allows cloudformation.amazonaws.com to "
                                          "call sts:AssumeRole",))
