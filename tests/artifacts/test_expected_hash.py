"""The expected CodeSha256 of a missing key, from every place AWS records it (expected.py), and
sources that fail to read (sources.read_source)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from recover.artifacts.expected import lambda_facts, settle, trail_facts
from recover.artifacts.find import FailedFunction, wanted_artifacts
from recover.artifacts.model import Candidate, WantedArtifact, code_sha256
from recover.artifacts.sources import SourceError, lambda_hash_facts, read_source
from recover.cloudtrail.record import TrailRecord

W = WantedArtifact(function_name="fn", bucket="b", key="old.zip")
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"


def rec(name: str, t: str, params: dict[str, Any], resp: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None) -> TrailRecord:
    raw: dict[str, Any] = {"eventVersion": "1.08", "eventID": f"id-{name}-{t}",
                           "eventTime": f"2026-10-{t}Z", "eventSource": "lambda.amazonaws.com",
                           "eventName": name, "awsRegion": "us-east-1",
                           "requestParameters": params, "responseElements": resp}
    if error:
        raw["errorCode"], raw["errorMessage"] = error
    r = TrailRecord.from_obj(raw)
    assert r is not None
    return r


def create(t: str, key: str, sha: str | None, version: str | None = None) -> TrailRecord:
    resp = {"functionName": "fn", **({"codeSha256": sha} if sha else {}),
            **({"version": version} if version else {})}
    return rec("CreateFunction20150331", t, {"functionName": "fn",
                                             "code": {"s3Bucket": "b", "s3Key": key}}, resp)


def update(t: str, key: str, sha: str | None) -> TrailRecord:
    return rec("UpdateFunctionCode20150331v2", t, {"functionName": FN_ARN, "s3Bucket": "b",
                                                   "s3Key": key},
               {"codeSha256": sha} if sha else {})


def publish(t: str, version: str, sha: str | None, requested: str | None = None) -> TrailRecord:
    return rec("PublishVersion20150331", t,
               {"functionName": "fn", **({"codeSha256": requested} if requested else {})},
               {"version": version, **({"codeSha256": sha} if sha else {})})


def test_create_and_update_from_the_key_give_the_hash_newest_wins() -> None:
    facts = trail_facts(W, [create("01T09:00:00", "old.zip", "H0="),
                            update("02T09:00:00", "new.zip", "H9="),
                            update("03T09:00:00", "old.zip", "H1=")]).facts
    assert [f.sha256 for f in facts] == ["H0=", "H1="]
    w = settle(W, facts)
    assert w.expected_sha256 == "H1=" and "overwritten" in w.expected_from
    assert len(w.expected_evidence) == 2


def test_publish_version_ties_hash_and_version_to_the_key() -> None:
    # The update's record lacks codeSha256; the PublishVersion made while the code came from
    # the key has it (response or the request's precondition).
    tf = trail_facts(W, [create("01T09:00:00", "old.zip", None),
                         publish("01T09:05:00", "1", None, requested="HP="),
                         update("02T09:00:00", "new.zip", "HN="),
                         publish("02T09:05:00", "2", "HN=")])
    assert [f.sha256 for f in tf.facts] == ["HP="]
    assert set(tf.versions) == {"1"}
    assert settle(W, tf.facts).expected_sha256 == "HP="


def test_failed_calls_and_other_functions_prove_nothing() -> None:
    failed = rec("UpdateFunctionCode20150331v2", "04T09:00:00",
                 {"functionName": "fn", "s3Bucket": "b", "s3Key": "old.zip"}, None,
                 ("InvalidParameterValueException", "S3 Error Code: NoSuchKey"))
    other = rec("CreateFunction20150331", "01T09:00:00",
                {"functionName": "other", "code": {"s3Bucket": "b", "s3Key": "old.zip"}},
                {"codeSha256": "HX="})
    assert trail_facts(W, [failed, other]).facts == ()
    assert settle(W, []).expected_sha256 is None


def test_list_versions_and_resolved_s3_object() -> None:
    versions = [{"Version": "$LATEST", "CodeSha256": "HN=", "LastModified": "2026-10-05T09:00:00.000+0000"},
                {"Version": "4", "CodeSha256": "H4=", "LastModified": "2026-10-02T09:00:00.000+0000"},
                {"Version": "5", "CodeSha256": "H5=", "LastModified": "2026-10-03T09:00:00.000+0000"}]
    facts = lambda_facts(W, versions, {"4": "CloudTrail PublishVersion20150331 x"},
                         {"5": {"S3Bucket": "b", "S3Key": "old.zip"},
                          "$LATEST": {"S3Bucket": "b", "S3Key": "new.zip"}})
    assert [(f.sha256, f.source.split()[0]) for f in facts] == [
        ("H4=", "ListVersionsByFunction"), ("H5=", "GetFunction")]
    assert settle(W, facts).expected_sha256 == "H5="  # the newer LastModified


class FakeLambda:
    """GetFunction answers: qualifier -> Code (or an error)."""

    def __init__(self, codes: dict[str, Any]) -> None:
        self.codes = codes
        self.calls: list[dict[str, Any]] = []

    def get_function(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        code = self.codes.get(params.get("Qualifier", "$LATEST"))
        if isinstance(code, Exception):
            raise code
        return {"Code": code or {}}


def test_get_function_resolved_object_is_read_and_a_failure_loses_only_that_record() -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                         "GetFunction")
    lam = FakeLambda({"$LATEST": {"ResolvedS3Object": {"S3Bucket": "b", "S3Key": "new.zip"}},
                      "2": {"ResolvedS3Object": {"S3Bucket": "b", "S3Key": "old.zip",
                                                 "S3ObjectVersion": "v1"}},
                      "1": denied})
    versions = [{"Version": "$LATEST", "CodeSha256": "HN="}, {"Version": "1", "CodeSha256": "H1="},
                {"Version": "2", "CodeSha256": "H2="}]
    facts = lambda_hash_facts(lam, W, versions, {})
    assert [f.sha256 for f in facts] == ["H2="]
    assert {c.get("Qualifier") for c in lam.calls} == {None, "1", "2"}
    pinned = WantedArtifact(function_name="fn", bucket="b", key="old.zip", version="v0")
    assert lambda_hash_facts(FakeLambda(lam.codes), pinned, versions, {}) == []


def test_wanted_artifacts_reads_the_hash_from_a_publish_version() -> None:
    records = [create("01T09:00:00", "old.zip", None), publish("01T09:05:00", "1", "HP="),
               rec("UpdateFunctionCode20150331v2", "09T09:00:00",
                   {"functionName": "fn", "s3Bucket": "b", "s3Key": "old.zip"}, None,
                   ("InvalidParameterValueException",
                    "Error occurred while GetObject. S3 Error Code: NoSuchKey."))]
    [w], unknown = wanted_artifacts([FailedFunction("fn", "Fn", "s", "Fn", None)], records)
    assert not unknown and w.key == "old.zip" and w.expected_sha256 == "HP="


def _zip(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bootstrap", payload)
    return buf.getvalue()


def test_a_source_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    good, corrupt = tmp_path / "good.zip", tmp_path / "corrupt.zip"
    good.write_bytes(_zip(b"ok"))
    corrupt.write_bytes(_zip(b"ok")[:-30])
    mk = lambda p: Candidate(kind="file", description=f"file {p}", trust=3, path=str(p),  # noqa: E731
                             named=True)
    assert code_sha256(read_source(mk(good), W, None, None)) == code_sha256(good.read_bytes())
    with pytest.raises(SourceError, match="not a usable zip"):
        read_source(mk(corrupt), W, None, None)
    with pytest.raises(SourceError, match="FileNotFoundError"):
        read_source(mk(tmp_path / "gone.zip"), W, None, None)

    def timeout(url: str) -> bytes:
        raise TimeoutError("timed out")

    lam = FakeLambda({"$LATEST": {"Location": "https://example.invalid/x"}})
    with pytest.raises(SourceError, match="timed out"):
        read_source(Candidate(kind="lambda", description="code deployed in fn", trust=1,
                              function="fn"), W, None, lam, download=timeout)

    class DeniedS3:
        def get_object(self, **kw: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "kms"}}, "GetObject")

    with pytest.raises(SourceError, match="AccessDenied"):
        read_source(Candidate(kind="s3-previous-version", description="v", trust=0,
                              version_id="v1"), W, DeniedS3(), None)
