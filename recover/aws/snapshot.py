"""Gather: read a stack and its whole nested tree into a frozen StackSnapshot.

Cost (API calls) for a tree of N stacks, each with at most 100 resources and one page of
events: 1 DescribeStacks per stack + 1 ListStackResources per 100 resources + 1
DescribeStackEvents per 100 events (+1 iam:GetRole per distinct service role, and per distinct
role a failed resource's reason says CloudFormation could not assume). Nested stacks are read
with bounded concurrency, level by level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from urllib.parse import unquote

from botocore.exceptions import ClientError

from recover.act.needs import needs
from recover.aws.operations import (
    api_missing,
    fallback,
    read_operations,
    with_stack_event_hooks,
)
from recover.aws.session import SessionFactory, map_in_context
from recover.model.operations import SOURCE_OPERATIONS
from recover.model.stack import (
    RoleCheck,
    StackEvent,
    StackInfo,
    StackNode,
    StackResource,
    StackSnapshot,
)
from recover.model.statuses import OPERATION_START
from recover.model.trust_policy import assess_trust
from recover.run.errors import translate_aws_error

# "operations": the failed events of the operations LastOperations names, through DescribeEvents
# (docs/reference/aws-behaviour.md#stack-operations-and-operation-events); where that API is
# missing, the newest operation's events as "last-operation" reads them.
EventScope = Literal["all", "last-operation", "operations", "none"]

CLOUDFORMATION_PRINCIPAL = "cloudformation.amazonaws.com"
# docs/reference/aws-behaviour.md#service-roles-rolearn (verbatim pattern): the role a failed operation or resource could not use.
ROLE_INVALID = re.compile(r"Role (arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+) is invalid or "
                          r"cannot be assumed")


@dataclass
class SnapshotOptions:
    events: EventScope = "all"
    check_roles: bool = True
    max_workers: int = 4
    max_depth: int = 10  # AWS allows deep nesting; this only guards against cycles in bad data


@dataclass
class _Reader:
    aws: SessionFactory
    options: SnapshotOptions
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # Set once the operation APIs proved unavailable: the other stacks do not ask again.
    operations_unavailable: str = ""
    root_status: str = ""  # set once the root is read

    @property
    def cfn(self) -> Any:
        return self.aws.client("cloudformation")

    def describe(self, stack: str) -> StackInfo:
        stacks = self.cfn.describe_stacks(StackName=stack)["Stacks"]
        return StackInfo.from_api(stacks[0])

    def resources(self, stack_id: str) -> tuple[StackResource, ...]:
        pages = self.cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
        return tuple(StackResource.from_api(r) for page in pages
                     for r in page.get("StackResourceSummaries", []))

    def events(self, info: StackInfo) -> tuple[StackEvent, ...]:
        """All events (or those of the newest operation, or none), oldest first."""
        if self.options.events == "none":
            return ()
        cut = self.options.events in ("last-operation", "operations")
        newest_first: list[StackEvent] = []
        pages = self.cfn.get_paginator("describe_stack_events").paginate(StackName=info.stack_id)
        for page in pages:
            done = False
            for raw in page.get("StackEvents", []):
                ev = StackEvent.from_api(raw)
                newest_first.append(ev)
                if (cut and ev.is_stack_event
                        and ev.status in OPERATION_START):
                    done = True
                    break
            if done:
                break
        # AWS returns newest first; ties in timestamp keep AWS's order (reversed).
        return tuple(reversed(newest_first))

    def node(self, info: StackInfo, logical_id_in_parent: str, depth: int) -> StackNode:
        resources = self.resources(info.stack_id)
        operations = None
        if self.options.events == "operations":
            if self.operations_unavailable:  # known for this account: do not ask again
                operations = fallback(info, self.operations_unavailable)
            else:
                operations = read_operations(self.cfn, info, resources,
                                             self.root_status or info.status)
                if api_missing(operations):
                    self.operations_unavailable = operations.fallback_reason
        events = () if operations and operations.source == SOURCE_OPERATIONS else self.events(info)
        if operations and operations.source != SOURCE_OPERATIONS:
            operations = with_stack_event_hooks(self.cfn, operations, events)
        return StackNode(info=info, resources=resources, events=events,
                         logical_id_in_parent=logical_id_in_parent, depth=depth,
                         operations=operations)

    def child(self, logical_id: str, arn: str, depth: int, parent: StackInfo) -> StackNode | None:
        try:
            info = self.describe(arn)
            if not info.parent_id:  # AWS always sets it; emulators may not
                info = replace(info, parent_id=parent.stack_id,
                               root_id=parent.root_id or parent.stack_id)
            return self.node(info, logical_id, depth)
        except ClientError as exc:
            err = translate_aws_error(exc)
            self.unreadable.append((arn, err.message if err else str(exc)))
            return None

    def role(self, arn: str) -> RoleCheck:
        name = arn.rsplit("/", 1)[-1]
        try:
            role = self.aws.client("iam").get_role(RoleName=name)["Role"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "NoSuchEntity":
                return RoleCheck(arn=arn, state="missing", detail="iam:GetRole: NoSuchEntity")
            return RoleCheck(arn=arn, state="unknown", detail=f"iam:GetRole failed: {code}")
        found = str(role.get("Arn") or arn)
        if found != arn:
            # Names are unique in an account whatever the path, and CloudFormation finds the
            # role by its full ARN: a same-named role elsewhere is another role (docs/reference/aws-behaviour.md#service-roles-rolearn).
            return RoleCheck(arn=arn, state="other_path", role_id=role.get("RoleId", ""),
                             detail=f"a role named {name} exists under path "
                             f"{role.get('Path', '?')} ({found}), not at this ARN")
        # Conditions are judged conservatively: one recover cannot evaluate makes the role
        # "untrusting" (it may not be assumable), with the condition in the detail.
        trust = assess_trust(role.get("AssumeRolePolicyDocument"), _account_region(arn)[0])
        return RoleCheck(arn=arn, state="exists" if trust.assumable else "untrusting",
                         role_id=role.get("RoleId", ""),
                         detail="" if trust.assumable else "trust policy " + trust.summary())


def roles_named_in_failures(nodes: Iterable[StackNode]) -> list[str]:
    """Roles that failed resources say CloudFormation could not assume: whether each exists now
    is the fact that tells the planner those failures can simply be retried."""
    found: list[str] = []
    for node in nodes:
        for res in node.resources:
            m = ROLE_INVALID.search(res.reason or "")
            if m and m.group(1) not in found:
                found.append(m.group(1))
    return found


def trusts_principal(document: Any, service: str) -> bool:
    """Does a trust policy let `service` call sts:AssumeRole? (Deny statements win.)"""
    if isinstance(document, str):
        try:
            document = json.loads(unquote(document))
        except ValueError:
            return False
    if not isinstance(document, dict):
        return False
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        if not isinstance(st, dict):
            continue
        actions = _as_list(st.get("Action"))
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = st.get("Principal", {})
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if principal == "*" or service in services:
            if st.get("Effect") == "Deny":
                return False
            if st.get("Effect") == "Allow":
                allowed = True
    return allowed


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@needs("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:ListStackResources", "iam:GetRole")
def take_snapshot(aws: SessionFactory, stack: str, *, clock: Callable[[], datetime],
                  options: SnapshotOptions | None = None) -> StackSnapshot:
    """Read `stack`'s whole tree, starting from its root (a nested stack name leads to its root).

    Raises RecoverError (via translate_aws_error) when the stack itself cannot be read.
    """
    opts = options or SnapshotOptions()
    reader = _Reader(aws, opts)
    before = aws.counter.total
    try:
        info = reader.describe(stack)
        if info.root_id:
            info = reader.describe(info.root_id)
        reader.root_status = info.status
        root = reader.node(info, "", 0)
    except ClientError as exc:
        raise translate_aws_error(exc, region=aws.region) or exc from exc
    nodes: list[StackNode] = [root]
    level = [root]
    depth = 0
    with ThreadPoolExecutor(max_workers=max(1, opts.max_workers)) as pool:
        while level and depth < opts.max_depth:
            depth += 1
            jobs = [(lid, arn, depth, parent.info) for parent in level
                    for lid, arn in parent.child_stack_ids()]
            found = map_in_context(pool, lambda j: reader.child(*j), jobs)
            level = [n for n in found if n is not None]
            nodes.extend(level)
        roles: tuple[RoleCheck, ...] = ()
        if opts.check_roles:
            arns = sorted({n.info.role_arn for n in nodes if n.info.role_arn}
                          | set(roles_named_in_failures(nodes)))
            roles = tuple(map_in_context(pool, reader.role, arns))
    account, region = _account_region(root.stack_id)
    return StackSnapshot(root_id=root.stack_id, nodes=tuple(nodes), taken_at=clock(),
                         region=region or (aws.region or ""), account=account,
                         api_calls=aws.counter.total - before,
                         unreadable=tuple(reader.unreadable), roles=roles,
                         requested=stack)


def _account_region(stack_arn: str) -> tuple[str, str]:
    parts = stack_arn.split(":")
    if len(parts) > 5 and parts[0] == "arn":
        return parts[4], parts[3]
    return "", ""


def iter_failed(snapshot: StackSnapshot) -> Iterable[tuple[StackNode, StackResource]]:
    for node in snapshot.nodes:
        for res in node.resources:
            if res.status.endswith("_FAILED"):
                yield node, res
