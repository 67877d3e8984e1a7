"""The resolved path (pure): GetFunction Code.ResolvedS3Object of REFERENCE code names the key
and its hash; COPY code, or answers without the field, are left to CloudTrail."""

from __future__ import annotations

from datetime import UTC, datetime

from recover.artifacts.find import FailedFunction, resolve
from recover.artifacts.model import ResolvedCode

FN = FailedFunction("f", "Fn", "stack", "Fn", datetime(2026, 3, 1, tzinfo=UTC))
T = datetime(2026, 1, 1, tzinfo=UTC)


def ref(q: str, key: str, sha: str, *, version_exists: bool = True, key_exists: bool = True,
        error: str = "") -> ResolvedCode:
    return ResolvedCode("f", q, sha, T, resolved=True, bucket="b", key=key, version=f"v-{key}",
                        error_code=error, version_exists=version_exists, key_exists=key_exists)


def test_unreadable_referenced_version_is_wanted_with_its_recorded_hash() -> None:
    res = resolve([FN], {"f": [ref("$LATEST", "new.zip", "NEW"),
                               ref("1", "old.zip", "OLD", version_exists=False,
                                   key_exists=False, error="S3ObjectNotFound")]})
    [w] = res.wanted
    assert (w.key, w.version, w.resolved_version) == ("old.zip", None, "v-old.zip")
    assert w.located_by == "resolved" and w.expected_sha256 == "OLD"
    assert w.lambda_error.startswith("S3ObjectNotFound") and "f:1" in w.follow_up
    assert res.rest == [] and res.to_dict()["path"] == "resolved"


def test_key_hidden_but_version_kept_needs_no_follow_up() -> None:
    [w] = resolve([FN], {"f": [ref("$LATEST", "k.zip", "H", key_exists=False)]}).wanted
    assert w.follow_up == "" and w.expected_sha256 == "H"


def test_readable_reference_copy_code_and_absent_field_fall_back_to_cloudtrail() -> None:
    for codes, seen in (([ref("$LATEST", "k.zip", "H")], "present"),
                        ([ResolvedCode("f", "$LATEST", "H", T)], "absent"), ([], "absent")):
        res = resolve([FN], {"f": codes})
        assert res.wanted == [] and res.rest == [FN]
        assert res.to_dict()["resolved_s3_object"] == seen
        assert res.to_dict()["path"] == "cloudtrail"
