"""bootstrap-role finishes the rollback the deleted role blocked (issue 14 part 2), end to end:
the CLI as a subprocess against a served sandbox on 127.0.0.1.

World (`role-deleted-in-rollback`, built here with random names): the stack's service role was
deleted while an update ran, so every resource its rollback reached (root and nested) failed
with `Role <arn> is invalid or cannot be assumed`. Once the role exists again those resources
must be retried (never skipped) in the same unattended run; the role is removed only when asked
and only after the rollback succeeded; `data.roles[]` says what happened; and every other IAM
role in the account is left exactly as it was."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from recover.run.exit_codes import ExitCode
from tests.conftest import recover
from tests.e2e.test_bootstrap_role_e2e import (
    ADMIN,
    FAST,
    POWER,
    calls,
    journal,
    role_or_none,
    status,
)

pytestmark = pytest.mark.e2e

CFN_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def _rng(request: pytest.FixtureRequest) -> random.Random:
    seed = random.SystemRandom().randrange(1 << 30)
    request.node.user_properties.append(("seed", seed))
    print(f"world seed {seed}")  # shown on failure, to rebuild the same names
    return random.Random(seed)


def _word(rng: random.Random, n: int, alphabet: str = string.ascii_lowercase + string.digits
          ) -> str:
    return rng.choice(string.ascii_lowercase) + "".join(rng.choice(alphabet) for _ in range(n - 1))


def _qualifier(rng: random.Random, taken: set[str]) -> str:
    """A CDK qualifier ([A-Za-z0-9_-]{1,10}), never the default and never one already used."""
    while True:
        q = _word(rng, rng.randint(3, 10), string.ascii_letters + string.digits + "_-")
        if q != "hnb659fds" and q not in taken:
            taken.add(q)
            return q


def _plant(sb: Any, name: str, path: str, trust: dict, *, managed: tuple[str, ...] = (),
           inline: dict[str, dict] | None = None, tags: dict[str, str] | None = None) -> str:
    iam = sb.client("iam")
    iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust),
                    Description=f"neighbour {name}",
                    Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
    for arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for pname, doc in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=pname, PolicyDocument=json.dumps(doc))
    return name


def _iam_state(sb: Any, name: str) -> str:
    """Everything IAM says about a role, as one comparable string."""
    iam = sb.client("iam")
    role = iam.get_role(RoleName=name)["Role"]
    role.pop("RoleLastUsed", None)
    doc = role.get("AssumeRolePolicyDocument")
    inline = {p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
              for p in iam.list_role_policies(RoleName=name)["PolicyNames"]}
    return json.dumps({
        "role": role, "trust": doc,
        "attached": iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"],
        "inline": inline, "tags": iam.list_role_tags(RoleName=name)["Tags"]},
        sort_keys=True, default=str)


def _neighbours(sb: Any, rng: random.Random, *, qualifier: str | None, name: str,
                path: str) -> dict[str, str]:
    """Roles beside the stack's role that recover must never touch: other qualifiers' exec roles
    (one even carries recover's own tags, from a run for another stack), the same qualifier's
    other bootstrap roles, a longer name with the same prefix, and roles under the same path."""
    suffix = f"{sb.account}-{sb.region}"
    account_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{sb.account}:root"},
        "Action": "sts:AssumeRole"}]}
    inline = {"default": {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}
    recover_tags = {"recover:created-by": "recover", "recover:stack": "some-other-stack",
                    "recover:run-id": "0123abcd", "recover:reason": "another incident"}
    planted: list[str] = []
    taken = {qualifier} if qualifier else set()
    if qualifier:
        for i in range(2):
            other = _qualifier(rng, taken)
            planted.append(_plant(sb, f"cdk-{other}-cfn-exec-role-{suffix}", "/", CFN_TRUST,
                                  managed=(ADMIN,), tags=recover_tags if i == 0 else None))
        planted.append(_plant(sb, f"cdk-{qualifier}-deploy-role-{suffix}", "/", account_trust,
                              inline=inline, tags={"aws-cdk:bootstrap-role": "deploy"}))
        planted.append(_plant(sb, f"cdk-{qualifier}-lookup-role-{suffix}", "/", account_trust,
                              managed=("arn:aws:iam::aws:policy/ReadOnlyAccess",)))
    planted.append(_plant(sb, f"{name}-old"[:64], path, CFN_TRUST, managed=(POWER,),
                          inline=inline, tags=recover_tags))
    planted.append(_plant(sb, f"{_word(rng, 8)}-{_word(rng, 6)}", path, CFN_TRUST,
                          managed=(POWER,)))
    return {n: _iam_state(sb, n) for n in planted}


def _world(sb: Any, rng: random.Random, *, cdk: bool) -> dict[str, Any]:
    from recover.sandbox.scenarios import role_deleted_in_rollback

    if cdk:
        qualifier = _qualifier(rng, set())
        name, path, policy = (f"cdk-{qualifier}-cfn-exec-role-{sb.account}-{sb.region}", "/",
                              ADMIN)
    else:
        qualifier = None
        name = f"{_word(rng, 6)}-cfn-{_word(rng, 5)}"
        path = f"/{_word(rng, 4)}/{_word(rng, 5)}/"
        policy = POWER
    role_deleted_in_rollback.build(sb.world, root_name=f"app-{_word(rng, 6)}", role_name=name,
                                   path=path, policy=policy)
    truth = dict(sb.world.ground_truth)
    truth["neighbours"] = _neighbours(sb, rng, qualifier=qualifier, name=name, path=path)
    return truth


def _assert_neighbours_untouched(sb: Any, truth: dict[str, Any]) -> None:
    for name, before in truth["neighbours"].items():
        assert _iam_state(sb, name) == before, f"neighbour role {name} was modified"


def _assert_world_before(sb: Any, truth: dict[str, Any]) -> None:
    """The world is what the test means: both stacks stuck, the failures carry the verbatim
    role message, the role is gone."""
    cfn = sb.client("cloudformation")
    assert status(sb, truth["root"]) == status(sb, truth["child"]) == "UPDATE_ROLLBACK_FAILED"
    for stack, lid in (("", "EventsTopic"), (truth["child"], "JobsQueue")):
        res = cfn.describe_stack_resource(StackName=stack or truth["root"],
                                          LogicalResourceId=lid)["StackResourceDetail"]
        assert res["ResourceStatusReason"] == truth["role_message"]
    assert role_or_none(sb, truth["role_name"]) is None


def _continue_calls(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ContinueUpdateRollback calls rollback-stuck sent (its own journal)."""
    entries = journal({"evidence_dir": data["handover"]["evidence_dir"]})
    return [e["call"]["params"] for e in entries if e.get("kind") == "call"
            and e.get("phase") == "before" and e["call"]["operation"] == "ContinueUpdateRollback"]


def test_cdk_random_qualifier_role_failures_are_retried_then_role_removed(
        sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    sb = sandbox(None)
    truth = _world(sb, _rng(request), cdk=True)
    _assert_world_before(sb, truth)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             truth["root"], "--then", "continue-rollback", "--remove-role-after",
                             *FAST)
    assert code == ExitCode.OK, (env.get("errors"), err[-2000:])
    data = env["data"]
    # the world, not recover's word: both stacks rolled back, nothing skipped
    assert status(sb, truth["root"]) == status(sb, truth["child"]) == "UPDATE_ROLLBACK_COMPLETE"
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert data["handover"]["skipped"] == []
    sent = _continue_calls(data)
    assert sent and all("ResourcesToSkip" not in p for p in sent)
    # the role: created, then removed after the rollback finished; the record says so
    [role] = data["roles"]
    assert role["state_before"] == "missing" and role["created"] and role["removed"]
    assert role["outcome"] == "created_removed" and role["exists_after"] is False
    assert role_or_none(sb, truth["role_name"]) is None
    ops = calls(journal(data))
    assert ops == ["CreateRole", "AttachRolePolicy", "DetachRolePolicy", "DeleteRole"]
    _assert_neighbours_untouched(sb, truth)


def test_non_cdk_role_under_a_path_failures_retried_role_kept(
        sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    sb = sandbox(None)
    truth = _world(sb, _rng(request), cdk=False)
    _assert_world_before(sb, truth)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             truth["root"], "--then", "continue-rollback", "--policy-arn", POWER,
                             "--keep-role", *FAST)
    assert code == ExitCode.OK, (env.get("errors"), err[-2000:])
    data = env["data"]
    assert status(sb, truth["root"]) == status(sb, truth["child"]) == "UPDATE_ROLLBACK_COMPLETE"
    assert data["handover"]["skipped"] == []
    assert all("ResourcesToSkip" not in p for p in _continue_calls(data))
    [role] = data["roles"]
    assert role["created"] and not role["removed"]
    assert role["outcome"] == "created_kept" and role["exists_after"] is True
    assert role["kept_because"] == "--keep-role"
    live = role_or_none(sb, truth["role_name"])
    assert live is not None and live["Arn"] == truth["role_arn"] and live["Path"] == \
        truth["role_path"]
    _assert_neighbours_untouched(sb, truth)


def test_rollback_that_does_not_finish_keeps_the_role_whatever_the_flag(
        sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """--remove-role-after means 'once the operation is done'. When rollback-stuck cannot run
    (here AccessDenied on ContinueUpdateRollback) the stack still needs the role: it is kept,
    and every message and data.roles[] say so."""
    sb = sandbox(None)
    truth = _world(sb, _rng(request), cdk=True)
    sb.world.deny("cloudformation:ContinueUpdateRollback")
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             truth["root"], "--then", "continue-rollback", "--remove-role-after",
                             *FAST)
    assert code != ExitCode.OK
    data = env["data"]
    [role] = data["roles"]
    assert role["created"] and not role["removed"] and role["outcome"] == "created_kept"
    assert role["exists_after"] is True and role_or_none(sb, truth["role_name"]) is not None
    assert "not finished" in role["kept_because"]
    assert "DeleteRole" not in calls(journal(data))
    assert all("role is kept" in e["message"] for e in env["errors"])
    assert status(sb, truth["root"]) == "UPDATE_ROLLBACK_FAILED"
    _assert_neighbours_untouched(sb, truth)


def test_removal_that_fails_is_reported_as_failed(
        sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    sb = sandbox(None)
    truth = _world(sb, _rng(request), cdk=True)
    sb.world.deny("iam:DeleteRole")
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             truth["root"], "--then", "continue-rollback", "--remove-role-after",
                             *FAST)
    assert status(sb, truth["root"]) == "UPDATE_ROLLBACK_COMPLETE"
    assert code == ExitCode.AWS_AUTH, err[-2000:]  # the AWS error's own exit code and code
    data = env["data"]
    assert data["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    [role] = data["roles"]
    assert role["outcome"] == "removal_failed" and not role["removed"]
    assert role["exists_after"] is True and role_or_none(sb, truth["role_name"]) is not None
    assert "iam:DeleteRole" in role["removal_error"]
    [error] = env["errors"]
    assert error["code"] == "access_denied" and error["details"]["role"] == truth["role_name"]
    assert error["message"].startswith(f"could not remove role {truth['role_name']}: ")
    assert "the role still exists" in error["message"]
    _assert_neighbours_untouched(sb, truth)


def test_same_name_under_another_path_is_refused_and_left_alone(
        sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """IAM role names are unique in an account whatever the path, so the stack's role cannot be
    recreated while a role of that name lives under another path; CloudFormation cannot assume
    that other role either (the ARN differs). recover says so and changes nothing."""
    sb = sandbox(None)
    truth = _world(sb, _rng(request), cdk=False)
    other = _plant(sb, truth["role_name"], "/elsewhere/", CFN_TRUST, managed=(POWER,))
    before = _iam_state(sb, other)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "bootstrap-role",
                             truth["root"], "--then", "continue-rollback", "--policy-arn", POWER,
                             "--remove-role-after", *FAST)
    assert code == ExitCode.FAILURE_FOUND, err[-2000:]
    assert env["errors"][0]["code"] == "role_other_path"
    assert "/elsewhere/" in env["errors"][0]["message"]
    assert _iam_state(sb, other) == before
    assert status(sb, truth["root"]) == "UPDATE_ROLLBACK_FAILED"
    _assert_neighbours_untouched(sb, truth)


def test_rollback_stuck_alone_retries_once_the_role_is_back(
        sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The planner's rule, not bootstrap-role's: someone recreated the role by hand, then ran
    rollback-stuck. The role failures are retried (no decision needed, no skip)."""
    sb = sandbox(None)
    truth = _world(sb, _rng(request), cdk=False)
    _plant(sb, truth["role_name"], truth["role_path"], CFN_TRUST, managed=(POWER,))
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             truth["root"], "--poll-interval", "0.1")
    assert code == ExitCode.OK, (env.get("errors"), err[-2000:])
    assert env["data"]["skipped"] == [] and env["data"]["final_status"] == \
        "UPDATE_ROLLBACK_COMPLETE"
    assert sorted(env["data"]["rounds"][0]["retried"]) == truth["role_failed"]
    assert status(sb, truth["child"]) == "UPDATE_ROLLBACK_COMPLETE"
