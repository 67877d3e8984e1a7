"""Turn a pasted error text into plain failure messages with their wrappers peeled off (pure).

People paste AWS failures in many wrappers: CLI prefixes (`An error occurred (X) when calling
the Y operation: ...`), botocore tracebacks, CDK deploy output (`❌ ...`, `Stack | 3/9 | time |
UPDATE_FAILED | AWS::Lambda::Function | Fn (FnABC) reason`), `describe-stack-events` tables,
text or JSON, timestamps, and terminal line-wrapping. Inside those, CloudFormation reasons
carry their own envelopes: the Cloud Control one `Resource handler returned message: "..."
(RequestToken: ..., HandlerErrorCode: X)` and the SDK one `(Service: X; Status Code: N; Error
Code: Y; Request ID: ...)` (docs/reference/aws-behaviour.md#why-a-delete-fails). This module removes every envelope, keeps
what it said as fields, and hands `recover.explain.classify` one `Message` per failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A stack or resource status token (docs/reference/aws-behaviour.md#stack-statuses, docs/reference/aws-behaviour.md#resource-statuses).
STATUS_RE = re.compile(
    r"\b((?:CREATE|UPDATE|DELETE|ROLLBACK|UPDATE_ROLLBACK|IMPORT|IMPORT_ROLLBACK|EXPORT|"
    r"EXPORT_ROLLBACK|REVIEW|UPDATE_COMPLETE_CLEANUP|UPDATE_ROLLBACK_COMPLETE_CLEANUP)_"
    r"(?:IN_PROGRESS|FAILED|COMPLETE|SKIPPED))\b")
RESOURCE_TYPE_RE = re.compile(r"\b((?:AWS|Alexa)::\w+::\w+(?:::\w+)?|Custom::[\w-]+)")
TIMESTAMP_RE = re.compile(
    r"\[?\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|(?: ?UTC)?[+-]\d{2}:?\d{2}| ?UTC)?\]?"
    r"|\[?\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s?[AP]M)?(?: ?UTC(?:[+-]\d{2}:?\d{2})?)?\]?")
STACK_ARN_RE = re.compile(
    r"arn:aws[-a-z]*:cloudformation:[-a-z0-9]*:[^:\s]*:stack/([A-Za-z][-\w]*)/[-0-9a-fA-Fx]+")
# The Cloud Control (registry handler) envelope; the inner message may contain quotes.
HANDLER_RE = re.compile(r"Resource handler returned message:\s*", re.I)
HANDLER_TAIL_RE = re.compile(
    r"\s*\((?:RequestToken:\s*(?P<token>[^,)]*),\s*)?HandlerErrorCode:\s*(?P<code>[\w:.-]+)\)\s*\.?\s*$")
# The SDK envelope, old `;` form and new `,` form: (Service: S3, Status Code: 0, Request ID: x)
SDK_RE = re.compile(r"\s*\((?=[^()]*\bService:)(?=[^()]*\bStatus Code:)([^()]*)\)")
SDK_ATTEMPTS_RE = re.compile(r"\s*\(SDK Attempt Count: \d+\)")
# Go SDK / older CLI suffix: `ValidationError: ... \n status code: 400, request id: x`
GO_SUFFIX_RE = re.compile(r"\s+status code: (\d{3})(?:, request id: ([-\w]+))?\s*$", re.I)
CLI_ERROR_RE = re.compile(
    r"(?:An error occurred )?\(([\w.]+)\) when calling the (\w+) operation(?: \(reached max retries: \d+\))?:\s*")
BOTOCORE_RE = re.compile(r"botocore\.(?:exceptions|errorfactory)\.(\w+):\s*")
# Leading `CodeWord:` (AccessDenied:, ValidationError:, BucketNotEmpty:): only words shaped like
# AWS error codes, so that `User: arn:...` or a stack name is not taken for one.
CODE_PREFIX_RE = re.compile(
    r"^([A-Z][A-Za-z0-9.]*(?:Error|Exception|Denied|Violation|NotFound|Exceeded|NotEmpty|Conflict|"
    r"InUse|Failure|Unavailable|Throttling|Expired|Fault|Invalid|Unauthorized\w*|Exists|"
    r"Operation)|Invalid[A-Z]\w*|NoSuch\w+|Throttling|ValidationError):\s+")
# CDK prefixes progress and errors with the stack name: `FrontendWafStack: SSM parameter ...`.
CDK_STACK_PREFIX_RE = re.compile(r"^([A-Za-z][-A-Za-z0-9]*Stack[-A-Za-z0-9]*):\s+")
STACK_NAMED_RE = re.compile(
    r"The stack named ([A-Za-z][-A-Za-z0-9]*) failed(?: to deploy| creation| update| deletion)?"
    r"[:,]?\s*(?:([A-Z_]+)\b)?\s*(?:\(((?:[^()]|\([^()]*\))*)\))?[:.]?\s*")
TERMINAL_PUNCT = (".", ")", "]", "!", '"', "}")


@dataclass
class Message:
    """One failure message, its wrappers peeled off. `text` is what rules match against."""

    raw: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> set[str]:
        """Every error code the wrappers carried, lower-cased (HandlerErrorCode, Error Code...)."""
        keys = ("handler_error_code", "error_code", "s3_error_code", "exception")
        return {str(self.fields[k]).lower() for k in keys if self.fields.get(k)}


def split_failures(paste: str) -> list[Message]:
    """All failure messages in a paste, in paste order (one for a one-line message)."""
    events = _json_events(paste)
    if events is not None:
        return events
    return [m for m in (unwrap(seg) for seg in _segments(paste)) if m.text or m.fields]


def unwrap(segment: str) -> Message:
    """Peel the wrappers off one message; what they said goes into `fields`."""
    fields: dict[str, Any] = {}
    # The console's event table marks the first failure "Likely root cause" (glued to status).
    text = re.sub(r"\s*Likely root cause\s*", " ", re.sub(r"[\r\n]+", " ", segment))
    # Rows are split before whitespace is collapsed: `--output text` separates cells by tabs.
    text = _strip_row(text.strip(), fields)
    text = re.sub(r"\s+", " ", text).strip()
    text = _strip_key_values(text, fields)
    text = _strip_prefixes(text, fields)
    text = _strip_handler(text, fields)
    text = _strip_prefixes(text, fields)  # inner messages may carry their own CLI prefix
    text = _strip_sdk(text, fields)
    return Message(raw=segment.strip(), text=text.strip(), fields=fields)


# -- segmentation --------------------------------------------------------------------------

_RECORD_START = re.compile(
    r"^\s*(?:[-*•>]\s|❌|✗|\||\d{4}-\d{2}-\d{2}|\[?\d{1,2}:\d{2}:\d{2}|An error occurred|botocore\.|"
    r"Traceback|Error:|Resource handler returned|Embedded stack|The following resource|Role arn|"
    r"CloudFormation did not|Received response status|\"?ResourceStatusReason|STACKEVENTS|"
    r"[A-Za-z]\w*(?:Error|Exception):)")


def _starts_record(line: str) -> bool:
    return bool(_RECORD_START.match(line) or STATUS_RE.search(line) and ("|" in line or "\t" in line)
                or STATUS_RE.match(line.strip()))


def _row_without_reason(line: str) -> bool:
    """A failed event row whose reason the terminal put on the next line (CDK does this)."""
    if line.count("|") < 2 or not re.search(r"_FAILED\b", line):
        return False
    return " " not in line.rstrip().rstrip("|").rsplit("|", 1)[-1].strip()


_WRAPPED_END = re.compile(
    r"(?:[:,(/\[-]|\b(?:and|or|the|a|an|to|of|is|are|not|no|for|in|on|by|with|from|because|"
    r"was|were|has|have|that|this|your|its))$")


def _continues(previous: str, line: str) -> bool:
    """Is `line` the terminal-wrapped rest of `previous`? Yes when `previous` stops mid-phrase
    (`User:`, `is not`), or is unfinished and `line` starts in lower case or with a symbol."""
    prev = previous.rstrip()[-40:]
    if _WRAPPED_END.search(prev):
        return True
    if prev.endswith(TERMINAL_PUNCT):
        return False
    first = line.lstrip()[:1]
    return first.islower() or not first.isalpha()


def _segments(paste: str) -> list[str]:
    """Lines grouped into messages: a terminal-wrapped line joins the one before it.
    Linear in the paste: each check looks at the previous physical line only."""
    groups: list[list[str]] = []
    for line in paste.splitlines():
        if not line.strip():
            continue
        if groups and not _starts_record(line):
            last = groups[-1]
            if len(last) == 1 and _row_without_reason(last[0]):
                last.append("| " + line.strip())  # the reason, as the row's last cell
                continue
            # SAM CLI / aws-cli tables wrap a long reason inside its column: the rest comes on
            # lines indented to that column.
            if _continues(last[-1], line) or re.match(r"[ ,]{12,}\S", line):
                last.append(line.strip())
                continue
        groups.append([line])
    return [" ".join(part.strip() for part in g) if len(g) > 1 else g[0] for g in groups]


def _json_events(paste: str) -> list[Message] | None:
    """`describe-stack-events` JSON (or one event, or a list): the events' status reasons."""
    s = paste.strip()
    if not s.startswith(("{", "[")):
        return None
    try:
        doc = json.loads(s)
    except ValueError:
        return None
    if isinstance(doc, dict):
        doc = doc.get("StackEvents", doc.get("StackResources", [doc]))
    if not isinstance(doc, list):
        return None
    out: list[Message] = []
    for ev in doc:
        if not isinstance(ev, dict) or not ev.get("ResourceStatusReason"):
            continue
        msg = unwrap(str(ev["ResourceStatusReason"]))
        msg.fields.update(_artifact_properties(ev.get("ResourceProperties")))
        for src, dst in (("LogicalResourceId", "logical_id"), ("ResourceType", "resource_type"),
                         ("ResourceStatus", "resource_status"), ("Timestamp", "timestamp"),
                         ("PhysicalResourceId", "physical_id"), ("StackName", "stack_name")):
            if ev.get(src):
                msg.fields.setdefault(dst, ev[src])
        out.append(msg)
    return out


_PROPERTY_FIELDS = {"S3Bucket": "bucket", "S3Key": "key", "S3ObjectVersion": "version_id",
                    "TemplateURL": "template_url", "ImageUri": "image"}


def _artifact_properties(props: Any) -> dict[str, Any]:
    """Where the resource's artifact lives, from the event's ResourceProperties (a JSON string):
    `Code.S3Bucket/S3Key/S3ObjectVersion`, `Content.S3Bucket` (layers), `TemplateURL`."""
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except ValueError:
            return {}
    out: dict[str, Any] = {}

    def walk(node: Any, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(node, dict):
            for k, v in node.items():
                if k in _PROPERTY_FIELDS and isinstance(v, str | int):
                    out.setdefault(_PROPERTY_FIELDS[k], str(v))
                else:
                    walk(v, depth + 1)

    walk(props, 0)
    return out


# -- wrappers -------------------------------------------------------------------------------

_CELL_LOGICAL_RE = re.compile(r"^(\S+) \(([A-Za-z][A-Za-z0-9]*)\)\s+(.*)$")


def _strip_row(text: str, fields: dict[str, Any]) -> str:
    """A table/CDK row: keep the reason cell, remember status, type, logical id, time."""
    sep = "|" if text.count("|") >= 2 else ("\t" if text.count("\t") >= 2 else None)
    if sep is None:
        return text
    cells = [c.strip() for c in text.strip("| ").split(sep)]
    cells = [c for c in cells if c]
    if not any(STATUS_RE.fullmatch(c) or RESOURCE_TYPE_RE.fullmatch(c) for c in cells):
        return text
    reason_cells: list[str] = []
    for c in cells:
        if c.startswith(("{", "[")) and c.endswith(("}", "]")) and '":' in c:
            continue  # ResourceProperties JSON in `--output text` rows
        if STATUS_RE.fullmatch(c):
            fields.setdefault("resource_status", c)
        elif RESOURCE_TYPE_RE.fullmatch(c):
            fields.setdefault("resource_type", c)
        elif TIMESTAMP_RE.fullmatch(c):
            fields.setdefault("timestamp", c)
        elif re.fullmatch(r"\d+/\d+|STACKEVENTS", c):
            continue  # CDK progress counter, text-output record tag
        elif STACK_ARN_RE.fullmatch(c) or re.fullmatch(r"[-\w]+-[A-Z_]+-\S+|[0-9a-f-]{36}", c):
            continue  # stack id, event id
        else:
            reason_cells.append(c)
    if not reason_cells:
        return ""
    # The reason is the cell with prose in it; CDK writes `Path (LogicalId) reason`.
    reason = max(reason_cells, key=lambda c: (" " in c, len(c)))
    m = _CELL_LOGICAL_RE.match(reason)
    if m:
        fields.setdefault("logical_id", m.group(2))
        reason = m.group(3)
    else:
        names = [c for c in reason_cells if c is not reason and re.fullmatch(r"[A-Za-z][-\w.]*", c)]
        if names:
            fields.setdefault("logical_id", names[0])
    return reason


_KV_RE = re.compile(
    r"\b(LogicalResourceId|ResourceLogicalId|ResourceType|ResourceStatus|PhysicalResourceId|StackName)"
    r"\"?\s*[:=]\s*\"?([^\s\",]+)")
_KV_FIELDS = {"LogicalResourceId": "logical_id", "ResourceLogicalId": "logical_id",
              "ResourceType": "resource_type", "ResourceStatus": "resource_status",
              "PhysicalResourceId": "physical_id", "StackName": "stack_name"}


def _strip_key_values(text: str, fields: dict[str, Any]) -> str:
    """Log lines such as `ResourceType: X, LogicalResourceId: Y, ResourceStatusReason: Z`."""
    m = re.search(r"\bResourceStatusReason\"?\s*[:=]\s*\"?", text)
    if not m:
        return text
    for key, value in _KV_RE.findall(text[:m.start()]):
        fields.setdefault(_KV_FIELDS[key], value)
    reason = text[m.end():]
    return re.sub(r"\"?\s*,?\s*$", "", reason) if reason.count('"') % 2 else reason


Stripper = Callable[[str, dict[str, Any]], "str | None"]


def _timestamp(text: str, fields: dict[str, Any]) -> str | None:
    m = TIMESTAMP_RE.match(text)
    if not m:
        return None
    fields.setdefault("timestamp", m.group(0).strip("[]"))
    return text[m.end():]


def _botocore(text: str, fields: dict[str, Any]) -> str | None:
    m = BOTOCORE_RE.match(text)
    if not m:
        return None
    fields.setdefault("exception", m.group(1))
    return text[m.end():]


def _cli_error(text: str, fields: dict[str, Any]) -> str | None:
    """`An error occurred (Code) when calling the Op operation: ...`, also after a short head
    such as SAM's `Error: Failed to create changeset for the stack: NAME, `."""
    m = CLI_ERROR_RE.search(text)
    if not m or m.start() > 200:
        return None
    fields.setdefault("error_code", m.group(1))
    fields.setdefault("operation", m.group(2))
    sm = re.search(r"for the stack:\s*([A-Za-z][-A-Za-z0-9]*)", text[:m.start()])
    if sm:
        fields.setdefault("stack_name", sm.group(1))
    return text[m.end():]


def _stack_named(text: str, fields: dict[str, Any]) -> str | None:
    """CDK: `The stack named X failed to deploy: STATUS (summary): reason`."""
    m = STACK_NAMED_RE.match(text)
    if not m:
        return None
    fields.setdefault("stack_name", m.group(1))
    if m.group(2) and STATUS_RE.fullmatch(m.group(2)):
        fields.setdefault("status", m.group(2))
    rest = text[m.end():]
    return rest if rest.strip() else (m.group(3) or "")


def _logical_dash(text: str, fields: dict[str, Any]) -> str | None:
    """Serverless Framework: `An error occurred: LogicalId - reason`, or `LogicalId - reason`."""
    m = re.match(r"(?:Error:\s*)?An error occurred:\s*([A-Za-z][A-Za-z0-9]*) - ", text)
    m = m or re.match(r"([A-Za-z0-9][A-Za-z0-9]*) - (?=[A-Z])", text)
    if not m or re.fullmatch(r"[A-Z]+", m.group(1)):
        return None
    fields.setdefault("logical_id", m.group(1))
    return text[m.end():]


def _stack_failed(text: str, fields: dict[str, Any]) -> str | None:
    """CDK: `MyStack failed: Error: ...`, `Deployment failed: ...`, bare `Error: `."""
    m = re.match(r"(?:Error:\s*)+|(?:Stack Deployments Failed|Deployment failed):\s*", text, re.I)
    if m:
        return text[m.end():]
    m = re.match(r"([A-Za-z][-A-Za-z0-9]*) failed:\s+", text)
    if not m:
        return None
    fields.setdefault("stack_name", m.group(1))
    return text[m.end():]


def _status_type(text: str, fields: dict[str, Any]) -> str | None:
    """`UPDATE_FAILED AWS::Lambda::Function Fn reason` (space-separated event lines)."""
    m = STATUS_RE.match(text)
    if not m or not re.match(r"\s*[:|-]|\s+\w", text[m.end():]):
        return None
    fields.setdefault("resource_status", m.group(1))
    text = text[m.end():].lstrip(" :|-")
    t = RESOURCE_TYPE_RE.match(text)
    if t:
        fields.setdefault("resource_type", t.group(1))
        text = text[t.end():].lstrip()
        lid = re.match(r"([A-Za-z][A-Za-z0-9]*)\s+(?=\S+\s)", text)
        if lid:
            fields.setdefault("logical_id", lid.group(1))
            text = text[lid.end():]
    return text


def _cdk_stack_prefix(text: str, fields: dict[str, Any]) -> str | None:
    m = CDK_STACK_PREFIX_RE.match(text)
    if not m or CODE_PREFIX_RE.match(text):
        return None
    fields.setdefault("stack_name", m.group(1))
    return text[m.end():]


def _code_word(text: str, fields: dict[str, Any]) -> str | None:
    """A leading error code: `AccessDenied: `, `ValidationError: `, `BucketNotEmpty: `."""
    m = CODE_PREFIX_RE.match(text)
    if not m or HANDLER_RE.match(text):
        return None
    fields.setdefault("error_code" if "error_code" not in fields else "exception", m.group(1))
    return text[m.end():]


# Tried in this order, again and again, until none applies (wrappers nest in any order).
_STRIPPERS: tuple[Stripper, ...] = (_timestamp, _botocore, _cli_error, _stack_named, _logical_dash,
                                    _stack_failed, _status_type, _code_word, _cdk_stack_prefix)


def _strip_prefixes(text: str, fields: dict[str, Any]) -> str:
    for _ in range(50):  # bounded: each pass removes at least one character
        before = text
        text = text.lstrip(" ❌✗-*•>:")
        for strip in _STRIPPERS:
            out = strip(text, fields)
            if out is not None:
                text = out.lstrip()
        if text == before:
            break
    return text


def _strip_handler(text: str, fields: dict[str, Any]) -> str:
    m = HANDLER_RE.search(text)
    if not m:
        return text
    head, inner = text[:m.start()].strip(), text[m.end():]
    hm = _CELL_LOGICAL_RE.match(head + " x") if head else None
    if hm:
        fields.setdefault("logical_id", hm.group(2))
    tail = HANDLER_TAIL_RE.search(inner)
    if tail:
        if tail.group("token"):
            fields.setdefault("request_token", tail.group("token").strip())
        fields["handler_error_code"] = tail.group("code")
        inner = inner[:tail.start()]
    inner = inner.strip()
    if inner.startswith('"'):
        inner = inner[1:]
    if inner.endswith('"'):
        inner = inner[:-1]
    return inner.strip()


def _strip_sdk(text: str, fields: dict[str, Any]) -> str:
    text = SDK_ATTEMPTS_RE.sub("", text)
    m = SDK_RE.search(text)
    if m:
        for part in re.split(r"[;,]\s*", m.group(1)):
            key, _, value = part.partition(":")
            key, value = key.strip().lower(), value.strip()
            if not value or value.lower() == "null":
                continue
            name = {"service": "service", "status code": "status_code", "error code": "error_code",
                    "request id": "request_id"}.get(key)
            if name == "status_code":
                value = int(value) if value.isdigit() else value
            if name:
                fields[name] = value
        text = (text[:m.start()] + text[m.end():]).strip()
    m = GO_SUFFIX_RE.search(text)
    if m:
        fields.setdefault("status_code", int(m.group(1)))
        if m.group(2):
            fields.setdefault("request_id", m.group(2))
        text = text[:m.start()]
    return re.sub(r"\.{2,}$", ".", text.strip())
