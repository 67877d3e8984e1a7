"""API calls are attributed to the CALL_SCOPE of the work that made them, across threads.
(botocore's Stubber answers before-call first, so the counter is driven directly here; the
e2e `readiness --all` test checks the same attribution with real calls.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from recover.aws.session import CALL_SCOPE, ApiCallCounter, map_in_context

MODEL = SimpleNamespace(name="GetTemplate",
                        service_model=SimpleNamespace(endpoint_prefix="cloudformation"))


def test_calls_follow_their_scope_into_worker_threads() -> None:
    counter = ApiCallCounter()

    def stack_check(name: str) -> None:
        CALL_SCOPE.set(name)
        with ThreadPoolExecutor(2) as inner:  # nested pools inherit the scope too
            map_in_context(inner, lambda _: counter.on_before_call(MODEL),
                           range(2 if name == "a" else 1))

    with ThreadPoolExecutor(2) as pool:
        map_in_context(pool, stack_check, ["a", "b"])
    counter.on_before_call(MODEL)  # outside any scope
    assert counter.scope_calls("a") == {"cloudformation:GetTemplate": 2}
    assert counter.scope_calls("b") == {"cloudformation:GetTemplate": 1}
    assert counter.total == 4 and CALL_SCOPE.get() is None  # the caller's scope is untouched
