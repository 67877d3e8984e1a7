"""bootstrap-role: what to create and what to do next, from flags or prompts (the pure role
planner is recover.decide.role_plan)."""

from __future__ import annotations

from recover.aws.role_history import RoleHistory
from recover.decide import role_plan as rp
from recover.decide.diagnose import Diagnosis
from recover.decide.rollback_plan import validate_skips
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.errors import (
    AbortedError,
    NeedsDecisionError,
    RecoverError,
    UsageError,
)
from recover.run.evidence import EvidenceRun
from recover.runbooks.bootstrap_role.roles import (
    ADMIN_POLICY,
    BootstrapRoleOptions,
    RoleOutcome,
)
from recover.ui import prompts


def plan_for(rc: RunContext, ev: EvidenceRun, snap: StackSnapshot, o: RoleOutcome,
              opts: BootstrapRoleOptions, history: RoleHistory) -> rp.RolePlan:
    try:
        target = rp.parse_role_arn(o.arn)
    except rp.RolePlanError as exc:
        raise RecoverError(str(exc), code="bad_role_arn") from exc
    policies = tuple(opts.policy_arns)
    if not target.cdk and not policies:
        policies = ask_policies(rc, ev, target, history)
    request = rp.RoleRequest(stack_name=snap.root.name, run_id=ev.run_id,
                             qualifier=opts.qualifier, policy_arns=policies,
                             permissions_boundary=opts.permissions_boundary)
    try:
        return rp.plan_role(target, request)
    except rp.RolePlanError as exc:
        raise UsageError(str(exc)) from exc


def ask_policies(rc: RunContext, ev: EvidenceRun, target: rp.RoleTarget,
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
        raise AbortedError("aborted: name the role's policies with --policy-arn")
    return tuple(answer.split(","))


def decide_then(rc: RunContext, ev: EvidenceRun, snap: StackSnapshot,
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
        raise AbortedError("the stack name was not typed: nothing was changed")
    return answer


def check_skips(snap: StackSnapshot, diag: Diagnosis, then: str, skip: list[str]) -> None:
    """--skip goes to rollback-stuck after the role exists: refuse a bad one before any role is
    created (and one that nothing would use)."""
    if not skip:
        return
    if then != rp.THEN_CONTINUE:
        raise UsageError("--skip is used only with --then continue-rollback")
    if errors := validate_skips(snap, list(diag.findings), skip):
        raise UsageError("invalid --skip: " + "; ".join(errors))
