"""HeadObject that says why it failed.

A HEAD answer has no body, so when S3 refuses one (expired or invalid credentials, a denied
KMS key, a bad request) botocore can only report the bare status ("400", "403") and the
reason is lost: recover would then word an expired session as an unexpected error. On such a
bare status the same read is sent once as a one-byte ranged GetObject, whose error body names
the real code (ExpiredToken, AccessDenied, ...), and that error is raised instead.
404 and 405 (a missing key, a delete marker) need no explanation and are raised as they are.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

_BARE = {"400", "401", "403", "Bad Request", "Forbidden", "Unauthorized"}


def head_object(s3: Any, **params: Any) -> dict[str, Any]:
    """s3.head_object(**params), with the reason of a bodiless 400/401/403 recovered."""
    try:
        return s3.head_object(**params)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) not in _BARE:
            raise
        try:
            s3.get_object(Range="bytes=0-0", **params)["Body"].close()
        except ClientError as named:
            code = str(named.response.get("Error", {}).get("Code", ""))
            if code and code not in _BARE:
                raise named from exc
        raise
