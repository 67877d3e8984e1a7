"""Extractors on real records (shared data) and on records built in the docs/reference/aws-behaviour.md#cloudtrail-records shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from recover.cloudtrail.extract import (
    artifact_fetch_failures,
    code_event_kind,
    code_history,
    is_nosuchkey,
)
from recover.cloudtrail.record import TrailRecord
from recover.cloudtrail.sources import LocalSource, ScanStats
from tests.cloudtrail.helpers import (
    NOSUCHKEY_MSG,
    base,
    create_nosuchkey,
    layer_nosuchkey,
    update_nosuchkey,
    update_ok,
)


def recs(*raw: dict) -> list[TrailRecord]:
    return [TrailRecord(r) for r in raw]


def all_shared(shared: Path) -> list[TrailRecord]:
    return list(LocalSource([shared / "cloudtrail"]).iter_records(ScanStats()))


def test_invictus_create_function_failures_are_not_missing_artifacts(shared_data: Path) -> None:
    """The 4 failing CreateFunction20150331 in the invictus-ir data are InvalidParameterValue
    about the role ("cannot be assumed by Lambda"), not NoSuchKey: nothing to restore."""
    records = all_shared(shared_data)
    failing = [r for r in records if r.event_name == "CreateFunction20150331" and r.failed]
    assert len(failing) == 4
    assert {r.error_code for r in failing} == {"InvalidParameterValueException"}
    assert all("cannot be assumed by Lambda" in (r.error_message or "") for r in failing)
    assert artifact_fetch_failures(records) == []


def test_code_history_from_real_records(shared_data: Path) -> None:
    records = all_shared(shared_data)
    history = code_history(records, "stratus-red-team-olc-func-xhfgzaowxc")
    assert [(h.event_name, h.code_sha256) for h in history] == [
        ("CreateFunction20150331", "3YIlWyiz6gTvDk01MIlMlJO/NVNlDXCTy7hsM27xthM="),
        ("UpdateFunctionCode20150331v2", "Pt1c8vVaBygmNtAeSyjlpdy7r8nHRqJAAL++HEGlQkc="),
        ("UpdateFunctionCode20150331v2", "3YIlWyiz6gTvDk01MIlMlJO/NVNlDXCTy7hsM27xthM="),
    ]
    assert history[0].bucket == "stratus-red-team-olc-bucket-xhfgzaowxc"
    assert history[0].key == "lambda.zip"
    assert history[0].event_time and history[0].event_time <= history[-1].event_time  # type: ignore[operator]
    # the same function given by ARN; and every function when none is named
    arn = "arn:aws:lambda:us-east-1:123837392027:function:stratus-red-team-olc-func-xhfgzaowxc"
    assert code_history(records, arn) == history
    assert len(code_history(records)) > len(history)


def test_failures_in_each_request_shape() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders-api"
    found = artifact_fetch_failures(recs(
        create_nosuchkey("billing", "deploy-bucket", "lambda/billing.zip", "2026-11-23T10:00:00Z"),
        update_nosuchkey(arn, "deploy-bucket", "assets/abc.zip", "2026-11-23T10:05:00Z",
                         version="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", region="eu-west-1"),
        layer_nosuchkey("shared-deps", "layers", "deps.zip", "2026-11-23T10:06:00Z"),
    ))
    assert [(f.function_name, f.layer, f.bucket, f.key, f.object_version) for f in found] == [
        ("billing", None, "deploy-bucket", "lambda/billing.zip", None),
        ("orders-api", None, "deploy-bucket", "assets/abc.zip",
         "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
        (None, "shared-deps", "layers", "deps.zip", None),
    ]
    f = found[1]
    assert f.event_name == "UpdateFunctionCode20150331v2" and f.region == "eu-west-1"
    assert f.account == "123456789012" and f.caller and "assumed-role/deployer" in f.caller
    assert f.event_time == datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    assert f.error_code == "InvalidParameterValueException" and f.error_message == NOSUCHKEY_MSG
    d = f.to_dict()
    assert {"function_name", "bucket", "key", "event_name", "event_id", "event_time", "region",
            "account", "object_version", "caller", "layer"} <= set(d)


def test_duplicates_are_dropped_by_event_id() -> None:
    r = create_nosuchkey("f", "b", "k.zip", "2026-11-23T10:00:00Z")
    other = create_nosuchkey("f", "b", "k.zip", "2026-11-23T10:00:00Z")
    assert len(artifact_fetch_failures(recs(r, dict(r), other))) == 2


def test_what_is_not_an_artifact_fetch_failure() -> None:
    not_nosuchkey = create_nosuchkey("f", "b", "k", "2026-11-23T10:00:00Z")
    not_nosuchkey["errorMessage"] = "The role defined for the function cannot be assumed by Lambda."
    url_config = create_nosuchkey("f", "b", "k", "2026-11-23T10:00:00Z")
    url_config["eventName"] = "CreateFunctionUrlConfig20211031"
    other_service = create_nosuchkey("f", "b", "k", "2026-11-23T10:00:00Z")
    other_service["eventSource"] = "s3.amazonaws.com"
    no_such_bucket = create_nosuchkey("f", "b", "k", "2026-11-23T10:00:00Z")
    no_such_bucket["errorMessage"] = NOSUCHKEY_MSG.replace("NoSuchKey", "NoSuchBucket")
    success = update_ok("f", "c2hh", "2026-11-23T10:00:00Z")
    assert artifact_fetch_failures(recs(not_nosuchkey, url_config, other_service,
                                        no_such_bucket, success)) == []


def test_legacy_and_versioned_event_names() -> None:
    assert code_event_kind("CreateFunction20141111") == "create"
    assert code_event_kind("UpdateFunctionCode20150331") == "update"
    assert code_event_kind("UpdateFunctionCode20150331v2") == "update"
    assert code_event_kind("PublishLayerVersion20181031") == "layer"
    assert code_event_kind("CreateFunctionUrlConfig20211031") is None
    assert code_event_kind("GetFunction20150331v2") is None
    legacy = create_nosuchkey("old", "b", "old.zip", "2015-01-01T00:00:00Z")
    legacy["eventName"] = "CreateFunction20141111"
    assert [f.function_name for f in artifact_fetch_failures(recs(legacy))] == ["old"]


def test_tolerates_missing_and_odd_fields() -> None:
    r = base("UpdateFunctionCode20150331v2", "not a time")
    r["errorCode"] = "InvalidParameterValueException"
    r["errorMessage"] = NOSUCHKEY_MSG
    r["requestParameters"] = "not an object"
    del r["eventID"]
    (f,) = artifact_fetch_failures(recs(r, dict(r)))
    assert f.function_name is None and f.bucket is None and f.event_time is None
    assert is_nosuchkey(TrailRecord(r))


def test_code_history_skips_failures_and_records_without_hash() -> None:
    ok = update_ok("arn:aws:lambda:us-east-1:1:function:f", "aGFzaA==", "2026-11-23T10:00:00Z")
    failed = dict(ok, errorCode="ResourceConflictException", eventID="x")
    no_hash = dict(ok, responseElements={"functionName": "f"}, eventID="y")
    (h,) = code_history(recs(ok, failed, no_hash, dict(ok)), "f")
    assert (h.function_name, h.code_sha256, h.version, h.revision_id) == ("f", "aGFzaA==", "3",
                                                                          "rev-1")
