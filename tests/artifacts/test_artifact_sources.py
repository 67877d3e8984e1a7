"""Byte sources and the choice between them (no AWS needed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from recover.artifacts.choose import choose
from recover.artifacts.model import Candidate, WantedArtifact, code_sha256
from recover.artifacts.sources import (
    cdk_assets,
    fetch,
    local_candidates,
    parse_source_spec,
    with_hash,
    zip_folder,
)
from recover.run.errors import UsageError

WANTED = WantedArtifact(function_name="fn", bucket="b", key="abc123.zip")


def test_code_sha256_is_base64_of_the_raw_digest() -> None:
    # docs/reference/aws-behaviour.md#where-aws-records-a-functions-codesha256: 44 characters ending with "="
    value = code_sha256(b"zip bytes")
    assert len(value) == 44 and value.endswith("=")


def test_zip_folder_is_reproducible(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "bootstrap").write_bytes(b"\x7fELF binary")
    os.chmod(src / "bootstrap", 0o755)
    (src / "sub" / "data.txt").write_text("hello")
    first = zip_folder(src)
    os.utime(src / "sub" / "data.txt", (0, 0))  # timestamps must not matter
    assert zip_folder(src) == first
    (src / "sub" / "data.txt").write_text("changed")
    assert zip_folder(src) != first


def test_source_specs() -> None:
    assert parse_source_spec("file:k.zip=/tmp/x.zip").key == "k.zip"
    assert parse_source_spec("lambda:fn:3").value == "fn:3"
    for bad in ("nonsense", "file:/tmp/x.zip", "ftp:x", "folder:=p", "cdk-out:"):
        with pytest.raises(UsageError):
            parse_source_spec(bad)


def test_file_and_folder_candidates(tmp_path: Path) -> None:
    zf = tmp_path / "a.zip"
    zf.write_bytes(b"PK fake")
    specs = [parse_source_spec(f"file:abc123.zip={zf}"), parse_source_spec("file:other.zip=/x")]
    [cand] = local_candidates(WANTED, specs)
    assert cand.kind == "file"
    assert fetch(cand, WANTED, None, None) == b"PK fake"
    with pytest.raises(UsageError, match="no such file"):
        local_candidates(WANTED, [parse_source_spec("file:abc123.zip=/no/such/file")])


def test_cdk_out_assets_by_object_key(tmp_path: Path) -> None:
    """cdk.out/*.assets.json maps source paths to destination object keys (docs/reference/aws-behaviour.md#cdk-bootstrap)."""
    out = tmp_path / "cdk.out"
    asset = out / "asset.abc123"
    asset.mkdir(parents=True)
    (asset / "bootstrap").write_bytes(b"binary")
    (out / "App.assets.json").write_text(json.dumps({"version": "36.0.0", "files": {
        "abc123": {"source": {"path": "asset.abc123", "packaging": "zip"},
                   "destinations": {"current": {
                       "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                       "objectKey": "abc123.zip"}}},
        "zzz": {"source": {"path": "asset.zzz", "packaging": "zip"},
                "destinations": {"current": {"objectKey": "zzz.zip"}}}}}))
    [cand] = cdk_assets(out, WANTED)
    assert cand.kind == "cdk-asset" and cand.path == str(asset)
    assert fetch(cand, WANTED, None, None) == zip_folder(asset)


def _cand(kind: str, trust: int, sha: str | None) -> Candidate:
    return Candidate(kind=kind, description=kind, trust=trust, sha256=sha)


def test_choice_prefers_an_exact_match_over_trust() -> None:
    w = WantedArtifact(function_name="fn", bucket="b", key="k", expected_sha256="GOOD")
    ch = choose(w, [_cand("s3-previous-version", 0, "OTHER"), _cand("lambda", 1, "GOOD")])
    assert ch.verification == "exact" and ch.candidate.kind == "lambda"


def test_choice_without_a_match_is_a_substitute() -> None:
    w = WantedArtifact(function_name="fn", bucket="b", key="k", expected_sha256="GOOD")
    ch = choose(w, [_cand("file", 3, "X"), _cand("s3-previous-version", 0, "Y")])
    assert ch.verification == "substitute" and ch.candidate.kind == "s3-previous-version"


def test_choice_without_expected_hash_is_unverified_and_none_without_sources() -> None:
    assert choose(WANTED, [_cand("file", 3, "X")]).verification == "unverified"
    ch = choose(WANTED, [])
    assert ch.verification == "none" and ch.candidate is None


def test_with_hash_fills_size_and_sha() -> None:
    c = with_hash(_cand("file", 3, None), b"abc")
    assert c.size == 3 and c.sha256 == code_sha256(b"abc")
