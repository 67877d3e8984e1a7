"""What the CDK bootstrap template (version 32) says about the CloudFormation execution role.

Source: aws/aws-cdk-cli packages/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml (a copy is
in ../shared/data/cdk/bootstrap-template.yaml; docs/reference/aws-behaviour.md#cdk-bootstrap), resource
`CloudFormationExecutionRole`. tests/cdk/test_cdk_bootstrap_facts.py parses that file and checks
every constant below against it, so a template change cannot drift past unnoticed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any

TEMPLATE_VERSION = "32"  # CdkBootstrapVersion / output BootstrapVersion
DEFAULT_QUALIFIER = "hnb659fds"  # Parameters.Qualifier.Default
QUALIFIER_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,10}$")  # Parameters.Qualifier.AllowedPattern
TOOLKIT_STACK = "CDKToolkit"  # the CDK CLI's default toolkit stack name (docs/reference/aws-behaviour.md#cdk-bootstrap)

# RoleName: Fn::Sub cdk-${Qualifier}-cfn-exec-role-${AWS::AccountId}-${AWS::Region}
EXEC_ROLE_NAME = "cdk-{qualifier}-cfn-exec-role-{account}-{region}"
EXEC_ROLE_NAME_PATTERN = re.compile(r"^cdk-(?P<qualifier>[A-Za-z0-9_-]{1,10})-cfn-exec-role-"
                                    r"(?P<account>\d{12})-(?P<region>[a-z0-9-]+)$")
# The role has no Path property: CloudFormation creates it under "/".
EXEC_ROLE_PATH = "/"

# AssumeRolePolicyDocument: only the CloudFormation service may assume it.
EXEC_ROLE_TRUST: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                   "Principal": {"Service": "cloudformation.amazonaws.com"}}],
}
# ManagedPolicyArns when neither CloudFormationExecutionPolicies nor TrustedAccounts is set.
DEFAULT_EXEC_POLICY = "arn:{partition}:iam::aws:policy/AdministratorAccess"
# PermissionsBoundary when InputPermissionsBoundary is set (a policy NAME in the account).
PERMISSIONS_BOUNDARY_ARN = "arn:{partition}:iam::{account}:policy/{name}"
# The example boundary the template can create (UseExamplePermissionsBoundary).
EXAMPLE_BOUNDARY_NAME = "cdk-{qualifier}-permissions-boundary-{account}-{region}"


def exec_role_name(qualifier: str, account: str, region: str) -> str:
    return EXEC_ROLE_NAME.format(qualifier=qualifier, account=account, region=region)


def default_exec_policy(partition: str = "aws") -> str:
    return DEFAULT_EXEC_POLICY.format(partition=partition)


def boundary_arn(name: str, account: str, partition: str = "aws") -> str:
    return PERMISSIONS_BOUNDARY_ARN.format(partition=partition, account=account, name=name)


def bootstrap_command(account: str, region: str, qualifier: str,
                      policy_arns: Sequence[str] = (), boundary_name: str | None = None) -> str:
    """The `cdk bootstrap` line that recreates the whole bootstrap stack (roles, bucket, SSM
    parameter) the way the CDK CLI expects it. Flags are the CDK CLI's own."""
    parts = ["cdk", "bootstrap", f"aws://{account}/{region}"]
    if qualifier != DEFAULT_QUALIFIER:
        parts += ["--qualifier", qualifier]
    if policy_arns:
        parts += ["--cloudformation-execution-policies", ",".join(policy_arns)]
    if boundary_name:
        parts += ["--custom-permissions-boundary", boundary_name]
    return " ".join(shlex.quote(p) for p in parts)
