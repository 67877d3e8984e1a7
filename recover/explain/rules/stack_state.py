"""Operations refused because of the stack's status, and misuse of ResourcesToSkip / RetainResources."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import STACK_ARN_RE, STATUS_RE, Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import (
    DELETE_FAILED,
    EXPRESS_FAILED,
    ROLLBACK_STUCK,
    FailureMode,
    Kind,
)


def _state(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m:
        out["status"] = m.group(1)
        # The subject is the word before "is in": `Stack:arn:...`, `Stack [name]`, `Stack name`.
        # (Looked up after the match: a `(\S*)\s+is in` pattern would backtrack quadratically.)
        words = m.string[max(0, m.start() - 300):m.start()].split()
        subject = words[-1].removeprefix("Stack:") if words else ""
        if subject.lower() in ("stack", "stack:"):
            subject = ""
        arn = STACK_ARN_RE.search(subject)
        if arn:
            out["stack_arn"], out["stack_name"] = arn.group(0), arn.group(1)
        elif subject:
            out["stack_name"] = subject.strip("[]")
    return out


def _state_advice(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out = _state(m, msg)
    status = out.get("status", "")
    advice = {
        "UPDATE_ROLLBACK_FAILED": "it cannot be updated until the rollback is continued "
                                  "(ContinueUpdateRollback) or the stack is deleted; runbook "
                                  "rollback-stuck continues it.",
        "ROLLBACK_COMPLETE": "a stack whose creation failed and rolled back can only be deleted; "
                             "delete it and create it again.",
        "ROLLBACK_FAILED": "the failed creation could not even roll back; only a delete "
                           "(possibly retaining resources) gets out of it.",
        "DELETE_FAILED": "it cannot be updated; delete it again, retaining what cannot be "
                         "deleted (runbook delete-failed).",
    }.get(status, "another operation is still running; wait for it to reach a terminal status."
          if status.endswith("IN_PROGRESS") else "the requested operation is not allowed from it.")
    out["state_advice"] = advice
    if status == "UPDATE_ROLLBACK_FAILED":
        out["_runbook"] = ROLLBACK_STUCK
    elif status == "DELETE_FAILED":
        out["_runbook"] = DELETE_FAILED
    return out


def _skip(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    text = msg.text.lower()
    if "nested stacks could not be skipped" in text:
        rule = ("an AWS::CloudFormation::Stack resource can be skipped only when its child stack is "
                "DELETE_IN_PROGRESS, DELETE_COMPLETE or DELETE_FAILED; skip the failed resources "
                "inside the child instead, as <child-stack-name>.<LogicalId>")
    elif "does not belong to stack" in text:
        rule = ("a resource of a nested stack must be named <child-stack-name>.<LogicalId>, not by "
                "its bare logical id")
    else:
        rule = ("only resources that went UPDATE_FAILED during the rollback may be skipped, not ones "
                "that failed in the forward update or were cancelled")
    return {"skip_rule": rule}


E_STATE = (
    "The operation was refused because the stack is in {status}: {state_advice} Nothing changed "
    "in the stack; deal with the status first (`recover diagnose STACK`).")


E_TERMINATION = (
    "DeleteStack was refused because termination protection is enabled (for nested stacks it "
    "is set on the root). The stack and its status are unchanged. If deleting is really "
    "intended, disable it (`aws cloudformation update-termination-protection "
    "--no-enable-termination-protection --stack-name ROOT`) and delete again.")


E_CHILD = (
    "ContinueUpdateRollback was called on a nested (child) stack. AWS only accepts it on the "
    "root stack; resources of nested stacks are skipped from the root as "
    "`<child-stack-name>.<LogicalId>` (docs/reference/aws-behaviour.md#continueupdaterollback-runs-on-the-root, docs/reference/aws-behaviour.md#resourcestoskip-rules). Call it on the root: "
    "runbook rollback-stuck does that.")


E_SKIP = (
    "ContinueUpdateRollback rejected the ResourcesToSkip list: {skip_rule} ("
    "docs/reference/aws-behaviour.md#resourcestoskip-rules). Recompute the list from the resources that failed during the rollback "
    "(runbook rollback-stuck computes a valid one).")


E_RETAIN = (
    "DeleteStack rejected RetainResources (or FORCE_DELETE_STACK): they are accepted only when "
    "the stack is DELETE_FAILED, and only for resources not already DELETE_COMPLETE "
    "(docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed, docs/reference/aws-behaviour.md#which-resources-may-be-retained). Delete once without them, then retain only what failed: "
    "runbook delete-failed.")


E_SKIP_DRIFT = (
    "Resources skipped by ContinueUpdateRollback were marked UPDATE_COMPLETE without being "
    "rolled back, so their real state is not the template's "
    "(docs/reference/aws-behaviour.md#resourcestoskip-rules rule 6); drift detection shows what "
    "differs (docs/reference/aws-behaviour.md#drift-detection). Bring them back in line before "
    "the next deploy: runbook reconcile (a REVERT_DRIFT change set, or what to do by hand).")
E_EXPRESS = (
    "The stack's last update ran in EXPRESS deployment mode with rollback off and failed, so it "
    "is UPDATE_FAILED; until it is *_COMPLETE again AWS accepts only operations in EXPRESS mode: "
    "RollbackStack and classic updates or change sets are refused "
    "(docs/reference/aws-behaviour.md#express-deployment-mode). Replay the last stable template "
    "in EXPRESS mode: runbook express-failed.")
E_ROLLBACK_ON = (
    "An update that turns rollback on was sent to an UPDATE_FAILED stack (a failed update with "
    "rollback off). A STANDARD stack can be retried with rollback still disabled or rolled back "
    "(RollbackStack). If its last update used EXPRESS mode, neither works: replay the last stable "
    "template in EXPRESS mode, runbook express-failed "
    "(docs/reference/aws-behaviour.md#express-deployment-mode).")


E_NO_UPDATES = (
    "Not a failure: the template and parameters are identical to what is deployed, so "
    "CloudFormation had nothing to do.")


RULES: tuple[Rule, ...] = family(
    "stack_state",
    Rule("stack-termination-protection", FailureMode.STACK_STATE_BLOCKED, 40, E_TERMINATION,
         when(r"TerminationProtection is enabled", r"termination protection"),
         examples=('Stack [prod] cannot be deleted while TerminationProtection is enabled',)),
    Rule("continue-rollback-on-child", FailureMode.STACK_STATE_BLOCKED, 40, E_CHILD,
         when(r"cannot be invoked on child stacks"), runbook=ROLLBACK_STUCK,
         examples=('RollbackUpdatedStack cannot be invoked on child stacks',)),
    Rule("skip-list-rejected", FailureMode.STACK_STATE_BLOCKED, 40, E_SKIP,
         when(r"Only the resources failed during UpdateRollback are allowed to be skipped",
              r"Nested stacks could not be skipped", r"does not belong to stack",
              extract=_skip), runbook=ROLLBACK_STUCK,
         examples=('Only the resources failed during UpdateRollback are allowed to be skipped',)),
    Rule("retain-resources-rejected", FailureMode.STACK_STATE_BLOCKED, 40, E_RETAIN,
         when(r"only when the stack is in the DELETE_FAILED state",
              r"resources to retain must be in a valid state"), runbook=DELETE_FAILED,
         examples=('The specified resources to retain must be in a valid state. Do not specify resources that are in the DELETE_COMPLETE state.',)),
    Rule("skipped-resources-inconsistent", FailureMode.SKIPPED_RESOURCE_DRIFT, 45, E_SKIP_DRIFT,
         when(r"skipped resources will be inconsistent",
              r"StackResourceDriftStatus\W+(?:MODIFIED|DELETED)"),
         examples=('After the rollback is complete, the state of the skipped resources will be inconsistent with the state of the resources in the stack template.',)),
    Rule("express-follow-up-refused", FailureMode.EXPRESS_UPDATE_FAILED, 45, E_EXPRESS,
         when(r"previous operation that used EXPRESS deployment mode",
              r"last updated using EXPRESS deployment mode"), runbook=EXPRESS_FAILED,
         examples=('RollbackStack is not supported for stacks that were last updated using EXPRESS deployment mode and are in a failed state',)),
    Rule("update-failed-rollback-on", FailureMode.STACK_STATE_BLOCKED, 45, E_ROLLBACK_ON,
         when(r"non-terminal \[UPDATE_FAILED\] state.{0,120}disable-rollback parameter"),
         examples=('This stack is currently in a non-terminal [UPDATE_FAILED] state. To update the stack from this state, please use the disable-rollback parameter with update-stack API.',)),
    Rule("stack-status-refused", FailureMode.STACK_STATE_BLOCKED, 40, E_STATE,
         when(r"\bis in (" + STATUS_RE.pattern[2:-2] + r") state and can ?not",
              r"\bis (?:currently )?in (" + STATUS_RE.pattern[2:-2] + r") state",
              extract=_state_advice), defaults={"status": "a status that forbids it"},
         examples=('Stack:arn:aws:cloudformation:us-east-1:123456789012:stack/app/1a2b is in UPDATE_ROLLBACK_FAILED state and can not be updated.',)),
    Rule("no-updates", FailureMode.NO_CHANGE, 3, E_NO_UPDATES,
         when(r"No updates are to be performed",
              r"submitted information didn't contain changes"),
         examples=('No updates are to be performed.',),
         kind=Kind.NOT_A_FAILURE),
)
