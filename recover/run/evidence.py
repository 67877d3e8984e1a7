"""The evidence folder every stack run leaves behind (docs/reference/evidence.md).

Layout of one run folder (`<evidence-dir>/<stack>-<UTC time>/`):
  metadata.json   versions, arguments, identity, region, start/end, API call counts, outcome
  journal.jsonl   append-only: every mutating AWS call (before and after) and operator answer
  snapshot.json   the stack snapshot(s) read
  plan.json       the plan, when a runbook made one
  run.log         human-readable log lines

metadata.json is (re)written when the run ends, whatever the ending: success, error,
Ctrl-C. The journal is flushed and fsynced line by line so a killed run still leaves it.

Every file is redacted as it is written (recover.bundle.redact.SecretBook learns the secrets
from what is written: NoEcho parameters of the stack's templates, parameters in any casing,
secret-looking Lambda environment variables, CloudTrail credentials), and when a secret is
learned after files that hold it were written, those files are rewritten without it. Files are
0600 and folders 0700 whatever the umask (recover.run.private_files).
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from recover import __version__
from recover.bundle.redact import SecretBook, parse_template
from recover.model.stack import StackSnapshot
from recover.run.errors import RecoverError, translate_aws_error
from recover.run.exit_codes import ExitCode
from recover.run.interrupts import exit_code_of
from recover.run.private_files import append_private, private_dir, replace_private
from recover.run.result import dumps

# Files of a run folder that are never redacted or rewritten: the bytes of code objects the
# artifacts runbook restores (binary, and the restore reads them back).
BLOB_DIR = "artifacts"

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class Journal:
    """Append-only JSON-lines journal; each entry is durable before the call it announces.
    `scrub` (the run's redaction) turns an entry into what is stored; the caller gets the
    entry as it was given."""

    def __init__(self, path: Path, clock: Any,
                 scrub: Callable[[dict[str, Any]], Any] | None = None,
                 lock: Any = None) -> None:
        self.path = path
        self._clock = clock
        self._scrub = scrub
        self._lock = lock if lock is not None else threading.RLock()
        self._seq = 0
        self.kinds: Counter[str] = Counter()  # entries written by this run, by kind

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            self.kinds[kind] += 1
            entry = {"seq": self._seq, "time": self._clock().isoformat(), "kind": kind, **fields}
            stored = self._scrub(entry) if self._scrub is not None else entry
            append_private(self.path, (dumps(stored, indent=None) + "\n").encode(), fsync=True)
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


def exit_code_for(exc: BaseException) -> int:
    """The exit code the process gives for an exception that ends a run (as
    recover.cli.common.run_body maps it), so metadata.json never says `exit_code: null`."""
    if isinstance(exc, KeyboardInterrupt):
        return exit_code_of(exc)
    if isinstance(exc, RecoverError):
        return int(exc.exit_code)
    translated = translate_aws_error(exc)
    return int(translated.exit_code if translated is not None else ExitCode.ERROR)


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
        self._lock = threading.RLock()
        self.secrets = SecretBook()
        self._redactor = self.secrets.redactor()
        # Reads a stack's template (by stack id) so its NoEcho parameters are known before a
        # snapshot of the stack is written; set by recover.run.services.open_evidence.
        self.template_reader: Callable[[str], Any] | None = None
        self._templates: dict[str, str | None] = {}  # stack id -> None or why it was unread
        self.journal = Journal(self.dir / "journal.jsonl", clock, scrub=self.scrub,
                               lock=self._lock)
        append_private(self.journal.path, b"")
        self._write_metadata(outcome="running")

    @staticmethod
    def _create(root: Path, name: str) -> Path:
        try:
            private_dir(root, parents=True)
            path = root / name
            n = 1
            while path.exists():  # two runs in the same second
                n += 1
                path = root / f"{name}-{n}"
            return private_dir(path, exist_ok=False)
        except OSError as exc:
            raise RecoverError(f"cannot write the evidence folder under {root}: {exc.strerror}",
                               code="evidence_dir_unwritable",
                               hint="pass --evidence-dir with a writable folder") from exc

    # -- redaction at write time
    def learn(self, *objs: Any) -> None:
        """Learn secrets from JSON-like values or text; when something new is learned, the
        files already written are searched again and rewritten without it."""
        with self._lock:
            names = len(self.secrets.noecho_names)
            grew = self.secrets.learn(objs)
            if len(self.secrets.noecho_names) > names:  # values of new names, written earlier
                self.secrets.learn(self._written_texts().values())
                grew = True
            if grew:
                counts = self._redactor.counts
                self._redactor = self.secrets.redactor()
                self._redactor.counts.update(counts)
                self._rescrub()

    def scrub(self, value: Any) -> Any:
        """`value` as JSON data, with every secret known (or learned from it) redacted."""
        plain = json.loads(dumps(value, indent=None))
        with self._lock:
            self.learn(plain)
            return self._redactor.value(plain)

    def _learn_templates(self, snap: StackSnapshot) -> None:
        reader = self.template_reader
        if reader is None:
            return
        for node in snap.nodes:
            sid = node.stack_id
            if not sid or sid in self._templates:
                continue
            try:
                body = reader(sid)
                self._templates[sid] = None
            except Exception as exc:  # noqa: BLE001 - redaction then relies on the other shapes
                self._templates[sid] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            self.learn(parse_template(body) if isinstance(body, str) else body)

    def _written_texts(self) -> dict[Path, str]:
        out: dict[Path, str] = {}
        for path in sorted(self.dir.rglob("*")):
            rel = path.relative_to(self.dir)
            if not path.is_file() or path.is_symlink() or rel.parts[0] == BLOB_DIR \
                    or path.name.endswith(".tmp"):
                continue
            try:
                out[path] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        return out

    def _rescrub(self) -> None:
        for path, text in self._written_texts().items():
            clean = self._redactor.text(text)
            if clean != text:
                replace_private(path, clean.encode("utf-8"))

    def redaction_summary(self) -> dict[str, Any]:
        unread = {k: v for k, v in self._templates.items() if v}
        return {"redacted": dict(sorted(self._redactor.counts.items())),
                "noecho_parameters_known": len(self.secrets.noecho_names),
                "templates_read": len(self._templates) - len(unread),
                "templates_unread": unread}

    # -- files
    def write_json(self, name: str, value: Any) -> Path:
        if isinstance(value, StackSnapshot):
            self._learn_templates(value)
        path = self.dir / name
        with self._lock:
            replace_private(path, dumps(self.scrub(value)).encode("utf-8"))
        return path

    def write_blob(self, name: str, data: bytes) -> Path:
        """Bytes kept as they are (code objects to restore) under `artifacts/`."""
        folder = private_dir(self.dir / BLOB_DIR)
        path = folder / name
        replace_private(path, data)
        return path

    def log(self, line: str) -> None:
        with self._lock:
            self.learn(line)
            text = self._redactor.text(f"{self.clock().isoformat()} {line}\n")
            append_private(self.dir / "run.log",
                           text.encode("utf-8", errors="backslashreplace"))

    def set(self, **fields: Any) -> None:
        """Add fields to the metadata, on disk at once: a killed run never rewrites it at the
        end, and the next run reads it to resume (recover/run/resume.py)."""
        self.metadata.update(fields)
        if not getattr(self, "_finished", False):
            self._write_metadata(outcome="running")

    def _write_metadata(self, outcome: str, **extra: Any) -> None:
        meta = dict(self.metadata, outcome=outcome, **extra)
        meta["redaction"] = self.redaction_summary()
        if self._api_counter is not None:
            meta["api_calls"] = self._api_counter.as_dict()
        self.write_json("metadata.json", meta)

    def __enter__(self) -> EvidenceRun:
        return self

    def finish(self, outcome: str, exit_code: int | None = None, **extra: Any) -> None:
        """Record how the run ended. A run whose every change stopped at --dry-run ends as
        `dry-run` whatever the command would have called it (`outcome_if_applied`): nothing
        in the evidence may claim a change that was never made."""
        kinds = self.journal.kinds
        if kinds["dry_run"] and not kinds["call"] and outcome != "dry-run":
            extra["outcome_if_applied"] = outcome
            outcome = "dry-run"
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
            extra["signal"] = getattr(exc, "name", "SIGINT")  # recover.run.interrupts.Interrupted
        else:
            outcome = "failed"
            extra["error"] = exc.as_dict() if isinstance(exc, RecoverError) else {
                "code": "internal_error", "message": f"{exc_type.__name__}: {exc}"}
        if exc is not None:
            extra["exit_code"] = exit_code_for(exc)
        if isinstance(exc, RecoverError) and exc.code == "stack_not_found" and \
                not self.journal.kinds["call"] and not self.journal.kinds["dry_run"]:
            # a mistyped stack name: nothing was read or done, so no folder is left behind
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        self._write_metadata(outcome=outcome, ended_at=self.clock().isoformat(), **extra)
