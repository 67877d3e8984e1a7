"""Gather what blocks each failed delete (read-only): the contents of a non-empty bucket and
the network interfaces that still use a security group (docs/reference/aws-behaviour.md#why-a-delete-fails, docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import ClientError

from recover.act.needs import needs
from recover.aws.session import SessionFactory
from recover.model.blockers import BucketContents
from recover.run.errors import translate_aws_error


def bucket_contents(aws: SessionFactory, bucket: str) -> BucketContents:
    """Every object version and delete marker of `bucket` (ListObjectVersions, 1000 a page).
    The entries are what an empty-and-delete removes: exactly what was counted and confirmed."""
    s3 = aws.client("s3")
    entries: list[tuple[str, str]] = []
    versions = markers = objects = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            versions += 1
            objects += 1 if v.get("IsLatest") else 0
            entries.append((v["Key"], v.get("VersionId") or "null"))
        for m in page.get("DeleteMarkers", []):
            markers += 1
            entries.append((m["Key"], m.get("VersionId") or "null"))
    return BucketContents(bucket, objects, versions, markers, tuple(entries))


def security_group_users(aws: SessionFactory, group_id: str) -> list[dict[str, Any]]:
    """The network interfaces that still use the group (what DependencyViolation means)."""
    ec2 = aws.client("ec2")
    out: list[dict[str, Any]] = []
    pages = ec2.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}])
    for page in pages:
        for eni in page.get("NetworkInterfaces", []):
            out.append({"id": eni["NetworkInterfaceId"],
                        "description": eni.get("Description") or "",
                        "status": eni.get("Status") or "",
                        "attached_to": (eni.get("Attachment") or {}).get("InstanceId") or None,
                        "interface_type": eni.get("InterfaceType") or None})
    return out


class BlockedResource(Protocol):
    """What gathering needs of a failed resource (a decide.findings.Finding has it)."""

    resource_type: str
    physical_id: str


@needs("s3:ListBucketVersions", "ec2:DescribeNetworkInterfaces")
def gather_blockers(aws: SessionFactory, targets: Mapping[str, BlockedResource]
                    ) -> tuple[dict[str, dict[str, Any]], dict[str, BucketContents]]:
    """Per target: facts about its blocker; per bucket name: its contents. A read that fails
    (access denied, already gone) becomes a note, not an error: the plan can go on without it."""
    blockers: dict[str, dict[str, Any]] = {}
    buckets: dict[str, BucketContents] = {}
    gone_codes = {"NoSuchBucket", "InvalidGroup.NotFound"}
    for target, f in targets.items():
        try:
            if f.resource_type == "AWS::S3::Bucket" and f.physical_id:
                contents = bucket_contents(aws, f.physical_id)
                buckets[f.physical_id] = contents
                blockers[target] = contents.to_dict()
            elif f.resource_type == "AWS::EC2::SecurityGroup" and f.physical_id:
                blockers[target] = {"network_interfaces": security_group_users(aws, f.physical_id)}
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in gone_codes:
                # removed by hand since the delete failed: a plain retry now succeeds
                blockers[target] = {"gone": f"{f.physical_id} no longer exists ({code})"}
                continue
            err = translate_aws_error(exc)
            blockers[target] = {"unreadable": err.message if err else str(exc)}
    return blockers, buckets
