"""bootstrap-role end to end: the CLI as a subprocess against a served sandbox on 127.0.0.1.

Worlds: `cdk-bootstrap-deleted` (default qualifier, stack CREATE_COMPLETE), the same world
built with a custom qualifier, and `service-role-deleted` (a non-CDK role under a path, stack
UPDATE_ROLLBACK_FAILED with a nested stack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recover.model.cfn_template import parse_template
from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import SHARED_DATA, recover, run_cli

pytestmark = pytest.mark.e2e

POWER = "arn:aws:iam::aws:policy/PowerUserAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
FAST = ("--poll-interval", "0.1", "--retry-delay", "0.01")


def status(sb: Any, stack_id_or_name: str) -> str:
    return sb.client("cloudformation").describe_stacks(
        StackName=stack_id_or_name)["Stacks"][0]["StackStatus"]


def role_or_none(sb: Any, name: str) -> dict | None:
    iam = sb.client("iam")
    try:
        return iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def journal(data: dict) -> list[dict]:
    return read_journal(Path(data["evidence_dir"]) / "journal.jsonl")


def calls(entries: list[dict], phase: str = "before") -> list[str]:
    return [e["call"]["operation"] if phase == "before" else e["operation"]
            for e in entries if e.get("kind") == "call" and e.get("phase") == phase]


def template_trust() -> dict:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    t = parse_template((SHARED_DATA / "cdk" / "bootstrap-template.yaml").read_text())
    return t["Resources"]["CloudFormationExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]


def test_cdk_role_recreated_stack_deleted_role_removed(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "billing-service", "--then", "delete", "--remove-role-after", *FAST)
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["status_before"] == "CREATE_COMPLETE"
    assert data["final_status"] == "DELETE_COMPLETE"
    assert status(sb, data["stack_id"]) == "DELETE_COMPLETE"
    [role] = data["roles"]
    assert role["arn"] == truth["role_arn"] and role["state_before"] == "missing"
    assert role["created"] and role["removed"] and role["role_id"].startswith("AROA")
    # CloudTrail: the toolkit stack's deletion removed it (CloudFormation on the caller's behalf)
    assert role["history"]["managed_policies"] == [ADMIN]
    assert "via cloudformation.amazonaws.com" in role["history"]["deleted_by"]
    assert role_or_none(sb, truth["role_name"]) is None  # removed on request
    # Detection came first: the snapshot saw the role missing, and no CloudFormation operation
    # failed before the role was created (CreateRole is the first change, nothing failed).
    snapshot = json.loads((Path(data["evidence_dir"]) / "snapshot.json").read_text())
    assert snapshot["roles"] == [{"arn": truth["role_arn"], "state": "missing", "role_id": "",
                                  "detail": "iam:GetRole: NoSuchEntity"}]
    entries = journal(data)
    assert calls(entries) == ["CreateRole", "AttachRolePolicy", "DeleteStack",
                              "DetachRolePolicy", "DeleteRole"]
    assert all(e["ok"] for e in entries if e.get("kind") == "call" and e["phase"] == "after")
    create = next(e["call"]["params"] for e in entries if e.get("phase") == "before")
    assert json.loads(create["AssumeRolePolicyDocument"]) == template_trust()
    assert create["Path"] == "/" and create["RoleName"] == truth["role_name"]
    assert any("new unique id" in w for w in data["warnings"])
    assert data["follow_up"] == [f"cdk bootstrap aws://{sb.account}/{sb.region}"]


def test_cdk_role_kept_has_template_trust_policy_and_tags(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    truth = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "billing-service", "--then", "nothing", "--keep-role", *FAST)
    assert code == ExitCode.OK, err
    role = role_or_none(sb, truth["role_name"])
    assert role is not None and role["Arn"] == truth["role_arn"] and role["Path"] == "/"
    doc = role["AssumeRolePolicyDocument"]
    assert (json.loads(doc) if isinstance(doc, str) else doc) == template_trust()
    iam = sb.client("iam")
    attached = iam.list_attached_role_policies(RoleName=truth["role_name"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == truth["policy_arns"]
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=truth["role_name"])["Tags"]}
    assert tags["recover:created-by"] == "recover" and tags["recover:stack"] == "billing-service"
    assert "deleted" in tags["recover:reason"] and tags["recover:run-id"]
    assert status(sb, "billing-service") == "CREATE_COMPLETE"  # nothing else was done
    # The stack is usable again: a later run finds the role and, asked to, deletes the stack and
    # removes the role, because the tags say recover created it.
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "billing-service", "--then", "delete", "--remove-role-after", *FAST)
    assert code == ExitCode.OK, err
    [r] = env["data"]["roles"]
    assert r["state_before"] == "exists" and not r["created"] and r["removed"]
    assert env["data"]["final_status"] == "DELETE_COMPLETE"
    assert role_or_none(sb, truth["role_name"]) is None


def test_custom_qualifier(sandbox, tmp_path: Path) -> None:
    from recover.sandbox.scenarios import cdk_bootstrap_deleted

    sb = sandbox(None)
    cdk_bootstrap_deleted.build(sb.world, qualifier="team42", root_name="ledger-api")
    name = f"cdk-team42-cfn-exec-role-{sb.account}-{sb.region}"
    assert sb.world.ground_truth["role_name"] == name
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                           "ledger-api", "--qualifier", "hnb659fds", "--then", "delete",
                           "--keep-role")
    assert code == ExitCode.USAGE and "does not match" in env["errors"][0]["message"]
    assert role_or_none(sb, name) is None  # refused before any change
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "ledger-api", "--qualifier", "team42", "--then", "delete",
                             "--keep-role", *FAST)
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "DELETE_COMPLETE"
    assert env["data"]["roles"][0]["plan"]["qualifier"] == "team42"
    assert env["data"]["follow_up"] == [
        f"cdk bootstrap aws://{sb.account}/{sb.region} --qualifier team42"]
    assert role_or_none(sb, name) is not None  # kept as asked


def test_non_cdk_role_needs_policies_then_continues_the_rollback(sandbox, tmp_path: Path) -> None:
    sb = sandbox("service-role-deleted")
    truth = sb.world.ground_truth
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                           "payments-core", "--then", "continue-rollback", "--keep-role")
    assert code == ExitCode.NEEDS_DECISION
    assert env["errors"][0]["details"]["flag"] == "--policy-arn"
    assert POWER in env["errors"][0]["message"]  # what CloudTrail says the old role had
    assert role_or_none(sb, truth["role_name"]) is None
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "payments-core", "--then", "continue-rollback", "--policy-arn", POWER,
                             "--remove-role-after", *FAST)
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert status(sb, "payments-core") == "UPDATE_ROLLBACK_COMPLETE"
    assert data["handover"]["runbook"] == "rollback-stuck" and data["handover"]["skipped"] == []
    [role] = data["roles"]
    assert role["plan"]["path"] == truth["role_path"] and not role["plan"]["cdk"]
    assert role["plan"]["managed_policy_arns"] == [POWER]
    assert role["history"]["deleted_by"].endswith("user/cleanup-bot")
    assert role["history"]["path"] == truth["role_path"]
    create = next(e["call"]["params"] for e in journal(data) if e.get("phase") == "before")
    assert create["Path"] == "/deploy/" and create["RoleName"] == truth["role_name"]
    assert role["removed"] and role_or_none(sb, truth["role_name"]) is None


def test_role_not_created_by_recover_is_never_deleted(sandbox, tmp_path: Path) -> None:
    sb = sandbox("service-role-deleted")
    truth = sb.world.ground_truth
    # Someone recreated the role by hand (no recover tags) before recover ran.
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    sb.client("iam").create_role(RoleName=truth["role_name"], Path=truth["role_path"],
                                 AssumeRolePolicyDocument=json.dumps(trust))
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "payments-core", "--then", "continue-rollback",
                             "--remove-role-after", *FAST)
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    [role] = data["roles"]
    assert role["state_before"] == "exists" and not role["created"] and not role["removed"]
    assert role["kept_because"].startswith("refused")
    assert role_or_none(sb, truth["role_name"]) is not None
    assert "DeleteRole" not in calls(journal(data))


def test_waits_for_iam_propagation_with_bounded_retries(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    sb.world.delay_role_propagation(2)  # CloudFormation refuses the new role twice
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "billing-service", "--then", "delete", "--keep-role", *FAST)
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "DELETE_COMPLETE"
    entries = journal(env["data"])
    attempts = [e for e in entries if e.get("kind") == "call" and e["phase"] == "after"
                and e["operation"] == "DeleteStack"]
    assert [e["ok"] for e in attempts] == [False, False, True]
    assert "is invalid or cannot be assumed" in attempts[0]["error"]["message"]


def test_gives_up_when_the_role_never_becomes_usable(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    sb.world.delay_role_propagation(100)
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                           "billing-service", "--then", "delete", "--keep-role", *FAST,
                           "--retry-attempts", "3")
    assert code == ExitCode.FAILURE_FOUND
    assert env["errors"][0]["code"] == "role_not_usable" and "3 attempts" in \
        env["errors"][0]["message"]
    assert status(sb, "billing-service") == "CREATE_COMPLETE"
    assert role_or_none(sb, sb.world.ground_truth["role_name"]) is not None  # kept for a rerun


def test_unattended_decisions_name_their_flags(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                           "billing-service", "--keep-role")
    assert code == ExitCode.NEEDS_DECISION
    assert env["errors"][0]["details"]["flag"] == "--then delete|nothing"
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                           "billing-service", "--then", "delete")
    assert code == ExitCode.NEEDS_DECISION
    assert env["errors"][0]["details"]["flag"] == "--remove-role-after or --keep-role"
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "bootstrap-role",
                           "billing-service", "--then", "delete", "--keep-role")
    assert code == ExitCode.NEEDS_DECISION and env["errors"][0]["details"]["flag"] == "--yes"
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                           "billing-service", "--then", "continue-rollback", "--keep-role")
    assert code == ExitCode.USAGE and "UPDATE_ROLLBACK_FAILED" in env["errors"][0]["message"]
    assert role_or_none(sb, sb.world.ground_truth["role_name"]) is None  # nothing was created


def test_dry_run_plan_then_apply(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    truth = sb.world.ground_truth
    plan = tmp_path / "plan.json"
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "bootstrap-role",
                             "billing-service", "--then", "delete", "--remove-role-after",
                             "--plan-out", str(plan), *FAST)
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["dry_run"] is True
    assert [c["operation"] for c in data["calls"]] == [
        "CreateRole", "AttachRolePolicy", "DeleteStack", "DetachRolePolicy", "DeleteRole"]
    assert data["calls"][0]["cli"].startswith(
        f"aws iam create-role --role-name {truth['role_name']} --path /")
    assert role_or_none(sb, truth["role_name"]) is None  # nothing changed
    assert status(sb, "billing-service") == "CREATE_COMPLETE"
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "DELETE_COMPLETE"
    assert env["data"]["roles"][0]["removed"] is True
    assert role_or_none(sb, truth["role_name"]) is None
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.PRECONDITION_CHANGED


def test_apply_refuses_when_the_role_came_back(sandbox, tmp_path: Path) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    truth = sb.world.ground_truth
    plan = tmp_path / "plan.json"
    code, _, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "bootstrap-role",
                           "billing-service", "--then", "delete", "--keep-role",
                           "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    trust = json.dumps(template_trust())
    sb.client("iam").create_role(RoleName=truth["role_name"], AssumeRolePolicyDocument=trust)
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.PRECONDITION_CHANGED
    assert "exists" in env["errors"][0]["message"]
    assert status(sb, "billing-service") == "CREATE_COMPLETE"


def test_stack_without_service_role_is_a_clear_error(sandbox, tmp_path: Path) -> None:
    sb = sandbox("healthy")
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "shop-web", "--then", "nothing", "--keep-role")
    assert code == ExitCode.FAILURE_FOUND and "Traceback" not in err
    assert env["errors"][0]["code"] == "no_service_role"


def test_rollback_decision_left_to_rollback_stuck_keeps_the_role(sandbox, tmp_path: Path) -> None:
    """A world built in the test: nested-skip's stacks run as a role nobody recreated. The role
    is recreated, rollback-stuck then needs a decision (exit 4) and the role stays; the rerun
    finds recover's role and finishes with the skip."""
    sb = sandbox("nested-skip")
    arn = f"arn:aws:iam::{sb.account}:role/orders-cfn-role"
    for stack in sb.world.cfn.tree(sb.world.stack("orders-platform")):
        stack.role_arn = arn  # nested stacks inherit the parent's role (docs/reference/aws-behaviour.md#service-roles-rolearn)
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                           "orders-platform", "--then", "continue-rollback", "--policy-arn", POWER,
                           "--keep-role", *FAST)
    assert code == ExitCode.NEEDS_DECISION
    assert env["errors"][0]["message"].startswith("rollback-stuck: ")
    role = env["data"]["roles"][0]
    # a deleted role is recreated; one that exists but cannot be assumed gets its trust fixed
    assert role["created"] is True or role["outcome"] == "trust_fixed_restored"
    assert role_or_none(sb, "orders-cfn-role") is not None
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             "orders-platform", "--then", "continue-rollback",
                             "--skip-unrecoverable", "--remove-role-after", *FAST)
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert data["handover"]["skipped"][0]["target"] == sb.world.ground_truth["skip"][0]
    [role] = data["roles"]
    assert role["state_before"] == "exists" and role["created_by_recover"] and role["removed"]


@pytest.mark.parametrize(("scenario", "final"), [("cdk-bootstrap-deleted", "DELETE_COMPLETE"),
                                                 ("service-role-deleted",
                                                  "UPDATE_ROLLBACK_COMPLETE"),
                                                 ("role-deleted-in-rollback",
                                                  "UPDATE_ROLLBACK_COMPLETE"),
                                                 ("service-role-untrusted",
                                                  "UPDATE_ROLLBACK_COMPLETE")])
def test_demo_runs_bootstrap_role_unattended(tmp_path: Path, scenario: str, final: str) -> None:
    proc = run_cli(["--non-interactive", "--yes", "--output", "json", "--evidence-dir",
                    str(tmp_path), "demo", scenario, "--step-delay", "0"], timeout=300)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["status"] == "ok" and env["data"]["final_status"] == final
    role = env["data"]["roles"][0]
    # a deleted role is recreated; one that exists but cannot be assumed gets its trust fixed
    assert role["created"] is True or role["outcome"] == "trust_fixed_restored"

