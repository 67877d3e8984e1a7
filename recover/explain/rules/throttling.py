"""Throttling: a request rate, not a resource quota."""

from __future__ import annotations

from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode

E_THROTTLED = (
    "AWS throttled the calls (a request-rate limit, not a resource quota): nothing in the stack "
    "or the account has to change. Wait and retry (continue the rollback or deploy again); if "
    "it persists, lower the parallelism of deployments or ask for a higher API rate. During a "
    "rollback, continuing it is the fix (docs/reference/aws-behaviour.md#why-a-rollback-fails).")


RULES: tuple[Rule, ...] = family(
    "throttling",
    Rule("api-throttled", FailureMode.THROTTLED, 30, E_THROTTLED,
         when(r"\bRate exceeded\b", r"\bThrottl", r"\bTooManyRequests", r"Too Many Requests",
              r"\bRequest ?limit exceeded\b", r"\bSlow ?Down\b", r"request rate",
              r"Status Code: 429\b",
              codes=("Throttling", "ThrottlingException", "TooManyRequestsException",
                     "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException"),
              extract=lambda m, msg: {"transient": True}),
         examples=('Rate exceeded (Service: AmazonCloudFormation; Status Code: 400; Error Code: Throttling)',
                   'Request limit exceeded. (Service: AmazonEC2; Status Code: 503; Error Code: '
                   'RequestLimitExceeded; Request ID: 1)')),
)
