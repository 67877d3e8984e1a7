"""Build an expensive, read-only test input once per test session, not once per xdist worker.

`--dist load` hands the tests of one module to every worker, so a module-scoped fixture is built
on each worker that runs any of its tests (pytest-xdist's `loadgroup` does not group them with
pytest 9.2 / xdist 3.8, see tests/tiers.py). `once(factory, key, build)` runs `build()` in the
first worker that asks for `key` and pickles the result into the session's shared temporary
folder; the other workers wait on a file lock and read it. Without xdist it simply builds.

Only for results the tests read and never change (outcomes of CLI runs, generated files).
A build that raises is not cached: the next worker to ask builds again (and fails alike).
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def session_dir(factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this pytest session shares (each worker's basetemp is a
    `popen-gwN` folder inside the controller's)."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "built-once"
    folder.mkdir(exist_ok=True)
    return folder


def _built(folder: Path, key: str) -> Path:
    return folder / f"{key}.pickle"


def _build_into(folder: Path, key: str, build: Callable[[], T]) -> T:
    value = build()
    partial = folder / f"{key}.partial"
    partial.write_bytes(pickle.dumps(value))
    partial.replace(_built(folder, key))
    return value


def once(factory: pytest.TempPathFactory, key: str, build: Callable[[], T],
         meanwhile: Mapping[str, Callable[[], object]] | None = None) -> T:
    """`build()`'s result for `key`, built by one worker of the session and shared.

    While another worker is building `key`, this one builds what it can of `meanwhile` (other
    keys the same tests will ask for, nobody building them yet) rather than wait idle."""
    folder = session_dir(factory)
    with open(folder / f"{key}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            for other, other_build in (meanwhile or {}).items():
                if other != key:
                    _build_if_free(folder, other, other_build)
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _built(folder, key).exists():
            return pickle.loads(_built(folder, key).read_bytes())
        return _build_into(folder, key, build)


def _build_if_free(folder: Path, key: str, build: Callable[[], object]) -> None:
    with open(folder / f"{key}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another worker is building it
        if not _built(folder, key).exists():
            _build_into(folder, key, build)


def selected(request: pytest.FixtureRequest, param: str) -> set[object]:
    """The values of parametrize argument `param` among this session's selected tests: of the
    requesting test's function, or of the requesting module for a module-scoped fixture (so
    `meanwhile` builds only what the selected tests will ask for; every xdist worker collects
    and deselects alike)."""
    function = request.node.originalname if isinstance(request.node, pytest.Function) else None
    return {item.callspec.params[param] for item in request.session.items
            if isinstance(item, pytest.Function) and item.module is request.module
            and function in (None, item.originalname)
            and hasattr(item, "callspec") and param in item.callspec.params}
