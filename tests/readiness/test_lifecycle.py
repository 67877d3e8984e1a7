"""S3 lifecycle and ECR lifecycle policy evaluation (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from recover.readiness.ecr_lifecycle import ImageInfo, image_threats, parse_policy
from recover.readiness.s3_lifecycle import ObjectState, lifecycle_date, matches, threats

T = datetime(2026, 11, 1, 10, 30, tzinfo=UTC)


def test_lifecycle_dates_round_up_to_midnight_utc() -> None:
    # the S3 User Guide's example: created 1/15/2014 10:30 UTC + 3 days -> 1/19/2014 00:00 UTC
    assert lifecycle_date(datetime(2014, 1, 15, 10, 30, tzinfo=UTC), 3) == datetime(
        2014, 1, 19, tzinfo=UTC)
    assert lifecycle_date(datetime(2014, 1, 15, tzinfo=UTC), 3) == datetime(2014, 1, 18, tzinfo=UTC)


def obj(key: str = "app/fn.zip", **kw: object) -> ObjectState:
    base: dict = dict(bucket="b", key=key, exists=True, last_modified=T, size=1000)
    base.update(kw)
    return ObjectState(**base)


@pytest.mark.parametrize("rule, hit", [
    ({"Status": "Enabled", "Filter": {"Prefix": "app/"}}, True),
    ({"Status": "Enabled", "Filter": {"Prefix": "logs/"}}, False),
    ({"Status": "Disabled", "Filter": {"Prefix": ""}}, False),
    ({"Status": "Enabled", "Prefix": "app"}, True),  # legacy top-level prefix
    ({"Status": "Enabled", "Filter": {}}, True),
    ({"Status": "Enabled", "Filter": {"Tag": {"Key": "tmp", "Value": "1"}}}, False),
    ({"Status": "Enabled", "Filter": {"And": {"Prefix": "app/", "Tags": [
        {"Key": "team", "Value": "x"}]}}}, True),
    ({"Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1000}}, False),
    ({"Status": "Enabled", "Filter": {"And": {"ObjectSizeLessThan": 2000}}}, True),
])
def test_rule_filters(rule: dict, hit: bool) -> None:
    assert matches(rule, obj(tags=(("team", "x"),))) is hit


EXPIRE = {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
          "Expiration": {"Days": 30}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}


def test_versioned_current_key_is_hidden_then_purged() -> None:
    hide, purge = threats([EXPIRE], obj(), versioned=True)
    assert (hide.action, hide.date, hide.permanent) == ("expiration", datetime(
        2026, 12, 2, tzinfo=UTC), False)
    assert (purge.action, purge.date, purge.permanent) == ("noncurrent-expiration", datetime(
        2026, 12, 3, tzinfo=UTC), True)


def test_unversioned_expiration_is_permanent() -> None:
    [t] = threats([EXPIRE], obj(), versioned=False)
    assert t.permanent and t.date == datetime(2026, 12, 2, tzinfo=UTC)


def test_pinned_version_survives_expiration_but_not_the_noncurrent_rule() -> None:
    [t] = threats([EXPIRE], obj(version="v1"), versioned=True)
    assert t.action == "noncurrent-expiration" and t.date == datetime(2026, 12, 3, tzinfo=UTC)
    since = T + timedelta(days=3)
    [t] = threats([EXPIRE], obj(version="v1", is_latest=False, noncurrent_since=since),
                  versioned=True)
    assert t.date == datetime(2026, 11, 6, tzinfo=UTC)


def test_noncurrent_rule_alone_is_a_conditional_threat() -> None:
    rule = {"ID": "cdk", "Status": "Enabled", "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 2}}
    [t] = threats([rule], obj(), versioned=True)
    assert t.date is None and "if the key is deleted" in t.detail and "2 newest" in t.detail


def test_archive_transitions_count_but_glacier_ir_does_not() -> None:
    rule = {"ID": "cold", "Status": "Enabled", "Filter": {},
            "Transitions": [{"Days": 10, "StorageClass": "GLACIER_IR"},
                            {"Days": 90, "StorageClass": "DEEP_ARCHIVE"}]}
    [t] = threats([rule], obj(), versioned=True)
    assert t.action == "transition" and "DEEP_ARCHIVE" in t.detail
    assert t.date == datetime(2027, 1, 31, tzinfo=UTC)


def img(digest: str, *tags: str, days_ago: int = 0) -> ImageInfo:
    return ImageInfo(digest, tags, T - timedelta(days=days_ago))


POLICY = json.dumps({"rules": [
    {"rulePriority": 2, "selection": {"tagStatus": "any", "countType": "sinceImagePushed",
                                      "countUnit": "days", "countNumber": 90},
     "action": {"type": "expire"}},
    {"rulePriority": 1, "description": "keep 2 releases",
     "selection": {"tagStatus": "tagged", "tagPatternList": ["release-*"],
                   "countType": "imageCountMoreThan", "countNumber": 2},
     "action": {"type": "expire"}},
]})


def test_count_rule_expires_beyond_the_newest_n() -> None:
    rules = parse_policy(POLICY)
    assert [r["rulePriority"] for r in rules] == [1, 2]
    images = [img("d1", "release-1", days_ago=30), img("d2", "release-2", days_ago=20),
              img("d3", "release-3", days_ago=10), img("d4", "dev", days_ago=5)]
    [t] = image_threats(rules, images, images[0], T)
    assert t.date == T and "number 3" in t.detail and "keep 2 releases" in t.rule_id
    [t] = image_threats(rules, images, images[1], T)
    assert t.date is None and "1 more push" in t.detail
    # the dev image is not selected by rule 1, so rule 2 (age) decides
    [t] = image_threats(rules, images, images[3], T)
    assert t.date == T + timedelta(days=85)


def test_an_image_claimed_by_an_earlier_rule_is_not_expired_by_a_later_one() -> None:
    rules = parse_policy(POLICY)
    old_release = img("d1", "release-1", days_ago=400)
    [t] = image_threats(rules, [old_release], old_release, T)
    assert t.date is None  # kept by rule 1 (1 of 2), the 90-day rule never sees it


def test_untagged_selection() -> None:
    rules = parse_policy(json.dumps({"rules": [{"rulePriority": 1, "selection": {
        "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
        "countNumber": 1}, "action": {"type": "expire"}}]}))
    assert image_threats(rules, [img("d", "v1")], img("d", "v1"), T) == []
    assert image_threats(rules, [img("d")], img("d"), T)[0].date == T + timedelta(days=1)


def test_the_expiration_header_from_s3_wins_when_the_rules_did_not_say() -> None:
    header = 'expiry-date="Sun, 14 Oct 2018 00:00:00 GMT", rule-id="lifecycle-test-rule"'
    [t] = threats([], obj(expiration_header=header), versioned=False)
    assert (t.rule_id, t.date, t.permanent) == ("lifecycle-test-rule",
                                                datetime(2018, 10, 14, tzinfo=UTC), True)
    # when our computation already has that rule's expiration, no duplicate
    rule = {**EXPIRE, "ID": "lifecycle-test-rule"}
    assert [x.action for x in threats([rule], obj(expiration_header=header),
                                      versioned=True)] == ["expiration", "noncurrent-expiration"]
