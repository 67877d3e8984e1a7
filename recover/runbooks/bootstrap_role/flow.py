"""bootstrap-role: recreate a deleted stack service role (or fix the trust of one that exists
but cannot be assumed, trust.py) and finish the operation it blocked.

snapshot (DescribeStacks + iam:GetRole of every RoleARN, before any CloudFormation operation)
→ plan the role (name and path from the ARN; trust and policies from the CDK bootstrap template
or the engineer) → decisions (flags or prompts) → show the exact documents and calls → confirm
→ re-check → CreateRole (tagged) + AttachRolePolicy → wait until IAM shows it → the chosen
operation (DeleteStack / hand over to rollback-stuck / nothing), retrying "is invalid or cannot
be assumed" with bounded backoff (IAM is eventually consistent, docs/reference/aws-behaviour.md#iam-eventual-consistency) → once the operation has
succeeded, and only then, delete the temporary role if asked and if its tags say recover created
it → read each role once more so `data.roles[]` says what is really there.
"""

from typing import Any

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.plan import preconditions_of
from recover.aws.iam_roles import (
    wait_visible,
)
from recover.aws.role_history import lookup_role_history
from recover.decide import role_plan as rp
from recover.decide.diagnose import diagnose
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.errors import (
    NeedsDecisionError,
    RecoverError,
)
from recover.run.evidence import EvidenceRun
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.resume import (
    our_operation_running,
    read_stack,
    tokens_seen,
)
from recover.run.services import open_evidence, resume_from
from recover.runbooks.bootstrap_role import trust
from recover.runbooks.bootstrap_role.calls import (
    finish_roles_calls,
    operation_call,
    planned_removal_calls,
    role_calls,
)
from recover.runbooks.bootstrap_role.decide import check_skips, decide_then, plan_for
from recover.runbooks.bootstrap_role.operation import (
    create_role,
    finish_operation,
    operation_done,
    operation_ok,
    recheck,
)
from recover.runbooks.bootstrap_role.removal import removal_error, remove_roles, roles_note
from recover.runbooks.bootstrap_role.render import render_done, show_history, show_plans
from recover.runbooks.bootstrap_role.roles import (
    COMMAND,
    RESUMABLE_DELETE,
    BootstrapRoleOptions,
    RoleOutcome,
    snapshot,
    stack_role_arns,
    tags_say_recover,
)
from recover.runbooks.driver import save_dry_run
from recover.runbooks.render import show_calls
from recover.ui import prompts


def run(rc: RunContext, stack: str, opts: BootstrapRoleOptions) -> Result:
    with open_evidence(rc, COMMAND, stack) as ev:
        result = _run(rc, stack, opts, ev)
        ev.finish(result.data.get("final_status") or "finished", int(result.exit_code))
        return result


def demo(rc: RunContext, stack: str, options: dict[str, Any]) -> Result:
    """`recover demo` on a sandbox scenario (quick polling; options only when unattended)."""
    return run(rc, stack, BootstrapRoleOptions(poll_interval=0.5, timeout=600, **options))




def _run(rc: RunContext, stack: str, opts: BootstrapRoleOptions, ev: EvidenceRun) -> Result:
    prior = resume_from(rc, ev)
    rc.progress(f"reading {stack}, its nested stacks and its service role…")
    snap = read_stack(lambda s: snapshot(rc, s), stack, prior)
    ev.write_json("snapshot.json", snap)
    ev.set(stack_id=snap.root_id)
    diag = diagnose(snap)
    role_findings = [f for f in diag.findings if f.detector == "R300"]
    ev.write_json("diagnosis.json", dict(diag.to_dict(snap), evidence_dir=str(ev.dir)))
    arns = stack_role_arns(snap) or [str(f.extracted["role_arn"]) for f in role_findings]
    if not arns:
        raise RecoverError(f"stack {snap.root.name} has no service role (RoleARN): CloudFormation "
                           "uses the caller's credentials, so there is no role to recreate",
                           code="no_service_role", exit_code=ExitCode.FAILURE_FOUND,
                           hint=f"recover diagnose {stack}")
    outcomes: list[RoleOutcome] = []
    plans: list[rp.RolePlan] = []
    for arn in arns:
        check = snap.role(arn)
        state = check.state if check else "missing"
        if state == "other_path":
            name = arn.rsplit("/", 1)[-1]
            raise RecoverError(
                f"cannot recreate {arn}: {check.detail if check else ''}. IAM role names are "
                "unique in an account whatever the path, and CloudFormation only uses the role "
                "at the stack's ARN; recover never changes another role",
                code="role_other_path", exit_code=ExitCode.FAILURE_FOUND,
                hint=f"if that role is unused, delete or rename it yourself (aws iam get-role "
                     f"--role-name {name}), then run this command again")
        if state == "unknown":
            raise RecoverError(f"cannot tell whether role {arn} exists: "
                               f"{check.detail if check else ''}", code="role_check_failed",
                               hint="the caller needs iam:GetRole")
        outcomes.append(RoleOutcome(arn=arn, name=arn.rsplit("/", 1)[-1], state_before=state))
    # An existing role CloudFormation cannot assume: its trust is fixed, never the role
    # recreated (and never deleted).
    untrusting = [o for o in outcomes if o.state_before == "untrusting"]
    for o in untrusting:
        trust.plan_trust(rc, o, snap.account)
    if untrusting:
        trust.decide_fix(rc, ev, untrusting, opts)
    restore_trust = trust.decide_restore(rc, untrusting, opts)
    tokens = tokens_seen(snap)
    # A DeleteStack an earlier run of ours sent reached AWS: that delete is followed (or found
    # done) rather than refused, and a stack it deleted needs no role any more.
    ours_deleting = our_operation_running(prior, "DeleteStack", snap.root_id, tokens)
    deleted_by_us = ours_deleting and snap.root.info.status == "DELETE_COMPLETE"
    missing = [] if deleted_by_us else [o for o in outcomes if o.state_before == "missing"]
    for o in missing:
        history = lookup_role_history(rc.aws, o.name)
        o.history = history.to_dict()
        show_history(rc, history)
        plans.append(plan_for(rc, ev, snap, o, opts, history))
        o.plan = plans[-1].to_dict()
    if deleted_by_us:
        rc.progress(f"{snap.root.name} was deleted by an earlier run: no role to recreate")
    elif not missing and not untrusting:
        rc.progress("the service role exists and trusts CloudFormation: nothing to recreate")
    info = snap.root.info
    resumed_op = opts.then in (None, rp.THEN_DELETE) and info.status in RESUMABLE_DELETE \
        and ours_deleting
    then = rp.THEN_DELETE if resumed_op else decide_then(rc, ev, snap, opts,
                                                          bool(missing or untrusting))
    check_skips(snap, diag, then, opts.skip)
    existing_ours = [o for o in outcomes if o.state_before == "exists"
                     and tags_say_recover(rc, o.name)]
    for o in existing_ours:
        o.created_by_recover = True
    # Finish a role an earlier run half-made, unless the operation it was for is over.
    op_over = resumed_op and deleted_by_us
    finish_calls = finish_roles_calls(rc, prior, existing_ours) if prior and not op_over else []
    removable = bool(missing or existing_ours)
    remove_after = opts.remove_role_after
    if remove_after is None and removable and not rc.interactive:
        raise NeedsDecisionError("delete the temporary role once the operation is done, or keep "
                                 "it?", flag="--remove-role-after or --keep-role")
    executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
    create_calls = ([c for p in plans for c in role_calls(p)] + finish_calls
                    + trust.fix_calls(untrusting))
    op_call = None if resumed_op else operation_call(snap, then, ev.run_id, prior, tokens)
    if plans:
        show_plans(rc, plans)
        ev.write_json("role-plans.json", [p.to_dict() for p in plans])
    shown = create_calls + ([op_call] if op_call else [])
    if shown:
        show_calls(rc.console, shown, "The calls:")
    if then == rp.THEN_CONTINUE:
        rc.console.print("  • then hand over to rollback-stuck (it plans its ContinueUpdateRollback"
                         " once the role exists)", highlight=False)
    if rc.options.dry_run:
        return _dry_run(rc, ev, opts, snap, plans, outcomes, then, remove_after, executor,
                        create_calls, op_call, restore_trust)
    if plans:
        names = ", ".join(p.target.name for p in plans)
        prompts.confirm_or_abort(rc, ev.journal, f"Create role {names} as shown?")
        recheck(rc, stack, snap, [p.target for p in plans])
        for p, o in zip(plans, missing, strict=True):
            o.role_id = create_role(rc, executor, p)
            o.created = o.created_by_recover = True
        wait_visible(rc.aws.client("iam"), [p.target.name for p in plans], opts.retry.delays())
    if untrusting:
        trust.apply_fix(rc, executor, untrusting)
        ev.write_json("trust.json", trust.trust_evidence(outcomes))
    if finish_calls:
        prompts.confirm_or_abort(rc, ev.journal, "Finish the role(s) the earlier run created, "
                                 "as it planned?")
        for call in finish_calls:
            executor.run(call)
    final_status, handover, op_error = finish_operation(rc, ev, executor, snap, then, op_call,
                                                         opts)
    done = op_error is None and operation_done(then, final_status, opts.wait, handover)
    removal_failed = remove_roles(rc, ev, executor, outcomes, remove_after, stack=info.name,
                                   final_status=final_status, operation_done=done)
    restore_failed = trust.restore_trusts(rc, ev, executor, outcomes, restore_trust,
                                          operation_done=done)
    if untrusting:
        ev.write_json("trust.json", trust.trust_evidence(outcomes))
    ok = operation_ok(then, final_status, opts.wait)
    errors: list[dict[str, Any]] = []
    code = ExitCode.OK if ok else ExitCode.FAILURE_FOUND
    if handover and handover["exit_code"] != 0:
        note = roles_note(outcomes, info.name, then)
        errors = [dict(e, message=f"rollback-stuck: {e.get('message')} ({note})")
                  for e in handover["errors"]]
        code = ExitCode(handover["exit_code"])
    if op_error is not None:
        errors.append(dict(op_error.as_dict(), message=f"{op_error.message} "
                           f"({roles_note(outcomes, info.name, then)})"))
        code = op_error.exit_code
    errors += removal_error(removal_failed, outcomes)
    if restore_failed is not None:
        errors.append(dict(restore_failed.as_dict(), message="could not put back the original "
                           f"trust policy: {restore_failed.message} (the fixed trust is in place)"))
    for failed in (removal_failed, restore_failed):
        if code == ExitCode.OK and failed is not None:
            code = failed.exit_code
    data = {"stack": info.name, "stack_id": snap.root_id, "status_before": info.status,
            "final_status": final_status, "then": then,
            "roles": [o.to_dict() for o in outcomes], "handover": handover,
            "warnings": sorted({w for p in plans for w in p.warnings}),
            "follow_up": [p.follow_up for p in plans], "evidence_dir": str(ev.dir),
            "resumed": prior.summary() if prior else None,
            "api_calls": rc.aws.counter.as_dict()}
    ev.write_json("roles.json", data["roles"])
    return Result(command=COMMAND, data=data, exit_code=code, errors=errors,
                  human=render_done)


def _dry_run(rc: RunContext, ev: EvidenceRun, opts: BootstrapRoleOptions, snap: StackSnapshot,
             plans: list[rp.RolePlan], outcomes: list[RoleOutcome], then: str,
             remove_after: bool | None, executor: Executor, create_calls: list[Call],
             op_call: Call | None, restore_trust: bool | None) -> Result:
    calls = create_calls + ([op_call] if op_call else [])
    removal = planned_removal_calls(plans) if remove_after else []
    untrusting = [o for o in outcomes if o.state_before == "untrusting"]
    if restore_trust:
        removal += trust.restore_calls(untrusting)
    if removal:
        show_calls(rc.console, removal, "Then, once the operation has succeeded "
                   "(--remove-role-after / --restore-trust-after):")
    preconditions = preconditions_of(snap)
    preconditions["roles"] = {o.arn: o.state_before for o in outcomes}
    saved = save_dry_run(
        rc, ev, executor, calls + removal, runbook=COMMAND, snap=snap,
        preconditions=preconditions, decisions=[p.to_dict() for p in plans],
        plan_out=opts.plan_out,
        settings={"then": then, "remove_role_after": bool(remove_after),
                  "restore_trust_after": bool(restore_trust),
                  "trust": {o.arn: {"before": o.trust_before, "fixed": o.trust_fixed}
                            for o in untrusting},
                  "wait": opts.wait, "timeout": opts.timeout,
                  "poll_interval": opts.poll_interval,
                  "retry": {"first": opts.retry.first, "factor": opts.retry.factor,
                            "cap": opts.retry.cap, "max_attempts": opts.retry.max_attempts},
                  "skip": list(opts.skip), "skip_unrecoverable": opts.skip_unrecoverable,
                  "restore_artifacts": opts.restore_artifacts,
                  "artifact_sources": list(opts.artifact_sources), "trail": opts.trail})
    data = {"dry_run": True, "stack": snap.root.name, "stack_id": snap.root_id,
            "status_before": snap.root.info.status, "final_status": snap.root.info.status,
            "then": then, "roles": [o.to_dict() for o in outcomes],
            "calls": [c.to_dict() for c in saved.calls],
            "warnings": sorted({w for p in plans for w in p.warnings}),
            "follow_up": [p.follow_up for p in plans],
            "plan_file": str(opts.plan_out) if opts.plan_out else None,
            "evidence_dir": str(ev.dir)}
    return Result(command=COMMAND, data=data, messages=[saved.message])
