"""The record model: typed accessors that never raise, whatever the record holds (docs/reference/aws-behaviour.md#cloudtrail-records)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from recover.cloudtrail.record import (
    TrailRecord,
    function_name_from,
    layer_name_from,
    parse_event_time,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
FIELDS = ["eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
          "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
          "responseElements", "requestID", "eventID", "eventType", "managementEvent", "readOnly",
          "resources", "recipientAccountId", "eventCategory", "someFutureField"]
records = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS))
ACCESSORS = ["event_id", "event_name", "event_source", "event_time", "event_version",
             "event_type", "event_category", "region", "account", "request_id", "error_code",
             "error_message", "failed", "read_only", "management_event", "request_parameters",
             "response_elements", "user_identity", "resources", "source_ip", "user_agent",
             "caller", "invoked_by", "function_name"]


@settings(max_examples=300, deadline=None)
@given(records, st.text(min_size=1, max_size=30))
def test_accessors_never_raise_and_have_their_types(raw: dict, name: str) -> None:
    raw = dict(raw, eventName=name)
    rec = TrailRecord.from_obj(raw)
    assert rec is not None
    for attr in ACCESSORS:
        getattr(rec, attr)
    assert rec.event_name == name
    assert rec.event_time is None or rec.event_time.tzinfo is not None
    assert isinstance(rec.request_parameters, Mapping) and isinstance(rec.user_identity, Mapping)
    assert all(isinstance(r, dict) for r in rec.resources)
    assert rec.read_only in (True, False, None)
    assert rec.failed == (rec.error_code is not None)
    for value in (rec.event_id, rec.region, rec.account, rec.caller, rec.function_name):
        assert value is None or (isinstance(value, str) and value)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_from_obj_refuses_what_is_not_a_record(obj: object) -> None:
    rec = TrailRecord.from_obj(obj)
    if rec is not None:
        assert isinstance(obj, dict) and isinstance(obj["eventName"], str) and obj["eventName"]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_event_time_round_trips_in_cloudtrail_format(when: datetime) -> None:
    when = when.replace(microsecond=0)
    text = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse_event_time(text) == when
    assert TrailRecord({"eventName": "X", "eventTime": text}).event_time == when


def test_event_time_variants() -> None:
    base = datetime(2023, 7, 10, 11, 40, 21, tzinfo=UTC)
    assert parse_event_time("2023-07-10T11:40:21Z") == base
    assert parse_event_time("2023-07-10 11:40:21.000") == base
    assert parse_event_time("2023-07-10T13:40:21+02:00") == base
    assert parse_event_time(base.timestamp()) == base
    assert parse_event_time(base.replace(tzinfo=None)) == base
    assert parse_event_time(base + timedelta(0)) == base
    for bad in ("", "yesterday", None, True, [], {}):
        assert parse_event_time(bad) is None


@given(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
       st.sampled_from(["", ":1", ":$LATEST", ":prod"]))
def test_function_names_from_arns(name: str, qualifier: str) -> None:
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}{qualifier}"
    assert function_name_from(arn) == name
    assert function_name_from(f"123456789012:function:{name}{qualifier}") == name
    assert function_name_from(name) == name
    assert layer_name_from(f"arn:aws:lambda:us-east-1:123456789012:layer:{name}") == name


def test_accessors_on_a_real_shape() -> None:
    rec = TrailRecord({
        "eventName": "UpdateFunctionCode20150331v2", "eventSource": "lambda.amazonaws.com",
        "readOnly": "false", "recipientAccountId": "123456789012",
        "userIdentity": {"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"},
        "requestParameters": {"functionName": "arn:aws:lambda:eu-west-1:1:function:f:7"},
        "managementEvent": True})
    assert rec.read_only is False and rec.management_event is True
    assert rec.caller == "cloudformation.amazonaws.com" and rec.function_name == "f"
    assert rec.account == "123456789012"
    assert TrailRecord({"eventName": "X", "userIdentity": {"accountId": "2"}}).account == "2"
