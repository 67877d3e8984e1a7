"""The restore calls (act, through the executor): never overwrite an object.

- from a previous version: CopyObject of `bucket/key?versionId=V` onto the key (docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers, the
  documented restore that keeps every version), with If-None-Match: * (docs/reference/aws-behaviour.md#s3-conditional-writes);
- from bytes: PutObject with If-None-Match: * (a 412 means the key appeared meanwhile: the
  existing object is kept and reported, never replaced).
No encryption parameters are sent, so the bucket's default encryption applies. The restored
object is tagged as restored by recover, with the run id.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from recover.act.calls import Call
from recover.artifacts.model import Choice

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9 _.:/=+\-@]")


def tagging(run_id: str, source: str) -> str:
    """S3 tag values allow letters, digits, spaces and _ . : / = + - @ (max 256)."""
    return urlencode({"recover:restored": "true", "recover:run-id": run_id,
                      "recover:source": _TAG_UNSAFE.sub(" ", source)[:256].strip()})


def restore_call(choice: Choice, run_id: str, body_file: str | None = None,
                 body: bytes | None = None) -> Call:
    wanted, cand = choice.wanted, choice.candidate
    assert cand is not None
    where = f"s3://{wanted.bucket}/{wanted.key}"
    if cand.kind == "s3-previous-version":
        return Call("s3", "CopyObject", {
            "Bucket": wanted.bucket, "Key": wanted.key,
            # The string form is what `aws s3api copy-object --copy-source` takes as well.
            "CopySource": f"{wanted.bucket}/{quote(wanted.key)}?versionId={cand.version_id}",
            "IfNoneMatch": "*", "TaggingDirective": "REPLACE",
            "Tagging": tagging(run_id, cand.description)},
            f"restore {where} by copying its previous version {cand.version_id} onto the key "
            f"(for {wanted.function_name}; {choice.verification})")
    return Call("s3", "PutObject", {
        "Bucket": wanted.bucket, "Key": wanted.key, "Body": body or b"", "IfNoneMatch": "*",
        "ContentType": "application/zip", "Tagging": tagging(run_id, cand.description)},
        f"upload {where} from {cand.description} (for {wanted.function_name}; "
        f"{choice.verification})", files={"Body": body_file} if body_file else {})
