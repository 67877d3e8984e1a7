"""Frozen stack data: what the snapshot layer reads and what detectors and planners consume.

Everything serialises to JSON (`to_dict`) and back (`from_dict`) so snapshots can be saved
as evidence, replayed as test fixtures, and embedded in plans.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from recover.model.operations import OperationRef, StackOperations, last_operations

NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"


def parse_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def stack_name_from_arn(arn: str) -> str:
    """`arn:aws:cloudformation:r:a:stack/NAME/uuid` → NAME; a plain name is returned as is."""
    if arn.startswith("arn:") and ":stack/" in arn:
        return arn.split(":stack/", 1)[1].split("/", 1)[0]
    return arn


def _from(cls: Any, data: dict[str, Any]) -> Any:
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        v = data[f.name]
        if f.type in ("datetime | None", "datetime"):
            v = parse_time(v)
        elif isinstance(v, list):
            v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
        elif isinstance(v, dict) and f.type.startswith("tuple"):
            v = tuple(sorted(v.items()))
        kwargs[f.name] = v
    return cls(**kwargs)


def _to(obj: Any) -> dict[str, Any]:
    out = asdict(obj)
    for k, v in out.items():
        if isinstance(v, datetime):
            out[k] = v.isoformat()
    return out


@dataclass(frozen=True)
class StackEvent:
    stack_id: str
    stack_name: str
    event_id: str
    logical_id: str
    resource_type: str
    timestamp: datetime
    status: str
    physical_id: str = ""
    reason: str = ""
    client_request_token: str = ""
    operation_id: str = ""
    # A hook's verdict on this resource (HookType...; docs/reference/aws-behaviour.md#stack-operations-and-operation-events)
    hook_type: str = ""
    hook_status: str = ""
    hook_reason: str = ""
    hook_failure_mode: str = ""
    hook_invocation_id: str = ""

    @property
    def is_stack_event(self) -> bool:
        """The stack's own event (CDK rule: type Stack and physical id == the stack id)."""
        return self.resource_type == NESTED_STACK_TYPE and self.physical_id == self.stack_id

    def to_dict(self) -> dict[str, Any]:
        return _to(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StackEvent:
        return _from(cls, d)

    @classmethod
    def from_api(cls, e: dict[str, Any]) -> StackEvent:
        return cls(stack_id=e["StackId"], stack_name=e["StackName"], event_id=e["EventId"],
                   logical_id=e.get("LogicalResourceId", ""),
                   resource_type=e.get("ResourceType", ""),
                   timestamp=parse_time(e["Timestamp"]),  # type: ignore[arg-type]
                   status=e.get("ResourceStatus", ""),
                   physical_id=e.get("PhysicalResourceId") or "",
                   reason=e.get("ResourceStatusReason") or "",
                   client_request_token=e.get("ClientRequestToken") or "",
                   operation_id=e.get("OperationId") or "",
                   hook_type=e.get("HookType") or "", hook_status=e.get("HookStatus") or "",
                   hook_reason=e.get("HookStatusReason") or "",
                   hook_failure_mode=e.get("HookFailureMode") or "",
                   hook_invocation_id=e.get("HookInvocationId") or "")


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    status: str
    physical_id: str = ""
    reason: str = ""
    last_updated: datetime | None = None

    @property
    def is_nested_stack(self) -> bool:
        return self.resource_type == NESTED_STACK_TYPE

    def to_dict(self) -> dict[str, Any]:
        return _to(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StackResource:
        return _from(cls, d)

    @classmethod
    def from_api(cls, r: dict[str, Any]) -> StackResource:
        return cls(logical_id=r["LogicalResourceId"], resource_type=r.get("ResourceType", ""),
                   status=r.get("ResourceStatus", ""),
                   physical_id=r.get("PhysicalResourceId") or "",
                   reason=r.get("ResourceStatusReason") or "",
                   last_updated=parse_time(r.get("LastUpdatedTimestamp") or r.get("Timestamp")))


@dataclass(frozen=True)
class StackInfo:
    stack_id: str
    name: str
    status: str
    status_reason: str = ""
    creation_time: datetime | None = None
    last_updated_time: datetime | None = None
    deletion_time: datetime | None = None
    role_arn: str = ""
    parent_id: str = ""
    root_id: str = ""
    description: str = ""
    termination_protection: bool = False
    # (key, value) pairs; NoEcho values arrive masked as '****' from AWS.
    parameters: tuple[tuple[str, str], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    capabilities: tuple[str, ...] = ()
    # DeploymentConfig.Mode of the stack's operations ("STANDARD", "EXPRESS"; "" when AWS does
    # not say): a failed EXPRESS update refuses RollbackStack and classic updates
    # (docs/reference/aws-behaviour.md#express-deployment-mode).
    deployment_mode: str = ""
    # LastOperations: the stack's most recent operations, as AWS lists them ((): AWS or the SDK
    # does not say; docs/reference/aws-behaviour.md#stack-operations-and-operation-events)
    last_operations: tuple[OperationRef, ...] = ()

    @property
    def is_nested(self) -> bool:
        return bool(self.parent_id)

    def to_dict(self) -> dict[str, Any]:
        out = _to(self)
        for k in ("parameters", "tags", "outputs"):
            out[k] = dict(getattr(self, k))
        out["last_operations"] = [o.to_dict() for o in self.last_operations]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StackInfo:
        info = _from(cls, {k: v for k, v in d.items() if k != "last_operations"})
        ops = tuple(OperationRef.from_dict(o) for o in d.get("last_operations") or [])
        return replace(info, last_operations=ops) if ops else info

    @classmethod
    def from_api(cls, s: dict[str, Any]) -> StackInfo:
        return cls(
            stack_id=s.get("StackId", ""), name=s["StackName"], status=s["StackStatus"],
            status_reason=s.get("StackStatusReason") or "",
            creation_time=parse_time(s.get("CreationTime")),
            last_updated_time=parse_time(s.get("LastUpdatedTime")),
            deletion_time=parse_time(s.get("DeletionTime")),
            role_arn=s.get("RoleARN") or "", parent_id=s.get("ParentId") or "",
            root_id=s.get("RootId") or "", description=s.get("Description") or "",
            termination_protection=bool(s.get("EnableTerminationProtection")),
            parameters=tuple((p["ParameterKey"], p.get("ParameterValue", ""))
                             for p in s.get("Parameters") or []),
            tags=tuple((t["Key"], t["Value"]) for t in s.get("Tags") or []),
            outputs=tuple((o["OutputKey"], o.get("OutputValue", "")) for o in s.get("Outputs") or []),
            capabilities=tuple(s.get("Capabilities") or []),
            deployment_mode=(s.get("DeploymentConfig") or {}).get("Mode") or "",
            last_operations=last_operations(s),
        )


@dataclass(frozen=True)
class StackNode:
    """One stack of the tree with its resources and its events (oldest first)."""

    info: StackInfo
    resources: tuple[StackResource, ...] = ()
    events: tuple[StackEvent, ...] = ()
    # Logical id of the AWS::CloudFormation::Stack resource in the parent ("" for the root).
    logical_id_in_parent: str = ""
    depth: int = 0
    # What the operation APIs said (or that they were unavailable); None: not asked
    operations: StackOperations | None = None

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def stack_id(self) -> str:
        return self.info.stack_id

    def resource(self, logical_id: str) -> StackResource | None:
        for r in self.resources:
            if r.logical_id == logical_id:
                return r
        return None

    def child_stack_ids(self) -> list[tuple[str, str]]:
        """(logical id, child stack id) for each nested-stack resource with a physical id.

        On AWS the physical id is the child's stack ARN (docs/reference/aws-behaviour.md#nested-stacks); emulators may
        use the child's name, which DescribeStacks accepts as well."""
        return [(r.logical_id, r.physical_id) for r in self.resources
                if r.is_nested_stack and r.physical_id]

    def to_dict(self) -> dict[str, Any]:
        return {"info": self.info.to_dict(), "resources": [r.to_dict() for r in self.resources],
                "events": [e.to_dict() for e in self.events],
                "logical_id_in_parent": self.logical_id_in_parent, "depth": self.depth,
                "operations": self.operations.to_dict() if self.operations else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StackNode:
        return cls(info=StackInfo.from_dict(d["info"]),
                   resources=tuple(StackResource.from_dict(r) for r in d.get("resources", [])),
                   events=tuple(StackEvent.from_dict(e) for e in d.get("events", [])),
                   logical_id_in_parent=d.get("logical_id_in_parent", ""),
                   depth=int(d.get("depth", 0)),
                   operations=StackOperations.from_dict(d["operations"])
                   if d.get("operations") else None)


@dataclass(frozen=True)
class RoleCheck:
    """What iam:GetRole said about a stack's service role (RoleARN), or about a role a failed
    resource's reason names."""

    arn: str
    # exists (and trusts CloudFormation) | missing | untrusting | other_path (that name lives
    # under another path: another role) | unknown
    state: str
    role_id: str = ""
    detail: str = ""

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return _to(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RoleCheck:
        return _from(cls, d)


SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class StackSnapshot:
    """The root stack and every nested stack below it, in tree order (parents first)."""

    root_id: str
    nodes: tuple[StackNode, ...]
    taken_at: datetime
    region: str = ""
    account: str = ""
    api_calls: int = 0
    # Nested stacks that could not be read (deleted, access denied...): (stack id, reason).
    unreadable: tuple[tuple[str, str], ...] = field(default=())
    roles: tuple[RoleCheck, ...] = ()
    requested: str = ""  # the name or id the user asked for (may be a nested stack)

    @property
    def root(self) -> StackNode:
        return self.nodes[0]

    def node(self, stack_id_or_name: str) -> StackNode | None:
        for n in self.nodes:
            if stack_id_or_name in (n.stack_id, n.name):
                return n
        return None

    def children(self, node: StackNode) -> list[StackNode]:
        return [n for n in self.nodes if n.info.parent_id == node.stack_id]

    def parent(self, node: StackNode) -> StackNode | None:
        return self.node(node.info.parent_id) if node.info.parent_id else None

    def to_dict(self) -> dict[str, Any]:
        return {"snapshot_version": SNAPSHOT_VERSION, "root_id": self.root_id,
                "taken_at": self.taken_at.isoformat(), "region": self.region,
                "account": self.account, "api_calls": self.api_calls,
                "unreadable": [list(u) for u in self.unreadable],
                "roles": [r.to_dict() for r in self.roles], "requested": self.requested,
                "nodes": [n.to_dict() for n in self.nodes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StackSnapshot:
        return cls(root_id=d["root_id"], nodes=tuple(StackNode.from_dict(n) for n in d["nodes"]),
                   taken_at=parse_time(d["taken_at"]),  # type: ignore[arg-type]
                   region=d.get("region", ""), account=d.get("account", ""),
                   api_calls=int(d.get("api_calls", 0)),
                   unreadable=tuple(tuple(u) for u in d.get("unreadable", [])),  # type: ignore[misc]
                   roles=tuple(RoleCheck.from_dict(r) for r in d.get("roles", [])),
                   requested=d.get("requested", ""))

    def role(self, arn: str) -> RoleCheck | None:
        for r in self.roles:
            if r.arn == arn:
                return r
        return None
