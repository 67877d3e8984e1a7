"""What the custom resource scenarios share: a provider Lambda's log group full of what real
handlers leave behind (earlier requests with old RequestIds, another stack's request to the same
handler, retries, noise that mentions ResponseURL), and a clock anchored near the wall clock so
the waiting request is minutes old when the sandbox goes live (CloudWatch Logs keeps no event
older than 14 days, and the time left before CloudFormation's timeout must mean something)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from recover.sandbox import moto_access as aws
from recover.sandbox.cfn import custom
from recover.sandbox.world import World


def anchor(world: World, minutes_before_live: float) -> None:
    """Move the (frozen) seed clock to `minutes_before_live` before the wall clock."""
    target = datetime.now(UTC) - timedelta(minutes=minutes_before_live)
    gap = (target - world.clock()).total_seconds()
    if gap > 0:
        world.clock.advance(gap)


def token(world: World, function: str) -> str:
    return f"arn:aws:lambda:{world.region}:{world.account}:function:{function}"


def old_request(world: World, *, stack_id: str, logical_id: str, request_type: str,
                service_token: str, resource_type: str, physical_id: str = "",
                properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """A request CloudFormation sent earlier (its URL signed like a real one: a handler that
    replays it would answer a request nobody waits for)."""
    request_id = world.new_uuid()
    key = f"{stack_id}|{logical_id}|{request_id}"
    event = {"RequestType": request_type, "ServiceToken": service_token,
             "ResponseURL": world.custom.response_url(key), "StackId": stack_id,
             "RequestId": request_id, "LogicalResourceId": logical_id,
             "ResourceType": resource_type, "ResourceProperties": properties or {}}
    if request_type != "Create":
        event["PhysicalResourceId"] = physical_id
    return event


def log_history(world: World, service_token: str, entries: list[tuple[datetime, str]]) -> None:
    """Write (time, message) lines to the provider's log group, one stream per day."""
    by_stream: dict[str, list[tuple[int, str]]] = {}
    names: dict[str, str] = {}
    for when, message in entries:
        day = f"{when:%Y/%m/%d}"
        stream = names.setdefault(day, f"{day}/[$LATEST]{world.new_uuid().replace('-', '')}")
        by_stream.setdefault(stream, []).append((int(when.timestamp() * 1000), message))
    for stream, events in by_stream.items():
        aws.logs_write(custom.log_group(service_token), stream, world.region, events)


def logged(event: dict[str, Any]) -> str:
    return f"[INFO]\t-\t{event['RequestId']}\tReceived event: {json.dumps(event)}\n"


def noise(world: World, start: datetime, count: int) -> list[tuple[datetime, str]]:
    """Lines that mention ResponseURL without being a request (so a server-side filter on the
    word still pages through them)."""
    return [(start + timedelta(seconds=3 * i),
             f"[WARNING]\t-\t{world.new_uuid()}\tResponseURL upload retry {i % 3 + 1}/3: "
             "connection reset by peer\n") for i in range(count)]
