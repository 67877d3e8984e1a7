"""Record builders in the real shapes of docs/reference/aws-behaviour.md#cloudtrail-records (shared by the cloudtrail tests)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

NOSUCHKEY_MSG = ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
                 "The specified key does not exist.")


def plain_count(path: Path) -> int:
    """Records in a file, counted the simplest way: json.loads (or one JSON value a line)."""
    text = path.read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return sum(1 for line in text.splitlines() if line.strip())
    if isinstance(doc, dict) and "Records" in doc:
        return len(doc["Records"])
    return len(doc) if isinstance(doc, list) else 1


def base(event_name: str, when: str, *, region: str = "us-east-1",
         account: str = "123456789012", event_id: str | None = None) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:deployer",
                         "arn": f"arn:aws:sts::{account}:assumed-role/deployer/session",
                         "accountId": account, "invokedBy": "cloudformation.amazonaws.com"},
        "eventTime": when, "eventSource": "lambda.amazonaws.com", "eventName": event_name,
        "awsRegion": region, "sourceIPAddress": "AWS Internal", "userAgent": "AWS Internal",
        "requestParameters": None, "responseElements": None,
        "requestID": str(uuid.uuid4()), "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": account, "eventCategory": "Management",
    }


def create_nosuchkey(fn: str, bucket: str, key: str, when: str, **kw: Any) -> dict[str, Any]:
    """CreateFunction failing on a missing key (the docs/reference/aws-behaviour.md#cloudtrail-records capture's shape)."""
    rec = base("CreateFunction20150331", when, **kw)
    rec["errorCode"] = "InvalidParameterValueException"
    rec["errorMessage"] = NOSUCHKEY_MSG
    rec["requestParameters"] = {"functionName": fn, "runtime": "python3.8",
                                "role": "arn:aws:iam::123456789012:role/fn-role",
                                "handler": "index.handler",
                                "code": {"s3Bucket": bucket, "s3Key": key}}
    return rec


def update_nosuchkey(fn_arn: str, bucket: str, key: str, when: str,
                     version: str | None = None, **kw: Any) -> dict[str, Any]:
    """UpdateFunctionCode from S3 failing on a missing key (top-level s3Bucket/s3Key, docs/reference/aws-behaviour.md#cloudtrail-records)."""
    rec = base("UpdateFunctionCode20150331v2", when, **kw)
    rec["errorCode"] = "InvalidParameterValueException"
    rec["errorMessage"] = NOSUCHKEY_MSG
    rec["requestParameters"] = {"functionName": fn_arn, "publish": False, "dryRun": False,
                                "s3Bucket": bucket, "s3Key": key}
    if version:
        rec["requestParameters"]["s3ObjectVersion"] = version
    return rec


def layer_nosuchkey(layer: str, bucket: str, key: str, when: str, **kw: Any) -> dict[str, Any]:
    rec = base("PublishLayerVersion20181031", when, **kw)
    rec["errorCode"] = "InvalidParameterValueException"
    rec["errorMessage"] = NOSUCHKEY_MSG
    rec["requestParameters"] = {"layerName": layer,
                                "content": {"s3Bucket": bucket, "s3Key": key}}
    return rec


def update_ok(fn: str, sha: str, when: str, bucket: str = "b", key: str = "k.zip",
              **kw: Any) -> dict[str, Any]:
    rec = base("UpdateFunctionCode20150331v2", when, **kw)
    rec["requestParameters"] = {"functionName": fn, "publish": True, "s3Bucket": bucket,
                                "s3Key": key}
    rec["responseElements"] = {"functionName": fn.rsplit(":", 1)[-1], "codeSha256": sha,
                               "version": "3", "revisionId": "rev-1"}
    return rec


def compact(records: list[dict[str, Any]]) -> bytes:
    """A trail file body exactly as CloudTrail writes it."""
    return json.dumps({"Records": records}, separators=(",", ":")).encode()
