"""Orphan records (pure): what a retained resource is, and how to delete or adopt it later.

A resource retained by DeleteStack RetainResources stays in the account but belongs to no
stack any more (docs/reference/aws-behaviour.md#deletestack-and-retainresources, docs/reference/aws-behaviour.md#which-resources-may-be-retained). Its record carries everything a later clean-up or
re-import needs, captured before the stack disappears: type, logical and physical id, ARN,
region, account, tags, the template snippet it came from and the stack it left, plus the
follow-ups: the exact `aws` commands to delete it, and a resource-import mapping for
`aws cloudformation create-change-set --change-set-type IMPORT` / `cdk import`.
"""

from __future__ import annotations

import hashlib
import shlex
from typing import Any
from urllib.parse import urlparse

# Identifier property CloudFormation's resource import wants per type (ResourceToImport
# ResourceIdentifier; e.g. BucketName for AWS::S3::Bucket, documented in the API reference).
# The others are the types' primary identifiers as we know them; `aws cloudformation
# get-template-summary` (ResourceIdentifierSummaries) is the authority, and every record says so.
IMPORT_IDENTIFIER = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::EC2::SecurityGroup": "Id",
    "AWS::EC2::Instance": "InstanceId",
    "AWS::EC2::VPC": "VpcId",
    "AWS::EC2::Subnet": "SubnetId",
    "AWS::EC2::EIP": "AllocationId",
    "AWS::EC2::Volume": "VolumeId",
    "AWS::IAM::Role": "RoleName",
    "AWS::SQS::Queue": "QueueUrl",
    "AWS::SNS::Topic": "TopicArn",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::KMS::Key": "KeyId",
}

# Types that cost money while they exist, named in the ledger so nobody forgets them.
COSTLY = {"AWS::EC2::Instance", "AWS::EC2::EIP", "AWS::EC2::NatGateway", "AWS::EC2::Volume",
          "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::S3::Bucket",
          "AWS::DynamoDB::Table", "AWS::ElasticLoadBalancingV2::LoadBalancer",
          "AWS::KMS::Key", "AWS::Logs::LogGroup"}


def is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or \
        resource_type == "AWS::CloudFormation::CustomResource"


def arn_for(resource_type: str, physical_id: str, region: str, account: str) -> str | None:
    """The resource's ARN from its physical id (None when it has none, e.g. custom resources).
    IAM ARNs assume path `/` (a role's path is not in its physical id)."""
    if not physical_id:
        return None
    if physical_id.startswith("arn:"):
        return physical_id
    p, r, a = "aws", region, account
    simple = {
        "AWS::S3::Bucket": f"arn:{p}:s3:::{physical_id}",
        "AWS::EC2::SecurityGroup": f"arn:{p}:ec2:{r}:{a}:security-group/{physical_id}",
        "AWS::EC2::Instance": f"arn:{p}:ec2:{r}:{a}:instance/{physical_id}",
        "AWS::EC2::VPC": f"arn:{p}:ec2:{r}:{a}:vpc/{physical_id}",
        "AWS::EC2::Subnet": f"arn:{p}:ec2:{r}:{a}:subnet/{physical_id}",
        "AWS::EC2::Volume": f"arn:{p}:ec2:{r}:{a}:volume/{physical_id}",
        "AWS::IAM::Role": f"arn:{p}:iam::{a}:role/{physical_id}",
        "AWS::Lambda::Function": f"arn:{p}:lambda:{r}:{a}:function:{physical_id}",
        "AWS::DynamoDB::Table": f"arn:{p}:dynamodb:{r}:{a}:table/{physical_id}",
        "AWS::Logs::LogGroup": f"arn:{p}:logs:{r}:{a}:log-group:{physical_id}",
        "AWS::RDS::DBInstance": f"arn:{p}:rds:{r}:{a}:db:{physical_id}",
        "AWS::ECR::Repository": f"arn:{p}:ecr:{r}:{a}:repository/{physical_id}",
        "AWS::KMS::Key": f"arn:{p}:kms:{r}:{a}:key/{physical_id}",
    }
    if resource_type in simple:
        return simple[resource_type]
    if resource_type == "AWS::SQS::Queue" and physical_id.startswith("https://"):
        return f"arn:{p}:sqs:{r}:{a}:{urlparse(physical_id).path.rsplit('/', 1)[-1]}"
    return None


def delete_commands(resource_type: str, physical_id: str, region: str) -> list[str]:
    """The `aws` commands that delete the resource for good (after its data is saved)."""
    q = shlex.quote(physical_id)
    reg = f" --region {shlex.quote(region)}" if region else ""
    if resource_type == "AWS::S3::Bucket":
        batch = (f"aws s3api delete-objects --bucket {q}{reg} --delete \"$(aws s3api "
                 f"list-object-versions --bucket {q}{reg} --max-items 1000 --output json --query "
                 "'{Objects: [Versions, DeleteMarkers][][].{Key: Key, VersionId: VersionId}, "
                 "Quiet: `true`}')\"")
        return ["# every object version and delete marker first (repeat until the listing is "
                "empty); save what you need before", batch,
                f"aws s3api delete-bucket --bucket {q}{reg}"]
    if resource_type == "AWS::EC2::SecurityGroup":
        return [f"aws ec2 describe-network-interfaces{reg} --filters Name=group-id,Values={q} "
                "--query 'NetworkInterfaces[].[NetworkInterfaceId,Description,Status]'",
                "# detach/delete those network interfaces (or move them to another group), then:",
                f"aws ec2 delete-security-group{reg} --group-id {q}"]
    if resource_type == "AWS::CloudFormation::Stack":
        return [f"aws cloudformation delete-stack{reg} --stack-name {q}"]
    if is_custom(resource_type):
        return ["# a custom resource has no AWS object of its own: remove what its handler "
                "created (see the handler's logs) — nothing to delete here"]
    simple = {
        "AWS::IAM::Role": f"aws iam delete-role --role-name {q}  # detach its policies first",
        "AWS::SQS::Queue": f"aws sqs delete-queue{reg} --queue-url {q}",
        "AWS::Lambda::Function": f"aws lambda delete-function{reg} --function-name {q}",
        "AWS::DynamoDB::Table": f"aws dynamodb delete-table{reg} --table-name {q}",
        "AWS::Logs::LogGroup": f"aws logs delete-log-group{reg} --log-group-name {q}",
        "AWS::EC2::Instance": f"aws ec2 terminate-instances{reg} --instance-ids {q}",
        "AWS::EC2::Volume": f"aws ec2 delete-volume{reg} --volume-id {q}",
        "AWS::EC2::VPC": f"aws ec2 delete-vpc{reg} --vpc-id {q}",
        "AWS::EC2::Subnet": f"aws ec2 delete-subnet{reg} --subnet-id {q}",
        "AWS::ECR::Repository": f"aws ecr delete-repository{reg} --repository-name {q} --force",
        "AWS::RDS::DBInstance": (f"aws rds delete-db-instance{reg} --db-instance-identifier {q} "
                                 "--final-db-snapshot-identifier <SNAPSHOT-NAME>"),
    }
    if resource_type in simple:
        return [simple[resource_type]]
    return [f"# no delete command known for {resource_type}: delete {physical_id} with its "
            "service's console or CLI"]


def import_mapping(resource_type: str, logical_id: str, physical_id: str,
                   snippet: dict[str, Any] | None) -> dict[str, Any]:
    """How to adopt the resource again: a ResourcesToImport entry for CreateChangeSet
    --change-set-type IMPORT and a `cdk import --resource-mapping` entry (keyed by the
    construct path from the snippet's aws:cdk:path metadata when the template came from CDK)."""
    if is_custom(resource_type) or resource_type == "AWS::CloudFormation::Stack":
        return {"importable": False,
                "why": "custom resources and nested stacks cannot be imported; recreate them"}
    key = IMPORT_IDENTIFIER.get(resource_type)
    metadata = (snippet or {}).get("Metadata")
    cdk_path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
    out: dict[str, Any] = {
        "importable": key is not None,
        "identifier_check": ("aws cloudformation get-template-summary --template-body "
                             "file://template.json --query ResourceIdentifierSummaries"),
    }
    if key is None:
        out["why"] = (f"identifier property of {resource_type} unknown to recover: read it from "
                      "the identifier_check command")
        return out
    out["resources_to_import"] = [{"ResourceType": resource_type, "LogicalResourceId": logical_id,
                                   "ResourceIdentifier": {key: physical_id}}]
    out["cdk_resource_mapping"] = {cdk_path or logical_id: {key: physical_id}}
    out["commands"] = [
        "# add the snippet to the template with DeletionPolicy: Retain (required for import), then:",
        "aws cloudformation create-change-set --stack-name <STACK> --change-set-name "
        "adopt-" + logical_id.lower() + " --change-set-type IMPORT --template-body "
        "file://template.json --resources-to-import file://resources-to-import.json",
        "cdk import <STACK> --resource-mapping mapping.json   # CDK apps",
    ]
    return out


def orphan_id(account: str, region: str, stack_id: str, logical_id: str, physical_id: str) -> str:
    """A short stable id for `recover orphans show` (same resource, same id, across runs)."""
    raw = "|".join((account, region, stack_id, logical_id, physical_id))
    return "orph-" + hashlib.sha256(raw.encode()).hexdigest()[:10]


def orphan_record(*, stack_name: str, stack_id: str, root_stack: str, logical_id: str,
                  resource_type: str, physical_id: str, region: str, account: str,
                  reason: str, failure_mode: str, tags: dict[str, str] | None,
                  tags_source: str, snippet: dict[str, Any] | None, retained_at: str,
                  run_id: str, evidence_dir: str) -> dict[str, Any]:
    """One ledger entry (JSON-safe)."""
    arn = arn_for(resource_type, physical_id, region, account)
    return {
        "id": orphan_id(account, region, stack_id, logical_id, physical_id),
        "resource_type": resource_type, "logical_id": logical_id, "physical_id": physical_id,
        "arn": arn, "region": region, "account": account, "tags": tags,
        "tags_source": tags_source,
        "left_stack": {"name": stack_name, "stack_id": stack_id, "root": root_stack},
        "why_retained": {"failure_mode": failure_mode, "reason": reason},
        "template_snippet": snippet,
        "costs_money": resource_type in COSTLY,
        "retained_at": retained_at, "run_id": run_id, "evidence_dir": evidence_dir,
        "state": "retained",
        "follow_up": {
            "delete_later": delete_commands(resource_type, physical_id, region),
            "adopt_again": import_mapping(resource_type, logical_id, physical_id, snippet),
        },
    }
