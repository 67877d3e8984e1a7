"""EXPRESS deployment mode in the sandbox (docs/reference/aws-behaviour.md#express-deployment-mode).

A failed EXPRESS update leaves the stack UPDATE_FAILED with rollback off. From there AWS refuses
RollbackStack, any update or change set without DeploymentConfig Mode=EXPRESS, and an update
that turns rollback on; an UpdateStack in EXPRESS mode is accepted and walks the resources to the
template it carries. The three refusals use AWS's texts as captured in public reports (the first
one ends in an ellipsis in the capture and is sent that way). Error codes: ValidationError for
all three is an assumption (only the first is reported with its code).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from recover.sandbox.cfn.model import CfnError, SimResource, SimStack

if TYPE_CHECKING:
    from recover.sandbox.cfn.runner import Runner

EXPRESS = "EXPRESS"
FOLLOW_UP_REFUSED = (
    "This stack is in a UPDATE_FAILED state from a previous operation that used EXPRESS "
    "deployment mode with disable-rollback. Follow-up operations must use the same "
    "DeploymentConfig (mode=EXPRESS) until the stack reaches a *_COMPLETE state...")
ROLLBACK_REFUSED = ("RollbackStack is not supported for stacks that were last updated using "
                    "EXPRESS deployment mode and are in a failed state")
ROLLBACK_ON_REFUSED = (
    "This stack is currently in a non-terminal [UPDATE_FAILED] state. To update the stack from "
    "this state, please use the disable-rollback parameter with update-stack API. To rollback "
    "to the last known good state, use the rollback-stack API")
# The reason an EXPRESS create/update event carries (aws/aws-cdk-cli#1689, quoted in the CLI)
COMPLETED_EXPRESS = ("Resource operation completed using Express Mode. It may continue becoming "
                     "available in the background.")
# A replacement with rollback off (cdklabs/aws-cdk-notices#1167): the wording is AWS's, that it
# is the failed resource's event reason is inferred.
REPLACEMENT_REFUSED = "Replacement type updates not supported on stack with disable-rollback."


def wedged(stack: SimStack) -> bool:
    return stack.status == "UPDATE_FAILED" and stack.deployment_mode == EXPRESS


def mode_of(p: dict[str, Any]) -> str | None:
    return (p.get("DeploymentConfig") or {}).get("Mode")


def rollback_requested(p: dict[str, Any]) -> bool:
    """The request turns rollback on explicitly (DisableRollback false, top level or in the
    DeploymentConfig)."""
    config = p.get("DeploymentConfig") or {}
    return config.get("DisableRollback") is False or p.get("DisableRollback") is False


def check_update(stack: SimStack, p: dict[str, Any]) -> None:
    """UpdateStack / CreateChangeSet on an UPDATE_FAILED stack: AWS's refusals, in order."""
    if wedged(stack) and mode_of(p) != EXPRESS:
        raise CfnError(FOLLOW_UP_REFUSED)
    if stack.status == "UPDATE_FAILED" and rollback_requested(p):
        raise CfnError(ROLLBACK_ON_REFUSED)


def parse_body(body: str) -> dict[str, Any]:
    """JSON or plain YAML (the sandbox's scenarios use JSON; short-form tags are not read)."""
    try:
        data = json.loads(body) if body.lstrip().startswith("{") else yaml.safe_load(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise CfnError(f"Template format error: {' '.join(str(exc).split())[:200]}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise CfnError("Template format error: At least one Resources member must be defined.")
    return data


def parameters_after(stack: SimStack, template: dict[str, Any],
                     given: list[dict[str, Any]]) -> dict[str, str]:
    """The stack's parameter values after the update: given values, previous values where
    asked, defaults for the rest; a declared parameter with none of these is refused."""
    declared = template.get("Parameters") or {}
    by_key = {g["ParameterKey"]: g for g in given}
    out: dict[str, str] = {}
    for key, spec in declared.items():
        g = by_key.get(key)
        if g is not None and g.get("UsePreviousValue"):
            if key not in stack.parameters:
                raise CfnError(f"Invalid input for parameter key {key}. Cannot specify "
                               "usePreviousValue as true for a parameter key not in the "
                               "previous template")
            out[key] = stack.parameters[key]
        elif g is not None:
            out[key] = str(g.get("ParameterValue", ""))
        elif isinstance(spec, dict) and "Default" in spec:
            out[key] = str(spec["Default"])
        else:
            raise CfnError(f"Parameters: [{key}] must have values")
    return out


def deployed(res: SimResource) -> dict[str, Any]:
    return {k: v for k, v in res.properties.items() if not k.startswith("Sandbox")}


def walk_update(engine: Runner, stack: SimStack, template: dict[str, Any],
                token: str | None, *, fail: dict[str, str] | None = None) -> None:
    """Walk `stack` (already UPDATE_IN_PROGRESS) to `template` in EXPRESS mode: create the new
    resources, update the changed ones, then delete the removed ones in the cleanup phase.
    `fail` (seeding): {logical id: reason} of resources whose update fails; with rollback off
    the stack then stops UPDATE_FAILED and the resources after it are not attempted."""
    fail = fail or {}
    wanted = template.get("Resources") or {}
    for lid, body in wanted.items():
        props = dict(body.get("Properties") or {})
        res = stack.resources.get(lid)
        if res is None:
            res = SimResource(lid, body.get("Type", "AWS::CloudFormation::WaitConditionHandle"),
                              None, "CREATE_IN_PROGRESS", properties=props)
            stack.resources[lid] = res
            engine.event(stack, res, "CREATE_IN_PROGRESS", token=token, physical="")
            engine._step()
            res.physical_id = f"{stack.name}-{lid}-{engine.world.random_suffix(12)}"
            res.status, res.reason = "CREATE_COMPLETE", COMPLETED_EXPRESS
            engine.event(stack, res, "CREATE_COMPLETE", COMPLETED_EXPRESS, token=token)
            continue
        if deployed(res) == props and not res.status.endswith("_FAILED"):
            continue
        engine.event(stack, res, "UPDATE_IN_PROGRESS", token=token)
        engine._step()
        if lid in fail:
            res.status, res.reason, res.failed_phase = "UPDATE_FAILED", fail[lid], "update"
            engine.event(stack, res, "UPDATE_FAILED", fail[lid], token=token)
            engine._set_status(stack, "UPDATE_FAILED",
                               f"The following resource(s) failed to update: [{lid}]. ", token)
            return
        hidden = {k: v for k, v in res.properties.items() if k.startswith("Sandbox")}
        res.properties = {**props, **hidden}
        res.status, res.reason, res.failed_phase = "UPDATE_COMPLETE", COMPLETED_EXPRESS, None
        engine.event(stack, res, "UPDATE_COMPLETE", COMPLETED_EXPRESS, token=token)
    engine._set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, token)
    for lid in [lid for lid in stack.resources if lid not in wanted]:
        res = stack.resources[lid]
        engine.event(stack, res, "DELETE_IN_PROGRESS", token=token)
        engine._step()
        res.status = "DELETE_COMPLETE"
        engine.event(stack, res, "DELETE_COMPLETE", token=token)
        del stack.resources[lid]
    engine._set_status(stack, "UPDATE_COMPLETE", None, token)
