"""The CodeSha256 a missing code object had (pure): learned from every place AWS records it
(docs/reference/aws-behaviour.md, "Where AWS records a function's CodeSha256").

- CloudTrail: a successful CreateFunction / UpdateFunctionCode from this bucket/key (and object
  version) carries `responseElements.codeSha256`; a PublishVersion made while the function's
  code still came from this key carries the hash too (response `codeSha256`, or the request's
  `codeSha256`, a precondition Lambda checked), and the version number it published;
- Lambda: ListVersionsByFunction gives each version's CodeSha256, which counts for the versions
  CloudTrail shows were published from this key; GetFunction gives `Code.ResolvedS3Object`
  (bucket, key, object version) where AWS returns it, tying that version's CodeSha256 to the key.

The newest record wins: a key that is not content-addressed may have been overwritten, and the
rollback wants what the key held when it was last deployed. Every record is kept as evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from recover.artifacts.model import WantedArtifact
from recover.cloudtrail.extract import LAMBDA_SOURCE, code_event_kind, code_location
from recover.cloudtrail.record import TrailRecord

PUBLISH_VERSION_EVENTS = ("PublishVersion20150331",)


@dataclass(frozen=True)
class HashFact:
    sha256: str
    source: str  # where AWS recorded it, for a person to check
    at: datetime | None  # when (the event time, or the version's LastModified)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat() if self.at else None
        return out


@dataclass(frozen=True)
class TrailFacts:
    facts: tuple[HashFact, ...]
    versions: Mapping[str, str]  # published version -> the record that ties it to the key


def same_object(w: WantedArtifact, bucket: str | None, key: str | None,
                object_version: str | None) -> bool:
    """The location is the wanted object (a record without an object version matches too)."""
    return bucket == w.bucket and key == w.key and (
        w.version is None or object_version in (None, w.version))


def trail_facts(w: WantedArtifact, records: Iterable[TrailRecord]) -> TrailFacts:
    """CodeSha256 records of `w`'s function for `w`'s key, oldest first."""
    mine = sorted((r for r in records if r.function_name == w.function_name
                   and not r.failed and r.event_source in (None, LAMBDA_SOURCE)),
                  key=lambda r: (r.event_time.isoformat() if r.event_time else "", r.event_id or ""))
    facts: list[HashFact] = []
    versions: dict[str, str] = {}
    seen: set[str] = set()
    from_key = False  # the function's code (as far as the records show) came from this key
    for rec in mine:
        if rec.event_id and rec.event_id in seen:
            continue  # CloudTrail may deliver one event twice
        seen.add(rec.event_id or "")
        label = f"CloudTrail {rec.event_name} {rec.event_id or '(no id)'}"
        resp = rec.response_elements
        sha = _str(resp.get("codeSha256"))
        version = _str(resp.get("version"))
        if code_event_kind(rec.event_name) in ("create", "update"):
            loc = code_location(rec)
            from_key = same_object(w, loc.bucket, loc.key, loc.object_version)
            if from_key and sha:
                facts.append(HashFact(sha, f"{label} (from this key)", rec.event_time))
            if from_key and version and version != "$LATEST":
                versions[version] = label
        elif rec.event_name in PUBLISH_VERSION_EVENTS and from_key:
            sha = sha or _str(rec.request_parameters.get("codeSha256"))
            if sha:
                facts.append(HashFact(sha, f"{label} (published while the code came from "
                                           "this key)", rec.event_time))
            if version:
                versions[version] = label
    return TrailFacts(tuple(facts), versions)


def lambda_facts(w: WantedArtifact, versions: Iterable[Mapping[str, Any]],
                 published_from_key: Mapping[str, str],
                 resolved: Mapping[str, Mapping[str, Any]]) -> list[HashFact]:
    """From ListVersionsByFunction (`versions`: FunctionConfiguration items) and GetFunction
    (`resolved`: qualifier -> Code.ResolvedS3Object)."""
    out: list[HashFact] = []
    for conf in versions:
        sha, qualifier = _str(conf.get("CodeSha256")), _str(conf.get("Version"))
        if not sha or not qualifier:
            continue
        at = lambda_time(conf.get("LastModified"))
        label = f"{w.function_name}:{qualifier}"
        if qualifier in published_from_key:
            out.append(HashFact(sha, f"ListVersionsByFunction {label} (published from this key, "
                                     f"{published_from_key[qualifier]})", at))
        obj = resolved.get(qualifier)
        if obj and same_object(w, _str(obj.get("S3Bucket")), _str(obj.get("S3Key")),
                               _str(obj.get("S3ObjectVersion"))):
            out.append(HashFact(sha, f"GetFunction {label} Code.ResolvedS3Object", at))
    return out


def settle(w: WantedArtifact, facts: Iterable[HashFact]) -> WantedArtifact:
    """`w` with the expected CodeSha256 of the newest record (and every record as evidence)."""
    ordered = sorted(facts, key=lambda f: f.at.isoformat() if f.at else "")
    if not ordered:
        return replace(w, expected_sha256=None, expected_from="", expected_evidence=())
    newest = ordered[-1]
    others = {f.sha256 for f in ordered} - {newest.sha256}
    note = newest.source
    if others:
        note += (f"; {len(others)} older record(s) give another hash: the key was overwritten, "
                 "the newest record counts")
    return replace(w, expected_sha256=newest.sha256, expected_from=note,
                   expected_evidence=tuple(f.to_dict() for f in ordered))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def lambda_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:  # Lambda's LastModified: 2026-10-12T09:00:00.000+0000
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
        except ValueError:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return None
    return None
