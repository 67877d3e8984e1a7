"""Extractors: pure functions from CloudTrail records to the facts recover acts on.

- artifact fetch failures: Lambda CreateFunction / UpdateFunctionCode / PublishLayerVersion calls
  that failed because the code object was missing from S3. The errorCode is
  InvalidParameterValueException and the message contains `S3 Error Code: NoSuchKey`
  (docs/reference/aws-behaviour.md#cloudtrail-records, docs/reference/aws-behaviour.md#aws-messages-recover-recognises).
- code history: successful creates and code updates of a function with the codeSha256 Lambda
  computed, used to verify rebuilt bytes (docs/reference/aws-behaviour.md#where-aws-records-a-functions-codesha256: base64 of the raw SHA-256 of the zip).

No boto3 here. Duplicates (CloudTrail can deliver one event twice, same eventID, docs/reference/aws-behaviour.md#cloudtrail-records) are
dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from recover.cloudtrail.record import TrailRecord, function_name_from, layer_name_from

LAMBDA_SOURCE = "lambda.amazonaws.com"
# docs/reference/aws-behaviour.md#lambda-event-names-in-cloudtrail: versioned event names. CreateFunction20141111 is the legacy 2014 API.
UPDATE_CODE_EVENTS = ("UpdateFunctionCode20150331v2", "UpdateFunctionCode20150331")
CREATE_FUNCTION_EVENTS = ("CreateFunction20150331", "CreateFunction20141111")
PUBLISH_LAYER_EVENTS = ("PublishLayerVersion20181031",)
# What `trail scan` and LookupEvents ask for by default (LookupEvents matches names exactly).
DEFAULT_EVENT_NAMES = ("UpdateFunctionCode20150331v2", "CreateFunction20150331",
                       "PublishLayerVersion20181031")
# What code history asks LookupEvents for (successful creates and code updates).
CODE_HISTORY_EVENTS = ("UpdateFunctionCode20150331v2", "CreateFunction20150331")
# Any dated version of the three APIs (not CreateFunctionUrlConfig and friends).
_CODE_EVENT = re.compile(r"^(UpdateFunctionCode|CreateFunction|PublishLayerVersion)\d{8}(v\d+)?$")
NOSUCHKEY = "NoSuchKey"
PREFILTER_FAILURES = (NOSUCHKEY.encode(),)  # bytes every artifact fetch failure contains
PREFILTER_HISTORY = (b"codeSha256",)  # bytes every code history record contains


def code_event_kind(event_name: str) -> str | None:
    """'update', 'create' or 'layer' for a Lambda code-carrying event name, else None."""
    m = _CODE_EVENT.match(event_name)
    if not m:
        return None
    return {"UpdateFunctionCode": "update", "CreateFunction": "create",
            "PublishLayerVersion": "layer"}[m.group(1)]


def is_nosuchkey(rec: TrailRecord) -> bool:
    """The call failed because Lambda's GetObject on the code object got NoSuchKey."""
    msg = rec.error_message or ""
    return rec.error_code is not None and f"S3 Error Code: {NOSUCHKEY}" in msg or (
        rec.error_code == NOSUCHKEY)


@dataclass(frozen=True)
class S3Location:
    bucket: str | None
    key: str | None
    object_version: str | None


def code_location(rec: TrailRecord) -> S3Location:
    """Where the call said the code was. The shapes differ (docs/reference/aws-behaviour.md#cloudtrail-records): CreateFunction nests it in
    `code`, PublishLayerVersion in `content`, UpdateFunctionCode has it at the top level.
    (docs/reference/aws-behaviour.md#unconfirmed-cloudtrail-details: the `s3ObjectVersion` key name is inferred from the camelCase convention.)"""
    params = rec.request_parameters
    nested: Mapping[str, Any] = {}
    for name in ("code", "content"):
        value = params.get(name)
        if isinstance(value, Mapping):
            nested = value
            break

    def pick(key: str) -> str | None:
        for src in (nested, params):
            value = src.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    return S3Location(pick("s3Bucket"), pick("s3Key"), pick("s3ObjectVersion"))


@dataclass(frozen=True)
class ArtifactFetchFailure:
    """One failed Lambda call whose code object was missing (function or layer)."""

    function_name: str | None
    layer: str | None
    bucket: str | None
    key: str | None
    object_version: str | None
    event_name: str
    event_id: str | None
    event_time: datetime | None
    region: str | None
    account: str | None
    caller: str | None
    error_code: str | None
    error_message: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["event_time"] = self.event_time.isoformat() if self.event_time else None
        return out


def artifact_fetch_failure(rec: TrailRecord) -> ArtifactFetchFailure | None:
    """The failure this record describes, or None if it is not one."""
    kind = code_event_kind(rec.event_name)
    if kind is None or (rec.event_source not in (None, LAMBDA_SOURCE)) or not is_nosuchkey(rec):
        return None
    loc = code_location(rec)
    params = rec.request_parameters
    layer = layer_name_from(params.get("layerName")) if kind == "layer" else None
    return ArtifactFetchFailure(
        function_name=None if kind == "layer" else rec.function_name,
        layer=layer, bucket=loc.bucket, key=loc.key, object_version=loc.object_version,
        event_name=rec.event_name, event_id=rec.event_id, event_time=rec.event_time,
        region=rec.region, account=rec.account, caller=rec.caller,
        error_code=rec.error_code, error_message=rec.error_message)


def artifact_fetch_failures(records: Iterable[TrailRecord]) -> list[ArtifactFetchFailure]:
    """All artifact fetch failures, deduplicated by eventID, oldest first."""
    found: dict[str, ArtifactFetchFailure] = {}
    for rec in records:
        failure = artifact_fetch_failure(rec)
        if failure is None:
            continue
        key = failure.event_id or _synthetic_id(failure)
        found.setdefault(key, failure)
    return sorted(found.values(), key=_time_key)


@dataclass(frozen=True)
class CodeUpdate:
    """A successful create or code update of a function, with the code hash Lambda computed."""

    function_name: str
    code_sha256: str
    event_name: str
    event_id: str | None
    event_time: datetime | None
    region: str | None
    account: str | None
    bucket: str | None
    key: str | None
    object_version: str | None
    version: str | None  # the published version (when publish was true)
    revision_id: str | None
    caller: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["event_time"] = self.event_time.isoformat() if self.event_time else None
        return out


def code_history(records: Iterable[TrailRecord], function: str | None = None) -> list[CodeUpdate]:
    """Successful CreateFunction/UpdateFunctionCode calls (of `function`, a name or ARN, or of
    every function) that carry responseElements.codeSha256; deduplicated, oldest first."""
    wanted = function_name_from(function) if function else None
    found: dict[str, CodeUpdate] = {}
    for rec in records:
        kind = code_event_kind(rec.event_name)
        if kind not in ("create", "update") or rec.failed:
            continue
        if rec.event_source not in (None, LAMBDA_SOURCE):
            continue
        resp = rec.response_elements
        sha = resp.get("codeSha256")
        name = rec.function_name
        if not isinstance(sha, str) or not sha or name is None:
            continue
        if wanted is not None and name != wanted:
            continue
        loc = code_location(rec)
        version = resp.get("version")
        revision = resp.get("revisionId")
        update = CodeUpdate(
            function_name=name, code_sha256=sha, event_name=rec.event_name,
            event_id=rec.event_id, event_time=rec.event_time, region=rec.region,
            account=rec.account, bucket=loc.bucket, key=loc.key,
            object_version=loc.object_version,
            version=version if isinstance(version, str) else None,
            revision_id=revision if isinstance(revision, str) else None, caller=rec.caller)
        found.setdefault(update.event_id or _synthetic_id(update), update)
    return sorted(found.values(), key=_time_key)


def _time_key(item: ArtifactFetchFailure | CodeUpdate) -> tuple[str, str]:
    return (item.event_time.isoformat() if item.event_time else "", item.event_id or "")


def _synthetic_id(item: ArtifactFetchFailure | CodeUpdate) -> str:
    """A stand-in identity for records without an eventID (hand-made exports)."""
    return repr((item.event_name, item.event_time, item.bucket, item.key,
                 getattr(item, "function_name", None), item.region, item.account))
