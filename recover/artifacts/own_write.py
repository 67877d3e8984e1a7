"""A restore that met 412: recover's own write whose answer was lost, or someone else's object.

The restore calls (PutObject / CopyObject with If-None-Match: *, restore.py) are sent again by
botocore when the connection drops before the answer (a reset, a read timeout). If the first
attempt reached S3, the retry meets 412 PreconditionFailed because of recover's own write;
reported as "the key exists now", the postmortem would credit someone else with it.

Telling the two apart: the key's versions are listed right before the call; after a 412 the
versions that appeared during the call are read and hashed. One whose bytes are the bytes
recover sent is recover's own write, answer lost. Anything else (other bytes, or nothing new)
is someone else's object: reported as such and never touched.

Gather (list, hash) and act (the call, through the executor, and the journal notes) meet here
because the judgement needs the listing taken right before the call; `judge` itself is pure.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.needs import needs
from recover.artifacts.model import code_sha256

# 412: the key exists; 409: a concurrent conditional write to the same key (docs/reference/aws-behaviour.md#s3-conditional-writes)
CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})
_CHUNK = 1024 * 1024
MAX_HASHED = 250 * 1024 * 1024  # larger than any Lambda zip: not a code object of ours


@dataclass(frozen=True)
class RestoreResult:
    """What a restore call came to.

    outcome: "written" (answered), "answer_lost" (recover's write, the answer never came back),
    "other" (an object recover did not write is at the key; kept) or "unknown" (412, and
    whose object it is could not be told; kept)."""

    outcome: str
    version_id: str | None = None
    sha256: str | None = None  # of the object now at the key (answer_lost, other)
    detail: str = ""
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def written_by(self) -> str:
        return {"written": "recover", "answer_lost": "recover"}.get(self.outcome, self.outcome)


def key_versions(s3: Any, bucket: str, key: str) -> list[str]:
    """Version ids of exactly `key` (delete markers left out), newest first."""
    out: list[str] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        out += [str(v.get("VersionId")) for v in page.get("Versions", []) or []
                if v.get("Key") == key]
    return out


def version_sha256(s3: Any, bucket: str, key: str, version_id: str) -> str | None:
    """Lambda's CodeSha256 form (base64 SHA-256) of one object version, read in chunks; None
    when it is bigger than any code object."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id != "null":
        params["VersionId"] = version_id
    body = s3.get_object(**params)["Body"]
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in body.iter_chunks(_CHUNK):
            size += len(chunk)
            if size > MAX_HASHED:
                return None
            digest.update(chunk)
    finally:
        body.close()
    return base64.b64encode(digest.digest()).decode()


def sent_sha256(s3: Any, call: Call) -> str | None:
    """The hash of the bytes a restore call writes: its Body, or the version it copies."""
    if call.operation == "PutObject":
        body = call.params.get("Body")
        return code_sha256(body) if isinstance(body, bytes) else None
    if call.operation == "CopyObject":
        source, _, query = str(call.params.get("CopySource", "")).partition("?versionId=")
        bucket, _, key = source.partition("/")
        return version_sha256(s3, bucket, unquote(key), query) if query else None
    return None


def judge(before: list[str] | None, appeared: list[tuple[str, str | None]],
          sent: str | None) -> tuple[str, str | None, str | None]:
    """(outcome, version, sha256) after a 412, from the versions listed before the call and
    the (version, sha256) of each version that appeared during it, newest first."""
    if before is None or sent is None:
        return "unknown", None, None
    for version, sha in appeared:
        if sha == sent:
            return "answer_lost", version, sha
    if appeared:
        return "other", appeared[0][0], appeared[0][1]
    return "other", None, None


@needs("s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucketVersions", "kms:Decrypt", "kms:GenerateDataKey")
def run_restore(executor: Executor, s3: Any, call: Call, *,
                sent: str | None = None) -> RestoreResult:
    """Run one restore call; on 412/409, tell recover's own write from someone else's and
    journal which it is. `sent` is the hash of the bytes the call writes (computed from the
    call when not given). Other errors are raised."""
    bucket, key = str(call.params["Bucket"]), str(call.params["Key"])
    before: list[str] | None = None
    if not executor.dry_run:
        try:
            before = key_versions(s3, bucket, key)
        except (ClientError, BotoCoreError):
            before = None  # e.g. no s3:ListBucketVersions: a 412 then stays unexplained
    try:
        response = executor.run(call)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in CONFLICT_CODES:
            raise
        return _after_conflict(executor, s3, call, code, before, sent)
    return RestoreResult("written", response.get("VersionId"), None, "", response)


def _after_conflict(executor: Executor, s3: Any, call: Call, code: str,
                    before: list[str] | None, sent: str | None) -> RestoreResult:
    bucket, key = str(call.params["Bucket"]), str(call.params["Key"])
    uri, ref = f"s3://{bucket}/{key}", executor.last_seq
    reason = ""
    appeared: list[tuple[str, str | None]] = []
    try:
        if sent is None:
            sent = sent_sha256(s3, call)
        if before is not None:
            appeared = [(v, version_sha256(s3, bucket, key, v))
                        for v in key_versions(s3, bucket, key) if v not in before]
    except (ClientError, BotoCoreError) as exc:
        before, reason = None, f"cannot read the key's versions: {exc}"
    outcome, version, sha = judge(before, appeared, sent)
    journal = executor.journal
    if outcome == "answer_lost":
        detail = (f"the answer to recover's {call.operation} was lost and the retry met {code}: "
                  f"version {version} appeared during the call with the bytes recover sent "
                  f"(sha256 {sha}); restored by recover, answer lost")
        journal.append("restore_answer_lost", ref=ref, key=uri, operation=call.operation,
                       version_id=version, sha256=sha, why=detail)
    elif outcome == "other":
        what = (f"version {version} with other bytes (sha256 {sha}) appeared during the call"
                if version else "an object recover did not write was already there")
        detail = f"{code}: another writer's object is at the key ({what}); left untouched"
        journal.append("skip_restore", ref=ref, key=uri, version_id=version, sha256=sha,
                       why=detail)
    else:
        reason = reason or ("the key's versions could not be listed before the call"
                            if before is None else "the bytes sent are unknown")
        detail = (f"{code}: the key exists now and whose write it is cannot be told ({reason}); "
                  "left untouched")
        journal.append("skip_restore", ref=ref, key=uri, why=detail)
    return RestoreResult(outcome, version, sha, detail)
