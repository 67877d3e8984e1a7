"""Messages that are not a cause: a parent relaying a nested stack's failure, summaries, cancellations."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import STACK_ARN_RE, Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import DELETE_FAILED, FailureMode, Kind


def _embedded(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m:
        arn = STACK_ARN_RE.search(m.group(1))
        if arn:
            out["child_stack_arn"], out["child_stack_name"] = arn.group(0), arn.group(1)
        out["operation"] = (m.group(2) or "updated").lower()
        if msg.fields.get("stack_arn") is None:
            out["_drop"] = ("stack_arn", "stack_name")  # the only stack named is the child
    return out


def _summary(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    verbs = re.findall(r"failed to (create|update|delete)", msg.text, re.I)
    out: dict[str, Any] = {"summary": True, "operation": verbs[0].lower() if verbs else None}
    if verbs and all(v.lower() == "delete" for v in verbs):
        out["_runbook"] = DELETE_FAILED
    elif verbs and all(v.lower() == "create" for v in verbs) and "rollback" in msg.text.lower():
        out["_runbook"] = None  # a failed create rolls back on its own (no stuck state)
    # A summary naming child stacks points at nested failures; otherwise it is only a summary.
    names = re.findall(r"\[([^\]]*)\]?", msg.text)
    if any(re.search(r"Stack(?:[A-Z0-9][A-Za-z0-9]*)?$|NestedStack", n.strip())
           for body in names for n in body.split(",")):
        out["_confidence"] = "medium"
    return {k: v for k, v in out.items() if v is not None or k.startswith("_")}


E_EMBEDDED = (
    "This is the parent's view of a nested stack failure: the child stack {child_stack_name} "
    "was not successfully {operation}{because}. The parent only relays it; the real reason is in "
    "the child's own events (`recover diagnose` walks the whole tree). When the tree ends in "
    "UPDATE_ROLLBACK_FAILED, runbook rollback-stuck continues the rollback from the root.")


E_SUMMARY = (
    "This is a summary, not a cause: CloudFormation lists the resources that failed to "
    "{operation} ({logical_ids}). Each of them has its own event with the real reason; read those "
    "(`recover diagnose STACK` does it for the whole tree) and explain them one by one.")


E_CLEANUP = (
    "The operation itself finished; only the clean-up could not delete some old or replaced "
    "resources, which are no longer part of the stack and now exist on their own. Read their "
    "DELETE_FAILED events for the reason and delete them by hand (or leave them).")


E_CANCELLED = (
    "This resource did not fail by itself: CloudFormation cancelled its operation because another "
    "resource failed. Look for the resource with a real failure reason in the same operation.")


RELAYS: tuple[Rule, ...] = family(
    "consequences",
    Rule("nested-stack-failed", FailureMode.NESTED_STACK_FAILURE, 20, E_EMBEDDED,
         when(r"Embedded stack (\S+) was not successfully (created|updated|deleted)",
              r"Nested stack (\S+) (?:failed|was not successfully) ?(created|updated|deleted)?",
              extract=_embedded),
         defaults={"child_stack_name": "(see the ARN)", "operation": "updated"},
         examples=('Embedded stack arn:aws:cloudformation:us-east-1:123456789012:stack/app-Db-1AB2/1a2b was not successfully updated. Currently in UPDATE_ROLLBACK_FAILED with reason: The following resource(s) failed to update: [Table].',),
         kind=Kind.CONSEQUENCE),
)

# Last in the catalog: a message naming a real cause anywhere in it is that cause.
RULES: tuple[Rule, ...] = family(
    "consequences",
    Rule("cleanup-delete-failed", FailureMode.CLEANUP_FAILED, 12, E_CLEANUP,
         when(r"One or more resources could not be deleted"), confidence="medium",
         examples=('Update successful. One or more resources could not be deleted.',),
         kind=Kind.CONSEQUENCE),
    Rule("failure-summary", FailureMode.NESTED_STACK_FAILURE, 15, E_SUMMARY,
         when(r"The following resource\(?s?\)? failed to (?:create|update|delete)", extract=_summary),
         confidence="low", defaults={"logical_ids": "see the message", "operation": "complete"},
         examples=('The following resource(s) failed to delete: [LogsBucket, WebSG].',),
         kind=Kind.SUMMARY),
    Rule("cancelled-by-other-failure", FailureMode.CANCELLED, 5, E_CANCELLED,
         when(r"^Resource (?:creation|update|deletion) cancelled",
              r"\bResource (?:creation|update|deletion) cancelled\W*$"),
         examples=('Resource update cancelled', 'Resource creation cancelled'),
         kind=Kind.CONSEQUENCE),
)
