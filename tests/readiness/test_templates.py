"""Template loader (JSON, YAML short forms; recover.model.cfn_template) as readiness uses it,
and the static resolver."""

from __future__ import annotations

import pytest

from recover.model.cfn_template import TemplateError, parse_template
from recover.templates.resolve import NO_VALUE, Scope, Unresolved, resolve

YAML = """\
AWSTemplateFormatVersion: 2010-09-09
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Name: !Join ["-", [!Ref Stage, !Select [1, !Split [",", "a,b,c"]]]]
      Code:
        S3Bucket: !Sub "art-${AWS::AccountId}-${AWS::Region}"
        S3Key: !If [IsProd, prod.zip, dev.zip]
      Tags: !FindInMap [Env, !Ref Stage, Team]
      Other: !Base64 text
"""


def test_yaml_short_forms_become_long_forms() -> None:
    t = parse_template(YAML)
    assert t["AWSTemplateFormatVersion"] == "2010-09-09"  # not a date
    props = t["Resources"]["Fn"]["Properties"]
    assert props["Role"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["Code"]["S3Bucket"] == {"Fn::Sub": "art-${AWS::AccountId}-${AWS::Region}"}
    assert props["Code"]["S3Key"] == {"Fn::If": ["IsProd", "prod.zip", "dev.zip"]}
    assert props["Name"] == {"Fn::Join": ["-", [{"Ref": "Stage"}, {"Fn::Select": [
        1, {"Fn::Split": [",", "a,b,c"]}]}]]}
    assert t["Conditions"]["NotProd"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert props["Other"] == {"Fn::Base64": "text"}


def test_json_and_dict_bodies() -> None:
    assert parse_template('{"Resources": {}}') == {"Resources": {}}
    assert parse_template({"Resources": {"A": {}}}) == {"Resources": {"A": {}}}


@pytest.mark.parametrize("body", ["Resources: [unclosed", "- a list", '{"bad json": }',
                                  "!!python/object:os.system ls"])
def test_bad_templates_are_one_line_template_errors(body: str) -> None:
    with pytest.raises(TemplateError) as err:
        parse_template(body)
    assert "\n" not in str(err.value)


def scope(**kw: object) -> Scope:
    t = parse_template(YAML)
    t["Mappings"] = {"Env": {"prod": {"Team": "payments"}}}
    base = dict(account="123456789012", region="eu-west-1", stack_name="app",
                parameters={"Stage": "prod"}, resources={"Bucket": "my-bucket", "Role": "r"})
    base.update(kw)
    return Scope.for_template(t, **base)  # type: ignore[arg-type]


def test_resolves_parameters_pseudo_parameters_and_functions() -> None:
    t = parse_template(YAML)
    props = t["Resources"]["Fn"]["Properties"]
    s = scope()
    assert resolve(props["Code"], s) == {"S3Bucket": "art-123456789012-eu-west-1",
                                         "S3Key": "prod.zip"}
    assert resolve(props["Name"], s) == "prod-b"
    assert resolve(props["Tags"], s) == "payments"
    assert resolve(props["Code"]["S3Key"], scope(parameters={"Stage": "dev"})) == "dev.zip"
    assert resolve({"Ref": "Bucket"}, s) == "my-bucket"  # a resource's physical id
    assert resolve({"Fn::Sub": ["${B}/${!Literal}/${AWS::Partition}", {"B": {"Ref": "Bucket"}}]},
                   s) == "my-bucket/${Literal}/aws"
    assert resolve({"Ref": "AWS::NoValue"}, s) is NO_VALUE
    assert resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}, s) == {"B": 1}


@pytest.mark.parametrize("value, why", [
    ({"Fn::GetAtt": ["Role", "Arn"]}, "Fn::GetAtt"),
    ({"Fn::ImportValue": "x"}, "exports were not read"),
    ({"Fn::Sub": "${Role.Arn}/x"}, "attribute"),
    ({"Ref": "Nope"}, "no such parameter"),
    ({"Ref": "Secret"}, "NoEcho"),
    ({"Ref": "Version"}, "SSM parameter"),
])
def test_what_cannot_be_known_says_why(value: object, why: str) -> None:
    s = scope(parameters={"Stage": "prod", "Secret": "****", "Version": "/cdk/v"},
              parameter_types={"Version": "AWS::SSM::Parameter::Value<String>"})
    r = resolve({"S3Bucket": value}, s)
    assert isinstance(r, Unresolved) and why in r.reason


def test_import_value_uses_the_exports_when_read() -> None:
    value = {"Fn::ImportValue": {"Fn::Sub": "${Stage}-ArtifactsBucket"}}
    assert "were not read" in resolve(value, scope()).reason  # type: ignore[union-attr]
    s = scope(exports={"prod-ArtifactsBucket": "shared-artifacts"})
    assert resolve(value, s) == "shared-artifacts"
    assert "no such export" in resolve({"Fn::ImportValue": "x"}, s).reason  # type: ignore[union-attr]


def test_any_text_parses_or_gives_a_template_error() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["Resources:", "\n", "  ", "- ", "!Ref", "!Sub", "!GetAtt", "!!int",
                              "!!timestamp", "!!binary", "{", "}", "[", "]", ":", "a", "1",
                              "2020-13-45", '"', "'", "&x", "*x", "|", ">", "#", ","])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=30).map("".join))
    def check(text: str) -> None:
        try:
            assert isinstance(parse_template(text), dict)
        except TemplateError as err:
            assert "\n" not in str(err)

    check()
