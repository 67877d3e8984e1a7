"""Drift detection and drift-aware (REVERT_DRIFT) change sets in the sandbox
(docs/reference/aws-behaviour.md#drift-detection, #drift-aware-change-sets).

A resource's expected state is its template's Properties; its actual state is what the sandbox
says is deployed (`SimResource.properties`), or nothing when the real object is gone from moto
(a bucket, a function or a security group deleted out of band). Only properties the template
sets are compared, as AWS does.

Guesses (no public source found), followed here as the most likely reading:
- DetectStackResourceDrift on a type drift detection does not support answers ValidationError
  with the wording below (AWS may instead answer a drift record with status UNSUPPORTED or
  NOT_CHECKED; recover handles both);
- a REVERT_DRIFT change set recreates a resource deleted out of band (Action Add) and reverts a
  modified one (Action Modify); an unsupported type is listed with ResourceDriftStatus
  UNSUPPORTED and left alone (that status is reported, aws-cloudformation/
  cloudformation-coverage-roadmap#2546);
- a change set is CREATE_COMPLETE at once (AWS computes it asynchronously);
- CreateChangeSet sent again with the same ClientToken, name and stack answers the change set the
  first request created (the retry after a lost answer); the same name without that token is
  AlreadyExistsException; ExecuteChangeSet sent again with the ClientRequestToken of the request
  that started the execution answers success and starts nothing, like the other stack operations
  (docs/reference/aws-behaviour.md#client-request-tokens).

Knobs for fallback tests: `engine.drift_detection_supported = False` answers DetectStackResourceDrift
like an endpoint that lacks it; `engine.revert_drift_supported = False` refuses DeploymentMode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recover.sandbox import moto_access as aws
from recover.sandbox.cfn.model import NESTED_STACK, CfnError, SimResource, SimStack

if TYPE_CHECKING:
    from recover.sandbox.cfn.runner import Runner

UNSUPPORTED_MESSAGE = "Drift detection is not supported for resource type {type}"  # guessed
NO_CHANGES = ("The submitted information didn't contain changes. Submit different information "
              "to create a change set.")
REVERT_REFUSED = "DeploymentMode REVERT_DRIFT is not supported for this stack"  # sandbox knob


def supports_drift(resource_type: str) -> bool:
    """Custom resources and nested stacks are not registry types: drift detection cannot read
    them (the sandbox's reading of the resource type support table)."""
    return not (resource_type.startswith("Custom::") or resource_type in (
        "AWS::CloudFormation::CustomResource", NESTED_STACK))


@dataclass
class ChangeSet:
    change_set_id: str
    name: str
    stack: SimStack
    mode: str | None
    changes: list[dict[str, Any]]
    status: str = "CREATE_COMPLETE"
    reason: str | None = None
    execution: str = "AVAILABLE"
    include_nested: bool = False
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)  # lid -> properties
    client_token: str | None = None  # CreateChangeSet's ClientToken


def expected_of(stack: SimStack, res: SimResource) -> dict[str, Any]:
    body = (stack.template.get("Resources") or {}).get(res.logical_id) or {}
    props = body.get("Properties") or {}
    return json.loads(json.dumps(props))


def exists(engine: Runner, res: SimResource) -> bool:
    """Is the real object still there? (types moto holds; the others are assumed present)"""
    region = engine.world.region
    if not res.physical_id:
        return False
    if res.type == "AWS::S3::Bucket":
        return aws.bucket_exists(res.physical_id)
    if res.type == "AWS::Lambda::Function":
        return aws.lambda_function(res.physical_id, region) is not None
    if res.type == "AWS::EC2::SecurityGroup":
        return aws.security_group_exists(res.physical_id, region)
    return True


def differences(expected: Any, actual: Any, path: str = "") -> list[dict[str, Any]]:
    """PropertyDifferences of the template's properties against the actual ones."""
    if isinstance(expected, dict):
        actual_d = actual if isinstance(actual, dict) else {}
        out: list[dict[str, Any]] = []
        for key, value in expected.items():
            out += differences(value, actual_d.get(key), f"{path}/{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i, value in enumerate(expected):
            if i >= len(actual):
                out.append(_diff(f"{path}/{i}", value, None, "REMOVE"))
            else:
                out += differences(value, actual[i], f"{path}/{i}")
        out += [_diff(f"{path}/{i}", None, actual[i], "ADD")
                for i in range(len(expected), len(actual))]
        return out
    if expected != actual:
        return [_diff(path, expected, actual, "NOT_EQUAL")]
    return []


def _diff(path: str, expected: Any, actual: Any, kind: str) -> dict[str, Any]:
    def text(v: Any) -> str:
        return "" if v is None else v if isinstance(v, str) else json.dumps(v)
    return {"PropertyPath": path, "ExpectedValue": text(expected), "ActualValue": text(actual),
            "DifferenceType": kind}


def status_of(engine: Runner, stack: SimStack, res: SimResource) -> tuple[str, list[Any]]:
    if not exists(engine, res):
        return "DELETED", []
    diffs = differences(expected_of(stack, res), res.properties)
    return ("MODIFIED" if diffs else "IN_SYNC"), diffs


def detect_stack_resource_drift(engine: Runner, p: dict[str, Any]) -> dict[str, Any]:
    if not engine.drift_detection_supported:
        raise CfnError("The recover sandbox was told to lack DetectStackResourceDrift",
                       code="InvalidAction")
    stack = engine.get(p["StackName"])
    lid = p["LogicalResourceId"]
    res = stack.resources.get(lid)
    if res is None:
        raise CfnError(f"Resource {lid} does not exist for stack {stack.name}")
    if not supports_drift(res.type):
        raise CfnError(UNSUPPORTED_MESSAGE.format(type=res.type))
    status, diffs = status_of(engine, stack, res)
    drift: dict[str, Any] = {
        "StackId": stack.stack_id, "LogicalResourceId": lid,
        "PhysicalResourceId": res.physical_id or "", "ResourceType": res.type,
        "StackResourceDriftStatus": status, "Timestamp": engine.world.clock(),
        "ExpectedProperties": json.dumps(expected_of(stack, res))}
    if status != "DELETED":
        drift["ActualProperties"] = json.dumps(
            {k: v for k, v in res.properties.items() if not k.startswith("Sandbox")})
        drift["PropertyDifferences"] = diffs
    return {"StackResourceDrift": drift}


def create_change_set(engine: Runner, p: dict[str, Any]) -> dict[str, Any]:
    stack = engine.get(p["StackName"])
    from recover.sandbox.cfn.api import UPDATABLE

    if (p.get("ChangeSetType") or "UPDATE") != "UPDATE":
        raise CfnError("the recover sandbox simulates UPDATE change sets only")
    if stack.status not in UPDATABLE:
        raise CfnError(f"Stack:{stack.stack_id} is in {stack.status} state and can not be "
                       "updated.")
    if not p.get("UsePreviousTemplate"):
        raise CfnError("the recover sandbox simulates change sets with UsePreviousTemplate only")
    mode = p.get("DeploymentMode")
    if mode and not engine.revert_drift_supported:
        raise CfnError(REVERT_REFUSED)
    name = p["ChangeSetName"]
    store = engine.change_sets
    token = p.get("ClientToken")
    for cs in store.values():
        if cs.stack is stack and cs.name == name:
            if token and cs.client_token == token:  # the same request again: its change set
                return {"Id": cs.change_set_id, "StackId": stack.stack_id}
            raise CfnError(f"ChangeSet {name} already exists", code="AlreadyExistsException")
    w = engine.world
    cs_id = (f"arn:aws:cloudformation:{w.region}:{w.account}:changeSet/{name}/{w.new_uuid()}")
    cs = ChangeSet(cs_id, name, stack, mode, [], include_nested=bool(p.get("IncludeNestedStacks")),
                   client_token=token)
    stacks = engine.tree(stack) if cs.include_nested else [stack]
    for s in stacks:
        for res in s.resources.values():
            if mode != "REVERT_DRIFT" or res.type == NESTED_STACK:
                continue
            change = {"LogicalResourceId": res.logical_id, "PhysicalResourceId": res.physical_id,
                      "ResourceType": res.type, "Replacement": "False", "Scope": ["Properties"]}
            if not supports_drift(res.type):
                cs.changes.append(dict(change, Action="Modify", ResourceDriftStatus="UNSUPPORTED",
                                       Details=[], Replacement="False", _skip=True))
                continue
            status, diffs = status_of(engine, s, res)
            if status == "IN_SYNC":
                continue
            cs.changes.append(dict(change, Action="Add" if status == "DELETED" else "Modify",
                                   ResourceDriftStatus=status, _stack=s.stack_id,
                                   Details=[{"Target": {"Attribute": "Properties",
                                                        "Name": d["PropertyPath"].split("/")[1],
                                                        "RequiresRecreation": "Never"},
                                             "ChangeSource": "DirectModification",
                                             "Evaluation": "Static"} for d in diffs]))
    if not [c for c in cs.changes if not c.get("_skip")]:
        cs.status, cs.reason, cs.execution = "FAILED", NO_CHANGES, "UNAVAILABLE"
    store[cs_id] = cs
    return {"Id": cs_id, "StackId": stack.stack_id}


def _find(engine: Runner, p: dict[str, Any]) -> ChangeSet:
    key = p["ChangeSetName"]
    for cs in engine.change_sets.values():
        if key == cs.change_set_id or (key == cs.name and p.get("StackName") in (
                cs.stack.name, cs.stack.stack_id)):
            return cs
    raise CfnError(f"ChangeSet [{key}] does not exist", code="ChangeSetNotFound", status=404)


def describe_change_set(engine: Runner, p: dict[str, Any]) -> dict[str, Any]:
    cs = _find(engine, p)
    out: dict[str, Any] = {
        "ChangeSetId": cs.change_set_id, "ChangeSetName": cs.name, "StackId": cs.stack.stack_id,
        "StackName": cs.stack.name, "Status": cs.status, "ExecutionStatus": cs.execution,
        "CreationTime": engine.world.clock(), "IncludeNestedStacks": cs.include_nested,
        "Changes": [{"Type": "Resource", "ResourceChange": {
            k: v for k, v in c.items() if not k.startswith("_")}} for c in cs.changes]}
    if cs.mode:
        out["DeploymentMode"] = cs.mode
    if cs.reason:
        out["StatusReason"] = cs.reason
    return out


def execute_change_set(engine: Runner, p: dict[str, Any]) -> dict[str, Any]:
    from recover.sandbox.cfn.runner import request_fingerprint

    cs = _find(engine, p)
    stack = cs.stack
    token = p.get("ClientRequestToken")
    # the same request: the change set named by its id, whichever form the caller used
    fingerprint = request_fingerprint("ExecuteChangeSet", {
        **{k: v for k, v in p.items() if k not in ("ChangeSetName", "StackName")},
        "ChangeSetId": cs.change_set_id})
    if engine.check_token(stack, token, fingerprint):
        return {}  # already executed by this very request (its answer was lost)
    if cs.execution != "AVAILABLE":
        raise CfnError(f"ChangeSet [{cs.change_set_id}] cannot be executed in its current "
                       f"execution status of [{cs.execution}]", code="InvalidChangeSetStatus")
    with engine.lock:
        if token:
            engine._tokens[(stack.stack_id, token)] = fingerprint
        cs.execution = "EXECUTE_IN_PROGRESS"
        for other in [k for k, v in engine.change_sets.items() if v.stack is stack and v is not cs]:
            del engine.change_sets[other]  # executing one change set deletes the others
        engine._set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated", token)
    engine._launch(lambda: _walk(engine, cs, token))
    return {}


def _walk(engine: Runner, cs: ChangeSet, token: str | None) -> None:
    stack = cs.stack
    for change in cs.changes:
        if change.get("_skip"):
            continue
        owner = engine.stacks[change["_stack"]]
        res = owner.resources[change["LogicalResourceId"]]
        engine.event(owner, res, "UPDATE_IN_PROGRESS", token=token)
        engine._step()
        res.properties = dict(res.properties, **expected_of(owner, res))
        if res.type == "AWS::S3::Bucket" and not exists(engine, res):
            aws.create_bucket(res.physical_id, engine.world.region)
        res.status = "UPDATE_COMPLETE"
        engine.event(owner, res, "UPDATE_COMPLETE", token=token)
    engine._set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, token)
    engine._step()
    engine._set_status(stack, "UPDATE_COMPLETE", None, token)
    cs.execution = "EXECUTE_COMPLETE"
