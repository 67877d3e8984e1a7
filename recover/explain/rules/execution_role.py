"""The stack's service role or the CDK bootstrap is gone: every operation on the stack fails."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode


def _role(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m and m.group(1).startswith("arn:"):
        out["role_arn"] = m.group(1)
        out["role_name"] = m.group(1).rsplit("/", 1)[-1]
        q = re.match(r"cdk-([A-Za-z0-9_#-]{1,10})-cfn-exec-role-", out["role_name"])
        if q:
            out["cdk_qualifier"] = q.group(1)
    return out


def _bootstrap(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m and m.group(1).startswith("/"):
        out["ssm_parameter"] = m.group(1)
        q = re.search(r"/cdk-bootstrap/([^/\s]+)/", m.group(1))
        if q:
            out["cdk_qualifier"] = q.group(1)
    return out


def _bootstrap_role(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out = _role(m, msg) if m and m.group(1) else {}
    q = re.search(r"role/cdk-([A-Za-z0-9_-]{1,10})-(?:deploy|lookup|file-publishing|image-publishing|"
                  r"cfn-exec)-role", msg.text)
    if q:
        out["cdk_qualifier"] = q.group(1)
    return out


E_ROLE = (
    "CloudFormation refused the operation because the stack's service role {role_arn} no longer "
    "exists or no longer trusts cloudformation.amazonaws.com. A role given once as RoleARN is "
    "used for every later operation on the stack and cannot be removed (docs/reference/aws-behaviour.md#service-roles-rolearn), "
    "so every update, rollback and delete fails this way, typically after the CDK bootstrap "
    "stack or the role was deleted. Recreate a role with the same name and path that trusts "
    "CloudFormation (`recover bootstrap-role STACK`), then retry the blocked operation.")


E_BOOTSTRAP = (
    "The SSM parameter {ssm_parameter} that every CDK-synthesized template reads as its "
    "BootstrapVersion is missing, which means the CDK bootstrap stack (CDKToolkit, qualifier "
    "{cdk_qualifier}) was deleted or never deployed in this account and region ("
    "docs/reference/aws-behaviour.md#cdk-bootstrap). Deleting it also deletes the cfn-exec-role the app's stacks run as, so stacks already "
    "deployed are blocked too: to deploy again run `cdk bootstrap` with the same qualifier; to "
    "roll back or delete an existing stack, recreate its execution role (runbook "
    "bootstrap-role).")


E_BOOTSTRAP_ROLE = (
    "The CDK CLI could not assume the bootstrap role {role_arn}: the role is missing (the "
    "CDKToolkit bootstrap stack, qualifier {cdk_qualifier}, was deleted or never deployed here) "
    "or no longer trusts your account. When the bootstrap stack is gone, the cfn-exec-role that "
    "deployed stacks run as is gone too. To deploy again, re-run `cdk bootstrap` with the same "
    "qualifier; to roll back or delete a stack blocked by its missing execution role, recreate "
    "that role (runbook bootstrap-role).")


RULES: tuple[Rule, ...] = family(
    "execution_role",
    Rule("execution-role-invalid", FailureMode.EXECUTION_ROLE_MISSING, 60, E_ROLE,
         when(r"Role (\S+?) is invalid or cannot be assumed", extract=_role),
         defaults={"role_arn": "(named in the message)"},
         examples=('Role arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1 is invalid or cannot be assumed',)),
    Rule("cdk-bootstrap-missing", FailureMode.EXECUTION_ROLE_MISSING, 60, E_BOOTSTRAP,
         when(r"Unable to fetch parameters \[(/cdk-bootstrap/[^\]]+)\]",
              r"SSM parameter (/cdk-bootstrap/\S+) not found",
              r"(/cdk-bootstrap/[^\s\]]+)\S* (?:not found|does not exist)",
              r"doesn't have the CDK toolkit stack \((\S+)\) installed", extract=_bootstrap),
         confidence="medium", defaults={"cdk_qualifier": "hnb659fds unless customised",
                                        "ssm_parameter": "/cdk-bootstrap/<qualifier>/version"},
         examples=('Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from parameter store for this account.',)),
    Rule("cdk-bootstrap-role-unassumable", FailureMode.EXECUTION_ROLE_MISSING, 55, E_BOOTSTRAP_ROLE,
         when(r"could not be used to assume '?(arn:aws[-a-z]*:iam::[^'\s]*:role/cdk-[^'\s]+?)'?[,.\s]",
              r"assume role in target account.{0,400}?(arn:aws[-a-z]*:iam::\S*:role/cdk-[^\s'.]+)",
              r"Please make sure that this role exists in the account()",
              extract=_bootstrap_role), confidence="medium",
         defaults={"role_arn": "(a CDK bootstrap role)", "cdk_qualifier": "hnb659fds unless customised"},
         examples=("current credentials could not be used to assume 'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-us-east-1', but are for the right account. Proceeding anyway.",)),
)
