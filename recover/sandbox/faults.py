"""Fault injection for reliability work: throttling, AccessDenied, server errors, expired
credentials, connections dropped without an answer. The middleware asks `check()` before every
request and answers the fault in the protocol of the service called (see
protocol.error_response), or drops the connection for the two network faults:

- `connection_reset`: the request is not served; the connection is closed with no HTTP answer
  (what a reset or a dead load balancer looks like to the client).
- `answer_lost`: the request IS served (the change happens), then the connection is closed
  before the answer is sent (a reset on the way back). A client that retries meets the effect
  of its own first attempt.

Every request that reaches the sandbox is also logged with its arrival time (`arrivals`,
`max_in_any_second`, `per_second`), resets and lost answers included, so tests can check
client-side rate limits on the server side.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# API operation -> IAM action where they differ (deny() accepts either; messages name the action)
IAM_ACTIONS = {"s3:ListObjects": "s3:ListBucket", "s3:ListObjectsV2": "s3:ListBucket",
               "s3:HeadBucket": "s3:ListBucket", "s3:HeadObject": "s3:GetObject",
               "s3:ListObjectVersions": "s3:ListBucketVersions", "s3:CopyObject": "s3:PutObject"}
# Faults answered by dropping the connection instead of an HTTP error.
NETWORK_FAULTS = ("connection_reset", "answer_lost")
# Rate faults, in the order check() tries them.
RATE_FAULTS = ("connection_reset", "answer_lost", "server_error", "throttle")
_MESSAGES = {"server_error": "We encountered an internal error. Please try again.",
             "throttle": "Rate exceeded",
             "connection_reset": "connection closed before the request was served",
             "answer_lost": "connection closed after the request was served"}


@dataclass
class Fault:
    kind: str  # throttle | deny | server_error | expired | connection_reset | answer_lost
    message: str


@dataclass
class _Rule:
    percent: float
    rng: random.Random
    times: int | None = None  # fire at most this many times (None: no limit)

    def fires(self) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.rng.random() * 100 >= self.percent:
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass
class FaultInjector:
    account: str
    _rules: dict[str, dict[str, _Rule]] = field(
        default_factory=lambda: {kind: {} for kind in RATE_FAULTS})
    _deny: set[str] = field(default_factory=set)
    _expire_after: int | None = None
    _calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # "<service>:<Operation>" -> [countdown, callback]: run the callback when the request
    # arrives (before it is served), on its nth occurrence; tests use it to interrupt the
    # client at a given step.
    _hooks: dict[str, list[list]] = field(default_factory=dict)
    # "<service>:<Operation>" or "<service>:*" -> requests allowed in any 1-second window
    # (rate_limit: AWS's request-rate throttling, see `rate_limit`)
    _limits: dict[str, int] = field(default_factory=dict)
    _served: dict[str, list[float]] = field(default_factory=dict)  # limit key -> arrivals
    # "<service>:<Operation>" -> (monotonic, wall clock) arrival times of every request
    _arrivals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # (kind, "<service>:<Operation>") -> how many times that fault was given
    fired: Counter[tuple[str, str]] = field(default_factory=Counter)

    # operation keys are "<service>:<Operation>", e.g. "cloudformation:DescribeStackEvents";
    # "*" matches every operation of every service, "<service>:*" every one of a service.

    def _rate(self, kind: str, operation: str, percent: float, seed: int,
              times: int | None) -> None:
        with self._lock:
            self._rules[kind][operation] = _Rule(percent, random.Random(seed), times)

    def throttle(self, operation: str, percent: float = 100.0, seed: int = 0,
                 times: int | None = None) -> None:
        self._rate("throttle", operation, percent, seed, times)

    def server_error(self, operation: str, percent: float = 100.0, seed: int = 0,
                     times: int | None = None) -> None:
        self._rate("server_error", operation, percent, seed, times)

    def connection_reset(self, operation: str, percent: float = 100.0, seed: int = 0,
                         times: int | None = None) -> None:
        """Drop `percent`% of the requests of `operation` unserved, with no HTTP answer."""
        self._rate("connection_reset", operation, percent, seed, times)

    def answer_lost(self, operation: str, percent: float = 100.0, seed: int = 0,
                    times: int | None = None) -> None:
        """Serve `percent`% of the requests of `operation`, then drop the connection before
        the answer (the change is made; the client never hears of it)."""
        self._rate("answer_lost", operation, percent, seed, times)

    def rate_limit(self, operation: str, per_second: int) -> None:
        """Throttle like AWS's request-rate limits: a request of `operation` (or of any
        operation of a service, "<service>:*", counted together) arriving when `per_second`
        requests already arrived within the last second is answered with the throttling
        error, and is counted among the arrivals (a throttled request costs its place too).
        Only the rate decides: a client that stays under it is never throttled."""
        with self._lock:
            self._limits[operation] = int(per_second)

    def _over_limit(self, fine: str, service: str, now: float) -> bool:
        for key in (fine, f"{service}:*"):
            limit = self._limits.get(key)
            if limit is None:
                continue
            recent = [t for t in self._served.get(key, []) if now - t < 1.0]
            recent.append(now)
            self._served[key] = recent
            if len(recent) > limit:
                return True
        return False

    def deny(self, action: str) -> None:
        """AccessDenied for an IAM action such as `cloudformation:ContinueUpdateRollback`."""
        self._deny.add(action)

    def expire_credentials(self, after_calls: int = 0) -> None:
        """Every request after `after_calls` more requests fails with ExpiredToken."""
        with self._lock:
            self._expire_after = self._calls + after_calls

    def on_request(self, operation: str, callback: Callable[[], None], nth: int = 1) -> None:
        """Call `callback()` when the nth request of `operation` arrives, before serving it."""
        self._hooks.setdefault(operation, []).append([nth, callback])

    def fire_hooks(self, service: str, operation: str) -> None:
        due = []
        with self._lock:
            for hook in self._hooks.get(f"{service}:{operation}", []):
                hook[0] -= 1
                if hook[0] == 0:
                    due.append(hook[1])
        for callback in due:
            callback()

    def clear(self) -> None:
        """Remove every fault and hook (the request log is kept)."""
        with self._lock:
            self._hooks.clear()
            for rules in self._rules.values():
                rules.clear()
            self._limits.clear()
            self._served.clear()
            self._deny.clear()
            self._expire_after = None

    def apply(self, spec: dict) -> None:
        """The JSON body of POST /_sandbox/faults: {"throttle": {"op": pct}, "deny": [...],
        "server_error": {"op": pct}, "connection_reset": {"op": pct}, "answer_lost": {"op":
        pct}, "expire_credentials": N, "rate_limit": {"op": per_second}, "clear": true,
        "seed": S}. A rate may also be {"percent": P, "times": N} to fire at most N times."""
        if spec.get("clear"):
            self.clear()
        seed = int(spec.get("seed", 0))
        for kind in RATE_FAULTS:
            for op, rate in (spec.get(kind) or {}).items():
                if isinstance(rate, dict):
                    times = rate.get("times")
                    self._rate(kind, op, float(rate.get("percent", 100.0)), seed,
                               None if times is None else int(times))
                else:
                    self._rate(kind, op, float(rate), seed, None)
        for op, per_second in (spec.get("rate_limit") or {}).items():
            self.rate_limit(op, int(per_second))
        for action in spec.get("deny") or []:
            self.deny(action)
        if spec.get("expire_credentials") is not None:
            self.expire_credentials(int(spec["expire_credentials"]))

    def check(self, service: str, operation: str, variant: str | None = None, *,
              presigned: bool = False) -> Fault | None:
        """The fault for this request, if any. `variant` names a finer operation behind a
        coarse one (S3 CopyObject is a PUT like PutObject): rate rules then match the variant
        ("s3:CopyObject"), not the coarse name; deny matches either, as IAM does.
        `presigned`: a request to a pre-signed URL (a custom resource's response) carries the
        signer's authority, not the caller's credentials: only the rate faults (network,
        server errors, throttling) apply to it, and it does not count toward expiry."""
        key = f"{service}:{operation}"
        action = IAM_ACTIONS.get(key, key)
        fine = f"{service}:{variant}" if variant else key
        with self._lock:
            now = (time.monotonic(), time.time())
            self._arrivals.setdefault(key, []).append(now)
            if fine != key:
                self._arrivals.setdefault(fine, []).append(now)
            if not presigned:
                self._calls += 1
            if not presigned and self._expire_after is not None \
                    and self._calls > self._expire_after:
                return Fault("expired", "The security token included in the request is expired")
            if not presigned and self._deny & {key, action, fine, IAM_ACTIONS.get(fine, fine), f"{service}:*"}:
                return Fault("deny", (
                    f"User: arn:aws:iam::{self.account}:user/sandbox-operator is not authorized "
                    f"to perform: {action} because no identity-based policy allows the {action} "
                    "action"))
            if self._limits and self._over_limit(fine, service, now[0]):
                self.fired[("throttle", fine)] += 1
                return Fault("throttle", _MESSAGES["throttle"])
            for kind in RATE_FAULTS:
                rules = self._rules[kind]
                rule = rules.get(fine) or rules.get(f"{service}:*") or rules.get("*")
                if rule is not None and rule.fires():
                    self.fired[(kind, fine)] += 1
                    return Fault(kind, _MESSAGES[kind])
        return None

    # --- the request log ------------------------------------------------------------------

    def arrivals(self, operation: str) -> list[float]:
        """Monotonic arrival times of every request of `operation` ("<service>:<Operation>")."""
        with self._lock:
            return [mono for mono, _ in self._arrivals.get(operation, [])]

    def max_in_any_second(self, operation: str, window: float = 1.0) -> int:
        """The most requests of `operation` that arrived within any `window` seconds (a
        sliding window: stricter than counting per calendar second)."""
        times = sorted(self.arrivals(operation))
        best, first = 0, 0
        for last, t in enumerate(times):
            while first <= last and t - times[first] >= window:
                first += 1
            best = max(best, last - first + 1)
        return best

    def per_second(self, operation: str) -> dict[int, int]:
        """Requests of `operation` per calendar second (Unix time, seconds)."""
        out: dict[int, int] = {}
        with self._lock:
            for _, wall in self._arrivals.get(operation, []):
                out[int(wall)] = out.get(int(wall), 0) + 1
        return out

    def request_log(self, operation: str) -> dict[str, Any]:
        """What GET /_sandbox/requests?operation=OP answers."""
        return {"operation": operation, "count": len(self.arrivals(operation)),
                "max_in_any_second": self.max_in_any_second(operation),
                "per_second": {str(k): v for k, v in sorted(self.per_second(operation).items())},
                "faults": {kind: n for (kind, op), n in sorted(self.fired.items())
                           if op == operation}}
