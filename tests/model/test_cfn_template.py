"""The template reader: JSON (text or botocore's decoded dict) and YAML with CloudFormation's
short-form intrinsic tags, safely (no Python objects, unknown tags refused)."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from recover.model.cfn_template import TemplateError, parse_template, resource_snippet

YAML = """
AWSTemplateFormatVersion: '2010-09-09'
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Data:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Metadata:
      aws:cdk:path: App/Data/Resource
    Properties:
      BucketName: !Sub '${AWS::StackName}-data'
      Tags:
        - Key: owner
          Value: !If [IsProd, !ImportValue prod-owner, !Ref 'AWS::NoValue']
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data
      PolicyDocument:
        Statement:
          - Resource: !Join ['', [!GetAtt Data.Arn, '/*']]
            Condition: !GetAtt [Data, Arn]
  Ip:
    Type: AWS::EC2::Subnet
    Properties:
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]
      AvailabilityZone: !Select [0, !GetAZs '']
      Nested: !Base64 {"Fn::Sub": "x"}
"""


def test_yaml_short_forms_become_long_forms() -> None:
    t = parse_template(YAML)
    data = resource_snippet(t, "Data")
    assert data is not None and data["DeletionPolicy"] == "Retain"
    assert data["Properties"]["BucketName"] == {"Fn::Sub": "${AWS::StackName}-data"}
    assert data["Properties"]["Tags"][0]["Value"] == {
        "Fn::If": ["IsProd", {"Fn::ImportValue": "prod-owner"}, {"Ref": "AWS::NoValue"}]}
    assert data["Metadata"]["aws:cdk:path"] == "App/Data/Resource"
    policy = resource_snippet(t, "Policy")["Properties"]  # type: ignore[index]
    assert policy["Bucket"] == {"Ref": "Data"}
    statement = policy["PolicyDocument"]["Statement"][0]
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": ["Data", "Arn"]}, "/*"]]}
    assert statement["Condition"] == {"Fn::GetAtt": ["Data", "Arn"]}
    ip = resource_snippet(t, "Ip")["Properties"]  # type: ignore[index]
    assert ip["CidrBlock"] == {"Fn::Select": [0, {"Fn::Cidr": [
        {"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 4, 8]}]}
    assert ip["AvailabilityZone"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert ip["Nested"] == {"Fn::Base64": {"Fn::Sub": "x"}}
    assert t["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Env"}, "prod"]}


def test_getatt_splits_on_the_first_dot_only() -> None:
    t = parse_template("Resources:\n  A:\n    Type: X\n    Properties:\n"
                       "      P: !GetAtt Db.Endpoint.Address\n")
    assert resource_snippet(t, "A")["Properties"]["P"] == {  # type: ignore[index]
        "Fn::GetAtt": ["Db", "Endpoint.Address"]}


def test_json_text_and_decoded_dict() -> None:
    body = '{"Resources": {"A": {"Type": "AWS::SQS::Queue"}}}'
    assert resource_snippet(parse_template(body), "A") == {"Type": "AWS::SQS::Queue"}
    decoded = OrderedDict(Resources=OrderedDict(A=OrderedDict(Type="AWS::SQS::Queue")))
    parsed = parse_template(decoded)
    assert type(parsed["Resources"]) is dict and resource_snippet(parsed, "A") == {
        "Type": "AWS::SQS::Queue"}
    assert resource_snippet(parsed, "Missing") is None
    assert resource_snippet({"Resources": []}, "A") is None


@pytest.mark.parametrize("body", [
    "Resources: !Unknown x",
    "!!python/object/apply:os.system ['echo no']",
    "{not json",
    "- just\n- a list",
    "key: [unclosed",
    42,
])
def test_bad_templates_are_a_clear_error(body: object) -> None:
    with pytest.raises(TemplateError):
        parse_template(body)
