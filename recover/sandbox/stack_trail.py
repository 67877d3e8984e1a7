"""CloudTrail records of CloudFormation's stack calls in the sandbox, and a scenario's earlier
deploys written as history (docs/reference/aws-behaviour.md#cloudformation-calls-in-cloudtrail).

Each call the sandbox serves (CreateStack, UpdateStack, CreateChangeSet, ExecuteChangeSet,
DeleteStack, RollbackStack, ContinueUpdateRollback) is recorded as the operator's call: the
request members in camelCase, parameter keys without values (CloudFormation logs none),
`responseElements.stackId` (`id` and `stackId` for a change set) when accepted, errorCode and
errorMessage when refused. A record whose request parameters would pass CloudTrail's 100 KB
field limit has its templateBody cut and `omitted: true` (the marker's place in the record is
not documented; the sandbox puts it at the top).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from recover.sandbox.cfn.model import SimStack

if TYPE_CHECKING:
    from recover.sandbox.world import World

RECORDED = ("CreateStack", "UpdateStack", "CreateChangeSet", "ExecuteChangeSet", "DeleteStack",
            "RollbackStack", "ContinueUpdateRollback")
FIELD_LIMIT = 100 * 1024  # docs/reference/aws-behaviour.md#cloudtrail-records
SOURCE = "cloudformation.amazonaws.com"


def _camel(name: str) -> str:
    special = {"TemplateURL": "templateURL", "RoleARN": "roleARN",
               "NotificationARNs": "notificationARNs"}
    return special.get(name, name[:1].lower() + name[1:])


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): _value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def request_parameters(params: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(requestParameters as CloudTrail writes them, whether a field was cut short)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "Parameters":
            # only the keys are logged (docs/reference/aws-behaviour.md#cloudformation-calls-in-cloudtrail)
            out["parameters"] = [{"parameterKey": p.get("ParameterKey")}
                                 for p in value or [] if isinstance(p, dict)]
        else:
            out[_camel(key)] = _value(value)
    cut = False
    size = len(json.dumps(out).encode())
    if size > FIELD_LIMIT and isinstance(out.get("templateBody"), str):
        body = out["templateBody"]
        out["templateBody"] = body[:max(0, len(body) - (size - FIELD_LIMIT) - 64)]
        cut = True
    return out, cut


def record(world: World, action: str, params: dict[str, Any], result: dict[str, Any] | None,
           error: tuple[str, str] | None = None, **kw: Any) -> None:
    """One served (or seeded) stack call as the operator's CloudTrail record."""
    if action not in RECORDED:
        return
    request, cut = request_parameters(params)
    response: dict[str, Any] | None = None
    if error is None and result:
        response = {}
        if result.get("Id"):
            response["id"] = result["Id"]
        if result.get("StackId"):
            response["stackId"] = result["StackId"]
    rec = world.record_operator_call(
        action, SOURCE, request, response or None,
        error_code=error[0] if error else None, error_message=error[1] if error else None, **kw)
    if cut:
        world.trail.mark_omitted(rec["eventID"])


def seed_operation(world: World, stack: SimStack, action: str, params: dict[str, Any], *,
                   outcome: str, start: str = "UPDATE_IN_PROGRESS", seconds: int = 90) -> None:
    """A past operation on `stack` as AWS would show it now: the accepted call in CloudTrail a
    second after the stack's "User Initiated" start event, then its end status `outcome`
    (UPDATE_ROLLBACK_COMPLETE goes through UPDATE_ROLLBACK_IN_PROGRESS). Seeding only."""
    token = params.get("ClientRequestToken")
    world.cfn.stack_event(stack, start, "User Initiated", token)
    world.clock.advance(1)
    result = {"StackId": stack.stack_id}
    record(world, action, params, result)
    world.clock.advance(seconds)
    if outcome == "UPDATE_ROLLBACK_COMPLETE":
        world.cfn.stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS",
                              "The following resource(s) failed to update: [OrdersQueue]. ",
                              token)
        world.clock.advance(seconds)
    world.cfn.stack_event(stack, outcome, None, token)


def seed_change_set(world: World, stack: SimStack, name: str, params: dict[str, Any]) -> str:
    """A CreateChangeSet call in CloudTrail (seeding): returns the change set's ARN."""
    arn = (f"arn:aws:cloudformation:{world.region}:{world.account}:changeSet/{name}/"
           f"{world.new_uuid()}")
    record(world, "CreateChangeSet", {"StackName": stack.name, "ChangeSetName": name, **params},
           {"Id": arn, "StackId": stack.stack_id})
    world.clock.advance(timedelta(minutes=3).total_seconds())
    return arn
