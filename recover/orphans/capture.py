"""Gather what the ledger needs about each resource to retain, before the stack disappears:
the template snippet (GetTemplate, Original stage) and the tags (Resource Groups Tagging API
GetResources by ARN, up to 100 ARNs a call). Everything else comes from the snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from recover.act.needs import needs
from recover.aws.session import SessionFactory
from recover.decide.delete_plan import Decision
from recover.decide.orphans import arn_for, orphan_record
from recover.model.cfn_template import TemplateError, parse_template, resource_snippet
from recover.model.stack import StackSnapshot
from recover.run.errors import translate_aws_error

TAGGING_BATCH = 100  # GetResources ResourceARNList maximum


def _error(exc: ClientError) -> str:
    err = translate_aws_error(exc)
    return err.message if err else str(exc)


def template_of(aws: SessionFactory, stack_id: str) -> tuple[dict[str, Any] | None, str]:
    """(template, note). A template that cannot be read or parsed gives None and a note."""
    try:
        body = aws.client("cloudformation").get_template(
            StackName=stack_id, TemplateStage="Original")["TemplateBody"]
        return parse_template(body), ""
    except ClientError as exc:
        return None, f"GetTemplate failed: {_error(exc)}"
    except TemplateError as exc:
        return None, f"template unreadable: {exc}"


def tags_by_arn(aws: SessionFactory, arns: Sequence[str]) -> tuple[dict[str, dict[str, str]], str]:
    """Tags of each ARN. The Tagging API lists only resources that have (or had) tags, so an
    ARN missing from the answer has none. Returns ({arn: tags}, error note or "")."""
    out: dict[str, dict[str, str]] = {}
    client = aws.client("resourcegroupstaggingapi")
    unique = sorted(set(arns))
    try:
        for i in range(0, len(unique), TAGGING_BATCH):
            batch = unique[i:i + TAGGING_BATCH]
            token = ""
            while True:
                kwargs: dict[str, Any] = {"ResourceARNList": batch}
                if token:
                    kwargs["PaginationToken"] = token
                page = client.get_resources(**kwargs)
                for m in page.get("ResourceTagMappingList", []):
                    out[m["ResourceARN"]] = {t["Key"]: t["Value"] for t in m.get("Tags", [])}
                token = page.get("PaginationToken") or ""
                if not token:
                    break
    except ClientError as exc:
        return out, f"tag:GetResources failed: {_error(exc)}"
    return out, ""


def own_service_tags(aws: SessionFactory, resource_type: str, physical_id: str
                     ) -> dict[str, str] | None:
    """Fallback when the Tagging API cannot be used: the service's own tag read (S3 and EC2
    security groups, the types recover retains most). None when unsupported or unreadable."""
    try:
        if resource_type == "AWS::S3::Bucket":
            try:
                tag_set = aws.client("s3").get_bucket_tagging(Bucket=physical_id)["TagSet"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchTagSet":
                    return {}
                raise
            return {t["Key"]: t["Value"] for t in tag_set}
        if resource_type == "AWS::EC2::SecurityGroup":
            found = aws.client("ec2").describe_tags(
                Filters=[{"Name": "resource-id", "Values": [physical_id]}])["Tags"]
            return {t["Key"]: t["Value"] for t in found}
    except ClientError:
        return None
    return None


@needs("cloudformation:GetTemplate", "tag:GetResources", "s3:GetBucketTagging", "ec2:DescribeTags")
def capture_orphans(aws: SessionFactory, snapshot: StackSnapshot, retained: Sequence[Decision], *,
                    retained_at: str, run_id: str, evidence_dir: str) -> list[dict[str, Any]]:
    """One ledger record per retained resource (read-only calls only)."""
    templates: dict[str, tuple[dict[str, Any] | None, str]] = {}
    for d in retained:
        if d.finding.stack_id not in templates:
            templates[d.finding.stack_id] = template_of(aws, d.finding.stack_id)
    arns = [a for d in retained
            if (a := arn_for(d.finding.resource_type, d.finding.physical_id, snapshot.region,
                             snapshot.account))]
    tags, tag_note = tags_by_arn(aws, arns) if arns else ({}, "")
    records: list[dict[str, Any]] = []
    for d in retained:
        f = d.finding
        template, template_note = templates[f.stack_id]
        arn = arn_for(f.resource_type, f.physical_id, snapshot.region, snapshot.account)
        if arn is None:
            resource_tags, source = None, "no ARN: the resource type has no taggable AWS object"
        elif tag_note:
            resource_tags = own_service_tags(aws, f.resource_type, f.physical_id)
            source = (f"{tag_note}; read with the service's own API instead"
                      if resource_tags is not None else tag_note)
        else:
            resource_tags, source = tags.get(arn, {}), "tag:GetResources"
        record = orphan_record(
            stack_name=f.stack_name, stack_id=f.stack_id, root_stack=snapshot.root.name,
            logical_id=f.logical_id, resource_type=f.resource_type, physical_id=f.physical_id,
            region=snapshot.region, account=snapshot.account, reason=f.reason,
            failure_mode=f.failure_mode.value, tags=resource_tags, tags_source=source,
            snippet=resource_snippet(template, f.logical_id) if template else None,
            retained_at=retained_at, run_id=run_id, evidence_dir=evidence_dir)
        if template_note:
            record["template_note"] = template_note
        if d.blocker:
            record["blocker"] = d.blocker
        records.append(record)
    return records
