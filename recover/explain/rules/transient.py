"""Transient service conditions: a retry without any change can succeed."""

from __future__ import annotations

from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode

E_NOT_STABILIZED = (
    "The resource was created or changed but did not reach a stable state before the handler "
    "gave up waiting (an ECS service whose tasks keep failing, a resource still settling...). "
    "Find why it did not stabilise in the service itself (task/instance logs); when it was only "
    "slow, nothing needs to change: retry or continue the rollback (docs/reference/aws-behaviour.md#why-a-rollback-fails).")


E_CAPACITY = (
    "AWS had no capacity for that instance type in that Availability Zone at that moment: not a "
    "quota of the account. Retry later, or use another Availability Zone or instance type.")


E_BUSY = (
    "The resource was busy with an earlier change (for example RDS still optimising a storage "
    "change, which takes hours) and refused a new one meanwhile. Nothing is wrong with the "
    "request: wait until the earlier change finishes, then retry or continue the rollback.")


E_INTERNAL = (
    "AWS reported an internal or transient service error. Retry the operation; if it keeps "
    "failing, check the AWS Health Dashboard and open a support case.")


RULES: tuple[Rule, ...] = family(
    "transient",
    Rule("not-stabilized", FailureMode.TRANSIENT_ERROR, 30, E_NOT_STABILIZED,
         when(r"did not stabilize", r"failed to stabilize", r"Exceeded maximum number of attempts",
              codes=("NotStabilized",)),
         examples=("Resource of type 'AWS::ECS::Service' with identifier 'svc' did not stabilize.",)),
    Rule("insufficient-capacity", FailureMode.TRANSIENT_ERROR, 45, E_CAPACITY,
         when(r"InsufficientInstanceCapacity", r"(?:do not|don't) have sufficient .{0,40}capacity",
              r"insufficient capacity", codes=("InsufficientInstanceCapacity",)),
         examples=('We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1a).',)),
    # The resource is busy with an earlier change (RDS optimising storage, a modification under
    # way): the same request succeeds once it is done.
    Rule("resource-busy", FailureMode.TRANSIENT_ERROR, 40, E_BUSY,
         when(r"can'?t currently modify", r"cannot currently modify",
              r"previous (?:storage )?(?:change|modification) is (?:being optimized|in progress)",
              r"is currently (?:being modified|in progress|busy)",
              r"another operation is in progress", codes=("OperationAbortedException",
                                                           "ConflictingOperationInProgress")),
         examples=("You can't currently modify the storage of this DB instance because the previous "
                   "storage change is being optimized.",)),
)

# After the specific causes: "internal error" is also quoted inside other services' reasons.
LATE: tuple[Rule, ...] = family(
    "transient",
    Rule("internal-failure", FailureMode.TRANSIENT_ERROR, 20, E_INTERNAL,
         when(r"^Internal ?Failure", r"\bInternalFailure\b", r"\bService ?Unavailable\b",
              r"internal (?:server |service )?error",
              codes=("InternalFailure", "ServiceUnavailable", "InternalError", "ServiceInternalError",
                     "InternalServiceError")),
         examples=('Internal Failure',)),
)
