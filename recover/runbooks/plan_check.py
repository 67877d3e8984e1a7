"""What a plan file of each runbook may hold, checked by `recover apply` before it reads
anything from AWS (a plan file is input like any other: it may be truncated, hand-edited or
corrupted on its way to the second engineer):

- only the operations the runbook itself makes (a rollback-stuck plan cannot delete a stack);
- parameters that botocore's own model of the operation accepts, so no call fails half-way
  through a plan on a typo (the model is read from botocore's bundled data, offline);
- calls aimed at the plan's own stacks, roles and buckets: a DeleteStack names a stack of
  the plan's preconditions, an IAM change a role the plan read, a DeleteObjects a bucket the
  plan lists for emptying (whose name apply asks for again);
- settings of the types the appliers read.

Plan.from_dict (recover.act.plan) has already checked the structure common to every plan.
"""

from __future__ import annotations

import functools
from typing import Any

from recover.act.calls import Call
from recover.act.plan import Plan, short
from recover.run.errors import InputError
from recover.runbooks import find, registry
from recover.runbooks.plan_settings import Check
from recover.runbooks.spec import load

# (service, operation) each runbook's plans may hold: what its spec declares
# (recover/runbooks/<name>/__init__.py; a test ties the declaration to the calls its code builds).
OPERATIONS: dict[str, frozenset[tuple[str, str]]] = {
    spec.id: spec.operations for spec in registry() if spec.applier}



@functools.cache
def settings_checks(runbook: str) -> dict[str, Check]:
    """The runbook's own table of setting checks (its spec's `plan_settings`)."""
    spec = find(runbook)
    return dict(load(spec.plan_settings)) if spec and spec.plan_settings else {}



def check_plan(plan: Plan) -> None:
    """Raise InputError (exit 2) naming the first thing in the plan its runbook cannot run."""
    allowed = OPERATIONS.get(plan.runbook)
    if allowed is None:
        raise InputError(f"the plan is for runbook {short(plan.runbook)}, which apply does not "
                         f"know (known: {', '.join(sorted(OPERATIONS))})")
    where = f"plan for {plan.runbook}"
    for key, check in settings_checks(plan.runbook).items():
        if key in plan.settings and (problem := check(plan.settings[key])) is not None:
            raise InputError(f"{where}: settings.{key}: {problem}")
    if not plan.calls:
        raise InputError(f"{where}: the plan holds no call")
    stacks = set(plan.preconditions["stacks"])
    roles = {arn.rsplit("/", 1)[-1] for arn in plan.preconditions.get("roles", {})}
    buckets = {b["bucket"] for b in plan.settings.get("empty_buckets") or []}
    for i, call in enumerate(plan.calls):
        label = f"{where}: calls[{i}] ({short(call.service, 30)}:{short(call.operation, 40)})"
        if (call.service, call.operation) not in allowed:
            raise InputError(f"{label}: not an operation this runbook makes (it makes "
                             + ", ".join(sorted(f"{s}:{o}" for s, o in allowed)) + ")")
        if (problem := _model_problem(call)) is not None:
            raise InputError(f"{label}: {problem}")
        if call.service == "cloudformation" and call.params["StackName"] not in stacks:
            raise InputError(f"{label}: StackName {short(call.params['StackName'])} is not a "
                             "stack of the plan's preconditions")
        if call.service == "iam" and call.params["RoleName"] not in roles:
            raise InputError(f"{label}: RoleName {short(call.params['RoleName'])} is not a role "
                             "the plan read (preconditions.roles)")
        if call.operation == "DeleteObjects" and call.params["Bucket"] not in buckets:
            raise InputError(f"{label}: bucket {short(call.params['Bucket'])} is not listed in "
                             "settings.empty_buckets, so apply would not ask to confirm it")


def _model_problem(call: Call) -> str | None:
    """What botocore's model of the operation says is wrong with the parameters (offline).
    Blob descriptors stand for bytes, checked later against their file."""
    from botocore.exceptions import UnknownServiceError
    from botocore.model import OperationNotFoundError
    from botocore.validate import ParamValidator

    try:
        op = _service_model(call.service).operation_model(call.operation)
    except (UnknownServiceError, OperationNotFoundError):
        return "unknown AWS service or operation"
    params = {k: b"" if isinstance(v, dict) and "__blob__" in v else v
              for k, v in call.params.items()}
    report = ParamValidator().validate(params, op.input_shape)
    if report.has_errors():
        return "invalid parameters: " + " ".join(report.generate_report().split())[:300]
    return None


@functools.cache
def _service_model(service: str) -> Any:
    """botocore's bundled model of a service (loading it is the slow part: once a process)."""
    from botocore.session import get_session

    return get_session().get_service_model(service)
