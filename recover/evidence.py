"""The evidence folder every stack run leaves behind (DESIGN §5).

Layout of one run folder (`<evidence-dir>/<stack>-<UTC time>/`):
  metadata.json   versions, arguments, identity, region, start/end, API call counts, outcome
  journal.jsonl   append-only: every mutating AWS call (before and after) and operator answer
  snapshot.json   the stack snapshot(s) read
  plan.json       the plan, when a runbook made one
  run.log         human-readable log lines

metadata.json is (re)written when the run ends, whatever the ending: success, error,
Ctrl-C. The journal is flushed and fsynced line by line so a killed run still leaves it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from recover import __version__
from recover.errors import RecoverError
from recover.result import dumps

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class Journal:
    """Append-only JSON-lines journal; each entry is durable before the call it announces."""

    def __init__(self, path: Path, clock: Any) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._seq = 0

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "time": self._clock().isoformat(), "kind": kind, **fields}
            line = dumps(entry, indent=None) + "\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            return entry

    def entries(self) -> list[dict[str, Any]]:
        return read_journal(self.path)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Entries of a journal; a torn last line (killed mid-write) is ignored."""
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):  # a torn or damaged line
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


class EvidenceRun:
    """Context manager around one run; `with EvidenceRun(...) as ev:` always leaves metadata."""

    def __init__(self, root: Path, command: str, subject: str, *, clock: Any,
                 argv: list[str] | None = None, region: str | None = None,
                 endpoint_url: str | None = None, api_counter: Any = None) -> None:
        self.clock = clock
        self.started = clock()
        self.run_id = str(uuid.uuid4())
        # cut: a folder name is at most 255 bytes, and a subject may be any length
        name = f"{_SAFE.sub('_', subject)[:100] or 'run'}-{_stamp(self.started)}"
        self.dir = self._create(Path(root), name)
        self.command = command
        self.subject = subject
        self.metadata: dict[str, Any] = {
            "run_id": self.run_id,
            "recover_version": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "command": command,
            "subject": subject,
            "argv": list(argv or []),
            "region": region,
            "endpoint_url": endpoint_url,
            "started_at": self.started.isoformat(),
            "identity": None,
        }
        self._api_counter = api_counter
        self.journal = Journal(self.dir / "journal.jsonl", clock)
        self.journal.path.touch(mode=0o600)
        self._write_metadata(outcome="running")

    @staticmethod
    def _create(root: Path, name: str) -> Path:
        try:
            root.mkdir(parents=True, exist_ok=True)
            path = root / name
            n = 1
            while path.exists():  # two runs in the same second
                n += 1
                path = root / f"{name}-{n}"
            path.mkdir(mode=0o700)
            return path
        except OSError as exc:
            raise RecoverError(f"cannot write the evidence folder under {root}: {exc.strerror}",
                               code="evidence_dir_unwritable",
                               hint="pass --evidence-dir with a writable folder") from exc

    def write_json(self, name: str, value: Any) -> Path:
        path = self.dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(dumps(value), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)
        return path

    def log(self, line: str) -> None:
        with open(self.dir / "run.log", "a", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(f"{self.clock().isoformat()} {line}\n")

    def set(self, **fields: Any) -> None:
        """Add fields to the metadata, on disk at once: a killed run never rewrites it at the
        end, and the next run reads it to resume (recover/resume.py)."""
        self.metadata.update(fields)
        if not getattr(self, "_finished", False):
            self._write_metadata(outcome="running")

    def _write_metadata(self, outcome: str, **extra: Any) -> None:
        meta = dict(self.metadata, outcome=outcome, **extra)
        if self._api_counter is not None:
            meta["api_calls"] = self._api_counter.as_dict()
        self.write_json("metadata.json", meta)

    def __enter__(self) -> EvidenceRun:
        return self

    def finish(self, outcome: str, exit_code: int | None = None, **extra: Any) -> None:
        self._write_metadata(outcome=outcome, ended_at=self.clock().isoformat(),
                             exit_code=exit_code, **extra)
        self._finished = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if getattr(self, "_finished", False) and exc is None:
            return
        extra: dict[str, Any] = {}
        if exc_type is None:
            outcome = "finished"
        elif issubclass(exc_type, KeyboardInterrupt):
            outcome = "interrupted"
            extra["signal"] = getattr(exc, "name", "SIGINT")  # recover.interrupts.Interrupted
        else:
            outcome = "failed"
            extra["error"] = exc.as_dict() if isinstance(exc, RecoverError) else {
                "code": "internal_error", "message": f"{exc_type.__name__}: {exc}"}
        self._write_metadata(outcome=outcome, ended_at=self.clock().isoformat(), **extra)
