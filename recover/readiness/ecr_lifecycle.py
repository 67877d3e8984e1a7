"""Would an ECR lifecycle policy expire a referenced image? Pure.

ECR facts (Amazon ECR User Guide, "Lifecycle policy properties" / evaluation): rules apply in
rulePriority order, lowest first; `tagStatus` is tagged | untagged | any (with tagged, a
tagPrefixList or tagPatternList selects images carrying ALL the listed prefixes / patterns,
`*` wildcards); `countType` imageCountMoreThan N keeps the N most recently pushed selected
images and expires the rest, sinceImagePushed N (countUnit days) expires selected images
pushed more than N days ago. An image selected by a rule cannot be expired by a rule of lower
priority (a higher rulePriority number). Expiry happens at ECR's next evaluation (within about
24 hours), so a date is "from" rather than exact.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from recover.readiness.s3_lifecycle import Threat


@dataclass(frozen=True)
class ImageInfo:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime | None


class PolicyError(ValueError):
    pass


def parse_policy(text: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PolicyError(f"lifecycle policy is not JSON: {exc}") from exc
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules, list):
        raise PolicyError("lifecycle policy has no rules list")
    return sorted((r for r in rules if isinstance(r, dict)),
                  key=lambda r: int(r.get("rulePriority", 0)))


def _selected(rule: dict[str, Any], image: ImageInfo) -> bool:
    sel = rule.get("selection") or {}
    status = sel.get("tagStatus", "any")
    if status == "untagged":
        return not image.tags
    if status == "tagged":
        if not image.tags:
            return False
        prefixes = sel.get("tagPrefixList") or []
        patterns = sel.get("tagPatternList") or []
        return (all(any(t.startswith(p) for t in image.tags) for p in prefixes)
                and all(any(fnmatch.fnmatchcase(t, pat) for t in image.tags) for pat in patterns))
    return True  # any


def _describe(rule: dict[str, Any]) -> str:
    sel = rule.get("selection") or {}
    what = sel.get("tagStatus", "any")
    if sel.get("tagPrefixList"):
        what += f" {sel['tagPrefixList']}"
    if sel.get("tagPatternList"):
        what += f" {sel['tagPatternList']}"
    if sel.get("countType") == "imageCountMoreThan":
        return f"keep the {sel.get('countNumber')} newest {what} images"
    return f"expire {what} images {sel.get('countNumber')} {sel.get('countUnit', 'days')} " \
           "after push"


def image_threats(rules: list[dict[str, Any]], images: list[ImageInfo],
                  target: ImageInfo, now: datetime) -> list[Threat]:
    """How the policy treats `target` given every image of the repository."""
    claimed: set[str] = set()
    for rule in rules:
        action = (rule.get("action") or {}).get("type", "expire")
        sel = rule.get("selection") or {}
        chosen = [i for i in images if i.digest not in claimed and _selected(rule, i)]
        claimed.update(i.digest for i in chosen)
        if target.digest not in {i.digest for i in chosen}:
            continue
        rid = f"priority {rule.get('rulePriority')}" + (
            f" ({rule['description']})" if rule.get("description") else "")
        if action != "expire":
            return []  # other actions (archive transitions) are not evaluated here
        if sel.get("countType") == "imageCountMoreThan":
            keep = int(sel.get("countNumber", 0))
            newest = sorted(chosen, key=lambda i: i.pushed_at or now, reverse=True)
            rank = [i.digest for i in newest].index(target.digest)
            if rank >= keep:
                return [Threat(rid, "image-expiration", now, True,
                               f"{_describe(rule)}: this image is number {rank + 1} by push "
                               "date, so ECR expires it at its next evaluation")]
            return [Threat(rid, "image-expiration", None, True,
                           f"{_describe(rule)}: this image is number {rank + 1}; "
                           f"{keep - rank} more push(es) of matching images expire it")]
        if sel.get("countType") == "sinceImagePushed" and target.pushed_at:
            days = int(sel.get("countNumber", 0))
            return [Threat(rid, "image-expiration", target.pushed_at + timedelta(days=days), True,
                           f"{_describe(rule)}")]
        return []
    return []
