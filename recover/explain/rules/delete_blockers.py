"""Deletes blocked by contents, dependents or protection."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode

_IN_USE_BY = re.compile(
    r"(?:in use by|used by|associated with|attached to|referenced by|dependent object)\s+"
    r"(?:the |an? )?(?:\w+ )?['\"]?([^\s'\",.;()]+)", re.I)


def _dependency(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ids = re.findall(r"\b(?:sg|eni|vpc|subnet|igw|rtb|nat|eipalloc|vol|i|acl|vpce|tgw|lt)-[0-9a-f]{8,17}\b",
                     msg.text)
    blocked = re.search(r"resource ([\w-]+) has a dependent object|The (?:\w+ )?'([\w-]+)' has dependencies",
                        msg.text)
    arn = re.search(r"(?:unable to delete|cannot delete|could not delete)\s+(arn:\S+)", msg.text, re.I)
    if blocked:
        out["blocked_resource_id"] = blocked.group(1) or blocked.group(2)
    elif arn:
        out["blocked_resource_id"] = arn.group(1)
    elif ids:
        out["blocked_resource_id"] = ids[0]
    dep = _IN_USE_BY.search(msg.text)
    if dep and dep.group(1).lower() not in ("object", "objects", "resources"):
        out["dependent_object"] = dep.group(1)
    elif len(ids) > 1:
        out["dependent_object"] = ids[1]
    return out


E_BUCKET = (
    "CloudFormation cannot delete the S3 bucket{bucket_at} because it still holds objects "
    "(S3 refuses to delete a non-empty bucket; in a versioned bucket old versions and delete "
    "markers count too). Either empty it (all versions) and retry, or retain it and finish the "
    "delete: runbook delete-failed, which records retained resources in an orphan ledger.")


E_CONTAINER = (
    "CloudFormation cannot delete the resource because it still has contents ({what}). As with "
    "a non-empty bucket: empty it and retry, or retain it in DeleteStack and record it as an "
    "orphan (runbook delete-failed).")


E_DEPENDENCY = (
    "The resource{blocked_at} cannot be deleted because something else still depends on it"
    "{dependent_at}; typical dependents are network interfaces, instances, another stack's "
    "import, Lambda@Edge replicas. Find and remove that dependency (or wait for AWS to remove it, as for Lambda@Edge replicas), then "
    "retry, or retain the resource: runbook delete-failed.")


E_PROTECTION = (
    "The resource has deletion protection enabled, so its service refused the delete. Turn the "
    "protection off if the data may go, or retain the resource in DeleteStack: runbook "
    "delete-failed.")


RULES: tuple[Rule, ...] = family(
    "delete_blockers",
    Rule("bucket-not-empty", FailureMode.DELETE_BLOCKED_NONEMPTY_BUCKET, 55, E_BUCKET,
         when(r"bucket you tried to delete is not empty", r"bucket\b.{0,80}\bis not empty",
              codes=("BucketNotEmpty",)),
         examples=('The bucket you tried to delete is not empty (Service: Amazon S3; Status Code: 409; Error Code: BucketNotEmpty; Request ID: 1A2B)',)),
    Rule("container-not-empty", FailureMode.DELETE_BLOCKED_NONEMPTY_BUCKET, 50, E_CONTAINER,
         when(r"cannot be deleted because it (?:still )?contains (\w+(?: \w+)?)",
              r"(repository|registry|vault|table|queue|file system)\b.{0,80}\b(?:is not empty|still contains)",
              codes=("RepositoryNotEmptyException", "RepositoryNotEmpty"),
              extract=lambda m, msg: {"what": m.group(1) if m else "contents"}),
         confidence="medium", defaults={"what": "contents"},
         examples=("The repository with name 'app' in registry with id '123456789012' cannot be deleted because it still contains images",)),
    Rule("delete-protection", FailureMode.DELETE_BLOCKED_DEPENDENCY, 50, E_PROTECTION,
         when(r"deletion protection", r"Cannot delete protected", r"DeletionProtection"),
         confidence="medium",
         examples=('Cannot delete protected DB Instance',)),
    Rule("dependency-violation", FailureMode.DELETE_BLOCKED_DEPENDENCY, 55, E_DEPENDENCY,
         when(r"has (?:a )?dependent object", r"has dependencies and cannot be deleted",
              r"(?:is|are) (?:currently |still )?(?:in use|being used)\b",
              r"cannot be deleted (?:because|as|while|since) it (?:is|has|still)",
              r"because it is a replicated function", r"must (?:detach|remove|delete) .{0,60} first",
              r"has (?:some )?mapped public address", r"unable to delete .{0,80} in use",
              r"Cannot delete .{0,60}\battached to\b",
              codes=("DependencyViolation", "DeleteConflict", "ResourceInUse",
                     "ResourceInUseException", "InvalidGroup.InUse"), extract=_dependency),
         examples=('resource sg-0123456789abcdef0 has a dependent object (Service: AmazonEC2; Status Code: 400; Error Code: DependencyViolation)',)),
)
