"""Where the bytes of a missing code object can still be found (gather), and reading them.

Source specs (`--artifact-source`, repeatable):
  file:KEY=PATH      a zip file to upload as KEY
  folder:KEY=PATH    a folder to zip reproducibly (sorted entries, fixed timestamps) as KEY
  cdk-out:PATH       a CDK cloud assembly: its *.assets.json maps object keys to asset paths
  lambda:NAME[:Q]    code deployed in a function (or its version/alias Q), via GetFunction
Always searched: previous versions of the key in its (versioned) bucket, the failed function's
own published versions, and any function whose CodeSha256 equals the expected one.

A source that cannot be read (403, download error, timeout, corrupt zip) raises SourceError
with the reason; the flow records it and tries the next candidate.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import stat
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recover.act.needs import needs
from recover.artifacts.choose import TRUST
from recover.artifacts.expected import HashFact, lambda_facts, lambda_time
from recover.artifacts.model import Candidate, ResolvedCode, WantedArtifact, code_sha256
from recover.aws.s3_head import head_object
from recover.run.errors import (
    AccessDeniedError,
    AuthError,
    InputError,
    UsageError,
    translate_aws_error,
)

MAX_ZIP = 250 * 1024 * 1024  # Lambda's unzipped limit; nothing legitimate is bigger
# GetFunction calls made to read Code.ResolvedS3Object: $LATEST and the newest versions.
MAX_RESOLVED_LOOKUPS = 20


class SourceError(Exception):
    """A candidate source could not be read; `reason` is one line for the evidence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # file | folder | cdk-out | lambda
    key: str | None
    value: str


def parse_source_spec(spec: str) -> SourceSpec:
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise UsageError(f"bad --artifact-source {spec!r}: use file:KEY=PATH, folder:KEY=PATH, "
                         "cdk-out:PATH or lambda:NAME[:QUALIFIER]")
    if kind in ("file", "folder"):
        key, eq, path = rest.partition("=")
        if not eq or not key or not path:
            raise UsageError(f"bad --artifact-source {spec!r}: {kind}:KEY=PATH")
        return SourceSpec(kind, key, path)
    if kind in ("cdk-out", "lambda"):
        return SourceSpec(kind, None, rest)
    raise UsageError(f"bad --artifact-source {spec!r}: unknown kind {kind!r}")


@needs("s3:GetObject", "s3:GetObjectVersion")
def object_exists(s3: Any, bucket: str, key: str, version: str | None = None) -> bool:
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        params["VersionId"] = version
    try:
        head_object(s3, **params)
        return True
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "405") or status in (404, 405):
            return False
        raise


@needs("s3:ListBucketVersions", "s3:GetObjectVersion")
def s3_previous_versions(s3: Any, wanted: WantedArtifact) -> list[Candidate]:
    """Versions of the key still in the bucket, newest first, when the current version is a
    delete marker (or no current version exists): restore by copying one onto the key (docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers)."""
    found: list[dict[str, Any]] = []
    markers_latest = False
    paginator = s3.get_paginator("list_object_versions")
    try:
        for page in paginator.paginate(Bucket=wanted.bucket, Prefix=wanted.key):
            for v in page.get("Versions", []) or []:
                if v.get("Key") == wanted.key:
                    found.append(v)
            for m in page.get("DeleteMarkers", []) or []:
                if m.get("Key") == wanted.key and m.get("IsLatest"):
                    markers_latest = True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return []
        raise
    if any(v.get("IsLatest") for v in found) and not markers_latest:
        return []  # the key has a current version: nothing to restore from here
    found.sort(key=lambda v: v.get("LastModified") or 0, reverse=True)
    return [Candidate(kind="s3-previous-version", trust=TRUST["s3-previous-version"],
                      description=f"previous S3 version {v['VersionId']} of the key",
                      version_id=v["VersionId"], size=v.get("Size"))
            for v in found if v.get("VersionId")]


@needs("lambda:ListVersionsByFunction")
def lambda_versions(lam: Any, function: str) -> list[dict[str, Any]]:
    """ListVersionsByFunction: $LATEST and every published version ([] if the function is gone)."""
    out: list[dict[str, Any]] = []
    try:
        for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=function):
            out.extend(page.get("Versions", []) or [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    return out


def _newest_first(conf: dict[str, Any]) -> int:
    v = str(conf.get("Version", ""))
    return -1 if v == "$LATEST" else -int(v) if v.isdigit() else 0


@needs("lambda:GetFunction", "s3:GetObject", "s3:GetObjectVersion")
def function_code(lam: Any, s3: Any | None, function: str,
                  versions: list[dict[str, Any]]) -> list[ResolvedCode]:
    """GetFunction of $LATEST and the newest published versions: each version's hash and, where
    AWS reports it (REFERENCE code, newer API), Code.ResolvedS3Object and Code.Error
    (docs/reference/aws-behaviour.md#lambda-s3-object-storage-mode). With `s3`, whether each
    resolved object version, and its key, can still be read (one HeadObject each, per
    distinct location). A GetFunction or HeadObject that fails only loses that one fact."""
    out: list[ResolvedCode] = []
    seen: dict[tuple[str, str, str | None], tuple[bool, bool]] = {}
    for conf in sorted(versions, key=_newest_first)[:MAX_RESOLVED_LOOKUPS + 1]:
        qualifier = str(conf.get("Version", "")) or "$LATEST"
        params = {"FunctionName": function}
        if qualifier != "$LATEST":
            params["Qualifier"] = qualifier
        try:
            code = lam.get_function(**params).get("Code") or {}
        except ClientError as exc:
            _raise_if_credentials(exc)
            continue
        base = ResolvedCode(function, qualifier, conf.get("CodeSha256") or None,
                            lambda_time(conf.get("LastModified")))
        obj, err = code.get("ResolvedS3Object"), code.get("Error")
        err = err if isinstance(err, dict) else {}
        if not (isinstance(obj, dict) and obj.get("S3Bucket") and obj.get("S3Key")):
            out.append(base)
            continue
        where = (str(obj["S3Bucket"]), str(obj["S3Key"]), obj.get("S3ObjectVersion") or None)
        if where not in seen:
            seen[where] = _readable(s3, *where) if s3 is not None else (True, True)
        out.append(replace(base, resolved=True, bucket=where[0], key=where[1], version=where[2],
                           error_code=str(err.get("ErrorCode") or ""),
                           error_message=str(err.get("Message") or ""),
                           version_exists=seen[where][0], key_exists=seen[where][1]))
    return out


def _readable(s3: Any, bucket: str, key: str, version: str | None) -> tuple[bool, bool]:
    """(the version exists, the key has a current object); unknown (a HeadObject refused for
    another reason than absence) counts as readable: nothing is claimed missing unproven."""
    def exists(v: str | None) -> bool:
        try:
            return object_exists(s3, bucket, key, v)
        except ClientError as exc:
            _raise_if_credentials(exc)
            return True
    return (exists(version) if version and version != "null" else True), exists(None)


@needs("lambda:GetFunction")
def lambda_hash_facts(lam: Any, wanted: WantedArtifact, versions: list[dict[str, Any]],
                      published_from_key: dict[str, str],
                      codes: list[ResolvedCode] | None = None) -> list[HashFact]:
    """What Lambda records of the key's CodeSha256: versions CloudTrail ties to the key, and
    versions whose GetFunction names the key in Code.ResolvedS3Object (newer API field, absent
    from older answers). `codes`: GetFunction answers already read (function_code), else read
    here."""
    if codes is None:
        codes = function_code(lam, None, wanted.function_name, versions)
    resolved = {c.qualifier: {"S3Bucket": c.bucket, "S3Key": c.key,
                              "S3ObjectVersion": c.version}
                for c in codes if c.resolved and c.function_name == wanted.function_name}
    return lambda_facts(wanted, versions, published_from_key, resolved)


@needs("lambda:GetFunction", "lambda:GetFunctionConfiguration")
def lambda_candidates(lam: Any, wanted: WantedArtifact, extra: list[SourceSpec],
                      versions: list[dict[str, Any]] | None = None) -> list[Candidate]:
    """Published versions of the failed function ($LATEST included: after a failed update it is
    often the NEW code, so it is never chosen unverified without acceptance), named functions,
    and (when the expected hash is known) any function in the region deployed with exactly that
    code."""
    out: dict[tuple[str, str | None], Candidate] = {}

    def add(fn: str, qualifier: str | None, sha: str | None, size: int | None) -> None:
        label = fn + (f":{qualifier}" if qualifier and qualifier != "$LATEST" else "")
        out.setdefault((fn, qualifier), Candidate(
            kind="lambda", trust=TRUST["lambda"], description=f"code deployed in {label}",
            sha256=sha, size=size, function=fn, qualifier=qualifier))

    if versions is None:
        versions = lambda_versions(lam, wanted.function_name)
    for v in versions:
        add(wanted.function_name, v.get("Version"), v.get("CodeSha256"), v.get("CodeSize"))
    for spec in extra:
        if spec.kind != "lambda":
            continue
        name, _, qualifier = spec.value.partition(":")
        try:
            conf = lam.get_function_configuration(FunctionName=name, **(
                {"Qualifier": qualifier} if qualifier else {}))
        except ClientError as exc:
            raise UsageError(f"--artifact-source lambda:{spec.value}: {exc.response['Error'].get('Message')}") from exc
        add(name, qualifier or None, conf.get("CodeSha256"), conf.get("CodeSize"))
    if wanted.expected_sha256:
        for page in lam.get_paginator("list_functions").paginate():
            for f in page.get("Functions", []):
                if f.get("CodeSha256") == wanted.expected_sha256:
                    add(f["FunctionName"], None, f["CodeSha256"], f.get("CodeSize"))
    return list(out.values())


def local_candidates(wanted: WantedArtifact, specs: list[SourceSpec]) -> list[Candidate]:
    out: list[Candidate] = []
    for spec in specs:
        if spec.kind in ("file", "folder") and spec.key == wanted.key:
            path = Path(spec.value)
            if spec.kind == "file" and not path.is_file():
                raise UsageError(f"--artifact-source file:{spec.key}={spec.value}: no such file")
            if spec.kind == "folder" and not path.is_dir():
                raise UsageError(f"--artifact-source folder:{spec.key}={spec.value}: no such folder")
            out.append(Candidate(kind=spec.kind, trust=TRUST[spec.kind], path=str(path),
                                 description=f"{spec.kind} {path}", named=True))
        elif spec.kind == "cdk-out":
            out.extend(cdk_assets(Path(spec.value), wanted))
    return out


def cdk_assets(cdk_out: Path, wanted: WantedArtifact) -> list[Candidate]:
    """Assets of a CDK cloud assembly whose destination object key is the wanted key.
    (*.assets.json: files.<hash>.source.path/packaging, destinations.*.objectKey; the key is
    `<sourceHash>.zip` per docs/reference/aws-behaviour.md#cdk-bootstrap.)"""
    if not cdk_out.is_dir():
        raise UsageError(f"--artifact-source cdk-out:{cdk_out}: no such folder")
    out: list[Candidate] = []
    for manifest in sorted(cdk_out.glob("*.assets.json")):
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise InputError(f"cannot read CDK asset manifest {manifest}: "
                             f"{str(exc)[:200] or type(exc).__name__}") from exc
        files = doc.get("files") if isinstance(doc, dict) else None
        if not isinstance(files, dict | None) or not all(
                isinstance(a, dict) and isinstance(a.get("destinations") or {}, dict)
                and isinstance(a.get("source") or {}, dict)
                and all(isinstance(d, dict) for d in (a.get("destinations") or {}).values())
                for a in (files or {}).values()):
            raise InputError(f"CDK asset manifest {manifest} is malformed (files.<hash> must "
                             "hold source and destinations objects)")
        for _hash, asset in (files or {}).items():
            dests = (asset.get("destinations") or {}).values()
            if not any(d.get("objectKey") == wanted.key for d in dests):
                continue
            src = asset.get("source") or {}
            path = cdk_out / str(src.get("path", ""))
            if "\0" in str(path):  # the OS refuses such a name (Path.exists raises)
                raise InputError(f"CDK asset manifest {manifest}: a source path holds a NUL")
            kind = "folder" if src.get("packaging") == "zip" and path.is_dir() else "file"
            if path.exists():
                # The manifest names this very key as the asset's destination.
                out.append(Candidate(kind="cdk-asset", trust=TRUST["cdk-asset"], path=str(path),
                                     description=f"CDK asset {path} ({manifest.name}, {kind})",
                                     named=True))
    return out


def zip_folder(folder: Path) -> bytes:
    """A reproducible zip: sorted entries, fixed timestamps, normalised permissions."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                rel = full.relative_to(folder).as_posix()
                info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
                mode = 0o755 if os.stat(full).st_mode & stat.S_IXUSR else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, full.read_bytes())
    return buf.getvalue()


def fetch(candidate: Candidate, wanted: WantedArtifact, s3: Any, lam: Any,
          download: Callable[[str], bytes] | None = None) -> bytes:
    """The candidate's bytes (bounded in size)."""
    if candidate.kind == "s3-previous-version":
        body = s3.get_object(Bucket=wanted.bucket, Key=wanted.key,
                             VersionId=candidate.version_id)["Body"]
        return body.read(MAX_ZIP + 1)[:MAX_ZIP + 1]
    if candidate.kind == "lambda":
        params = {"FunctionName": candidate.function}
        if candidate.qualifier and candidate.qualifier != "$LATEST":
            params["Qualifier"] = candidate.qualifier
        location = lam.get_function(**params)["Code"]["Location"]
        return (download or _download)(location)
    path = Path(candidate.path or "")
    if path.is_dir():
        return zip_folder(path)
    return path.read_bytes()


@needs("s3:GetObject", "s3:GetObjectVersion", "lambda:GetFunction")
def read_source(candidate: Candidate, wanted: WantedArtifact, s3: Any, lam: Any,
                download: Callable[[str], bytes] | None = None) -> bytes:
    """`fetch`, with every way a source can fail turned into SourceError (its reason), and the
    bytes checked to be a readable zip. Credentials that expired are not a source's fault:
    they still end the run."""
    try:
        data = fetch(candidate, wanted, s3, lam, download)
    except ClientError as exc:
        _raise_if_credentials(exc)
        err = exc.response.get("Error", {})
        raise SourceError(f"{err.get('Code') or 'error'}: {err.get('Message') or exc}"[:300]) from exc
    except (BotoCoreError, OSError, http.client.HTTPException, InputError, ValueError) as exc:
        raise SourceError(f"{type(exc).__name__}: {exc}"[:300]) from exc
    if len(data) > MAX_ZIP:
        raise SourceError(f"larger than {MAX_ZIP} bytes")
    problem = zip_problem(data)
    if problem:
        raise SourceError(f"not a usable zip: {problem}")
    return data


def zip_problem(data: bytes) -> str | None:
    """Why these bytes are not a readable zip (Lambda would refuse them), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError, zlib.error) as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return f"entry {bad} fails its CRC check" if bad else None


def _raise_if_credentials(exc: ClientError) -> None:
    err = translate_aws_error(exc)
    if isinstance(err, AuthError) and not isinstance(err, AccessDeniedError):
        raise err from exc


def _download(url: str) -> bytes:
    # The presigned URL GetFunction returns (valid 10 minutes, docs/reference/aws-behaviour.md#lambda-code-locations).
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise InputError(f"refusing to download code from {url!r}")
    with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - scheme checked above
        data = resp.read(MAX_ZIP + 1)
    if len(data) > MAX_ZIP:
        raise InputError(f"code package at {url} is larger than {MAX_ZIP} bytes")
    return data


def with_hash(candidate: Candidate, data: bytes) -> Candidate:
    return Candidate(**{**candidate.__dict__, "sha256": code_sha256(data), "size": len(data)})
