"""IAM actions, declared where the calls are made.

A function or class that calls AWS says which IAM actions it needs with `@needs(...)` (or a
`PERMISSIONS` class attribute on a CloudTrail source); a change to AWS needs what its Call's
operation needs (`actions_for_call`). `recover iam-policy` is derived from these declarations
and from the operations each runbook declares, never written by hand (cloud-custodian's
lesson, docs/explanation/design.md#what-we-borrowed).

IAM action names are not always the API operation's name (docs/reference/aws-behaviour.md#iam-action-names):
S3 ListObjectVersions needs s3:ListBucketVersions, HeadObject s3:GetObject, a GetObject with a
VersionId s3:GetObjectVersion, CopyObject s3:PutObject on the target and s3:GetObject(Version)
on the source, DeleteObjects s3:DeleteObject (and s3:DeleteObjectVersion with version ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
ATTRIBUTE = "__iam_actions__"

# API operations whose IAM action has another name (or needs several).
_RENAMED: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "CopyObject"): ("s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "DeleteObjects"): ("s3:DeleteObject", "s3:DeleteObjectVersion"),
}
_PREFIX = {"lambda": "lambda", "cloudformation": "cloudformation", "s3": "s3", "iam": "iam",
           "cloudtrail": "cloudtrail", "athena": "athena", "ec2": "ec2", "sts": "sts",
           "ecr": "ecr", "logs": "logs"}


def needs(*actions: str) -> Callable[[T], T]:
    """Declare the IAM actions the decorated function or class needs."""
    def mark(obj: T) -> T:
        setattr(obj, ATTRIBUTE, tuple(dict.fromkeys((*declared(obj), *actions))))
        return obj
    return mark


def needs_of(*objects: Any, extra: Iterable[str] = ()) -> Callable[[T], T]:
    """Declare that the decorated function needs what these declared objects need (the
    functions it calls), plus `extra`."""
    return needs(*(a for o in objects for a in declared(o)), *extra)


def declared(obj: Any) -> tuple[str, ...]:
    """What `obj` declared (`@needs`, or a class's PERMISSIONS)."""
    return tuple(getattr(obj, ATTRIBUTE, ()) or getattr(obj, "PERMISSIONS", ()))


def actions_for_operation(service: str, operation: str) -> tuple[str, ...]:
    return _RENAMED.get((service, operation), (f"{_PREFIX.get(service, service)}:{operation}",))


def actions_for_call(service: str, operation: str, params: dict[str, Any]) -> tuple[str, ...]:
    """What one call needs: its operation's actions, and iam:PassRole when it hands
    CloudFormation a role (RoleARN)."""
    out = list(actions_for_operation(service, operation))
    if service == "s3" and operation == "GetObject" and params.get("VersionId"):
        out.append("s3:GetObjectVersion")
    if params.get("RoleARN"):
        out.append("iam:PassRole")
    return tuple(dict.fromkeys(out))


def union(groups: Iterable[Iterable[str]]) -> list[str]:
    """Every action once, sorted by service then action."""
    return sorted({a for g in groups for a in g}, key=lambda a: tuple(a.partition(":")[::2]))
