"""AWS failures become one-line RecoverErrors with stable codes and exit codes."""

from __future__ import annotations

import pytest
from botocore import exceptions as bx

from recover.run.errors import translate_aws_error
from recover.run.exit_codes import ExitCode


def client_error(code: str, message: str, op: str = "DescribeStacks",
                 service: str = "cloudformation") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message},
                           "ResponseMetadata": {"RecoverService": service}}, op)


@pytest.mark.parametrize(
    ("exc", "code", "exit_code"),
    [
        (bx.NoCredentialsError(), "no_credentials", ExitCode.AWS_AUTH),
        (bx.NoRegionError(), "no_region", ExitCode.USAGE),
        (client_error("ExpiredToken", "The security token included in the request is expired"),
         "expired_token", ExitCode.AWS_AUTH),
        (client_error("ValidationError", "Stack with id nope does not exist"), "stack_not_found",
         ExitCode.NOT_FOUND),
        (client_error("ValidationError", "Stack [nope] does not exist", "DescribeStackEvents"),
         "stack_not_found", ExitCode.NOT_FOUND),
        (client_error("Throttling", "Rate exceeded"), "throttled", ExitCode.ERROR),
        (client_error("InternalFailure", "boom"), "aws_error", ExitCode.ERROR),
    ],
)
def test_translation(exc: Exception, code: str, exit_code: ExitCode) -> None:
    err = translate_aws_error(exc, region="eu-west-1")
    assert err is not None
    assert err.code == code
    assert err.exit_code == exit_code
    assert "\n" not in err.message


def test_access_denied_names_the_action_from_the_operation() -> None:
    err = translate_aws_error(client_error("AccessDenied", "Access Denied", "ContinueUpdateRollback"))
    assert err is not None and err.code == "access_denied"
    assert err.details["iam_action"] == "cloudformation:ContinueUpdateRollback"
    assert "cloudformation:ContinueUpdateRollback" in err.message


def test_access_denied_prefers_the_action_in_the_message() -> None:
    msg = ("User: arn:aws:sts::123456789012:assumed-role/oncall/me is not authorized to perform: "
           "iam:GetRole on resource: role cdk-x because no identity-based policy allows it")
    err = translate_aws_error(client_error("AccessDenied", msg, "GetRole", "iam"))
    assert err is not None and err.details["iam_action"] == "iam:GetRole"


def test_stack_not_found_mentions_region() -> None:
    err = translate_aws_error(client_error("ValidationError", "Stack with id app does not exist"),
                              region="eu-west-1")
    assert err is not None and "eu-west-1" in err.message


def test_non_aws_errors_are_not_translated() -> None:
    assert translate_aws_error(ValueError("x")) is None
