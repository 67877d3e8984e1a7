"""What every `recover apply` does before it runs anything: the plan's preconditions still
hold against a fresh snapshot, and its uploads still read the exact bytes that were reviewed.
An apply of the same plan that was stopped is resumed: the calls it already got to AWS are not
sent again, and the stack having moved because of them is expected."""

from __future__ import annotations

import json
from pathlib import Path

from recover.act.calls import Call
from recover.act.plan import Plan, precondition_changes, preconditions_of
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.errors import InputError, PreconditionChangedError
from recover.run.evidence import EvidenceRun
from recover.run.resume import reached_aws, tokens_seen
from recover.run.services import resume_from
from recover.runbooks.render import show_calls


def already_applied(rc: RunContext, ev: EvidenceRun, plan: Plan, snap: StackSnapshot) -> set[int]:
    """Indexes of the plan's calls an earlier, stopped `recover apply` of this same plan got to
    AWS (recover/run/resume.py)."""
    made = plan.created_at.isoformat()

    def same_plan(d: Path) -> bool:
        try:
            saved = json.loads((d / "plan.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(saved, dict) and (saved.get("stack_id"), saved.get("created_at")) \
            == (plan.stack_id, made)

    prior = resume_from(rc, ev, accept=same_plan)
    if not prior:
        return set()
    reached = reached_aws(prior, [c.to_dict() for c in plan.calls], tokens_seen(snap))
    if reached:
        rc.progress(f"{len(reached)} of the plan's {len(plan.calls)} call(s) already reached AWS "
                    "in the earlier apply: they are not sent again")
        ev.journal.append("resume_skip", calls=sorted(reached))
    return reached


def checked_calls(rc: RunContext, ev: EvidenceRun, plan: Plan, snap: StackSnapshot,
                  replan: str) -> tuple[list[Call], set[int]]:
    """The plan's calls, ready to run, and the indexes of those an earlier, stopped apply of
    this plan already got to AWS (not to be sent again); raises if the stack moved or a plan
    file changed. `replan` is the command that makes a fresh plan (named in the error's hint).
    When calls already reached AWS the stack has moved because of us: the whole-tree
    preconditions no longer apply, and each remaining call's own check does."""
    reached = already_applied(rc, ev, plan, snap)
    changes = [] if reached else precondition_changes(plan.preconditions, preconditions_of(snap))
    if changes:
        raise PreconditionChangedError("the stack changed since the plan was made: "
                                       + "; ".join(changes), hint=f"plan again: {replan}")
    try:
        calls = [c.with_blobs_loaded() for c in plan.calls]
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot run the plan: {exc}") from exc
    show_calls(rc.console, calls,
               f"Plan made {plan.created_at:%Y-%m-%d %H:%M:%SZ} for {plan.stack}:")
    return calls, reached
