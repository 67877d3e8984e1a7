"""Gather (read-only): the stack tree, each stack's current template, and the state of every
S3 object, bucket, ECR image and repository those templates reference.

Cost per stack tree of N stacks referencing K distinct S3 objects in B buckets and I images in
R repositories (nothing read twice): the snapshot (1 DescribeStacks + 1 ListStackResources per
stack, 1 iam:GetRole per distinct service role), 1 GetTemplate per stack (2 with a Transform),
ListExports once when a template uses Fn::ImportValue,
2 calls per bucket (GetBucketVersioning, GetBucketLifecycleConfiguration), 1 HeadObject per
object (+1 ListObjectVersions for a pinned version, +1 GetObjectTagging when a rule filters on
tags), 1 DescribeImages per image, 1 GetLifecyclePolicy per repository (+ a full
DescribeImages listing when a count rule needs the other images), 1 lambda:GetFunction per
function (its Code.ResolvedS3Object: REFERENCE code is a live dependency, reference.py) and
1 GetBucketPolicy per bucket holding REFERENCE code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recover.aws.s3_head import head_object
from recover.aws.session import SessionFactory, map_in_context
from recover.aws.snapshot import SnapshotOptions, take_snapshot
from recover.model.cfn_template import TemplateError, parse_template
from recover.model.stack import StackNode, StackSnapshot, parse_time
from recover.readiness.artifacts import Artifact, references
from recover.readiness.ecr_lifecycle import ImageInfo
from recover.readiness.reference import FunctionRef, PolicyState
from recover.readiness.s3_lifecycle import ObjectState, needs_tags
from recover.run.errors import RecoverError
from recover.templates.resolve import Scope

ObjectId = tuple[str, str, str]  # bucket, key, version ("" = current)
ImageId = tuple[str, str, str, str, str]  # region, registry, repository, tag, digest


@dataclass(frozen=True)
class TemplateRead:
    stack_name: str
    stack_id: str
    template: dict[str, Any] | None
    error: str = ""


@dataclass(frozen=True)
class BucketState:
    name: str
    exists: bool = True
    versioning: str = ""  # Enabled | Suspended | "" (never enabled)
    rules: tuple[dict[str, Any], ...] = ()
    error: str = ""


@dataclass(frozen=True)
class ImageState:
    exists: bool
    info: ImageInfo | None = None
    error: str = ""


@dataclass(frozen=True)
class RepoState:
    region: str
    registry: str
    name: str
    policy: str | None = None  # the lifecycle policy text (None: no policy)
    images: tuple[ImageInfo, ...] | None = None  # every image, when a count rule needs them
    error: str = ""


@dataclass
class Gathered:
    snapshot: StackSnapshot
    templates: list[TemplateRead]
    artifacts: list[Artifact]
    buckets: dict[str, BucketState] = field(default_factory=dict)
    objects: dict[ObjectId, ObjectState] = field(default_factory=dict)
    images: dict[ImageId, ImageState] = field(default_factory=dict)
    repos: dict[tuple[str, str, str], RepoState] = field(default_factory=dict)
    references: list[FunctionRef] = field(default_factory=list)  # REFERENCE code in use
    policies: dict[str, PolicyState] = field(default_factory=dict)  # buckets of references


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _headers(exc: ClientError) -> dict[str, str]:
    return exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}


def _why(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return f"{getattr(exc, 'operation_name', '')}: {_code(exc)} " \
               f"{exc.response.get('Error', {}).get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


class SharedReads:
    """Bucket and repository facts shared by the stacks of one `--all` run: many stacks deploy
    from the same bucket, whose versioning and lifecycle rules are read once (by whichever
    stack asks first; concurrent askers wait for that read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Any, Future[Any]] = {}

    def get(self, key: Any, read: Callable[[], Any]) -> Any:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if owner:
                future = self._futures[key] = Future()
        assert future is not None
        if owner:
            try:
                future.set_result(read())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()


class _Reader:
    def __init__(self, aws: SessionFactory, shared: SharedReads | None = None) -> None:
        self.aws = aws
        self.shared = shared

    def cached(self, key: Any, read: Callable[[], Any]) -> Any:
        return self.shared.get(key, read) if self.shared is not None else read()

    # --- templates ----------------------------------------------------------------------------

    def template(self, node: StackNode) -> TemplateRead:
        cfn = self.aws.client("cloudformation")
        try:
            body = cfn.get_template(StackName=node.stack_id,
                                    TemplateStage="Original")["TemplateBody"]
            template = parse_template(body)
            if template.get("Transform"):
                # a transform (SAM, ...) expands at deploy time; the processed template shows
                # what was really deployed (AWS::Lambda::Function with Code.S3Bucket/S3Key...)
                processed = cfn.get_template(StackName=node.stack_id,
                                             TemplateStage="Processed")["TemplateBody"]
                merged = dict(template)
                merged["Resources"] = {**(template.get("Resources") or {}),
                                       **(parse_template(processed).get("Resources") or {})}
                template = merged
        except (ClientError, BotoCoreError, RecoverError, TemplateError) as exc:
            message = (exc.message if isinstance(exc, RecoverError)
                       else str(exc) if isinstance(exc, TemplateError) else _why(exc))
            return TemplateRead(node.name, node.stack_id, None, message)
        return TemplateRead(node.name, node.stack_id, template)

    def exports(self) -> dict[str, str] | None:
        """The region's CloudFormation exports (for Fn::ImportValue); None if unreadable."""
        def read() -> dict[str, str] | None:
            out: dict[str, str] = {}
            try:
                for page in self.aws.client("cloudformation").get_paginator(
                        "list_exports").paginate():
                    out.update({e["Name"]: e["Value"] for e in page.get("Exports", [])})
            except (ClientError, BotoCoreError):
                return None
            return out
        return self.cached(("exports",), read)

    # --- S3 -----------------------------------------------------------------------------------

    def bucket(self, name: str) -> BucketState:
        return self.cached(("bucket", name), lambda: self._bucket(name))

    def _bucket(self, name: str) -> BucketState:
        s3 = self.aws.client("s3")
        try:
            versioning = s3.get_bucket_versioning(Bucket=name).get("Status", "")
        except ClientError as exc:
            if _code(exc) == "NoSuchBucket":
                return BucketState(name, exists=False)
            return BucketState(name, error=_why(exc))
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=name).get("Rules", [])
        except ClientError as exc:
            if _code(exc) != "NoSuchLifecycleConfiguration":
                return BucketState(name, versioning=versioning, error=_why(exc))
            rules = []
        return BucketState(name, versioning=versioning, rules=tuple(rules))

    def obj(self, oid: ObjectId, bucket: BucketState) -> ObjectState:
        name, key, version = oid
        if not bucket.exists:
            return ObjectState(name, key, version, exists=False)
        s3 = self.aws.client("s3")
        params: dict[str, Any] = {"Bucket": name, "Key": key}
        if version:
            params["VersionId"] = version
        try:
            head = head_object(s3, **params)
        except ClientError as exc:
            if _status(exc) in (404, 405) or _code(exc) in ("404", "NoSuchKey", "NotFound",
                                                             "NoSuchVersion"):
                marker = _headers(exc).get("x-amz-delete-marker") == "true"
                return ObjectState(name, key, version, exists=False, delete_marker=marker)
            return ObjectState(name, key, version, error=_why(exc))
        state: dict[str, Any] = dict(
            bucket=name, key=key, version=version, exists=True,
            last_modified=parse_time(head.get("LastModified")),
            size=head.get("ContentLength"), storage_class=head.get("StorageClass") or "STANDARD",
            expiration_header=head.get("Expiration") or "")
        try:
            if version and bucket.versioning:
                state.update(self._version_position(name, key, version))
            if needs_tags(list(bucket.rules)):
                tags = s3.get_object_tagging(**params).get("TagSet", [])
                state["tags"] = tuple((t["Key"], t["Value"]) for t in tags)
        except ClientError as exc:
            state["error"] = _why(exc)
        return ObjectState(**state)

    def _version_position(self, bucket: str, key: str, version: str) -> dict[str, Any]:
        """Is the pinned version current, and since when is it noncurrent (the creation time
        of the next newer version or delete marker of the key)?"""
        s3 = self.aws.client("s3")
        entries: list[dict[str, Any]] = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            entries += [v for v in page.get("Versions", []) or [] if v.get("Key") == key]
            entries += [m for m in page.get("DeleteMarkers", []) or [] if m.get("Key") == key]
        entries.sort(key=lambda e: parse_time(e.get("LastModified")) or datetime.min)
        ids = [e.get("VersionId") for e in entries]
        if version not in ids:
            return {}
        i = ids.index(version)
        if i == len(entries) - 1:
            return {"is_latest": True}
        return {"is_latest": False,
                "noncurrent_since": parse_time(entries[i + 1].get("LastModified"))}

    # --- Lambda REFERENCE code -------------------------------------------------------------

    def function_ref(self, stack: str, logical_id: str, function: str,
                     template: Artifact | None) -> FunctionRef | None:
        """Where a function's code lives when Lambda references it in S3: GetFunction's
        Code.ResolvedS3Object, else the template's S3ObjectStorageMode (fallback), else None."""
        try:
            answer = self.aws.client("lambda").get_function(FunctionName=function)
        except (ClientError, BotoCoreError):
            answer = {}
        code = answer.get("Code") or {}
        obj, err = code.get("ResolvedS3Object"), code.get("Error")
        arn = str((answer.get("Configuration") or {}).get("FunctionArn") or "")
        if isinstance(obj, dict) and obj.get("S3Bucket") and obj.get("S3Key"):
            error = (f"{err.get('ErrorCode', '')}: {err.get('Message', '')}".strip(": ")
                     if isinstance(err, dict) else "")
            return FunctionRef(stack, logical_id, function, arn, "resolved",
                               str(obj["S3Bucket"]), str(obj["S3Key"]),
                               str(obj.get("S3ObjectVersion") or ""), error)
        if template is not None and template.storage_mode == "REFERENCE" and template.is_s3:
            return FunctionRef(stack, logical_id, function, arn, "template", template.bucket,
                               template.key, template.version)
        return None

    def policy(self, bucket: str) -> PolicyState:
        return self.cached(("policy", bucket), lambda: self._policy(bucket))

    def _policy(self, bucket: str) -> PolicyState:
        try:
            return PolicyState(self.aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError as exc:
            if _code(exc) == "NoSuchBucketPolicy":
                return PolicyState(None)
            return PolicyState(error=_why(exc))

    # --- ECR ----------------------------------------------------------------------------------

    def image(self, iid: ImageId) -> ImageState:
        region, registry, repo, tag, digest = iid
        ecr = self.aws.client("ecr", region=region)
        ref = {"imageDigest": digest} if digest else {"imageTag": tag}
        try:
            found = ecr.describe_images(registryId=registry, repositoryName=repo,
                                        imageIds=[ref]).get("imageDetails", [])
        except ClientError as exc:
            if _code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return ImageState(exists=False, error=_code(exc))
            return ImageState(exists=False, error=_why(exc))
        if not found:
            return ImageState(exists=False, error="ImageNotFoundException")
        return ImageState(exists=True, info=_image_info(found[0]))

    def repo(self, rid: tuple[str, str, str]) -> RepoState:
        return self.cached(("repo", rid), lambda: self._repo(rid))

    def _repo(self, rid: tuple[str, str, str]) -> RepoState:
        region, registry, name = rid
        ecr = self.aws.client("ecr", region=region)
        try:
            policy = ecr.get_lifecycle_policy(registryId=registry,
                                              repositoryName=name)["lifecyclePolicyText"]
        except ClientError as exc:
            if _code(exc) in ("LifecyclePolicyNotFoundException", "RepositoryNotFoundException"):
                return RepoState(region, registry, name)
            return RepoState(region, registry, name, error=_why(exc))
        images: tuple[ImageInfo, ...] | None = None
        if "imageCountMoreThan" in policy:
            try:
                listed: list[ImageInfo] = []
                pages = ecr.get_paginator("describe_images").paginate(registryId=registry,
                                                                      repositoryName=name)
                for page in pages:
                    listed += [_image_info(d) for d in page.get("imageDetails", [])]
                images = tuple(listed)
            except ClientError as exc:
                return RepoState(region, registry, name, policy, error=_why(exc))
        return RepoState(region, registry, name, policy, images)


def _image_info(detail: dict[str, Any]) -> ImageInfo:
    return ImageInfo(digest=detail.get("imageDigest", ""),
                     tags=tuple(detail.get("imageTags") or ()),
                     pushed_at=parse_time(detail.get("imagePushedAt")))


def scope_for(node: StackNode, template: dict[str, Any], snapshot: StackSnapshot,
              default_region: str, exports: dict[str, str] | None = None) -> Scope:
    arn = node.stack_id.split(":")
    partition = arn[1] if len(arn) > 5 else "aws"
    return Scope.for_template(
        template, account=snapshot.account, region=snapshot.region or default_region,
        partition=partition, stack_name=node.name, stack_id=node.stack_id,
        parameters=dict(node.info.parameters),
        resources={r.logical_id: r.physical_id for r in node.resources}, exports=exports)


def gather(aws: SessionFactory, stack: str, *, clock: Callable[[], datetime],
           max_workers: int = 4, shared: SharedReads | None = None) -> Gathered:
    """Everything readiness needs about `stack`'s tree. Raises RecoverError when the stack
    itself cannot be read; anything narrower is recorded on the piece it concerns."""
    snap = take_snapshot(aws, stack, clock=clock,
                         options=SnapshotOptions(events="none", max_workers=max_workers))
    reader = _Reader(aws, shared)
    workers = max(1, max_workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        templates = map_in_context(pool, reader.template, list(snap.nodes))
        exports = None
        if any(t.template is not None and "Fn::ImportValue" in json.dumps(t.template)
               for t in templates):
            exports = reader.exports()
        artifacts: list[Artifact] = []
        for node, read in zip(snap.nodes, templates, strict=True):
            if read.template is not None:
                scope = scope_for(node, read.template, snap, aws.region or "", exports)
                artifacts += references(read.template, scope, node.stack_id)
        by_resource = {(a.stack_id, a.logical_id): a for a in artifacts
                       if a.kind == "lambda-code" and not a.unresolved}
        functions = [(n.name, r.logical_id, r.physical_id, by_resource.get((n.stack_id,
                                                                             r.logical_id)))
                     for n in snap.nodes for r in n.resources
                     if r.resource_type == "AWS::Lambda::Function" and r.physical_id]
        refs = [f for f in map_in_context(pool, lambda f: reader.function_ref(*f), functions)
                if f is not None]
        s3_refs = [a for a in artifacts if a.is_s3 and not a.unresolved]
        names = sorted({a.bucket for a in s3_refs} | {f.bucket for f in refs})
        buckets = dict(zip(names, map_in_context(pool, reader.bucket, names), strict=True))
        oids = sorted({(a.bucket, a.key, a.version) for a in s3_refs} | {f.oid for f in refs})
        objects = dict(zip(oids, map_in_context(
            pool, lambda o: reader.obj(o, buckets[o[0]]), oids), strict=True))
        img_refs = [a for a in artifacts if a.is_image and not a.unresolved]
        iids = sorted({(a.image_region, a.registry, a.repository, a.tag, a.digest)
                       for a in img_refs})
        images = dict(zip(iids, map_in_context(pool, reader.image, iids), strict=True))
        rids = sorted({(i[0], i[1], i[2]) for i in iids})
        repos = dict(zip(rids, map_in_context(pool, reader.repo, rids), strict=True))
        pnames = sorted({f.bucket for f in refs if buckets[f.bucket].exists})
        policies = dict(zip(pnames, map_in_context(pool, reader.policy, pnames), strict=True))
    return Gathered(snapshot=snap, templates=templates, artifacts=artifacts, buckets=buckets,
                    objects=objects, images=images, repos=repos, references=refs,
                    policies=policies)
