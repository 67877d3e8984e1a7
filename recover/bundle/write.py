"""Write a bundle: a zip (default) or a folder, with MANIFEST.sha256 covering every file.

Files are created readable by their owner only (0600, folders 0700) whatever the umask; an
existing path is never overwritten (the zip is written beside its target and hard-linked into
place, which fails if the name was taken meanwhile).

A bundle is written as a stream: a sink takes one file at a time as chunks of bytes
(`ZipSink`, `DirSink`, `MemorySink`), hashes them on the way and writes the manifest last, so
no file needs to be whole in memory (recover.bundle.document.stream_bundle).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from recover.run.errors import UsageError
from recover.run.private_files import FILE_MODE, create_private, open_private_new, private_dir

MANIFEST = "MANIFEST.sha256"
BLOCK = 256 * 1024


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


def _check_name(name: str) -> None:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not name:
        raise ValueError(f"unsafe bundle path {name!r}")


class Sink:
    """Where a streamed bundle goes: `write(name, chunks)` one file after the other, then
    `close()` adds MANIFEST.sha256 (each file's sha256, taken while it was written)."""

    def __init__(self) -> None:
        self.digests: dict[str, str] = {}

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        _check_name(name)
        if name in self.digests or name == MANIFEST:
            raise ValueError(f"bundle path {name!r} written twice")
        digest = hashlib.sha256()

        def hashed() -> Iterable[bytes]:
            # lines gathered into blocks: one hash, zip and write call per block
            block: list[bytes] = []
            size = 0
            for chunk in chunks:
                if chunk:
                    block.append(chunk)
                    size += len(chunk)
                    if size >= BLOCK:
                        data = b"".join(block)
                        digest.update(data)
                        yield data
                        block, size = [], 0
            if block:
                data = b"".join(block)
                digest.update(data)
                yield data

        self._write(name, hashed())
        self.digests[name] = digest.hexdigest()

    def names(self) -> list[str]:
        return sorted([*self.digests, MANIFEST])

    def manifest(self) -> bytes:
        return "".join(f"{d}  {n}\n" for n, d in sorted(self.digests.items())).encode()

    def close(self) -> Path | None:
        self._write(MANIFEST, iter([self.manifest()]))
        return self._finish()

    def abort(self) -> None:
        """Remove whatever was written (an error half-way): never a half bundle on disk."""

    def _write(self, name: str, chunks: Iterable[bytes]) -> None:
        raise NotImplementedError

    def _finish(self) -> Path | None:
        return None


class MemorySink(Sink):
    """The files in memory (`files`), for small bundles and tests."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    def _write(self, name: str, chunks: Iterable[bytes]) -> None:
        if name != MANIFEST:
            self.files[name] = b"".join(chunks)


def _check_target(out: Path) -> None:
    if out.exists():
        raise UsageError(f"{out} already exists; pick another --out (a bundle never overwrites)")
    if not out.parent.is_dir():
        raise UsageError(f"folder {out.parent} does not exist")


class DirSink(Sink):
    def __init__(self, out: Path) -> None:
        super().__init__()
        _check_target(out)
        self.out = out
        try:
            private_dir(out, exist_ok=False)
        except OSError as exc:
            raise UsageError(f"cannot write the bundle to {out}: {exc.strerror}") from exc

    def _write(self, name: str, chunks: Iterable[bytes]) -> None:
        path = self.out / name
        try:
            for parent in reversed(path.relative_to(self.out).parents[:-1]):
                private_dir(self.out / parent)
            fd = open_private_new(path)
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
        except OSError as exc:
            raise UsageError(f"cannot write the bundle to {self.out}: {exc.strerror}") from exc

    def _finish(self) -> Path:
        return self.out

    def abort(self) -> None:
        import shutil

        shutil.rmtree(self.out, ignore_errors=True)


class ZipSink(Sink):
    """A zip whose entries sit in one top folder named after the zip, with 0600 entries,
    written beside the target and hard-linked into place by `close`."""

    def __init__(self, out: Path, when: datetime) -> None:
        super().__init__()
        _check_target(out)
        self.out = out
        self._top = out.name[:-4] if out.name.endswith(".zip") else out.name
        self._stamp = when.timetuple()[:6]
        self._tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            self._fh: BinaryIO = os.fdopen(open_private_new(self._tmp), "wb")
        except OSError as exc:
            raise UsageError(f"cannot write the bundle to {out}: {exc.strerror}") from exc
        self._zf = zipfile.ZipFile(self._fh, "w", zipfile.ZIP_DEFLATED)

    def _write(self, name: str, chunks: Iterable[bytes]) -> None:
        info = zipfile.ZipInfo(f"{self._top}/{name}", date_time=self._stamp)  # type: ignore[arg-type]
        info.external_attr = (0o100000 | FILE_MODE) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        try:
            with self._zf.open(info, "w") as entry:
                for chunk in chunks:
                    entry.write(chunk)
        except OSError as exc:
            self.abort()
            raise UsageError(f"cannot write the bundle to {self.out}: {exc.strerror}") from exc

    def _finish(self) -> Path:
        try:
            self._zf.close()
            self._fh.close()
            os.link(self._tmp, self.out)
        except FileExistsError as exc:
            raise UsageError(f"{self.out} already exists; pick another --out") from exc
        except OSError as exc:
            raise UsageError(f"cannot write the bundle to {self.out}: {exc.strerror}") from exc
        finally:
            self._tmp.unlink(missing_ok=True)
        return self.out

    def abort(self) -> None:
        try:
            self._zf.close()
            self._fh.close()
        except (OSError, ValueError):
            pass
        self._tmp.unlink(missing_ok=True)
