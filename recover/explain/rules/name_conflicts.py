"""Names already taken: resources, stacks, exports, request tokens; exports still imported."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, reason, when
from recover.explain.taxonomy import FailureMode


def _export(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    return {"export_name": m.group(1), "importing_stack": m.group(2)} if m else {}


E_EXPORT = (
    "The stack output export {export_name} cannot be removed because stack {importing_stack} "
    "imports it (Fn::ImportValue). Remove or change the import in {importing_stack} first, then "
    "retry; when deleting, runbook delete-failed can retain what is blocked instead.")


E_TOKEN = (
    "The ClientRequestToken of this call was already used by an earlier request, so CloudFormation "
    "refused to treat it as a new operation. If the earlier call is the same operation, it is "
    "already under way (watch the stack's events); otherwise retry with a new token.")


E_EXPORT_TAKEN = (
    "Export names are unique per account and Region, and {export_name} is already exported by "
    "stack {importing_stack}. Rename the export (or remove it from the other stack first), then "
    "deploy again.")


E_CONFLICT = (
    "The new resource conflicts with one that already exists ({reason}): an address range, a "
    "name or a setting held by something else. Free it or choose another value, then retry.")


E_ALREADY = (
    "A resource with the same name/identifier already exists outside this stack (often left "
    "behind, retained or DELETE_SKIPPED, by an earlier failed attempt, or owned by another "
    "stack). Delete it, import it into the stack, or give the new resource another name, then "
    "retry.")


RULES: tuple[Rule, ...] = family(
    "name_conflicts",
    Rule("export-in-use", FailureMode.DELETE_BLOCKED_DEPENDENCY, 55, E_EXPORT,
         when(r"Export (\S+) cannot be (?:deleted|updated|modified) as it is in use by (\S+?)\.?$",
              extract=_export),
         examples=('Export net:VpcId cannot be deleted as it is in use by app-stack',)),
    Rule("export-name-taken", FailureMode.NAME_CONFLICT, 55, E_EXPORT_TAKEN,
         when(r"Export with name (\S+) is already exported by stack (\S+)", extract=_export),
         examples=("Export with name net:VpcId is already exported by stack net-old",)),
    Rule("client-token-reused", FailureMode.NAME_CONFLICT, 35, E_TOKEN,
         when(r"client request token already exists", codes=("TokenAlreadyExistsException",)),
         examples=('A client request token already exists.',)),
    Rule("already-exists", FailureMode.NAME_CONFLICT, 45, E_ALREADY,
         when(r"\balready exists?\b", r"\balready (?:in use|taken|registered)\b", codes=("AlreadyExists", "AlreadyExistsException",
                                              "EntityAlreadyExists", "ResourceExistsException")),
         examples=('orders-table already exists in stack arn:aws:cloudformation:us-east-1:123456789012:stack/old/1a2b',)),
    Rule("conflicts-with-existing", FailureMode.NAME_CONFLICT, 45, E_CONFLICT,
         when(r"\bconflicts? with (?:an? |the )?(?:another|existing|other)\b",
              r"\b[A-Z]\w*\.Conflict\b", extract=reason), confidence="medium",
         examples=("The CIDR '10.0.0.0/16' conflicts with another subnet",)),
)
