"""bootstrap-role on a service role that exists but CloudFormation cannot assume (world
`service-role-untrusted`): its trust is fixed by one added statement, never the role recreated
or deleted; the original trust is put back when asked; both changes are journaled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recover.decide.trust_fix import FIX_STATEMENT, canonical
from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import recover

pytestmark = pytest.mark.e2e

FAST = ("--poll-interval", "0.1", "--retry-delay", "0.01")
STACK = "orders-core"


def status(sb: Any) -> str:
    return sb.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0][
        "StackStatus"]


def trust_now(sb: Any) -> dict:
    role = sb.client("iam").get_role(RoleName=sb.world.ground_truth["role_name"])["Role"]
    return role["AssumeRolePolicyDocument"]


def trust_calls(data: dict) -> list[dict]:
    entries = read_journal(Path(data["evidence_dir"]) / "journal.jsonl")
    return [e["call"]["params"] for e in entries if e.get("kind") == "call"
            and e.get("phase") == "before" and e["call"]["operation"] == "UpdateAssumeRolePolicy"]


def test_the_sandbox_refuses_while_the_trust_is_wrong(sandbox) -> None:
    sb = sandbox("service-role-untrusted")
    arn = sb.world.ground_truth["role_arn"]
    cfn = sb.client("cloudformation")
    with pytest.raises(cfn.exceptions.ClientError,
                       match=f"Role {arn} is invalid or cannot be assumed"):
        cfn.continue_update_rollback(StackName=STACK)


def test_unattended_without_fix_trust_exits_4_naming_it(sandbox, tmp_path: Path) -> None:
    sb = sandbox("service-role-untrusted")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role", STACK,
                           "--then", "continue-rollback", "--keep-trust")
    assert code == ExitCode.NEEDS_DECISION
    assert env["errors"][0]["details"]["flag"] == "--fix-trust"
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role", STACK,
                           "--then", "continue-rollback", "--fix-trust")
    assert code == ExitCode.NEEDS_DECISION
    assert env["errors"][0]["details"]["flag"] == "--restore-trust-after or --keep-trust"
    assert canonical(trust_now(sb)) == canonical(sb.world.ground_truth["trust"])
    assert status(sb) == "UPDATE_ROLLBACK_FAILED"


def test_fix_trust_continues_the_rollback_and_restores_the_trust(sandbox,
                                                                  tmp_path: Path) -> None:
    sb = sandbox("service-role-untrusted")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role", STACK,
                             "--then", "continue-rollback", "--fix-trust",
                             "--restore-trust-after", *FAST)
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE" == status(sb)
    [role] = data["roles"]
    assert role["state_before"] == "untrusting" and not role["created"]
    assert role["trust_verdict"] == "condition_fails"
    assert role["outcome"] == "trust_fixed_restored" and role["exists_after"] is True
    # the fix kept both existing statements and added one; the restore put the original back
    fix, restore = trust_calls(data)
    fixed = json.loads(fix["PolicyDocument"])
    assert fixed["Statement"] == [*truth["trust"]["Statement"], FIX_STATEMENT]
    assert canonical(restore["PolicyDocument"]) == canonical(truth["trust"])
    assert canonical(trust_now(sb)) == canonical(truth["trust"])
    evidence = json.loads((Path(data["evidence_dir"]) / "trust.json").read_text())
    assert evidence[0]["before"] == truth["trust"] and evidence[0]["fixed"] == fixed
    assert evidence[0]["restored"] is True


def test_keep_trust_leaves_the_fixed_document(sandbox, tmp_path: Path) -> None:
    sb = sandbox("service-role-untrusted")
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role", STACK,
                             "--then", "continue-rollback", "--fix-trust", "--keep-trust",
                             "--remove-role-after", *FAST)
    assert code == ExitCode.OK, err
    [role] = env["data"]["roles"]
    assert role["outcome"] == "trust_fixed" and not role["removed"]  # never deleted
    assert len(trust_calls(env["data"])) == 1
    assert FIX_STATEMENT in trust_now(sb)["Statement"]


def test_dry_run_shows_the_new_document_then_apply(sandbox, tmp_path: Path) -> None:
    sb = sandbox("service-role-untrusted")
    truth = sb.world.ground_truth
    plan = tmp_path / "plan.json"
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "bootstrap-role",
                             STACK, "--then", "delete", "--fix-trust",
                             "--restore-trust-after", "--plan-out", str(plan), *FAST)
    assert code == ExitCode.OK, err
    calls = env["data"]["calls"]
    assert [c["operation"] for c in calls] == ["UpdateAssumeRolePolicy", "DeleteStack",
                                               "UpdateAssumeRolePolicy"]
    assert FIX_STATEMENT in json.loads(calls[0]["params"]["PolicyDocument"])["Statement"]
    assert canonical(trust_now(sb)) == canonical(truth["trust"])  # nothing changed
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "DELETE_COMPLETE"
    assert [p["RoleName"] for p in trust_calls(env["data"])] == [truth["role_name"]] * 2
    assert canonical(trust_now(sb)) == canonical(truth["trust"])


def test_diagnose_says_exists_but_cannot_be_assumed_not_deleted(sandbox, tmp_path: Path) -> None:
    sb = sandbox("service-role-untrusted")
    code, env, _ = recover(sb, tmp_path, "diagnose", STACK)
    data = env["data"]
    assert data["runbook"] == "bootstrap-role"
    [finding] = [f for f in data["findings"] if f["failure_mode"] == "execution_role_missing"
                 and f["stack_name"] == STACK]
    text = finding["explanation"]
    assert "exists but cannot be assumed" in text and "--fix-trust" in text
    assert "deleted" not in text and "no longer exists" not in text
    assert "exists but CloudFormation cannot assume it" in data["runbook_reason"]


def test_diagnose_says_deleted_for_a_deleted_role(sandbox, tmp_path: Path) -> None:
    sb = sandbox("service-role-deleted")
    code, env, _ = recover(sb, tmp_path, "diagnose", sb.world.roots[0])
    text = " ".join(f["explanation"] for f in env["data"]["findings"]
                    if f["failure_mode"] == "execution_role_missing")
    assert "was deleted" in text and "exists but cannot be assumed" not in text
    assert "missing" in env["data"]["runbook_reason"]
