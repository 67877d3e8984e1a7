"""`recover apply` for delete-failed plans: run exactly the saved calls (empty the chosen
buckets, then each DeleteStack, deepest child first, followed to its end) if the stack has not
moved since the plan was made, and record the plan's orphans in the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recover.act.executor import Executor
from recover.act.needs import needs_of
from recover.act.plan import Plan
from recover.aws.snapshot import take_snapshot
from recover.aws.watch import StackWatcher
from recover.model.blockers import BucketContents
from recover.model.stack import StackEvent
from recover.orphans import ledger
from recover.run.context import RunContext
from recover.run.errors import AbortedError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.services import open_evidence, read_templates
from recover.runbooks.delete_failed.flow import (
    DONE,
    ask_empty,
    recheck_step,
    run_delete_objects,
)
from recover.runbooks.driver import read_tree
from recover.runbooks.follow import follow
from recover.runbooks.plan_settings import (
    COUNT,
    STR,
    TIMING,
    Check,
    mapping,
    objects,
    opt_str,
    str_list,
)
from recover.runbooks.plans import checked_calls
from recover.ui import prompts

# What `recover apply` checks in a delete-failed plan's settings (recover/runbooks/plan_check.py).
PLAN_SETTINGS: dict[str, Check] = {
    **TIMING,
    "steps": objects({"stack_id": STR, "stack_name": STR, "retain": str_list}),
    "empty_buckets": objects({"bucket": STR, "objects": COUNT, "versions": COUNT,
                              "delete_markers": COUNT}),
    "orphans": objects({"id": STR, "retained_at": STR,
                        "left_stack": mapping({"stack_id": STR, "name": STR, "root": STR})}),
    "ledger": opt_str,
}


@needs_of(take_snapshot, read_templates, recheck_step, StackWatcher)
def apply_plan(rc: RunContext, plan: Plan) -> Result:
    """`recover apply`: run exactly the saved plan if the stack has not moved since. A plan that
    empties buckets needs each bucket's name again (typed, or `apply --empty-bucket NAME`)."""
    with open_evidence(rc, "apply", plan.stack) as ev:
        ev.write_json("plan.json", plan.to_dict())
        snap = read_tree(rc, plan.stack_id)
        calls, reached = checked_calls(rc, ev, plan, snap, f"recover delete-failed {plan.stack}")
        flagged = set(plan.settings.get("apply_empty_buckets") or [])
        for b in plan.settings.get("empty_buckets") or []:
            name = b["bucket"]
            if name in flagged:
                continue
            contents = BucketContents(name, b["objects"], b["versions"], b["delete_markers"])
            if not ask_empty(rc, ev, contents, name):
                raise AbortedError(f"bucket {name} not confirmed: nothing was changed")
        prompts.confirm_or_abort(rc, ev.journal, f"Run these {len(calls)} call(s)?")
        executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
        ledger_path = ledger.resolve(Path(plan.settings["ledger"])
                                     if plan.settings.get("ledger") else None)
        records = [dict(r, run_id=ev.run_id, evidence_dir=str(ev.dir))
                   for r in plan.settings.get("orphans") or []]
        steps = {s["stack_id"]: s for s in plan.settings.get("steps") or []}
        final_status = snap.root.info.status
        recorded: list[dict[str, Any]] = []
        shown: list[StackEvent] = []
        for i, call in enumerate(calls):
            if call.operation == "DeleteObjects":
                if i not in reached:
                    run_delete_objects(executor, call)
                continue
            sid = call.params["StackName"]
            step = steps.get(sid, {"stack_name": sid, "retain": []})
            # A DeleteStack the earlier apply sent is not sent again: it is followed and its
            # orphans recorded like the others.
            if i not in reached:
                if not rc.options.dry_run:
                    recheck_step(rc, sid, step["stack_name"], list(step["retain"]))
                executor.run(call)
            if rc.options.dry_run or not plan.settings.get("wait", True):
                final_status = snap.root.info.status if rc.options.dry_run else \
                    "DELETE_IN_PROGRESS"
                if not rc.options.dry_run:
                    break
                continue
            watch = follow(rc, snap, timeout=float(plan.settings.get("timeout", 3600)),
                           poll_interval=float(plan.settings.get("poll_interval", 3.0)),
                           stack_id=sid, seen=shown)
            shown.extend(watch.events)
            final_status = watch.final_status
            mine = [r for r in records if r["left_stack"]["stack_id"] == sid]
            for r in mine:
                r["state"] = "retained" if final_status == DONE else \
                    f"retain requested; stack ended {final_status}"
            if mine:
                ledger.record(ledger_path, mine)
                recorded.extend(mine)
            if final_status != DONE:
                break
        if recorded:
            ev.write_json("orphans.json", recorded)
        ok = final_status == DONE or rc.options.dry_run or not plan.settings.get("wait", True)
        code = ExitCode.OK if ok else ExitCode.FAILURE_FOUND
        ev.finish(final_status, int(code))
        data = {"final_status": final_status, "dry_run": rc.options.dry_run,
                "runbook": plan.runbook, "calls": [c.to_dict() for c in calls],
                "orphans": recorded, "ledger": str(ledger_path), "evidence_dir": str(ev.dir),
                "api_calls": rc.aws.counter.as_dict()}
        return Result(command="apply", data=data, exit_code=code)
