"""Custom resources that never answer (pure): find the pending request in the handler's log
lines, check where its answer may go, pick the default answer and build the response document
(docs/reference/aws-behaviour.md#custom-resource-requests-and-responses).

A log line is text someone else wrote. Anything in it may be forged: a request for another
stack, an old request, a ResponseURL that points at an internal service. So a request is used
only when its StackId, LogicalResourceId and RequestType are the waiting resource's, it was
logged after the resource's current attempt started, and its ResponseURL is an https URL on
CloudFormation's own response bucket for the stack's region whose key names that same stack,
resource and request (or, against a local sandbox endpoint, that endpoint).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

CUSTOM_TYPE = "AWS::CloudFormation::CustomResource"
DEFAULT_TIMEOUT = 3600  # seconds, per attempt, when ServiceTimeout is not set
BUCKET = "cloudformation-custom-resource-response-"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_RESPONSE = 4096  # bytes: CloudFormation rejects a longer response document
REQUEST_FIELDS = ("RequestType", "RequestId", "StackId", "LogicalResourceId", "ResponseURL")
SKEW = timedelta(minutes=2)  # log and event clocks differ a little
STATUSES = ("SUCCESS", "FAILED")


def is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == CUSTOM_TYPE


@dataclass(frozen=True)
class CustomRequest:
    request_type: str
    request_id: str
    stack_id: str
    logical_id: str
    response_url: str
    physical_id: str = ""
    resource_type: str = ""
    logged_at: datetime | None = None
    stream: str = ""

    def to_dict(self, *, url: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_type": self.request_type, "request_id": self.request_id,
            "stack_id": self.stack_id, "logical_id": self.logical_id,
            "physical_id": self.physical_id, "resource_type": self.resource_type,
            "logged_at": self.logged_at.isoformat() if self.logged_at else None,
            "log_stream": self.stream}
        if url:
            out["response_url"] = self.response_url
        return out


# --- reading log lines ------------------------------------------------------------------------

def parse_requests(lines: Iterable[tuple[datetime, str, str]]) -> list[CustomRequest]:
    """Every request found in (time, message, stream) lines: a JSON object (or a Python dict
    printed with print(event)) anywhere in the line, at any depth, that has the request's
    fields. The same RequestId logged twice (a retried invocation) counts once, oldest first."""
    seen: dict[tuple[str, str], CustomRequest] = {}
    for when, message, stream in lines:
        for obj in _objects(message):
            for candidate in _walk(obj):
                req = _request(candidate, when, stream)
                if req is not None:
                    seen.setdefault((req.request_id, req.response_url), req)
    return sorted(seen.values(), key=lambda r: r.logged_at or datetime.min)


def _objects(text: str) -> Iterable[Any]:
    """Each {...} in the text that parses as JSON, or as a Python literal."""
    decoder = json.JSONDecoder()
    i = text.find("{")
    while i >= 0:
        end = _balanced_end(text, i)
        try:
            obj, used = decoder.raw_decode(text, i)
            yield obj
            i = text.find("{", i + used)
            continue
        except ValueError:
            pass
        if end is not None and "RequestType" in text[i:end]:
            try:
                yield ast.literal_eval(text[i:end])
                i = text.find("{", end)
                continue
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                pass
        i = text.find("{", i + 1)


def _balanced_end(text: str, start: int) -> int | None:
    depth, quote, escaped = 0, "", False
    for j in range(start, min(len(text), start + 262_144)):
        c = text[j]
        if quote:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def _walk(obj: Any, depth: int = 0) -> Iterable[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _walk(v, depth + 1)
    elif isinstance(obj, list):
        for v in obj[:50]:
            yield from _walk(v, depth + 1)


def _request(d: dict[str, Any], when: datetime, stream: str) -> CustomRequest | None:
    if not all(isinstance(d.get(k), str) and d[k] for k in REQUEST_FIELDS):
        return None
    if d["RequestType"] not in ("Create", "Update", "Delete"):
        return None
    physical = d.get("PhysicalResourceId")
    return CustomRequest(
        request_type=d["RequestType"], request_id=d["RequestId"], stack_id=d["StackId"],
        logical_id=d["LogicalResourceId"], response_url=d["ResponseURL"],
        physical_id=physical if isinstance(physical, str) else "",
        resource_type=str(d.get("ResourceType") or ""), logged_at=when, stream=stream)


# --- where an answer may go -------------------------------------------------------------------

def url_problem(req: CustomRequest, region: str, endpoint_url: str | None = None) -> str | None:
    """Why recover must not PUT to this request's ResponseURL (None: it may).

    On AWS: https, no credentials or port in the URL, the host is CloudFormation's response
    bucket for the stack's region (virtual-hosted style on an S3 endpoint), and the object key
    is `<StackId>|<LogicalResourceId>|<RequestId>` of this very request. Against a local
    endpoint (the sandbox): the same bucket and key, path style, on that endpoint only."""
    try:
        parts = urlsplit(req.response_url)
        port = parts.port
    except ValueError:
        return "the ResponseURL is not a valid URL"
    bucket = BUCKET + region.replace("-", "")
    host = (parts.hostname or "").lower()
    if parts.username or parts.password:
        return "the ResponseURL carries credentials"
    local = _local_endpoint(endpoint_url)
    if local and (parts.scheme, host, port) == local:
        first, _, key = parts.path.lstrip("/").partition("/")
        if first != bucket:
            return f"the ResponseURL's bucket is not {bucket}"
    else:
        if parts.scheme != "https":
            return "the ResponseURL is not https"
        if port not in (None, 443):
            return f"the ResponseURL names port {port}"
        suffixes = (f"{bucket}.s3.amazonaws.com", f"{bucket}.s3.{region}.amazonaws.com",
                    f"{bucket}.s3-{region}.amazonaws.com",
                    f"{bucket}.s3.{region}.amazonaws.com.cn")
        if host not in suffixes:
            return (f"the ResponseURL's host {host or '(none)'} is not CloudFormation's response "
                    f"bucket for {region} ({bucket})")
        key = parts.path.lstrip("/")
    if unquote(key) != f"{req.stack_id}|{req.logical_id}|{req.request_id}":
        return "the ResponseURL's key does not name this stack, resource and request"
    return None


def _local_endpoint(endpoint_url: str | None) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a loopback --endpoint-url; None for anything else."""
    if not endpoint_url:
        return None
    try:
        parts = urlsplit(endpoint_url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    return (parts.scheme, host, port) if host in LOOPBACK else None


# --- which request waits ----------------------------------------------------------------------

def expected_type(resource_status: str) -> str:
    """CREATE_IN_PROGRESS -> Create, UPDATE_IN_PROGRESS -> Update, DELETE_IN_PROGRESS -> Delete."""
    return resource_status.split("_", 1)[0].capitalize()


@dataclass
class Found:
    """The request chosen for one waiting resource, and what was set aside and why."""

    request: CustomRequest | None
    rejected: list[tuple[CustomRequest, str]] = field(default_factory=list)
    older: list[CustomRequest] = field(default_factory=list)  # same resource, superseded

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request.to_dict() if self.request else None,
                "rejected": [dict(r.to_dict(url=False), why=why) for r, why in self.rejected],
                "superseded": [r.request_id for r in self.older]}


def choose_request(requests: Sequence[CustomRequest], *, stack_id: str, logical_id: str,
                   resource_status: str, attempt_started: datetime, region: str,
                   endpoint_url: str | None = None) -> Found:
    """The newest request for this resource, of the type its status says, logged since its
    current attempt started, whose ResponseURL may be answered."""
    wanted = expected_type(resource_status)
    found = Found(None)
    usable: list[CustomRequest] = []
    for req in requests:
        if req.logical_id != logical_id:
            continue  # another resource of the same handler: not worth listing
        if req.stack_id != stack_id:
            found.rejected.append((req, "another stack's request"))
        elif req.request_type != wanted:
            found.rejected.append((req, f"a {req.request_type} request; the resource waits on "
                                        f"a {wanted}"))
        elif req.logged_at is not None and req.logged_at < attempt_started - SKEW:
            found.rejected.append((req, "logged before the resource's current attempt"))
        elif (problem := url_problem(req, region, endpoint_url)) is not None:
            found.rejected.append((req, problem))
        else:
            usable.append(req)
    if usable:
        found.request = usable[-1]
        found.older = usable[:-1]
    return found


# --- the answer -------------------------------------------------------------------------------

def deadline(attempt_started: datetime, service_timeout: Any) -> datetime:
    """When CloudFormation gives up on this attempt: ServiceTimeout (1-3600 s) or 1 hour."""
    try:
        seconds = int(str(service_timeout))
    except (TypeError, ValueError):
        seconds = DEFAULT_TIMEOUT
    if not 1 <= seconds <= DEFAULT_TIMEOUT:
        seconds = DEFAULT_TIMEOUT
    return attempt_started + timedelta(seconds=seconds)


def default_status(request_type: str, stack_status: str) -> tuple[str, str]:
    """The answer proposed by default, and why."""
    if request_type == "Delete":
        return "SUCCESS", ("a Delete answered SUCCESS lets the operation go on; CloudFormation "
                           "forgets the resource, which may still exist (recorded in the orphan "
                           "ledger)")
    if request_type == "Update" and "ROLLBACK" in stack_status:
        return "SUCCESS", ("an Update during a rollback answered SUCCESS with the same physical "
                           "id lets the rollback finish; the real resource keeps whatever state "
                           "the handler left it in")
    return "FAILED", (f"a {request_type} of a forward operation answered FAILED fails the "
                      "resource, and the operation rolls back as for any other failure")


def response_document(req: CustomRequest, status: str, reason: str) -> dict[str, Any]:
    """The response, per the protocol: the identifiers copied verbatim from the request, the
    same PhysicalResourceId (a different one would make an Update a replacement)."""
    if status not in STATUSES:
        raise ValueError(f"status must be SUCCESS or FAILED, not {status}")
    physical = req.physical_id or f"{req.logical_id}-{req.request_id}"
    doc: dict[str, Any] = {"Status": status, "Reason": reason, "PhysicalResourceId": physical,
                           "StackId": req.stack_id, "RequestId": req.request_id,
                           "LogicalResourceId": req.logical_id}
    if len(json.dumps(doc).encode()) > MAX_RESPONSE:
        doc["Reason"] = reason[:1000] + "…"
    return doc


def default_reason(status: str, run_id: str) -> str:
    verb = "answered" if status == "SUCCESS" else "failed"
    return (f"recover {verb} this request by hand: its handler never answered "
            f"(run {run_id})")
