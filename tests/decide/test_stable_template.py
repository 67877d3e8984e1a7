"""The last stable template from CloudTrail and the stack's events (pure): only what is proven
is chosen (docs/reference/aws-behaviour.md#cloudformation-calls-in-cloudtrail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from recover.cloudtrail.record import TrailRecord
from recover.cloudtrail.stack_calls import calls_for_stack
from recover.decide.stable_template import last_stable, version_at
from recover.model.stack import StackEvent

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
NAME = "orders-api"
SID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{NAME}/aaaa"
URL = "https://tpl-bucket.s3.amazonaws.com/current/orders.json"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ev(minutes: float, status: str, reason: str = "", token: str = "") -> StackEvent:
    return StackEvent(stack_id=SID, stack_name=NAME, event_id=f"e{minutes}{status}",
                      logical_id=NAME, resource_type="AWS::CloudFormation::Stack",
                      timestamp=at(minutes), status=status, physical_id=SID, reason=reason,
                      client_request_token=token)


def op(start: float, outcome: str, token: str = "") -> list[StackEvent]:
    kind = "CREATE" if outcome.startswith("CREATE") else "UPDATE"
    return [ev(start, f"{kind}_IN_PROGRESS", "User Initiated", token), ev(start + 5, outcome)]


def rec(minutes: float, name: str, stack_id: str = SID, error: str = "", **params: Any
        ) -> TrailRecord:
    obj: dict[str, Any] = {
        "eventVersion": "1.11", "eventSource": "cloudformation.amazonaws.com",
        "eventName": name, "eventTime": at(minutes).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventID": f"{name}-{minutes}", "awsRegion": "us-east-1",
        "requestParameters": {"stackName": NAME, **params},
        "responseElements": None if error else {"stackId": stack_id}}
    if error:
        obj["errorCode"] = error
    r = TrailRecord.from_obj(obj)
    assert r is not None
    return r


def find(records: list[TrailRecord], events: list[StackEvent]) -> Any:
    return last_stable(calls_for_stack(records, NAME, SID), events, NAME)


def test_an_accepted_update_that_rolled_back_is_not_stable() -> None:
    events = op(0, "CREATE_COMPLETE") + op(60, "UPDATE_ROLLBACK_COMPLETE") + op(120,
                                                                               "UPDATE_FAILED")
    records = [rec(0.5, "CreateStack", templateURL=URL, capabilities=["CAPABILITY_IAM"]),
               rec(60.5, "UpdateStack", templateURL=URL + "?versionId=bad"),
               rec(120.5, "UpdateStack", templateURL=URL + "?versionId=failed")]
    found = find(records, events)
    assert found.proven and found.carrier.event_name == "CreateStack"
    assert found.s3.spec == "s3://tpl-bucket/current/orders.json" and found.s3.version is None
    assert found.capabilities == ("CAPABILITY_IAM",)


def test_a_change_set_carries_the_template_and_capabilities() -> None:
    arn = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cs1/bbbb"
    events = op(0, "CREATE_COMPLETE") + op(60, "UPDATE_COMPLETE") + op(120, "UPDATE_FAILED")
    cs = rec(50, "CreateChangeSet", changeSetName="cs1", templateURL=URL + "?versionId=good",
             capabilities=["CAPABILITY_NAMED_IAM"])
    cs.raw["responseElements"] = {"id": arn, "stackId": SID}
    records = [rec(0.5, "CreateStack", templateURL=URL), cs,
               rec(60.5, "ExecuteChangeSet", changeSetName=arn),
               rec(120.5, "UpdateStack", templateURL=URL)]
    found = find(records, events)
    assert found.proven and found.carrier.event_name == "CreateChangeSet"
    assert found.s3.version == "good" and found.capabilities == ("CAPABILITY_NAMED_IAM",)
    assert found.s3.read_at == at(50)  # when CloudFormation read it: the change set's time


def test_a_truncated_or_absent_template_body_is_not_proven() -> None:
    events = op(0, "CREATE_COMPLETE") + op(60, "UPDATE_FAILED")
    cut = rec(0.5, "CreateStack", templateBody='{"Resources": {"A": {"Type": "X"')
    cut.raw["omitted"] = True
    found = find([cut, rec(60.5, "UpdateStack", templateURL=URL)], events)
    assert not found.proven and "truncated" in found.reason
    found = find([rec(0.5, "CreateStack"), rec(60.5, "UpdateStack", templateURL=URL)], events)
    assert not found.proven and "does not hold it" in found.reason
    whole = '{"Resources": {"A": {"Type": "AWS::SNS::Topic"}}}'
    found = find([rec(0.5, "CreateStack", templateBody=whole),
                  rec(60.5, "UpdateStack", templateURL=URL)], events)
    assert found.proven and found.body == whole


def test_no_record_or_an_ambiguous_window_is_not_proven() -> None:
    events = op(0, "CREATE_COMPLETE") + op(60, "UPDATE_FAILED")
    assert not find([rec(60.5, "UpdateStack", templateURL=URL)], events).proven
    # two accepted calls inside the window of one start: which one started it is unknown
    found = find([rec(0.2, "CreateStack", templateURL=URL),
                  rec(0.8, "UpdateStack", templateURL=URL + "?versionId=x"),
                  rec(60.5, "UpdateStack", templateURL=URL)], events)
    assert not found.proven and "ambiguous" in found.reason


def test_tokens_decide_before_time_and_refused_calls_start_nothing() -> None:
    events = op(0, "CREATE_COMPLETE", token="t-create") + op(60, "UPDATE_FAILED")
    records = [rec(0.3, "UpdateStack", error="ValidationError", templateURL=URL + "?versionId=r"),
               rec(0.6, "CreateStack", templateURL=URL + "?versionId=ok",
                   clientRequestToken="t-create"),
               rec(0.9, "UpdateStack", templateURL=URL + "?versionId=other",
                   clientRequestToken="t-other"),
               rec(60.5, "UpdateStack", templateURL=URL)]
    found = find(records, events)
    assert found.proven and found.s3.version == "ok"


def test_a_same_named_earlier_stack_is_not_this_one() -> None:
    events = op(0, "CREATE_COMPLETE") + op(60, "UPDATE_FAILED")
    old = rec(0.5, "CreateStack", stack_id=SID.replace("aaaa", "old"), templateURL=URL)
    found = find([old, rec(60.5, "UpdateStack", templateURL=URL)], events)
    assert not found.proven


def test_use_previous_template_follows_the_earlier_completed_operation() -> None:
    events = op(0, "CREATE_COMPLETE") + op(60, "UPDATE_COMPLETE") + op(120, "UPDATE_FAILED")
    records = [rec(0.5, "CreateStack", templateURL=URL + "?versionId=v1"),
               rec(60.5, "UpdateStack", usePreviousTemplate=True,
                   capabilities=["CAPABILITY_IAM"]),
               rec(120.5, "UpdateStack", templateURL=URL)]
    found = find(records, events)
    assert found.proven and found.s3.version == "v1"
    assert found.capabilities == ("CAPABILITY_IAM",)


def test_version_at_compares_by_time() -> None:
    versions = [{"VersionId": "v1", "LastModified": at(0)},
                {"VersionId": "v2", "LastModified": at(10)},
                {"VersionId": "v3", "LastModified": at(100)}]
    assert version_at(versions, at(50))[0] == "v2"
    assert "overwritten since" in version_at(versions, at(50))[1]
    assert version_at(versions, at(-1))[0] is None  # unversioned and overwritten: not proven
    marker = [*versions, {"VersionId": "dm", "LastModified": at(20), "IsDeleteMarker": True}]
    assert version_at(marker, at(50))[0] is None
