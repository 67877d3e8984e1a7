"""express-failed: find the last stable template of a stack from CloudTrail. Gathers the
stack's calls from a trail source, its full event history and the versions of the template
object; what is proven is decided in recover.decide.stable_template (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from recover.act.needs import needs, needs_of
from recover.aws.template_source import TemplateSource, read_template_source
from recover.cloudtrail.scan import SourceDeps, build_source
from recover.cloudtrail.sources import LookupSource, ScanStats, Window
from recover.cloudtrail.stack_calls import STACK_CALL_EVENTS, calls_for_stack
from recover.decide.stable_template import StableTemplate, last_stable, version_at
from recover.model.stack import StackEvent
from recover.run.errors import RecoverError


@dataclass
class Discovery:
    found: StableTemplate
    source: TemplateSource | None  # the template read, when proven and readable
    trail: str
    records: int
    note: str = ""  # which S3 version was chosen and why

    @property
    def proven(self) -> bool:
        return self.source is not None

    @property
    def reason(self) -> str:
        return self.found.reason + (f"; {self.note}" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        return {**self.found.to_dict(), "trail": self.trail, "records": self.records,
                "s3_version": self.note, "proven": self.proven, "reason": self.reason,
                "template": self.source.spec if self.source else None}


@needs("cloudformation:DescribeStackEvents")
def stack_history(aws: Any, stack_id: str) -> list[StackEvent]:
    """Every event of the stack (not its nested stacks), oldest first."""
    pages = aws.client("cloudformation").get_paginator("describe_stack_events").paginate(
        StackName=stack_id)
    events = [StackEvent.from_api(e) for page in pages for e in page.get("StackEvents", [])]
    return sorted(events, key=lambda e: e.timestamp)


@needs("s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion")
def read_version_at(aws: Any, found: StableTemplate) -> tuple[TemplateSource | None, str]:
    """The template object as it was when the completed operation read it."""
    s3 = found.s3
    assert s3 is not None
    if s3.version:
        return read_template_source(aws, s3.spec), f"version {s3.version} (pinned in the URL)"
    entries: list[dict[str, Any]] = []
    try:
        pages = aws.client("s3").get_paginator("list_object_versions").paginate(
            Bucket=s3.bucket, Prefix=s3.key)
        for page in pages:
            for kind, marker in (("Versions", False), ("DeleteMarkers", True)):
                entries += [{**v, "IsDeleteMarker": marker} for v in page.get(kind, [])
                            if v.get("Key") == s3.key]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        return None, f"cannot list the versions of {s3.spec}: {code}"
    version, note = version_at(entries, s3.read_at)
    if version is None:
        return None, note
    spec = f"s3://{s3.bucket}/{s3.key}" + ("" if version == "null" else f"?versionId={version}")
    try:
        return read_template_source(aws, spec), note
    except RecoverError as exc:
        return None, f"{note}, unreadable: {exc.message}"


@needs_of(stack_history, read_version_at, LookupSource)
def discover(aws: Any, deps: SourceDeps, trail: str, *, region: str, stack_name: str,
             stack_id: str) -> Discovery:
    """The last stable template of the stack as far as CloudTrail and the events prove it."""
    window = Window(regions=frozenset({region}) if region else frozenset())
    src = build_source(trail, window, STACK_CALL_EVENTS, deps, validate=True)
    stats = ScanStats()
    calls = calls_for_stack((r for r in src.iter_records(stats) if window.keep_record(r)),
                            stack_name, stack_id)
    found = last_stable(calls, stack_history(aws, stack_id), stack_name)
    if not found.proven:
        return Discovery(found, None, trail, len(calls))
    if found.body is not None:
        return Discovery(found, TemplateSource(f"cloudtrail:{found.carrier.event_id}"  # type: ignore[union-attr]
                                               , found.body), trail, len(calls))
    source, note = read_version_at(aws, found)
    return Discovery(found, source, trail, len(calls), note)
