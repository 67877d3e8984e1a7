"""Fault injection for reliability work: throttling, AccessDenied, server errors, expired
credentials. The middleware asks `check()` before every request and answers the fault in the
protocol of the service called (see protocol.error_response)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

# API operation -> IAM action where they differ (deny() accepts either; messages name the action)
IAM_ACTIONS = {"s3:ListObjects": "s3:ListBucket", "s3:ListObjectsV2": "s3:ListBucket",
               "s3:HeadBucket": "s3:ListBucket", "s3:HeadObject": "s3:GetObject",
               "s3:ListObjectVersions": "s3:ListBucketVersions"}


@dataclass
class Fault:
    kind: str  # throttle | deny | server_error | expired
    message: str


@dataclass
class _Rule:
    percent: float
    rng: random.Random


@dataclass
class FaultInjector:
    account: str
    _throttle: dict[str, _Rule] = field(default_factory=dict)
    _server_error: dict[str, _Rule] = field(default_factory=dict)
    _deny: set[str] = field(default_factory=set)
    _expire_after: int | None = None
    _calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # "<service>:<Operation>" -> [countdown, callback]: run the callback when the request
    # arrives (before it is served), on its nth occurrence; tests use it to interrupt the
    # client at a given step.
    _hooks: dict[str, list[list]] = field(default_factory=dict)

    # operation keys are "<service>:<Operation>", e.g. "cloudformation:DescribeStackEvents";
    # "*" matches every operation of every service.

    def throttle(self, operation: str, percent: float = 100.0, seed: int = 0) -> None:
        self._throttle[operation] = _Rule(percent, random.Random(seed))

    def server_error(self, operation: str, percent: float = 100.0, seed: int = 0) -> None:
        self._server_error[operation] = _Rule(percent, random.Random(seed))

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
        with self._lock:
            self._hooks.clear()
            self._throttle.clear()
            self._server_error.clear()
            self._deny.clear()
            self._expire_after = None

    def apply(self, spec: dict) -> None:
        """The JSON body of POST /_sandbox/faults: {"throttle": {"op": pct}, "deny": [...],
        "server_error": {"op": pct}, "expire_credentials": N, "clear": true, "seed": S}."""
        if spec.get("clear"):
            self.clear()
        seed = int(spec.get("seed", 0))
        for op, pct in (spec.get("throttle") or {}).items():
            self.throttle(op, float(pct), seed)
        for op, pct in (spec.get("server_error") or {}).items():
            self.server_error(op, float(pct), seed)
        for action in spec.get("deny") or []:
            self.deny(action)
        if spec.get("expire_credentials") is not None:
            self.expire_credentials(int(spec["expire_credentials"]))

    def check(self, service: str, operation: str) -> Fault | None:
        key = f"{service}:{operation}"
        action = IAM_ACTIONS.get(key, key)
        with self._lock:
            self._calls += 1
            if self._expire_after is not None and self._calls > self._expire_after:
                return Fault("expired", "The security token included in the request is expired")
            if self._deny & {key, action, f"{service}:*"}:
                return Fault("deny", (
                    f"User: arn:aws:iam::{self.account}:user/sandbox-operator is not authorized "
                    f"to perform: {action} because no identity-based policy allows the {action} "
                    "action"))
            for rules, kind, message in ((self._server_error, "server_error",
                                          "We encountered an internal error. Please try again."),
                                         (self._throttle, "throttle", "Rate exceeded")):
                rule = rules.get(key) or rules.get(f"{service}:*") or rules.get("*")
                if rule is not None and rule.rng.random() * 100 < rule.percent:
                    return Fault(kind, message)
        return None
