"""Read what a custom resource's pending request left behind (gather): the resource's resolved
properties (ServiceToken, ServiceTimeout) from its stack events, its handler's log group, and the
handler's log lines of the operation's window (CloudWatch Logs FilterLogEvents, paginated).
Parsing and choosing the request is pure: recover/decide/custom_response.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from recover.act.needs import needs, needs_of
from recover.aws.session import SessionFactory

# Lines that can hold a request: CloudWatch Logs term filter (case-sensitive, server side).
FILTER = '"ResponseURL"'
MAX_EVENTS = 50_000  # a log group that noisy is read no further (the result says so)


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime
    message: str
    stream: str = ""


@dataclass(frozen=True)
class HandlerLogs:
    log_group: str
    lines: tuple[LogLine, ...] = ()
    pages: int = 0
    truncated: bool = False
    problem: str = ""  # why the logs could not be read ("" when they were)

    def to_dict(self) -> dict[str, Any]:
        return {"log_group": self.log_group, "lines": len(self.lines), "pages": self.pages,
                "truncated": self.truncated, "problem": self.problem}


@needs("cloudformation:DescribeStackEvents")
def resource_properties(aws: SessionFactory, stack_id: str, logical_ids: set[str],
                        since: datetime | None = None) -> dict[str, dict[str, Any]]:
    """The newest resolved properties (ResourceProperties of its events) of each resource,
    reading events newest first back to `since`."""
    found: dict[str, dict[str, Any]] = {}
    cfn = aws.client("cloudformation")
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id):
        for event in page.get("StackEvents", []):
            lid = event.get("LogicalResourceId", "")
            if lid in logical_ids and lid not in found and event.get("ResourceProperties"):
                try:
                    props = json.loads(event["ResourceProperties"])
                except ValueError:
                    continue
                if isinstance(props, dict):
                    found[lid] = props
            if since and event["Timestamp"] < since and len(found) == len(logical_ids):
                return found
        if len(found) == len(logical_ids):
            return found
    return found


@needs("lambda:GetFunctionConfiguration")
def log_group_of(aws: SessionFactory, function_arn: str) -> str:
    """The function's log group: its LoggingConfig.LogGroup when set (a custom group), else
    /aws/lambda/<name> (docs/reference/aws-behaviour.md#custom-resource-requests-and-responses).
    A function that is gone, or that we may not read, keeps the default."""
    name = function_arn.split(":")[6] if function_arn.count(":") >= 6 else function_arn
    default = f"/aws/lambda/{name}"
    try:
        config = aws.client("lambda").get_function_configuration(FunctionName=function_arn)
    except ClientError:
        return default
    return str((config.get("LoggingConfig") or {}).get("LogGroup") or default)


@needs("logs:FilterLogEvents")
def read_handler_logs(aws: SessionFactory, log_group: str, start: datetime,
                      end: datetime) -> HandlerLogs:
    """The log events of `log_group` between `start` and `end` that mention ResponseURL, every
    page (AWS may answer a page with no event and a nextToken)."""
    logs = aws.client("logs")
    lines: list[LogLine] = []
    pages = 0
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": log_group, "filterPattern": FILTER,
                                  "startTime": _ms(start), "endTime": _ms(end)}
        if token:
            kwargs["nextToken"] = token
        try:
            page = logs.filter_log_events(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                return HandlerLogs(log_group, problem=f"log group {log_group} does not exist")
            raise
        pages += 1
        for e in page.get("events", []):
            lines.append(LogLine(datetime.fromtimestamp(e["timestamp"] / 1000, UTC),
                                 e.get("message", ""), e.get("logStreamName", "")))
        token = page.get("nextToken")
        if not token:
            return HandlerLogs(log_group, tuple(lines), pages)
        if len(lines) >= MAX_EVENTS:
            return HandlerLogs(log_group, tuple(lines), pages, truncated=True)


@needs_of(resource_properties, log_group_of, read_handler_logs)
def gather_handler_logs(aws: SessionFactory, service_token: str, start: datetime,
                        end: datetime, log_group: str | None = None) -> HandlerLogs:
    """The handler's log lines of the window. Only a Lambda handler has a known log group; an
    SNS topic's subscriber is for the engineer to name (--log-group)."""
    if log_group is None:
        if ":lambda:" not in service_token:
            return HandlerLogs("", problem=f"the ServiceToken {service_token or '(unknown)'} is "
                               "not a Lambda function: name the handler's log group with "
                               "--log-group")
        log_group = log_group_of(aws, service_token)
    return read_handler_logs(aws, log_group, start, end)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)
