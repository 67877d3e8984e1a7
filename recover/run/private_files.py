"""The one place evidence folders, bundles and plan files are created: files 0600 and folders
0700 whatever the umask.

`os.open(..., mode)` and `mkdir(mode)` are filtered by the umask, and a file that already
exists keeps its mode, so every helper sets the mode explicitly (fchmod / chmod) after
creating. Reading code never needs this module; writing code under an evidence folder, a bundle
or a plan must use nothing else (tests/test_private_files.py checks the modes under umask 000
and 022, and that no other module of recover creates files there).
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path, *, parents: bool = False, exist_ok: bool = True) -> Path:
    """Create `path` (0700). Folders it creates on the way (`parents`) are 0700 too; folders
    that existed before are left as they are (they may be the user's own, like `.`)."""
    path = Path(path)
    missing: list[Path] = []
    if parents:
        p = path.parent
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
    for p in reversed(missing):
        p.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(p, DIR_MODE)
    existed = path.is_dir()
    path.mkdir(mode=DIR_MODE, exist_ok=exist_ok)
    if not existed:
        os.chmod(path, DIR_MODE)
    return path


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def create_private(path: Path, data: bytes) -> None:
    """Write a new file (0600); fails with FileExistsError if the name is taken."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        _write_fd(fd, data)
    finally:
        os.close(fd)


def replace_private(path: Path, data: bytes) -> None:
    """Write or rewrite a file atomically (a temporary file beside it, then rename), 0600."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        _write_fd(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)


def append_private(path: Path, data: bytes, *, fsync: bool = False) -> None:
    """Append to a file (created 0600 if new; an existing file is set to 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        _write_fd(fd, data)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def open_private_new(path: Path) -> int:
    """A file descriptor on a new file (0600), for writers that stream (the bundle's zip)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd
