"""The LookupEvents client recover builds sends exactly one HTTP request per call: every request
must pass the 2/s rate limiter, so botocore may not retry behind its back (found by the
generated worlds, issue 14 part 7: a 5xx answered at once was retried by botocore and three
LookupEvents arrived within 20 ms)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from recover.aws.session import SessionFactory
from recover.run.services import _lookup_clients

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fault", ["server_error", "throttle"])
def test_one_http_request_per_lookup_call(sandbox: Callable[..., Any], make_context: Any,
                                          fault: str) -> None:
    sb = sandbox("healthy")
    rc = make_context(session_factory_cls=SessionFactory, endpoint_url=sb.endpoint,
                      region=sb.region)
    client = _lookup_clients(rc)(sb.region)
    getattr(sb.world, fault)("cloudtrail:LookupEvents")
    mark = len(sb.world.requests)
    with pytest.raises(ClientError):
        client.lookup_events(MaxResults=5)
    sent = [r for r in sb.world.requests_since(mark) if r["operation"] == "LookupEvents"]
    assert len(sent) == 1, f"{len(sent)} HTTP requests for one call: botocore retried"
