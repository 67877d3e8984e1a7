"""Account and service quotas and limits."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode


def _what(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    w = re.search(r"(?:maximum number of|Limit for|limit for|number of)\s+([\w -]+?)"
                  r"(?:\s+(?:has|have|was|were|is|reached|exceeded|per)\b|[.,(]|$)", msg.text)
    return {"limit": w.group(1).strip()} if w else {}


E_LIMIT = (
    "An account or service quota was reached{what_at}, so AWS refused to create more. Delete "
    "unused resources or request a higher quota (Service Quotas console), then retry; during a "
    "rollback, continue it once there is room (docs/reference/aws-behaviour.md#why-a-rollback-fails).")


RULES: tuple[Rule, ...] = family(
    "quotas",
    Rule("limit-exceeded", FailureMode.LIMIT_EXCEEDED, 55, E_LIMIT,
         when(r"LimitExceeded", r"\blimits? (?:for [\w -]+ )?(?:has been |have been |was |is )?"
              r"(?:exceeded|reached)", r"Limit for [\w -]+ (?:has been |was )?exceeded",
              r"maximum number of", r"\bquota\b", r"exceeds? (?:the |your )?(?:maximum|limit)",
              r"exceeded (?:the |your )?(?:maximum|limit|number|quota|allowed)",
              r"\blimit\b.{0,60}\bexceeded\b", r"below its minimum value",
              r"\btoo many (?!requests)\w+",
              r"vCPU (?:capacity|limit)", r"not eligible for Free Tier", r"storage limit",
              # CloudFormation's own per-template quotas arrive as a "Template format error"
              r"Number of [\w ]+, \d+, is greater than (?:the )?maximum allowed",
              codes=("LimitExceededException", "ServiceQuotaExceededException",
                     "CodeStorageExceededException", "AddressLimitExceeded",
                     "VcpuLimitExceeded", "InstanceLimitExceeded", "ServiceLimitExceeded"),
              extract=_what),
         examples=('The maximum number of VPCs has been reached.',
                   'Template format error: Number of resources, 501, is greater than maximum '
                   'allowed, 500')),
)
