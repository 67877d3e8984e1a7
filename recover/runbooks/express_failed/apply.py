"""`recover apply` for express-failed plans: send exactly the saved EXPRESS UpdateStack if the
stack has not moved since the plan was made, then follow it to UPDATE_COMPLETE."""

from __future__ import annotations

from recover.act.executor import Executor
from recover.act.needs import needs_of
from recover.act.plan import Plan
from recover.aws.snapshot import take_snapshot
from recover.aws.watch import StackWatcher
from recover.run.context import RunContext
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.services import open_evidence, read_templates
from recover.runbooks.driver import read_tree, recheck
from recover.runbooks.express_failed.flow import DONE, render_done
from recover.runbooks.follow import follow
from recover.runbooks.plan_settings import TIMING, Check, mapping, opt_str, str_list
from recover.runbooks.plans import checked_calls
from recover.ui import prompts

# What `recover apply` checks in an express-failed plan's settings (recover/runbooks/plan_check.py).
PLAN_SETTINGS: dict[str, Check] = {
    **TIMING, "source": opt_str,
    "undone": mapping({k: str_list for k in ("changed", "added", "removed", "parameters")})}


@needs_of(take_snapshot, read_templates, StackWatcher)
def apply_plan(rc: RunContext, plan: Plan) -> Result:
    """Run the saved replay (one UpdateStack) if the stack has not moved since."""
    with open_evidence(rc, "apply", plan.stack) as ev:
        ev.write_json("plan.json", plan.to_dict())
        snap = read_tree(rc, plan.stack_id)
        calls, reached = checked_calls(rc, ev, plan, snap, f"recover express-failed {plan.stack}")
        prompts.confirm_or_abort(rc, ev.journal, f"Run these {len(calls)} call(s)?")
        executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
        for i, call in enumerate(calls):
            if i in reached:
                continue
            recheck(lambda s: read_tree(rc, s), plan.stack_id, snap)
            executor.run(call)
        replay = {"source": plan.settings.get("source"), "undone": plan.settings.get("undone")}
        if rc.options.dry_run or not plan.settings.get("wait", True):
            status = snap.root.info.status if rc.options.dry_run else "UPDATE_IN_PROGRESS"
            ev.finish(status, 0)
            return Result(command="apply", data={
                "final_status": status, "dry_run": rc.options.dry_run, "runbook": plan.runbook,
                "replay": replay, "calls": [c.to_dict() for c in calls],
                "evidence_dir": str(ev.dir)})
        watch = follow(rc, snap, timeout=float(plan.settings.get("timeout", 3600)),
                       poll_interval=float(plan.settings.get("poll_interval", 3.0)))
        code = ExitCode.OK if watch.final_status == DONE else ExitCode.FAILURE_FOUND
        ev.finish(watch.final_status, int(code))
        replay["new_failures"] = sorted(
            f"{e.stack_name}.{e.logical_id}: {e.reason}" for e in watch.events
            if e.status.endswith("_FAILED") and e.logical_id != e.stack_name)
        data = {"final_status": watch.final_status, "timed_out": watch.timed_out,
                "runbook": plan.runbook, "replay": replay,
                "calls": [c.to_dict() for c in calls], "evidence_dir": str(ev.dir),
                "api_calls": rc.aws.counter.as_dict()}
        return Result(command="apply", data=data, exit_code=code, human=render_done)
