"""The LookupEvents reader: server-side EventName filter, 50 per page, call counts, the 2/s rate
limiter (fake clock, no waiting) and throttling backoff (docs/reference/aws-behaviour.md#lookupevents)."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.exceptions as bx
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from recover.cloudtrail.extract import artifact_fetch_failures
from recover.cloudtrail.scan import expected_lookup_calls
from recover.cloudtrail.sources import LookupSource, RateLimiter, ScanStats
from recover.run.errors import RecoverError, ThrottledError
from recover.sandbox.trail import TrailApiError, TrailRecorder
from tests.cloudtrail.helpers import update_nosuchkey

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NAME = "UpdateFunctionCode20150331v2"


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)


class Timed:
    """A client proxy that notes the fake time of every LookupEvents call (sent, answered),
    and fails the attempts given in `failures` (attempt number, 1-based -> exception)."""

    def __init__(self, client: Any, ft: FakeTime, cost: float = 0.05,
                 failures: dict[int, Exception] | None = None) -> None:
        self.client, self.ft, self.cost, self.times = client, ft, cost, []
        self.answered: list[float] = []
        self.failures = failures or {}

    def lookup_events(self, **kw: Any) -> Any:
        self.times.append(self.ft.t)
        self.ft.t += self.cost  # each call takes a little time
        self.answered.append(self.ft.t)
        failure = self.failures.get(len(self.times))
        if failure is not None:
            raise failure
        return self.client.lookup_events(**kw)


def event(i: int) -> dict[str, Any]:
    rec = update_nosuchkey(f"arn:aws:lambda:us-east-1:123456789012:function:fn{i}", "deploy",
                           f"k{i}.zip", "2026-11-23T09:00:00Z")
    return {"EventId": rec["eventID"], "EventName": NAME, "ReadOnly": "false",
            "EventTime": T0, "EventSource": "lambda.amazonaws.com", "Resources": [],
            "CloudTrailEvent": json.dumps(rec)}


def stub_pages(stubber: Stubber, n: int, trailing_token: bool, name: str = NAME) -> int:
    """Pages as the service gives them; with trailing_token every full page carries a token,
    so a multiple of 50 ends with one empty page. Returns the number of pages."""
    events = [event(i) for i in range(n)]
    pages = [events[i:i + 50] for i in range(0, n, 50)] or [[]]
    if trailing_token and n and n % 50 == 0:
        pages.append([])
    for p, page in enumerate(pages):
        expected = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                    "StartTime": T0 - timedelta(days=1), "EndTime": T0, "MaxResults": 50}
        if p:
            expected["NextToken"] = f"tok{p}"
        resp: dict[str, Any] = {"Events": page}
        if p + 1 < len(pages):
            resp["NextToken"] = f"tok{p + 1}"
        stubber.add_response("lookup_events", resp, expected)
    return len(pages)


def source(client: Any, ft: FakeTime, names: list[str] = [NAME], regions: list[str] = ["us-east-1"],  # noqa: B006
           ) -> LookupSource:
    return LookupSource(lambda r: client, regions, names, T0 - timedelta(days=1), T0,
                        limiter=RateLimiter(clock=ft.clock, sleep=ft.sleep), sleep=ft.sleep,
                        rng=random.Random(0))


@pytest.mark.parametrize("matching", [0, 1, 49, 50, 51, 100, 120, 250])
def test_call_count_is_at_most_ceil_plus_one(matching: int) -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    with Stubber(client) as stubber:
        pages = stub_pages(stubber, matching, trailing_token=True)
        stats = ScanStats()
        src = source(Timed(client, ft), ft)
        found = artifact_fetch_failures(src.iter_records(stats))
        stubber.assert_no_pending_responses()
    assert len(found) == matching == stats.records
    calls = src.calls[("us-east-1", NAME)]
    assert calls == pages == stats.api_calls
    assert calls <= expected_lookup_calls(matching)
    if matching % 50 == 0:  # a token after the last full page costs exactly one more call
        assert calls == math.ceil(matching / 50) + 1


def test_never_more_than_two_calls_per_second_per_region() -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    timed = Timed(client, ft, cost=0.01)
    with Stubber(client) as stubber:
        for name in ("A1", "B1", "C1"):
            stub_pages(stubber, 170, trailing_token=False, name=name)
        list(source(timed, ft, names=["A1", "B1", "C1"]).iter_records(ScanStats()))
    times = timed.times
    assert len(times) == 12
    for i in range(len(times) - 2):  # any 3 consecutive calls span at least one second
        assert times[i + 2] - times[i] >= 1.0 - 1e-9
    assert sum(ft.sleeps) > 0  # the limiter did make it wait (on the fake clock)


def test_a_request_holds_its_slot_until_its_answer() -> None:
    """AWS counts a request when it arrives, somewhere between our send and its answer: so
    the next-but-one request waits a second after the answer, not after the send, and no
    network delay can put 3 requests in one second on AWS's side."""
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    timed = Timed(client, ft, cost=0.4)  # slow answers
    with Stubber(client) as stubber:
        stub_pages(stubber, 300, trailing_token=False)
        list(source(timed, ft).iter_records(ScanStats()))
    assert len(timed.times) == 6
    for i in range(len(timed.times) - 2):
        assert timed.times[i + 2] >= timed.answered[i] + 1.0 - 1e-9


def test_rate_limiter_is_per_key() -> None:
    ft = FakeTime()
    lim = RateLimiter(clock=ft.clock, sleep=ft.sleep)
    for key in ("a", "b", "a", "b"):
        lim.acquire(key)
    assert ft.sleeps == []  # two keys, two calls each: no wait
    lim.acquire("a")
    assert ft.sleeps == [pytest.approx(1.0)]


def test_throttling_backs_off_and_retries_the_same_page() -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    with Stubber(client) as stubber:
        for _ in range(2):
            stubber.add_client_error("lookup_events", "ThrottlingException", "Rate exceeded",
                                     http_status_code=400)
        stub_pages(stubber, 60, trailing_token=False)
        src = source(Timed(client, ft), ft)
        assert len(list(src.iter_records(ScanStats()))) == 60
        stubber.assert_no_pending_responses()
    assert len(ft.sleeps) >= 2


def test_throttling_forever_is_a_clear_error() -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    with Stubber(client) as stubber:
        for _ in range(8):
            stubber.add_client_error("lookup_events", "ThrottlingException", "Rate exceeded",
                                     http_status_code=400)
        with pytest.raises(ThrottledError):
            list(source(Timed(client, ft), ft).iter_records(ScanStats()))


def _no_answer(kind: str) -> Exception:
    url = "https://cloudtrail.us-east-1.amazonaws.com/"
    return {"closed": bx.ConnectionClosedError(endpoint_url=url),
            "endpoint": bx.EndpointConnectionError(endpoint_url=url),
            "read": bx.ReadTimeoutError(endpoint_url=url),
            "connect": bx.ConnectTimeoutError(endpoint_url=url)}[kind]


def test_connection_errors_are_retried_within_the_rate_limit() -> None:
    """A reset or a timeout (no answer at all) is retried like throttling: the same page
    again, each attempt through the 2/s limiter."""
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    failures = {1: _no_answer("closed"), 2: _no_answer("read"), 4: _no_answer("endpoint"),
                5: _no_answer("connect")}
    timed = Timed(client, ft, cost=0.01, failures=failures)
    with Stubber(client) as stubber:
        stub_pages(stubber, 120, trailing_token=False)
        src = source(timed, ft)
        assert len(list(src.iter_records(ScanStats()))) == 120
        stubber.assert_no_pending_responses()
    assert len(timed.times) == 3 + len(failures)
    for i in range(len(timed.times) - 2):  # retries count against the budget
        assert timed.times[i + 2] - timed.times[i] >= 1.0 - 1e-9


@pytest.mark.parametrize("kind", ["closed", "endpoint", "read", "connect"])
def test_no_answer_every_time_is_one_line_naming_the_call(kind: str) -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    timed = Timed(client, ft, failures={n: _no_answer(kind) for n in range(1, 9)})
    with pytest.raises(RecoverError) as exc:
        list(source(timed, ft).iter_records(ScanStats()))
    assert len(timed.times) == 8  # bounded
    message = exc.value.message
    assert "cloudtrail:LookupEvents" in message and "us-east-1" in message
    assert "8 attempts" in message and "\n" not in message
    # connections that never opened say so; the others were opened and got no answer
    assert exc.value.code == ("endpoint_unreachable" if kind in ("endpoint", "connect")
                              else "no_answer")


def test_corrupt_cloudtrail_event_is_counted() -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    ft = FakeTime()
    bad = dict(event(1), CloudTrailEvent="{not json")
    with Stubber(client) as stubber:
        stubber.add_response("lookup_events", {"Events": [event(0), bad]})
        stats = ScanStats()
        got = list(source(Timed(client, ft), ft).iter_records(stats))
    assert len(got) == 1 and stats.corrupt_records == 1 and stats.corrupt_files == 1


def test_against_the_sandbox_recorder_over_the_wire_format() -> None:
    """The reader and the sandbox's LookupEvents agree: 120 matching events across two event
    names and two Regions, plus noise, found exactly with ceil(n/50) calls each."""
    rec = TrailRecorder("123456789012", "us-east-1", lambda: T0, seed=11)
    for i in range(120):
        rec.record(event_name=NAME, event_source="lambda.amazonaws.com",
                   request_parameters={"functionName": f"fn{i}", "s3Bucket": "b",
                                       "s3Key": f"{i}.zip"},
                   error_code="InvalidParameterValueException",
                   error_message="Error occurred while GetObject. S3 Error Code: NoSuchKey. "
                                 "S3 Error Message: The specified key does not exist.",
                   event_time=T0 - timedelta(minutes=i), region="us-east-1" if i % 4 else
                   "eu-west-1")
        rec.record(event_name="GetFunction20150331v2", event_source="lambda.amazonaws.com",
                   request_parameters={"functionName": f"fn{i}"}, read_only=True,
                   event_time=T0 - timedelta(minutes=i))

    def client_for(region: str) -> Any:
        client = boto3.client("cloudtrail", region_name=region)

        def answer(request: Any, **_: Any) -> AWSResponse:
            try:
                body, status = rec.lookup_events(json.loads(request.body), region=region), 200
            except TrailApiError as exc:
                body, status = {"__type": exc.code, "message": exc.message}, 400
            return AWSResponse(request.url, status, {}, _Raw(json.dumps(body).encode()))

        client.meta.events.register("before-send.cloudtrail.LookupEvents", answer)
        return client

    ft = FakeTime()
    src = LookupSource(client_for, ["us-east-1", "eu-west-1"], [NAME, "CreateFunction20150331"],
                       T0 - timedelta(days=1), T0,
                       limiter=RateLimiter(clock=ft.clock, sleep=ft.sleep), sleep=ft.sleep)
    found = artifact_fetch_failures(src.iter_records(ScanStats()))
    assert len(found) == 120
    assert dict(src.calls) == {("us-east-1", NAME): 2, ("us-east-1", "CreateFunction20150331"): 1,
                               ("eu-west-1", NAME): 1, ("eu-west-1", "CreateFunction20150331"): 1}


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def test_limiter_frees_places_while_others_wait_with_every_place_in_flight() -> None:
    """Readers of one run share the limiter across threads (artifacts, evidence, readiness):
    a thread that waits must not hold the lock the answer needs to free its place
    (it deadlocked with every place in flight)."""
    import threading
    import time as _time

    lim = RateLimiter(rate=2)
    done: list[int] = []

    def worker() -> None:
        with lim.slot(("123456789012", "us-east-1")):
            _time.sleep(0.02)
        done.append(1)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(done) == 5
