"""Plain data of the artifacts runbook."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256: base64 of the raw SHA-256 digest of the zip (docs/reference/aws-behaviour.md#where-aws-records-a-functions-codesha256)."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass(frozen=True)
class WantedArtifact:
    """The code object a failed function asked for."""

    function_name: str
    bucket: str
    key: str
    version: str | None = None  # S3ObjectVersion when the template pins one
    logical_id: str = ""
    stack_name: str = ""
    skip_id: str = ""
    found_in: str = ""  # e.g. "cloudtrail UpdateFunctionCode20150331v2 <event id> <time>"
    failed_at: datetime | None = None
    expected_sha256: str | None = None  # the CodeSha256 AWS recorded for this key (expected.py)
    expected_from: str = ""
    # Every record of a CodeSha256 for this key, newest last (HashFact.to_dict()); more than
    # one distinct hash means the key was overwritten at some point.
    expected_evidence: tuple[dict[str, Any], ...] = ()
    # How the location was found: "cloudtrail" (the failed fetch's record) or "resolved"
    # (GetFunction Code.ResolvedS3Object of a function storing its code by REFERENCE).
    located_by: str = "cloudtrail"
    # resolved: the object version Lambda references (gone, or hidden behind a delete marker);
    # bytes restored to the key get a new version id, so `follow_up` says what else to do.
    resolved_version: str | None = None
    lambda_error: str = ""  # GetFunction Code.Error: why Lambda cannot fetch the package now
    follow_up: str = ""

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}" + (f"?versionId={self.version}" if self.version else "")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["failed_at"] = self.failed_at.isoformat() if self.failed_at else None
        out["expected_evidence"] = list(self.expected_evidence)
        return out


@dataclass(frozen=True)
class ResolvedCode:
    """What GetFunction says of one function version's code (gathered). `resolved` is false
    when the answer has no Code.ResolvedS3Object: COPY code, or an API/partition without the
    field. For a resolved object, whether its version and its key (current version) can still
    be read."""

    function_name: str
    qualifier: str
    code_sha256: str | None = None
    last_modified: datetime | None = None
    resolved: bool = False
    bucket: str = ""
    key: str = ""
    version: str | None = None
    error_code: str = ""
    error_message: str = ""
    version_exists: bool = True
    key_exists: bool = True

    @property
    def unreadable(self) -> bool:
        return self.resolved and (not self.version_exists or not self.key_exists)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_modified"] = self.last_modified.isoformat() if self.last_modified else None
        return out


@dataclass(frozen=True)
class Candidate:
    """A place the bytes may come from. `sha256` is known before fetching when AWS says it
    (a Lambda function's CodeSha256), otherwise computed once the bytes are read.
    `named` is true for a source the engineer named for this very key (file:KEY=, folder:KEY=,
    or a cdk.out asset whose manifest gives this key as its destination)."""

    kind: str  # s3-previous-version | lambda | cdk-asset | file | folder
    description: str
    trust: int  # lower is more trusted
    sha256: str | None = None
    size: int | None = None
    version_id: str | None = None  # s3-previous-version
    function: str | None = None  # lambda
    qualifier: str | None = None  # lambda
    path: str | None = None  # cdk-asset, file, folder
    named: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class FailedSource:
    """A source that could not be read (download error, 403, timeout, corrupt zip...)."""

    kind: str
    description: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Choice:
    """The pick for one artifact (choose.py). `verification`: exact (SHA-256 equals the
    expected CodeSha256), substitute (a CodeSha256 is expected and nothing matches it),
    unverified (no CodeSha256 is known), none (no usable source)."""

    wanted: WantedArtifact
    candidate: Candidate | None
    verification: str  # exact | substitute | unverified | none
    why: str
    alternatives: tuple[Candidate, ...] = field(default=())
    failed: tuple[FailedSource, ...] = field(default=())

    @property
    def verified(self) -> bool:
        return self.verification == "exact"

    @property
    def ranked(self) -> tuple[Candidate, ...]:
        return ((self.candidate,) if self.candidate else ()) + self.alternatives

    def to_dict(self) -> dict[str, Any]:
        return {"artifact": self.wanted.to_dict(),
                "source": self.candidate.to_dict() if self.candidate else None,
                "verification": self.verification, "verified": self.verified, "why": self.why,
                "alternatives": [c.to_dict() for c in self.alternatives],
                "failed_sources": [f.to_dict() for f in self.failed]}


@dataclass(frozen=True)
class Restored:
    """One key after the restore step. `written` is false when nothing was put (the object
    was already present). `verified`: the bytes' SHA-256 equals the expected CodeSha256;
    `accepted_unverified`: bytes not proven to be the old code were written because a flag
    (`accepted_by`: --accept-unverified / --accept-substitute) or the operator accepted them."""

    function_name: str
    bucket: str
    key: str
    source: str
    verification: str
    sha256: str | None
    new_version_id: str | None = None
    skip_id: str = ""
    dry_run: bool = False
    written: bool = True
    verified: bool = False
    source_kind: str | None = None
    named: bool = False
    accepted_unverified: bool = False
    accepted_by: str | None = None
    expected_sha256: str | None = None
    failed_sources: tuple[FailedSource, ...] = ()
    # who wrote the object now at the key: "recover" (this run), "other" (appeared during
    # recover's call with other bytes), "unknown" (412, could not tell), None (already there
    # before the run, not examined)
    written_by: str | None = "recover"
    answer_lost: bool = False  # recover's write happened but its answer never came back

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["failed_sources"] = [f.to_dict() for f in self.failed_sources]
        return out
