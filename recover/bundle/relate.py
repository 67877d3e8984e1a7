"""Which CloudTrail records belong in a stack's postmortem (pure: no boto3).

A record is related when it is:
- an artifact fetch failure (Lambda NoSuchKey, docs/reference/aws-behaviour.md#cloudtrail-records) of one of the tree's
  functions or of an object its templates reference;
- an IAM change of one of the stacks' service roles (CreateRole, DeleteRole, policy changes);
- an S3 object deletion (a data event: only there if the trail logs data events) in a bucket of
  the tree or of an object its templates reference;
- a CloudFormation call on one of the tree's stacks;
- an STS AssumeRole of one of the stacks' service roles (CloudFormation assuming it, or
  failing to because the role is gone);
- the AssumeRole/GetSessionToken... that issued the temporary credentials a related call was
  made with (`credentials_origin`: who was behind the session), found after the scan by
  `issued_key_id` / `caller_key_id`;
- any other call that changed something (read-only successes are left out as noise) and names
  one of the tree's resources (physical id, ARN, name) in its request, response or resources,
  tagged "by CloudFormation" when CloudFormation made it (userIdentity.invokedBy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from recover.cloudtrail.extract import artifact_fetch_failure
from recover.cloudtrail.record import TrailRecord, function_name_from
from recover.model.stack import StackSnapshot

CFN_PRINCIPAL = "cloudformation.amazonaws.com"
ROLE_EVENTS = frozenset({"CreateRole", "DeleteRole", "UpdateAssumeRolePolicy",
                         "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy",
                         "DeleteRolePolicy", "UpdateRole"})
STS_ISSUERS = frozenset({"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity",
                         "GetSessionToken", "GetFederationToken"})
OBJECT_DELETES = frozenset({"DeleteObject", "DeleteObjects"})
# What `--trail lookup` asks LookupEvents for (one EventName filter per call, docs/reference/aws-behaviour.md#lookupevents). Data
# events (S3 object deletions) are never in Event history.
LOOKUP_EVENT_NAMES = (
    "CreateStack", "UpdateStack", "DeleteStack", "ContinueUpdateRollback", "RollbackStack",
    "ExecuteChangeSet", "CancelUpdateStack",
    "CreateFunction20150331", "UpdateFunctionCode20150331v2", "DeleteFunction20150331",
    "PublishLayerVersion20181031",
    "CreateRole", "DeleteRole", "DeleteBucket", "AssumeRole",
)
_SUB_VAR = re.compile(r"\$\{([^}]+)\}")
_MIN_ID = 3


@dataclass(frozen=True)
class Subjects:
    """Identifiers of the stack tree that a related record mentions."""

    stack_names: frozenset[str]
    stack_ids: frozenset[str]
    ids: frozenset[str]  # physical ids, ARNs, names of the tree's resources and stacks
    role_names: frozenset[str]  # the stacks' service roles
    buckets: frozenset[str]  # buckets of the tree or referenced by its templates
    own_buckets: frozenset[str]  # buckets that are resources of the tree
    objects: frozenset[tuple[str, str]]  # (bucket, key) referenced by templates

    def to_dict(self) -> dict[str, Any]:
        return {"stacks": sorted(self.stack_names), "identifiers": len(self.ids),
                "service_roles": sorted(self.role_names), "buckets": sorted(self.buckets),
                "referenced_objects": [f"s3://{b}/{k}" for b, k in sorted(self.objects)]}


def subjects_of(snapshot: StackSnapshot, templates: Mapping[str, Mapping[str, Any] | None],
                ) -> Subjects:
    """`templates`: stack id → parsed current template (None when unavailable)."""
    names = {n.name for n in snapshot.nodes}
    stack_ids = {n.stack_id for n in snapshot.nodes}
    ids: set[str] = set(names) | stack_ids
    own_buckets: set[str] = set()
    for n in snapshot.nodes:
        for r in n.resources:
            if r.physical_id:
                ids.add(r.physical_id)
                ids.add(_tail(r.physical_id))
                if r.resource_type == "AWS::S3::Bucket":
                    own_buckets.add(r.physical_id)
    roles = {n.info.role_arn.rsplit("/", 1)[-1] for n in snapshot.nodes if n.info.role_arn}
    ids |= roles
    objects: set[tuple[str, str]] = set()
    pseudo = {"AWS::AccountId": snapshot.account, "AWS::Region": snapshot.region,
              "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
    for tpl in templates.values():
        for bucket, key in _object_refs(tpl or {}, pseudo):
            objects.add((bucket, key))
    buckets = own_buckets | {b for b, _ in objects}
    return Subjects(frozenset(names), frozenset(stack_ids),
                    frozenset(i for i in ids if len(i) >= _MIN_ID), frozenset(roles),
                    frozenset(buckets), frozenset(own_buckets), frozenset(objects))


def _tail(value: str) -> str:
    return re.split(r"[:/]", value)[-1] if value.startswith("arn:") else value


def _resolve(value: Any, pseudo: Mapping[str, str]) -> str | None:
    """A literal string, or a Fn::Sub of pseudo parameters only (CDK's asset bucket names)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        if all(v in pseudo and pseudo[v] for v in _SUB_VAR.findall(text)):
            return _SUB_VAR.sub(lambda m: pseudo[m.group(1)], text)
    return None


def _object_refs(obj: Any, pseudo: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """(bucket, key) of every `{S3Bucket, S3Key}` in a template (Lambda Code, layers...)."""
    if isinstance(obj, Mapping):
        if "S3Bucket" in obj and "S3Key" in obj:
            bucket, key = _resolve(obj["S3Bucket"], pseudo), _resolve(obj["S3Key"], pseudo)
            if bucket and key:
                yield bucket, key
        for v in obj.values():
            yield from _object_refs(v, pseudo)
    elif isinstance(obj, list):
        for v in obj:
            yield from _object_refs(v, pseudo)


def _leaves(obj: Any, depth: int = 0) -> Iterable[str]:
    if depth > 8:
        return
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from _leaves(v, depth + 1)
    elif isinstance(obj, list):
        for v in obj[:200]:
            yield from _leaves(v, depth + 1)


def _mentions(rec: TrailRecord, ids: frozenset[str]) -> str | None:
    payloads = (rec.request_parameters, rec.response_elements,
                [r.get("ARN") or r.get("arn") for r in rec.resources])
    for payload in payloads:
        for leaf in _leaves(payload):
            if leaf in ids:
                return leaf
            if leaf.startswith("arn:"):
                fn = function_name_from(leaf)
                if fn in ids or _tail(leaf) in ids:
                    return leaf
    return None


def made_by_cloudformation(rec: TrailRecord) -> bool:
    return rec.invoked_by == CFN_PRINCIPAL or CFN_PRINCIPAL in (rec.source_ip or "") \
        or CFN_PRINCIPAL in (rec.user_agent or "")


def relation(rec: TrailRecord, subj: Subjects) -> str | None:
    """Why `rec` belongs in the bundle ('artifact_fetch_failure', 'service_role',
    'object_deletion', 'stack_operation', 'by_cloudformation', 'on_stack_resource'), or None."""
    failure = artifact_fetch_failure(rec)
    if failure is not None:
        if (failure.function_name in subj.ids or failure.bucket in subj.buckets
                or (failure.bucket, failure.key) in subj.objects):
            return "artifact_fetch_failure"
        return None
    params = rec.request_parameters
    source = rec.event_source or ""
    if source.startswith("iam.") and rec.event_name in ROLE_EVENTS:
        return "service_role" if params.get("roleName") in subj.role_names else None
    if source.startswith("sts.") and rec.event_name in STS_ISSUERS:
        role = params.get("roleArn")
        if isinstance(role, str) and role.rsplit("/", 1)[-1] in subj.role_names:
            return "service_role"
        return None
    if source.startswith("s3.") and rec.event_name in OBJECT_DELETES:
        bucket = params.get("bucketName")
        if bucket in subj.own_buckets or (bucket, params.get("key")) in subj.objects:
            return "object_deletion"
        if rec.event_name == "DeleteObjects" and bucket in subj.buckets:
            return "object_deletion"  # its keys are not in CloudTrail (coverage notes)
        return None
    if source.startswith("cloudformation."):
        stack = params.get("stackName")
        if stack in subj.stack_names or stack in subj.stack_ids:
            return "stack_operation"
        return None
    if rec.read_only and not rec.failed:
        return None
    if _mentions(rec, subj.ids) is None:
        return None
    return "by_cloudformation" if made_by_cloudformation(rec) else "on_stack_resource"


def issued_key_id(rec: TrailRecord) -> str | None:
    """The temporary access key id an STS call handed out (responseElements.credentials)."""
    if not (rec.event_source or "").startswith("sts.") or rec.event_name not in STS_ISSUERS:
        return None
    creds = rec.response_elements.get("credentials")
    key = creds.get("accessKeyId") if isinstance(creds, Mapping) else None
    return key if isinstance(key, str) and key else None


def caller_key_id(rec: TrailRecord) -> str | None:
    """The temporary (ASIA...) access key id a call was signed with."""
    key = rec.user_identity.get("accessKeyId")
    return key if isinstance(key, str) and key.startswith("ASIA") else None
