"""Simulated time: frozen and advanced by hand while a scenario is seeded (deterministic
timestamps), then running in real time from where the seed stopped."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 10, 12, 9, 0, 0, tzinfo=UTC)


class SimClock:
    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._base = start
        self._live_since: float | None = None
        self._last = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self._base
            if self._live_since is not None:
                now = self._base + timedelta(seconds=time.monotonic() - self._live_since)
            # strictly increasing, so events never share a timestamp and order is stable
            if now <= self._last and self._live_since is not None:
                now = self._last + timedelta(milliseconds=1)
            self._last = max(self._last, now)
            return now

    def advance(self, seconds: float) -> datetime:
        """Seeding only: move the frozen clock forward."""
        with self._lock:
            self._base += timedelta(seconds=seconds)
            self._last = max(self._last, self._base)
            return self._base

    def go_live(self, catch_up: bool = True) -> None:
        """Start running in real time. With catch_up, a seed that ended in the past jumps to
        the wall clock, so what happens live (the operator's recovery) carries real times and
        sorts correctly against recover's own journal (which uses the wall clock)."""
        with self._lock:
            self._base = max(self._base, self._last)
            if catch_up:
                self._base = max(self._base, datetime.now(UTC))
            self._live_since = time.monotonic()
