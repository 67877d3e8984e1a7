"""bootstrap-role: remove the temporary role once the operation succeeded, only a role
recover created (live tags re-read), and say what is true of each role afterwards."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from rich.markup import escape

from recover.act.executor import Executor
from recover.aws.iam_roles import (
    role_exists,
    role_tags,
)
from recover.decide import role_plan as rp
from recover.run.context import RunContext
from recover.run.errors import (
    RecoverError,
    translate_aws_error,
)
from recover.run.evidence import EvidenceRun
from recover.runbooks.bootstrap_role.calls import removal_calls
from recover.runbooks.bootstrap_role.roles import RoleOutcome
from recover.ui import prompts


def remove_roles(rc: RunContext, ev: EvidenceRun, executor: Executor,
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
                remove_one(rc, ev, executor, o, remove_after, stack=stack,
                            final_status=final_status, operation_done=operation_done)
            except (ClientError, RecoverError) as exc:
                failed = translate_aws_error(exc) or RecoverError(str(exc))
                o.removal_error = failed.message
                rc.console.print(f"[red]could not remove role {escape(o.name)}:[/] "
                                 f"{escape(o.removal_error)}", highlight=False)
        if not rc.options.dry_run:
            o.exists_after = role_exists(rc.aws.client("iam"), o.name)
    return failed


def remove_one(rc: RunContext, ev: EvidenceRun, executor: Executor, o: RoleOutcome,
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
            flag="--remove-role-after or --keep-role", otherwise="keeps the role")
    if not decision:
        o.kept_because = "the operator chose to keep it"
        return
    tags = role_tags(rc.aws.client("iam"), o.name)
    if tags is None:
        o.kept_because = "already gone"
        return
    if not rp.created_by_recover(tags):  # re-checked live: never trust the earlier read
        o.kept_because = refused
        rc.console.print(f"[yellow]{escape(refused)}[/]", highlight=False)
        return
    for call in removal_calls(rc, o.name):
        executor.run(call)  # an error is recorded by remove_roles as removal_failed
    o.removed = True
    rc.console.print(f"[yellow]removed {escape(o.name)}.{escape(blocked_again)}[/]"
                     if blocked_again else f"removed {escape(o.name)}", highlight=False)


def roles_note(outcomes: list[RoleOutcome], stack: str, then: str) -> str:
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


def removal_error(err: RecoverError | None, outcomes: list[RoleOutcome]) -> list[dict[str, Any]]:
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
