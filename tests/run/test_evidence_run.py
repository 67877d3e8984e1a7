"""An evidence folder's metadata.json says how the run ended, with the exit code the process
gave, also when it failed or was interrupted (never `exit_code: null`)."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recover.run.errors import NotFoundError, RecoverError
from recover.run.evidence import EvidenceRun
from recover.run.interrupts import Interrupted


def _clock() -> datetime:
    return datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("exc", "outcome", "code"), [
    (NotFoundError("no stack named x"), "failed", 8),
    (RecoverError("boom"), "failed", 1),
    (ValueError("a bug"), "failed", 1),
    (KeyboardInterrupt(), "interrupted", 130),
    (Interrupted(signal.SIGTERM), "interrupted", 143),
])
def test_failed_and_interrupted_runs_record_their_exit_code(tmp_path: Path, exc: BaseException,
                                                            outcome: str, code: int) -> None:
    with pytest.raises(type(exc)), EvidenceRun(tmp_path, "diagnose", "x", clock=_clock) as ev:
        raise exc
    meta = json.loads((ev.dir / "metadata.json").read_text())
    assert (meta["outcome"], meta["exit_code"]) == (outcome, code)
