"""Interruption and resume (issue 9, part 2): Ctrl-C (SIGINT) and SIGTERM at each step of each
runbook, then the same command again.

Each cell runs the CLI as a subprocess against a served sandbox. The sandbox calls back when the
request of the chosen step arrives (before serving it) and the test signals the CLI process right
then, so the signal lands while the CLI waits for that very call. Checked for every cell:

- the interrupted run exits 130 (SIGINT) or 143 (SIGTERM) without a traceback, and its evidence
  folder says `interrupted` with the signal; its journal is whole: a change in flight was
  finished and its answer journaled before stopping (no change is left in doubt by one signal);
- the same command run again resumes from that evidence (`resumed_from`) and ends where a clean
  run ends;
- across both runs every change reached AWS exactly as often as in a clean run (counted on the
  sandbox side): nothing repeated, nothing lost (`assert_nothing_lost`), the orphan ledger whole.

Two more kinds of cell: a second signal while a change is in flight (the run stops at once and
journals the call as in doubt; the next run finds out from the stack's events whether it ran), and
a call in doubt that never reached AWS (sent again with the same ClientRequestToken).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from recover.orphans import ledger
from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import REPO
from tests.reliability.test_fault_matrix import (
    RUNBOOKS as MATRIX_RUNBOOKS,
)
from tests.reliability.test_fault_matrix import (
    Runbook,
    assert_nothing_lost,
    world_state,
)

pytestmark = pytest.mark.e2e

# The runbooks of the fault matrix, and `recover artifacts --restore` (it uploads too).
RUNBOOKS = dict(MATRIX_RUNBOOKS, artifacts=Runbook(
    "degap", "degap-prod", ("artifacts", "degap-prod", "--restore"), "", ("s3:PutObject",), ""))

MUTATING = {"s3:PutObject", "s3:CopyObject", "cloudformation:ContinueUpdateRollback",
            "cloudformation:DeleteStack", "iam:CreateRole", "iam:AttachRolePolicy",
            "iam:DetachRolePolicy", "iam:DeleteRole", "s3:DeleteObjects",
            "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"}

# What a clean run sends, counted on the sandbox side (the sandbox names CopyObject PutObject:
# same HTTP verb and IAM action).
CLEAN = {
    "artifacts": Counter({"s3:PutObject": 4}),
    "rollback-stuck": Counter({"s3:PutObject": 4, "cloudformation:ContinueUpdateRollback": 1}),
    "delete-failed": Counter({"cloudformation:DeleteStack": 2}),
    "bootstrap-role": Counter({"iam:CreateRole": 1, "iam:AttachRolePolicy": 1,
                               "cloudformation:DeleteStack": 1, "iam:DetachRolePolicy": 1,
                               "iam:DeleteRole": 1}),
    "reconcile": Counter({"cloudformation:CreateChangeSet": 1,
                          "cloudformation:ExecuteChangeSet": 1}),
}


@dataclass(frozen=True)
class Step:
    runbook: str
    name: str
    operation: str  # the sandbox-side "<service>:<Operation>" the signal lands on
    nth: int = 1
    # seconds per simulated resource step: long enough for the next run to find an operation
    # still running where that is the point of the cell
    step_delay: float = 0.02


# Each step of each runbook, in the order a clean run reaches them (see the module docstring of
# each flow): reading, searching, every change in flight, following, cleaning up.
STEPS = [
    Step("artifacts", "searching CloudTrail", "cloudtrail:LookupEvents"),
    Step("artifacts", "restoring the 3rd code object", "s3:PutObject", 3),
    Step("rollback-stuck", "reading the stack", "cloudformation:DescribeStacks"),
    Step("rollback-stuck", "searching CloudTrail", "cloudtrail:LookupEvents"),
    Step("rollback-stuck", "restoring the 2nd code object", "s3:PutObject", 2),
    Step("rollback-stuck", "re-checking before the call", "cloudformation:DescribeStacks", 4),
    Step("rollback-stuck", "ContinueUpdateRollback in flight",
         "cloudformation:ContinueUpdateRollback", step_delay=0.3),
    Step("rollback-stuck", "following the rollback", "cloudformation:DescribeStackEvents", 7,
         step_delay=0.3),
    Step("delete-failed", "reading the stack", "cloudformation:DescribeStacks"),
    Step("delete-failed", "capturing the orphans", "cloudformation:GetTemplate"),
    Step("delete-failed", "DeleteStack of the nested stack in flight",
         "cloudformation:DeleteStack", step_delay=0.3),
    Step("delete-failed", "following the nested stack's delete",
         "cloudformation:DescribeStackEvents", 5, step_delay=0.3),
    Step("delete-failed", "DeleteStack of the root in flight", "cloudformation:DeleteStack", 2,
         step_delay=0.3),
    Step("bootstrap-role", "reading the stack", "cloudformation:DescribeStacks"),
    Step("bootstrap-role", "reading the role's history", "cloudtrail:LookupEvents"),
    Step("bootstrap-role", "CreateRole in flight", "iam:CreateRole"),
    Step("bootstrap-role", "AttachRolePolicy in flight", "iam:AttachRolePolicy"),
    Step("bootstrap-role", "DeleteStack in flight", "cloudformation:DeleteStack",
         step_delay=0.3),
    Step("bootstrap-role", "following the delete", "cloudformation:DescribeStackEvents", 3,
         step_delay=0.3),
    Step("bootstrap-role", "removing the role: DetachRolePolicy in flight",
         "iam:DetachRolePolicy"),
    Step("bootstrap-role", "removing the role: DeleteRole in flight", "iam:DeleteRole"),
    Step("reconcile", "detecting drift", "cloudformation:DetectStackResourceDrift", 2),
    Step("reconcile", "CreateChangeSet in flight", "cloudformation:CreateChangeSet"),
    Step("reconcile", "ExecuteChangeSet in flight", "cloudformation:ExecuteChangeSet",
         step_delay=0.3),
]


def start_cli(sb: Any, tmp_path: Path, args: tuple[str, ...]) -> subprocess.Popen[str]:
    env = dict(os.environ, **sb.env(), RECOVER_ORPHAN_LEDGER=str(tmp_path / "orphans.json"))
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "recover", "--endpoint-url", sb.endpoint, "--region", sb.region,
         "--output", "json", "--non-interactive", "--yes", "--evidence-dir",
         str(tmp_path / "ev"), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in err, err
    return proc.returncode, json.loads(out), err


def record_requests(sb: Any) -> list[str]:
    """Every request the sandbox receives, as "<service>:<Operation>", in order."""
    seen: list[str] = []
    fire = sb.world.faults.fire_hooks

    def recording(service: str, operation: str) -> None:
        seen.append(f"{service}:{operation}")
        fire(service, operation)

    sb.world.faults.fire_hooks = recording
    return seen


def run_dirs(tmp_path: Path) -> list[Path]:
    return sorted((p.parent for p in (tmp_path / "ev").rglob("metadata.json")),
                  key=lambda d: json.loads((d / "metadata.json").read_text())["started_at"])


def calls_of(run_dir: Path) -> list[dict[str, Any]]:
    return [e for e in read_journal(run_dir / "journal.jsonl") if e.get("kind") == "call"]


def interrupt_then_resume(sandbox: Any, tmp_path: Path, step: Step, sig: int, *,
                          signals: int = 1, drop_request: bool = False
                          ) -> tuple[Any, list[str], Path, dict[str, Any]]:
    """Run the runbook, signal it `signals` times when `step` is reached, check the stopped run,
    run the same command again and return (sandbox, requests seen, first run dir, envelope)."""
    rb = RUNBOOKS[step.runbook]
    sb = sandbox(rb.scenario, step_delay=step.step_delay)
    before = world_state(sb)
    requests = record_requests(sb)
    proc: subprocess.Popen[str] | None = None
    landed = threading.Event()

    def land() -> None:
        assert proc is not None
        if drop_request:  # this request will fail before AWS acts on it (checked after hooks)
            sb.world.server_error(step.operation, 100.0)
        for _ in range(signals):
            proc.send_signal(sig)
            time.sleep(0.3)  # the CLI handles it while it waits for this very request
        landed.set()

    sb.world.faults.on_request(step.operation, land, step.nth)
    proc = start_cli(sb, tmp_path, rb.args)
    if sig == signal.SIGKILL:  # nothing runs in the CLI after a kill: no envelope to read
        proc.communicate(timeout=300)
        code = proc.returncode
    else:
        code, env, err = finish(proc)
    assert landed.wait(10), f"the run never reached {step.operation} #{step.nth}"
    time.sleep(0.2)  # the sandbox has answered the request the hook held
    sb.world.faults.clear()
    [first] = run_dirs(tmp_path)
    meta = json.loads((first / "metadata.json").read_text())
    entries = calls_of(first)
    befores = {e["seq"] for e in entries if e["phase"] == "before"}
    afters = {e["ref"]: e for e in entries if e["phase"] == "after"}
    if sig == signal.SIGKILL:
        # Killed: the metadata still says running and the change in flight has no answer.
        assert code == -signal.SIGKILL and meta["outcome"] == "running"
        assert befores - set(afters) == {entries[-1]["seq"]}
    else:
        expected = ExitCode.TERMINATED if sig == signal.SIGTERM else ExitCode.INTERRUPTED
        assert code == expected, err
        assert env["errors"][0]["code"] == "interrupted"
        assert meta["outcome"] == "interrupted" and meta["signal"] == signal.Signals(sig).name
        assert set(afters) == befores, "every change sent has its answer (or doubt) journaled"
    if signals == 1 and sig != signal.SIGKILL:  # one signal never cuts a change in two
        assert all(a["ok"] is True for a in afters.values()), entries

    code, env, err = finish(start_cli(sb, tmp_path, rb.args))
    assert code == ExitCode.OK, (env.get("errors"), err[-3000:])
    if rb.final_status:
        assert env["data"]["final_status"] == rb.final_status
    else:  # artifacts: every key is there, restored by one run or the other
        assert env["data"]["still_missing"] == 0 and not env["data"]["unknown"]
    dirs = run_dirs(tmp_path)
    assert len(dirs) == 2
    resumed = json.loads((dirs[1] / "metadata.json").read_text())
    assert resumed.get("resumed_from") == [str(first)]
    assert env["data"]["resumed"]["runs"][0]["dir"] == str(first)
    assert_nothing_lost(before, world_state(sb))
    return sb, requests, first, env


def sent_changes(requests: list[str]) -> Counter[str]:
    return Counter(r for r in requests if r in MUTATING)


def check_runbook_end(sb: Any, step: Step, tmp_path: Path) -> None:
    if step.runbook == "delete-failed":  # every retained resource is in the ledger
        entries = ledger.load(tmp_path / "orphans.json")["orphans"]
        assert sorted(e["logical_id"] for e in entries) == \
            ["AppBucket", "AppSecurityGroup", "FlowLogsBucket", "SeedData"]
        assert {e["state"] for e in entries} == {"retained"}
        # and retained means still there: the engineer approved deleting the stacks, not these
        s3, ec2 = sb.client("s3"), sb.client("ec2")
        for e in entries:
            if e["resource_type"] == "AWS::S3::Bucket":
                s3.head_bucket(Bucket=e["physical_id"])
            elif e["resource_type"] == "AWS::EC2::SecurityGroup":
                assert ec2.describe_security_groups(GroupIds=[e["physical_id"]])["SecurityGroups"]
    if step.runbook == "bootstrap-role":  # the temporary role is gone, created once
        roles = {r["RoleName"] for r in sb.client("iam").list_roles()["Roles"]}
        assert not any(r.startswith("cdk-hnb659fds-cfn-exec-role") for r in roles)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("step", STEPS, ids=[f"{s.runbook}-{s.name}" for s in STEPS])
def test_interrupted_at_each_step_resumes_without_repeating_a_change(
        sandbox: Any, tmp_path: Path, step: Step, sig: int) -> None:
    sb, requests, _, _ = interrupt_then_resume(sandbox, tmp_path, step, sig)
    assert sent_changes(requests) == CLEAN[step.runbook]
    check_runbook_end(sb, step, tmp_path)


IN_FLIGHT = [s for s in STEPS if s.operation in MUTATING]


@pytest.mark.parametrize("step", IN_FLIGHT, ids=[f"{s.runbook}-{s.name}" for s in IN_FLIGHT])
def test_second_signal_leaves_the_change_in_doubt_and_the_next_run_settles_it(
        sandbox: Any, tmp_path: Path, step: Step) -> None:
    sb, requests, first, env = interrupt_then_resume(sandbox, tmp_path, step, signal.SIGINT,
                                                      signals=2)
    last = calls_of(first)[-1]
    assert last["phase"] == "after" and last["in_doubt"] is True and last["ok"] is None
    assert env["data"]["resumed"]["changes_in_doubt"], env["data"]["resumed"]
    # The call did reach AWS (the sandbox served it after the client gave up): the next run
    # finds it done and does not send it again.
    assert sent_changes(requests) == CLEAN[step.runbook]
    check_runbook_end(sb, step, tmp_path)


@pytest.mark.parametrize("step", IN_FLIGHT, ids=[f"{s.runbook}-{s.name}" for s in IN_FLIGHT])
def test_killed_while_a_change_is_in_flight_the_next_run_settles_it(
        sandbox: Any, tmp_path: Path, step: Step) -> None:
    """kill -9 (or an OOM kill, a lost host): nothing is journaled after the call was sent, the
    metadata still says running; the next run treats the call as in doubt and finds it ran."""
    sb, requests, _, env = interrupt_then_resume(sandbox, tmp_path, step, signal.SIGKILL)
    assert env["data"]["resumed"]["runs"][0]["outcome"] == "running"
    assert env["data"]["resumed"]["changes_in_doubt"]
    assert sent_changes(requests) == CLEAN[step.runbook]
    check_runbook_end(sb, step, tmp_path)


NOT_RECEIVED = [s for s in IN_FLIGHT if s.operation.startswith("cloudformation:")]


@pytest.mark.parametrize("step", NOT_RECEIVED,
                         ids=[f"{s.runbook}-{s.name}" for s in NOT_RECEIVED])
def test_a_call_in_doubt_that_never_ran_goes_again_with_the_same_token(
        sandbox: Any, tmp_path: Path, step: Step) -> None:
    sb, requests, first, _ = interrupt_then_resume(sandbox, tmp_path, step, signal.SIGINT,
                                                   signals=2, drop_request=True)
    doubt = calls_of(first)[-2]["call"]  # the before entry of the call left in doubt
    [second] = [d for d in run_dirs(tmp_path) if d != first]
    again = [e["call"] for e in calls_of(second) if e["phase"] == "before"
             and e["call"]["operation"] == doubt["operation"]
             and e["call"]["params"]["StackName"] == doubt["params"]["StackName"]]
    assert again, "the call in doubt was not sent again"
    token = "ClientToken" if doubt["operation"] == "CreateChangeSet" else "ClientRequestToken"
    assert again[0]["params"][token] == doubt["params"][token]
    # Sent once more than in a clean run (the dropped request), run once.
    expected = CLEAN[step.runbook] + Counter({step.operation: 1})
    assert sent_changes(requests) == expected
    check_runbook_end(sb, step, tmp_path)


APPLY_CELLS = [("rollback-stuck", "cloudformation:ContinueUpdateRollback"),
               ("delete-failed", "cloudformation:DeleteStack"),
               ("bootstrap-role", "iam:AttachRolePolicy"),
               ("bootstrap-role", "cloudformation:DeleteStack")]


@pytest.mark.parametrize(("name", "operation"), APPLY_CELLS,
                         ids=[f"{n}-{o}" for n, o in APPLY_CELLS])
def test_an_interrupted_apply_resumes_the_same_plan(sandbox: Any, tmp_path: Path, name: str,
                                                   operation: str) -> None:
    rb = RUNBOOKS[name]
    sb = sandbox(rb.scenario, step_delay=0.3)
    before = world_state(sb)
    plan = tmp_path / "plan.json"
    code, _, err = finish(start_cli(sb, tmp_path, ("--dry-run", *rb.args, "--plan-out",
                                                   str(plan))))
    assert code == ExitCode.OK, err
    requests = record_requests(sb)
    proc: subprocess.Popen[str] | None = None

    def land() -> None:
        assert proc is not None
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)

    sb.world.faults.on_request(operation, land)
    proc = start_cli(sb, tmp_path, ("apply", str(plan)))
    code, env, err = finish(proc)
    assert code == ExitCode.TERMINATED, err
    # The stack has moved (our own change is running): a fresh apply would refuse the plan
    # (exit 6); the same apply again knows the change is ours and carries on.
    code, env, err = finish(start_cli(sb, tmp_path, ("apply", str(plan))))
    assert code == ExitCode.OK, (env.get("errors"), err[-2000:])
    assert env["data"]["final_status"] == rb.final_status
    assert sent_changes(requests) == CLEAN[name]
    assert_nothing_lost(before, world_state(sb))
    check_runbook_end(sb, Step(name, "apply", operation), tmp_path)
