"""Request rates as a contract: `readiness --all --concurrency N` stays under CloudFormation's
request rate whatever N, checked on the server side with the sandbox's rate limiter on."""

from __future__ import annotations

from pathlib import Path

import pytest

from recover.aws.rates import CLOUDFORMATION_RATE
from recover.run.exit_codes import ExitCode
from recover.sandbox.scenarios import _kit as kit
from tests.conftest import recover

pytestmark = pytest.mark.e2e

EXTRA = 14


def test_concurrency_never_trips_cloudformation_throttling(sandbox, tmp_path: Path) -> None:
    sb = sandbox("healthy")
    w = sb.world
    for i in range(EXTRA):
        w.cfn.add_stack(f"extra-{i:02d}", [kit.res("Topic", "AWS::SNS::Topic", f"topic-{i}")])
    # AWS-like throttling: the rate recover promises to stay under, counted on arrival
    w.rate_limit("cloudformation:*", CLOUDFORMATION_RATE)
    code, env, err = recover(sb, tmp_path, "readiness", "--all", "--concurrency", "16")
    assert code == ExitCode.OK, err
    assert env["data"]["count"] == EXTRA + 2
    throttled = {op: n for (kind, op), n in w.faults.fired.items() if kind == "throttle"}
    assert throttled == {}
    calls = sum(len(w.faults.arrivals(f"cloudformation:{op}")) for op in (
        "ListStacks", "DescribeStacks", "ListStackResources", "GetTemplate"))
    assert calls > 2 * CLOUDFORMATION_RATE  # enough requests that a burst would have tripped it
