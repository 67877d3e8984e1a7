"""Ctrl-C (SIGINT) and SIGTERM: stop cleanly, and never between sending a change and writing
down what AWS answered.

Outside a change, a signal raises `Interrupted` (a KeyboardInterrupt) at once: the command's
wrapper turns it into exit 130 (SIGINT) or 143 (SIGTERM) and the evidence folder is closed as
"interrupted". While a mutating call is in flight (`change_in_flight()`, used by the executor
only), the first signal is held until the call has returned and its answer is journaled, so the
journal says exactly what happened; a second signal stops at once and the executor journals the
call as "in doubt" (sent, answer unknown), which the next run resolves (recover/run/resume.py).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, by convention


class Interrupted(KeyboardInterrupt):
    """A SIGINT or SIGTERM received by recover."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


_depth = 0  # nesting of change_in_flight() (main thread only: Python runs handlers there)
_pending: int | None = None


def _handler(signum: int, _frame: FrameType | None) -> None:
    global _pending
    if _depth > 0 and _pending is None:
        _pending = signum
        sys.stderr.write(f"\n{signal.Signals(signum).name}: finishing the AWS call in flight and "
                         "writing down its answer, then stopping (send it again to stop at once)\n")
        sys.stderr.flush()
        return
    raise Interrupted(signum)


def install() -> None:
    """Route SIGINT and SIGTERM through `_handler` (the CLI does this once, at start-up)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _handler)


@contextmanager
def change_in_flight() -> Iterator[None]:
    """Hold a first signal until the block ends, then raise it."""
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread only
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def exit_code_of(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_CODES.get(getattr(exc, "signum", signal.SIGINT), 130)
