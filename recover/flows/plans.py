"""What every `recover apply` does before it runs anything: the plan's preconditions still
hold against a fresh snapshot, and its uploads still read the exact bytes that were reviewed."""

from __future__ import annotations

from rich.console import Console

from recover.act.calls import Call
from recover.act.plan import Plan, precondition_changes, preconditions_of
from recover.errors import InputError, PreconditionChangedError
from recover.flows.render import show_calls
from recover.model.stack import StackSnapshot


def checked_calls(console: Console, plan: Plan, snap: StackSnapshot, replan: str) -> list[Call]:
    """The plan's calls, ready to run; raises if the stack moved or a plan file changed.
    `replan` is the command that makes a fresh plan (named in the error's hint)."""
    changes = precondition_changes(plan.preconditions, preconditions_of(snap))
    if changes:
        raise PreconditionChangedError("the stack changed since the plan was made: "
                                       + "; ".join(changes), hint=f"plan again: {replan}")
    try:
        calls = [c.with_blobs_loaded() for c in plan.calls]
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot run the plan: {exc}") from exc
    show_calls(console, calls, f"Plan made {plan.created_at:%Y-%m-%d %H:%M:%SZ} for {plan.stack}:")
    return calls
