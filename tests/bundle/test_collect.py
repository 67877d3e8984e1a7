"""collect() against the sandbox: the whole tree with all events, templates as CloudFormation
gives them back, CloudTrail Event history (LookupEvents) and the window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from recover.aws.session import SessionFactory
from recover.bundle.collect import collect
from recover.bundle.model import Window
from recover.bundle.relate import LOOKUP_EVENT_NAMES
from recover.cloudtrail.scan import SourceDeps
from recover.cloudtrail.sources import RateLimiter

pytestmark = pytest.mark.e2e


def _deps(sb: Any, aws: SessionFactory) -> SourceDeps:
    # a limiter that never waits: the sandbox does not throttle and tests must not sleep
    fast = RateLimiter(rate=10_000, sleep=lambda _s: None)
    return SourceDeps(client=lambda service, region: aws.client(service, region),
                      default_region=sb.region, limiter=fast, sleep=lambda _s: None,
                      now=sb.world.clock)


def test_collect_with_event_history(sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sb = sandbox("degap")
    aws = SessionFactory(region=sb.region, endpoint_url=sb.endpoint)
    c = collect(aws, "degap-prod", window=Window(), trail="lookup", evidence_root=tmp_path,
                clock=sb.world.clock, trail_deps=_deps(sb, aws))
    gt = sb.world.ground_truth
    assert [n.name for n in c.snapshot.nodes] == ["degap-prod", gt["api_stack"],
                                                 gt["workers_stack"]]
    # events="all": the creation a month before the failure is there too
    assert c.snapshot.root.events[0].status == "CREATE_IN_PROGRESS"
    current = [t for t in c.templates if t.label == "current"]
    assert len(current) == 3 and all(t.body and t.body.lstrip().startswith("{") for t in current)
    assert all(t.error for t in c.templates if t.label == "change sets")  # sandbox: no change sets
    rels = c.trail.relations
    assert rels.count("artifact_fetch_failure") == 4
    assert c.trail.stats["api_calls"] == len(LOOKUP_EVENT_NAMES)  # one page per event name
    times = [r["eventTime"] for r in c.trail.records]
    assert times == sorted(times)


def test_window_is_applied_to_cloudtrail(sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sb = sandbox("degap")
    aws = SessionFactory(region=sb.region, endpoint_url=sb.endpoint)
    # The seed ends with the failed update; live time then catches up with the wall clock,
    # so the window is anchored on the newest stack event, not on "now".
    newest = sb.client("cloudformation").describe_stack_events(
        StackName="degap-prod")["StackEvents"][0]["Timestamp"]
    # the last day only: the failed update, not the creation nor the day-12 hand edit
    window = Window(since=newest - timedelta(days=1))
    c = collect(aws, "degap-prod", window=window, trail="lookup", evidence_root=tmp_path,
                clock=sb.world.clock, trail_deps=_deps(sb, aws))
    names = {r["eventName"] for r in c.trail.records}
    assert names == {"UpdateFunctionCode20150331v2"}
    assert all(r["eventTime"] >= window.since.strftime("%Y-%m-%dT%H:%M:%SZ")
               for r in c.trail.records)
