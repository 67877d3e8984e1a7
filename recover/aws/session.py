"""boto3 sessions with recover's retry policy, endpoint override and API call accounting."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import botocore.session
from botocore.config import Config

from recover import __version__
from recover.aws import rates

# Adaptive mode = standard retries (exponential backoff with jitter on throttling and 5xx)
# plus a client-side token bucket that slows down when AWS throttles. Config's max_attempts
# counts retries (9 attempts in all).
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
DEFAULT_RETRY = {"mode": "adaptive", "max_attempts": 8}


def retry_config(env: Mapping[str, str], profile: Mapping[str, Any]) -> dict[str, Any]:
    """Our defaults, except where the engineer chose with the AWS SDKs' own settings
    (AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, or retry_mode / max_attempts in the profile): a key
    left out of Config is resolved by botocore from those."""
    out: dict[str, Any] = {}
    for key, setting in (("mode", "retry_mode"), ("max_attempts", "max_attempts")):
        if not env.get(f"AWS_{setting.upper()}") and not profile.get(setting):
            out[key] = DEFAULT_RETRY[key]
    return out


def _profile_config(core: botocore.session.Session) -> Mapping[str, Any]:
    try:
        return core.get_scoped_config()
    except Exception:  # noqa: BLE001 - a missing profile is reported by the first AWS call
        return {}

# The unit of work API calls are attributed to (e.g. one stack of `readiness --all`). Set it
# with CALL_SCOPE.set(...) and run worker tasks through map_in_context so threads inherit it.
CALL_SCOPE: ContextVar[str | None] = ContextVar("recover_call_scope", default=None)
_T = TypeVar("_T")
_R = TypeVar("_R")


def map_in_context(pool: Executor, fn: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
    """pool.map that runs each task in a copy of the caller's context (ContextVars such as
    CALL_SCOPE follow the work into the pool's threads)."""
    futures = [pool.submit(copy_context().run, fn, item) for item in items]
    return [f.result() for f in futures]


@dataclass
class ApiCallCounter:
    """Counts API calls (one per boto3 method call) and HTTP attempts (retries included)."""

    calls: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    by_scope: dict[str, Counter[str]] = field(default_factory=dict)  # CALL_SCOPE -> calls
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_before_call(self, model: Any, **_: Any) -> None:
        key = f"{model.service_model.endpoint_prefix}:{model.name}"
        scope = CALL_SCOPE.get()
        with self._lock:
            self.calls[key] += 1
            if scope is not None:
                self.by_scope.setdefault(scope, Counter())[key] += 1

    def scope_calls(self, scope: str) -> dict[str, int]:
        """Calls made while CALL_SCOPE was `scope`, by operation."""
        with self._lock:
            return dict(sorted(self.by_scope.get(scope, Counter()).items()))

    def on_before_send(self, request: Any, **_: Any) -> None:
        ctx = getattr(request, "context", {}) or {}
        key = ctx.get("recover_key") or "unknown"
        with self._lock:
            self.attempts[key] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"total": sum(self.calls.values()), "by_operation": dict(sorted(self.calls.items())),
                    "http_attempts": sum(self.attempts.values())}


def _tag_service(parsed: dict[str, Any] | None, model: Any, **_: Any) -> None:
    # Lets recover.run.errors name the IAM action (service prefix + operation) of a failed call.
    if isinstance(parsed, dict):
        parsed.setdefault("ResponseMetadata", {})["RecoverService"] = model.service_model.endpoint_prefix


def _tag_request(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    context["recover_key"] = f"{model.service_model.endpoint_prefix}:{model.name}"


def _tag_error(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
    # A network error that outlasted botocore's retries carries no operation name; this lets
    # recover.run.errors name the call and how many times it was sent.
    attempts = (context.get("retries") or {}).get("attempt") or 1
    with contextlib.suppress(AttributeError):  # a type that refuses attributes: left unnamed
        exception.recover_call = {"operation": context.get("recover_key"),  # type: ignore[attr-defined]
                                  "attempts": attempts}


CONNECT_TIMEOUT = 10


class SessionFactory:
    """Builds boto3 clients for one run: one profile, one region, one optional endpoint."""

    def __init__(self, profile: str | None = None, region: str | None = None,
                 endpoint_url: str | None = None, retries: dict[str, Any] | None = None,
                 counter: ApiCallCounter | None = None,
                 credentials: dict[str, str] | None = None) -> None:
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.counter = counter or ApiCallCounter()
        # Explicit credentials are for the local sandbox only (recover demo); real runs use
        # the standard credential chain.
        core = botocore.session.get_session()
        self._session = boto3.Session(profile_name=profile, region_name=region,
                                      botocore_session=core, **(credentials or {}))
        self.region = self._session.region_name
        self._config = Config(retries=dict(retries or retry_config(os.environ, _profile_config(core))),
                              user_agent_extra=f"recover/{__version__}",
                              # AWS endpoints accept a connection in milliseconds: 10 s (not
                              # botocore's 60) makes an unreachable endpoint fail fast.
                              connect_timeout=CONNECT_TIMEOUT, max_pool_connections=16)
        events = self._session.events
        events.register("before-call", self.counter.on_before_call)
        events.register("before-parameter-build", _tag_request)
        events.register("before-send", self.counter.on_before_send)
        events.register("after-call", _tag_service)
        events.register("after-call-error", _tag_error)
        # request-rate gates (recover.aws.rates): no-ops unless a gate is in force
        events.register("before-send", rates.on_before_send)
        events.register("needs-retry", rates.on_needs_retry)
        self._clients: dict[tuple[str | None, ...], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client (botocore clients are thread-safe)."""
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(
                    service, region_name=region or self.region,
                    endpoint_url=self.endpoint_url, config=self._config)
            return self._clients[key]

    def unretried_client(self, service: str, region: str | None = None) -> Any:
        """A client with botocore's retries off: one HTTP request per call. For callers that
        retry themselves because every request must pass a rate limiter (LookupEvents); they
        retry what recover.run.errors.transient_kind names, at most `attempts(...)` times."""
        key = (service, region, "unretried")
        with self._lock:
            if key not in self._clients:
                config = self._config.merge(Config(retries={"mode": "standard",
                                                             "total_max_attempts": 1}))
                self._clients[key] = self._session.client(
                    service, region_name=region or self.region,
                    endpoint_url=self.endpoint_url, config=config)
            return self._clients[key]

    def attempts(self, service: str, region: str | None = None) -> int:
        """Attempts in all (the first included) botocore allows one call of `service`: the
        bound a hand-written retry loop uses too, so every call gives up alike."""
        retries = self.client(service, region).meta.config.retries or {}
        return max(1, int(retries.get("total_max_attempts") or DEFAULT_RETRY["max_attempts"] + 1))

    @property
    def boto3_session(self) -> boto3.Session:
        return self._session
