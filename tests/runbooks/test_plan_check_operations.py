"""Each runbook declares the operations its plans may hold (its spec's `operations`, which
plan_check.OPERATIONS reads): tie the declaration to the calls its code really builds (every
`Call("<service>", "<Operation>", ...)` in the modules its spec names as `builders`), both ways."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from recover.runbooks import registry
from recover.runbooks.plan_check import OPERATIONS
from tests.conftest import REPO

# runbook -> the modules that build its calls, as its spec declares them
BUILDERS = {spec.id: list(spec.builders) for spec in registry()}


def built_calls(path: Path) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "Call" and len(node.args) >= 2:
            service, operation = node.args[0], node.args[1]
            assert isinstance(service, ast.Constant) and isinstance(operation, ast.Constant), \
                f"{path}:{node.lineno}: a Call whose operation is not a literal cannot be checked"
            out.add((service.value, operation.value))
    return out


def test_every_module_that_builds_calls_is_listed() -> None:
    listed = {m for modules in BUILDERS.values() for m in modules}
    building = {str(p.relative_to(REPO)) for p in (REPO / "recover").rglob("*.py")
                if p.name != "calls.py" and built_calls(p)}
    assert building <= listed, f"modules building calls not tied to a runbook: {building - listed}"


@pytest.mark.parametrize("runbook", list(BUILDERS))
def test_plan_check_allows_exactly_what_the_runbook_builds(runbook: str) -> None:
    built = set().union(*(built_calls(REPO / m) for m in BUILDERS[runbook]))
    assert built == set(next(s for s in registry() if s.id == runbook).operations)
    assert runbook not in OPERATIONS or OPERATIONS[runbook] == built
