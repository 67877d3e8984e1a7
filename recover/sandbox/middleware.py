"""Our WSGI layer in front of moto's server app.

- /_sandbox/...: the control plane (health, fault injection, Lambda code downloads).
- every request: fault injection first (answered in the called service's protocol, or the
  connection dropped with no answer, before or after serving the request).
- CloudFormation (all of it): our engine; moto's CloudFormation backend is never reached.
- CloudTrail LookupEvents: the TrailRecorder.
- Lambda GetFunction: moto answers, then Code.Location is rewritten to a URL on this server that
  really returns the zip, and CodeSha256 is recomputed from those bytes (docs/reference/aws-behaviour.md#where-aws-records-a-functions-codesha256);
  REFERENCE code gets Code.ResolvedS3Object (and Code.Error once its object is unreadable).
- Lambda CreateFunction / UpdateFunctionCode / PublishVersion / DeleteFunction: moto answers,
  and the code's storage mode is remembered (recover/sandbox/lambda_storage.py).
- anything else: moto.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import traceback
from collections.abc import Callable, Iterable
from typing import Any, NoReturn
from urllib.parse import parse_qs, quote, unquote

from recover.sandbox import moto_access as aws
from recover.sandbox import protocol, stack_trail
from recover.sandbox.cfn import custom, operations
from recover.sandbox.cfn.model import CfnError
from recover.sandbox.trail import TrailApiError
from recover.sandbox.world import World

Response = tuple[int, dict[str, str], bytes]
CFN_ACTIONS = {
    "DescribeStacks": "describe_stacks", "ListStacks": "list_stacks",
    "DescribeStackEvents": "describe_stack_events",
    "ListStackResources": "list_stack_resources",
    "DescribeStackResources": "describe_stack_resources",
    "DescribeStackResource": "describe_stack_resource", "GetTemplate": "get_template",
    "ContinueUpdateRollback": "continue_update_rollback", "DeleteStack": "delete_stack",
    "UpdateStack": "update_stack", "UpdateTerminationProtection": "update_termination_protection",
    "RollbackStack": "rollback_stack", "CreateChangeSet": "create_change_set",
    "DetectStackResourceDrift": "detect_stack_resource_drift",
    "DescribeChangeSet": "describe_change_set", "ExecuteChangeSet": "execute_change_set",
    "DescribeEvents": "describe_events", "GetHookResult": "get_hook_result",
}
_CODE_STORAGE_OPS = ("CreateFunction", "UpdateFunctionCode", "PublishVersion", "DeleteFunction")
_STATUS_TEXT = {200: "OK", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
                404: "Not Found", 412: "Precondition Failed", 429: "Too Many Requests", 500: "Internal Server Error",
                503: "Service Unavailable"}


class SandboxMiddleware:
    def __init__(self, moto_app: Callable[..., Iterable[bytes]], world: World) -> None:
        self.moto_app = moto_app
        self.world = world

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = _read_body(environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox/"):
            return _send(start_response, self._control(environ, path, body))
        if path.startswith("/" + custom.BUCKET_PREFIX):  # a pre-signed custom resource response
            return self._custom_response(environ, path, body, start_response)
        service = protocol.service_of(environ)
        if service is None:
            # unsigned query requests (aws --no-sign-request): CloudFormation by Action + Version
            values = protocol.query_values(environ, body)
            if values.get("Version") == "2010-05-15" and \
                    values.get("Action") in CFN_ACTIONS:
                service = "cloudformation"
            else:
                return self.moto_app(environ, start_response)
        op = protocol.operation_of(service, environ, body)
        logged = self.world.log_request(service, op, environ.get("REQUEST_METHOD", ""))
        self.world.faults.fire_hooks(service, op)
        fault = self.world.faults.check(service, op, protocol.variant_of(service, op, environ))
        if fault is not None and fault.kind == "connection_reset":
            _drop_connection(environ)
        if fault is not None and fault.kind == "answer_lost":
            _call(lambda env, sr: self._serve(service, op, env, body, sr, logged), environ)
            _drop_connection(environ)
        if fault is not None:
            logged["fault"] = fault.kind
            proto = protocol.PROTOCOL.get(service, "query")
            code, status = protocol.FAULT_CODES[proto][fault.kind]
            return _send(start_response, protocol.error_response(
                proto, code, fault.message, status, sender=fault.kind != "server_error"))
        return self._serve(service, op, environ, body, start_response, logged)

    def _serve(self, service: str, op: str, environ: dict[str, Any], body: bytes,
               start_response: Callable[..., Any], logged: dict[str, Any] | None = None) -> Any:
        if service == "cloudformation":
            return _send(start_response, self._cloudformation(op, environ, body, logged))
        if service == "cloudtrail" and op == "LookupEvents":
            return _send(start_response, self._lookup_events(environ, body))
        if service == "logs" and op == "FilterLogEvents":
            body = custom.cap_log_page(body)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        if service == "lambda" and op == "GetFunction":
            return self._get_function(environ, start_response)
        if service == "lambda" and op in _CODE_STORAGE_OPS:
            return self._code_storage_call(op, environ, body, start_response)
        if protocol.variant_of(service, op, environ) == "CopyObject":
            refused = _copy_precondition(environ)
            if refused is not None:
                return _send(start_response, refused)
        return self.moto_app(environ, start_response)

    def _custom_response(self, environ: dict[str, Any], path: str, body: bytes,
                         start_response: Callable[..., Any]) -> Any:
        """The PUT to a custom resource's pre-signed ResponseURL, S3's side. The rate faults
        apply to it like to any request ("cloudformation-response:PutCustomResourceResponse"),
        the credential faults do not (the URL carries CloudFormation's signature)."""
        def serve() -> Response:
            return self.world.custom.receive(
                environ.get("REQUEST_METHOD", ""), path, environ.get("QUERY_STRING", ""),
                environ.get("CONTENT_TYPE"), body)

        service, op = custom.FAULT_KEY.split(":")
        logged = self.world.log_request(service, op, environ.get("REQUEST_METHOD", ""))
        self.world.faults.fire_hooks(service, op)
        fault = self.world.faults.check(service, op, presigned=True)
        if fault is not None and fault.kind == "connection_reset":
            _drop_connection(environ)
        if fault is not None and fault.kind == "answer_lost":
            serve()
            _drop_connection(environ)
        if fault is not None:  # S3 answers the pre-signed PUT: its error codes
            logged["fault"] = fault.kind
            code, status = protocol.FAULT_CODES["rest-xml"][fault.kind]
            return _send(start_response, protocol.error_response(
                "rest-xml", code, fault.message, status, sender=fault.kind != "server_error"))
        return _send(start_response, serve())

    # --- CloudFormation -------------------------------------------------------------------

    def _cloudformation(self, action: str, environ: dict[str, Any], body: bytes,
                        logged: dict[str, Any] | None = None) -> Response:
        method = CFN_ACTIONS.get(action)
        if method is None:
            return protocol.error_response(
                "query", "InvalidAction",
                f"The recover sandbox does not implement CloudFormation {action or '(no Action)'}",
                400)
        params: dict[str, Any] | None = None
        try:
            params = protocol.parse_query("cloudformation", action, environ, body)
            if logged is not None:
                logged["params"] = params
            region = protocol.region_of(environ)
            if region and region != self.world.region:
                result = _empty_region_cloudformation(action, params)
            else:
                result = operations.present(self.world.cfn, action,
                                            getattr(self.world.cfn, method)(params))
                stack_trail.record(self.world, action, params, result)
        except CfnError as err:
            if params is not None:
                stack_trail.record(self.world, action, params, None, (err.code, err.message))
            return protocol.error_response("query", err.code, err.message, err.status)
        except KeyError as err:
            return protocol.error_response("query", "ValidationError",
                                           f"1 validation error detected: Value null at "
                                           f"'{str(err).strip(chr(39))}' failed to satisfy "
                                           "constraint: Member must not be null", 400)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer like AWS
            traceback.print_exc()
            return protocol.error_response("query", "InternalFailure", f"sandbox bug: {exc}", 500,
                                           sender=False)
        return protocol.serialize_query("cloudformation", action, result)

    # --- CloudTrail -----------------------------------------------------------------------

    def _lookup_events(self, environ: dict[str, Any], body: bytes) -> Response:
        try:
            request = json.loads(body or b"{}")
            region = protocol.region_of(environ)
            if region and region != self.world.region:  # the world lives in one region
                result = {"Events": []}
            else:
                result = self.world.trail.lookup_events(request)
        except TrailApiError as err:
            return protocol.error_response("json", err.code, err.message, 400)
        except ValueError:
            return protocol.error_response("json", "SerializationException",
                                           "request body is not JSON", 400)
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(result).encode()

    # --- Lambda ---------------------------------------------------------------------------

    def _get_function(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        status, headers, body = _call(self.moto_app, environ)
        route = protocol.lambda_route(environ)
        if status != 200 or route is None:
            return _send(start_response, (status, headers, body))
        name = unquote(route[1])
        qualifier = parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier", [None])[0]
        fn = aws.lambda_function(name, self.world.region, qualifier)
        doc = json.loads(body)
        if fn is not None and getattr(fn, "code_bytes", b""):
            host = environ.get("HTTP_HOST", "127.0.0.1")
            query = f"?qualifier={quote(qualifier)}" if qualifier else ""
            doc.setdefault("Code", {})
            doc["Code"]["RepositoryType"] = "S3"
            doc["Code"]["Location"] = (f"http://{host}/_sandbox/lambda-code/"
                                       f"{quote(fn.function_name)}{query}")
            doc["Configuration"]["CodeSha256"] = aws.code_sha256(fn.code_bytes)
            doc["Configuration"]["CodeSize"] = len(fn.code_bytes)
        if fn is not None:
            self.world.code_storage.decorate(fn.function_name, qualifier, doc)
        out = json.dumps(doc).encode()
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return _send(start_response, (200, headers, out))

    def _code_storage_call(self, op: str, environ: dict[str, Any], body: bytes,
                           start_response: Callable[..., Any]) -> Any:
        route = protocol.lambda_route(environ)
        status, headers, answer = _call(self.moto_app, environ)
        if 200 <= status < 300:
            storage = self.world.code_storage
            doc = json.loads(answer or b"{}") if op != "DeleteFunction" else {}
            request = json.loads(body or b"{}") if body else {}
            if op == "CreateFunction":
                storage.deployed(doc.get("FunctionName", ""), request.get("Code") or {})
            elif op == "UpdateFunctionCode":
                storage.deployed(doc.get("FunctionName", ""), request)
            elif op == "PublishVersion":
                storage.published(doc.get("FunctionName", ""), str(doc.get("Version", "")))
            elif route is not None:
                storage.forget(unquote(route[1]).rsplit(":function:", 1)[-1].split(":")[0])
        return _send(start_response, (status, headers, answer))

    # --- control plane --------------------------------------------------------------------

    def _control(self, environ: dict[str, Any], path: str, body: bytes) -> Response:
        method = environ.get("REQUEST_METHOD")
        if path == "/_sandbox/health":
            return _json(200, {"ok": True, "stacks": self.world.roots})
        if path == "/_sandbox/faults" and method == "POST":
            try:
                spec = json.loads(body or b"{}")
                if "operation_apis" in spec or spec.get("clear"):
                    # {"operation_apis": "unavailable" | "available"}: the fallback switch
                    operations.set_unavailable(
                        self.world.cfn, spec.pop("operation_apis", "available") == "unavailable")
                self.world.faults.apply(spec)
            except (ValueError, TypeError, AttributeError) as exc:
                return _json(400, {"error": f"bad fault spec: {exc}"})
            return _json(200, {"ok": True})
        if path == "/_sandbox/requests" and method == "GET":
            op = parse_qs(environ.get("QUERY_STRING", "")).get("operation", [""])[0]
            if not op:
                return _json(400, {"error": "name the operation: ?operation=SERVICE:Operation"})
            return _json(200, self.world.faults.request_log(op))
        if path == "/_sandbox/stack-status" and method == "POST":
            try:
                spec = json.loads(body or b"{}")
                self.world.set_stack_status(spec["stack"], spec["status"], spec.get("reason"))
            except (ValueError, KeyError, CfnError) as exc:
                return _json(400, {"error": str(exc)})
            return _json(200, {"ok": True})
        if path == "/_sandbox/role-propagation" and method == "POST":
            try:
                checks = int(json.loads(body or b"{}")["checks"])
            except (ValueError, KeyError, TypeError) as exc:
                return _json(400, {"error": f"bad spec, want {{\"checks\": N}}: {exc}"})
            self.world.delay_role_propagation(max(0, checks))
            return _json(200, {"ok": True})
        if path == "/_sandbox/deliver-trail" and method == "POST":
            return _json(200, {"bucket": self.world.trail_bucket,
                               "keys": self.world.deliver_trail()})
        if path.startswith("/_sandbox/lambda-code/") and method == "GET":
            name = unquote(path.removeprefix("/_sandbox/lambda-code/"))
            qualifier = parse_qs(environ.get("QUERY_STRING", "")).get("qualifier", [None])[0]
            fn = aws.lambda_function(name, self.world.region, qualifier)
            if fn is None or not getattr(fn, "code_bytes", b"") or \
                    not self.world.code_storage.readable(fn.function_name, qualifier):
                return protocol.error_response("rest-xml", "NoSuchKey",
                                               "The specified key does not exist.", 404)
            return 200, {"Content-Type": "application/zip"}, bytes(fn.code_bytes)
        return _json(404, {"error": f"no sandbox endpoint {method} {path}"})


def _drop_connection(environ: dict[str, Any]) -> NoReturn:
    """Close the client's connection with no HTTP answer at all. Raising ConnectionResetError
    before start_response makes werkzeug treat the request as a dropped connection and write
    nothing (werkzeug.serving.WSGIRequestHandler.run_wsgi)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already gone
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("sandbox fault: connection dropped without an answer")


def _copy_precondition(environ: dict[str, Any]) -> Response | None:
    """CopyObject with If-None-Match: * onto a key that exists: 412, as AWS answers
    (docs/reference/aws-behaviour.md#s3-conditional-writes) and as moto does for PutObject; moto 5.2 ignores the header on a
    copy and would write a second version."""
    if environ.get("HTTP_IF_NONE_MATCH") != "*":
        return None
    bucket, _, key = unquote(environ.get("PATH_INFO", "")).lstrip("/").partition("/")
    if not aws.s3_key_exists(bucket, key):
        return None
    return protocol.error_response("rest-xml", "PreconditionFailed",
                                   "At least one of the pre-conditions you specified did not "
                                   "hold", 412)


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body once and put it back for moto."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length:
        body = stream.read(length)
    elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        body = stream.read()
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> Response:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(headers)

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return captured["status"], captured["headers"], body


def _json(status: int, doc: dict[str, Any]) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(doc).encode()


def _send(start_response: Callable[..., Any], response: Response) -> list[bytes]:
    status, headers, body = response
    headers = {**headers, "Content-Length": str(len(body))}
    start_response(f"{status} {_STATUS_TEXT.get(status, 'Status')}", list(headers.items()))
    return [body]


def _empty_region_cloudformation(action: str, params: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation in a region other than the world's: stacks are regional, so this region
    has none (what `--region` pointing at the wrong region meets in AWS)."""
    name = params.get("StackName")
    if action == "DescribeStacks" and not name:
        return {"Stacks": []}
    if action == "ListStacks":
        return {"StackSummaries": []}
    if action == "DescribeStackEvents":
        raise CfnError(f"Stack [{name}] does not exist")
    raise CfnError(f"Stack with id {name} does not exist")


