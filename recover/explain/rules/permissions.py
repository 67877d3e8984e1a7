"""Permissions and credentials."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.fields import iam_prefix
from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode


def _call_on(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    """Lambda's `... does not have permissions to call CreateNetworkInterface on EC2`."""
    call = re.search(r"permissions? to call (\w+) on ([\w ]+?)(?:[.,]|$)", msg.text)
    if call and "iam_action" not in msg.fields:
        return {"iam_action": f"{call.group(2).strip().lower().replace(' ', '')}:{call.group(1)}"}
    return {}


def _denied_op(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    op = re.search(r"(?:for|on) operation '?([A-Za-z0-9]+)'?", msg.text)
    if op:
        out["denied_operation"] = op.group(1)
        prefix = iam_prefix(msg.fields.get("resource_type"))
        if prefix:
            out["iam_action"] = f"{prefix}:{op.group(1)}"
    return out


E_DENIED = (
    "The caller{principal_at} is not allowed to perform {iam_action}{resource_at}{denied_at}. "
    "CloudFormation acts with the stack's service role if it has one, otherwise with the "
    "credentials of whoever started the operation. Grant that action to that principal (or lift "
    "the deny in the SCP, permissions boundary or resource policy), then retry the operation; no "
    "resource needs to change.")


E_ACCESS_DENIED = (
    "AWS denied a call{op_at}: the credentials CloudFormation used (the stack's service role, or "
    "the caller's) lack a permission, or a resource policy, SCP, permissions boundary or KMS key "
    "policy denies it. Find the denied action in CloudTrail (errorCode AccessDenied) and grant "
    "it, then retry the operation.")


E_LAMBDA_ROLE = (
    "The service could not assume the role given to the resource (for Lambda: the function's "
    "execution role). Its trust policy must allow the service principal (lambda.amazonaws.com) "
    "to sts:AssumeRole; right after the role is created or changed, IAM may simply not have "
    "propagated yet. Fix the trust policy (or wait a minute) and retry. This is the resource's "
    "role, not the stack's CloudFormation service role.")


E_CREDENTIALS = (
    "The request's credentials were expired or invalid, not missing a permission. Refresh the "
    "credentials (or the role session) and retry; if CloudFormation itself hit this during a "
    "rollback, continuing the rollback uses fresh credentials (docs/reference/aws-behaviour.md#why-a-rollback-fails).")


RULES: tuple[Rule, ...] = family(
    "permissions",
    Rule("iam-not-authorized", FailureMode.PERMISSION_DENIED, 55, E_DENIED,
         when(r"not authorized to perform", r"API: [a-z0-9-]+:\w+ ", r"explicit deny",
              r"(?:do not|don't) have (?:the )?permissions? to",
              r"does not have (?:the )?(?:required |necessary |sufficient )?permissions? to",
              extract=_call_on),
         defaults={"iam_action": "the action"},
         examples=('User: arn:aws:sts::123456789012:assumed-role/Dev/jo is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/x',)),
    Rule("lambda-role-not-assumable", FailureMode.PERMISSION_DENIED, 50, E_LAMBDA_ROLE,
         when(r"role defined for the function cannot be assumed by Lambda",
              r"cannot be assumed by (?:Lambda|the service|[\w.]+\.amazonaws\.com)"),
         confidence="medium",
         examples=('The role defined for the function cannot be assumed by Lambda.',)),
    Rule("credentials-invalid", FailureMode.PERMISSION_DENIED, 45, E_CREDENTIALS,
         when(r"security token included in the request is (?:invalid|expired)",
              r"\b(?:ExpiredToken|InvalidClientTokenId|UnrecognizedClientException)\b",
              codes=("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                     "UnrecognizedClientException")), confidence="medium",
         examples=('The security token included in the request is expired',)),
    Rule("access-denied", FailureMode.PERMISSION_DENIED, 50, E_ACCESS_DENIED,
         when(r"\baccess ?denied\b", r"\bUnauthorizedOperation\b", r"You are not authorized",
              r"\bnot authorized\b", r"insufficient (?:permissions|privileges)",
              codes=("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                     "AuthorizationError", "Forbidden", "UnauthorizedException"), extract=_denied_op),
         examples=('Resource handler returned message: "Access denied for operation \'ScheduleKeyDeletion\'." (RequestToken: 1, HandlerErrorCode: AccessDenied)',)),
)
