"""The interactive walk driven in a real pseudo-terminal (pexpect): prompts answered by keys."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.e2e


def spawn(sb: Any, tmp_path: Path, *args: str) -> Any:
    env = dict(os.environ, **sb.env(), PYTHONPATH=str(REPO), TERM="xterm", COLUMNS="120",
               LINES="40")
    child = pexpect.spawn(sys.executable, ["-m", "recover", "--evidence-dir", str(tmp_path),
                                           *args], env=env, encoding="utf-8", timeout=120,
                          dimensions=(40, 120))
    child.logfile_read = open(tmp_path / "transcript.txt", "w")  # noqa: SIM115 - kept for the test's life
    return child


def test_interactive_rollback_walk_restores_and_confirms(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap", step_delay=0.01)
    child = spawn(sb, tmp_path, "rollback-stuck", "degap-prod", "--poll-interval", "0.2")
    for _ in range(4):  # one question per function whose code object is missing
        child.expect("restore the missing code object of")
        child.expect("restore the missing code object, then continue")
        child.send("\r")  # first choice: restore
    # Every restore is shown before anything is written, then approved once for all.
    child.expect("code objects to restore \\(nothing is written yet\\)")
    child.expect(r"Restore these 4 code object\(s\) as shown")
    child.expect("yes: restore them all")
    child.send("\r")  # the default: all
    child.expect(r"Call ContinueUpdateRollback on degap-prod \(no skips\)\?")
    child.send("y")
    child.expect(r"final status:\S*\s+UPDATE_ROLLBACK_COMPLETE", timeout=180)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    transcript = (tmp_path / "transcript.txt").read_text()
    assert "restored\x1b[0m degap-prod-ingest" in transcript or "restored degap-prod-ingest" in transcript


def test_interactive_decline_changes_nothing(sandbox, tmp_path: Path) -> None:
    sb = sandbox("nested-skip", step_delay=0.01)
    child = spawn(sb, tmp_path, "rollback-stuck", "orders-platform")
    # An engine downgrade can never succeed on a retry: the default answer is skip, with why.
    child.expect("default: skip — irreversible_change")
    child.expect("or skip it")
    child.send("\r")  # the default: skip
    child.expect(r"Call ContinueUpdateRollback on orders-platform, skipping .*\?")
    child.send("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5  # ABORTED
    status = sb.client("cloudformation").describe_stacks(
        StackName="orders-platform")["Stacks"][0]["StackStatus"]
    assert status == "UPDATE_ROLLBACK_FAILED"


def test_interactive_bootstrap_role_delete_and_remove(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted", step_delay=0.01)
    role = sb.world.ground_truth["role_name"]
    child = spawn(sb, tmp_path, "bootstrap-role", "billing-service", "--poll-interval", "0.2",
                  "--retry-delay", "0.01")
    child.expect("what should recover do with billing-service")
    child.expect("delete the stack")
    child.send("\r")  # first choice: delete
    child.expect("Type billing-service to confirm")
    child.send("billing-service\r")
    child.expect(r"Create role cdk-hnb659fds-cfn-exec-role-\S+ as shown\?")
    child.send("y")
    child.expect("Delete role cdk-", timeout=180)
    child.expect("keeps the role")  # the long prompt wraps at the terminal width
    child.send(role + "\r")
    child.expect(r"CREATE_COMPLETE → \S*DELETE_COMPLETE")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    iam = sb.client("iam")
    assert role not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def test_interactive_bootstrap_role_wrong_stack_name_changes_nothing(sandbox,
                                                                     tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted", step_delay=0.01)
    child = spawn(sb, tmp_path, "bootstrap-role", "billing-service")
    child.expect("delete the stack")
    child.send("\r")
    child.expect("Type billing-service to confirm")
    child.send("billing\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5  # ABORTED
    assert sb.client("cloudformation").describe_stacks(
        StackName="billing-service")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    iam = sb.client("iam")
    assert sb.world.ground_truth["role_name"] not in [r["RoleName"] for r in
                                                      iam.list_roles()["Roles"]]


def test_ctrl_c_at_the_question_and_while_following_then_the_rerun_resumes(
        sandbox, tmp_path: Path) -> None:
    """Ctrl-C in a terminal: at the confirmation (after the uploads), then while following the
    rollback; the third run follows the rollback the second one started. Each code object is
    uploaded once and ContinueUpdateRollback is sent once over the three runs."""
    from recover.run.evidence import read_journal

    sb = sandbox("degap", step_delay=0.3)
    s3 = sb.client("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "artifacts" in b["Name"])
    versions_before = len(s3.list_object_versions(Bucket=bucket).get("Versions", []))
    args = ("rollback-stuck", "degap-prod", "--poll-interval", "0.2")

    def answer_restores(child: Any, approve: bool = False) -> None:
        for _ in range(4):
            child.expect("restore the missing code object, then continue")
            child.send("\r")
        if approve:  # the restores, shown before anything is written (not again on a rerun)
            child.expect(r"Restore these 4 code object\(s\) as shown")
            child.send("\r")

    child = spawn(sb, tmp_path, *args)
    answer_restores(child, approve=True)
    child.expect(r"Call ContinueUpdateRollback on degap-prod \(no skips\)\?")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130

    child = spawn(sb, tmp_path, *args)
    child.expect("resuming after 1 unfinished run")
    # what the first run restored is not asked about again (issue 15 item 2)
    index = child.expect([r"Call ContinueUpdateRollback on degap-prod \(no skips\)\?",
                          "restore the missing code object, then continue"])
    assert index == 0, "asked again about a code object the stopped run had restored"
    child.send("y")
    child.expect("UPDATE_ROLLBACK_IN_PROGRESS", timeout=60)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130

    child = spawn(sb, tmp_path, *args)
    child.expect("resuming after 2 unfinished run")
    child.expect("still going; following it")
    child.expect("is UPDATE_ROLLBACK_COMPLETE: the earlier run's rollback finished it",
                 timeout=180)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    runs = sorted(tmp_path.glob("degap-prod-*"))
    outcomes = [json.loads((d / "metadata.json").read_text())["outcome"] for d in runs]
    assert outcomes == ["interrupted", "interrupted", "UPDATE_ROLLBACK_COMPLETE"]
    sent = [e["call"]["operation"] for d in runs for e in read_journal(d / "journal.jsonl")
            if e.get("kind") == "call" and e["phase"] == "before"]
    assert sorted(sent) == ["ContinueUpdateRollback", "CopyObject", "CopyObject", "CopyObject",
                            "PutObject"]
    versions_after = len(s3.list_object_versions(Bucket=bucket).get("Versions", []))
    assert versions_after == versions_before + 4
