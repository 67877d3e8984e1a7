"""References to things that do not exist (configuration errors, not resources that vanished)."""

from __future__ import annotations

from recover.explain.rules.base import Rule, family, reason, when
from recover.explain.taxonomy import FailureMode

E_STACK_NOT_FOUND = (
    "CloudFormation found no such stack (or no such resource in that stack) in this account and "
    "region: check --region, the account, the name "
    "(deleted stacks are only reachable by stack ARN). In a ContinueUpdateRollback skip list the "
    "prefix must be the child stack's real name, not its logical id (docs/reference/aws-behaviour.md#resourcestoskip-rules).")


E_REFERENCED = (
    "The template (or a parameter) refers to something that does not exist or cannot be used "
    "here: {reason}. This is a configuration error, not a resource of the stack that vanished; "
    "fix the reference (ARN, id, name, region) and deploy again.")


RULES: tuple[Rule, ...] = family(
    "references",
    Rule("referenced-object-missing", FailureMode.INVALID_REFERENCE, 45, E_REFERENCED,
         when(r"does not exist or is not attachable", r"\bKey ?Id could not be found",
              r"\b(?:image|AMI|snapshot|certificate|hosted zone|key pair|subnet group|parameter)"
              r"\b.{0,60}(?:does not exist|not found|could not be found|is invalid)",
              r"^Unable to fetch parameters", r"^Invalid \w+ ?(?:id|ID|Id)\b", r"No export named",
              extract=reason),
         examples=('Policy arn:aws:iam::aws:policy/Gone does not exist or is not attachable.',)),
    Rule("stack-not-found", FailureMode.INVALID_REFERENCE, 35, E_STACK_NOT_FOUND,
         when(r"^Stack (?:with id )?\[?([A-Za-z][-A-Za-z0-9:/]*)\]? does not exist",
              r"^Resource \S+ does not exist for stack (\S+)",
              extract=lambda m, msg: {"stack_name": m.group(1)} if m else {}),
         examples=('Stack with id app does not exist',)),
)
