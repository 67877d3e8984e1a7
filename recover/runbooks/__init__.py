"""Runbooks: one folder per runbook (its spec in `__init__.py`, its command, flow and plan
applier beside it), the round driver they share, and the registry below.

The registry is the one list of runbooks. The CLI's commands, `recover apply`'s appliers, the
operations a plan may hold, the runbook each failure mode points to, `diagnose`'s choice and the
demo's scenarios are all read from it. Adding a runbook is its folder plus one line here
(docs/explanation/design.md, "Adding a runbook").
"""

from __future__ import annotations

import functools
import importlib

from recover.runbooks.spec import RunbookSpec

# In the order `diagnose` asks them whether they come first: a missing service role blocks
# every other operation; missing code objects must be restored before a rollback continues.
RUNBOOKS = ("bootstrap_role", "artifacts", "rollback_stuck", "delete_failed", "express_failed",
            "custom_resource", "reconcile")


@functools.cache
def registry() -> tuple[RunbookSpec, ...]:
    return tuple(importlib.import_module(f"{__name__}.{name}").SPEC for name in RUNBOOKS)


def find(name: str) -> RunbookSpec | None:
    """The runbook with this id or alias (an earlier id or command name)."""
    return next((s for s in registry() if name in s.names), None)


def ids() -> list[str]:
    return [s.id for s in registry()]


def canonical(name: str) -> str:
    """The current id for an id or alias; an unknown name is returned as given."""
    spec = find(name)
    return spec.id if spec else name


def for_mode(failure_mode: str) -> str | None:
    """The runbook that answers this failure mode by itself, if any."""
    return next((s.id for s in registry() if str(failure_mode) in s.failure_modes), None)


def for_scenario(scenario: str) -> RunbookSpec | None:
    return next((s for s in registry() if scenario in s.scenarios), None)
