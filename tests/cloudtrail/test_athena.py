"""The scale-out path: golden SQL (Athena and CloudTrail Lake), injection-safe quoting, the URI
syntax, and the run path (moto's Athena in-process; CloudTrail Lake with botocore's Stubber,
moto has no StartQuery)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from recover.cloudtrail.athena import (
    AthenaSource,
    AthenaTarget,
    LakeSource,
    LakeTarget,
    QueryPoller,
    athena_failures_sql,
    athena_row_record,
    lake_failures_sql,
    lake_row_record,
    sql_ident,
    sql_string,
)
from recover.cloudtrail.extract import artifact_fetch_failures
from recover.cloudtrail.sources import ScanStats, Window
from recover.run.errors import RecoverError, UsageError
from tests.cloudtrail.helpers import NOSUCHKEY_MSG

GOLDEN = Path(__file__).parent / "golden"
URI = "athena://primary/cloudtrail_db.cloudtrail_logs_pp?output=s3://athena-results/recover/"
EDS = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
WINDOW = Window(since=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
                until=datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
                regions=frozenset({"us-east-1", "eu-west-1"}),
                accounts=frozenset({"123456789012"}))


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RECOVER_UPDATE_GOLDEN"):
        path.write_text(text + "\n")
    assert text + "\n" == path.read_text(), f"{name} changed (RECOVER_UPDATE_GOLDEN=1 rewrites)"


def test_golden_athena_sql() -> None:
    target = AthenaTarget.parse(URI)
    golden("athena_window.sql", athena_failures_sql(target, WINDOW))
    golden("athena_event_name.sql",
           athena_failures_sql(target, Window(), ["UpdateFunctionCode20150331v2"]))
    no_partition = AthenaTarget.parse(URI + "&partition=")
    golden("athena_no_partition.sql", athena_failures_sql(no_partition, WINDOW))


def test_golden_lake_sql() -> None:
    golden("lake_window.sql", lake_failures_sql(EDS, WINDOW))


def test_quoting() -> None:
    assert sql_string("it's") == "'it''s'"
    assert sql_string("'; DROP TABLE x; --") == "'''; DROP TABLE x; --'"
    assert sql_ident('we"ird') == '"we""ird"'
    with pytest.raises(UsageError):
        sql_string("a\nb")
    with pytest.raises(UsageError):
        sql_ident("")


@pytest.mark.parametrize("bad", [
    dict(event_names=["x' OR '1'='1"]),
    dict(window=Window(regions=frozenset({"us-east-1' OR 1=1 --"}))),
    dict(window=Window(accounts=frozenset({"1234' --"}))),
])
def test_user_values_cannot_change_the_query(bad: dict) -> None:
    target = AthenaTarget.parse(URI)
    with pytest.raises(UsageError):
        athena_failures_sql(target, bad.get("window", Window()), bad.get("event_names", []))
    with pytest.raises(UsageError):
        lake_failures_sql(EDS, bad.get("window", Window()), bad.get("event_names", []))


@pytest.mark.parametrize("uri", [
    "athena://wg/onlydatabase", "athena:///db.table", "athena://wg/db.ta\"ble",
    "athena://wg/db.table?output=/tmp/x", "athena://wg/db.table?colour=red",
    "athena://w g/db.table", "s3://x/db.table",
])
def test_bad_athena_uris(uri: str) -> None:
    with pytest.raises(UsageError):
        AthenaTarget.parse(uri)


def test_athena_uri_options() -> None:
    t = AthenaTarget.parse("athena://wg/db.tbl?region=eu-west-1&catalog=Other&partition=dt")
    assert (t.workgroup, t.database, t.table, t.region, t.catalog, t.partition, t.output) == (
        "wg", "db", "tbl", "eu-west-1", "Other", "dt", None)
    assert LakeTarget.parse(f"lake://{EDS.rsplit('/', 1)[1]}?region=us-east-1").region == \
        "us-east-1"
    with pytest.raises(UsageError):
        LakeTarget.parse("lake://bad id")


def _athena_rows(records: list[dict]) -> tuple[list[dict], list[dict]]:
    cols = ["eventid", "eventtime", "eventname", "eventsource", "awsregion", "recipientaccountid",
            "errorcode", "errormessage", "requestparameters", "useridentity_type",
            "useridentity_principalid", "useridentity_arn", "useridentity_accountid",
            "useridentity_invokedby"]
    rows = [{"Data": [{"VarCharValue": c} for c in cols]}]
    for r in records:
        values = [r["eventID"], r["eventTime"], r["eventName"], r["eventSource"], r["awsRegion"],
                  r["recipientAccountId"], r["errorCode"], r["errorMessage"],
                  json.dumps(r["requestParameters"]), "AssumedRole", "AROA:x",
                  "arn:aws:sts::123456789012:assumed-role/deployer/s", "123456789012", None]
        rows.append({"Data": [{} if v is None else {"VarCharValue": v} for v in values]})
    return rows, [{"Name": c, "Type": "varchar"} for c in cols]


def test_athena_run_path_with_moto() -> None:
    from moto.athena.models import QueryResults, athena_backends

    from tests.cloudtrail.helpers import create_nosuchkey, update_nosuchkey
    records = [create_nosuchkey("billing", "deploy", "billing.zip", "2026-11-21T10:00:00Z"),
               update_nosuchkey("arn:aws:lambda:us-east-1:123456789012:function:orders",
                                "deploy", "orders.zip", "2026-11-22T10:00:00Z", version="v7")]
    rows, info = _athena_rows(records)
    with mock_aws():
        client = boto3.client("athena", region_name="us-east-1")
        athena_backends["123456789012"]["us-east-1"].query_results_queue.append(
            QueryResults(rows=rows, column_info=info))
        sleeps: list[float] = []
        src = AthenaSource(client, AthenaTarget.parse(URI), WINDOW,
                           poller=QueryPoller(sleep=sleeps.append))
        stats = ScanStats()
        found = artifact_fetch_failures(src.iter_records(stats))
        executions = client.list_query_executions()["QueryExecutionIds"]
        q = client.get_query_execution(QueryExecutionId=executions[0])["QueryExecution"]
    assert [(f.function_name, f.bucket, f.key, f.object_version) for f in found] == [
        ("billing", "deploy", "billing.zip", None), ("orders", "deploy", "orders.zip", "v7")]
    assert found[0].caller == "arn:aws:sts::123456789012:assumed-role/deployer/s"
    assert found[0].error_message == NOSUCHKEY_MSG
    assert q["Query"] == src.sql and q["WorkGroup"] == "primary"
    assert q["ResultConfiguration"]["OutputLocation"].startswith("s3://athena-results/recover/")
    assert stats.records == 2 and stats.api_calls >= 3


def _stub_athena(stubber: Stubber, states: list[str]) -> None:
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    for s in states:
        stubber.add_response("get_query_execution",
                             {"QueryExecution": {"Status": {"State": s,
                                                            "StateChangeReason": "boom"}}})


def test_athena_failed_query_is_a_clear_error() -> None:
    client = boto3.client("athena", region_name="us-east-1")
    with Stubber(client) as stubber:
        _stub_athena(stubber, ["RUNNING", "FAILED"])
        src = AthenaSource(client, AthenaTarget.parse(URI), WINDOW,
                           poller=QueryPoller(sleep=lambda s: None))
        with pytest.raises(RecoverError, match="failed: boom"):
            list(src.iter_records(ScanStats()))


def test_athena_poll_is_bounded_and_stops_the_query() -> None:
    client = boto3.client("athena", region_name="us-east-1")
    sleeps: list[float] = []
    poller = QueryPoller(timeout=10, sleep=sleeps.append)
    n = 1 + len(list(poller.delays()))
    with Stubber(client) as stubber:
        _stub_athena(stubber, ["RUNNING"] * n)
        stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
        src = AthenaSource(client, AthenaTarget.parse(URI), WINDOW, poller=poller)
        with pytest.raises(RecoverError, match="did not finish within 10s"):
            list(src.iter_records(ScanStats()))
        stubber.assert_no_pending_responses()
    assert sum(sleeps) == pytest.approx(10)


def test_lake_run_path_with_stubber() -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    row = [{"eventID": "e-1"}, {"eventTime": "2026-11-22 10:00:00.000"},
           {"eventName": "CreateFunction20150331"}, {"eventSource": "lambda.amazonaws.com"},
           {"awsRegion": "us-east-1"}, {"recipientAccountId": "123456789012"},
           {"errorCode": "InvalidParameterValueException"}, {"errorMessage": NOSUCHKEY_MSG},
           {"rp_functionName": "billing"},
           {"rp_code": '{"s3Bucket":"deploy","s3Key":"billing.zip"}'},
           {"useridentity_arn": "arn:aws:iam::123456789012:user/alice"}]
    layer_row = [{"eventID": "e-2"}, {"eventTime": "2026-11-22 11:00:00.000"},
                 {"eventName": "PublishLayerVersion20181031"},
                 {"eventSource": "lambda.amazonaws.com"}, {"awsRegion": "us-east-1"},
                 {"errorCode": "InvalidParameterValueException"}, {"errorMessage": NOSUCHKEY_MSG},
                 {"rp_layerName": "deps"}, {"rp_content": "{s3Bucket=layers, s3Key=deps.zip}"}]
    with Stubber(client) as stubber:
        stubber.add_response("start_query", {"QueryId": "0f9a1c2e-5b7d-4e11-9a3c-6d2b8e4f7a10"})
        stubber.add_response("get_query_results", {"QueryStatus": "RUNNING"})
        stubber.add_response("get_query_results", {"QueryStatus": "FINISHED",
                                                   "QueryResultRows": [row], "NextToken": "next-page"})
        stubber.add_response("get_query_results", {"QueryStatus": "FINISHED",
                                                   "QueryResultRows": [layer_row]})
        src = LakeSource(client, LakeTarget.parse(f"lake://{EDS}"), WINDOW,
                         poller=QueryPoller(sleep=lambda s: None))
        found = artifact_fetch_failures(src.iter_records(ScanStats()))
        stubber.assert_no_pending_responses()
    assert [(f.function_name, f.layer, f.bucket, f.key) for f in found] == [
        ("billing", None, "deploy", "billing.zip"), (None, "deps", "layers", "deps.zip")]
    assert found[0].event_time == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert found[0].caller == "arn:aws:iam::123456789012:user/alice"


def test_rows_with_json_nested_too_deeply_still_give_a_record() -> None:
    """A query result is input too: a requestParameters value nested 100,000 deep (json's
    decoder would raise RecursionError) becomes no parameters, and the row is still read."""
    deep = "[" * 100_000 + "]" * 100_000
    athena = athena_row_record({"eventid": "e-1", "eventtime": "2026-11-12T09:00:00Z",
                                "eventname": "UpdateFunctionCode20150331v2",
                                "eventsource": "lambda.amazonaws.com", "awsregion": "us-east-1",
                                "requestparameters": deep})
    assert athena is not None and athena.event_id == "e-1"
    assert not athena.request_parameters
    lake = lake_row_record({"eventid": "e-2", "eventtime": "2026-11-12 09:00:00.000",
                            "eventname": "CreateFunction20150331",
                            "eventsource": "lambda.amazonaws.com", "awsregion": "us-east-1",
                            "rp_code": deep, "rp_functionname": "f"})
    assert lake is not None and lake.event_id == "e-2"
