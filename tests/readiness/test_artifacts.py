"""Which artifacts a template references (pure)."""

from __future__ import annotations

import pytest

from recover.model.cfn_template import parse_template
from recover.readiness.artifacts import references, s3_from_url
from recover.templates.resolve import Scope

TEMPLATE = """\
Parameters:
  Bucket: {Type: String}
  WithGlue: {Type: String}
Conditions:
  Glue: !Equals [!Ref WithGlue, "yes"]
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Code: {S3Bucket: !Ref Bucket, S3Key: fn.zip, S3ObjectVersion: v3}
  Inline:
    Type: AWS::Lambda::Function
    Properties:
      Code: {ZipFile: "print(1)"}
  Img:
    Type: AWS::Lambda::Function
    Properties:
      Code: {ImageUri: !Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:v1"}
  Layer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: {S3Bucket: !Ref Bucket, S3Key: layer.zip}
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://s3.eu-west-1.amazonaws.com/tpl-bucket/child.json
  Sam:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://sam-bucket/code.zip
  SamLocal:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./src
  SamObj:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {Bucket: sam-bucket, Key: obj.zip, Version: "7"}
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      DefinitionS3Location: {Bucket: !Ref Bucket, Key: sfn.json}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      BodyS3Location: {Bucket: !Ref Bucket, Key: openapi.yaml}
  Job:
    Type: AWS::Glue::Job
    Condition: Glue
    Properties:
      Command: {Name: glueetl, ScriptLocation: !Sub "s3://${Bucket}/job.py"}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:{digest}
        - Image: public.ecr.aws/nginx/nginx:1.25
        - Image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/sidecar
  Unknown:
    Type: AWS::Lambda::Function
    Properties:
      Code: {S3Bucket: !GetAtt Other.Name, S3Key: x.zip}
""".replace("{digest}", "a" * 64)


def refs(with_glue: str = "no") -> dict[str, list]:
    s = Scope.for_template(parse_template(TEMPLATE), account="123456789012", region="eu-west-1",
                           stack_name="app", parameters={"Bucket": "deploy", "WithGlue": with_glue})
    out: dict[str, list] = {}
    for a in references(parse_template(TEMPLATE), s, "arn:stack/app"):
        out.setdefault(a.logical_id, []).append(a)
    return out


def test_every_artifact_kind_is_found_and_resolved() -> None:
    r = refs()
    assert (r["Fn"][0].kind, r["Fn"][0].location) == ("lambda-code", "s3://deploy/fn.zip?versionId=v3")
    assert "Inline" not in r
    img = r["Img"][0]
    assert (img.kind, img.repository, img.tag, img.registry, img.image_region) == (
        "container-image", "app", "v1", "123456789012", "eu-west-1")
    assert r["Layer"][0].location == "s3://deploy/layer.zip"
    assert r["Child"][0].location == "s3://tpl-bucket/child.json"
    assert r["Sam"][0].location == "s3://sam-bucket/code.zip"
    assert "local path" in r["SamLocal"][0].unresolved
    assert r["SamObj"][0].location == "s3://sam-bucket/obj.zip?versionId=7"
    assert r["Machine"][0].location == "s3://deploy/sfn.json"
    assert r["Api"][0].location == "s3://deploy/openapi.yaml"
    assert "Job" not in r  # its condition is false in this deployment
    web, nginx, sidecar = r["Task"]
    assert web.digest == "sha256:" + "a" * 64 and web.tag == ""
    assert "not an ECR image" in nginx.unresolved
    assert sidecar.tag == "latest"
    assert "Fn::GetAtt" in r["Unknown"][0].unresolved
    assert refs("yes")["Job"][0].location == "s3://deploy/job.py"


@pytest.mark.parametrize("url, expected", [
    ("https://s3.amazonaws.com/b/k/x.json", ("b", "k/x.json")),
    ("https://s3.eu-west-1.amazonaws.com/b/x.json", ("b", "x.json")),
    ("https://s3-eu-west-1.amazonaws.com/b/x.json", ("b", "x.json")),
    ("https://b.s3.amazonaws.com/x.json", ("b", "x.json")),
    ("https://b.s3.eu-west-1.amazonaws.com/a%20b.json", ("b", "a b.json")),
    ("s3://b/x", ("b", "x")),
    ("https://example.com/b/x", None),
    ("s3://bucket-only", None),
])
def test_s3_urls(url: str, expected: tuple[str, str] | None) -> None:
    assert s3_from_url(url) == expected
