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
import math
from collections.abc import Callable
from typing import Any

from recover.act.calls import Call
from recover.act.plan import Plan, kind, short
from recover.decide.role_plan import THEN_CHOICES
from recover.run.errors import InputError
from recover.runbooks import registry

# (service, operation) each runbook's plans may hold: what its spec declares
# (recover/runbooks/<name>/__init__.py; a test ties the declaration to the calls its code builds).
OPERATIONS: dict[str, frozenset[tuple[str, str]]] = {
    spec.id: spec.operations for spec in registry() if spec.applier}

Check = Callable[[Any], str | None]  # a problem with the value, or None


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"expected true or false, got {kind(v)}"


def _opt_bool(v: Any) -> str | None:
    return None if v is None or isinstance(v, bool) else f"expected true, false or null, got {kind(v)}"


def _number(low: float, high: float, whole: bool = False) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int if whole else int | float) \
                or (isinstance(v, float) and not math.isfinite(v)) or not low <= v <= high:
            what = "a whole number" if whole else "a number"
            return f"expected {what} from {low:g} to {high:g}, got {kind(v)}"
        return None
    return check


def _str_list(v: Any) -> str | None:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return None
    return f"expected a list of strings, got {kind(v)}"


def _opt_str(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else f"expected a string or null, got {kind(v)}"


def _objects(fields: dict[str, Check]) -> Check:
    """A list of objects, each with these fields."""
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return f"expected a list, got {kind(v)}"
        for i, item in enumerate(v):
            if not isinstance(item, dict):
                return f"[{i}]: expected an object, got {kind(item)}"
            for key, sub in fields.items():
                if key not in item:
                    return f"[{i}]: missing {key}"
                if (problem := sub(item[key])) is not None:
                    return f"[{i}].{key}: {problem}"
        return None
    return check


def _of_type(t: type, what: str) -> Check:
    return lambda v: None if isinstance(v, t) and not isinstance(v, bool) else \
        f"expected {what}, got {kind(v)}"


def _trusts(v: Any) -> str | None:
    """bootstrap-role: role ARN -> {before, fixed} trust documents (objects)."""
    if not isinstance(v, dict):
        return f"expected an object of role ARN -> {{before, fixed}}, got {kind(v)}"
    for arn, t in v.items():
        if not isinstance(t, dict) or not all(isinstance(t.get(k), dict)
                                              for k in ("before", "fixed")):
            return f"{short(arn)}: expected {{before: object, fixed: object}}"
    return None


def _mapping(fields: dict[str, Check]) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return f"expected an object, got {kind(v)}"
        for key in v:
            if key not in fields:
                return f"unknown key {short(key)} (known: {', '.join(sorted(fields))})"
            if (problem := fields[key](v[key])) is not None:
                return f"{key}: {problem}"
        return None
    return check


_STR = _of_type(str, "a string")
_COUNT = _number(0, 1e12, whole=True)
# The CLI's own bounds (recover/cli/params.py follow_options): --timeout >= 1, --poll-interval > 0;
# a plan saved by an older recover may hold a poll interval of 0.
_TIMING = {"wait": _bool, "timeout": _number(1, 7 * 86400), "poll_interval": _number(0, 3600)}

SETTINGS: dict[str, dict[str, Check]] = {
    "rollback-stuck": {**_TIMING, "restores": _of_type(list, "a list")},
    "delete-failed": {
        **_TIMING,
        "steps": _objects({"stack_id": _STR, "stack_name": _STR, "retain": _str_list}),
        "empty_buckets": _objects({"bucket": _STR, "objects": _COUNT, "versions": _COUNT,
                                   "delete_markers": _COUNT}),
        "orphans": _objects({"id": _STR, "retained_at": _STR,
                             "left_stack": _mapping({"stack_id": _STR, "name": _STR,
                                                     "root": _STR})}),
        "ledger": _opt_str,
    },
    "express-failed": {**_TIMING, "source": _opt_str,
                       "undone": _mapping({k: _str_list for k in
                                           ("changed", "added", "removed", "parameters")})},
    "bootstrap-role": {
        **_TIMING,
        "then": lambda v: None if v in THEN_CHOICES else
        f"expected one of {', '.join(THEN_CHOICES)}, got {kind(v)}",
        "remove_role_after": _opt_bool,
        "restore_trust_after": _opt_bool,
        "trust": _trusts,
        "retry": _mapping({"first": _number(0, 600), "factor": _number(1, 10),
                           "cap": _number(0, 600), "max_attempts": _number(1, 20, whole=True)}),
        "skip": _str_list, "skip_unrecoverable": _bool, "restore_artifacts": _opt_bool,
        "artifact_sources": lambda v: None if v is None else _str_list(v),
        "trail": _opt_str,
    },
}


def check_plan(plan: Plan) -> None:
    """Raise InputError (exit 2) naming the first thing in the plan its runbook cannot run."""
    allowed = OPERATIONS.get(plan.runbook)
    if allowed is None:
        raise InputError(f"the plan is for runbook {short(plan.runbook)}, which apply does not "
                         f"know (known: {', '.join(sorted(OPERATIONS))})")
    where = f"plan for {plan.runbook}"
    for key, check in SETTINGS[plan.runbook].items():
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
