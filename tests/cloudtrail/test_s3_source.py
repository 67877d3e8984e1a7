"""The S3 trail-bucket reader against moto's S3 (in-process): layouts, pruning, digest skip."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from recover.cloudtrail.extract import PREFILTER_FAILURES, artifact_fetch_failures
from recover.cloudtrail.scan import filtered
from recover.cloudtrail.sources import S3Source, ScanStats, Window
from recover.sandbox.trail import TrailRecorder
from tests.cloudtrail.helpers import NOSUCHKEY_MSG

ACCT, ACCT2 = "111122223333", "444455556666"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fill(rec: TrailRecorder, days: int = 4, region: str | None = None) -> list[str]:
    """One failing UpdateFunctionCode and two harmless calls a day."""
    ids = []
    for d in range(days):
        when = T0 + timedelta(days=d)
        r = rec.record(event_name="UpdateFunctionCode20150331v2",
                       event_source="lambda.amazonaws.com",
                       request_parameters={"functionName": f"fn-{d}", "s3Bucket": "deploy",
                                           "s3Key": f"day{d}.zip"},
                       error_code="InvalidParameterValueException", error_message=NOSUCHKEY_MSG,
                       event_time=when, region=region)
        ids.append(r["eventID"])
        for i in range(2):
            rec.record(event_name="GetFunction20150331v2", event_source="lambda.amazonaws.com",
                       request_parameters={"functionName": f"fn-{d}"}, read_only=True,
                       event_time=when + timedelta(minutes=i * 7), region=region)
    return ids


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="trail")
        yield client


def put(s3, keys: dict[str, bytes]) -> None:
    for k, v in keys.items():
        s3.put_object(Bucket="trail", Key=k, Body=v)


def write(s3, rec: TrailRecorder, **kw) -> list[str]:
    return rec.write_trail_files(lambda k, b: s3.put_object(Bucket="trail", Key=k, Body=b), **kw)


def scan(s3, prefix: str = "", **window) -> tuple[list, ScanStats]:
    stats = ScanStats()
    win = Window(**window)
    src = S3Source(s3, "trail", prefix, win, PREFILTER_FAILURES, workers=3,
                   now=lambda: T0 + timedelta(days=10))
    return artifact_fetch_failures(filtered(src.iter_records(stats), win, ())), stats


def test_standard_layout_everything(s3) -> None:
    rec = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=1)
    ids = fill(rec)
    ids += fill(rec, days=1, region="eu-west-1")
    keys = write(s3, rec, prefix="org-trail")
    found, stats = scan(s3, "org-trail")
    assert sorted(f.event_id for f in found) == sorted(ids)
    assert stats.records == 15 and stats.corrupt_files == 0
    assert stats.files == len([k for k in keys if "/CloudTrail/" in k])
    assert stats.listed_prefixes == [
        "org-trail/AWSLogs/",
        f"org-trail/AWSLogs/{ACCT}/CloudTrail/",
        f"org-trail/AWSLogs/{ACCT}/CloudTrail/eu-west-1/",
        f"org-trail/AWSLogs/{ACCT}/CloudTrail/us-east-1/",
    ]
    assert not any("Digest" in p for p in stats.listed_prefixes)


def test_day_pruning_lists_only_the_needed_days(s3) -> None:
    rec = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=2)
    fill(rec, days=6)
    write(s3, rec)
    since, until = T0 + timedelta(days=2, hours=-1), T0 + timedelta(days=3, hours=1)
    found, stats = scan(s3, "", since=since, until=until)
    assert sorted(f.key for f in found) == ["day2.zip", "day3.zip"]
    region = f"AWSLogs/{ACCT}/CloudTrail/us-east-1/"
    assert stats.listed_prefixes == [
        "AWSLogs/", f"AWSLogs/{ACCT}/CloudTrail/",
        region + "2026/11/22/", region + "2026/11/23/", region + "2026/11/24/"]  # +1 day slack


def test_accounts_and_regions_given_are_not_listed(s3) -> None:
    a = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=3)
    b = TrailRecorder(ACCT2, "us-east-1", lambda: T0, seed=4)
    fill(a, days=1)
    fill(a, days=1, region="eu-west-1")
    ids_b = fill(b, days=1)
    write(s3, a)
    write(s3, b)
    found, stats = scan(s3, "", accounts=frozenset({ACCT2}), regions=frozenset({"us-east-1"}),
                        since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=1))
    assert [f.event_id for f in found] == ids_b
    assert stats.listed_prefixes == ["AWSLogs/",
                                     f"AWSLogs/{ACCT2}/CloudTrail/us-east-1/2026/11/20/",
                                     f"AWSLogs/{ACCT2}/CloudTrail/us-east-1/2026/11/21/"]


def test_organization_layout(s3) -> None:
    a = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=5)
    b = TrailRecorder(ACCT2, "us-east-1", lambda: T0, seed=6)
    ids = fill(a, days=1) + fill(b, days=1)
    write(s3, a, organization_id="o-aa11bb22cc")
    write(s3, b, organization_id="o-aa11bb22cc")
    found, stats = scan(s3)
    assert sorted(f.event_id for f in found) == sorted(ids)
    assert stats.listed_prefixes[:2] == ["AWSLogs/", "AWSLogs/o-aa11bb22cc/"]
    # a prefix naming the organization and one account reads only that account
    found, stats = scan(s3, f"AWSLogs/o-aa11bb22cc/{ACCT2}/")
    assert [f.account for f in found] == [ACCT2]
    assert stats.listed_prefixes[0] == f"AWSLogs/o-aa11bb22cc/{ACCT2}/CloudTrail/"


def test_prefix_naming_a_day_is_listed_as_given(s3) -> None:
    rec = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=7)
    fill(rec, days=3)
    write(s3, rec)
    found, stats = scan(s3, f"AWSLogs/{ACCT}/CloudTrail/us-east-1/2026/11/21/")
    assert [f.key for f in found] == ["day1.zip"]
    assert stats.listed_prefixes == [f"AWSLogs/{ACCT}/CloudTrail/us-east-1/2026/11/21/"]


def test_digest_insight_and_damaged_objects(s3) -> None:
    rec = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=8)
    ids = fill(rec, days=1)
    keys = write(s3, rec)
    day = f"AWSLogs/{ACCT}/CloudTrail/us-east-1/2026/11/20/"
    put(s3, {
        # a digest that somebody copied under CloudTrail/ and an Insight file: both skipped
        day + "CloudTrail-Digest/x.json.gz": gzip.compress(b'{"digestStartTime":"x"}'),
        day + f"{ACCT}_CloudTrail_us-east-1_20261120T1300Z_TRUNCATEDxxxxxxx.json.gz":
            gzip.compress(b'{"Records":[{"eventVersion":"1.08","eventName":"X"},')[:-6],
        day + "notes.txt": b"hello",
    })
    found, stats = scan(s3)
    assert [f.event_id for f in found] == ids
    assert stats.skipped_files["digest or insight folder"] == 1
    assert stats.skipped_files["not a .json/.json.gz file"] == 1
    assert stats.corrupt_files == 1 and "TRUNCATED" in stats.corrupt[0]["file"]
    assert any("CloudTrail-Digest" in k for k in keys)  # the recorder did write digests


def test_since_skips_files_delivered_before_it_by_name(s3) -> None:
    rec = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=9)
    fill(rec, days=1)
    write(s3, rec)
    _, stats = scan(s3, since=T0 + timedelta(minutes=12))
    assert stats.skipped_files["delivered before --since"] >= 1


def test_object_gone_between_list_and_get_is_reported(s3) -> None:
    rec = TrailRecorder(ACCT, "us-east-1", lambda: T0, seed=10)
    ids = fill(rec, days=2)
    keys = [k for k in write(s3, rec) if "/CloudTrail/" in k]
    stats = ScanStats()
    src = S3Source(s3, "trail", "", Window(), PREFILTER_FAILURES, workers=1)
    it = src.iter_records(stats)
    first = next(it)  # day 0 is being read; day 1 expires before it is fetched
    gone = [k for k in keys if "/2026/11/21/" in k]
    for k in gone:
        s3.delete_object(Bucket="trail", Key=k)
    found = artifact_fetch_failures([first, *it])
    assert [f.event_id for f in found] == ids[:1]
    assert stats.corrupt_files == len(gone) >= 1
    assert all(c["reasons"] == {"gone since it was listed (NoSuchKey)": 1}
               for c in stats.corrupt)
