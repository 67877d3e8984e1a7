"""The scale-out path: the artifact-fetch-failure extraction as SQL for Athena (over the standard
CloudTrail table, docs/reference/aws-behaviour.md#athena-and-cloudtrail-lake) or CloudTrail Lake, run with boto3, rows read back into
TrailRecords so the same extractor gives the same answer as a local scan.

Source URIs (documented in docs/reference/trail-sources.md):

    athena://<workgroup>/<database>.<table>[?output=s3://bucket/prefix/][&region=R]
             [&catalog=AwsDataCatalog][&partition=timestamp]
    lake://<event-data-store-id or ARN>[?region=R][&output=s3://bucket/prefix/]

`partition` names the table's date partition column (`timestamp`, format yyyy/MM/dd, as in the
Athena guide's partition-projection table); `partition=` (empty) turns partition pruning off
for tables without it. `output` is Athena's ResultConfiguration.OutputLocation (optional when
the workgroup enforces one) or Lake's DeliveryS3Uri.

Every user value goes into the SQL through `sql_string` / `sql_ident` (quotes doubled) after
validation, so a crafted --event-name or table name cannot change the query.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from recover.cloudtrail.extract import LAMBDA_SOURCE
from recover.cloudtrail.record import TrailRecord
from recover.cloudtrail.sources import DELIVERY_SLACK, ScanStats, Window
from recover.run.errors import RecoverError, UsageError

# Same event names as extract.code_event_kind, in SQL regex form.
CODE_EVENT_REGEX = "^(UpdateFunctionCode|CreateFunction|PublishLayerVersion)[0-9]{8}(v[0-9]+)?$"
NOSUCHKEY_LIKE = "%S3 Error Code: NoSuchKey%"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_EVENT_NAME = re.compile(r"^[A-Za-z0-9]{1,128}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ACCOUNT = re.compile(r"^\d{12}$")
_EDS_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# The userIdentity fields read back (Athena struct fields are lower case).
_IDENTITY = ("type", "principalid", "arn", "accountid", "invokedby")
_IDENTITY_KEYS = {"type": "type", "principalid": "principalId", "arn": "arn",
                  "accountid": "accountId", "invokedby": "invokedBy"}
# CloudTrail Lake: requestParameters is a map<string,string>; these keys are read back.
_LAKE_PARAMS = ("functionName", "layerName", "s3Bucket", "s3Key", "s3ObjectVersion", "code",
                "content")


def sql_string(value: str) -> str:
    """A SQL string literal (Presto/Trino): single quotes doubled; control characters refused."""
    if any(ord(c) < 32 for c in value):
        raise UsageError(f"control characters are not allowed in a query value: {value!r}")
    return "'" + value.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier: double quotes doubled."""
    if not name or any(ord(c) < 32 for c in name):
        raise UsageError(f"invalid SQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _check_names(event_names: Iterable[str]) -> list[str]:
    names = list(event_names)
    for n in names:
        if not _EVENT_NAME.match(n):
            raise UsageError(f"invalid event name for a query: {n!r} (letters and digits only)")
    return names


def _check_window(window: Window) -> None:
    for r in window.regions:
        if not _REGION.match(r):
            raise UsageError(f"invalid region: {r!r}")
    for a in window.accounts:
        if not _ACCOUNT.match(a):
            raise UsageError(f"invalid account id: {a!r} (12 digits)")


def _in_list(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(sql_string(v) for v in sorted(values))})"


@dataclass(frozen=True)
class AthenaTarget:
    workgroup: str
    database: str
    table: str
    catalog: str = "AwsDataCatalog"
    output: str | None = None
    region: str | None = None
    partition: str | None = "timestamp"

    @classmethod
    def parse(cls, uri: str) -> AthenaTarget:
        parts = urlsplit(uri)
        if parts.scheme != "athena" or not parts.netloc:
            raise UsageError(f"not an Athena source: {uri} (expected athena://WORKGROUP/"
                             "DATABASE.TABLE?output=s3://BUCKET/PREFIX/)")
        dbtable = parts.path.lstrip("/")
        if dbtable.count(".") != 1:
            raise UsageError(f"Athena source needs DATABASE.TABLE after the workgroup: {uri}")
        database, table = dbtable.split(".")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = set(query) - {"output", "region", "catalog", "partition"}
        if unknown:
            raise UsageError(f"unknown Athena source option(s): {', '.join(sorted(unknown))}")
        for label, value in (("workgroup", parts.netloc), ("database", database),
                             ("table", table), ("catalog", query.get("catalog", "x")),
                             ("partition", query.get("partition") or "x")):
            if not _NAME.match(value):
                raise UsageError(f"invalid Athena {label}: {value!r}")
        output = query.get("output") or None
        if output is not None and not output.startswith("s3://"):
            raise UsageError(f"Athena output must be an s3:// location: {output}")
        partition = query.get("partition", "timestamp") or None
        return cls(workgroup=parts.netloc, database=database, table=table,
                   catalog=query.get("catalog", "AwsDataCatalog"), output=output,
                   region=query.get("region") or None, partition=partition)


def athena_failures_sql(target: AthenaTarget, window: Window,
                        event_names: Iterable[str] = ()) -> str:
    """SQL over the standard CloudTrail table (docs/reference/aws-behaviour.md#athena-and-cloudtrail-lake) selecting the artifact fetch failures.
    requestparameters is a JSON string there and is read back whole."""
    _check_window(window)
    names = _check_names(event_names)
    ident = ",\n       ".join(f"useridentity.{f} AS {sql_ident('useridentity_' + f)}"
                              for f in _IDENTITY)
    where = [f"eventsource = {sql_string(LAMBDA_SOURCE)}",
             _in_list("eventname", names) if names
             else f"regexp_like(eventname, {sql_string(CODE_EVENT_REGEX)})",
             f"errormessage LIKE {sql_string(NOSUCHKEY_LIKE)}"]
    if window.since:
        where.append(f"eventtime >= {sql_string(_iso(window.since))}")
    if window.until:
        where.append(f"eventtime <= {sql_string(_iso(window.until))}")
    if target.partition and window.since:
        # Partition pruning: folders are by delivery day, up to a day after the event (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3).
        where.append(f"{sql_ident(target.partition)} >= {sql_string(_day(window.since))}")
        if window.until:
            where.append(f"{sql_ident(target.partition)} <= "
                         f"{sql_string(_day(window.until + DELIVERY_SLACK))}")
    if window.regions:
        where.append(_in_list("awsregion", window.regions))
    if window.accounts:
        where.append(_in_list("recipientaccountid", window.accounts))
    table = ".".join(sql_ident(x) for x in (target.catalog, target.database, target.table))
    return ("SELECT eventid, eventtime, eventname, eventsource, awsregion, recipientaccountid,\n"
            "       errorcode, errormessage, requestparameters,\n"
            f"       {ident}\n"
            f"FROM {table}\n"
            "WHERE " + "\n  AND ".join(where) + "\n"
            "ORDER BY eventtime, eventid")


def lake_failures_sql(event_data_store: str, window: Window,
                      event_names: Iterable[str] = ()) -> str:
    """The same selection for CloudTrail Lake (FROM the event data store ID; requestParameters
    is a map there, so the keys the extractor needs are read one by one)."""
    eds = eds_id(event_data_store)
    _check_window(window)
    names = _check_names(event_names)
    params = ",\n       ".join(
        f"element_at(requestParameters, {sql_string(k)}) AS {sql_ident('rp_' + k)}"
        for k in _LAKE_PARAMS)
    ident = ",\n       ".join(
        f"userIdentity.{_IDENTITY_KEYS[f]} AS {sql_ident('useridentity_' + f)}"
        for f in _IDENTITY)
    where = [f"eventSource = {sql_string(LAMBDA_SOURCE)}",
             _in_list("eventName", names) if names
             else f"regexp_like(eventName, {sql_string(CODE_EVENT_REGEX)})",
             f"errorMessage LIKE {sql_string(NOSUCHKEY_LIKE)}"]
    if window.since:
        where.append(f"eventTime >= {sql_string(_lake_time(window.since))}")
    if window.until:
        where.append(f"eventTime <= {sql_string(_lake_time(window.until))}")
    if window.regions:
        where.append(_in_list("awsRegion", window.regions))
    if window.accounts:
        where.append(_in_list("recipientAccountId", window.accounts))
    return ("SELECT eventID, eventTime, eventName, eventSource, awsRegion, recipientAccountId,\n"
            "       errorCode, errorMessage,\n"
            f"       {params},\n"
            f"       {ident}\n"
            f"FROM {eds}\n"
            "WHERE " + "\n  AND ".join(where) + "\n"
            "ORDER BY eventTime, eventID")


def eds_id(value: str) -> str:
    """The event data store ID from an ID or an ARN (`...:eventdatastore/<id>`)."""
    ident = value.rsplit("eventdatastore/", 1)[-1] if "eventdatastore/" in value else value
    if not _EDS_ID.match(ident):
        raise UsageError(f"invalid CloudTrail Lake event data store: {value!r}")
    return ident


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lake_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _day(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y/%m/%d")


# ------------------------------------------------------------------ rows back to records


def _json_or_none(value: str | None) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except RecursionError:
        return None
    except ValueError:
        return _lake_map(value)


def _lake_map(value: str) -> Any:
    """Lake may render a nested map as `{k=v, k2=v2}` (unconfirmed); read the flat case."""
    text = value.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return value
    out: dict[str, str] = {}
    for item in text[1:-1].split(", "):
        k, sep, v = item.partition("=")
        if not sep:
            return value
        out[k.strip()] = v
    return out


def _identity(row: dict[str, str | None]) -> dict[str, str]:
    return {_IDENTITY_KEYS[f]: v for f in _IDENTITY
            if (v := row.get(f"useridentity_{f}")) not in (None, "")}


def _lower(row: dict[str, str | None]) -> dict[str, str | None]:
    """Column names compared without case (Trino folds unquoted identifiers to lower case)."""
    return {k.lower(): v for k, v in row.items()}


def athena_row_record(row: dict[str, str | None]) -> TrailRecord | None:
    """A record from a row of athena_failures_sql (column names as selected)."""
    row = _lower(row)
    raw: dict[str, Any] = {
        "eventID": row.get("eventid"), "eventTime": row.get("eventtime"),
        "eventName": row.get("eventname"), "eventSource": row.get("eventsource"),
        "awsRegion": row.get("awsregion"), "recipientAccountId": row.get("recipientaccountid"),
        "errorCode": row.get("errorcode"), "errorMessage": row.get("errormessage"),
        "requestParameters": _json_or_none(row.get("requestparameters")),
        "userIdentity": _identity(row),
    }
    return TrailRecord.from_obj(raw)


def lake_row_record(row: dict[str, str | None]) -> TrailRecord | None:
    row = _lower(row)
    params = {k: _json_or_none(v) if k in ("code", "content") else v
              for k in _LAKE_PARAMS if (v := row.get(f"rp_{k.lower()}")) not in (None, "")}
    raw: dict[str, Any] = {
        # Lake renders eventTime as `YYYY-MM-DD HH:MM:SS.fff` (UTC); parse_event_time reads it
        "eventID": row.get("eventid"), "eventTime": row.get("eventtime"),
        "eventName": row.get("eventname"), "eventSource": row.get("eventsource"),
        "awsRegion": row.get("awsregion"), "recipientAccountId": row.get("recipientaccountid"),
        "errorCode": row.get("errorcode"), "errorMessage": row.get("errormessage"),
        "requestParameters": params, "userIdentity": _identity(row),
    }
    return TrailRecord.from_obj(raw)


# ------------------------------------------------------------------ running the queries


class QueryPoller:
    """Bounded polling: the delay grows 0.5 s → 5 s and the total wait is capped. Sleep is
    injected so tests do not wait."""

    def __init__(self, timeout: float = 600.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.timeout = timeout
        self.sleep = sleep

    def delays(self) -> Iterator[float]:
        waited, delay = 0.0, 0.5
        while waited < self.timeout:
            step = min(delay, self.timeout - waited)
            yield step
            waited += step
            delay = min(delay * 2, 5.0)


def run_athena(client: Any, target: AthenaTarget, sql: str, stats: ScanStats,
               poller: QueryPoller | None = None) -> Iterator[dict[str, str | None]]:
    """StartQueryExecution, poll GetQueryExecution, then page GetQueryResults; rows as dicts."""
    poller = poller or QueryPoller()
    params: dict[str, Any] = {
        "QueryString": sql, "WorkGroup": target.workgroup,
        "QueryExecutionContext": {"Database": target.database, "Catalog": target.catalog}}
    if target.output:
        params["ResultConfiguration"] = {"OutputLocation": target.output}
    qid = client.start_query_execution(**params)["QueryExecutionId"]
    stats.api_calls += 1
    state = "QUEUED"
    for delay in [0.0, *poller.delays()]:
        if delay:
            poller.sleep(delay)
        status = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        stats.api_calls += 1
        state = status.get("State", "")
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            raise RecoverError(f"Athena query {qid} {state.lower()}: "
                               f"{status.get('StateChangeReason', 'no reason given')}",
                               code="query_failed")
    else:
        client.stop_query_execution(QueryExecutionId=qid)
        stats.api_calls += 1
        raise RecoverError(f"Athena query {qid} did not finish within {poller.timeout:.0f}s "
                           f"(last state {state}); it was stopped", code="query_timeout")
    header: list[str] | None = None
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        stats.api_calls += 1
        info = page["ResultSet"].get("ResultSetMetadata", {}).get("ColumnInfo", [])
        for row in page["ResultSet"].get("Rows", []):
            values = [d.get("VarCharValue") for d in row.get("Data", [])]
            if header is None:  # the first row of the first page holds the column names
                header = [c.get("Name", "") for c in info] or [str(v) for v in values]
                if values == header:
                    continue
            yield dict(zip(header, values, strict=False))


def run_lake(client: Any, sql: str, stats: ScanStats, output: str | None = None,
             poller: QueryPoller | None = None) -> Iterator[dict[str, str | None]]:
    """StartQuery, then GetQueryResults until FINISHED (pages by NextToken)."""
    poller = poller or QueryPoller()
    params: dict[str, Any] = {"QueryStatement": sql}
    if output:
        params["DeliveryS3Uri"] = output
    qid = client.start_query(**params)["QueryId"]
    stats.api_calls += 1
    delays = iter([0.0, *poller.delays()])
    token: str | None = None
    while True:
        req: dict[str, Any] = {"QueryId": qid}
        if token:
            req["NextToken"] = token
        page = client.get_query_results(**req)
        stats.api_calls += 1
        state = page.get("QueryStatus", "")
        if state in ("FAILED", "CANCELLED", "TIMED_OUT"):
            raise RecoverError(f"CloudTrail Lake query {qid} {state.lower()}: "
                               f"{page.get('ErrorMessage', 'no reason given')}",
                               code="query_failed")
        if state != "FINISHED":
            delay = next(delays, None)
            if delay is None:
                client.cancel_query(QueryId=qid)
                stats.api_calls += 1
                raise RecoverError(f"CloudTrail Lake query {qid} did not finish within "
                                   f"{poller.timeout:.0f}s; it was cancelled",
                                   code="query_timeout")
            poller.sleep(delay)
            continue
        for row in page.get("QueryResultRows", []):
            merged: dict[str, str | None] = {}
            for cell in row:
                merged.update(cell)
            yield merged
        token = page.get("NextToken")
        if not token:
            return


class AthenaSource:
    """A record source answering from Athena: only the matching rows cross the network."""

    # Athena runs the query over the trail table (Glue catalog), reads the trail files and
    # writes its results to the workgroup's output location (docs/reference/aws-behaviour.md#athena-and-cloudtrail-lake).
    PERMISSIONS = ("athena:StartQueryExecution", "athena:GetQueryExecution",
                   "athena:GetQueryResults", "athena:StopQueryExecution", "glue:GetDatabase",
                   "glue:GetTable", "glue:GetPartitions", "s3:GetBucketLocation",
                   "s3:ListBucket", "s3:GetObject", "s3:PutObject",
                   "s3:AbortMultipartUpload")

    def __init__(self, client: Any, target: AthenaTarget, window: Window,
                 event_names: Iterable[str] = (), poller: QueryPoller | None = None) -> None:
        self.client = client
        self.target = target
        self.window = window
        self.sql = athena_failures_sql(target, window, event_names)
        self.poller = poller

    def iter_records(self, stats: ScanStats) -> Iterator[TrailRecord]:
        from recover.cloudtrail.parse import FileStats

        fs = FileStats(f"athena://{self.target.workgroup}/{self.target.database}."
                       f"{self.target.table}")
        for row in run_athena(self.client, self.target, self.sql, stats, self.poller):
            fs.records += 1
            fs.decoded += 1
            rec = athena_row_record(row)
            if rec is None:
                fs.problem("row without an event name")
                fs.corrupt_records += 1
            else:
                yield rec
        stats.add_file(fs)


@dataclass(frozen=True)
class LakeTarget:
    event_data_store: str
    region: str | None = None
    output: str | None = None

    @classmethod
    def parse(cls, uri: str) -> LakeTarget:
        parts = urlsplit(uri)
        if parts.scheme != "lake":
            raise UsageError(f"not a CloudTrail Lake source: {uri}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"region", "output"}
        if unknown:
            raise UsageError(f"unknown CloudTrail Lake source option(s): {', '.join(sorted(unknown))}")
        store = (parts.netloc + parts.path).strip("/")
        return cls(event_data_store=eds_id(store), region=query.get("region"),
                   output=query.get("output"))


class LakeSource:
    # CloudTrail Lake: a SQL query over an event data store (docs/reference/aws-behaviour.md#athena-and-cloudtrail-lake).
    PERMISSIONS = ("cloudtrail:StartQuery", "cloudtrail:GetQueryResults",
                   "cloudtrail:CancelQuery")

    def __init__(self, client: Any, target: LakeTarget, window: Window,
                 event_names: Iterable[str] = (), poller: QueryPoller | None = None) -> None:
        self.client = client
        self.target = target
        self.sql = lake_failures_sql(target.event_data_store, window, event_names)
        self.poller = poller

    def iter_records(self, stats: ScanStats) -> Iterator[TrailRecord]:
        from recover.cloudtrail.parse import FileStats

        fs = FileStats(f"lake://{self.target.event_data_store}")
        for row in run_lake(self.client, self.sql, stats, self.target.output, self.poller):
            fs.records += 1
            fs.decoded += 1
            rec = lake_row_record(row)
            if rec is None:
                fs.problem("row without an event name")
                fs.corrupt_records += 1
            else:
                yield rec
        stats.add_file(fs)


__all__ = ["AthenaSource", "AthenaTarget", "LakeSource", "LakeTarget", "QueryPoller",
           "athena_failures_sql", "lake_failures_sql", "run_athena", "run_lake", "sql_ident",
           "sql_string"]
