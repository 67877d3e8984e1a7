"""Write a bundle: a zip (default) or a folder, with MANIFEST.sha256 covering every file.

Files are created readable by their owner only (0600, folders 0700) whatever the umask; an
existing path is never overwritten (the zip is written beside its target and hard-linked into
place, which fails if the name was taken meanwhile).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath

from recover.errors import UsageError
from recover.private_files import FILE_MODE, create_private, open_private_new, private_dir

MANIFEST = "MANIFEST.sha256"


def manifest(files: dict[str, bytes]) -> bytes:
    """`sha256sum` format: `<hex>  <path>` per line, sorted by path."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                   for name, data in sorted(files.items()) if name != MANIFEST).encode()


def verify_manifest(root: Path) -> list[str]:
    """Problems found re-hashing a bundle folder against its manifest (empty: it verifies),
    including files the manifest does not list."""
    problems: list[str] = []
    listed: set[str] = set()
    for line in (root / MANIFEST).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        path = root / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"changed: {name}")
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MANIFEST and rel not in listed:
            problems.append(f"not in the manifest: {rel}")
    return problems


def _check_names(files: dict[str, bytes]) -> None:
    for name in files:
        p = PurePosixPath(name)
        if p.is_absolute() or ".." in p.parts or not name:
            raise ValueError(f"unsafe bundle path {name!r}")


def _with_manifest(files: dict[str, bytes], out: Path) -> dict[str, bytes]:
    """The files plus their manifest, once `out` is known to be new and its folder to exist."""
    if out.exists():
        raise UsageError(f"{out} already exists; pick another --out (a bundle never overwrites)")
    if not out.parent.is_dir():
        raise UsageError(f"folder {out.parent} does not exist")
    _check_names(files)
    return {**files, MANIFEST: manifest(files)}


def write_dir(files: dict[str, bytes], out: Path) -> Path:
    all_files = _with_manifest(files, out)
    try:
        private_dir(out, exist_ok=False)
        for name, data in sorted(all_files.items()):
            path = out / name
            for parent in reversed(path.relative_to(out).parents[:-1]):
                private_dir(out / parent)
            create_private(path, data)
    except OSError as exc:
        raise UsageError(f"cannot write the bundle to {out}: {exc.strerror}") from exc
    return out


def write_zip(files: dict[str, bytes], out: Path, when: datetime) -> Path:
    """A zip whose entries sit in one top folder named after the zip, with 0600 entries."""
    all_files = _with_manifest(files, out)
    top = out.name[:-4] if out.name.endswith(".zip") else out.name
    stamp = when.timetuple()[:6]
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        fd = open_private_new(tmp)
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in sorted(all_files.items()):
                info = zipfile.ZipInfo(f"{top}/{name}", date_time=stamp)  # type: ignore[arg-type]
                info.external_attr = (0o100000 | FILE_MODE) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        os.link(tmp, out)
    except FileExistsError as exc:
        raise UsageError(f"{out} already exists; pick another --out") from exc
    except OSError as exc:
        raise UsageError(f"cannot write the bundle to {out}: {exc.strerror}") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
