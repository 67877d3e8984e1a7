"""Functions that keep their code by REFERENCE are live dependencies (pure).

Lambda reads such a function's code from the S3 object version it resolved, for the life of the
function (docs/reference/aws-behaviour.md#lambda-s3-object-storage-mode): deleting or expiring
that version, or taking away Lambda's read access, breaks the running function, not only a
later rollback. Each threat is a hazard with its fix and, for lifecycle rules, its date.

Where GetFunction reports no Code.ResolvedS3Object (older API, other partitions) the template's
`Code.S3ObjectStorageMode: REFERENCE` is the fallback (`source: template`): the object is then the
key's current version.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from recover.readiness.s3_lifecycle import ObjectState, threats

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")


@dataclass(frozen=True)
class FunctionRef:
    stack_name: str
    logical_id: str
    function: str
    function_arn: str
    source: str  # resolved (GetFunction Code.ResolvedS3Object) | template (fallback)
    bucket: str
    key: str
    version: str = ""  # "" when only the template is known: the key's current version
    error: str = ""  # GetFunction Code.Error: Lambda says it cannot fetch the package

    @property
    def oid(self) -> tuple[str, str, str]:
        return self.bucket, self.key, self.version

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PolicyState:
    text: str | None = None  # None: the bucket has no policy
    error: str = ""


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def reference_hazards(refs: list[FunctionRef], buckets: dict[str, Any],
                      objects: dict[tuple[str, str, str], ObjectState],
                      policies: dict[str, PolicyState], now: datetime,
                      horizon_days: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in refs:
        where = f"s3://{r.bucket}/{r.key}" + (f"?versionId={r.version}" if r.version else "")
        base = {"stack": r.stack_name, "subject": f"function {r.function}",
                "function": r.function, "resource": f"{r.stack_name}.{r.logical_id}",
                "bucket": r.bucket, "key": r.key, "version": r.version or None,
                "found_by": r.source}
        bucket = buckets.get(r.bucket)
        obj = objects.get(r.oid)
        gone = (bucket is not None and not bucket.exists) or (
            obj is not None and not obj.error and not obj.exists)
        if gone or r.error:
            out.append({**base, "kind": "reference-code-missing", "severity": "blocking",
                        "date": now.isoformat(),
                        "detail": (f"{r.function} keeps its code by REFERENCE in {where}, "
                                   + (f"which Lambda cannot fetch ({r.error})" if r.error else
                                      "which no longer exists")
                                   + ": the function itself cannot load its code"),
                        "fix": (f"upload the exact bytes again (recover artifacts --function "
                                f"{r.function} finds and verifies them), then point the "
                                f"function at the new object version: aws lambda "
                                f"update-function-code --function-name {r.function} "
                                f"--s3-bucket {r.bucket} --s3-key {r.key} --s3-object-version "
                                "NEW_VERSION --s3-object-storage-mode REFERENCE")})
            continue
        if bucket is None or bucket.error or obj is None or obj.error:
            continue
        versioned = bucket.versioning == "Enabled"
        if not versioned:
            out.append({**base, "kind": "reference-unversioned-bucket", "severity": "warning",
                        "date": None,
                        "detail": (f"{r.function} keeps its code by REFERENCE in bucket "
                                   f"{r.bucket}, whose versioning is "
                                   f"{(bucket.versioning or 'not enabled').lower()}: an "
                                   "overwrite or delete of the key replaces or removes the code "
                                   "under the running function, for good"),
                        "fix": f"aws s3api put-bucket-versioning --bucket {r.bucket} "
                               "--versioning-configuration Status=Enabled"})
        for t in threats(list(bucket.rules), obj, versioned=versioned):
            # Lambda reads the version it resolved: a delete marker on the key does not take
            # it away; a permanent delete or an archive class does (inference, see the doc)
            if not t.permanent and t.action != "transition":
                continue
            if horizon_days and t.date and t.date > now + timedelta(days=horizon_days):
                continue
            overdue = bool(t.date and t.date <= now)
            out.append({**base, "kind": "reference-lifecycle",
                        "severity": "blocking" if overdue else "warning", "rule": t.rule_id,
                        "action": t.action, "date": _iso(t.date), "overdue": overdue,
                        "detail": (f"{r.function} keeps its code by REFERENCE in {where}; "
                                   f"lifecycle rule {t.rule_id} takes it away"
                                   + (f" on {t.date.date().isoformat()}" if t.date else "")
                                   + f": {t.detail}. The function then cannot load its code"),
                        "fix": (f"narrow rule {t.rule_id}'s filter so it does not cover "
                                f"{r.key} (a prefix or tag the code objects do not carry), or "
                                f"let Lambda keep a copy: aws lambda update-function-code "
                                f"--function-name {r.function} --s3-bucket {r.bucket} "
                                f"--s3-key {r.key}"
                                + (f" --s3-object-version {r.version}" if r.version else "")
                                + " --s3-object-storage-mode COPY")})
        policy = policies.get(r.bucket)
        if policy is None or policy.error:
            continue
        allowed, why = lambda_can_read(policy.text, r)
        if not allowed:
            out.append({**base, "kind": "reference-policy", "severity": "blocking",
                        "date": None,
                        "detail": (f"{r.function} keeps its code by REFERENCE in {where}, but "
                                   f"bucket {r.bucket}'s policy {why}: Lambda cannot read it"),
                        "fix": (f"add a statement to bucket {r.bucket}'s policy allowing "
                                f"Principal {{\"Service\": \"{LAMBDA_PRINCIPAL}\"}} "
                                f"{' and '.join(READ_ACTIONS)} on arn:aws:s3:::{r.bucket}/"
                                f"{r.key}, with Condition ArnLike aws:SourceArn "
                                f"{r.function_arn or 'the function ARN'}")})
    return out


def lambda_can_read(text: str | None, r: FunctionRef) -> tuple[bool, str]:
    """Does the bucket policy let the Lambda service principal read r's object? Conditions other
    than aws:SourceArn / aws:SourceAccount are not evaluated: an Allow carrying them counts (no
    false alarm), a Deny carrying them does not."""
    if not text:
        return False, "does not exist (no statement grants the Lambda service principal)"
    try:
        doc = json.loads(text)
    except ValueError:
        return True, "could not be parsed"
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    statements = [statements] if isinstance(statements, dict) else statements or []
    parts = r.function_arn.split(":")
    resource = f"arn:{parts[1] if len(parts) > 5 else 'aws'}:s3:::{r.bucket}/{r.key}"
    missing = []
    for action in READ_ACTIONS:
        allow = deny = False
        for st in statements:
            if not isinstance(st, dict) or not _principal(st.get("Principal")) \
                    or not _matches(st.get("Action"), action) \
                    or not _matches(st.get("Resource"), resource, arn=True):
                continue
            cond = _conditions(st.get("Condition"), r)
            if st.get("Effect") == "Deny" and cond is True:
                deny = True
            elif st.get("Effect") == "Allow" and cond is not False:
                allow = True
        if deny:
            return False, f"denies {action}"
        if not allow:
            missing.append(action)
    if missing:
        return False, f"grants the Lambda service principal no {' / '.join(missing)} on the key"
    return True, ""


def _principal(p: Any) -> bool:
    if p == "*":
        return True
    if not isinstance(p, dict):
        return False
    values: list[Any] = []
    for k in ("Service", "AWS"):
        v = p.get(k)
        values += v if isinstance(v, list) else [v]
    return LAMBDA_PRINCIPAL in values or "*" in values


def _matches(patterns: Any, value: str, arn: bool = False) -> bool:
    """IAM wildcard match: actions ignore case, resource ARNs (object keys) do not."""
    items = patterns if isinstance(patterns, list) else [patterns]
    if arn:
        return any(isinstance(p, str) and fnmatch.fnmatchcase(value, p) for p in items)
    return any(isinstance(p, str) and fnmatch.fnmatchcase(value.lower(), p.lower())
               for p in items)


def _conditions(cond: Any, r: FunctionRef) -> bool | None:
    """True: every condition holds; False: a SourceArn/SourceAccount condition excludes r;
    None: some condition could not be evaluated."""
    if not cond:
        return True
    unknown = False
    for op, kv in cond.items() if isinstance(cond, dict) else ():
        for key, want in kv.items() if isinstance(kv, dict) else ():
            wants = want if isinstance(want, list) else [want]
            k = key.lower()
            if k == "aws:sourcearn" and op in ("ArnLike", "ArnEquals", "StringLike",
                                               "StringEquals") and r.function_arn:
                if not any(fnmatch.fnmatchcase(r.function_arn, str(w)) for w in wants):
                    return False
            elif k == "aws:sourceaccount" and op in ("StringEquals", "StringLike") \
                    and r.function_arn.count(":") >= 4:
                account = r.function_arn.split(":")[4]
                if not any(fnmatch.fnmatchcase(account, str(w)) for w in wants):
                    return False
            else:
                unknown = True
    return None if unknown else True
