"""CloudFormation Hooks: a hook in FAIL mode found the resource non-compliant (or errored) and
stopped its provisioning (docs/reference/aws-behaviour.md#stack-operations-and-operation-events).
Nothing is wrong with AWS or the stack: the template (or the hook's configuration) must change."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode


def _hooks(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    listed = re.search(r"hook\(s\) failed: \[([^\]]+)\]", msg.text, re.I)
    if listed:
        out["hooks"] = listed.group(1).strip()
    rules = re.search(r"the following rule\(s\) failed: ([\w, -]+)", msg.text, re.I)
    if rules:
        out["rules"] = rules.group(1).strip().rstrip(".")
    out.setdefault("hooks", "the hook named in the stack events")
    return out


E_HOOK = (
    "A CloudFormation Hook in FAIL mode refused this resource ({hooks}) before CloudFormation "
    "provisioned it: the hook judged the resource non-compliant, or the hook itself failed. "
    "Read the hook's verdict (`recover diagnose STACK` shows GetHookResult's reason and "
    "annotations), change the resource in the template to comply and deploy again; or, if the "
    "hook is wrong, have its owner fix it or set it to WARN. Retrying unchanged fails the same "
    "way.")


RULES: tuple[Rule, ...] = family(
    "hooks",
    Rule("hook-failed", FailureMode.HOOK_FAILURE, 55, E_HOOK,
         when(r"The following hook\(s\) failed", r"^Hook failed with message",
              r"\bhook\b.*\b(?:HOOK_COMPLETE_FAILED|HOOK_FAILED)\b", extract=_hooks),
         examples=("The following hook(s) failed: [Example::Security::S3Hook]",
                   "Hook failed with message: Template failed validation, the following rule(s) "
                   "failed: AWS_S3_Bucket_AccessControl.")),
)
