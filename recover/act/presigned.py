"""The one change that is not an AWS API call: a custom resource's response, an HTTP PUT of
the response document to the request's pre-signed ResponseURL
(docs/reference/aws-behaviour.md#custom-resource-requests-and-responses). It goes through the
executor like every change (journaled, stopped by --dry-run); the URL was checked before the
Call was built (recover.decide.custom_response.url_problem).

The PUT sends an empty Content-Type (the URL is signed without one), follows no redirect and
sends nothing but the document.

No SDK stands behind this PUT, so it retries by itself what botocore would retry for S3: no
answer at all (a reset, a timeout: the PUT may or may not have been stored), 500 InternalError and
503 SlowDown, a bounded number of times with exponential backoff. Sending the same document to the
same URL again is harmless: S3 stores the same bytes under the same key, and CloudFormation acts
on the response it read first (docs/reference/aws-behaviour.md#custom-resource-requests-and-responses).
Any other answer (403: expired or wrong signature) is final."""

from __future__ import annotations

import http.client
import json
import shlex
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

SERVICE = "cloudformation-response"
OPERATION = "PutCustomResourceResponse"
TIMEOUT = 30.0
ATTEMPTS = 5  # in all, the first included
FIRST_DELAY = 0.5  # seconds before the first retry, doubled for each next one
RETRIED_STATUSES = (500, 503)  # S3's InternalError and SlowDown


class ResponseRefused(Exception):
    """The pre-signed URL answered something other than 200 (expired, signature mismatch)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"the response URL answered HTTP {status}: {body[:300]}")
        self.response = {"Error": {"Code": f"HTTP{status}", "Message": body[:300]}}


def body_of(params: dict[str, Any]) -> bytes:
    return json.dumps(params["Response"], separators=(",", ":")).encode("utf-8")


class NoAnswer(Exception):
    """Every attempt ended without an answer: the response may or may not have been stored."""

    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"no answer from the response URL after {attempts} attempts "
                         f"({type(last).__name__}: {last})")
        self.response = {"Error": {"Code": "NoAnswer", "Message": str(self)}}


def put(params: dict[str, Any], *, attempts: int = ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """PUT the response document, again after no answer or a 500/503; returns {"HTTPStatus",
    "ETag", "Attempts"} or raises ResponseRefused / NoAnswer."""
    delay = FIRST_DELAY
    for attempt in range(1, attempts + 1):
        try:
            status, etag, text = _put_once(params)
        except (OSError, http.client.HTTPException) as exc:  # reset, refused, timed out
            if attempt == attempts:
                raise NoAnswer(attempts, exc) from exc
        else:
            if status == 200:
                return {"HTTPStatus": status, "ETag": etag, "Attempts": attempt}
            if status not in RETRIED_STATUSES or attempt == attempts:
                raise ResponseRefused(status, text)
        sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # the loop returns or raises


def _put_once(params: dict[str, Any]) -> tuple[int, str | None, str]:
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
    return answer.status, answer.getheader("ETag"), text


def cli(params: dict[str, Any]) -> str:
    """The same PUT by hand."""
    return (f"curl -sS -X PUT -H 'Content-Type:' --data-binary "
            f"{shlex.quote(body_of(params).decode())} {shlex.quote(params['ResponseURL'])}")
