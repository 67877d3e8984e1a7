"""`recover apply` for reconcile plans: create exactly the saved REVERT_DRIFT change set if the
stack has not moved since the plan was made, show what it changes, execute it when the plan
says so (the plan was made with --execute), follow the update. The skips close in the ledger
on the next `recover reconcile` (drift detection must find them in sync first)."""

from __future__ import annotations

from typing import Any

from recover.act.executor import Executor
from recover.act.needs import needs_of
from recover.act.plan import Plan
from recover.aws.drift import existing_change_set, wait_change_set
from recover.aws.snapshot import take_snapshot
from recover.aws.watch import StackWatcher
from recover.decide.reconcile import ReconcilePlan, Verdict, beyond_skips
from recover.run.context import RunContext
from recover.run.errors import RecoverError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.services import open_evidence, read_templates
from recover.runbooks.driver import read_tree, recheck
from recover.runbooks.follow import follow
from recover.runbooks.plan_settings import TIMING, Check, opt_bool
from recover.runbooks.plans import checked_calls
from recover.ui import prompts

# What `recover apply` checks in a reconcile plan's settings (recover/runbooks/plan_check.py).
PLAN_SETTINGS: dict[str, Check] = {**TIMING, "execute": opt_bool, "revert_all_drift": opt_bool}
DONE = "UPDATE_COMPLETE"


@needs_of(take_snapshot, read_templates, StackWatcher, wait_change_set, existing_change_set)
def apply_plan(rc: RunContext, plan: Plan) -> Result:
    """Run the saved CreateChangeSet (then ExecuteChangeSet) if the stack has not moved since."""
    with open_evidence(rc, "apply", plan.stack) as ev:
        ev.write_json("plan.json", plan.to_dict())
        snap = read_tree(rc, plan.stack_id)
        calls, reached = checked_calls(rc, ev, plan, snap, f"recover reconcile {plan.stack}")
        prompts.confirm_or_abort(rc, ev.journal, f"Run these {len(calls)} call(s)?")
        executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
        cfn = rc.aws.client("cloudformation")
        change_set: dict[str, Any] = {}
        for i, call in enumerate(calls):
            if call.operation == "ExecuteChangeSet" and not rc.options.dry_run:
                _check_ready(change_set)
                _check_scope(plan, change_set)
            answer: dict[str, Any] = {}
            if i not in reached:
                recheck(lambda s: read_tree(rc, s), plan.stack_id, snap)
                answer = executor.run(call)
            if call.operation == "CreateChangeSet" and not rc.options.dry_run:
                # created now, or by an earlier, stopped apply of this plan
                found = answer.get("Id") or existing_change_set(
                    cfn, call.params["ChangeSetName"], plan.stack_id)
                if not found:
                    raise RecoverError(f"the change set {call.params['ChangeSetName']} is gone",
                                       code="change_set_failed",
                                       exit_code=ExitCode.FAILURE_FOUND,
                                       hint=f"plan again: recover reconcile {plan.stack}")
                desc = wait_change_set(cfn, found, poll_interval=min(_poll(plan), 2.0))
                change_set = _shown(rc, desc)
                ev.write_json("change-set.json", desc)
        executed = any(c.operation == "ExecuteChangeSet" for c in calls)
        data: dict[str, Any] = {"runbook": plan.runbook, "change_set": change_set or None,
                                "calls": [c.to_dict() for c in calls],
                                "evidence_dir": str(ev.dir),
                                "next": [f"recover reconcile {plan.stack}"]}
        if rc.options.dry_run or not executed or not plan.settings.get("wait", True):
            status = snap.root.info.status if rc.options.dry_run or not executed \
                else "UPDATE_IN_PROGRESS"
            ev.finish(status, 0)
            return Result(command="apply", data=dict(data, final_status=status,
                                                      dry_run=rc.options.dry_run))
        watch = follow(rc, snap, timeout=float(plan.settings.get("timeout", 3600)),
                       poll_interval=_poll(plan))
        code = ExitCode.OK if watch.final_status == DONE else ExitCode.FAILURE_FOUND
        ev.finish(watch.final_status, int(code))
        rc.progress(f"run `recover reconcile {plan.stack}` to detect the drift again and close "
                    "the skips now in sync")
        return Result(command="apply", data=dict(
            data, final_status=watch.final_status, timed_out=watch.timed_out,
            api_calls=rc.aws.counter.as_dict()), exit_code=code)


def _poll(plan: Plan) -> float:
    return float(plan.settings.get("poll_interval", 3.0))


def _shown(rc: RunContext, desc: dict[str, Any]) -> dict[str, Any]:
    """Show what the change set changes before it is executed."""
    from recover.runbooks.reconcile.flow import _change

    cs = {"id": desc.get("ChangeSetId"), "name": desc.get("ChangeSetName"),
          "status": desc.get("Status"), "reason": desc.get("StatusReason"),
          "changes": [_change(c) for c in desc.get("Changes") or []]}
    rc.console.print(f"[bold]change set[/] {cs['name']}: {cs['status']}"
                     + (f" ({cs['reason']})" if cs.get("reason") else ""), highlight=False)
    for c in cs["changes"]:
        rc.console.print(f"  {c['action']:<7} {c['logical_id']} ({c['resource_type']}) drift "
                         f"{c.get('drift_status') or '-'}", highlight=False)
    return cs


def _check_scope(plan: Plan, change_set: dict[str, Any]) -> None:
    """The plan was approved before the change set existed: it may not revert drift on
    resources no skip of the plan names unless it was made with --revert-all-drift."""
    skipped = ReconcilePlan([Verdict(**d) for d in plan.decisions],
                            nested=any("." in str(d.get("target")) for d in plan.decisions))
    beyond = beyond_skips(skipped, change_set.get("changes") or [])
    if beyond and not plan.settings.get("revert_all_drift"):
        raise RecoverError(
            f"the change set {change_set.get('name')} would also revert the drift of "
            f"{', '.join(beyond)}, which no skip of the plan names; nothing was executed",
            code="needs_decision", exit_code=ExitCode.NEEDS_DECISION,
            hint=f"plan again with --revert-all-drift: recover reconcile {plan.stack} "
                 "--dry-run --execute --revert-all-drift --plan-out PLAN.json")


def _check_ready(change_set: dict[str, Any]) -> None:
    """Execute only a change set CloudFormation created: a FAILED one (nothing to change, or
    REVERT_DRIFT refused) is reported, with the command that re-plans."""
    if change_set.get("status") != "CREATE_COMPLETE":
        raise RecoverError(f"the change set {change_set.get('name')} was not created: "
                           f"{change_set.get('reason') or change_set.get('status')}",
                           code="change_set_failed", exit_code=ExitCode.FAILURE_FOUND,
                           hint="run `recover reconcile STACK` for the plain path")
