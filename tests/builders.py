"""Compact builders for stack snapshots in tests (shapes follow docs/reference/aws-behaviour.md#stack-events, docs/reference/aws-behaviour.md#describestacks-and-stack-resources, docs/reference/aws-behaviour.md#nested-stacks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recover.model.stack import (
    NESTED_STACK_TYPE,
    RoleCheck,
    StackEvent,
    StackInfo,
    StackNode,
    StackResource,
    StackSnapshot,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def arn(name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0000-{name}"


class NodeBuilder:
    """Builds one stack: call `stack_event`/`event` in time order, then `resource`."""

    def __init__(self, name: str, status: str, parent: NodeBuilder | None = None,
                 logical_id_in_parent: str = "", role_arn: str = "",
                 deployment_mode: str = "") -> None:
        self.name, self.status, self.parent = name, status, parent
        self.deployment_mode = deployment_mode
        self.logical_id_in_parent = logical_id_in_parent
        self.role_arn = role_arn
        self.events: list[StackEvent] = []
        self.resources: list[StackResource] = []
        self.t = T0

    @property
    def stack_id(self) -> str:
        return arn(self.name)

    def _tick(self) -> datetime:
        self.t += timedelta(seconds=5)
        return self.t

    def stack_event(self, status: str, reason: str = "") -> NodeBuilder:
        self.events.append(StackEvent(self.stack_id, self.name, f"ev-{len(self.events)}", self.name,
                                      NESTED_STACK_TYPE, self._tick(), status, self.stack_id, reason))
        return self

    def event(self, logical_id: str, status: str, reason: str = "", rtype: str = "AWS::Lambda::Function",
              physical: str = "") -> NodeBuilder:
        t = self._tick()
        self.events.append(StackEvent(self.stack_id, self.name, f"{logical_id}-{status}-{t.isoformat()}",
                                      logical_id, rtype, t, status, physical or logical_id.lower(), reason))
        return self

    def resource(self, logical_id: str, status: str, rtype: str = "AWS::Lambda::Function",
                 physical: str = "", reason: str = "") -> NodeBuilder:
        self.resources.append(StackResource(logical_id, rtype, status, physical or logical_id.lower(),
                                            reason, self.t))
        return self

    def node(self, depth: int) -> StackNode:
        root = self
        while root.parent:
            root = root.parent
        info = StackInfo(stack_id=self.stack_id, name=self.name, status=self.status,
                         parent_id=self.parent.stack_id if self.parent else "",
                         root_id=root.stack_id if self.parent else "", role_arn=self.role_arn,
                         deployment_mode=self.deployment_mode)
        return StackNode(info, tuple(self.resources), tuple(self.events), self.logical_id_in_parent, depth)


def snapshot(*builders: NodeBuilder, roles: tuple[RoleCheck, ...] = ()) -> StackSnapshot:
    def depth(b: NodeBuilder) -> int:
        return 0 if b.parent is None else 1 + depth(b.parent)

    nodes = tuple(b.node(depth(b)) for b in builders)
    return StackSnapshot(root_id=nodes[0].stack_id, nodes=nodes, taken_at=T0 + timedelta(hours=1),
                         region=REGION, account=ACCOUNT, roles=roles)
