"""The fault matrix (issue 9, part 1): every runbook against the sandbox's fault injection.

Runbooks x faults. Each cell runs the CLI as a subprocess against a served sandbox and checks
the outcome the fault allows: completes (throttling and transient 5xx: botocore's adaptive
retries absorb them), or stops safely with the right exit code, error code and journal
(AccessDenied on each mutating action in turn, a status changed behind the tool's back between
plan and apply, credentials expiring mid-run). Every cell also checks nothing was lost: no S3
object version or delete marker that existed before disappeared or changed, and no IAM role
that existed before was deleted (the roles that exist before a run were not created by it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from recover.sandbox.generated.check import object_versions
from tests.conftest import recover as run_recover
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Runbook:
    scenario: str
    stack: str
    args: tuple[str, ...]
    final_status: str
    # the IAM actions of the changes the runbook makes on this scenario, in order
    mutating: tuple[str, ...]
    # a status another actor could put the stack in between plan and apply (None: the
    # runbook has no plan applier)
    moved_to: str | None


RUNBOOKS = {
    "rollback-stuck": Runbook(
        "degap", "degap-prod",
        ("rollback-stuck", "degap-prod", "--restore-artifacts", "--poll-interval", "0.1"),
        "UPDATE_ROLLBACK_COMPLETE",
        # CopyObject (restoring an old version in place) is authorised as s3:PutObject on the
        # target, like PutObject itself: there is no s3:CopyObject IAM action (IAM_ACTIONS in
        # recover/sandbox/faults.py), so denying s3:PutObject stops the first restore.
        ("s3:PutObject", "cloudformation:ContinueUpdateRollback"),
        "UPDATE_ROLLBACK_IN_PROGRESS"),
    "delete-failed": Runbook(
        "delete-failed", "legacy-app",
        ("delete-failed", "legacy-app", "--retain-all-failed", "--poll-interval", "0.1"),
        "DELETE_COMPLETE",
        ("cloudformation:DeleteStack",),
        "DELETE_IN_PROGRESS"),
    "bootstrap-role": Runbook(
        "cdk-bootstrap-deleted", "billing-service",
        ("bootstrap-role", "billing-service", "--then", "delete", "--remove-role-after",
         "--poll-interval", "0.1", "--retry-delay", "0.01"),
        "DELETE_COMPLETE",
        ("iam:CreateRole", "iam:AttachRolePolicy", "cloudformation:DeleteStack",
         "iam:DetachRolePolicy", "iam:DeleteRole"),
        "UPDATE_IN_PROGRESS"),
    "reconcile": Runbook(
        "skipped-drift", "billing-api",
        # the three skips drift detection can check (the custom resource stays for a person)
        ("reconcile", "billing-api", "--resource", "AlertTopic", "--resource", "JobsQueue",
         "--resource", "ExportBucket", "--execute", "--poll-interval", "0.1"),
        "UPDATE_COMPLETE",
        ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"),
        "UPDATE_IN_PROGRESS"),
    "express-failed": Runbook(
        "express-wedge", "orders-api",
        ("express-failed", "orders-api", "--poll-interval", "0.1"),
        "UPDATE_COMPLETE",
        ("cloudformation:UpdateStack",),
        "UPDATE_IN_PROGRESS"),
    "custom-resource": Runbook(
        "custom-resource-delete", "reports-pipeline",
        ("custom-resource", "reports-pipeline", "--respond", "SUCCESS", "--poll-interval", "0.1"),
        "DELETE_COMPLETE",
        (),  # its one change is a PUT to a pre-signed URL: no IAM action authorises it
        None),
}
# Changes that are not AWS API calls (recover/act/presigned.py), as the sandbox names them.
NOT_IAM = {"custom-resource": ("cloudformation-response:PutCustomResourceResponse",)}


# The changes of a clean run (tests/test_*_e2e.py), as IAM actions: rollback-stuck restores 4
# code objects (3 CopyObject + 1 PutObject, both s3:PutObject) then continues the rollback once;
# delete-failed deletes the nested child then the root.
CLEAN_RUN_CHANGES = {
    "rollback-stuck": ["s3:PutObject"] * 4 + ["cloudformation:ContinueUpdateRollback"],
    "delete-failed": ["cloudformation:DeleteStack"] * 2,
    "bootstrap-role": list(RUNBOOKS["bootstrap-role"].mutating),
    "reconcile": list(RUNBOOKS["reconcile"].mutating),
    "express-failed": list(RUNBOOKS["express-failed"].mutating),
    "custom-resource": list(NOT_IAM["custom-resource"]),
}


def recover(sb: Any, tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    """Every cell runs unattended (tests.conftest.recover, with --non-interactive --yes)."""
    return run_recover(sb, tmp_path, "--non-interactive", "--yes", *args)


def world_state(sb: Any) -> tuple[dict[tuple[str, str, str], str], set[str]]:
    """Every object version and delete marker of every bucket ((bucket, key, version) -> ETag
    or "delete-marker"), and the names of every IAM role."""
    objects = object_versions(sb.client("s3"))
    iam = sb.client("iam")
    roles = {r["RoleName"] for page in iam.get_paginator("list_roles").paginate()
             for r in page["Roles"]}
    return objects, roles


def assert_nothing_lost(before: tuple[dict, set[str]], after: tuple[dict, set[str]]) -> None:
    objects_before, roles_before = before
    objects_after, roles_after = after
    lost = {k: v for k, v in objects_before.items() if objects_after.get(k) != v}
    assert lost == {}, f"object versions lost or changed: {lost}"
    assert roles_before <= roles_after, f"roles deleted: {roles_before - roles_after}"


def call_entries(data_or_error_env: dict, tmp_path: Path) -> list[dict]:
    """The journal's call entries of the (only) run in the evidence folder."""
    [journal] = list((tmp_path / "ev").rglob("journal.jsonl"))
    return [e for e in read_journal(journal) if e.get("kind") == "call"]


# API operation -> the IAM action that authorises it, where they differ
IAM_ACTION = {"s3:CopyObject": "s3:PutObject"}


def op_of(entry: dict) -> str:
    """The IAM action of a journaled call."""
    call = entry["call"]
    op = f"{call['service']}:{call['operation']}"
    return IAM_ACTION.get(op, op)


def final_status(sb: Any, stack: str) -> str:
    cfn = sb.client("cloudformation")
    return next(s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]
                if s["StackName"] == stack)


def start(sandbox: Any, rb: Runbook) -> tuple[Any, tuple[dict, set[str]]]:
    sb = sandbox(rb.scenario)
    return sb, world_state(sb)


# --- faults the run must absorb -----------------------------------------------------------

@pytest.mark.parametrize("fault", ["throttle", "server_error", "connection_reset"])
@pytest.mark.parametrize("name", list(RUNBOOKS))
def test_completes_under_30_percent_transient_faults(sandbox, tmp_path: Path, name: str,
                                                     fault: str) -> None:
    rb = RUNBOOKS[name]
    sb, before = start(sandbox, rb)
    # 30% of the calls of every operation (each operation the runbook uses included) fail with
    # a throttling error, a 500, or no answer at all (the connection dropped before the
    # request was served); botocore's adaptive retries (recover/aws/session.py) retry, and
    # the LookupEvents reader's own loop (recover/cloudtrail/sources.py) for LookupEvents.
    getattr(sb.world, fault)("*", 30.0, seed=9)
    code, env, err = recover(sb, tmp_path, *rb.args)
    sb.world.faults.clear()
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == rb.final_status
    assert final_status(sb, rb.stack) == rb.final_status
    # Each change was sent exactly once, as in a clean run (retries happen below the journal).
    ops = [op_of(e) for e in call_entries(env, tmp_path) if e["phase"] == "before"]
    assert sorted(ops) == sorted(CLEAN_RUN_CHANGES[name])
    assert_nothing_lost(before, world_state(sb))


# --- no answer at all on LookupEvents: retried inside the 2 requests/s budget -------------

LOOKUP = "cloudtrail:LookupEvents"
# Commands that read CloudTrail's event history on their scenario, with what they end in.
LOOKUP_COMMANDS = {
    "rollback-stuck": (RUNBOOKS["rollback-stuck"], None),
    "artifacts": (RUNBOOKS["rollback-stuck"],
                  ("artifacts", "degap-prod", "--restore")),
    "bootstrap-role": (RUNBOOKS["bootstrap-role"], None),  # the deleted role's history
}


@pytest.mark.parametrize("name", list(LOOKUP_COMMANDS))
def test_resets_on_lookup_events_complete_at_two_requests_per_second(
        sandbox, tmp_path: Path, name: str) -> None:
    rb, args = LOOKUP_COMMANDS[name]
    sb, before = start(sandbox, rb)
    # the first 3 requests in a row get no answer (one page, 3 attempts), then 40% of them
    sb.world.connection_reset(LOOKUP, 100.0, times=3)
    sb.world.faults.on_request(LOOKUP, lambda: sb.world.connection_reset(LOOKUP, 40.0, seed=3),
                               nth=4)
    code, env, err = recover(sb, tmp_path, *(args or rb.args))
    sb.world.faults.clear()
    assert code == ExitCode.OK, err
    if args is None:
        assert env["data"]["final_status"] == rb.final_status
    else:
        assert env["data"]["still_missing"] == 0 and len(env["data"]["restored"]) == 4
    log = sb.world.faults.request_log(LOOKUP)
    assert log["faults"]["connection_reset"] >= 3  # resets happened, and were retried
    # counted on the sandbox side, resets included: the limiter holds retries too
    assert log["max_in_any_second"] <= 2, log
    assert max(log["per_second"].values()) <= 2, log
    assert_nothing_lost(before, world_state(sb))


@pytest.mark.parametrize("operation", ["cloudformation:DescribeStacks", LOOKUP])
def test_no_answer_after_every_attempt_is_one_line_naming_the_call(
        sandbox, tmp_path: Path, operation: str) -> None:
    rb = RUNBOOKS["rollback-stuck"]
    sb, before = start(sandbox, rb)
    sb.world.connection_reset(operation, 100.0)
    env_vars = dict(sb.env(), AWS_MAX_ATTEMPTS="2")  # the engineer's own retry setting
    proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", "json",
                    "--non-interactive", "--yes", "--evidence-dir", str(tmp_path / "ev"),
                    *rb.args], env=env_vars, timeout=300)
    sb.world.faults.clear()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == ExitCode.ERROR, proc.stderr
    [error] = json.loads(proc.stdout)["errors"]
    assert error["code"] == "no_answer"
    assert operation in error["message"] and "2 attempts" in error["message"]
    assert "\n" not in error["message"]
    assert len(sb.world.faults.arrivals(operation)) == 2  # bounded, as configured
    assert_nothing_lost(before, world_state(sb))


# --- AccessDenied on each mutating action in turn ------------------------------------------

DENY_CELLS = [(name, action) for name, rb in RUNBOOKS.items() for action in rb.mutating]


@pytest.mark.parametrize(("name", "action"), DENY_CELLS, ids=[f"{n}-{a}" for n, a in DENY_CELLS])
def test_access_denied_stops_at_that_call(sandbox, tmp_path: Path, name: str,
                                          action: str) -> None:
    rb = RUNBOOKS[name]
    sb, before = start(sandbox, rb)
    sb.world.deny(action)
    code, env, err = recover(sb, tmp_path, *rb.args)
    sb.world.faults.clear()
    assert code == ExitCode.AWS_AUTH, err
    [error] = env["errors"]
    assert error["code"] == "access_denied"
    assert action in error["message"]
    entries = call_entries(env, tmp_path)
    # The journal shows the denied call as the last thing sent, failed, and nothing after it.
    assert entries[-2]["phase"] == "before" and op_of(entries[-2]) == action
    assert entries[-1]["phase"] == "after" and entries[-1]["ok"] is False
    assert entries[-1]["ref"] == entries[-2]["seq"]
    sent = [op_of(e) for e in entries if e["phase"] == "before"]
    assert set(sent) <= set(rb.mutating[:rb.mutating.index(action) + 1])
    assert all(e["ok"] for e in entries[:-1] if e["phase"] == "after")
    assert_nothing_lost(before, world_state(sb))


# --- the stack moved between plan and apply ------------------------------------------------

@pytest.mark.parametrize("name", [n for n, rb in RUNBOOKS.items() if rb.moved_to])
def test_status_changed_between_plan_and_apply_sends_nothing(sandbox, tmp_path: Path,
                                                             name: str) -> None:
    rb = RUNBOOKS[name]
    sb, before = start(sandbox, rb)
    plan = tmp_path / "plan.json"
    code, _, err = recover(sb, tmp_path, "--dry-run", *rb.args, "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    sb.world.set_stack_status(rb.stack, rb.moved_to)  # another actor
    code, env, err = recover(sb, tmp_path / "apply", "apply", str(plan))
    assert code == ExitCode.PRECONDITION_CHANGED, err
    [error] = env["errors"]
    assert error["code"] == "precondition_changed" and rb.moved_to in error["message"]
    journals = list((tmp_path / "apply" / "ev").rglob("journal.jsonl"))
    sent = [e for j in journals for e in read_journal(j) if e.get("kind") == "call"]
    assert sent == []  # nothing sent
    assert final_status(sb, rb.stack) == rb.moved_to
    assert_nothing_lost(before, world_state(sb))


# --- credentials expiring mid-run ----------------------------------------------------------

@pytest.mark.parametrize("name", list(RUNBOOKS))
def test_credentials_expiring_mid_run_stop_with_a_clear_message(sandbox, tmp_path: Path,
                                                                name: str) -> None:
    rb = RUNBOOKS[name]
    sb, before = start(sandbox, rb)
    # past the first reads (and the GetTemplate of each stack of the tree, read once per run
    # for redaction: 3 for degap, 1 for billing-service), before the end
    sb.world.expire_credentials(after_calls={"bootstrap-role": 21, "reconcile": 12,
                                             "express-failed": 13,
                                             "custom-resource": 9}.get(name, 23))
    code, env, err = recover(sb, tmp_path, *rb.args)
    sb.world.faults.clear()
    assert code == ExitCode.AWS_AUTH, err
    [error] = env["errors"]
    assert error["code"] == "expired_token"
    assert "ExpiredToken" in error["message"] and "refresh them and run again" in error["message"]
    # The journal is whole: every change sent before the expiry succeeded, and at most the last
    # one failed (when the expiry hit a change rather than a read); nothing after a failure.
    afters = [e for e in call_entries(env, tmp_path) if e["phase"] == "after"]
    assert all(e["ok"] for e in afters[:-1])
    assert_nothing_lost(before, world_state(sb))


# --- the stack moved between plan and act, in one interactive run ---------------------------

# runbook -> (answers before the last question as (expect, send) pairs, the last question).
# rollback-stuck restores the missing artifacts (the engineer asked: --restore-artifacts, and
# approves the restores shown) before it asks to continue the rollback, so the 4 uploads (new versions, nothing overwritten) precede
# the question; nothing may be sent after it.
SENT_BEFORE_QUESTION = {"rollback-stuck": ["s3:PutObject"] * 4}
INTERACTIVE = {
    "rollback-stuck": (((r"Restore these 4 code object\(s\) as shown", "\r"),),
                       r"Call ContinueUpdateRollback on degap-prod \(no skips\)\?"),
    "delete-failed": ((), r"Delete 2 stack\(s\) of legacy-app, retaining 4 resource\(s\)\?"),
    "bootstrap-role": ((), r"Create role cdk-hnb659fds-cfn-exec-role-\S+ as shown\?"),
}


@pytest.mark.parametrize("name", list(INTERACTIVE))
def test_status_changed_at_the_confirmation_sends_nothing(sandbox, tmp_path: Path,
                                                          name: str) -> None:
    pexpect = pytest.importorskip("pexpect")
    from tests.e2e.test_interactive_pty import spawn

    rb = RUNBOOKS[name]
    sb, before = start(sandbox, rb)
    answers, question = INTERACTIVE[name]
    child = spawn(sb, tmp_path, *rb.args)
    for expect, send in answers:
        child.expect(expect, timeout=30)
        child.send(send)
    child.expect(question, timeout=30)
    sb.world.set_stack_status(rb.stack, rb.moved_to)  # another actor, while the engineer reads
    child.send("y")
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    transcript = (tmp_path / "transcript.txt").read_text()
    assert child.exitstatus == ExitCode.PRECONDITION_CHANGED, transcript
    assert rb.moved_to in transcript
    entries = [e for j in tmp_path.rglob("journal.jsonl") for e in read_journal(j)
               if e.get("kind") == "call"]
    sent = [op_of(e) for e in entries if e["phase"] == "before"]
    assert sent == SENT_BEFORE_QUESTION.get(name, [])  # nothing sent after the question
    assert all(e["ok"] for e in entries if e["phase"] == "after")
    assert final_status(sb, rb.stack) == rb.moved_to
    assert_nothing_lost(before, world_state(sb))


# --- the answer of one change lost: the retry meets the change itself ---------------------

# Every change each runbook makes on its scenario, as the sandbox names the operation (a
# restore of an earlier version is a CopyObject, of bytes found in Lambda a PutObject).
SANDBOX_OPS = {"s3:PutObject": ("s3:CopyObject", "s3:PutObject")}
CHANGES = {name: tuple(dict.fromkeys(o for op in rb.mutating for o in SANDBOX_OPS.get(op, (op,))))
           + NOT_IAM.get(name, ()) for name, rb in RUNBOOKS.items()}


@pytest.mark.parametrize(("name", "operation"),
                         [(n, op) for n, ops in CHANGES.items() for op in ops])
def test_a_change_whose_answer_was_lost_is_recognised_and_the_run_completes(
        sandbox, tmp_path: Path, name: str, operation: str) -> None:
    rb = RUNBOOKS[name]
    sb, before = start(sandbox, rb)
    # AWS makes the change, then the connection drops before the answer; botocore sends the
    # same request again, which meets the change itself ("already exists", "no such entity",
    # 412, or a ClientRequestToken already seen).
    sb.world.answer_lost(operation, 100.0, times=1)
    code, env, err = recover(sb, tmp_path, *rb.args)
    fired = sb.world.faults.fired[("answer_lost", operation)]
    sb.world.faults.clear()
    assert fired == 1, f"{operation} was never called on this scenario"
    assert code == ExitCode.OK, err
    assert final_status(sb, rb.stack) == rb.final_status
    # each change journaled once, as in a clean run
    ops = [op_of(e) for e in call_entries(env, tmp_path) if e["phase"] == "before"]
    assert sorted(ops) == sorted(CLEAN_RUN_CHANGES[name])
    assert_nothing_lost(before, world_state(sb))
