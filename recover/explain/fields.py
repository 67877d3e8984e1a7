"""Fields that any failure message may name, found by shape (pure): S3 locations, role and
stack ARNs, EC2 ids, IAM action and principal, request ids, stack status, logical ids.

Rules add their own specific fields on top (recover.explain.rules); these are the ones worth
pulling out of every message, whatever its failure mode."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import STACK_ARN_RE, STATUS_RE

ROLE_ARN_RE = re.compile(r"arn:aws[-a-z]*:iam::[^:\s]*:role/[\w+=,.@/#-]*[\w+=@#-]")
ARN_RE = re.compile(r"arn:aws[-a-z]*:[-a-z0-9]+:[-a-z0-9]*:[^:\s]*:[^\s,;\"')\]]+")
S3_URI_RE = re.compile(r"s3://([a-z0-9][-a-z0-9.]{1,61}[a-z0-9])/([^\s\"',;)]+)")
S3_PATH_URL_RE = re.compile(
    r"https?://s3(?:[.-][-a-z0-9]+)?\.amazonaws\.com(?:\.cn)?/([a-z0-9][-a-z0-9.]{1,61}[a-z0-9])/([^\s\"',;)?]+)")
S3_HOST_URL_RE = re.compile(
    r"https?://([a-z0-9][-a-z0-9.]{1,61}[a-z0-9])\.s3(?:[.-][-a-z0-9]+)?\.amazonaws\.com(?:\.cn)?/([^\s\"',;)?]+)")
# Lambda: `... permission to GetObject for <bucket>/<key>`; CloudTrail-ish `s3Bucket`/`s3Key`.
GETOBJECT_FOR_RE = re.compile(r"GetObject (?:for|on) (?:bucket )?([a-z0-9][-a-z0-9.]{1,61}[a-z0-9])/(\S+?)[.,;]?(?:\s|$)")
KV_BUCKET_RE = re.compile(r"\b(?:S3Bucket|s3Bucket|Bucket)\"?\s*[:=]\s*\"?([a-z0-9][-a-z0-9.]{1,61}[a-z0-9])")
KV_KEY_RE = re.compile(r"\b(?:S3Key|s3Key|Key)\"?\s*[:=]\s*\"?([^\s\",;)]+)")
VERSION_RE = re.compile(r"\b(?:versionId|S3ObjectVersion|s3ObjectVersion|VersionId)\"?\s*[:=]\s*\"?([\w.-]+)")
EC2_ID_RE = re.compile(
    r"\b(?:sg|eni|vpc|subnet|igw|eigw|rtb|nat|eipalloc|eipassoc|vol|i|acl|vpce|tgw|tgw-attach|lt|"
    r"ami|snap|pcx|dopt|vgw|cgw|pl|elb|cvpn-endpoint)-[0-9a-f]{8,17}\b")
PRINCIPAL_RE = re.compile(r"\bUser:\s*(arn:aws[-a-z]*:(?:iam|sts)::[^\s]+?)\s+is not authorized")
IAM_ACTION_RE = re.compile(
    r"(?:not authorized to perform:?|API:|action|allows the)\s+([a-z0-9][-a-z0-9]*:[A-Za-z0-9*]+)")
ON_RESOURCE_RE = re.compile(
    r"on resource:?\s+(.+?)(?:\s+because\b|\s+with an explicit\b|\s*\(|\s*\.(?:\s|$)|\s*$)")
DENY_RE = re.compile(
    r"with an explicit deny in (?:a|an) ([-\w ]+? policy|permissions boundary)"
    r"|because no ([-\w ]+?) (?:policy )?allows")
REQUEST_ID_RE = re.compile(
    r"(?:requestId|RequestId|Request ID|request id)\s*(?:\[|:)\s*\[?([-\w*]+)\]?")
CURRENTLY_IN_RE = re.compile(r"(?:Currently in|is in|in the|stack is)\s+(" + STATUS_RE.pattern[2:-2] + r")")
LOGICAL_LIST_RE = re.compile(r"failed to (create|update|delete):\s*\[([^\]]*)\]?")

# CloudFormation resource type service → IAM action prefix, where they differ in case only
# this is the lower-cased name; the ones that differ are listed.
_IAM_PREFIX = {"Logs": "logs", "ApiGateway": "apigateway", "CloudWatch": "cloudwatch",
               "ElasticLoadBalancingV2": "elasticloadbalancing", "Events": "events"}


def common_fields(text: str, already: dict[str, Any]) -> dict[str, Any]:
    """Shape-based fields of one message (never overwrites what the wrappers already said)."""
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if value not in (None, "", []) and key not in already and key not in out:
            out[key] = value

    for rx in (S3_URI_RE, S3_PATH_URL_RE, S3_HOST_URL_RE, GETOBJECT_FOR_RE):
        m = rx.search(text)
        if m:
            put("bucket", m.group(1))
            put("key", m.group(2).rstrip("."))
            break
    m = KV_BUCKET_RE.search(text)
    if m:
        put("bucket", m.group(1))
    m = KV_KEY_RE.search(text)
    if m and "bucket" in {**already, **out}:
        put("key", m.group(1))
    m = VERSION_RE.search(text)
    if m:
        put("version_id", m.group(1))
    m = ROLE_ARN_RE.search(text)
    if m:
        put("role_arn", m.group(0))
        put("role_name", m.group(0).rsplit("/", 1)[-1])
    m = STACK_ARN_RE.search(text)
    if m:
        put("stack_arn", m.group(0))
        put("stack_name", m.group(1))
    ids = list(dict.fromkeys(EC2_ID_RE.findall(text)))
    put("resource_ids", ids)
    m = PRINCIPAL_RE.search(text)
    if m:
        put("principal", m.group(1))
    m = IAM_ACTION_RE.search(text)
    if m:
        put("iam_action", m.group(1))
    if "not authorized" in text:
        m = ON_RESOURCE_RE.search(text)
        if m:
            put("resource", m.group(1).strip())
    m = DENY_RE.search(text)
    if m:
        put("denied_by", (m.group(1) and f"explicit deny in a {m.group(1)}")
            or f"no {m.group(2)} policy allows it")
    m = REQUEST_ID_RE.search(text)
    if m and m.group(1).lower() not in ("null", "x"):
        put("request_id", m.group(1))
    m = CURRENTLY_IN_RE.search(text)
    if m:
        put("status", m.group(1))
    lists = LOGICAL_LIST_RE.findall(text)
    if lists:
        names = [n.strip() for _, body in lists for n in body.split(",") if n.strip()]
        put("logical_ids", list(dict.fromkeys(names)))
    return out


def iam_prefix(resource_type: str | None) -> str | None:
    """`AWS::KMS::Key` → `kms` (to name the IAM action behind `Access denied for operation X`)."""
    if not resource_type or not resource_type.startswith("AWS::"):
        return None
    service = resource_type.split("::")[1]
    return _IAM_PREFIX.get(service, service.lower())
