"""What a runbook declares about itself, in one place (its folder's `__init__.py`).

Every table that used to list the runbooks by hand is derived from these declarations through
the registry (recover.runbooks): the CLI's commands, `recover apply`'s appliers, the operations
a plan file may hold, the failure modes each runbook answers, the order `diagnose` chooses in,
the sandbox scenarios each must recover, and the test that ties a runbook to the calls it builds.

A spec is plain data plus dotted paths ("package.module:name") to the code, so reading the
registry imports no AWS SDK, no prompt library and no flow: `recover --help` stays instant.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Where an action sits in a recovery: gather → decide → act → follow → record (docs/explanation/design.md#gather-decide-act);
# "flow" moves to another runbook.
PHASES = ("gather", "decide", "act", "follow", "record", "flow")

# What no call site declares: CloudFormation is handed the stack's service role.
PASS_ROLE = ("iam:PassRole",)


@dataclass(frozen=True)
class ActionSpec:
    id: str
    title: str
    phase: str
    # Where its calls are made ("module:function" or "module:Class"): what they declare
    # (recover.act.needs) is what the action needs.
    uses: tuple[str, ...] = ()
    # The changes it makes (service, Operation): their IAM actions.
    ops: tuple[tuple[str, str], ...] = ()
    # What no call site declares: iam:PassRole (CloudFormation is handed the stack's role).
    extra: tuple[str, ...] = ()

    @property
    def permissions(self) -> tuple[str, ...]:
        return _permissions(self)

    @property
    def mutating(self) -> bool:
        return self.phase == "act"

    @property
    def calls_aws(self) -> bool:
        """False for pure decisions, local bookkeeping and hand-overs."""
        return bool(self.uses or self.ops or self.extra)


@functools.cache
def _permissions(spec: ActionSpec) -> tuple[str, ...]:
    from recover.act.needs import actions_for_operation, declared, union

    return tuple(union([*(declared(load(u)) for u in spec.uses),
                        *(actions_for_operation(s, o) for s, o in spec.ops), spec.extra]))


@dataclass(frozen=True)
class RunbookSpec:
    # The runbook's id is also its command: `recover <id>` and `runbooks/<id>.yaml`.
    id: str
    # Earlier ids and command names, still accepted (plan files, `runbooks show`, the CLI).
    aliases: tuple[str, ...]
    # One line for `recover --help` and completion.
    help: str
    # FailureMode values (recover.explain.taxonomy) this runbook answers: a finding of one of these
    # modes points to this runbook.
    failure_modes: tuple[str, ...]
    # The mutating (service, Operation) calls its plans may hold: all it may ever change.
    operations: frozenset[tuple[str, str]]
    # Modules (paths from the repository root) that build those calls: a test holds the two
    # together, so an operation cannot be added in code without being declared here.
    builders: tuple[str, ...]
    # "module:attribute" of the click command.
    command: str
    # "module:function" that `recover apply` calls with a checked plan (None: no plan files).
    applier: str | None = None
    # "module:NAME" of the {setting: check} table `recover apply` runs on a plan's settings
    # (recover/runbooks/plan_settings.py); every runbook with an applier has one.
    plan_settings: str | None = None
    # "module:function" (pure, cheap to import): given the statuses of the stack tree and the
    # findings, the reason this runbook comes first, or None. The registry's order is the
    # order in which they are asked.
    chosen_when: str | None = None
    # Sandbox scenarios this runbook recovers, and the options that decide them unattended;
    # "module:function" that `recover demo` calls as demo(rc, stack, options) -> Result.
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    demo: str | None = None
    # What `diagnose` tells the engineer to run next ({stack}: the root stack), ready to paste:
    # the dry run first, which shows every call and saves nothing but evidence.
    next_commands: tuple[str, ...] = ()
    # Modes it also gets a stack past (a skip, a retain, a retry after a fix) although they
    # point to advice first (a custom resource that failed, a missing permission).
    also_handles: tuple[str, ...] = ()
    # Runbooks this one may continue in (their permissions are needed too).
    hands_over_to: tuple[str, ...] = ()
    # The engine actions only this runbook's steps name (runbooks/<id>.yaml): what each does,
    # where its calls are made and so the IAM actions it needs. Actions several runbooks share
    # are in recover/runbooks/document/actions.py.
    actions: tuple[ActionSpec, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    def command_module(self) -> str:
        return self.command.partition(":")[0]

    def load_command(self) -> Any:
        return load(self.command)

    def load_applier(self) -> Callable[..., Any] | None:
        return load(self.applier) if self.applier else None

    def load_demo(self) -> Callable[..., Any] | None:
        return load(self.demo) if self.demo else None

    def load_chooser(self) -> Callable[..., str | None] | None:
        return load(self.chosen_when) if self.chosen_when else None


def load(path: str) -> Any:
    """The object at "package.module:attribute"."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)
