"""Follow a stack operation live: the root and every nested stack, until a terminal status.

Each poll costs 1 DescribeStacks per tracked stack plus 1 DescribeStackEvents per tracked
stack (only the first page unless more new events arrived since the last poll). Nested stacks
are discovered from their parent's events (an AWS::CloudFormation::Stack resource whose
physical id is another stack's ARN, docs/reference/aws-behaviour.md#nested-stacks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import ClientError

from recover.act.needs import needs
from recover.aws.session import SessionFactory
from recover.model.stack import NESTED_STACK_TYPE, StackEvent, stack_name_from_arn


def is_terminal(status: str) -> bool:
    return bool(status) and not status.endswith("_IN_PROGRESS")


@dataclass
class TrackedStack:
    stack_id: str
    name: str
    parent_id: str = ""
    status: str = ""
    reason: str = ""
    seen: set[str] = field(default_factory=set)


@dataclass
class WatchResult:
    final_status: str
    stacks: dict[str, TrackedStack]
    events: list[StackEvent]
    timed_out: bool = False
    polls: int = 0


@needs("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents")
class StackWatcher:
    def __init__(self, aws: SessionFactory, root_stack_id: str, *, since: datetime | None = None,
                 known: Iterable[tuple[str, str, Iterable[str]]] = (),
                 poll_interval: float = 3.0,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.aws = aws
        self.root_id = root_stack_id
        self.since = since
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.monotonic = monotonic
        # Events already seen (from the snapshot taken before the call) mark where "new" starts:
        # event ids, not clocks, so a skewed local clock cannot hide or replay events.
        self.stacks: dict[str, TrackedStack] = {
            root_stack_id: TrackedStack(root_stack_id, stack_name_from_arn(root_stack_id))}
        for sid, parent, seen in known:
            st = self.stacks.setdefault(sid, TrackedStack(sid, stack_name_from_arn(sid), parent))
            st.parent_id = st.parent_id or parent
            st.seen.update(seen)
        self.events: list[StackEvent] = []

    @property
    def cfn(self):  # type: ignore[no-untyped-def]
        return self.aws.client("cloudformation")

    def _status(self, st: TrackedStack) -> None:
        try:
            s = self.cfn.describe_stacks(StackName=st.stack_id)["Stacks"][0]
        except ClientError as exc:
            # A stack id that no longer resolves is gone: the delete waiter's rule (docs/reference/aws-behaviour.md#errors-and-waiters).
            if exc.response.get("Error", {}).get("Code") == "ValidationError":
                st.status, st.reason = "DELETE_COMPLETE", "stack no longer exists"
                return
            raise
        st.status, st.reason = s["StackStatus"], s.get("StackStatusReason") or ""

    def _new_events(self, st: TrackedStack) -> list[StackEvent]:
        fresh: list[StackEvent] = []
        paginator = self.cfn.get_paginator("describe_stack_events")
        try:
            for page in paginator.paginate(StackName=st.stack_id):
                stop = False
                for raw in page.get("StackEvents", []):
                    ev = StackEvent.from_api(raw)
                    if ev.event_id in st.seen or (self.since and ev.timestamp < self.since):
                        stop = True
                        break
                    fresh.append(ev)
                if stop:
                    break
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ValidationError":
                return []
            raise
        fresh.reverse()  # oldest first
        for ev in fresh:
            st.seen.add(ev.event_id)
            if (ev.resource_type == NESTED_STACK_TYPE and ev.physical_id.startswith("arn:")
                    and ev.physical_id != st.stack_id and ev.physical_id not in self.stacks):
                self.stacks[ev.physical_id] = TrackedStack(
                    ev.physical_id, stack_name_from_arn(ev.physical_id), st.stack_id)
        return fresh

    def poll(self) -> list[StackEvent]:
        new: list[StackEvent] = []
        for st in list(self.stacks.values()):
            new.extend(self._new_events(st))
            self._status(st)
        new.sort(key=lambda e: e.timestamp)
        self.events.extend(new)
        return new

    def follow(self, *, timeout: float,
               on_poll: Callable[[list[StackEvent], dict[str, TrackedStack]], None] | None = None,
               ) -> WatchResult:
        """Poll until the root is terminal (and has moved since `since`), or `timeout` s."""
        start = self.monotonic()
        polls = 0
        quiet_terminal = 0
        while True:
            polls += 1
            new = self.poll()
            if on_poll:
                on_poll(new, self.stacks)
            root = self.stacks[self.root_id]
            moved = any(e.is_stack_event and e.stack_id == self.root_id for e in self.events)
            if is_terminal(root.status):
                # The operation may not show yet right after the call: accept a terminal status
                # once the root has emitted a stack event since `since`, or after 3 quiet polls.
                quiet_terminal += 1
                if moved or quiet_terminal >= 3:
                    return WatchResult(root.status, self.stacks, self.events, polls=polls)
            else:
                quiet_terminal = 0
            if self.monotonic() - start >= timeout:
                return WatchResult(root.status, self.stacks, self.events, timed_out=True,
                                   polls=polls)
            self.sleep(self.poll_interval)
