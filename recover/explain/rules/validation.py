"""Template and request validation: nothing was touched."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, reason, when
from recover.explain.taxonomy import FailureMode


def _caps(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    caps = re.findall(r"CAPABILITY_\w+", msg.text)
    return {"capabilities": ", ".join(dict.fromkeys(caps)) or "see the message"}


E_CAPABILITIES = (
    "The template needs capabilities the request did not acknowledge ({capabilities}). Add them "
    "(--capabilities) and deploy again; nothing in AWS changed.")


E_TEMPLATE = (
    "CloudFormation rejected the template before touching any resource: {reason}. Fix the "
    "template and deploy again.")


RULES: tuple[Rule, ...] = family(
    "validation",
    Rule("template-invalid", FailureMode.TEMPLATE_INVALID, 45, E_TEMPLATE,
         when(r"^Template (?:format )?error", r"Unresolved resource dependencies",
              r"^Invalid template", r"Template format error", r"TemplateURL must be",
              r"Property validation failure", r"Encountered unsupported propert",
              r"Properties validation failed", r"template validation failed",
              r"Invalid template (?:resource )?property", r"Unrecognized resource types?",
              r"extraneous key \[", r"required key \[[^\]]*\] not found",
              extract=reason),
         examples=('Template format error: Unresolved resource dependencies [Foo] in the Resources block of the template',
                   'Property validation failure: [Encountered unsupported properties in {/}: [Username]]')),
    Rule("requires-capabilities", FailureMode.TEMPLATE_INVALID, 45, E_CAPABILITIES,
         when(r"Requires capabilities", codes=("InsufficientCapabilitiesException",),
              extract=_caps),
         examples=('Requires capabilities : [CAPABILITY_AUTO_EXPAND]',)),
)
