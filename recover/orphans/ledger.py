"""The orphan ledger: one JSON file that accumulates every retained resource across runs, and
every resource a rollback skipped (entries of kind `skipped`, open until `recover reconcile`
finds the resource in sync with its template: recover/decide/reconcile.py).

Location (first that applies): `--ledger PATH`, the RECOVER_ORPHAN_LEDGER environment
variable, else `<user data dir>/recover/orphans.json` where the data dir is $XDG_DATA_HOME,
or ~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows, else ~/.local/share.

Writes are atomic (temporary file in the same folder, fsync, os.replace) under an exclusive
lock on a sibling `.lock` file, so two runs never lose each other's entries and a crash never
leaves a torn ledger. An entry recorded again (same id: same account, region, stack, logical
and physical id) is updated in place, keeping its first `retained_at`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from recover.run.errors import InputError, NotFoundError
from recover.run.result import dumps

LEDGER_VERSION = 1
ENV_VAR = "RECOVER_ORPHAN_LEDGER"


def default_ledger_path() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    if os.environ.get("XDG_DATA_HOME"):
        base = Path(os.environ["XDG_DATA_HOME"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path.home() / ".local" / "share"
    return base / "recover" / "orphans.json"


def resolve(path: Path | None) -> Path:
    return path.expanduser() if path else default_ledger_path()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: os.replace stays atomic, no lock
            pass
        yield
    finally:
        os.close(fd)  # closing releases the flock


def load(path: Path) -> dict[str, Any]:
    """The ledger (an empty one when the file does not exist yet)."""
    if not path.exists():
        return {"ledger_version": LEDGER_VERSION, "orphans": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the orphan ledger {path}: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise InputError(f"the orphan ledger {path} is not valid JSON ({exc}); it was not "
                         "changed: move it aside to start a new one") from exc
    if not isinstance(data, dict) or not isinstance(data.get("orphans"), list):
        raise InputError(f"the orphan ledger {path} is malformed (no 'orphans' list)")
    if data.get("ledger_version") != LEDGER_VERSION:
        raise InputError(f"the orphan ledger {path} has version {data.get('ledger_version')!r}; "
                         f"this recover reads {LEDGER_VERSION}")
    return data


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (dumps(data) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    try:  # make the rename durable too
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on directories
        pass


def record(path: Path, entries: list[dict[str, Any]]) -> Path:
    """Add (or update) entries in the ledger at `path`, atomically. Returns the path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            data = load(path)
            index = {e.get("id"): i for i, e in enumerate(data["orphans"])}
            for entry in entries:
                i = index.get(entry["id"])
                if i is None:
                    index[entry["id"]] = len(data["orphans"])
                    data["orphans"].append(entry)
                else:  # keep when it was first recorded (retained, or skipped)
                    stamp = "skipped_at" if entry.get("kind") == "skipped" else "retained_at"
                    first = data["orphans"][i].get(stamp)
                    data["orphans"][i] = dict(entry, **{stamp: first or entry.get(stamp)})
            _write_atomic(path, data)
    except OSError as exc:
        raise InputError(f"cannot write the orphan ledger {path}: {exc.strerror or exc}",
                         hint=f"pass --ledger PATH or set {ENV_VAR}") from exc
    return path


def update(path: Path, entry_id: str, **fields: Any) -> dict[str, Any] | None:
    """Change fields of one entry in place, atomically (closing a skip). None: no such entry."""
    try:
        with _locked(path):
            data = load(path)
            for entry in data["orphans"]:
                if entry.get("id") == entry_id:
                    entry.update(fields)
                    _write_atomic(path, data)
                    return entry
    except OSError as exc:
        raise InputError(f"cannot write the orphan ledger {path}: {exc.strerror or exc}",
                         hint=f"pass --ledger PATH or set {ENV_VAR}") from exc
    return None


def find(data: dict[str, Any], key: str) -> dict[str, Any]:
    """One entry by id (or unique id prefix), physical id, ARN or logical id."""
    orphans = data["orphans"]
    exact = [e for e in orphans if key in (e.get("id"), e.get("physical_id"), e.get("arn"))]
    if not exact:
        exact = [e for e in orphans if str(e.get("id", "")).startswith(key)
                 or e.get("logical_id") == key]
    if not exact:
        raise NotFoundError(f"no orphan {key!r} in the ledger", code="orphan_not_found",
                            hint="recover orphans list")
    if len(exact) > 1:
        ids = ", ".join(e["id"] for e in exact)
        raise InputError(f"{key!r} matches several orphans ({ids}): use the id")
    return exact[0]
