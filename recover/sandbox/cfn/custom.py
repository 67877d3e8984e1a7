"""Custom resources whose handler logs the request and never answers, and the response
endpoint that lets someone answer for it (docs/reference/sandbox.md, "Custom resources").

How it works, as on AWS (docs/reference/aws-behaviour.md#custom-resource-requests-and-responses):
- when the engine reaches a custom resource whose properties carry the `SandboxHandlerHangs`
  knob, CloudFormation "sends" the request: a RequestId, a pre-signed ResponseURL (here
  `http://127.0.0.1:PORT/cloudformation-custom-resource-response-<region>/<key>?...`, the key
  being `<stack arn>|<logical id>|<request id>` as in public examples), the handler writes the
  request to its log group `/aws/lambda/<function>` (in the style the knob names) and dies;
- the resource waits `*_IN_PROGRESS` until a response is PUT to that URL, or until its
  ServiceTimeout (default 3600 s, simulated clock) passes, when it fails with AWS's
  "did not receive a response" reason;
- a PUT with the right signature and an empty Content-Type is accepted like S3 does (200);
  CloudFormation then reads the document: SUCCESS finishes the resource, FAILED fails it with
  "Received response status [FAILED] ...", a malformed document fails it too.
The operation thread blocks while it waits, so scenarios start the operation with
`run_until_waiting` (it returns once the request is out).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote

from recover.sandbox import moto_access as aws
from recover.sandbox.cfn.model import SimResource, SimStack

if TYPE_CHECKING:
    from recover.sandbox.cfn.ports import WorldPort as World

HANGS = "SandboxHandlerHangs"  # knob: the handler logs the request (in this style) and never answers
STYLES = ("python-logging", "node-console", "python-print", "none")
LOG_PAGE = 25  # FilterLogEvents answers at most this many events a page (AWS pages at 1 MB or 10,000)
BUCKET_PREFIX = "cloudformation-custom-resource-response-"
# how fault injection names the PUT of a response (recover/act/presigned.py names it alike)
FAULT_KEY = "cloudformation-response:PutCustomResourceResponse"
MAX_RESPONSE = 4096  # bytes (docs/reference/aws-behaviour.md#custom-resource-requests-and-responses)
NO_RESPONSE = (
    "CloudFormation did not receive a response from your Custom Resource. Please check your logs "
    "for requestId [{request_id}]. If you are using the Python cfn-response module, you may need "
    "to update your Lambda function code so that CloudFormation can attach the updated version.")
FAILED_REASON = ("Received response status [FAILED] from custom resource. Message returned: "
                 "{reason} (RequestId: {request_id})")
# Wording not confirmed by a public source; the explain rules know it as a provider failure.
MALFORMED = "CloudFormation received a malformed response from your Custom Resource: {problem}"


def is_custom(res: SimResource) -> bool:
    return res.type.startswith("Custom::") or res.type == "AWS::CloudFormation::CustomResource"


def hangs(res: SimResource) -> bool:
    return is_custom(res) and bool(res.properties.get(HANGS))


def function_name(service_token: str) -> str:
    """arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] -> NAME."""
    parts = service_token.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else service_token


def log_group(service_token: str) -> str:
    return f"/aws/lambda/{function_name(service_token)}"


@dataclass
class Pending:
    key: str
    request: dict[str, Any]
    deadline: datetime
    done: threading.Event = field(default_factory=threading.Event)
    outcome: str | None = None  # None: SUCCESS; else the resource's failure reason


class CustomResourceDesk:
    """The requests CloudFormation has sent and waits on, by response key."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lock = threading.Lock()
        self.pending: dict[str, Pending] = {}
        self.answered: list[dict[str, Any]] = []  # every accepted response document (tests)
        self.secret = f"{world.rng.getrandbits(128):032x}".encode()
        self._changed = threading.Condition(self.lock)

    # --- CloudFormation's side --------------------------------------------------------------

    def request(self, stack: SimStack, res: SimResource, request_type: str,
                old_properties: dict[str, Any] | None = None,
                new_properties: dict[str, Any] | None = None) -> str | None:
        """Send the request for `res`, log it the handler's way, and wait for the answer.
        Returns None on SUCCESS, else the resource's failure reason."""
        w = self.world
        res.status = f"{request_type.upper()}_IN_PROGRESS"
        request_id = w.new_uuid()
        key = f"{stack.stack_id}|{res.logical_id}|{request_id}"
        token = str(res.properties.get("ServiceToken", ""))
        props = {k: v for k, v in (new_properties or res.properties).items()
                 if not k.startswith("Sandbox")}
        event: dict[str, Any] = {
            "RequestType": request_type, "ServiceToken": token,
            "ResponseURL": self.response_url(key), "StackId": stack.stack_id,
            "RequestId": request_id, "LogicalResourceId": res.logical_id,
            "ResourceType": res.type, "ResourceProperties": props}
        if request_type != "Create":
            event["PhysicalResourceId"] = res.physical_id or ""
        if request_type == "Update":
            event["OldResourceProperties"] = {k: v for k, v in (old_properties or {}).items()
                                              if not k.startswith("Sandbox")}
        style = str(res.properties.get(HANGS))
        self.log_request(token, event, style, w.clock())
        timeout = int(res.properties.get("ServiceTimeout", 3600))
        pending = Pending(key, event, w.clock() + timedelta(seconds=timeout))
        with self._changed:
            self.pending[key] = pending
            self._changed.notify_all()
        while not pending.done.wait(0.2):
            if w.clock() >= pending.deadline:
                with self.lock:
                    self.pending.pop(key, None)
                return NO_RESPONSE.format(request_id=request_id)
        return pending.outcome

    def response_url(self, key: str) -> str:
        bucket = BUCKET_PREFIX + self.world.region.replace("-", "")
        stamp = self.world.clock().strftime("%Y%m%dT%H%M%SZ")
        return (f"{self.world.endpoint}/{bucket}/{quote(key, safe='/')}?X-Amz-Algorithm="
                f"AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-SignedHeaders=host&X-Amz-Expires="
                f"7200&X-Amz-Credential=AKIASANDBOXRESPONSE%2F{stamp[:8]}%2F{self.world.region}"
                f"%2Fs3%2Faws4_request&X-Amz-Signature={self._sign(key)}")

    def _sign(self, key: str) -> str:
        return hmac.new(self.secret, key.encode(), hashlib.sha256).hexdigest()

    def log_request(self, service_token: str, event: dict[str, Any], style: str,
                    when: datetime) -> None:
        """What the handler wrote before it died: START, the request, an error, END/REPORT."""
        if style == "none":
            return
        w = self.world
        invocation = w.new_uuid()
        ms = int(when.timestamp() * 1000) + 40
        iso = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        body = json.dumps(event)
        line = {"python-logging": f"[INFO]\t{iso}\t{invocation}\tReceived event: {body}\n",
                "node-console": f"{iso}\t{invocation}\tINFO\tRequest: {body}\n",
                "python-print": f"{event!r}\n"}.get(style, f"{body}\n")
        stream = f"{when:%Y/%m/%d}/[$LATEST]{invocation.replace('-', '')}"
        aws.logs_write(log_group(service_token), stream, w.region, [
            (ms, f"START RequestId: {invocation} Version: $LATEST\n"),
            (ms + 5, line),
            (ms + 900, f"{iso}\t{invocation}\tTask timed out after 300.00 seconds\n"),
            (ms + 901, f"END RequestId: {invocation}\n"),
            (ms + 902, f"REPORT RequestId: {invocation}\tDuration: 300000.00 ms\n")])

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` requests are pending (scenarios)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.pending) >= count, timeout):
                raise RuntimeError("the custom resource request was never sent")

    # --- the response endpoint (S3's side, then CloudFormation reading it) ------------------

    def receive(self, method: str, path: str, query: str, content_type: str | None,
                body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method != "PUT":
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed "
                             "against this resource.")
        bucket, _, quoted = path.lstrip("/").partition("/")
        key = unquote(quoted)
        signature = (parse_qs(query).get("X-Amz-Signature") or [""])[0]
        if bucket != BUCKET_PREFIX + self.world.region.replace("-", "") or not hmac.compare_digest(
                signature, self._sign(key)):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                             "does not match the signature you provided.")
        if content_type:
            # The URL was signed for a PUT without a content type: cfn-response and the
            # documented examples send an empty one (aws-behaviour.md#custom-resource-requests-and-responses).
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated "
                             "does not match the signature you provided. Check your key and "
                             "signing method.")
        with self.lock:
            pending = self.pending.pop(key, None)
        if pending is None:
            return 200, {"ETag": _etag(body)}, b""  # S3 stores it; CloudFormation stopped listening
        pending.outcome = self._read(pending, body)
        self.answered.append({"key": key, "body": body.decode("utf-8", "replace"),
                              "outcome": pending.outcome})
        pending.done.set()
        return 200, {"ETag": _etag(body)}, b""

    @staticmethod
    def _read(pending: Pending, body: bytes) -> str | None:
        """CloudFormation reading the response document: None (SUCCESS) or the failure reason."""
        req = pending.request
        if len(body) > MAX_RESPONSE:
            return "Response object is too long."
        try:
            doc = json.loads(body)
        except ValueError:
            return MALFORMED.format(problem="not JSON")
        if not isinstance(doc, dict):
            return MALFORMED.format(problem="not a JSON object")
        for name in ("StackId", "RequestId", "LogicalResourceId"):
            if doc.get(name) != req[name]:
                return MALFORMED.format(problem=f"{name} does not match the request")
        if not isinstance(doc.get("PhysicalResourceId"), str) or not doc["PhysicalResourceId"]:
            return MALFORMED.format(problem="PhysicalResourceId must be a non-empty string")
        if doc.get("Status") == "SUCCESS":
            return None
        if doc.get("Status") == "FAILED":
            if not doc.get("Reason"):
                return MALFORMED.format(problem="Reason is required when Status is FAILED")
            return FAILED_REASON.format(reason=doc["Reason"], request_id=req["RequestId"])
        return MALFORMED.format(problem="Status must be SUCCESS or FAILED")


def run_until_waiting(world: World, operation: Callable[[], Any], requests: int = 1) -> None:
    """Seeding: start `operation` (a delete, a failed update with its rollback) in its own
    thread and return once `requests` custom resource requests wait for their answer."""
    thread = threading.Thread(target=operation, name="sandbox-cfn-custom-wait", daemon=True)
    thread.start()
    world.custom.wait_for(requests)


def cap_log_page(body: bytes) -> bytes:
    """FilterLogEvents: AWS answers in pages (and may return fewer events than asked, even
    none, with a nextToken); the sandbox answers at most LOG_PAGE events a page."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return body
    if not isinstance(request, dict):
        return body
    request["limit"] = min(int(request.get("limit") or LOG_PAGE), LOG_PAGE)
    return json.dumps(request).encode()


def _etag(body: bytes) -> str:
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


def _s3_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>'
           f"{message}</Message></Error>")
    return status, {"Content-Type": "application/xml"}, xml.encode()
