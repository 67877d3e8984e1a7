"""One CloudTrail record with typed, forgiving accessors.

CloudTrail records come from many places (trail files, Event history, Athena rows, exports that
went through Logstash...) and from many eventVersions (1.03 to 1.11, docs/reference/aws-behaviour.md#cloudtrail-records), so
every accessor returns None (or an empty mapping) instead of raising when a field is missing or
has an unexpected type. The raw dict is kept untouched in `raw`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_EMPTY: Mapping[str, Any] = {}
_FUNCTION_ARN = re.compile(r"^arn:[a-z-]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::.*)?$")
_LAYER_ARN = re.compile(r"^arn:[a-z-]+:lambda:[^:]*:[^:]*:layer:([^:]+)(?::.*)?$")


def parse_event_time(value: Any) -> datetime | None:
    """CloudTrail eventTime (`2023-07-10T11:40:21Z`, sometimes with fractions or an offset, or a
    datetime/epoch from an API) as an aware UTC datetime; None if it cannot be read."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def function_name_from(value: Any) -> str | None:
    """A Lambda function name from a name, a partial or full function ARN (qualifier dropped)."""
    if not isinstance(value, str) or not value:
        return None
    m = _FUNCTION_ARN.match(value)
    if m:
        return m.group(1)
    if ":function:" in value:  # partial ARN `123456789012:function:NAME`
        return value.split(":function:", 1)[1].split(":", 1)[0]
    return value


def layer_name_from(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    m = _LAYER_ARN.match(value)
    return m.group(1) if m else value


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


@dataclass(frozen=True)
class TrailRecord:
    """A read-only view over one raw CloudTrail record (a dict)."""

    raw: Mapping[str, Any]

    @classmethod
    def from_obj(cls, obj: Any) -> TrailRecord | None:
        """A record if `obj` has the shape of one (an object with a string eventName), else None:
        the readers count those as records of the wrong shape."""
        if isinstance(obj, Mapping) and isinstance(obj.get("eventName"), str) and obj["eventName"]:
            return cls(obj)
        return None

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    # -- identity of the event
    @property
    def event_id(self) -> str | None:
        return _str(self.raw.get("eventID"))

    @property
    def event_name(self) -> str:
        return _str(self.raw.get("eventName")) or ""

    @property
    def event_source(self) -> str | None:
        return _str(self.raw.get("eventSource"))

    @property
    def event_time(self) -> datetime | None:
        return parse_event_time(self.raw.get("eventTime"))

    @property
    def event_version(self) -> str | None:
        return _str(self.raw.get("eventVersion"))

    @property
    def event_type(self) -> str | None:
        return _str(self.raw.get("eventType"))

    @property
    def event_category(self) -> str | None:
        return _str(self.raw.get("eventCategory"))

    @property
    def region(self) -> str | None:
        return _str(self.raw.get("awsRegion"))

    @property
    def account(self) -> str | None:
        """The account the event was delivered to (recipientAccountId), else the caller's."""
        return _str(self.raw.get("recipientAccountId")) or _str(self.user_identity.get("accountId"))

    @property
    def request_id(self) -> str | None:
        return _str(self.raw.get("requestID"))

    # -- outcome
    @property
    def error_code(self) -> str | None:
        return _str(self.raw.get("errorCode"))

    @property
    def error_message(self) -> str | None:
        return _str(self.raw.get("errorMessage"))

    @property
    def failed(self) -> bool:
        return self.error_code is not None

    @property
    def read_only(self) -> bool | None:
        value = self.raw.get("readOnly")
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None

    @property
    def management_event(self) -> bool | None:
        value = self.raw.get("managementEvent")
        return value if isinstance(value, bool) else None

    # -- payloads
    @property
    def request_parameters(self) -> Mapping[str, Any]:
        return _mapping(self.raw.get("requestParameters"))

    @property
    def response_elements(self) -> Mapping[str, Any]:
        return _mapping(self.raw.get("responseElements"))

    @property
    def user_identity(self) -> Mapping[str, Any]:
        return _mapping(self.raw.get("userIdentity"))

    @property
    def resources(self) -> list[Mapping[str, Any]]:
        value = self.raw.get("resources")
        return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []

    @property
    def source_ip(self) -> str | None:
        return _str(self.raw.get("sourceIPAddress"))

    @property
    def user_agent(self) -> str | None:
        return _str(self.raw.get("userAgent"))

    @property
    def caller(self) -> str | None:
        """Who made the call, as one string: the identity ARN, else the invoking service, else
        the principal id. For calls CloudFormation makes on a role's behalf the ARN is the
        role session and `invokedBy` says cloudformation.amazonaws.com (docs/reference/aws-behaviour.md#unconfirmed-cloudtrail-details: unconfirmed)."""
        ident = self.user_identity
        return (_str(ident.get("arn")) or _str(ident.get("invokedBy"))
                or _str(ident.get("principalId")) or _str(ident.get("type")))

    @property
    def invoked_by(self) -> str | None:
        return _str(self.user_identity.get("invokedBy"))

    # -- Lambda helpers
    @property
    def function_name(self) -> str | None:
        """The function a Lambda call was about (`functionName` may be a name or an ARN)."""
        return function_name_from(self.request_parameters.get("functionName")) or \
            function_name_from(self.response_elements.get("functionName"))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)
