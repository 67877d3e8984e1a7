"""LookupEvents' 2 requests per second per account and Region is a contract for the whole run:
readers working at the same time in one process (the artifacts search, the evidence bundle's
`--trail lookup`, a role's history) share one limiter, checked on the server side with the
sandbox's rate limiter on (docs/reference/aws-behaviour.md#request-rates)."""

from __future__ import annotations

import threading

import pytest

from recover.aws.role_history import lookup_role_history
from recover.aws.session import SessionFactory
from recover.bundle.relate import LOOKUP_EVENT_NAMES
from recover.cloudtrail.extract import DEFAULT_EVENT_NAMES
from recover.cloudtrail.scan import SourceDeps, build_source
from recover.cloudtrail.sources import ScanStats, Window

pytestmark = pytest.mark.e2e
LOOKUP = "cloudtrail:LookupEvents"


def test_readers_at_the_same_time_share_two_requests_per_second(sandbox) -> None:
    sb = sandbox("healthy")
    sb.world.rate_limit(LOOKUP, 2)  # AWS's published rate, counted on arrival
    aws = SessionFactory(region=sb.region, endpoint_url=sb.endpoint)
    deps = SourceDeps(client=lambda service, region: aws.client(service, region=region),
                      lookup_client=lambda region: aws.unretried_client("cloudtrail", region),
                      lookup_attempts=lambda region: aws.attempts("cloudtrail", region),
                      default_region=sb.region)
    errors: list[BaseException] = []

    def scan(names: tuple[str, ...]) -> None:
        try:
            source = build_source("lookup", Window(), names, deps, validate=True)
            list(source.iter_records(ScanStats()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def role() -> None:
        try:
            lookup_role_history(aws, "some-role", max_pages=2)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=scan, args=(DEFAULT_EVENT_NAMES[:3],), daemon=True),
               threading.Thread(target=scan, args=(LOOKUP_EVENT_NAMES[:3],), daemon=True),
               threading.Thread(target=role, daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "readers stuck waiting for the limiter"
    assert errors == []
    log = sb.world.faults.request_log(LOOKUP)
    assert log["count"] >= 7
    assert log["faults"] == {}  # never throttled
    assert log["max_in_any_second"] <= 2, log
