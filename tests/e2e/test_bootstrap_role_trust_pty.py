"""bootstrap-role on a role that exists but cannot be assumed, interactively in a real
pseudo-terminal: the trust document and its smallest fix are shown, the fix needs the role name
typed (a wrong answer changes nothing), then the rollback continues and the original trust is
put back when asked; both UpdateAssumeRolePolicy calls are journaled."""

from __future__ import annotations

from pathlib import Path

import pytest

from recover.decide.trust_fix import canonical
from recover.run.evidence import read_journal

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.e2e

ENTER = "\r"
STACK = "orders-core"


def trust_now(sb) -> dict:  # type: ignore[no-untyped-def]
    role = sb.client("iam").get_role(RoleName=sb.world.ground_truth["role_name"])["Role"]
    return role["AssumeRolePolicyDocument"]


def test_a_wrong_typed_answer_changes_nothing(sandbox, tmp_path: Path) -> None:
    from tests.e2e.test_interactive_pty import spawn

    sb = sandbox("service-role-untrusted", step_delay=0.01)
    truth = sb.world.ground_truth
    child = spawn(sb, tmp_path, "bootstrap-role", STACK, "--then", "continue-rollback",
                  "--restore-trust-after", "--poll-interval", "0.1", "--retry-delay", "0.01")
    child.expect("the smallest fix")
    child.expect(f"Type {truth['role_name']} to confirm")
    child.send("yes" + ENTER)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus != 0
    assert canonical(trust_now(sb)) == canonical(truth["trust"])


def test_typed_role_name_fixes_trust_continues_and_restores(sandbox, tmp_path: Path) -> None:
    from tests.e2e.test_interactive_pty import spawn

    sb = sandbox("service-role-untrusted", step_delay=0.01)
    truth = sb.world.ground_truth
    child = spawn(sb, tmp_path, "bootstrap-role", STACK, "--then", "continue-rollback",
                  "--poll-interval", "0.1", "--retry-delay", "0.01")
    child.expect("the smallest fix")
    child.expect(f"Type {truth['role_name']} to confirm")
    child.send(truth["role_name"] + ENTER)
    child.expect(r"Call ContinueUpdateRollback on orders-core")
    child.send("y")
    # once the rollback is done: put the original trust back (second choice), or keep the fix
    child.expect("Put back the original trust policy", timeout=180)
    child.expect("keep the fixed trust")
    child.send("\x1b[B")  # arrow down: "put back the original trust"
    child.send(ENTER)
    child.expect("original trust policy put back")
    child.expect("then the original put back")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    stack = sb.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert canonical(trust_now(sb)) == canonical(truth["trust"])
    entries = [e for run in sorted(tmp_path.glob("*/journal.jsonl"))
               for e in read_journal(run)]
    sent = [e["call"]["operation"] for e in entries if e.get("kind") == "call"
            and e.get("phase") == "before"]
    assert sent.count("UpdateAssumeRolePolicy") == 2  # the fix, then the restore
    answers = [e for e in entries if e.get("kind") == "answer" and e.get("matched") is True]
    assert answers and answers[0]["answer"] == truth["role_name"]
