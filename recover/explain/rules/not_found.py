"""The resource CloudFormation acts on is gone (deleted out of band)."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import DELETE_FAILED, FailureMode


def _not_found(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    strong = (str(msg.fields.get("handler_error_code", "")).lower() == "notfound"
              or str(msg.fields.get("resource_status", "")).startswith(("UPDATE_", "DELETE_")))
    if not strong:
        out["_confidence"] = "medium"
    if str(msg.fields.get("resource_status", "")).startswith("DELETE_"):
        out["_runbook"] = DELETE_FAILED
    what = re.search(r"(?:The |the )?(?:[\w-]+ )?(?:with (?:id|name|identifier) )?['\"\[]([^'\"\]]+)['\"\]] "
                     r"(?:does not exist|not found|could not be found)", msg.text)
    if what:
        out["missing"] = what.group(1)
    return out


E_NOT_FOUND = (
    "The resource CloudFormation tried to change{what_at} no longer exists: it was deleted or "
    "changed outside CloudFormation. During a rollback CloudFormation cannot put it back, which "
    "leaves the stack in UPDATE_ROLLBACK_FAILED. Recreate it with the same name and properties "
    "(docs/reference/aws-behaviour.md#why-a-rollback-fails) and continue the rollback, or skip it (runbook rollback-stuck, which "
    "records what a skip leaves inconsistent).")


RULES: tuple[Rule, ...] = family(
    "not_found",
    Rule("resource-not-found", FailureMode.RESOURCE_DELETED_OUT_OF_BAND, 50, E_NOT_FOUND,
         when(r"\bdoes ?n[o']t exist\b", r"\bnot found\b", r"could not be found", r"\bno such\b",
              r"\bcannot find\b", r"\bcannot be found\b", r"\bcould not find\b", r"\bNoSuch[A-Z]\w*", r"NotFound",
              codes=("NotFound", "ResourceNotFoundException", "ResourceNotFound", "NoSuchEntity",
                     "NoSuchBucket", "NotFoundException"), extract=_not_found),
         examples=('Resource handler returned message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:fn" (RequestToken: 1, HandlerErrorCode: NotFound)',)),
)
