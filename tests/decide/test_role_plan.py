"""The role planner (pure) and the bounded retry on "is invalid or cannot be assumed"."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from recover.act.calls import Call
from recover.act.retry import Backoff, run_retrying
from recover.cdk import bootstrap as cdk
from recover.decide import role_plan as rp
from recover.run.errors import RecoverError

ACCT = "123456789012"
CDK_ARN = f"arn:aws:iam::{ACCT}:role/cdk-hnb659fds-cfn-exec-role-{ACCT}-eu-west-1"
CUSTOM_ARN = f"arn:aws:iam::{ACCT}:role/cdk-team42-cfn-exec-role-{ACCT}-eu-west-1"
PLAIN_ARN = f"arn:aws:iam::{ACCT}:role/deploy/team/payments-cfn"
POWER = "arn:aws:iam::aws:policy/PowerUserAccess"


def req(**kw: Any) -> rp.RoleRequest:
    return rp.RoleRequest(stack_name="billing", run_id="0123456789abcdef", **kw)


@pytest.mark.parametrize(("arn", "name", "path", "qualifier"), [
    (CDK_ARN, f"cdk-hnb659fds-cfn-exec-role-{ACCT}-eu-west-1", "/", "hnb659fds"),
    (CUSTOM_ARN, f"cdk-team42-cfn-exec-role-{ACCT}-eu-west-1", "/", "team42"),
    (PLAIN_ARN, "payments-cfn", "/deploy/team/", ""),
    (f"arn:aws-cn:iam::{ACCT}:role/x", "x", "/", ""),
])
def test_parse_role_arn(arn: str, name: str, path: str, qualifier: str) -> None:
    t = rp.parse_role_arn(arn)
    assert (t.name, t.path, t.qualifier, t.account) == (name, path, qualifier, ACCT)
    assert t.cdk == bool(qualifier)


@pytest.mark.parametrize("bad", ["", "arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:user/x",
                                 "cdk-hnb659fds-cfn-exec-role"])
def test_parse_role_arn_rejects(bad: str) -> None:
    with pytest.raises(rp.RolePlanError):
        rp.parse_role_arn(bad)


def test_cdk_role_follows_the_bootstrap_template() -> None:
    plan = rp.plan_role(rp.parse_role_arn(CDK_ARN), req())
    assert plan.trust_policy == cdk.EXEC_ROLE_TRUST
    assert plan.managed_policy_arns == ("arn:aws:iam::aws:policy/AdministratorAccess",)
    assert plan.permissions_boundary is None
    assert plan.follow_up == f"cdk bootstrap aws://{ACCT}/eu-west-1"
    assert any("new unique id" in w for w in plan.warnings)
    assert any("re-bootstrapping" in w and plan.follow_up in w for w in plan.warnings)
    tags = dict(plan.tags)
    assert rp.created_by_recover(tags) and tags[rp.TAG_STACK] == "billing"
    assert tags[rp.TAG_RUN_ID] == "0123456789abcdef" and "deleted" in tags[rp.TAG_REASON]


def test_cdk_role_with_named_policies_boundary_and_custom_qualifier() -> None:
    plan = rp.plan_role(rp.parse_role_arn(CUSTOM_ARN),
                        req(qualifier="team42", policy_arns=(POWER,), permissions_boundary="pb"))
    assert plan.managed_policy_arns == (POWER,)
    assert plan.permissions_boundary == f"arn:aws:iam::{ACCT}:policy/pb"
    assert "--qualifier team42" in plan.follow_up
    assert f"--cloudformation-execution-policies {POWER}" in plan.follow_up
    assert "--custom-permissions-boundary pb" in plan.follow_up
    assert any("bootstrapQualifier" in n for n in plan.notes)


@pytest.mark.parametrize(("arn", "request_kw", "message"), [
    (CDK_ARN, {"qualifier": "team42"}, "does not match"),
    (CDK_ARN, {"qualifier": "way-too-long-q"}, "1 to 10"),
    (PLAIN_ARN, {"qualifier": "team42", "policy_arns": (POWER,)}, "not a CDK"),
    (PLAIN_ARN, {}, "--policy-arn"),
    (CDK_ARN, {"policy_arns": ("AdministratorAccess",)}, "not an IAM policy ARN"),
    (CDK_ARN, {"permissions_boundary": "arn:aws:s3:::bucket"}, "not an IAM policy ARN"),
    (CDK_ARN, {"permissions_boundary": "bad name!"}, "neither"),
])
def test_requests_that_do_not_fit(arn: str, request_kw: dict[str, Any], message: str) -> None:
    with pytest.raises(rp.RolePlanError, match=message):
        rp.plan_role(rp.parse_role_arn(arn), req(**request_kw))


def test_plain_role_gets_cloudformation_trust_and_named_policies() -> None:
    plan = rp.plan_role(rp.parse_role_arn(PLAIN_ARN), req(policy_arns=(POWER,)))
    assert plan.target.path == "/deploy/team/"
    assert plan.trust_policy["Statement"][0]["Principal"] == {
        "Service": "cloudformation.amazonaws.com"}
    assert plan.managed_policy_arns == (POWER,)
    assert "cdk bootstrap" not in plan.follow_up


def test_tag_values_are_sanitised() -> None:
    assert rp.tag_value("a (b), c's \"d\"") == "a  b   c s  d"
    assert len(rp.tag_value("x" * 400)) == 256


def test_created_by_recover_needs_the_marker() -> None:
    assert not rp.created_by_recover({})
    assert not rp.created_by_recover({rp.TAG_CREATED_BY: "someone"})
    assert rp.created_by_recover([(rp.TAG_CREATED_BY, rp.TAG_CREATED_BY_VALUE)])


@pytest.mark.parametrize(("status", "protected", "allowed"), [
    ("UPDATE_ROLLBACK_FAILED", False, ["continue-rollback", "delete", "nothing"]),
    ("CREATE_COMPLETE", False, ["delete", "nothing"]),
    ("CREATE_COMPLETE", True, ["nothing"]),
    ("UPDATE_IN_PROGRESS", False, ["nothing"]),
])
def test_then_choices(status: str, protected: bool, allowed: list[str]) -> None:
    assert [v for v, _ in rp.then_choices(status, protected)] == allowed
    assert rp.then_error("continue-rollback", "CREATE_COMPLETE") is not None
    assert "termination protection" in (rp.then_error("delete", "CREATE_COMPLETE", True) or "")


# --- bounded retry -----------------------------------------------------------------------------

class FlakyExecutor:
    """Fails with the given errors first, then answers."""

    def __init__(self, errors: list[ClientError]) -> None:
        self.errors = list(errors)
        self.calls = 0

    def run(self, call: Call) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": True}


def _err(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DeleteStack")


ROLE_ERR = "Role arn:aws:iam::123456789012:role/x is invalid or cannot be assumed"
CALL = Call("cloudformation", "DeleteStack", {"StackName": "s"}, "delete")


def test_backoff_is_bounded_and_capped() -> None:
    assert Backoff(first=2, factor=2, cap=5, max_attempts=5).delays() == [2, 4, 5, 5]
    assert Backoff(max_attempts=1).delays() == []


def test_retry_until_the_role_is_usable() -> None:
    ex = FlakyExecutor([_err("ValidationError", ROLE_ERR)] * 2)
    slept: list[float] = []
    out = run_retrying(ex, CALL, backoff=Backoff(first=1, max_attempts=4),  # type: ignore[arg-type]
                       sleep=slept.append)
    assert out == {"ok": True} and ex.calls == 3 and slept == [1, 2]


def test_retry_gives_up_after_the_bound() -> None:
    ex = FlakyExecutor([_err("ValidationError", ROLE_ERR)] * 10)
    slept: list[float] = []
    with pytest.raises(RecoverError) as info:
        run_retrying(ex, CALL, backoff=Backoff(first=1, max_attempts=3),  # type: ignore[arg-type]
                     sleep=slept.append)
    assert info.value.code == "role_not_usable" and ex.calls == 3 and slept == [1, 2]


def test_other_errors_are_not_retried() -> None:
    ex = FlakyExecutor([_err("ValidationError", "Stack [s] does not exist")])
    with pytest.raises(ClientError):
        run_retrying(ex, CALL, backoff=Backoff(), sleep=lambda _: None)  # type: ignore[arg-type]
    assert ex.calls == 1


# --- CloudTrail history of the role (gather; failures are notes, not errors) ---------------

def test_role_history_lookup_failure_is_a_note(make_context) -> None:
    from recover.aws.role_history import lookup_role_history

    rc = make_context()
    stub = rc.aws.unretried_client("cloudtrail", "us-east-1")._recover_stub
    stub.add_client_error("lookup_events", service_error_code="AccessDeniedException",
                          service_message="not authorized to perform: cloudtrail:LookupEvents")
    h = lookup_role_history(rc.aws, "r")
    assert h.records == 0 and "AccessDeniedException" in h.note


def test_role_history_reads_create_attach_delete(make_context) -> None:
    import json as _json

    from recover.aws.role_history import lookup_role_history

    def ev(name: str, t: str, params: dict[str, Any], who: str) -> dict[str, Any]:
        rec = {"eventName": name, "eventTime": t, "requestParameters": {"roleName": "r", **params},
               "userIdentity": {"arn": who}}
        return {"EventId": name, "CloudTrailEvent": _json.dumps(rec)}

    rc = make_context()
    stub = rc.aws.unretried_client("cloudtrail", "us-east-1")._recover_stub
    stub.add_response("lookup_events", {"Events": [  # newest first, as AWS answers
        ev("DeleteRole", "2026-11-02T09:00:00Z", {}, "arn:aws:iam::1:user/bob"),
        ev("DetachRolePolicy", "2026-11-02T09:00:00Z", {"policyArn": POWER}, "bob"),
        ev("AttachRolePolicy", "2026-10-01T09:00:00Z", {"policyArn": POWER}, "alice"),
        ev("CreateRole", "2026-10-01T09:00:00Z", {"path": "/x/",
                                                  "permissionsBoundary": "arn:b"}, "alice")]})
    h = lookup_role_history(rc.aws, "r")
    assert h.managed_policies == (POWER,) and h.path == "/x/" and h.permissions_boundary == "arn:b"
    assert h.deleted_by == "arn:aws:iam::1:user/bob" and h.created_by == "alice" and not h.note
