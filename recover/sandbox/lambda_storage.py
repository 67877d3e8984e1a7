"""Lambda's two code storage modes, as the sandbox models them
(docs/reference/aws-behaviour.md#lambda-s3-object-storage-mode).

COPY (the default): Lambda keeps its own copy, so deleting the S3 object later changes nothing
for the function. REFERENCE: Lambda reads the code from the S3 object version it resolved at
create/update time; GetFunction reports that version in `Code.ResolvedS3Object`, and once the
version can no longer be read the function itself is broken: GetFunction carries `Code.Error`
and the code download fails.

`report_resolved = False` makes GetFunction answer like an older API (or a partition without the
field): neither `ResolvedS3Object` nor `Error`, so recover's fallbacks can be exercised.
The ErrorCode/Message texts are the sandbox's guess: AWS documents the fields, not their values.
"""

from __future__ import annotations

import threading
from typing import Any

from recover.sandbox import moto_access as aws

REFERENCE = "REFERENCE"


class CodeStorage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (function name, qualifier) -> {S3Bucket, S3Key, S3ObjectVersion}, REFERENCE code only
        self._refs: dict[tuple[str, str], dict[str, str]] = {}
        self.report_resolved = True

    def deployed(self, name: str, code: dict[str, Any], qualifier: str = "$LATEST") -> None:
        """A create or code update of `name` from `code` (the request's Code fields)."""
        with self._lock:
            if str(code.get("S3ObjectStorageMode") or "").upper() != REFERENCE \
                    or not code.get("S3Bucket") or not code.get("S3Key"):
                self._refs.pop((name, qualifier), None)
                return
            bucket, key = str(code["S3Bucket"]), str(code["S3Key"])
            version = str(code.get("S3ObjectVersion") or aws.s3_current_version(bucket, key)
                          or "null")
            self._refs[(name, qualifier)] = {"S3Bucket": bucket, "S3Key": key,
                                             "S3ObjectVersion": version}

    def published(self, name: str, version: str) -> None:
        """PublishVersion snapshots $LATEST, its code reference included."""
        with self._lock:
            ref = self._refs.get((name, "$LATEST"))
            if ref is not None:
                self._refs[(name, version)] = dict(ref)

    def forget(self, name: str) -> None:
        with self._lock:
            for k in [k for k in self._refs if k[0] == name]:
                del self._refs[k]

    def reference(self, name: str, qualifier: str | None) -> dict[str, str] | None:
        with self._lock:
            ref = self._refs.get((name, qualifier or "$LATEST"))
            return dict(ref) if ref else None

    def readable(self, name: str, qualifier: str | None) -> bool:
        """Can Lambda still read this function's code? (always, for COPY code)"""
        ref = self.reference(name, qualifier)
        if ref is None:
            return True
        version = ref["S3ObjectVersion"]
        try:
            aws.s3_get(ref["S3Bucket"], ref["S3Key"], None if version == "null" else version)
        except aws.S3Missing:
            return False
        return True

    def decorate(self, name: str, qualifier: str | None, doc: dict[str, Any]) -> None:
        """Add what GetFunction says of REFERENCE code to moto's answer."""
        ref = self.reference(name, qualifier)
        if ref is None or not self.report_resolved:
            return
        code = doc.setdefault("Code", {})
        code["ResolvedS3Object"] = ref
        if not self.readable(name, qualifier):
            code["Error"] = {
                "ErrorCode": "S3ObjectNotFound",
                "Message": (f"Lambda cannot read the deployment package s3://{ref['S3Bucket']}/"
                            f"{ref['S3Key']} (version {ref['S3ObjectVersion']}): S3 Error Code: "
                            "NoSuchVersion")}
