"""What to do by default with a resource that failed during a rollback (pure).

One judgement serves the interactive prompt's default answer and unattended
`--skip-unrecoverable`, so both choose alike:

- a failure a retry can fix (throttling, a transient service error, a cause now remedied such as
  a dependency gone) → retry: continuing the rollback re-attempts it, nothing else changes;
- a failure that cannot succeed on a retry (an irreversible change such as an engine downgrade,
  a resource deleted out of band, a value the service now refuses) → skip, with its follow-up;
- one that succeeds once something outside the stack is fixed (a permission, a quota) or that
  recover cannot judge → retry by default when asked (a retry that fails again changes nothing,
  a skip leaves the resource and the template disagreeing), skip under --skip-unrecoverable
  (recover cannot fix it itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recover.decide.findings import Finding
from recover.explain.taxonomy import Outlook, retry_outlook

# docs/reference/aws-behaviour.md#why-a-rollback-fails causes for which "no change needed;
# continue" is the documented fix, recognised in the reason when the mode alone does not say so.
RETRY_ONLY = re.compile(
    r"rate exceeded|throttl|did not stabili[sz]e|not stabilized|security token|token included in "
    r"the request is (?:invalid|expired)|internal failure|service unavailable|try again",
    re.IGNORECASE)

RETRY = "retry"
SKIP = "skip"


@dataclass(frozen=True)
class Judgement:
    default: str  # RETRY or SKIP: the answer offered first
    automatic: bool  # True: safe to decide without asking (a retry that needs no change)
    reason: str  # shown beside the default

    @property
    def unrecoverable(self) -> bool:
        return self.default == SKIP


def judge(finding: Finding) -> Judgement:
    """The default for a resource that failed during the rollback (not its forward failure)."""
    mode = finding.failure_mode.value
    if finding.remedied:
        return Judgement(RETRY, True, f"its cause is fixed ({finding.remedied}): continuing the "
                                      "rollback re-attempts it, no skip needed")
    outlook = retry_outlook(finding.failure_mode)
    if outlook is Outlook.RETRY_WORKS or RETRY_ONLY.search(finding.reason):
        return Judgement(RETRY, True, f"{mode} is transient (docs/reference/aws-behaviour.md"
                                      "#why-a-rollback-fails): continuing the rollback re-attempts "
                                      "it, no change needed")
    if outlook is Outlook.CANNOT_SUCCEED:
        return Judgement(SKIP, False, f"{mode}: a retry sends the same request and fails the same "
                                      "way; skip it and do the follow-up")
    if outlook is Outlook.FIX_THEN_RETRY:
        return Judgement(RETRY, False, f"{mode}: fix it outside recover first, then a retry can "
                                       "succeed")
    return Judgement(RETRY, False, f"{mode}: recover cannot tell whether a retry can succeed; a "
                                   "retry that fails again changes nothing, a skip cannot be undone")
