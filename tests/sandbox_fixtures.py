"""Sandbox fixtures: `sandbox(scenario)` starts a served sandbox on a free 127.0.0.1 port (steps
without delay) and stops it after the test. One sandbox per process at a time (moto's backends
are process-global)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def sandbox() -> Iterator[Callable[..., Any]]:
    pytest.importorskip("moto", reason="the sandbox needs moto (pip install 'recover[sandbox]')")
    from recover.sandbox import start_sandbox

    started: list[Any] = []

    def start(scenario: str | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("step_delay", 0)
        sb = start_sandbox(scenario, **kwargs)
        started.append(sb)
        return sb

    yield start
    for sb in started:
        sb.stop()
