"""Plain mutable state of the simulated CloudFormation service (guarded by the engine's lock)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

NESTED_STACK = "AWS::CloudFormation::Stack"


class CfnError(Exception):
    """An API error answered to the client: code, message, HTTP status (query protocol)."""

    def __init__(self, message: str, code: str = "ValidationError", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class SimResource:
    logical_id: str
    type: str
    physical_id: str | None
    status: str
    updated: datetime | None = None  # set by every event of the resource
    reason: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)  # what is deployed now
    previous: dict[str, Any] | None = None  # what an update rollback restores
    # "update" / "rollback": in which phase the resource went UPDATE_FAILED (docs/reference/aws-behaviour.md#resourcestoskip-rules rule 1)
    failed_phase: str | None = None
    needs_rollback: bool = False  # changed (or attempted) by the failed update, not restored yet
    deletion_policy: str = "Delete"
    # Behaviour knobs a scenario sets on resources the sandbox does not simulate causally:
    rollback_failure: str | None = None  # the rollback of this resource always fails with this
    delete_failure: str | None = None  # deleting this resource always fails with this
    child_stack_id: str | None = None  # for AWS::CloudFormation::Stack


@dataclass
class SimEvent:
    stack_id: str
    stack_name: str
    event_id: str
    logical_id: str
    physical_id: str | None
    resource_type: str
    timestamp: datetime
    status: str
    reason: str | None = None
    properties: dict[str, Any] | None = None
    client_request_token: str | None = None
    operation_id: str | None = None  # recover/sandbox/cfn/operations.py
    # a hook's verdict on the resource (scenarios record these through operations.record_hook)
    hook_type: str | None = None
    hook_status: str | None = None
    hook_reason: str | None = None
    hook_failure_mode: str | None = None
    hook_invocation_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StackId": self.stack_id, "EventId": self.event_id, "StackName": self.stack_name,
            "LogicalResourceId": self.logical_id, "PhysicalResourceId": self.physical_id or "",
            "ResourceType": self.resource_type, "Timestamp": self.timestamp,
            "ResourceStatus": self.status,
        }
        if self.reason is not None:
            out["ResourceStatusReason"] = self.reason
        if self.properties is not None:
            out["ResourceProperties"] = json.dumps(self.properties)
        if self.client_request_token:
            out["ClientRequestToken"] = self.client_request_token
        optional = {"OperationId": self.operation_id, "HookType": self.hook_type,
                    "HookStatus": self.hook_status, "HookStatusReason": self.hook_reason,
                    "HookFailureMode": self.hook_failure_mode,
                    "HookInvocationId": self.hook_invocation_id}
        out.update({k: v for k, v in optional.items() if v})
        if self.hook_status:
            out["HookInvocationPoint"] = "PRE_PROVISION"
        return out


@dataclass
class SimStack:
    stack_id: str
    name: str
    status: str
    created: datetime
    template: dict[str, Any]
    reason: str | None = None
    # The template as the user wrote it (e.g. YAML with short-form tags); GetTemplate returns
    # it verbatim when set, else `template` as JSON.
    template_body: str | None = None
    last_updated: datetime | None = None
    deleted: datetime | None = None
    role_arn: str | None = None
    parent_id: str | None = None
    root_id: str | None = None
    description: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    termination_protection: bool = False
    # DeploymentConfig of the last operation ("EXPRESS", "STANDARD"; None: not reported) and
    # whether that operation ran with rollback off (docs/reference/aws-behaviour.md#express-deployment-mode)
    deployment_mode: str | None = None
    disable_rollback: bool = False
    resources: dict[str, SimResource] = field(default_factory=dict)  # template order
    events: list[SimEvent] = field(default_factory=list)  # oldest first

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StackId": self.stack_id, "StackName": self.name, "CreationTime": self.created,
            "StackStatus": self.status, "DisableRollback": self.disable_rollback,
            "NotificationARNs": [], "Capabilities": list(self.capabilities),
            "Parameters": [{"ParameterKey": k, "ParameterValue": v}
                           for k, v in self.parameters.items()],
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()],
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
            "EnableTerminationProtection": self.termination_protection,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        }
        optional = {"StackStatusReason": self.reason, "LastUpdatedTime": self.last_updated,
                    "DeletionTime": self.deleted, "RoleARN": self.role_arn,
                    "ParentId": self.parent_id, "RootId": self.root_id,
                    "Description": self.description}
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.deployment_mode:
            out["DeploymentConfig"] = {"Mode": self.deployment_mode}
        return out

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StackId": self.stack_id, "StackName": self.name, "CreationTime": self.created,
            "StackStatus": self.status,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        }
        optional = {"StackStatusReason": self.reason, "LastUpdatedTime": self.last_updated,
                    "DeletionTime": self.deleted, "ParentId": self.parent_id,
                    "RootId": self.root_id, "TemplateDescription": self.description}
        out.update({k: v for k, v in optional.items() if v is not None})
        return out
