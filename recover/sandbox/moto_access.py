"""In-process access to moto's backends: the few reads and writes the CloudFormation engine's
resource handlers perform "as the service" (no HTTP, no signatures). Everything moto-internal the
sandbox relies on is here, so a moto upgrade breaks one small module (moto is pinned, docs/reference/sandbox.md)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.iam.models import iam_backends
from moto.s3.models import FakeDeleteMarker, s3_backends

ACCOUNT = DEFAULT_ACCOUNT_ID
PARTITION = "aws"


class S3Missing(Exception):
    """GetObject would fail: code is NoSuchBucket or NoSuchKey."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def reset_all() -> None:
    """moto's backends are process-global: wipe every one of them (one sandbox per process)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256: base64 of the raw SHA-256 digest of the zip (docs/reference/aws-behaviour.md#where-aws-records-a-functions-codesha256)."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# --- S3 ---------------------------------------------------------------------------------------

def s3_get(bucket: str, key: str, version_id: str | None = None) -> bytes:
    """Object bytes as GetObject sees them: a current delete marker hides the key (docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers)."""
    s3 = s3_backends[ACCOUNT][PARTITION]
    if bucket not in s3.buckets:
        raise S3Missing("NoSuchBucket")
    obj = s3.get_object(bucket, key, version_id=version_id, return_delete_marker=True)
    if obj is None or isinstance(obj, FakeDeleteMarker):
        raise S3Missing("NoSuchKey")
    return bytes(obj.value)


def s3_current_version(bucket: str, key: str) -> str | None:
    """The version id of the key's current object (None: no such object, or unversioned)."""
    s3 = s3_backends[ACCOUNT][PARTITION]
    obj = s3.get_object(bucket, key) if bucket in s3.buckets else None
    version = getattr(obj, "version_id", None) if obj is not None else None
    return str(version) if version and str(version) != "null" else None


def s3_set_last_modified(bucket: str, key: str, version_id: str | None, when: datetime) -> None:
    """Stamp an object version with the simulated clock (moto stamps the wall clock, so a
    scenario's history in S3 could not be compared with its CloudTrail and stack events)."""
    s3 = s3_backends[ACCOUNT][PARTITION]
    obj = s3.get_object(bucket, key, version_id=version_id)
    if obj is not None:
        obj.last_modified = when.astimezone(UTC).replace(tzinfo=None)


def s3_key_exists(bucket: str, key: str) -> bool:
    """What PutObject's If-None-Match: * checks in moto: a current version that is not a
    delete marker."""
    s3 = s3_backends[ACCOUNT][PARTITION]
    return bucket in s3.buckets and s3.get_object(bucket, key) is not None


def bucket_exists(bucket: str) -> bool:
    return bucket in s3_backends[ACCOUNT][PARTITION].buckets


def bucket_is_empty(bucket: str) -> bool:
    """No object versions and no delete markers left (what DeleteBucket requires)."""
    b = s3_backends[ACCOUNT][PARTITION].buckets[bucket]
    return not any(versions for _key, versions in b.keys.iterlists())


def delete_bucket(bucket: str) -> None:
    s3_backends[ACCOUNT][PARTITION].delete_bucket(bucket)


def create_bucket(bucket: str, region: str) -> None:
    s3_backends[ACCOUNT][PARTITION].create_bucket(bucket, region)


# --- Lambda -----------------------------------------------------------------------------------

def lambda_function(name: str, region: str, qualifier: str | None = None) -> Any | None:
    try:
        return lambda_backends[ACCOUNT][region].get_function(name, qualifier)
    except Exception:  # noqa: BLE001 - moto raises several "not found" types
        return None


def lambda_update_code(name: str, region: str, zip_bytes: bytes, *, bucket: str, key: str,
                       version: str | None) -> dict[str, Any]:
    """UpdateFunctionCode with bytes CloudFormation already fetched from S3. moto's own S3 path
    ignores S3ObjectVersion and delete markers, so the handler fetches and passes ZipFile."""
    fn = lambda_backends[ACCOUNT][region].get_function(name)
    config = fn.update_function_code({"ZipFile": base64.b64encode(zip_bytes).decode()})
    fn.code.update({"S3Bucket": bucket, "S3Key": key})
    if version:
        fn.code["S3ObjectVersion"] = version
    return config


def lambda_delete(name: str, region: str) -> None:
    lambda_backends[ACCOUNT][region].delete_function(name)


# --- ECR --------------------------------------------------------------------------------------

def ecr_set_pushed_at(repository: str, region: str, digest: str, when: float) -> None:
    """Give an image the push time of the simulated clock (moto stamps the wall clock, so
    images pushed within one second would tie and lifecycle count rules could not order them)."""
    from moto.ecr.models import ecr_backends

    repo = ecr_backends[ACCOUNT][region].repositories[repository]
    for image in repo.images:
        if image.image_digest == digest:
            image.image_pushed_at = int(when)


# --- IAM --------------------------------------------------------------------------------------

def role_trusts_cloudformation(role_name: str) -> bool:
    """The role exists and its trust policy lets cloudformation.amazonaws.com AssumeRole (docs/reference/aws-behaviour.md#service-roles-rolearn)."""
    try:
        role = iam_backends[ACCOUNT][PARTITION].get_role(role_name)
    except Exception:  # noqa: BLE001 - NoSuchEntity
        return False
    try:
        doc = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        return False
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        services = (st.get("Principal") or {}).get("Service", []) if isinstance(
            st.get("Principal"), dict) else []
        services = [services] if isinstance(services, str) else services
        if "cloudformation.amazonaws.com" not in services or not any(
                a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        if st.get("Effect") == "Deny":
            return False  # an explicit Deny wins
        # The sandbox's CloudFormation sends no request context: an Allow narrowed by a
        # Condition never matches it (a model choice; real AWS sets some keys).
        if st.get("Effect") == "Allow" and not st.get("Condition"):
            allowed = True
    return allowed


def role_arn(role_name: str) -> str | None:
    """The role's ARN (its path included), or None when there is no such role."""
    try:
        return str(iam_backends[ACCOUNT][PARTITION].get_role(role_name).arn)
    except Exception:  # noqa: BLE001 - NoSuchEntity
        return None


def role_id(role_name: str) -> str | None:
    """The role's unique id (AROA...), or None when there is no such role."""
    try:
        return str(iam_backends[ACCOUNT][PARTITION].get_role(role_name).id)
    except Exception:  # noqa: BLE001 - NoSuchEntity
        return None


# AWS managed policies the sandbox offers (moto loads none by default, and all ~1,300 are slow
# to load): the ones the CDK bootstrap template and the scenarios attach.
SANDBOX_AWS_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess",
                                "AWSCloudFormationReadOnlyAccess")


def install_aws_managed_policies(names: tuple[str, ...] = SANDBOX_AWS_MANAGED_POLICIES) -> None:
    """Make `arn:aws:iam::aws:policy/<name>` attachable, with AWS's own documents (moto's copy)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    backend = iam_backends[ACCOUNT][PARTITION]
    data = json.loads(aws_managed_policies_data)
    for name in names:
        if name not in data:
            continue
        policy = AWSManagedPolicy.from_data(name, ACCOUNT, backend.region_name, data[name])
        if policy.arn not in backend.managed_policies:
            backend.aws_managed_policies.append(policy)
            backend.managed_policies[policy.arn] = policy


# --- EC2 --------------------------------------------------------------------------------------

def security_group_in_use(group_id: str, region: str) -> bool:
    ec2 = ec2_backends[ACCOUNT][region]
    return any(group_id in [g.id for g in eni._group_set] for eni in ec2.enis.values())


def delete_security_group(group_id: str, region: str) -> None:
    ec2_backends[ACCOUNT][region].delete_security_group(group_id=group_id)


def security_group_exists(group_id: str, region: str) -> bool:
    return ec2_backends[ACCOUNT][region].get_security_group_from_id(group_id) is not None


# --- CloudWatch Logs --------------------------------------------------------------------------

def logs_write(group: str, stream: str, region: str, events: list[tuple[int, str]]) -> None:
    """Append (timestamp ms, message) events to a log stream, creating group and stream as
    Lambda's runtime does on first use. moto drops events older than 14 days (as AWS does)."""
    from moto.logs.models import logs_backends

    backend = logs_backends[ACCOUNT][region]
    if group not in backend.groups:
        backend.create_log_group(group, {})
    if stream not in backend.groups[group].streams:
        backend.create_log_stream(group, stream)
    ordered = sorted(events)
    if ordered:
        backend.put_log_events(group, stream, [{"timestamp": t, "message": m} for t, m in ordered])
