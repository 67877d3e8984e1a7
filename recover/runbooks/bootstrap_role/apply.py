"""bootstrap-role: `recover apply` of a saved plan."""

from __future__ import annotations

import json
from typing import Any

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.needs import needs_of
from recover.act.plan import Plan, kind, precondition_changes, preconditions_of, short
from recover.act.retry import Backoff
from recover.aws.iam_roles import role_tags, role_trust, wait_visible
from recover.aws.snapshot import take_snapshot
from recover.aws.watch import StackWatcher
from recover.decide import role_plan as rp
from recover.decide.trust_fix import canonical
from recover.run.context import RunContext
from recover.run.errors import (
    PreconditionChangedError,
    UsageError,
)
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.services import open_evidence, read_templates
from recover.runbooks.bootstrap_role.operation import finish_operation, operation_done, operation_ok
from recover.runbooks.bootstrap_role.removal import removal_error, remove_roles, roles_note
from recover.runbooks.bootstrap_role.roles import (
    CREATE_OPS,
    BootstrapRoleOptions,
    RoleOutcome,
    snapshot,
    tags_say_recover,
)
from recover.runbooks.bootstrap_role.trust import restore_trusts
from recover.runbooks.plan_settings import (
    TIMING,
    Check,
    boolean,
    mapping,
    number,
    opt_bool,
    opt_str,
    str_list,
)
from recover.runbooks.plans import already_applied
from recover.runbooks.render import show_calls
from recover.ui import prompts


def _trusts(v: Any) -> str | None:
    """bootstrap-role: role ARN -> {before, fixed} trust documents (objects)."""
    if not isinstance(v, dict):
        return f"expected an object of role ARN -> {{before, fixed}}, got {kind(v)}"
    for arn, t in v.items():
        if not isinstance(t, dict) or not all(isinstance(t.get(k), dict)
                                              for k in ("before", "fixed")):
            return f"{short(arn)}: expected {{before: object, fixed: object}}"
    return None



# What `recover apply` checks in a bootstrap-role plan's settings (recover/runbooks/plan_check.py).
PLAN_SETTINGS: dict[str, Check] = {
    **TIMING,
    "then": lambda v: None if v in rp.THEN_CHOICES else
    f"expected one of {', '.join(rp.THEN_CHOICES)}, got {kind(v)}",
    "remove_role_after": opt_bool,
    "restore_trust_after": opt_bool,
    "trust": _trusts,
    "retry": mapping({"first": number(0, 600), "factor": number(1, 10),
                      "cap": number(0, 600), "max_attempts": number(1, 20, whole=True)}),
    "skip": str_list, "skip_unrecoverable": boolean, "restore_artifacts": opt_bool,
    "artifact_sources": lambda v: None if v is None else str_list(v),
    "trail": opt_str,
}


def is_restore(call: Call, trusts: dict[str, Any]) -> bool:
    """An UpdateAssumeRolePolicy that puts a role's original trust back."""
    before = [t.get("before") for t in trusts.values() if isinstance(t, dict)]
    return call.operation == "UpdateAssumeRolePolicy" and any(
        b is not None and canonical(b) == canonical(call.params.get("PolicyDocument"))
        for b in before)


def trust_changes(rc: RunContext, trusts: dict[str, Any], *, reached: bool) -> list[str]:
    """Each role's trust must still be the one planned (or recover's fix, when a stopped apply
    already sent it)."""
    iam = rc.aws.client("iam")
    out: list[str] = []
    for arn, t in trusts.items():
        name = arn.rsplit("/", 1)[-1]
        live = role_trust(iam, name)
        ok = [canonical(t.get("before"))] + ([canonical(t.get("fixed"))] if reached else [])
        if live is None or canonical(live) not in ok:
            out.append(f"the trust policy of {name} changed since the plan was made")
    return out


@needs_of(take_snapshot, read_templates, role_tags, role_trust, wait_visible, StackWatcher)
def apply_plan(rc: RunContext, plan: Plan) -> Result:
    """`recover apply`: create the role(s) and run the operation exactly as planned, if neither
    the stack nor the roles moved since."""
    settings = plan.settings
    opts = BootstrapRoleOptions(
        then=str(settings.get("then", rp.THEN_NOTHING)),
        remove_role_after=bool(settings.get("remove_role_after")),
        restore_trust_after=bool(settings.get("restore_trust_after")),
        wait=bool(settings.get("wait", True)), timeout=float(settings.get("timeout", 3600)),
        poll_interval=float(settings.get("poll_interval", 3.0)),
        retry=Backoff(**settings.get("retry", {})), skip=list(settings.get("skip", [])),
        skip_unrecoverable=bool(settings.get("skip_unrecoverable")),
        restore_artifacts=settings.get("restore_artifacts"),
        artifact_sources=[str(s) for s in settings.get("artifact_sources") or []],
        trail=settings.get("trail"))
    if opts.then not in rp.THEN_CHOICES:
        raise UsageError(f"plan setting then={opts.then!r} is not one of {rp.THEN_CHOICES}")
    with open_evidence(rc, "apply", plan.stack) as ev:
        ev.write_json("plan.json", plan.to_dict())
        snap = snapshot(rc, plan.stack_id)
        # Applying the same plan again after a stop: what reached AWS is not sent again, and the
        # stack and roles having moved because of it is expected.
        reached = already_applied(rc, ev, plan, snap)
        changes = [] if reached else precondition_changes(plan.preconditions,
                                                          preconditions_of(snap))
        for arn, state in dict(plan.preconditions.get("roles", {})).items():
            check = snap.role(arn)
            now = check.state if check else "missing"
            if now != state and not reached:
                changes.append(f"role {arn.rsplit('/', 1)[-1]} is {now} (plan expected {state})")
        trusts = dict(settings.get("trust") or {})
        changes += trust_changes(rc, trusts, reached=bool(reached))
        if changes:
            raise PreconditionChangedError("changed since the plan was made: " + "; ".join(changes),
                                           hint=f"plan again: recover bootstrap-role {plan.stack}")
        create = [c for c in plan.calls if c.service == "iam" and c.operation in CREATE_OPS]
        # UpdateAssumeRolePolicy: the fix comes before the operation; the original document
        # (the restore) after it, and only when the operation is done
        create += [c for c in plan.calls if c.operation == "UpdateAssumeRolePolicy"
                   and not is_restore(c, trusts)]
        op_calls = [c for c in plan.calls if c.service == "cloudformation"]
        show_calls(rc.console, create + op_calls,
                   f"Plan made {plan.created_at:%Y-%m-%d %H:%M:%SZ} for {plan.stack}:")
        prompts.confirm_or_abort(rc, ev.journal, f"Run these {len(create + op_calls)} call(s)?")
        executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
        outcomes = [RoleOutcome(arn=arn, name=arn.rsplit("/", 1)[-1], state_before=state)
                    for arn, state in dict(plan.preconditions.get("roles", {})).items()]
        created = [c.params["RoleName"] for c in create if c.operation == "CreateRole"]
        done = {json.dumps(plan.calls[i].to_dict(), sort_keys=True) for i in reached}
        for call in create:
            if json.dumps(call.to_dict(), sort_keys=True) in done:
                if call.operation == "CreateRole":  # created by the stopped apply
                    o = next(o for o in outcomes if o.name == call.params["RoleName"])
                    o.created = o.created_by_recover = tags_say_recover(rc, o.name)
                continue
            response = executor.run(call)
            if call.operation == "CreateRole":
                o = next(o for o in outcomes if o.name == call.params["RoleName"])
                o.created = o.created_by_recover = True
                o.role_id = str(response.get("Role", {}).get("RoleId", ""))
        for o in outcomes:
            if o.arn in trusts:
                o.trust_before = trusts[o.arn].get("before")
                o.trust_fixed = trusts[o.arn].get("fixed")
                o.trust_changed = any(c.operation == "UpdateAssumeRolePolicy"
                                      and c.params["RoleName"] == o.name for c in create)
            if not o.created and o.state_before == "exists":
                o.created_by_recover = tags_say_recover(rc, o.name)
        if rc.options.dry_run:
            for call in op_calls:
                executor.run(call)
            ev.finish("dry-run", 0)
            return Result(command="apply", data={
                "dry_run": True, "calls": [c.to_dict() for c in executor.would_run],
                "evidence_dir": str(ev.dir)})
        wait_visible(rc.aws.client("iam"), created, opts.retry.delays())
        op_call = op_calls[0] if op_calls else None
        if opts.then == rp.THEN_DELETE and op_call is None:
            raise UsageError("the plan says then=delete but holds no DeleteStack call")
        if op_call is not None and json.dumps(op_call.to_dict(), sort_keys=True) in done:
            op_call = None  # the stopped apply's DeleteStack reached AWS: follow it
        final_status, handover, op_error = finish_operation(rc, ev, executor, snap, opts.then,
                                                             op_call, opts)
        removal_failed = remove_roles(
            rc, ev, executor, outcomes, opts.remove_role_after, stack=plan.stack,
            final_status=final_status, operation_done=op_error is None and operation_done(
                opts.then, final_status, opts.wait, handover))
        restore_failed = restore_trusts(
            rc, ev, executor, outcomes, opts.restore_trust_after,
            operation_done=op_error is None and operation_done(opts.then, final_status,
                                                               opts.wait, handover))
        ok = operation_ok(opts.then, final_status, opts.wait)
        errors = removal_error(removal_failed, outcomes)
        if restore_failed is not None:
            errors.append(dict(restore_failed.as_dict(), message="could not put back the "
                               f"original trust policy: {restore_failed.message}"))
            removal_failed = removal_failed or restore_failed
        if handover and handover["exit_code"] != 0:
            note = roles_note(outcomes, plan.stack, opts.then)
            errors = [dict(e, message=f"rollback-stuck: {e.get('message')} ({note})")
                      for e in handover["errors"]] + errors
        code = ExitCode.OK if ok else ExitCode.FAILURE_FOUND
        if op_error is not None:
            errors = [dict(op_error.as_dict(), message=f"{op_error.message} "
                           f"({roles_note(outcomes, plan.stack, opts.then)})")] + errors
            code = op_error.exit_code
        elif handover and handover["exit_code"] != 0:
            code = ExitCode(handover["exit_code"])
        elif code == ExitCode.OK and removal_failed is not None:
            code = removal_failed.exit_code
        ev.finish(final_status, int(code))
        data = {"stack": plan.stack, "final_status": final_status, "then": opts.then,
                "runbook": plan.runbook, "roles": [o.to_dict() for o in outcomes],
                "handover": handover, "calls": [c.to_dict() for c in create + op_calls],
                "evidence_dir": str(ev.dir), "api_calls": rc.aws.counter.as_dict()}
        return Result(command="apply", data=data, exit_code=code, errors=errors)
