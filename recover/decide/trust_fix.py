"""The smallest trust change that lets CloudFormation assume an existing service role (pure:
no AWS call, no boto3). The judgement of a document is recover/model/trust_policy.py.

The fix adds ONE statement (Sid RecoverAllowCloudFormation) allowing
cloudformation.amazonaws.com to call sts:AssumeRole, and keeps every existing statement as it
was (docs/reference/aws-behaviour.md#iam-trust-policy-update).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from recover.model.trust_policy import (  # noqa: F401 - re-exported for the runbook
    CONDITION_FAILS,
    CONDITION_UNKNOWN,
    DENIED,
    NO_STATEMENT,
    PRINCIPAL,
    TRUSTS,
    UNREADABLE,
    TrustAssessment,
    assess_trust,
    parse_document,
    statements_of,
)

FIX_SID = "RecoverAllowCloudFormation"
FIX_STATEMENT: dict[str, Any] = {"Sid": FIX_SID, "Effect": "Allow",
                                 "Principal": {"Service": PRINCIPAL}, "Action": "sts:AssumeRole"}


class TrustFixError(ValueError):
    """The trust cannot be fixed by adding a statement (an explicit Deny, an unreadable
    document): one line for people."""


def fixed_trust(document: Any, account: str = "") -> dict[str, Any]:
    """The original document plus one statement allowing CloudFormation (every existing
    statement kept, in order). Raises TrustFixError when adding a statement cannot help."""
    doc = parse_document(document)
    verdict = assess_trust(document, account)
    if doc is None or verdict.verdict == UNREADABLE:
        raise TrustFixError("the role's trust policy cannot be read: fix it by hand")
    if verdict.verdict == DENIED:
        raise TrustFixError("the role's trust policy " + verdict.summary() + ": remove that "
                            "statement by hand (recover only adds statements)")
    out = copy.deepcopy(doc)
    out.setdefault("Version", "2012-10-17")
    statements = statements_of(out)
    sids = {st.get("Sid") for st in statements if isinstance(st, dict)}
    added = dict(FIX_STATEMENT)
    n = 1
    while added["Sid"] in sids:  # Sids must be unique within a policy
        n += 1
        added["Sid"] = f"{FIX_SID}{n}"
    out["Statement"] = [*statements, added]
    return out


def canonical(document: Any) -> str:
    """The document as compact JSON with sorted keys (to compare what IAM returns with what
    was planned, whatever the order or spacing)."""
    return json.dumps(parse_document(document), sort_keys=True, separators=(",", ":"))
