"""Wire formats: which service and operation a request is for, and AWS-shaped answers (query XML,
JSON, rest-json, rest-xml) for results and errors, parsed the way botocore parses them."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.core.parse import QueryParser
from moto.core.serialize import QuerySerializer, SerializationContext
from moto.core.utils import get_service_model
from werkzeug.datastructures import MultiDict

PROTOCOL = {"cloudformation": "query", "iam": "query", "sts": "query", "ec2": "ec2",
            "cloudtrail": "json", "logs": "json", "lambda": "rest-json", "s3": "rest-xml"}

# (code, HTTP status) per protocol family and fault kind
FAULT_CODES: dict[str, dict[str, tuple[str, int]]] = {
    "query": {"throttle": ("Throttling", 400), "deny": ("AccessDenied", 403),
              "server_error": ("InternalFailure", 500), "expired": ("ExpiredToken", 400)},
    "ec2": {"throttle": ("RequestLimitExceeded", 503), "deny": ("UnauthorizedOperation", 403),
            "server_error": ("InternalError", 500), "expired": ("RequestExpired", 400)},
    "json": {"throttle": ("ThrottlingException", 400), "deny": ("AccessDeniedException", 400),
             "server_error": ("InternalFailure", 500), "expired": ("ExpiredTokenException", 400)},
    "rest-json": {"throttle": ("TooManyRequestsException", 429),
                  "deny": ("AccessDeniedException", 403),
                  "server_error": ("ServiceException", 500),
                  "expired": ("ExpiredTokenException", 403)},
    "rest-xml": {"throttle": ("SlowDown", 503), "deny": ("AccessDenied", 403),
                 "server_error": ("InternalError", 500), "expired": ("ExpiredToken", 400)},
}

_LAMBDA_ROUTES = [
    ("GET", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/?$"), "GetFunction"),
    ("PUT", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/code/?$"), "UpdateFunctionCode"),
    ("GET", re.compile(r"^/2015-03-31/functions/?$"), "ListFunctions"),
    ("POST", re.compile(r"^/2015-03-31/functions/?$"), "CreateFunction"),
    ("DELETE", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/?$"), "DeleteFunction"),
    ("GET", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/versions/?$"),
     "ListVersionsByFunction"),
    ("POST", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/versions/?$"), "PublishVersion"),
]


def service_of(environ: dict[str, Any]) -> str | None:
    """From the SigV4 credential scope `<date>/<region>/<service>/aws4_request`."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request", auth)
    if m:
        return m.group(1).lower()
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("com.amazonaws.cloudtrail"):
        return "cloudtrail"
    return None


def region_of(environ: dict[str, Any]) -> str | None:
    """The region a SigV4-signed request was signed for (None when unsigned)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/[^/]+/aws4_request", auth)
    return m.group(1) if m else None


def operation_of(service: str, environ: dict[str, Any], body: bytes) -> str:
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    proto = PROTOCOL.get(service, "query")
    if proto in ("query", "ec2"):
        return query_values(environ, body).get("Action", "")
    if proto == "json":
        return environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
    if service == "lambda":
        for verb, pattern, name in _LAMBDA_ROUTES:
            if verb == method and pattern.match(path):
                return name
        return "Unknown"
    if service == "s3":
        return _s3_operation(method, path, environ.get("QUERY_STRING", ""))
    return "Unknown"


def lambda_route(environ: dict[str, Any]) -> tuple[str, str] | None:
    for verb, pattern, name in _LAMBDA_ROUTES:
        m = pattern.match(environ.get("PATH_INFO", ""))
        if verb == environ.get("REQUEST_METHOD") and m and "name" in m.groupdict():
            return name, m.group("name")
    return None


def variant_of(service: str, operation: str, environ: dict[str, Any]) -> str | None:
    """A finer name behind a coarse operation, for fault rules: S3 CopyObject is a PUT on the
    key like PutObject, told apart by its x-amz-copy-source header."""
    if service == "s3" and operation == "PutObject" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        return "CopyObject"
    return None


def _s3_operation(method: str, path: str, query: str) -> str:
    """Coarse S3 operation names (path-style addressing, which botocore uses for 127.0.0.1)."""
    has_key = len(path.strip("/").split("/", 1)) == 2
    qs = parse_qs(query, keep_blank_values=True)
    if has_key:
        return {"GET": "GetObject", "PUT": "PutObject",
                "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, "Unknown")
    if method == "GET":
        return "ListObjectVersions" if "versions" in qs else "ListObjects"
    return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket",
            "POST": "DeleteObjects"}.get(method, "Unknown")


def query_values(environ: dict[str, Any], body: bytes) -> dict[str, str]:
    values = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if body:
        values.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                                    keep_blank_values=True).items()})
    return values


def parse_query(service: str, action: str, environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Query-protocol parameters into botocore-named values (lists, structures) via moto's parser."""
    op = get_service_model(service).operation_model(action)
    pairs = list(parse_qs(environ.get("QUERY_STRING", "")).items())
    pairs += list(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items())
    values = MultiDict([(k, v) for k, vs in pairs for v in vs])
    return QueryParser(op).parse({"values": values, "body": body, "headers": {}, "method": "POST",
                                  "url_params": {}, "url_path": "/"})


def serialize_query(service: str, action: str, result: dict[str, Any]) -> tuple[int, dict, bytes]:
    op = get_service_model(service).operation_model(action)
    resp = QuerySerializer(op, SerializationContext(str(uuid.uuid4()))).serialize(result)
    body = resp["body"]
    return 200, {"Content-Type": "text/xml"}, body.encode() if isinstance(body, str) else body


def error_response(protocol: str, code: str, message: str, status: int,
                   sender: bool = True) -> tuple[int, dict[str, str], bytes]:
    rid = str(uuid.uuid4())
    if protocol == "query":
        kind = "Sender" if sender else "Receiver"
        body = (f'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
                f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId>"
                f"</ErrorResponse>")
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, body.encode()
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}"
                f"</Message></Error></Errors><RequestID>{rid}</RequestID></Response>")
        return status, {"Content-Type": "text/xml"}, body.encode()
    if protocol == "rest-xml":
        body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{rid}</RequestId></Error>")
        return status, {"Content-Type": "application/xml", "x-amz-request-id": rid}, body.encode()
    if protocol == "rest-json":
        body = json.dumps({"Type": "User" if sender else "Service", "message": message})
        return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code,
                        "x-amzn-RequestId": rid}, body.encode()
    body = json.dumps({"__type": code, "message": message})
    return status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": rid}, \
        body.encode()
