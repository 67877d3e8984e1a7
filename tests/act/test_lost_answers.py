"""Telling recover's own change from someone else's when a retry meets it (recover/act/lost_answers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from recover.act.calls import Call
from recover.act.lost_answers import settle

RUN_TAGS = [{"Key": "recover:created-by", "Value": "recover"},
            {"Key": "recover:run-id", "Value": "run-1"}]
CREATE = Call("iam", "CreateRole", {"RoleName": "exec", "Path": "/cdk/", "Tags": RUN_TAGS,
                                    "AssumeRolePolicyDocument": "{}"}, "recreate")


def error(code: str, attempts: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"RetryAttempts": attempts}}, "Op")


class FakeIam:
    def __init__(self, role: dict[str, Any]) -> None:
        self.role = role
        self.reads = 0

    def get_role(self, RoleName: str) -> dict[str, Any]:  # noqa: N803 - boto3's spelling
        self.reads += 1
        return {"Role": {"RoleName": RoleName, **self.role}}


def test_a_retry_that_meets_this_runs_role_is_settled_with_the_role() -> None:
    iam = FakeIam({"Path": "/cdk/", "Tags": RUN_TAGS, "RoleId": "AROA1"})
    how, response = settle(iam, CREATE, error("EntityAlreadyExists", 1))
    assert "run-1" in how and response["Role"]["RoleId"] == "AROA1"


@pytest.mark.parametrize(("role", "attempts"), [
    ({"Path": "/cdk/", "Tags": RUN_TAGS}, 0),  # first attempt: someone else's role
    ({"Path": "/cdk/", "Tags": [{"Key": "recover:run-id", "Value": "run-0"}]}, 1),  # another run
    ({"Path": "/cdk/", "Tags": []}, 2),  # made by hand
    ({"Path": "/", "Tags": RUN_TAGS}, 1),  # another path is another role
])
def test_a_role_not_shown_to_be_this_runs_is_never_claimed(role: dict[str, Any],
                                                            attempts: int) -> None:
    assert settle(FakeIam(role), CREATE, error("EntityAlreadyExists", attempts)) is None


@pytest.mark.parametrize("operation", ["DeleteRole", "DetachRolePolicy", "DeleteRolePolicy"])
def test_a_removal_whose_retry_finds_nothing_reached_its_state(operation: str) -> None:
    call = Call("iam", operation, {"RoleName": "exec"}, "remove")
    assert settle(None, call, error("NoSuchEntity", 1)) is not None
    assert settle(None, call, error("NoSuchEntity", 0)) is None
    assert settle(None, call, error("AccessDenied", 1)) is None


def test_operations_without_a_settler_raise_as_before() -> None:
    call = Call("cloudformation", "DeleteStack", {"StackName": "s"}, "delete")
    assert settle(None, call, error("ValidationError", 2)) is None
