"""When would S3 lifecycle remove (or archive) an object a template references? Pure.

S3 facts (docs/reference/aws-behaviour.md#s3-lifecycle-expiration and the S3 User Guide's lifecycle pages):
- a rule applies when Status is Enabled and its filter matches: prefix, tags (all of them),
  ObjectSizeGreaterThan / ObjectSizeLessThan (strict);
- `Expiration: Days N` acts on current versions: S3 adds N days to the object's creation time
  and rounds up to the next midnight UTC. On a versioned bucket it adds a delete marker (the key
  then answers 404, so a rollback that fetches the key fails; the bytes stay as a noncurrent
  version); on an unversioned bucket the removal is permanent;
- `NoncurrentVersionExpiration: NoncurrentDays M` permanently deletes a version M days
  (rounded the same way) after it became noncurrent; `NewerNoncurrentVersions` keeps that many
  newer noncurrent versions;
- transitions to GLACIER / DEEP_ARCHIVE make the object unreadable until restored, so
  CloudFormation and Lambda cannot fetch it (GLACIER_IR stays readable).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


@dataclass(frozen=True)
class ObjectState:
    """What HeadObject (and, for a pinned version, ListObjectVersions) said about one key."""

    bucket: str
    key: str
    version: str = ""  # the pinned version asked for ("" = the current version)
    exists: bool = False
    delete_marker: bool = False  # the current version is a delete marker
    last_modified: datetime | None = None  # creation time of the version looked at
    is_latest: bool = True
    noncurrent_since: datetime | None = None  # when a pinned version became noncurrent
    size: int | None = None
    storage_class: str = "STANDARD"
    tags: tuple[tuple[str, str], ...] | None = None  # None = not read (no tag-filtered rule)
    expiration_header: str = ""  # HeadObject's x-amz-expiration, as AWS computed it
    error: str = ""  # the check itself failed (access denied...)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("last_modified", "noncurrent_since"):
            out[k] = out[k].isoformat() if out[k] else None
        return out


@dataclass(frozen=True)
class Threat:
    rule_id: str
    action: str  # expiration | noncurrent-expiration | transition
    date: datetime | None  # when it happens (None: as soon as S3 gets to it)
    permanent: bool  # bytes gone for good (vs a delete marker or an archive)
    detail: str


def lifecycle_date(start: datetime, days: int) -> datetime:
    """start + days, rounded up to the next midnight UTC (S3's rule for Days/NoncurrentDays)."""
    t = start.astimezone(UTC) + timedelta(days=days)
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == t else midnight + timedelta(days=1)


def rule_id(rule: dict[str, Any]) -> str:
    return str(rule.get("ID") or "(rule without ID)")


def rule_prefix(rule: dict[str, Any]) -> str:
    flt = rule.get("Filter")
    if isinstance(flt, dict):
        if "And" in flt:
            return str(flt["And"].get("Prefix") or "")
        return str(flt.get("Prefix") or "")
    return str(rule.get("Prefix") or "")  # legacy top-level Prefix


def rule_tags(rule: dict[str, Any]) -> list[tuple[str, str]]:
    flt = rule.get("Filter") or {}
    if not isinstance(flt, dict):
        return []
    tags = [flt["Tag"]] if "Tag" in flt else list((flt.get("And") or {}).get("Tags") or [])
    return [(str(t.get("Key")), str(t.get("Value"))) for t in tags if isinstance(t, dict)]


def needs_tags(rules: list[dict[str, Any]]) -> bool:
    return any(rule.get("Status") == "Enabled" and rule_tags(rule) for rule in rules)


def matches(rule: dict[str, Any], obj: ObjectState) -> bool:
    if rule.get("Status") != "Enabled" or not obj.key.startswith(rule_prefix(rule)):
        return False
    wanted = rule_tags(rule)
    if wanted:
        have = set(obj.tags or ())
        if not all(t in have for t in wanted):
            return False
    flt = rule.get("Filter") or {}
    sizes = (flt.get("And") or flt) if isinstance(flt, dict) else {}
    if obj.size is not None:
        gt, lt = sizes.get("ObjectSizeGreaterThan"), sizes.get("ObjectSizeLessThan")
        if gt is not None and not obj.size > int(gt):
            return False
        if lt is not None and not obj.size < int(lt):
            return False
    return True


def threats(rules: list[dict[str, Any]], obj: ObjectState, versioned: bool) -> list[Threat]:
    """Every way the matching rules will take the referenced object (version) away."""
    out: list[Threat] = []
    mine = [r for r in rules if matches(r, obj)]
    pinned = bool(obj.version)
    # 1. when the referenced version stops being current (a delete marker on top)
    marker_at: tuple[datetime | None, str] | None = None
    if obj.is_latest and obj.last_modified:
        for rule in mine:
            exp = rule.get("Expiration") or {}
            when: datetime | None = None
            if exp.get("Days"):
                when = lifecycle_date(obj.last_modified, int(exp["Days"]))
                how = f"Expiration after {exp['Days']} days"
            elif exp.get("Date"):
                when = _as_dt(exp["Date"])
                how = f"Expiration on {when.date().isoformat() if when else exp['Date']}"
            else:
                continue
            if marker_at is None or (when and marker_at[0] and when < marker_at[0]):
                marker_at = (when, rule_id(rule))
            if not versioned:
                out.append(Threat(rule_id(rule), "expiration", when, True,
                                  f"{how}: the bucket is not versioned, so the object is "
                                  "deleted for good"))
            elif not pinned:
                out.append(Threat(rule_id(rule), "expiration", when, False,
                                  f"{how}: a delete marker hides the key (the bytes stay as "
                                  "a noncurrent version until a noncurrent rule removes them)"))
    # 2. once noncurrent, NoncurrentVersionExpiration deletes the version for good
    if versioned:
        since = obj.noncurrent_since if not obj.is_latest else (marker_at[0] if marker_at else None)
        for rule in mine:
            nve = rule.get("NoncurrentVersionExpiration") or {}
            if not nve.get("NoncurrentDays"):
                continue
            keep = nve.get("NewerNoncurrentVersions")
            extra = (f"; S3 keeps the {keep} newest noncurrent versions, so it may last longer"
                     if keep else "")
            if since is None:
                if obj.is_latest:
                    out.append(Threat(rule_id(rule), "noncurrent-expiration", None, True,
                                      f"NoncurrentVersionExpiration after "
                                      f"{nve['NoncurrentDays']} days: if the key is deleted or "
                                      "overwritten (cdk gc, a re-upload), its bytes are gone "
                                      f"{nve['NoncurrentDays']} days later{extra}"))
                continue
            when = lifecycle_date(since, int(nve["NoncurrentDays"]))
            cause = ("became noncurrent" if not obj.is_latest
                     else f"becomes noncurrent through rule {marker_at[1]}"  # type: ignore[index]
                     )
            out.append(Threat(rule_id(rule), "noncurrent-expiration", when, True,
                              f"NoncurrentVersionExpiration after {nve['NoncurrentDays']} days: "
                              f"the version {cause} on {since.date().isoformat()} and is "
                              f"deleted for good{extra}"))
    # 3. archive transitions make the object unreadable until restored
    for rule in mine:
        if obj.is_latest and obj.last_modified:
            for tr in rule.get("Transitions") or []:
                if tr.get("StorageClass") in ARCHIVE_CLASSES:
                    when = (lifecycle_date(obj.last_modified, int(tr["Days"]))
                            if tr.get("Days") is not None else _as_dt(tr.get("Date")))
                    out.append(Threat(rule_id(rule), "transition", when, False,
                                      f"Transition to {tr['StorageClass']}: CloudFormation and "
                                      "Lambda cannot read an archived object until it is "
                                      "restored"))
        if not obj.is_latest and obj.noncurrent_since:
            for tr in rule.get("NoncurrentVersionTransitions") or []:
                if tr.get("StorageClass") in ARCHIVE_CLASSES and tr.get("NoncurrentDays") is not None:
                    out.append(Threat(rule_id(rule), "transition",
                                      lifecycle_date(obj.noncurrent_since,
                                                     int(tr["NoncurrentDays"])), False,
                                      f"NoncurrentVersionTransition to {tr['StorageClass']}: "
                                      "unreadable until restored"))
    header = parse_expiration_header(obj.expiration_header)
    if header and not pinned and not any(t.action == "expiration" and t.rule_id == header[1]
                                         for t in out):
        # AWS computed it (HeadObject x-amz-expiration) although our reading of the rules did
        # not: AWS wins
        out.append(Threat(header[1], "expiration", header[0], not versioned,
                          "Expiration announced by S3 itself (HeadObject x-amz-expiration)"))
    return sorted(out, key=lambda t: (t.date is None, t.date or datetime.max.replace(tzinfo=UTC)))


_HEADER = re.compile(r'expiry-date="([^"]+)",\s*rule-id="([^"]*)"')


def parse_expiration_header(value: str) -> tuple[datetime, str] | None:
    """HeadObject's `Expiration`: `expiry-date="Sun, 14 Oct 2018 00:00:00 GMT", rule-id="r"`."""
    m = _HEADER.search(value or "")
    if not m:
        return None
    try:
        when = parsedate_to_datetime(m.group(1))
    except (TypeError, ValueError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), m.group(2)


def _as_dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
