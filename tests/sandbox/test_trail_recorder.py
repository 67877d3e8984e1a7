"""The sandbox's CloudTrail recorder (recover/sandbox/trail.py), against docs/reference/aws-behaviour.md#cloudtrail-records, docs/reference/aws-behaviour.md#lookupevents, docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from recover.sandbox.trail import TrailApiError, TrailRecorder

ACCT = "123456789012"
T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
NOSUCHKEY = ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
             "The specified key does not exist.")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make(seed: int = 0, now: datetime = T0 + timedelta(hours=2)) -> TrailRecorder:
    return TrailRecorder(ACCT, "us-east-1", Clock(now), seed=seed)


def failed_update(rec: TrailRecorder, fn: str, key: str, when: datetime, **kw: object) -> dict:
    return rec.record(event_name="UpdateFunctionCode20150331v2",
                      event_source="lambda.amazonaws.com",
                      request_parameters={"functionName": fn, "s3Bucket": "deploy", "s3Key": key,
                                          "publish": False, "dryRun": False},
                      error_code="InvalidParameterValueException", error_message=NOSUCHKEY,
                      event_time=when, **kw)  # type: ignore[arg-type]


def test_record_has_the_full_shape() -> None:
    """docs/reference/aws-behaviour.md#cloudtrail-records: eventVersion 1.11, uuid eventID, AwsApiCall, Management, recipient account."""
    rec = make()
    r = failed_update(rec, "fn-a", "a.zip", T0)
    assert r["eventVersion"] == "1.11"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        r["eventID"])
    assert r["eventID"] != r["requestID"]
    assert r["eventType"] == "AwsApiCall"
    assert r["eventCategory"] == "Management" and r["managementEvent"] is True
    assert r["recipientAccountId"] == ACCT and r["awsRegion"] == "us-east-1"
    assert r["eventTime"] == "2026-11-23T10:00:00Z"
    assert r["errorCode"] == "InvalidParameterValueException" and r["errorMessage"] == NOSUCHKEY
    assert r["sourceIPAddress"] == "AWS Internal" and r["userAgent"] == "AWS Internal"
    assert r["readOnly"] is False and r["responseElements"] is None
    assert r["userIdentity"]["accountId"] == ACCT


def test_success_records_have_no_error_fields_and_default_to_the_clock() -> None:
    rec = make(now=T0)
    r = rec.record(event_name="CreateFunction20150331", event_source="lambda.amazonaws.com",
                   request_parameters={"functionName": "f", "code": {"s3Bucket": "b", "s3Key": "k"}},
                   response_elements={"codeSha256": "abc="})
    assert "errorCode" not in r and "errorMessage" not in r
    assert r["eventTime"] == "2026-11-23T10:00:00Z"
    assert r["responseElements"] == {"codeSha256": "abc="}


def test_data_events_are_marked_and_not_in_event_history() -> None:
    """docs/reference/aws-behaviour.md#lookupevents: data events (S3 object calls) are not in Event history."""
    rec = make()
    r = rec.record(event_name="GetObject", event_source="s3.amazonaws.com",
                   request_parameters={"bucketName": "b", "key": "k"}, event_time=T0)
    assert r["eventCategory"] == "Data" and r["managementEvent"] is False
    assert rec.lookup_events({})["Events"] == []
    assert len(rec.records()) == 1


def test_records_are_copies_oldest_first_and_seeded() -> None:
    a, b = make(seed=7), make(seed=7)
    for rec in (a, b):
        failed_update(rec, "late", "l.zip", T0 + timedelta(minutes=9))
        failed_update(rec, "early", "e.zip", T0)
    assert [r["requestParameters"]["functionName"] for r in a.records()] == ["late", "early"][::-1]
    assert [r["eventID"] for r in a.records()] == [r["eventID"] for r in b.records()]
    a.records()[0]["eventName"] = "changed"
    assert a.records()[0]["eventName"] == "UpdateFunctionCode20150331v2"
    assert make(seed=8).record(event_name="X", event_source="s", request_parameters=None)[
        "eventID"] != make(seed=7).record(event_name="X", event_source="s",
                                          request_parameters=None)["eventID"]


def test_lookup_filters_by_event_name_newest_first_with_item_shape() -> None:
    rec = make()
    failed_update(rec, "fn-a", "a.zip", T0)
    failed_update(rec, "fn-b", "b.zip", T0 + timedelta(minutes=1))
    rec.record(event_name="GetFunction20150331v2", event_source="lambda.amazonaws.com",
               request_parameters={"functionName": "fn-a"}, read_only=True, event_time=T0)
    out = rec.lookup_events({"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": "UpdateFunctionCode20150331v2"}]})
    assert "NextToken" not in out
    items = out["Events"]
    assert [json.loads(i["CloudTrailEvent"])["requestParameters"]["functionName"]
            for i in items] == ["fn-b", "fn-a"]
    first = items[0]
    assert set(first) >= {"EventId", "EventName", "ReadOnly", "EventTime", "EventSource",
                          "Resources", "CloudTrailEvent", "Username", "AccessKeyId"}
    assert first["ReadOnly"] == "false" and first["EventSource"] == "lambda.amazonaws.com"
    assert first["EventTime"] == int((T0 + timedelta(minutes=1)).timestamp())
    assert first["Username"] == "recover-sandbox"
    assert json.loads(first["CloudTrailEvent"])["eventID"] == first["EventId"]


@pytest.mark.parametrize("key,value,expected", [
    ("ReadOnly", "true", 1), ("ReadOnly", "false", 2), ("EventSource", "lambda.amazonaws.com", 3),
    ("Username", "alice", 1), ("AccessKeyId", "AKIAALICE", 1),
    ("ResourceType", "AWS::Lambda::Function", 1), ("ResourceName", "fn-r", 1),
    ("ResourceName", "arn:aws:lambda:us-east-1:123456789012:function:fn-r", 1),
])
def test_lookup_attribute_keys(key: str, value: str, expected: int) -> None:
    rec = make()
    failed_update(rec, "fn-a", "a.zip", T0)
    rec.record(event_name="GetFunction20150331v2", event_source="lambda.amazonaws.com",
               request_parameters={"functionName": "fn-a"}, read_only=True, event_time=T0,
               user_identity={"type": "IAMUser", "userName": "alice", "accessKeyId": "AKIAALICE",
                              "accountId": ACCT})
    rec.record(event_name="DeleteFunction20150331", event_source="lambda.amazonaws.com",
               request_parameters={"functionName": "fn-r"}, event_time=T0,
               resources=[{"ARN": "arn:aws:lambda:us-east-1:123456789012:function:fn-r",
                           "accountId": ACCT, "type": "AWS::Lambda::Function"}])
    out = rec.lookup_events({"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]})
    assert len(out["Events"]) == expected


def test_lookup_event_id() -> None:
    rec = make()
    r = failed_update(rec, "fn-a", "a.zip", T0)
    failed_update(rec, "fn-b", "b.zip", T0)
    out = rec.lookup_events({"LookupAttributes": [{"AttributeKey": "EventId",
                                                   "AttributeValue": r["eventID"]}]})
    assert [e["EventId"] for e in out["Events"]] == [r["eventID"]]


def test_time_window_is_inclusive_and_accepts_wire_and_python_times() -> None:
    """docs/reference/aws-behaviour.md#lookupevents: StartTime and EndTime are inclusive."""
    rec = make()
    for m in range(5):
        failed_update(rec, f"fn-{m}", f"{m}.zip", T0 + timedelta(minutes=m))
    start, end = T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)
    for s, e in [(start, end), (start.timestamp(), end.timestamp()),
                 (start.isoformat(), end.isoformat())]:
        out = rec.lookup_events({"StartTime": s, "EndTime": e})
        assert len(out["Events"]) == 3


def test_event_history_is_90_days_and_one_region() -> None:
    rec = make(now=T0)
    failed_update(rec, "old", "o.zip", T0 - timedelta(days=91))
    failed_update(rec, "new", "n.zip", T0 - timedelta(days=89))
    failed_update(rec, "west", "w.zip", T0, region="us-west-2")
    assert len(rec.lookup_events({})["Events"]) == 1
    west = rec.lookup_events({}, region="us-west-2")["Events"]
    assert [json.loads(e["CloudTrailEvent"])["awsRegion"] for e in west] == ["us-west-2"]


def test_pagination_with_next_token_covers_everything_once() -> None:
    rec = make()
    for i in range(120):
        failed_update(rec, f"fn-{i}", f"{i}.zip", T0 + timedelta(seconds=i // 3))
    seen: list[str] = []
    req: dict = {"MaxResults": 50}
    pages = 0
    while True:
        out = rec.lookup_events(req)
        pages += 1
        seen += [e["EventId"] for e in out["Events"]]
        if "NextToken" not in out:
            break
        req = {"MaxResults": 50, "NextToken": out["NextToken"]}
    assert pages == 3 and len(seen) == 120 == len(set(seen))
    # records arriving between pages do not shift the pages already handed out
    out1 = rec.lookup_events({"MaxResults": 50})
    failed_update(rec, "newer", "x.zip", T0 + timedelta(hours=1))
    out2 = rec.lookup_events({"MaxResults": 50, "NextToken": out1["NextToken"]})
    assert not set(e["EventId"] for e in out1["Events"]) & set(e["EventId"] for e in out2["Events"])


def test_exactly_50_results_has_no_next_token() -> None:
    rec = make()
    for i in range(50):
        failed_update(rec, f"fn-{i}", f"{i}.zip", T0)
    out = rec.lookup_events({})
    assert len(out["Events"]) == 50 and "NextToken" not in out


@pytest.mark.parametrize("request_,code", [
    ({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "a"},
                           {"AttributeKey": "EventName", "AttributeValue": "b"}]},
     "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "Bogus", "AttributeValue": "a"}]},
     "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": ""}]},
     "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "a_" * 700}]},
     "InvalidLookupAttributesException"),
    ({"StartTime": T0, "EndTime": T0 - timedelta(seconds=1)}, "InvalidTimeRangeException"),
    ({"StartTime": "yesterday-ish"}, "InvalidTimeRangeException"),
    ({"MaxResults": 0}, "InvalidMaxResultsException"),
    ({"MaxResults": 51}, "InvalidMaxResultsException"),
    ({"NextToken": "garbage!"}, "InvalidNextTokenException"),
    ({"EventCategory": "data"}, "InvalidEventCategoryException"),
])
def test_modeled_errors(request_: dict, code: str) -> None:
    with pytest.raises(TrailApiError) as err:
        make().lookup_events(request_)
    assert err.value.code == code and err.value.message


def test_next_token_is_bound_to_identical_parameters() -> None:
    """docs/reference/aws-behaviour.md#lookupevents: NextToken must be reused with identical params."""
    rec = make()
    for i in range(60):
        failed_update(rec, f"fn-{i}", f"{i}.zip", T0)
    attrs = [{"AttributeKey": "EventName", "AttributeValue": "UpdateFunctionCode20150331v2"}]
    token = rec.lookup_events({"LookupAttributes": attrs})["NextToken"]
    with pytest.raises(TrailApiError) as err:
        rec.lookup_events({"NextToken": token})
    assert err.value.code == "InvalidNextTokenException"
    assert len(rec.lookup_events({"LookupAttributes": attrs, "NextToken": token})["Events"]) == 10


def test_insight_category_returns_nothing() -> None:
    rec = make()
    failed_update(rec, "fn", "k.zip", T0)
    assert rec.lookup_events({"EventCategory": "insight"})["Events"] == []


def test_boto3_paginator_through_the_wire_format() -> None:
    """The response is what the JSON protocol carries: botocore parses it (EventTime epoch →
    datetime) and its paginator follows NextToken."""
    rec = make()
    for i in range(73):
        failed_update(rec, f"fn-{i}", f"{i}.zip", T0 + timedelta(seconds=i))
    client = boto3.client("cloudtrail", region_name="us-east-1")
    calls: list[dict] = []

    def answer(request, **_: object) -> AWSResponse:  # type: ignore[no-untyped-def]
        body = json.loads(request.body)
        calls.append(body)
        try:
            payload, status = rec.lookup_events(body), 200
        except TrailApiError as exc:
            payload, status = {"__type": exc.code, "message": exc.message}, 400
        raw = _Raw(json.dumps(payload).encode())
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.1"}, raw)

    client.meta.events.register("before-send.cloudtrail.LookupEvents", answer)
    pages = client.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName",
                           "AttributeValue": "UpdateFunctionCode20150331v2"}],
        StartTime=T0, EndTime=T0 + timedelta(hours=1))
    events = [e for p in pages for e in p["Events"]]
    assert len(events) == 73 and len(calls) == 2
    assert isinstance(events[0]["EventTime"], datetime)
    assert events[0]["EventTime"] == T0 + timedelta(seconds=72)
    assert isinstance(calls[0]["StartTime"], int | float)
    # botocore validates MaxResults >= 1 on the client but not the maximum: the server answers.
    with pytest.raises(client.exceptions.InvalidMaxResultsException):
        client.lookup_events(MaxResults=51)


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: object):  # type: ignore[no-untyped-def]
        yield self.data


def _files(rec: TrailRecorder, **kw: object) -> dict[str, bytes]:
    store: dict[str, bytes] = {}
    rec.write_trail_files(store.__setitem__, **kw)  # type: ignore[arg-type]
    return store


def test_trail_files_in_the_real_layout() -> None:
    """docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3: key layout, file name pattern, gzip {"Records": [...]}, 5-minute windows, digest."""
    rec = make()
    failed_update(rec, "a", "a.zip", T0 + timedelta(minutes=1))
    failed_update(rec, "b", "b.zip", T0 + timedelta(minutes=3))
    failed_update(rec, "c", "c.zip", T0 + timedelta(minutes=7))
    failed_update(rec, "d", "d.zip", T0 + timedelta(hours=1, minutes=58))  # delivered next hour
    failed_update(rec, "w", "w.zip", T0, region="eu-west-1")
    store = _files(rec, prefix="trails/")
    logs = sorted(k for k in store if "/CloudTrail/" in k)
    pattern = (r"trails/AWSLogs/123456789012/CloudTrail/(?P<r>[a-z0-9-]+)/2026/11/23/"
               r"123456789012_CloudTrail_(?P=r)_20261123T(?P<hm>\d{4})Z_[A-Za-z0-9]{16}\.json\.gz")
    for k in logs:
        assert re.fullmatch(pattern, k), k
    windows = sorted((re.fullmatch(pattern, k)["r"], re.fullmatch(pattern, k)["hm"]) for k in logs)
    assert windows == [("eu-west-1", "1005"), ("us-east-1", "1005"), ("us-east-1", "1010"),
                       ("us-east-1", "1200")]
    total = 0
    for k in logs:
        doc = json.loads(gzip.decompress(store[k]))
        assert list(doc) == ["Records"]
        total += len(doc["Records"])
    assert total == 5
    digests = [k for k in store if "/CloudTrail-Digest/" in k]
    assert digests and all(re.fullmatch(
        r"trails/AWSLogs/123456789012/CloudTrail-Digest/[a-z0-9-]+/2026/11/23/123456789012_"
        r"CloudTrail-Digest_[a-z0-9-]+_recover-sandbox-trail_[a-z0-9-]+_20261123T\d{6}Z\.json\.gz",
        k) for k in digests)
    digest = json.loads(gzip.decompress(store[digests[0]]))
    assert {"digestStartTime", "previousDigestS3Object", "logFiles"} <= set(digest)


def test_trail_files_are_deterministic_split_and_unordered() -> None:
    recs = []
    for _ in range(2):
        rec = make(seed=3)
        for i in range(30):
            failed_update(rec, f"fn-{i}", f"{i}.zip", T0 + timedelta(seconds=i))
        recs.append(rec)
    a, b = _files(recs[0], max_records_per_file=10), _files(recs[1], max_records_per_file=10)
    assert a == b
    logs = [k for k in a if "/CloudTrail/" in k]
    assert len(logs) == 3 and len(set(logs)) == 3
    order = [r["eventTime"] for k in sorted(logs) for r in json.loads(gzip.decompress(a[k]))[
        "Records"]]
    assert order != sorted(order)  # shuffled inside files
    assert _files(make(seed=4)) == {}


def test_organization_layout() -> None:
    """docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3: organization trails put <o-id> between AWSLogs and the account."""
    rec = make()
    failed_update(rec, "a", "a.zip", T0)
    keys = list(_files(rec, organization_id="o-abc123def4"))
    assert all(k.startswith("AWSLogs/o-abc123def4/123456789012/CloudTrail") for k in keys)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A1", "B1", "C1"]), st.integers(0, 500),
                          st.booleans()), max_size=140),
       st.integers(1, 50), st.sampled_from([None, "A1", "B1"]))
def test_paging_returns_exactly_the_matching_events_newest_first(
        calls: list[tuple[str, int, bool]], page: int, name: str | None) -> None:
    rec = make()
    for event_name, minute, ro in calls:
        rec.record(event_name=event_name, event_source="x.amazonaws.com",
                   request_parameters=None, read_only=ro,
                   event_time=T0 + timedelta(minutes=minute))
    base: dict = {"MaxResults": page}
    if name:
        base["LookupAttributes"] = [{"AttributeKey": "EventName", "AttributeValue": name}]
    got: list[dict] = []
    req = dict(base)
    while True:
        out = rec.lookup_events(req)
        assert len(out["Events"]) <= page
        got += out["Events"]
        if "NextToken" not in out:
            break
        req = dict(base, NextToken=out["NextToken"])
    expected = [r for r in rec.records() if name in (None, r["eventName"])]
    assert sorted(e["EventId"] for e in got) == sorted(r["eventID"] for r in expected)
    times = [e["EventTime"] for e in got]
    assert times == sorted(times, reverse=True)
