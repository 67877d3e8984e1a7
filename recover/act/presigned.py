"""The one change that is not an AWS API call: a custom resource's response, an HTTP PUT of
the response document to the request's pre-signed ResponseURL
(docs/reference/aws-behaviour.md#custom-resource-requests-and-responses). It goes through the
executor like every change (journaled, stopped by --dry-run); the URL was checked before the
Call was built (recover.decide.custom_response.url_problem).

The PUT sends an empty Content-Type (the URL is signed without one), follows no redirect and
sends nothing but the document."""

from __future__ import annotations

import http.client
import json
import shlex
from typing import Any
from urllib.parse import urlsplit

SERVICE = "cloudformation-response"
OPERATION = "PutCustomResourceResponse"
TIMEOUT = 30.0


class ResponseRefused(Exception):
    """The pre-signed URL answered something other than 200 (expired, signature mismatch)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"the response URL answered HTTP {status}: {body[:300]}")
        self.response = {"Error": {"Code": f"HTTP{status}", "Message": body[:300]}}


def body_of(params: dict[str, Any]) -> bytes:
    return json.dumps(params["Response"], separators=(",", ":")).encode("utf-8")


def put(params: dict[str, Any]) -> dict[str, Any]:
    """PUT the response document; returns {"HTTPStatus", "ETag"} or raises ResponseRefused."""
    url = urlsplit(params["ResponseURL"])
    body = body_of(params)
    conn_cls = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(url.hostname or "", url.port, timeout=TIMEOUT)
    try:
        conn.request("PUT", (url.path or "/") + (f"?{url.query}" if url.query else ""), body=body,
                     headers={"Content-Type": "", "Content-Length": str(len(body))})
        answer = conn.getresponse()
        text = answer.read(4096).decode("utf-8", "replace")
    finally:
        conn.close()
    if answer.status != 200:
        raise ResponseRefused(answer.status, text)
    return {"HTTPStatus": answer.status, "ETag": answer.getheader("ETag")}


def cli(params: dict[str, Any]) -> str:
    """The same PUT by hand."""
    return (f"curl -sS -X PUT -H 'Content-Type:' --data-binary "
            f"{shlex.quote(body_of(params).decode())} {shlex.quote(params['ResponseURL'])}")
