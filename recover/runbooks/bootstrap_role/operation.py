"""bootstrap-role: create the role, then run the operation it blocked (DeleteStack, hand
over to rollback-stuck, or nothing) and tell whether it finished."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.plan import precondition_changes, preconditions_of
from recover.act.retry import run_retrying
from recover.decide import role_plan as rp
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.errors import (
    PreconditionChangedError,
    RecoverError,
    translate_aws_error,
)
from recover.run.evidence import EvidenceRun
from recover.runbooks.bootstrap_role.calls import role_calls
from recover.runbooks.bootstrap_role.roles import BootstrapRoleOptions, snapshot
from recover.runbooks.follow import follow


def create_role(rc: RunContext, executor: Executor, plan: rp.RolePlan) -> str:
    role_id = ""
    for call in role_calls(plan):
        response = executor.run(call)
        if call.operation == "CreateRole":
            role_id = str(response.get("Role", {}).get("RoleId", ""))
            rc.progress(f"created {plan.target.arn} (new unique id {role_id})")
    return role_id


def recheck(rc: RunContext, stack: str, planned: StackSnapshot,
            targets: list[rp.RoleTarget]) -> None:
    """Right before the change: the stack has not moved (the driver's re-check) and the roles
    are still missing."""
    now = snapshot(rc, stack)
    changes = precondition_changes(preconditions_of(planned), preconditions_of(now))
    for t in targets:
        check = now.role(t.arn)
        if check is not None and check.state != "missing":
            changes.append(f"role {t.name} exists now ({check.state})")
    if changes:
        raise PreconditionChangedError("changed since it was read: " + "; ".join(changes),
                                       hint=f"run recover bootstrap-role {stack} again")


def finish_operation(rc: RunContext, ev: EvidenceRun, executor: Executor, snap: StackSnapshot,
                      then: str, op_call: Call | None, opts: BootstrapRoleOptions
                      ) -> tuple[str, dict[str, Any] | None, RecoverError | None]:
    """Run the blocked operation; returns (final status, handover summary, the error that
    stopped it). An error does not end the run here: the role(s) it created must still be
    accounted for (kept, since the operation did not finish) in data.roles[]."""
    try:
        status, handover = run_operation(rc, ev, executor, snap, then, op_call, opts)
        return status, handover, None
    except (RecoverError, ClientError) as exc:
        err = translate_aws_error(exc) or RecoverError(str(exc))
        ev.journal.append("operation_failed", error=err.as_dict())
        return live_status(rc, snap), None, err


def live_status(rc: RunContext, snap: StackSnapshot) -> str:
    try:
        stacks = rc.aws.client("cloudformation").describe_stacks(StackName=snap.root_id)
        return str(stacks["Stacks"][0]["StackStatus"])
    except (ClientError, KeyError, IndexError):
        return snap.root.info.status


def run_operation(rc: RunContext, ev: EvidenceRun, executor: Executor, snap: StackSnapshot,
                   then: str, op_call: Call | None, opts: BootstrapRoleOptions
                   ) -> tuple[str, dict[str, Any] | None]:
    """Run the blocked operation; returns (final status, handover summary)."""
    if then == rp.THEN_NOTHING:
        return snap.root.info.status, None
    if then == rp.THEN_CONTINUE:
        from recover.runbooks.rollback_stuck import flow as rollback_stuck

        ev.journal.append("handover", runbook="rollback-stuck", stack=snap.root.name)
        rc.progress("handing over to rollback-stuck…")
        try:
            result = rollback_stuck.run(rc, snap.root.name, rollback_stuck.RollbackOptions(
                skip=list(opts.skip), skip_unrecoverable=opts.skip_unrecoverable,
                restore_artifacts=opts.restore_artifacts, artifact_sources=list(opts.artifact_sources),
                accept_substitute=opts.accept_substitute, accept_unverified=opts.accept_unverified,
                trail=opts.trail, wait=opts.wait, timeout=opts.timeout,
                poll_interval=opts.poll_interval, role_retry=opts.retry))
        except (RecoverError, ClientError) as exc:
            # The role exists now: report what rollback-stuck needs; the operation did not
            # finish, so the role stays for a rerun (operation_done).
            err = translate_aws_error(exc) or RecoverError(str(exc))
            ev.journal.append("handover_failed", error=err.as_dict())
            status = live_status(rc, snap)
            return status, {"runbook": "rollback-stuck", "exit_code": int(err.exit_code),
                            "final_status": status,
                            "skipped": [], "evidence_dir": None,
                            "errors": [err.as_dict()]}
        summary = {"runbook": "rollback-stuck", "exit_code": int(result.exit_code),
                   "final_status": result.data.get("final_status"),
                   "skipped": result.data.get("skipped", []),
                   "evidence_dir": result.data.get("evidence_dir"), "errors": result.errors}
        return str(result.data.get("final_status") or ""), summary
    if op_call is None:  # resumed: our earlier run's DeleteStack already reached AWS
        if snap.root.info.status == "DELETE_COMPLETE":
            return "DELETE_COMPLETE", None
        rc.progress(f"{snap.root.name} is {snap.root.info.status}: the delete the earlier run "
                    "started is still going; following it")
        watch = follow(rc, snap, timeout=opts.timeout, poll_interval=opts.poll_interval)
        return watch.final_status, None
    run_retrying(executor, op_call, backoff=opts.retry, on_retry=lambda n, d, m: rc.progress(
        f"CloudFormation cannot assume the new role yet (attempt {n}): retrying in {d:.0f}s"))
    if not opts.wait:
        return "DELETE_IN_PROGRESS", None
    watch = follow(rc, snap, timeout=opts.timeout, poll_interval=opts.poll_interval)
    if watch.final_status == "DELETE_FAILED":
        rc.progress(f"the delete failed: run `recover delete-failed {snap.root.name}` to retain "
                    "what cannot be deleted")
    return watch.final_status, None


def operation_done(then: str, final_status: str, wait: bool,
                    handover: dict[str, Any] | None) -> bool:
    """Did the blocked operation reach its successful end? Only then may the role go: a stack
    still failed, still running, or never continued needs its role for the next attempt."""
    if then == rp.THEN_NOTHING:
        return True
    if not wait or (handover is not None and handover["exit_code"] != 0):
        return False
    return final_status == ("DELETE_COMPLETE" if then == rp.THEN_DELETE
                            else "UPDATE_ROLLBACK_COMPLETE")


def operation_ok(then: str, final_status: str, wait: bool) -> bool:
    if then == rp.THEN_NOTHING or not wait:
        return True
    if then == rp.THEN_DELETE:
        return final_status == "DELETE_COMPLETE"
    return final_status == "UPDATE_ROLLBACK_COMPLETE"
