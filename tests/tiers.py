"""Test tiers: `pytest --fast` (or `python3 scripts/dev.py test --fast`) runs the unit and decide
tests only, with no server and no child process; the full suite runs everything.

Nobody marks tests by hand. At collection, a test is marked
  `e2e`        when it (or a helper or fixture it uses) starts a server on 127.0.0.1: the
               sandbox, moto's server, an http.server;
  `subprocess` when it (or a helper or fixture it uses) runs a child process: the CLI through
               `run_cli`, `subprocess`, `pexpect`.
"Uses" is read from the code: the global names a test function refers to, followed through the
module-level functions, fixtures and nested functions it reaches. `--fast` deselects both marks.

On pytest-xdist workers (scripts/dev.py passes `-n`), the slow tiers run first, so the last
tests handed out are short ones. (Grouping the tests of a module-scoped fixture on one worker,
`--dist loadgroup`, does nothing with pytest 9.2 and xdist 3.8: pytest-xdist issue #1386; such
a fixture is built once per worker that runs its tests; tests/once.py builds an expensive
read-only input once per session instead.)

What the reading misses, the guard catches: under `--fast`, listening on a socket or starting a
process fails the test with a message that says which mark to add. So a server test can never
slip into the fast tier unnoticed; mark it with `@pytest.mark.e2e` (or `subprocess`) by hand only
if the failure asks for it.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import types
from collections.abc import Callable, Generator, Iterable
from typing import Any

import pytest

# A global name that means "this code starts a server" / "this code starts a process".
SERVER_NAMES = frozenset({"start_sandbox", "ThreadedMotoServer", "make_server", "HTTPServer",
                          "ThreadingHTTPServer", "TCPServer", "ThreadingTCPServer"})
PROCESS_NAMES = frozenset({"run_cli", "subprocess", "pexpect", "Popen"})
FAST_MARKS = ("e2e", "subprocess")
_FAST = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true", default=False,
                     help="the fast tier: unit and decide tests, no server, no child process")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_FAST] = bool(config.getoption("--fast"))
    # The first platform.uname() in a process runs `uname -p` (then it is cached); evidence
    # metadata asks for it, so ask now, before the guard below refuses child processes.
    platform.platform()


def _top(module: str | None) -> str:
    return (module or "").split(".")[0]


def names_reached(funcs: Iterable[Callable[..., Any]]) -> set[str]:
    """Every global name the functions refer to, following the module-level functions (and the
    functions nested in them) of the test suite: the `tests` package and the test modules'
    own packages, not recover or third-party code."""
    seen: set[types.CodeType] = set()
    names: set[str] = set()
    todo: list[tuple[types.CodeType, dict[str, Any]]] = []
    suite = {"tests"}
    for f in funcs:
        f = getattr(f, "__wrapped__", f)
        if isinstance(f, types.FunctionType):
            todo.append((f.__code__, f.__globals__))
            if _top(f.__module__) != "recover":
                suite.add(_top(f.__module__))
    while todo:
        code, glb = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        names.update(code.co_names)
        todo.extend((c, glb) for c in code.co_consts if isinstance(c, types.CodeType))
        for name in code.co_names:
            target = getattr(glb.get(name), "__wrapped__", glb.get(name))
            if isinstance(target, types.FunctionType) and _top(target.__module__) in suite:
                todo.append((target.__code__, target.__globals__))
    return names


def _test_functions(item: pytest.Item) -> list[Callable[..., Any]]:
    funcs: list[Callable[..., Any]] = []
    if isinstance(item, pytest.Function):
        funcs.append(item.function)
        info = getattr(item, "_fixtureinfo", None)
        for defs in (info.name2fixturedefs.values() if info else ()):
            funcs.extend(d.func for d in defs)
    return funcs


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        reached = names_reached(_test_functions(item))
        if reached & SERVER_NAMES:
            item.add_marker(pytest.mark.e2e)
        if reached & PROCESS_NAMES:
            item.add_marker(pytest.mark.subprocess)
    if hasattr(config, "workerinput"):
        # On xdist workers (every worker sorts alike): the slow tiers first, so the last tests
        # handed out are short ones that fill the gaps rather than a long one nobody waits for.
        items.sort(key=lambda i: 0 if i.get_closest_marker("e2e") else
                   1 if i.get_closest_marker("subprocess") else 2)
    if not config.stash[_FAST]:
        return
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        slow = any(item.get_closest_marker(m) for m in FAST_MARKS)
        (dropped if slow else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def in_fast_tier(config: pytest.Config) -> bool:
    return config.stash.get(_FAST, False)


def _refuse(what: str, mark: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        pytest.fail(f"this test {what} under --fast (the fast tier has no servers and no child "
                    f"processes): mark it @pytest.mark.{mark} (see tests/tiers.py)", pytrace=True)
    return refuse


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, object, object]:
    """Under --fast, a test that listens on a socket or starts a process fails (setup, call and
    teardown alike, so a module-scoped server fixture is caught too)."""
    if not in_fast_tier(item.config):
        return (yield)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "listen", _refuse("starts a server", "e2e"))
        mp.setattr(subprocess.Popen, "__init__", _refuse("starts a child process", "subprocess"))
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp"):
            if hasattr(os, name):
                mp.setattr(os, name, _refuse("starts a child process", "subprocess"))
        return (yield)
