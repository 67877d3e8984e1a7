"""Expected failures, each with a stable code, a one-line message and an exit code.

Anything that is not a RecoverError is a bug: the CLI prints one line and hides the
traceback unless --debug is given. AWS/botocore exceptions are translated here so no
command has to know botocore's exception zoo.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from recover.run.exit_codes import ExitCode


class RecoverError(Exception):
    code = "error"
    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, code: str | None = None, exit_code: ExitCode | None = None,
                 hint: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if exit_code is not None:
            self.exit_code = exit_code
        self.hint = hint
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.details:
            out["details"] = self.details
        return out


class UsageError(RecoverError):
    code = "usage"
    exit_code = ExitCode.USAGE


class NotFoundError(RecoverError):
    code = "not_found"
    exit_code = ExitCode.NOT_FOUND


class StackNotFoundError(NotFoundError):
    code = "stack_not_found"


class AuthError(RecoverError):
    code = "credentials"
    exit_code = ExitCode.AWS_AUTH


class AccessDeniedError(AuthError):
    code = "access_denied"

    def __init__(self, action: str, message: str | None = None, **kw: Any) -> None:
        self.action = action
        super().__init__(message or f"access denied: the caller lacks IAM permission {action}",
                         details={"iam_action": action}, **kw)


class ThrottledError(RecoverError):
    code = "throttled"


class NeedsDecisionError(RecoverError):
    """--non-interactive met a decision that no flag settled; names the flag that settles it."""

    code = "needs_decision"
    exit_code = ExitCode.NEEDS_DECISION

    def __init__(self, message: str, flag: str, **kw: Any) -> None:
        self.flag = flag
        super().__init__(message, hint=f"pass {flag} to decide this without a prompt",
                         details={"flag": flag}, **kw)


class AbortedError(RecoverError):
    code = "aborted"
    exit_code = ExitCode.ABORTED


class PreconditionChangedError(RecoverError):
    code = "precondition_changed"
    exit_code = ExitCode.PRECONDITION_CHANGED


class InputError(RecoverError):
    """Unreadable or malformed input file (plan, trail file, runbook...)."""

    code = "bad_input"
    exit_code = ExitCode.USAGE


_CRED_CODES = {
    "ExpiredToken": "expired_token",
    "ExpiredTokenException": "expired_token",
    "RequestExpired": "expired_token",
    "TokenRefreshRequired": "expired_token",
    "InvalidClientTokenId": "invalid_credentials",
    "UnrecognizedClientException": "invalid_credentials",
    "SignatureDoesNotMatch": "invalid_credentials",
    "InvalidAccessKeyId": "invalid_credentials",
    "AuthFailure": "invalid_credentials",
}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                 "AuthorizationError", "Forbidden", "UnauthorizedAccess"}
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
                   "TooManyRequestsException", "SlowDown", "RequestThrottled",
                   "RequestThrottledException", "ProvisionedThroughputExceededException"}
_ACTION_IN_MESSAGE = re.compile(r"not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)")
_STACK_MISSING = re.compile(r"Stack(?: with id)? \[?([^\]\s]+)\]? does not exist")


@cache
def network_errors() -> tuple[type[Exception], ...]:
    from botocore import exceptions as bx

    # What botocore's standard and adaptive retry modes treat as a transient network failure
    # (botocore.retries.standard.TransientRetryableChecker): resets, connections closed before
    # an answer, connect and read timeouts, endpoints that cannot be reached.
    return (bx.ConnectionError, bx.HTTPClientError)


def transient_kind(exc: BaseException) -> str | None:
    """Why a failed call may succeed if sent again: "throttled", "server error" (5xx) or
    "no answer" (the network failed); None when it would fail the same way. The one rule
    for every retry loop recover writes itself, the same set botocore's standard mode
    retries."""
    from botocore.exceptions import ClientError

    if isinstance(exc, network_errors()):
        return "no answer"
    if isinstance(exc, ClientError):
        if exc.response.get("Error", {}).get("Code", "") in _THROTTLE_CODES:
            return "throttled"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if isinstance(status, int) and status >= 500:
            return "server error"
    return None


def no_answer_error(exc: BaseException, call: str, attempts: int,
                    where: str = "") -> RecoverError:
    """One line for a call that never got an answer, however many times it was sent."""
    from botocore import exceptions as bx

    what = " ".join(str(exc).split())  # botocore messages may span lines
    where = f" in {where}" if where else ""
    tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return RecoverError(f"cannot reach the AWS endpoint for {call}{where} after {tries}: "
                            f"{what}", code="endpoint_unreachable",
                            hint="check the network, the region and --endpoint-url",
                            details={"operation": call, "attempts": attempts})
    return RecoverError(f"no answer from AWS for {call}{where} after {tries}: {what}",
                        code="no_answer", hint="check the network, then run the same command "
                        "again (it resumes)", details={"operation": call, "attempts": attempts})


def iam_action(service: str, operation: str) -> str:
    """IAM action for a botocore service/operation (the endpoint prefix is the IAM prefix
    for every service recover calls)."""
    prefix = {"lambda": "lambda", "s3": "s3", "sts": "sts"}.get(service, service)
    return f"{prefix}:{operation}"


def translate_aws_error(exc: BaseException, region: str | None = None) -> RecoverError | None:
    """Map a botocore/boto3 exception to a RecoverError; None if it is not an AWS error."""
    from botocore import exceptions as bx

    if isinstance(exc, RecoverError):
        return exc
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return AuthError("no AWS credentials found: set a profile (--profile) or the AWS_* "
                         "environment variables", code="no_credentials")
    if isinstance(exc, bx.NoRegionError):
        return UsageError("no AWS region: pass --region or set AWS_REGION", code="no_region")
    if isinstance(exc, bx.ProfileNotFound):
        return UsageError(f"unknown AWS profile: {exc.kwargs.get('profile')}", code="no_profile")
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return AuthError(f"credentials expired or unusable: {exc}; log in again (aws sso login)",
                         code="expired_token")
    if isinstance(exc, network_errors()):
        # botocore's retries gave up (or were off): recover.aws.session tagged the call
        tag = getattr(exc, "recover_call", None) or {}
        return no_answer_error(exc, tag.get("operation") or "an AWS call",
                               int(tag.get("attempts") or 1))
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        # Something answered, but not an AWS service: a proxy, a captive portal, a wrong port.
        tag = getattr(exc, "recover_call", None) or {}
        call = tag.get("operation") or "an AWS call"
        return RecoverError(f"the endpoint's answer to {call} is not an AWS response (it could "
                            "not be parsed)", code="bad_endpoint_answer",
                            hint="check --endpoint-url (or AWS_ENDPOINT_URL), the region and any "
                            "proxy (HTTPS_PROXY)", details={"operation": call})
    if isinstance(exc, bx.ParamValidationError):
        return UsageError(f"invalid value for an AWS call: {exc}".replace("\n", " "),
                          code="invalid_parameter")
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        message = str(err.get("Message", "")) or code
        op = getattr(exc, "operation_name", "") or ""
        service = exc.response.get("ResponseMetadata", {}).get("RecoverService", "")
        if code in _CRED_CODES:
            return AuthError(f"AWS rejected the credentials ({code}): {message}; refresh them and "
                             "run again", code=_CRED_CODES[code])
        if code in _DENIED_CODES or "not authorized to perform" in message:
            m = _ACTION_IN_MESSAGE.search(message)
            action = m.group(1) if m else iam_action(service or "aws", op)
            return AccessDeniedError(action, f"access denied: the caller lacks {action} ({op})")
        if code in _THROTTLE_CODES:
            return ThrottledError(f"AWS kept throttling {op} after retries ({code}); wait a "
                                  "minute and run again", code="throttled")
        m = _STACK_MISSING.search(message)
        if code == "ValidationError" and m:
            where = f" in region {region}" if region else ""
            return StackNotFoundError(f"stack {m.group(1)} does not exist{where}",
                                      hint="check the stack name and --region")
        return RecoverError(f"{op or 'AWS call'} failed: {code}: {message}", code="aws_error",
                            details={"aws_code": code, "operation": op})
    if isinstance(exc, bx.BotoCoreError):
        return RecoverError(f"AWS client error: {exc}", code="aws_error")
    return None

