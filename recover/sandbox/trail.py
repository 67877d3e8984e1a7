"""The sandbox's CloudTrail: records the API calls the sandbox makes, answers LookupEvents, and
writes trail log files in the real S3 layout.

No moto import here: the recorder is plain data so the CloudTrail readers can be tested against
it without a server, and the sandbox server only has to route the JSON requests to it.

Facts followed (docs/reference/aws-behaviour.md):
- docs/reference/aws-behaviour.md#cloudtrail-records record fields: eventVersion "1.11", eventType AwsApiCall, eventCategory/managementEvent,
  errorCode/errorMessage only present on failure, duplicates share an eventID.
- docs/reference/aws-behaviour.md#lookupevents LookupEvents: one lookup attribute out of 8 keys, inclusive StartTime/EndTime, MaxResults
  1-50 (default 50), NextToken bound to identical parameters, newest first, management events
  of one Region only, last 90 days.
- docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3 file layout: AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_
  <YYYYMMDDTHHmmZ>_<16 chars>.json.gz (delivery time, records unordered), organization trails
  under AWSLogs/<o-id>/<acct>/..., hourly digest files under CloudTrail-Digest/.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import random
import string
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

EVENT_VERSION = "1.11"  # docs/reference/aws-behaviour.md#cloudtrail-records: current eventVersion
LOOKUP_ATTRIBUTE_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType",
                         "ResourceName", "EventSource", "AccessKeyId")  # docs/reference/aws-behaviour.md#lookupevents
MAX_RESULTS = 50  # docs/reference/aws-behaviour.md#lookupevents: MaxResults 1-50, default 50
EVENT_HISTORY_DAYS = 90  # docs/reference/aws-behaviour.md#lookupevents: Event history covers the last 90 days
DELIVERY_WINDOW = timedelta(minutes=5)  # docs/reference/aws-behaviour.md#cloudtrail-delivery-and-blind-spots: "within an average of about 5 minutes"
_ALNUM = string.ascii_letters + string.digits

# Data events (not management events) the sandbox may record: object-level S3 calls and Lambda
# Invoke. They are written to trail files (as a trail with data events on would) but are never
# returned by LookupEvents (docs/reference/aws-behaviour.md#lookupevents: "Data events are not in Event history").
_DATA_EVENTS = {
    "s3.amazonaws.com": {"GetObject", "PutObject", "DeleteObject", "DeleteObjects", "CopyObject",
                         "HeadObject", "GetObjectAcl", "PutObjectAcl", "RestoreObject",
                         "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
                         "AbortMultipartUpload", "GetObjectTagging", "PutObjectTagging",
                         "DeleteObjectTagging", "ListObjects", "ListObjectsV2",
                         "ListObjectVersions", "GetObjectAttributes"},
    "lambda.amazonaws.com": {"Invoke"},
}


class TrailApiError(Exception):
    """A modeled CloudTrail error: the sandbox server turns it into a JSON-protocol error body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def format_event_time(when: datetime) -> str:
    """CloudTrail's eventTime format: UTC, second precision, trailing Z."""
    return _utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _parse_time_param(value: Any, name: str) -> datetime | None:
    """A StartTime/EndTime as it arrives: epoch seconds on the wire (JSON protocol), a datetime
    in-process, or an ISO-8601 string."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, bool):
        raise TrailApiError("InvalidTimeRangeException", f"{name} is not a valid timestamp.")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            try:
                return datetime.fromtimestamp(float(value), UTC)
            except ValueError:
                pass
    raise TrailApiError("InvalidTimeRangeException", f"{name} is not a valid timestamp.")


class _Entry:
    """One stored record plus what the recorder needs to sort and filter it cheaply."""

    __slots__ = ("seq", "when", "record")

    def __init__(self, seq: int, when: datetime, record: dict[str, Any]) -> None:
        self.seq = seq
        self.when = when
        self.record = record

    @property
    def sort_key(self) -> tuple[float, int]:
        return (self.when.timestamp(), self.seq)


class TrailRecorder:
    """CloudTrail for one sandbox account. Thread-safe (the sandbox server is threaded)."""

    def __init__(self, account: str, region: str, clock: Callable[[], datetime],
                 *, seed: int = 0) -> None:
        self.account = account
        self.region = region
        self.clock = clock
        self.seed = seed
        self._rng = random.Random(seed)  # eventIDs/requestIDs: reproducible given the seed
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []

    # ---------------------------------------------------------------- recording

    def record(self, *, event_name: str, event_source: str, request_parameters: dict | None,
               response_elements: dict | None = None, error_code: str | None = None,
               error_message: str | None = None, user_identity: dict | None = None,
               resources: list[dict] | None = None, event_time: datetime | None = None,
               read_only: bool = False, source_ip: str = "AWS Internal",
               user_agent: str = "AWS Internal", region: str | None = None) -> dict:
        """Store one API call as a full CloudTrail record (docs/reference/aws-behaviour.md#cloudtrail-records) and return a copy of it."""
        when = _utc(event_time) if event_time is not None else _utc(self.clock())
        is_data = event_name in _DATA_EVENTS.get(event_source, ())
        with self._lock:
            event_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            request_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            rec: dict[str, Any] = {
                "eventVersion": EVENT_VERSION,
                "userIdentity": copy.deepcopy(user_identity) if user_identity is not None
                else self._default_identity(),
                "eventTime": format_event_time(when),
                "eventSource": event_source,
                "eventName": event_name,
                "awsRegion": region or self.region,
                "sourceIPAddress": source_ip,
                "userAgent": user_agent,
            }
            # docs/reference/aws-behaviour.md#cloudtrail-records: errorCode/errorMessage exist only on failed calls.
            if error_code is not None:
                rec["errorCode"] = error_code
            if error_message is not None:
                rec["errorMessage"] = error_message
            rec["requestParameters"] = copy.deepcopy(request_parameters)
            rec["responseElements"] = copy.deepcopy(response_elements)
            rec["requestID"] = request_id
            rec["eventID"] = event_id
            rec["readOnly"] = bool(read_only)
            if resources:
                rec["resources"] = copy.deepcopy(resources)
            rec["eventType"] = "AwsApiCall"
            rec["managementEvent"] = not is_data
            rec["recipientAccountId"] = self.account
            rec["eventCategory"] = "Data" if is_data else "Management"
            self._entries.append(_Entry(len(self._entries), when, rec))
            return copy.deepcopy(rec)

    def mark_omitted(self, event_id: str) -> None:
        """Mark a stored record as cut short (`omitted: true`, docs/reference/aws-behaviour.md#cloudtrail-records)."""
        with self._lock:
            for e in self._entries:
                if e.record.get("eventID") == event_id:
                    e.record["omitted"] = True

    def _default_identity(self) -> dict[str, Any]:
        """The deployer's assumed role acting through CloudFormation (what a stack operation's
        calls to Lambda/S3 look like; docs/reference/aws-behaviour.md#unconfirmed-cloudtrail-details: the exact invokedBy form is unconfirmed)."""
        acct = self.account
        return {
            "type": "AssumedRole",
            "principalId": "AROASANDBOXDEPLOYER0:recover-sandbox",
            "arn": f"arn:aws:sts::{acct}:assumed-role/sandbox-deployer/recover-sandbox",
            "accountId": acct,
            "accessKeyId": "ASIASANDBOXKEY000001",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROASANDBOXDEPLOYER0",
                                  "arn": f"arn:aws:iam::{acct}:role/sandbox-deployer",
                                  "accountId": acct, "userName": "sandbox-deployer"},
                "attributes": {"creationDate": "2026-01-01T00:00:00Z",
                               "mfaAuthenticated": "false"},
            },
            "invokedBy": "cloudformation.amazonaws.com",
        }

    def records(self) -> list[dict]:
        """Every record so far, oldest first (deep copies)."""
        with self._lock:
            entries = sorted(self._entries, key=lambda e: e.sort_key)
            return [copy.deepcopy(e.record) for e in entries]

    # ---------------------------------------------------------------- LookupEvents

    def lookup_events(self, request: dict, *, region: str | None = None) -> dict:
        """Answer a LookupEvents request (botocore parameter names) for one Region (default: the
        recorder's). The response is JSON-ready: EventTime is epoch seconds, as on the wire.
        Raises TrailApiError with the modeled error codes (docs/reference/aws-behaviour.md#lookupevents)."""
        region = region or self.region
        attrs = request.get("LookupAttributes") or []
        if not isinstance(attrs, list):
            raise TrailApiError("InvalidLookupAttributesException",
                                "LookupAttributes must be a list.")
        if len(attrs) > 1:  # docs/reference/aws-behaviour.md#lookupevents: "Currently the list can contain only one item"
            raise TrailApiError("InvalidLookupAttributesException",
                                "You can only specify one lookup attribute.")
        attr_key = attr_value = None
        if attrs:
            attr = attrs[0] if isinstance(attrs[0], dict) else {}
            attr_key, attr_value = attr.get("AttributeKey"), attr.get("AttributeValue")
            if attr_key not in LOOKUP_ATTRIBUTE_KEYS:
                raise TrailApiError("InvalidLookupAttributesException",
                                    f"Invalid lookup attribute key: {attr_key}. Valid keys: "
                                    + ", ".join(LOOKUP_ATTRIBUTE_KEYS) + ".")
            if not isinstance(attr_value, str) or not attr_value:
                raise TrailApiError("InvalidLookupAttributesException",
                                    "The lookup attribute value must not be empty.")
            if _attribute_value_length(attr_value) > 2000:  # docs/reference/aws-behaviour.md#lookupevents
                raise TrailApiError("InvalidLookupAttributesException",
                                    "The lookup attribute value is longer than 2000 characters.")

        category = request.get("EventCategory")
        if category is not None and category != "insight":
            raise TrailApiError("InvalidEventCategoryException",
                                f"Invalid event category: {category}.")

        start = _parse_time_param(request.get("StartTime"), "StartTime")
        end = _parse_time_param(request.get("EndTime"), "EndTime")
        if start is not None and end is not None and start > end:
            raise TrailApiError("InvalidTimeRangeException",
                                "Start time must not be later than end time.")

        max_results = request.get("MaxResults", MAX_RESULTS)
        if max_results is None:
            max_results = MAX_RESULTS
        if (not isinstance(max_results, int) or isinstance(max_results, bool)
                or not 1 <= max_results <= MAX_RESULTS):
            raise TrailApiError("InvalidMaxResultsException",
                                f"MaxResults must be between 1 and {MAX_RESULTS}.")

        # NextToken is bound to the other parameters (docs/reference/aws-behaviour.md#lookupevents: reuse with identical params).
        fingerprint = _fingerprint(region, attr_key, attr_value, category, start, end)
        after: tuple[float, int] | None = None
        token = request.get("NextToken")
        if token is not None:
            after = _decode_token(token, fingerprint)

        oldest = _utc(self.clock()) - timedelta(days=EVENT_HISTORY_DAYS)
        with self._lock:
            candidates = [e for e in self._entries
                          if category is None  # the sandbox records no Insights events
                          and e.record.get("awsRegion") == region
                          and e.record.get("managementEvent") is True
                          and e.when >= oldest
                          and (start is None or e.when >= start)
                          and (end is None or e.when <= end)
                          and (attr_key is None or _matches(e.record, attr_key, attr_value))]
            candidates.sort(key=lambda e: e.sort_key, reverse=True)  # newest first
            if after is not None:
                candidates = [e for e in candidates if e.sort_key < after]
            page = candidates[:max_results]
            events = [_lookup_item(e) for e in page]
        out: dict[str, Any] = {"Events": events}
        if len(candidates) > max_results:
            out["NextToken"] = _encode_token(page[-1].sort_key, fingerprint)
        return out

    # ---------------------------------------------------------------- trail files

    def write_trail_files(self, put_object: Callable[[str, bytes], None], prefix: str = "",
                          *, organization_id: str | None = None,
                          trail_name: str = "recover-sandbox-trail", bucket: str = "",
                          max_records_per_file: int = 100) -> list[str]:
        """Write every record as gzip `{"Records": [...]}` log files in the real layout (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3),
        one or more files per account, Region and 5-minute delivery window, records shuffled
        inside a file, plus one digest file per hour and Region (readers must skip those).
        Names are deterministic given the recorder's seed. Returns the keys written."""
        base = f"{prefix.strip('/')}/AWSLogs/" if prefix.strip("/") else "AWSLogs/"
        if organization_id:
            base += f"{organization_id}/"
        groups: dict[tuple[str, str, datetime], list[_Entry]] = {}
        with self._lock:
            for e in sorted(self._entries, key=lambda e: e.sort_key):
                acct = e.record.get("recipientAccountId") or self.account
                reg = e.record.get("awsRegion") or self.region
                groups.setdefault((acct, reg, _delivery_time(e.when)), []).append(e)

        keys: list[str] = []
        digests: dict[tuple[str, str, datetime], list[dict[str, Any]]] = {}
        for (acct, reg, delivered), entries in sorted(groups.items()):
            for index in range(0, len(entries), max(1, max_records_per_file)):
                chunk = entries[index:index + max_records_per_file]
                rng = random.Random(_derive_seed(self.seed, acct, reg, delivered, index))
                unique = "".join(rng.choice(_ALNUM) for _ in range(16))
                records = [e.record for e in chunk]
                rng.shuffle(records)  # docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3: records are not ordered
                raw = json.dumps({"Records": records}, separators=(",", ":")).encode()
                key = (f"{base}{acct}/CloudTrail/{reg}/{delivered:%Y/%m/%d}/"
                       f"{acct}_CloudTrail_{reg}_{delivered:%Y%m%dT%H%MZ}_{unique}.json.gz")
                put_object(key, gzip.compress(raw, mtime=0))
                keys.append(key)
                hour = delivered.replace(minute=0, second=0, microsecond=0)
                digests.setdefault((acct, reg, hour), []).append({
                    "s3Bucket": bucket, "s3Object": key,
                    "hashValue": hashlib.sha256(raw).hexdigest(), "hashAlgorithm": "SHA-256",
                    "newestEventTime": format_event_time(max(e.when for e in chunk)),
                    "oldestEventTime": format_event_time(min(e.when for e in chunk)),
                })

        previous: dict[tuple[str, str], str | None] = {}
        for (acct, reg, hour), log_files in sorted(digests.items()):
            end = hour + timedelta(hours=1)
            key = (f"{base}{acct}/CloudTrail-Digest/{reg}/{end:%Y/%m/%d}/"
                   f"{acct}_CloudTrail-Digest_{reg}_{trail_name}_{reg}_{end:%Y%m%dT%H%M%SZ}.json.gz")
            digest = {
                "awsAccountId": acct,
                "digestStartTime": format_event_time(hour),
                "digestEndTime": format_event_time(end),
                "digestS3Bucket": bucket, "digestS3Object": key,
                "digestPublicKeyFingerprint": hashlib.sha256(f"{self.seed}".encode()).hexdigest()[:32],
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": max(f["newestEventTime"] for f in log_files),
                "oldestEventTime": min(f["oldestEventTime"] for f in log_files),
                "previousDigestS3Bucket": bucket if previous.get((acct, reg)) else None,
                "previousDigestS3Object": previous.get((acct, reg)),
                "previousDigestHashValue": None, "previousDigestHashAlgorithm": None,
                "previousDigestSignature": None,
                "logFiles": log_files,
            }
            previous[(acct, reg)] = key
            put_object(key, gzip.compress(json.dumps(digest, separators=(",", ":")).encode(),
                                          mtime=0))
            keys.append(key)
        return keys


# -------------------------------------------------------------------- helpers


def _attribute_value_length(value: str) -> int:
    """docs/reference/aws-behaviour.md#lookupevents: `_`, space, `,` and newline count as two characters."""
    return len(value) + sum(value.count(c) for c in "_ ,\n")


def _username(record: dict[str, Any]) -> str | None:
    """The Username Event history shows: the IAM user name, the role session name for an
    assumed role, "root" for the root user, or the service for AWS service calls."""
    ident = record.get("userIdentity")
    if not isinstance(ident, dict):
        return None
    if ident.get("userName"):
        return str(ident["userName"])
    kind = ident.get("type")
    arn = str(ident.get("arn") or "")
    if kind == "AssumedRole" and "/" in arn:
        return arn.rsplit("/", 1)[1]
    if kind == "Root":
        return "root"
    if ident.get("invokedBy"):
        return str(ident["invokedBy"])
    return None


def _resources(record: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for r in record.get("resources") or []:
        if isinstance(r, dict):
            out.append({"ResourceType": str(r.get("type") or r.get("ResourceType") or ""),
                        "ResourceName": str(r.get("ARN") or r.get("ResourceName") or "")})
    return out


def _matches(record: dict[str, Any], key: str, value: str) -> bool:
    ident = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
    if key == "EventId":
        return record.get("eventID") == value
    if key == "EventName":
        return record.get("eventName") == value  # exact match (docs/reference/aws-behaviour.md#lambda-event-names-in-cloudtrail)
    if key == "EventSource":
        return record.get("eventSource") == value
    if key == "ReadOnly":
        return str(bool(record.get("readOnly"))).lower() == value.lower()
    if key == "Username":
        return _username(record) == value
    if key == "AccessKeyId":
        return ident.get("accessKeyId") == value
    if key == "ResourceType":
        return any(r["ResourceType"] == value for r in _resources(record))
    if key == "ResourceName":
        # IAM roles are matched by role name too (how event history names them: a guess)
        return any(r["ResourceName"] == value or r["ResourceName"].rsplit(":", 1)[-1] == value
                   or (r["ResourceType"] == "AWS::IAM::Role"
                       and r["ResourceName"].rsplit("/", 1)[-1] == value)
                   for r in _resources(record))
    return False


def _lookup_item(entry: _Entry) -> dict[str, Any]:
    rec = entry.record
    item: dict[str, Any] = {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": str(bool(rec.get("readOnly"))).lower(),
    }
    ident = rec.get("userIdentity") if isinstance(rec.get("userIdentity"), dict) else {}
    if ident.get("accessKeyId"):
        item["AccessKeyId"] = ident["accessKeyId"]
    item["EventTime"] = int(entry.when.timestamp())  # JSON protocol: epoch seconds
    item["EventSource"] = rec["eventSource"]
    user = _username(rec)
    if user:
        item["Username"] = user
    item["Resources"] = _resources(rec)
    item["CloudTrailEvent"] = json.dumps(rec, separators=(",", ":"))
    return item


def _fingerprint(*parts: Any) -> str:
    text = json.dumps([p.isoformat() if isinstance(p, datetime) else p for p in parts])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_token(after: tuple[float, int], fingerprint: str) -> str:
    raw = json.dumps({"t": after[0], "s": after[1], "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: Any, fingerprint: str) -> tuple[float, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        after = (float(data["t"]), int(data["s"]))
        matches = data["f"] == fingerprint
    except (ValueError, KeyError, TypeError):
        raise TrailApiError("InvalidNextTokenException", "Invalid NextToken.") from None
    if not matches:
        raise TrailApiError("InvalidNextTokenException",
                            "The NextToken does not match the request parameters it came from.")
    return after


def _delivery_time(when: datetime) -> datetime:
    """The end of the 5-minute window an event falls in: when its file is delivered."""
    floored = when.replace(minute=when.minute - when.minute % 5, second=0, microsecond=0)
    return floored + DELIVERY_WINDOW


def _derive_seed(seed: int, *parts: Any) -> int:
    text = "|".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
