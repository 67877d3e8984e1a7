"""Which artifacts a deployed template references (pure: template in, artifacts out).

The current template is the state a failed next deploy rolls back to, so every object it
points at must still be readable: Lambda code and layers, nested TemplateURLs, SAM CodeUri /
ContentUri / DefinitionUri, Step Functions DefinitionS3Location, API Gateway BodyS3Location,
Glue ScriptLocation, Elastic Beanstalk source bundles, and container images in ECR.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from recover.templates.resolve import Scope, Unresolved, resolve

# <registry>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag][@sha256:digest]
ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
                       r"\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9._/-]+?)"
                       r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")


@dataclass(frozen=True)
class Artifact:
    stack_name: str
    stack_id: str
    logical_id: str
    resource_type: str
    kind: str  # lambda-code | lambda-layer | nested-template | sam-code | ... | container-image
    prop: str  # property path in the template, e.g. Code or Properties.Command.ScriptLocation
    bucket: str = ""
    key: str = ""
    version: str = ""  # pinned S3 object version
    image: str = ""  # full image URI
    repository: str = ""
    registry: str = ""  # ECR registry (account id)
    image_region: str = ""
    tag: str = ""
    digest: str = ""
    unresolved: str = ""  # why the location could not be worked out statically
    storage_mode: str = ""  # Lambda Code.S3ObjectStorageMode (COPY | REFERENCE), if given

    @property
    def is_s3(self) -> bool:
        return bool(self.bucket and self.key)

    @property
    def is_image(self) -> bool:
        return bool(self.repository)

    @property
    def location(self) -> str:
        if self.is_s3:
            return f"s3://{self.bucket}/{self.key}" + (
                f"?versionId={self.version}" if self.version else "")
        return self.image or "(unresolved)"

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v}
        out["location"] = self.location
        return out


def s3_from_url(url: str) -> tuple[str, str] | None:
    """(bucket, key) of an s3:// URL or an S3 https URL (path-style or virtual-hosted)."""
    if url.startswith("s3://"):
        bucket, _, key = url[5:].partition("/")
        return (bucket, key) if bucket and key else None
    parsed = urlparse(url)
    host, path = parsed.hostname or "", unquote(parsed.path.lstrip("/"))
    if not host or ".amazonaws.com" not in host:
        return None
    if host.startswith(("s3.", "s3-")) or host == "s3.amazonaws.com":
        bucket, _, key = path.partition("/")  # path-style
    elif ".s3." in host or ".s3-" in host:
        bucket, key = host.split(".s3", 1)[0], path  # virtual-hosted
    else:
        return None
    return (bucket, key) if bucket and key else None


def references(template: dict[str, Any], scope: Scope, stack_id: str = "") -> list[Artifact]:
    """Every artifact the template's resources reference, resolved as far as possible."""
    out: list[Artifact] = []
    resources = template.get("Resources") or {}
    if not isinstance(resources, dict):
        return out
    for lid, body in resources.items():
        if not isinstance(body, dict):
            continue
        if "Condition" in body:
            active = resolve({"Fn::If": [body["Condition"], True, False]}, scope)
            if active is False:
                continue  # the resource does not exist in this deployment
        props = body.get("Properties") or {}
        rtype = str(body.get("Type", ""))
        base = {"stack_name": scope.stack_name, "stack_id": stack_id, "logical_id": lid,
                "resource_type": rtype}
        for kind, prop, raw in _raw_locations(rtype, props):
            out.append(_artifact(base, kind, prop, raw, scope))
    return out


def _raw_locations(rtype: str, p: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(kind, property path, raw value) per artifact-bearing property of a resource type."""
    if not isinstance(p, dict):
        return
    if rtype == "AWS::Lambda::Function":
        code = p.get("Code")
        if isinstance(code, dict) and "ImageUri" in code:
            yield "container-image", "Code.ImageUri", code["ImageUri"]
        elif isinstance(code, dict) and ("S3Key" in code or "S3Bucket" in code):
            yield "lambda-code", "Code", code
    elif rtype == "AWS::Lambda::LayerVersion" and isinstance(p.get("Content"), dict):
        yield "lambda-layer", "Content", p["Content"]
    elif rtype == "AWS::CloudFormation::Stack" and "TemplateURL" in p:
        yield "nested-template", "TemplateURL", p["TemplateURL"]
    elif rtype == "AWS::Serverless::Function":
        if "ImageUri" in p:
            yield "container-image", "ImageUri", p["ImageUri"]
        elif "CodeUri" in p:
            yield "sam-code", "CodeUri", p["CodeUri"]
    elif rtype == "AWS::Serverless::LayerVersion" and "ContentUri" in p:
        yield "lambda-layer", "ContentUri", p["ContentUri"]
    elif rtype in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi",
                   "AWS::Serverless::StateMachine") and "DefinitionUri" in p:
        yield "definition", "DefinitionUri", p["DefinitionUri"]
    elif rtype == "AWS::StepFunctions::StateMachine" and "DefinitionS3Location" in p:
        yield "sfn-definition", "DefinitionS3Location", p["DefinitionS3Location"]
    elif rtype in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api") \
            and "BodyS3Location" in p:
        yield "apigw-body", "BodyS3Location", p["BodyS3Location"]
    elif rtype == "AWS::Glue::Job" and isinstance(p.get("Command"), dict) \
            and "ScriptLocation" in p["Command"]:
        yield "glue-script", "Command.ScriptLocation", p["Command"]["ScriptLocation"]
    elif rtype == "AWS::ElasticBeanstalk::ApplicationVersion" and "SourceBundle" in p:
        yield "source-bundle", "SourceBundle", p["SourceBundle"]
    elif rtype == "AWS::ECS::TaskDefinition":
        for i, c in enumerate(p.get("ContainerDefinitions") or []):
            if isinstance(c, dict) and "Image" in c:
                yield "container-image", f"ContainerDefinitions[{i}].Image", c["Image"]


def _artifact(base: dict[str, Any], kind: str, prop: str, raw: Any, scope: Scope) -> Artifact:
    value = resolve(raw, scope)
    if isinstance(value, Unresolved):
        return Artifact(**base, kind=kind, prop=prop, unresolved=value.reason)
    if kind == "container-image":
        return _image(base, prop, value)
    bucket = key = version = ""
    if isinstance(value, str):
        found = s3_from_url(value)
        if found is None:
            why = ("a local path: the template was not packaged" if "://" not in value
                   else f"not an S3 location: {value}")
            return Artifact(**base, kind=kind, prop=prop, unresolved=why)
        bucket, key = found
    elif isinstance(value, dict):
        bucket = str(value.get("S3Bucket") or value.get("Bucket") or "")
        key = str(value.get("S3Key") or value.get("Key") or "")
        version = str(value.get("S3ObjectVersion") or value.get("Version") or "")
        mode = value.get("S3ObjectStorageMode") or value.get("StorageMode")
        if isinstance(mode, str) and mode:
            base = {**base, "storage_mode": mode.upper()}
    if not bucket or not key:
        return Artifact(**base, kind=kind, prop=prop,
                        unresolved=f"{prop} has no bucket and key")
    return Artifact(**base, kind=kind, prop=prop, bucket=bucket, key=key, version=version)


def _image(base: dict[str, Any], prop: str, value: Any) -> Artifact:
    uri = str(value)
    m = ECR_IMAGE.match(uri)
    if m is None:
        return Artifact(**base, kind="container-image", prop=prop, image=uri,
                        unresolved="not an ECR image (other registries are not checked)")
    return Artifact(**base, kind="container-image", prop=prop, image=uri,
                    repository=m.group("repo"), registry=m.group("account"),
                    image_region=m.group("region"),
                    # no tag and no digest means the tag `latest` (Docker's default)
                    tag=m.group("tag") or ("" if m.group("digest") else "latest"),
                    digest=m.group("digest") or "")
