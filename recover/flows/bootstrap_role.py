"""bootstrap-role (runbook execution-role-missing): recreate a deleted stack service role and
finish the operation it blocked.

snapshot (DescribeStacks + iam:GetRole of every RoleARN, before any CloudFormation operation)
→ plan the role (name and path from the ARN; trust and policies from the CDK bootstrap template
or the engineer) → decisions (flags or prompts) → show the exact documents and calls → confirm
→ re-check → CreateRole (tagged) + AttachRolePolicy → wait until IAM shows it → the chosen
operation (DeleteStack / hand over to rollback-stuck / nothing), retrying "is invalid or cannot
be assumed" with bounded backoff (IAM is eventually consistent, docs/reference/aws-behaviour.md#iam-eventual-consistency) → once the operation has
succeeded, and only then, delete the temporary role if asked and if its tags say recover created
it → read each role once more so `data.roles[]` says what is really there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.markup import escape

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.plan import Plan, precondition_changes, preconditions_of
from recover.act.retry import Backoff, run_retrying
from recover.aws.role_history import RoleHistory, lookup_role_history
from recover.aws.snapshot import SnapshotOptions, take_snapshot
from recover.context import RunContext
from recover.decide import role_plan as rp
from recover.decide.diagnose import Diagnosis, diagnose
from recover.decide.rollback_plan import validate_skips
from recover.errors import (
    NeedsDecisionError,
    PreconditionChangedError,
    RecoverError,
    UsageError,
    translate_aws_error,
)
from recover.evidence import EvidenceRun
from recover.exit_codes import ExitCode
from recover.explain.taxonomy import EXECUTION_ROLE_MISSING
from recover.flows.follow import follow
from recover.flows.plans import already_applied
from recover.flows.render import show_calls
from recover.model.stack import StackSnapshot
from recover.result import Result
from recover.resume import (
    PriorRuns,
    our_operation_running,
    read_stack,
    token_to_reuse,
    tokens_seen,
)
from recover.runs import open_evidence, resume_from
from recover.ui import prompts
from recover.ui.progress import print_resumed

COMMAND = "bootstrap-role"
RESUMABLE_DELETE = ("DELETE_IN_PROGRESS", "DELETE_COMPLETE")
CREATE_OPS = ("CreateRole", "AttachRolePolicy")
REMOVE_OPS = ("DetachRolePolicy", "DeleteRolePolicy", "DeleteRole")
ADMIN_POLICY = "arn:{partition}:iam::aws:policy/AdministratorAccess"


@dataclass
class BootstrapRoleOptions:
    qualifier: str | None = None
    policy_arns: list[str] = field(default_factory=list)
    permissions_boundary: str | None = None
    then: str | None = None  # delete | continue-rollback | nothing (None: ask)
    remove_role_after: bool | None = None  # None: ask
    wait: bool = True
    timeout: float = 3600.0
    poll_interval: float = 3.0
    retry: Backoff = field(default_factory=Backoff)
    plan_out: Path | None = None
    # handed over to rollback-stuck with --then continue-rollback
    skip: list[str] = field(default_factory=list)
    skip_unrecoverable: bool = False
    restore_artifacts: bool | None = None
    artifact_sources: list[str] = field(default_factory=list)
    accept_substitute: bool = False
    accept_unverified: bool = False
    trail: str | None = None


# data.roles[].outcome (docs/reference/json-output.md)
CREATED_KEPT = "created_kept"
CREATED_REMOVED = "created_removed"
EXISTING_KEPT = "existing_kept"
EXISTING_REMOVED = "existing_removed"
REMOVAL_FAILED = "removal_failed"
ALREADY_GONE = "already_gone"
NOT_CREATED = "not_created"


@dataclass
class RoleOutcome:
    arn: str
    name: str
    state_before: str  # missing | exists
    created: bool = False
    role_id: str = ""
    created_by_recover: bool = False
    removed: bool = False
    kept_because: str = ""
    removal_error: str = ""
    exists_after: bool | None = None  # iam:GetRole at the end of the run (None: not read)
    plan: dict[str, Any] | None = None
    history: dict[str, Any] | None = None  # what CloudTrail says about the deleted role

    @property
    def outcome(self) -> str:
        if self.removal_error:
            return REMOVAL_FAILED
        if self.removed:
            return CREATED_REMOVED if self.created else EXISTING_REMOVED
        if self.created:
            return CREATED_KEPT
        if self.state_before == "missing" or self.exists_after is False:
            return ALREADY_GONE if self.state_before == "exists" else NOT_CREATED
        return EXISTING_KEPT

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, outcome=self.outcome)


def run(rc: RunContext, stack: str, opts: BootstrapRoleOptions) -> Result:
    with open_evidence(rc, EXECUTION_ROLE_MISSING, stack) as ev:
        result = _run(rc, stack, opts, ev)
        ev.finish(result.data.get("final_status") or "finished", int(result.exit_code))
        return result


def _snapshot(rc: RunContext, stack: str) -> StackSnapshot:
    return take_snapshot(rc.aws, stack, clock=rc.clock,
                         options=SnapshotOptions(events="last-operation"))


def _stack_role_arns(snap: StackSnapshot) -> list[str]:
    """Distinct RoleARNs of the tree, the root's first (operations run on the root)."""
    out: list[str] = []
    for n in snap.nodes:
        if n.info.role_arn and n.info.role_arn not in out:
            out.append(n.info.role_arn)
    return out


def _check_skips(snap: StackSnapshot, diag: Diagnosis, then: str, skip: list[str]) -> None:
    """--skip goes to rollback-stuck after the role exists: refuse a bad one before any role is
    created (and one that nothing would use)."""
    if not skip:
        return
    if then != rp.THEN_CONTINUE:
        raise UsageError("--skip is used only with --then continue-rollback")
    if errors := validate_skips(snap, list(diag.findings), skip):
        raise UsageError("invalid --skip: " + "; ".join(errors))


def _run(rc: RunContext, stack: str, opts: BootstrapRoleOptions, ev: EvidenceRun) -> Result:
    prior = resume_from(rc, ev)
    rc.progress(f"reading {stack}, its nested stacks and its service role…")
    snap = read_stack(lambda s: _snapshot(rc, s), stack, prior)
    ev.write_json("snapshot.json", snap)
    ev.set(stack_id=snap.root_id)
    diag = diagnose(snap)
    role_findings = [f for f in diag.findings if f.detector == "R300"]
    ev.write_json("diagnosis.json", dict(diag.to_dict(snap), evidence_dir=str(ev.dir)))
    arns = _stack_role_arns(snap) or [str(f.extracted["role_arn"]) for f in role_findings]
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
        if state == "untrusting":
            name = arn.rsplit("/", 1)[-1]
            raise RecoverError(
                f"role {name} exists but does not trust cloudformation.amazonaws.com: fix its "
                "trust policy rather than recreating it", code="role_untrusting",
                exit_code=ExitCode.FAILURE_FOUND,
                hint=f"aws iam update-assume-role-policy --role-name {name} --policy-document "
                     f"'{json.dumps(rp.cdk.EXEC_ROLE_TRUST, separators=(',', ':'))}'")
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
    tokens = tokens_seen(snap)
    # A DeleteStack an earlier run of ours sent reached AWS: that delete is followed (or found
    # done) rather than refused, and a stack it deleted needs no role any more.
    ours_deleting = our_operation_running(prior, "DeleteStack", snap.root_id, tokens)
    deleted_by_us = ours_deleting and snap.root.info.status == "DELETE_COMPLETE"
    missing = [] if deleted_by_us else [o for o in outcomes if o.state_before == "missing"]
    for o in missing:
        history = lookup_role_history(rc.aws, o.name)
        o.history = history.to_dict()
        _show_history(rc, history)
        plans.append(_plan_for(rc, ev, snap, o, opts, history))
        o.plan = plans[-1].to_dict()
    if deleted_by_us:
        rc.progress(f"{snap.root.name} was deleted by an earlier run: no role to recreate")
    elif not missing:
        rc.progress("the service role exists and trusts CloudFormation: nothing to recreate")
    info = snap.root.info
    resumed_op = opts.then in (None, rp.THEN_DELETE) and info.status in RESUMABLE_DELETE \
        and ours_deleting
    then = rp.THEN_DELETE if resumed_op else _decide_then(rc, ev, snap, opts, bool(missing))
    _check_skips(snap, diag, then, opts.skip)
    existing_ours = [o for o in outcomes if o.state_before == "exists"
                     and _tags_say_recover(rc, o.name)]
    for o in existing_ours:
        o.created_by_recover = True
    # Finish a role an earlier run half-made, unless the operation it was for is over.
    op_over = resumed_op and deleted_by_us
    finish_calls = _finish_roles_calls(rc, prior, existing_ours) if prior and not op_over else []
    removable = bool(missing or existing_ours)
    remove_after = opts.remove_role_after
    if remove_after is None and removable and not rc.interactive:
        raise NeedsDecisionError("delete the temporary role once the operation is done, or keep "
                                 "it?", flag="--remove-role-after or --keep-role")
    executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
    create_calls = [c for p in plans for c in role_calls(p)] + finish_calls
    op_call = None if resumed_op else _operation_call(snap, then, ev.run_id, prior, tokens)
    if plans:
        _show_plans(rc, plans)
        ev.write_json("role-plans.json", [p.to_dict() for p in plans])
    shown = create_calls + ([op_call] if op_call else [])
    if shown:
        show_calls(rc.console, shown, "The calls:")
    if then == rp.THEN_CONTINUE:
        rc.console.print("  • then hand over to rollback-stuck (it plans its ContinueUpdateRollback"
                         " once the role exists)", highlight=False)
    if rc.options.dry_run:
        return _dry_run(rc, ev, opts, snap, plans, outcomes, then, remove_after, executor,
                        create_calls, op_call)
    if plans:
        names = ", ".join(p.target.name for p in plans)
        prompts.confirm_or_abort(rc, ev.journal, f"Create role {names} as shown?")
        _recheck(rc, stack, snap, [p.target for p in plans])
        for p, o in zip(plans, missing, strict=True):
            o.role_id = _create_role(rc, executor, p)
            o.created = o.created_by_recover = True
        _wait_visible(rc, [p.target.name for p in plans], opts.retry)
    if finish_calls:
        prompts.confirm_or_abort(rc, ev.journal, "Finish the role(s) the earlier run created, "
                                 "as it planned?")
        for call in finish_calls:
            executor.run(call)
    final_status, handover, op_error = _finish_operation(rc, ev, executor, snap, then, op_call,
                                                         opts)
    done = op_error is None and _operation_done(then, final_status, opts.wait, handover)
    removal_failed = _remove_roles(rc, ev, executor, outcomes, remove_after, stack=info.name,
                                   final_status=final_status, operation_done=done)
    ok = _operation_ok(then, final_status, opts.wait)
    errors: list[dict[str, Any]] = []
    code = ExitCode.OK if ok else ExitCode.FAILURE_FOUND
    if handover and handover["exit_code"] != 0:
        note = _roles_note(outcomes, info.name, then)
        errors = [dict(e, message=f"rollback-stuck: {e.get('message')} ({note})")
                  for e in handover["errors"]]
        code = ExitCode(handover["exit_code"])
    if op_error is not None:
        errors.append(dict(op_error.as_dict(), message=f"{op_error.message} "
                           f"({_roles_note(outcomes, info.name, then)})"))
        code = op_error.exit_code
    errors += _removal_error(removal_failed, outcomes)
    if code == ExitCode.OK and removal_failed is not None:
        code = removal_failed.exit_code
    data = {"stack": info.name, "stack_id": snap.root_id, "status_before": info.status,
            "final_status": final_status, "then": then,
            "roles": [o.to_dict() for o in outcomes], "handover": handover,
            "warnings": sorted({w for p in plans for w in p.warnings}),
            "follow_up": [p.follow_up for p in plans], "evidence_dir": str(ev.dir),
            "resumed": prior.summary() if prior else None,
            "api_calls": rc.aws.counter.as_dict()}
    ev.write_json("roles.json", data["roles"])
    return Result(command=COMMAND, data=data, exit_code=code, errors=errors,
                  human=_render_done)


# --- decide ------------------------------------------------------------------------------------

def _plan_for(rc: RunContext, ev: EvidenceRun, snap: StackSnapshot, o: RoleOutcome,
              opts: BootstrapRoleOptions, history: RoleHistory) -> rp.RolePlan:
    try:
        target = rp.parse_role_arn(o.arn)
    except rp.RolePlanError as exc:
        raise RecoverError(str(exc), code="bad_role_arn") from exc
    policies = tuple(opts.policy_arns)
    if not target.cdk and not policies:
        policies = _ask_policies(rc, ev, target, history)
    request = rp.RoleRequest(stack_name=snap.root.name, run_id=ev.run_id,
                             qualifier=opts.qualifier, policy_arns=policies,
                             permissions_boundary=opts.permissions_boundary)
    try:
        return rp.plan_role(target, request)
    except rp.RolePlanError as exc:
        raise UsageError(str(exc)) from exc


def _ask_policies(rc: RunContext, ev: EvidenceRun, target: rp.RoleTarget,
                  history: RoleHistory) -> tuple[str, ...]:
    """A non-CDK role: recover cannot know its permissions, so the engineer names them
    (CloudTrail's record of the old role is offered first when there is one)."""
    question = (f"{target.name} is not a CDK bootstrap role: which policy should the new role "
                "have?")
    if not rc.interactive:
        seen = (f" (CloudTrail shows the old role had: {', '.join(history.managed_policies)})"
                if history.managed_policies else "")
        raise NeedsDecisionError(question + seen, flag="--policy-arn")
    options: list[tuple[str, str]] = []
    if history.managed_policies:
        options.append((",".join(history.managed_policies), "what the old role had (CloudTrail): "
                        + ", ".join(history.managed_policies)))
    admin = ADMIN_POLICY.format(partition=target.partition)
    options += [(admin, "AdministratorAccess (broad: enough for any stack operation; remove the "
                        "role afterwards)"),
                ("abort", "abort: I will run again with --policy-arn")]
    answer = prompts.choose(rc, ev.journal, question, options, flag="--policy-arn")
    if answer == "abort":
        raise RecoverError("aborted: name the role's policies with --policy-arn", code="aborted",
                           exit_code=ExitCode.ABORTED)
    return tuple(answer.split(","))


def _decide_then(rc: RunContext, ev: EvidenceRun, snap: StackSnapshot,
                 opts: BootstrapRoleOptions, creating: bool) -> str:
    info = snap.root.info
    if opts.then is not None:
        err = rp.then_error(opts.then, info.status, info.termination_protection)
        if err:
            raise UsageError(err)
        return opts.then
    if not creating:
        return rp.THEN_NOTHING  # the role is fine: run an operation only when asked by flag
    choices = rp.then_choices(info.status, info.termination_protection)
    question = (f"Once the role exists, what should recover do with {info.name} "
                f"({info.status})?")
    if not rc.interactive:
        raise NeedsDecisionError(question, flag="--then " + "|".join(v for v, _ in choices))
    answer = prompts.choose(rc, ev.journal, question, choices,
                            flag="--then " + "|".join(v for v, _ in choices))
    if answer == rp.THEN_DELETE and not prompts.typed_confirmation(
            rc, ev.journal, f"Deleting {info.name} deletes its resources (except those its "
            "template retains).", info.name, flag="--then delete"):
        raise RecoverError("the stack name was not typed: nothing was changed", code="aborted",
                           exit_code=ExitCode.ABORTED)
    return answer


def _operation_done(then: str, final_status: str, wait: bool,
                    handover: dict[str, Any] | None) -> bool:
    """Did the blocked operation reach its successful end? Only then may the role go: a stack
    still failed, still running, or never continued needs its role for the next attempt."""
    if then == rp.THEN_NOTHING:
        return True
    if not wait or (handover is not None and handover["exit_code"] != 0):
        return False
    return final_status == ("DELETE_COMPLETE" if then == rp.THEN_DELETE
                            else "UPDATE_ROLLBACK_COMPLETE")


def _operation_ok(then: str, final_status: str, wait: bool) -> bool:
    if then == rp.THEN_NOTHING or not wait:
        return True
    if then == rp.THEN_DELETE:
        return final_status == "DELETE_COMPLETE"
    return final_status == "UPDATE_ROLLBACK_COMPLETE"


# --- act ---------------------------------------------------------------------------------------

def role_calls(plan: rp.RolePlan) -> list[Call]:
    t = plan.target
    params: dict[str, Any] = {"RoleName": t.name, "Path": t.path,
                              "AssumeRolePolicyDocument": plan.trust_json(),
                              "Description": plan.description}
    if plan.permissions_boundary:
        params["PermissionsBoundary"] = plan.permissions_boundary
    params["Tags"] = [{"Key": k, "Value": v} for k, v in plan.tags]
    calls = [Call("iam", "CreateRole", params,
                  f"recreate {t.name} under path {t.path}, trusting cloudformation.amazonaws.com "
                  f"({plan.source})")]
    for arn in plan.managed_policy_arns:
        calls.append(Call("iam", "AttachRolePolicy", {"RoleName": t.name, "PolicyArn": arn},
                          f"attach {arn} to {t.name}"))
    return calls


def _operation_call(snap: StackSnapshot, then: str, run_id: str, prior: PriorRuns,
                    tokens: set[str]) -> Call | None:
    if then != rp.THEN_DELETE:
        return None
    params = {"StackName": snap.root_id}
    # The same DeleteStack left in doubt by an earlier run goes again with its token.
    token = token_to_reuse(prior, "DeleteStack", params, tokens)
    params["ClientRequestToken"] = token or f"recover-{run_id[:8]}-delete"
    return Call("cloudformation", "DeleteStack", params,
                f"delete {snap.root.name} (the operation the missing role blocked)")


def _finish_roles_calls(rc: RunContext, prior: PriorRuns,
                        ours: list[RoleOutcome]) -> list[Call]:
    """A role an earlier run created but stopped before attaching all its policies: the
    AttachRolePolicy calls still missing, from the plan that run saved (role-plans.json)."""
    planned: dict[str, list[str]] = {}
    for _, plans in prior.files("role-plans"):
        for p in plans if isinstance(plans, list) else []:
            if isinstance(p, dict) and isinstance(p.get("managed_policy_arns"), list):
                planned[str(p.get("role_name"))] = [str(a) for a in p["managed_policy_arns"]]
    iam = rc.aws.client("iam")
    calls: list[Call] = []
    removing = {str(c.params.get("RoleName")) for op in REMOVE_OPS for c in prior.started(op)}
    for o in ours:
        if o.name not in planned or o.name in removing:  # never re-grant during clean-up
            continue
        attached = {p["PolicyArn"] for page in iam.get_paginator(
            "list_attached_role_policies").paginate(RoleName=o.name)
            for p in page.get("AttachedPolicies", [])}
        calls += [Call("iam", "AttachRolePolicy", {"RoleName": o.name, "PolicyArn": arn},
                       f"attach {arn} to {o.name} (planned by the earlier run, not yet done)")
                  for arn in planned[o.name] if arn not in attached]
    return calls


def _create_role(rc: RunContext, executor: Executor, plan: rp.RolePlan) -> str:
    role_id = ""
    for call in role_calls(plan):
        response = executor.run(call)
        if call.operation == "CreateRole":
            role_id = str(response.get("Role", {}).get("RoleId", ""))
            rc.progress(f"created {plan.target.arn} (new unique id {role_id})")
    return role_id


def _wait_visible(rc: RunContext, names: list[str], backoff: Backoff) -> None:
    """`aws iam wait role-exists`, bounded: GetRole until every new role is visible."""
    iam = rc.aws.client("iam")
    for name in names:
        for delay in [*backoff.delays(), None]:
            try:
                iam.get_role(RoleName=name)
                break
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchEntity" or delay is None:
                    raise
                time.sleep(delay)


def _recheck(rc: RunContext, stack: str, planned: StackSnapshot,
             targets: list[rp.RoleTarget]) -> None:
    """Right before the change: the stack has not moved and the roles are still missing."""
    now = _snapshot(rc, stack)
    changes = precondition_changes(preconditions_of(planned), preconditions_of(now))
    for t in targets:
        check = now.role(t.arn)
        if check is not None and check.state != "missing":
            changes.append(f"role {t.name} exists now ({check.state})")
    if changes:
        raise PreconditionChangedError("changed since it was read: " + "; ".join(changes),
                                       hint=f"run recover bootstrap-role {stack} again")


def _finish_operation(rc: RunContext, ev: EvidenceRun, executor: Executor, snap: StackSnapshot,
                      then: str, op_call: Call | None, opts: BootstrapRoleOptions
                      ) -> tuple[str, dict[str, Any] | None, RecoverError | None]:
    """Run the blocked operation; returns (final status, handover summary, the error that
    stopped it). An error does not end the run here: the role(s) it created must still be
    accounted for (kept, since the operation did not finish) in data.roles[]."""
    try:
        status, handover = _run_operation(rc, ev, executor, snap, then, op_call, opts)
        return status, handover, None
    except (RecoverError, ClientError) as exc:
        err = translate_aws_error(exc) or RecoverError(str(exc))
        ev.journal.append("operation_failed", error=err.as_dict())
        return _live_status(rc, snap), None, err


def _live_status(rc: RunContext, snap: StackSnapshot) -> str:
    try:
        stacks = rc.aws.client("cloudformation").describe_stacks(StackName=snap.root_id)
        return str(stacks["Stacks"][0]["StackStatus"])
    except (ClientError, KeyError, IndexError):
        return snap.root.info.status


def _run_operation(rc: RunContext, ev: EvidenceRun, executor: Executor, snap: StackSnapshot,
                   then: str, op_call: Call | None, opts: BootstrapRoleOptions
                   ) -> tuple[str, dict[str, Any] | None]:
    """Run the blocked operation; returns (final status, handover summary)."""
    if then == rp.THEN_NOTHING:
        return snap.root.info.status, None
    if then == rp.THEN_CONTINUE:
        from recover.flows import rollback_stuck

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
            # finish, so the role stays for a rerun (_operation_done).
            err = translate_aws_error(exc) or RecoverError(str(exc))
            ev.journal.append("handover_failed", error=err.as_dict())
            status = _live_status(rc, snap)
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


def _role_tags(rc: RunContext, name: str) -> dict[str, str] | None:
    """The role's tags, or None when it does not exist."""
    iam = rc.aws.client("iam")
    try:
        pages = iam.get_paginator("list_role_tags").paginate(RoleName=name)
        return {t["Key"]: t["Value"] for page in pages for t in page.get("Tags", [])}
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise


def _tags_say_recover(rc: RunContext, name: str) -> bool:
    try:
        tags = _role_tags(rc, name)
    except ClientError:
        return False
    return bool(tags) and rp.created_by_recover(tags or {})


def _remove_roles(rc: RunContext, ev: EvidenceRun, executor: Executor,
                  outcomes: list[RoleOutcome], remove_after: bool | None, *, stack: str,
                  final_status: str, operation_done: bool) -> RecoverError | None:
    """Delete the temporary role(s) when asked, only once the operation succeeded, only a role
    whose live tags say recover created it, and only that role (by name: never another). Every
    outcome is recorded (removed, kept and why, removal failed) and each role is read again.
    A failed removal stops further removals (nothing is sent after a failed change) and is
    returned, with the AWS error's own code."""
    failed: RecoverError | None = None
    for o in outcomes:
        if failed is not None:
            o.kept_because = "not removed: an earlier removal failed"
        else:
            try:
                _remove_one(rc, ev, executor, o, remove_after, stack=stack,
                            final_status=final_status, operation_done=operation_done)
            except (ClientError, RecoverError) as exc:
                failed = translate_aws_error(exc) or RecoverError(str(exc))
                o.removal_error = failed.message
                rc.console.print(f"[red]could not remove role {escape(o.name)}:[/] "
                                 f"{escape(o.removal_error)}", highlight=False)
        if not rc.options.dry_run:
            o.exists_after = _role_exists(rc, o.name)
    return failed


def _remove_one(rc: RunContext, ev: EvidenceRun, executor: Executor, o: RoleOutcome,
                remove_after: bool | None, *, stack: str, final_status: str,
                operation_done: bool) -> None:
    refused = (f"refused: {o.name} was not created by recover (no "
               f"{rp.TAG_CREATED_BY}={rp.TAG_CREATED_BY_VALUE} tag)")
    if not o.created_by_recover:
        o.kept_because = refused if remove_after else "not created by recover"
        if remove_after:
            rc.console.print(f"[yellow]{escape(refused)}[/]", highlight=False)
        return
    if remove_after is False:
        o.kept_because = "--keep-role"
        return
    if not operation_done:
        o.kept_because = (f"the operation has not finished (stack {final_status}): the stack "
                          "still needs the role; once it is done remove it with `recover "
                          f"bootstrap-role {stack} --then nothing --remove-role-after`")
        rc.console.print(f"[yellow]role {escape(o.name)} kept: {escape(o.kept_because)}[/]",
                         highlight=False)
        return
    cdk_role = bool(rp.cdk.EXEC_ROLE_NAME_PATTERN.match(o.name))
    blocked_again = ("" if final_status == "DELETE_COMPLETE" else " The stack is blocked again "
                     "until a role of that name exists"
                     + (" (cdk bootstrap recreates it)." if cdk_role else "."))
    decision = remove_after
    if decision is None:
        rc.console.print(f"Delete the temporary role {escape(o.name)} now?"
                         f"{escape(blocked_again)}", highlight=False)
        decision = prompts.typed_confirmation(
            rc, ev.journal, f"Delete role {o.name}?", o.name,
            flag="--remove-role-after or --keep-role")
    if not decision:
        o.kept_because = "the operator chose to keep it"
        return
    tags = _role_tags(rc, o.name)
    if tags is None:
        o.kept_because = "already gone"
        return
    if not rp.created_by_recover(tags):  # re-checked live: never trust the earlier read
        o.kept_because = refused
        rc.console.print(f"[yellow]{escape(refused)}[/]", highlight=False)
        return
    for call in removal_calls(rc, o.name):
        executor.run(call)  # an error is recorded by _remove_roles as removal_failed
    o.removed = True
    rc.console.print(f"[yellow]removed {escape(o.name)}.{escape(blocked_again)}[/]"
                     if blocked_again else f"removed {escape(o.name)}", highlight=False)


def _role_exists(rc: RunContext, name: str) -> bool | None:
    try:
        rc.aws.client("iam").get_role(RoleName=name)
        return True
    except ClientError as exc:
        return False if exc.response.get("Error", {}).get("Code") == "NoSuchEntity" else None


def _roles_note(outcomes: list[RoleOutcome], stack: str, then: str) -> str:
    """What is true of the role(s) now, for a message about an unfinished operation."""
    kept = [o.name for o in outcomes if o.exists_after]
    gone = [o.name for o in outcomes if o.exists_after is False]
    rerun = (f"recover rollback-stuck {stack}" if then == rp.THEN_CONTINUE
             else f"recover bootstrap-role {stack} --then {then}")
    parts = []
    if kept:
        parts.append(f"the role is kept ({', '.join(kept)}): run {rerun} when the cause is "
                     "fixed")
    if gone:
        parts.append(f"no role exists at {', '.join(gone)}: the stack stays blocked until it does")
    return "; ".join(parts) or "the role could not be read again"


def _removal_error(err: RecoverError | None, outcomes: list[RoleOutcome]) -> list[dict[str, Any]]:
    """The failed removal as an error entry: the AWS error's code (access_denied,
    expired_token...), a message that says which role and what is true of it now."""
    o = next((o for o in outcomes if o.removal_error), None)
    if err is None or o is None:
        return []
    now = {True: " (the role still exists; some of its policies may already be detached)",
           False: " (the role no longer exists)"}.get(o.exists_after, "")
    out = dict(err.as_dict(), message=f"could not remove role {o.name}: {err.message}{now}")
    out.setdefault("hint", f"aws iam delete-role --role-name {o.name} (after detaching its "
                           "policies)")
    out.setdefault("details", {})["role"] = o.name
    return [out]


def removal_calls(rc: RunContext, name: str) -> list[Call]:
    """Detach every managed policy, delete every inline policy, then delete the role (IAM
    refuses DeleteRole while policies are attached)."""
    iam = rc.aws.client("iam")
    calls: list[Call] = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for p in page.get("AttachedPolicies", []):
            calls.append(Call("iam", "DetachRolePolicy",
                              {"RoleName": name, "PolicyArn": p["PolicyArn"]},
                              f"detach {p['PolicyArn']} from the temporary role"))
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page.get("PolicyNames", []):
            calls.append(Call("iam", "DeleteRolePolicy", {"RoleName": name, "PolicyName": policy},
                              f"delete inline policy {policy} of the temporary role"))
    calls.append(Call("iam", "DeleteRole", {"RoleName": name},
                      f"delete the temporary role {name} (created by recover)"))
    return calls


# --- dry run, plan and apply ---------------------------------------------------------------

def _dry_run(rc: RunContext, ev: EvidenceRun, opts: BootstrapRoleOptions, snap: StackSnapshot,
             plans: list[rp.RolePlan], outcomes: list[RoleOutcome], then: str,
             remove_after: bool | None, executor: Executor, create_calls: list[Call],
             op_call: Call | None) -> Result:
    for call in create_calls + ([op_call] if op_call else []):
        executor.run(call)
    if remove_after:
        removal: list[Call] = []
        for p in plans:  # what removal will be, given the role as planned
            removal += [Call("iam", "DetachRolePolicy", {"RoleName": p.target.name,
                                                         "PolicyArn": arn},
                             f"detach {arn} from the temporary role")
                        for arn in p.managed_policy_arns]
            removal.append(Call("iam", "DeleteRole", {"RoleName": p.target.name},
                                f"delete the temporary role {p.target.name} (created by "
                                "recover; its tags are checked first)"))
        if removal:
            show_calls(rc.console, removal, "Then, once the operation has succeeded "
                       "(--remove-role-after):")
        for call in removal:
            executor.run(call)
    preconditions = preconditions_of(snap)
    preconditions["roles"] = {o.arn: o.state_before for o in outcomes}
    saved = Plan(runbook=EXECUTION_ROLE_MISSING, stack=snap.root.name, stack_id=snap.root_id,
                 region=snap.region, account=snap.account, created_at=rc.clock(),
                 preconditions=preconditions, calls=list(executor.would_run),
                 decisions=[p.to_dict() for p in plans],
                 settings={"then": then, "remove_role_after": bool(remove_after),
                           "wait": opts.wait, "timeout": opts.timeout,
                           "poll_interval": opts.poll_interval,
                           "retry": {"first": opts.retry.first, "factor": opts.retry.factor,
                                     "cap": opts.retry.cap,
                                     "max_attempts": opts.retry.max_attempts},
                           "skip": list(opts.skip), "skip_unrecoverable": opts.skip_unrecoverable,
                           "restore_artifacts": opts.restore_artifacts,
                           "artifact_sources": list(opts.artifact_sources), "trail": opts.trail})
    ev.write_json("plan.json", saved.to_dict())
    if opts.plan_out:
        saved.save(opts.plan_out)
    data = {"dry_run": True, "stack": snap.root.name, "stack_id": snap.root_id,
            "status_before": snap.root.info.status, "final_status": snap.root.info.status,
            "then": then, "roles": [o.to_dict() for o in outcomes],
            "calls": [c.to_dict() for c in executor.would_run],
            "warnings": sorted({w for p in plans for w in p.warnings}),
            "follow_up": [p.follow_up for p in plans],
            "plan_file": str(opts.plan_out) if opts.plan_out else None,
            "evidence_dir": str(ev.dir)}
    return Result(command=COMMAND, data=data, messages=[
        "dry run: nothing was changed" + (f"; plan written to {opts.plan_out}"
                                          if opts.plan_out else "")])


def apply_plan(rc: RunContext, plan: Plan) -> Result:
    """`recover apply`: create the role(s) and run the operation exactly as planned, if neither
    the stack nor the roles moved since."""
    settings = plan.settings
    opts = BootstrapRoleOptions(
        then=str(settings.get("then", rp.THEN_NOTHING)),
        remove_role_after=bool(settings.get("remove_role_after")),
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
        snap = _snapshot(rc, plan.stack_id)
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
        if changes:
            raise PreconditionChangedError("changed since the plan was made: " + "; ".join(changes),
                                           hint=f"plan again: recover bootstrap-role {plan.stack}")
        create = [c for c in plan.calls if c.service == "iam" and c.operation in CREATE_OPS]
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
                    o.created = o.created_by_recover = _tags_say_recover(rc, o.name)
                continue
            response = executor.run(call)
            if call.operation == "CreateRole":
                o = next(o for o in outcomes if o.name == call.params["RoleName"])
                o.created = o.created_by_recover = True
                o.role_id = str(response.get("Role", {}).get("RoleId", ""))
        for o in outcomes:
            if not o.created and o.state_before == "exists":
                o.created_by_recover = _tags_say_recover(rc, o.name)
        if rc.options.dry_run:
            for call in op_calls:
                executor.run(call)
            ev.finish("dry-run", 0)
            return Result(command="apply", data={
                "dry_run": True, "calls": [c.to_dict() for c in executor.would_run],
                "evidence_dir": str(ev.dir)})
        _wait_visible(rc, created, opts.retry)
        op_call = op_calls[0] if op_calls else None
        if opts.then == rp.THEN_DELETE and op_call is None:
            raise UsageError("the plan says then=delete but holds no DeleteStack call")
        if op_call is not None and json.dumps(op_call.to_dict(), sort_keys=True) in done:
            op_call = None  # the stopped apply's DeleteStack reached AWS: follow it
        final_status, handover, op_error = _finish_operation(rc, ev, executor, snap, opts.then,
                                                             op_call, opts)
        removal_failed = _remove_roles(
            rc, ev, executor, outcomes, opts.remove_role_after, stack=plan.stack,
            final_status=final_status, operation_done=op_error is None and _operation_done(
                opts.then, final_status, opts.wait, handover))
        ok = _operation_ok(opts.then, final_status, opts.wait)
        errors = _removal_error(removal_failed, outcomes)
        if handover and handover["exit_code"] != 0:
            note = _roles_note(outcomes, plan.stack, opts.then)
            errors = [dict(e, message=f"rollback-stuck: {e.get('message')} ({note})")
                      for e in handover["errors"]] + errors
        code = ExitCode.OK if ok else ExitCode.FAILURE_FOUND
        if op_error is not None:
            errors = [dict(op_error.as_dict(), message=f"{op_error.message} "
                           f"({_roles_note(outcomes, plan.stack, opts.then)})")] + errors
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


# --- human output ------------------------------------------------------------------------------

def _show_history(rc: RunContext, h: RoleHistory) -> None:
    c = rc.console
    if h.deleted_at:
        c.print(f"[bold]{escape(h.role_name)}[/] was deleted at {escape(h.deleted_at)} by "
                f"{escape(h.deleted_by)} (CloudTrail)", highlight=False)
    if h.managed_policies:
        c.print("  it had: " + escape(", ".join(h.managed_policies))
                + (f"; boundary {escape(h.permissions_boundary)}" if h.permissions_boundary
                   else ""), highlight=False)
    if h.note:
        c.print(f"  [dim]{escape(h.note)}[/]", highlight=False)


def _show_plans(rc: RunContext, plans: list[rp.RolePlan]) -> None:
    c = rc.console
    for p in plans:
        t = p.target
        c.print(f"[bold]Role to recreate:[/] {escape(t.arn)}", highlight=False)
        c.print(f"  name {escape(t.name)}, path {escape(t.path)}"
                + (f", CDK qualifier {escape(t.qualifier)}" if t.cdk else ", not a CDK role"),
                highlight=False)
        c.print(f"  source: {escape(p.source)}", highlight=False)
        c.print("  trust policy (AssumeRolePolicyDocument):", highlight=False)
        for line in json.dumps(p.trust_policy, indent=2).splitlines():
            c.print(f"    {escape(line)}", highlight=False)
        c.print("  managed policies: " + ", ".join(p.managed_policy_arns), highlight=False)
        c.print(f"  permissions boundary: {escape(p.permissions_boundary or 'none')}",
                highlight=False)
        c.print("  tags: " + ", ".join(f"{k}={v}" for k, v in p.tags), highlight=False)
        for note in p.notes:
            c.print(f"  [dim]note: {escape(note)}[/]", highlight=False)
        for w in p.warnings:
            c.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)


def _render_done(console: Any, result: Result) -> None:
    d = result.data
    console.print(f"[bold]{escape(d['stack'])}:[/] {d['status_before']} → "
                  f"[bold]{d['final_status']}[/] (then: {d['then']})", highlight=False)
    for r in d["roles"]:
        console.print(f"  role {escape(r['name'])}: {escape(_outcome_text(r))}"
                      + (f" [dim]new id {r['role_id']}[/]" if r["role_id"] else ""),
                      highlight=False)
    for f in d.get("follow_up") or []:
        console.print(f"[bold]long-term fix:[/] {escape(f)}", highlight=False)
    print_resumed(console, d.get("resumed"))
    console.print(f"[dim]evidence: {escape(d['evidence_dir'])}[/]", highlight=False)



def _outcome_text(r: dict[str, Any]) -> str:
    """One true sentence per role, from what was done and what IAM showed at the end."""
    text = {CREATED_KEPT: "created, kept", CREATED_REMOVED: "created, then removed",
            EXISTING_KEPT: "already there, kept", EXISTING_REMOVED: "already there, removed",
            REMOVAL_FAILED: ("created, " if r["created"] else "") + "removal FAILED: "
            + r["removal_error"], ALREADY_GONE: "already gone when removal was asked",
            NOT_CREATED: "not created"}[r["outcome"]]
    if r["kept_because"] and r["outcome"] in (CREATED_KEPT, EXISTING_KEPT):
        text += f" ({r['kept_because']})"
    if r.get("exists_after") is not None:
        text += "; it exists now" if r["exists_after"] else "; it does not exist now"
    return text
