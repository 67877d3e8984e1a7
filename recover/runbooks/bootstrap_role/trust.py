"""bootstrap-role: a service role that exists but CloudFormation cannot assume. Show its trust,
widen it by one statement (UpdateAssumeRolePolicy through the executor, after a typed
confirmation or --fix-trust), and put the original back once the operation is done when asked
(--restore-trust-after), only if nobody changed it meanwhile. Never deletes such a role."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from rich.markup import escape

from recover.act.executor import Executor
from recover.aws.iam_roles import role_trust
from recover.decide import trust_fix as tf
from recover.run.context import RunContext
from recover.run.errors import (
    AbortedError,
    NeedsDecisionError,
    PreconditionChangedError,
    RecoverError,
    translate_aws_error,
)
from recover.run.evidence import EvidenceRun
from recover.run.exit_codes import ExitCode
from recover.runbooks.bootstrap_role.calls import trust_call
from recover.runbooks.bootstrap_role.roles import BootstrapRoleOptions, RoleOutcome
from recover.ui import prompts

FIX_FLAG = "--fix-trust"
RESTORE_FLAG = "--restore-trust-after or --keep-trust"


def plan_trust(rc: RunContext, o: RoleOutcome, account: str) -> None:
    """Read the role's trust, judge it and plan the fix (into `o`); a trust that adding a
    statement cannot fix stops the run with what to do by hand."""
    doc = role_trust(rc.aws.client("iam"), o.name)
    if doc is None:
        raise PreconditionChangedError(f"role {o.name} was deleted while recover read it",
                                       hint="run this command again")
    verdict = tf.assess_trust(doc, account)
    o.trust_before, o.trust_verdict = doc, verdict.verdict
    try:
        o.trust_fixed = tf.fixed_trust(doc, account)
    except tf.TrustFixError as exc:
        show_trust(rc, o, verdict)
        raise RecoverError(f"role {o.name} exists but CloudFormation cannot assume it: {exc}",
                           code="role_untrusting", exit_code=ExitCode.FAILURE_FOUND,
                           hint=f"aws iam get-role --role-name {o.name} --query "
                                "Role.AssumeRolePolicyDocument") from exc
    show_trust(rc, o, verdict)


def show_trust(rc: RunContext, o: RoleOutcome, verdict: tf.TrustAssessment) -> None:
    c = rc.console
    c.print(f"[bold]Role {escape(o.name)} exists[/] (not deleted), but its trust policy "
            f"{escape(verdict.summary())}", highlight=False)
    c.print("  trust policy now:", highlight=False)
    for line in json.dumps(o.trust_before, indent=2).splitlines():
        c.print(f"    {escape(line)}", highlight=False)
    if o.trust_fixed is not None:
        c.print("  the smallest fix: add one statement, keep every other "
                "(UpdateAssumeRolePolicy replaces the document with):", highlight=False)
        for line in json.dumps(o.trust_fixed, indent=2).splitlines():
            c.print(f"    {escape(line)}", highlight=False)


def decide_fix(rc: RunContext, ev: EvidenceRun, untrusting: list[RoleOutcome],
               opts: BootstrapRoleOptions) -> None:
    """--fix-trust, or the role name typed (a changed trust lets a service into the role)."""
    names = ", ".join(o.name for o in untrusting)
    if opts.fix_trust:
        if rc.options.dry_run:
            return  # nothing changes: `recover apply` asks before it does
        prompts.confirm_or_abort(rc, ev.journal, f"Update the trust policy of {names} as shown?")
        return
    question = f"Add CloudFormation to the trust policy of {names}?"
    if not rc.interactive:
        raise NeedsDecisionError(question, flag=FIX_FLAG)
    if rc.options.dry_run:
        return
    for o in untrusting:
        if not prompts.typed_confirmation(rc, ev.journal, f"Update the trust policy of {o.name} "
                                          "as shown?", o.name, flag=FIX_FLAG):
            raise AbortedError("the role name was not typed: nothing was changed")


def decide_restore(rc: RunContext, untrusting: list[RoleOutcome],
                   opts: BootstrapRoleOptions) -> bool | None:
    if untrusting and opts.restore_trust_after is None and not rc.interactive:
        raise NeedsDecisionError("put the original trust policy back once the operation is "
                                 "done, or keep the fixed one?", flag=RESTORE_FLAG)
    return opts.restore_trust_after


def fix_calls(untrusting: list[RoleOutcome]) -> list[Any]:
    return [trust_call(o.name, o.trust_fixed or {}, f"let cloudformation.amazonaws.com assume "
                       f"{o.name} (one statement added, every other kept)") for o in untrusting]


def restore_calls(untrusting: list[RoleOutcome]) -> list[Any]:
    return [trust_call(o.name, o.trust_before or {}, f"put back the original trust policy of "
                       f"{o.name}") for o in untrusting]


def apply_fix(rc: RunContext, executor: Executor, untrusting: list[RoleOutcome]) -> None:
    """Re-check each trust right before the change (it must still be the one shown), then
    UpdateAssumeRolePolicy."""
    iam = rc.aws.client("iam")
    for o in untrusting:
        live = role_trust(iam, o.name)
        if live is None or tf.canonical(live) != tf.canonical(o.trust_before):
            raise PreconditionChangedError(f"the trust policy of {o.name} changed since it was "
                                           "read", hint="run this command again")
    for o, call in zip(untrusting, fix_calls(untrusting), strict=True):
        executor.run(call)
        o.trust_changed = True
        rc.progress(f"{o.name} now trusts cloudformation.amazonaws.com")


def restore_trusts(rc: RunContext, ev: EvidenceRun, executor: Executor,
                   outcomes: list[RoleOutcome], restore: bool | None, *,
                   operation_done: bool) -> RecoverError | None:
    """Put each original trust back when asked, only once the operation is done, and only when
    the live document is still recover's (never overwrite someone else's change)."""
    failed: RecoverError | None = None
    iam = rc.aws.client("iam")
    for o in (o for o in outcomes if o.trust_changed):
        decision = restore
        if not operation_done:
            o.trust_kept_because = ("the operation has not finished: the stack still needs "
                                    "CloudFormation to assume the role")
            continue
        if decision is None:
            decision = prompts.choose(rc, ev.journal, f"Put back the original trust policy of "
                                      f"{o.name}? CloudFormation cannot use the role with it.",
                                      [("keep", "keep the fixed trust"),
                                       ("restore", "put back the original trust")],
                                      flag=RESTORE_FLAG) == "restore"
        if not decision:
            o.trust_kept_because = "--keep-trust" if restore is False else "the operator kept it"
            continue
        if failed is not None:
            o.trust_kept_because = "not restored: an earlier restore failed"
            continue
        try:
            live = role_trust(iam, o.name)
            if live is None or tf.canonical(live) != tf.canonical(o.trust_fixed):
                o.trust_kept_because = ("not restored: the trust policy changed after recover "
                                        "updated it (left as it is)")
                rc.console.print(f"[yellow]{escape(o.name)}: {o.trust_kept_because}[/]",
                                 highlight=False)
                continue
            executor.run(restore_calls([o])[0])
            o.trust_restored = True
            rc.progress(f"{o.name}: original trust policy put back")
        except (ClientError, RecoverError) as exc:
            failed = translate_aws_error(exc) or RecoverError(str(exc))
            o.trust_kept_because = f"restore FAILED: {failed.message}"
    return failed


def trust_evidence(outcomes: list[RoleOutcome]) -> list[dict[str, Any]]:
    return [{"arn": o.arn, "verdict": o.trust_verdict, "before": o.trust_before,
             "fixed": o.trust_fixed, "changed": o.trust_changed, "restored": o.trust_restored,
             "kept_because": o.trust_kept_because}
            for o in outcomes if o.state_before == "untrusting"]
