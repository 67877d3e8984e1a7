"""The CDK bootstrap facts recover embeds (recover/cdk/bootstrap.py) against the real template
(../shared/data/cdk/bootstrap-template.yaml, v32), parsed with the CloudFormation-aware loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recover.cdk import bootstrap as cdk
from recover.model.cfn_template import parse_template


@pytest.fixture
def template(shared_data: Path) -> dict[str, Any]:
    return parse_template((shared_data / "cdk" / "bootstrap-template.yaml").read_text())


def _sub(value: Any) -> str:
    assert isinstance(value, dict) and set(value) == {"Fn::Sub"}, value
    return str(value["Fn::Sub"])


def _render(text: str, **values: str) -> str:
    for key, val in values.items():
        text = text.replace("${" + key + "}", val)
    return text


def test_exec_role_trust_is_the_templates(template: dict[str, Any]) -> None:
    role = template["Resources"]["CloudFormationExecutionRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"] == cdk.EXEC_ROLE_TRUST
    assert "Path" not in role  # so the role lives under "/"
    assert cdk.EXEC_ROLE_PATH == "/"
    assert "Policies" not in role  # no inline policy to recreate


def test_exec_role_name_and_qualifier(template: dict[str, Any]) -> None:
    role = template["Resources"]["CloudFormationExecutionRole"]["Properties"]
    name = _render(_sub(role["RoleName"]), Qualifier="q1", **{"AWS::AccountId": "123456789012",
                                                             "AWS::Region": "eu-west-1"})
    assert name == cdk.exec_role_name("q1", "123456789012", "eu-west-1")
    assert cdk.EXEC_ROLE_NAME_PATTERN.match(name).group("qualifier") == "q1"  # type: ignore[union-attr]
    qualifier = template["Parameters"]["Qualifier"]
    assert qualifier["Default"] == cdk.DEFAULT_QUALIFIER
    assert "^" + qualifier["AllowedPattern"] + "$" == cdk.QUALIFIER_PATTERN.pattern


def test_default_policy_is_administrator_access(template: dict[str, Any]) -> None:
    managed = template["Resources"]["CloudFormationExecutionRole"]["Properties"]["ManagedPolicyArns"]
    # Fn::If [HasCloudFormationExecutionPolicies, Ref policies, Fn::If [HasTrustedAccounts,
    #         NoValue, [AdministratorAccess]]]
    cond, given, fallback = managed["Fn::If"]
    assert cond == "HasCloudFormationExecutionPolicies"
    assert given == {"Ref": "CloudFormationExecutionPolicies"}
    _, _, default = fallback["Fn::If"]
    [arn] = default
    assert _render(_sub(arn), **{"AWS::Partition": "aws"}) == cdk.default_exec_policy("aws")


def test_permissions_boundary_form(template: dict[str, Any]) -> None:
    boundary = template["Resources"]["CloudFormationExecutionRole"]["Properties"][
        "PermissionsBoundary"]
    cond, arn, _ = boundary["Fn::If"]
    assert cond == "PermissionsBoundarySet"
    rendered = _render(_sub(arn), InputPermissionsBoundary="my-boundary",
                       **{"AWS::Partition": "aws", "AWS::AccountId": "123456789012"})
    assert rendered == cdk.boundary_arn("my-boundary", "123456789012")


def test_template_version(template: dict[str, Any]) -> None:
    assert template["Resources"]["CdkBootstrapVersion"]["Properties"]["Value"] == \
        cdk.TEMPLATE_VERSION
    assert template["Outputs"]["BootstrapVersion"]["Value"] == cdk.TEMPLATE_VERSION


def test_bootstrap_command() -> None:
    assert cdk.bootstrap_command("123456789012", "us-east-1", "hnb659fds") == \
        "cdk bootstrap aws://123456789012/us-east-1"
    assert cdk.bootstrap_command("123456789012", "us-east-1", "team42",
                                 ["arn:aws:iam::aws:policy/PowerUserAccess"], "pb") == (
        "cdk bootstrap aws://123456789012/us-east-1 --qualifier team42 "
        "--cloudformation-execution-policies arn:aws:iam::aws:policy/PowerUserAccess "
        "--custom-permissions-boundary pb")


def test_loader_reads_short_form_intrinsics() -> None:
    doc = parse_template("A: !Ref X\nB: !Sub 'a-${X}'\nC: !GetAtt R.Arn.Deep\n"
                        "D: !If [Cond, !Ref Y, !Ref 'AWS::NoValue']\nE: !Join [',', [a, b]]\n"
                        "F: !Condition IsProd\nG: !GetAZs ''\n")
    assert doc == {"A": {"Ref": "X"}, "B": {"Fn::Sub": "a-${X}"},
                   "C": {"Fn::GetAtt": ["R", "Arn.Deep"]},
                   "D": {"Fn::If": ["Cond", {"Ref": "Y"}, {"Ref": "AWS::NoValue"}]},
                   "E": {"Fn::Join": [",", ["a", "b"]]}, "F": {"Condition": "IsProd"},
                   "G": {"Fn::GetAZs": ""}}
