"""Client-side request rates for the readers that fan out (readiness `--concurrency`): every
HTTP request of a service, botocore's retries included, passes one process-wide limiter per
(service, region) and holds its place from the send until its answer, so concurrency adds
requests in flight, never requests per second (docs/reference/aws-behaviour.md#request-rates).

LookupEvents has its own limiter (recover.cloudtrail.sources.shared_limiter), shared by every
reader of a run, because its readers retry by hand with botocore's retries off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from recover.cloudtrail.sources import RateLimiter

# AWS publishes no request rate for CloudFormation's read APIs (it throttles with "Rate
# exceeded" past an unpublished per-account, per-Region rate): 10 per second is our
# conservative reading; RECOVER_CLOUDFORMATION_RATE changes it.
CLOUDFORMATION_RATE = 10
_LIMITERS: dict[str, RateLimiter] = {}
_LOCK = threading.Lock()


def cloudformation_rate(env: dict[str, str] | None = None) -> int:
    raw = (env if env is not None else os.environ).get("RECOVER_CLOUDFORMATION_RATE", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else CLOUDFORMATION_RATE


def limiter_for(service: str, rate: int) -> RateLimiter:
    """The process-wide limiter of `service` (one per service; keyed by region inside)."""
    with _LOCK:
        lim = _LIMITERS.get(service)
        if lim is None or lim.rate != rate:
            lim = _LIMITERS[service] = RateLimiter(rate=rate)
        return lim


class SendGate:
    """botocore event handlers that make each request of `service` wait for a place in
    `limiter` (before-send) and give it back when the attempt's answer or error is in
    (needs-retry, emitted after every attempt)."""

    def __init__(self, service: str, limiter: RateLimiter) -> None:
        self.service = service
        self.limiter = limiter
        self._held = threading.local()  # the place this thread's attempt holds

    def _release(self) -> None:
        entry = getattr(self._held, "entry", None)
        if entry is not None:
            self._held.entry = None
            with self.limiter._lock:
                entry[0], entry[1] = self.limiter.clock(), False

    def before_send(self, request: Any, **_: Any) -> None:
        self._release()  # an attempt whose answer never came through needs-retry
        context = getattr(request, "context", None) or {}
        entry = self.limiter.acquire((self.service, context.get("client_region")))
        entry[1] = True
        self._held.entry = entry

    def after_attempt(self, **_: Any) -> None:
        self._release()



# Gates in force, by service. botocore clients copy their session's event handlers when they
# are created, so SessionFactory registers the two dispatchers below once, for every client,
# and a gate takes effect for clients created before it too.
_ACTIVE: dict[str, list[SendGate]] = {}


def _service(event_name: str) -> str:
    return event_name.split(".")[1] if event_name.count(".") >= 1 else ""


def on_before_send(request: Any, event_name: str = "", **_: Any) -> None:
    gates = _ACTIVE.get(_service(event_name))
    if gates:
        gates[-1].before_send(request)


def on_needs_retry(event_name: str = "", **_: Any) -> None:
    gates = _ACTIVE.get(_service(event_name))
    if gates:
        gates[-1].after_attempt()


@contextmanager
def gate(service: str, rate: int) -> Iterator[SendGate]:
    """Requests of `service` at most `rate` per second per Region, process-wide, while the
    block runs (nested gates of one service: the innermost applies)."""
    g = SendGate(service, limiter_for(service, rate))
    with _LOCK:
        _ACTIVE.setdefault(service, []).append(g)
    try:
        yield g
    finally:
        with _LOCK:
            _ACTIVE[service].remove(g)
        g.after_attempt()


def cloudformation_gate() -> Any:
    """CloudFormation requests at most `cloudformation_rate()` per second per Region while
    the block runs."""
    return gate("cloudformation", cloudformation_rate())
