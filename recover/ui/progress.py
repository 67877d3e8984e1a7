"""Live view of a stack operation: a tree of the root and nested stacks with their statuses and
the newest events (rich Live on a terminal, one line per event otherwise)."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.tree import Tree

from recover.aws.watch import TrackedStack
from recover.model.stack import StackEvent


def style_for(status: str) -> str:
    if status.endswith("FAILED"):
        return "bold red"
    if status.endswith("IN_PROGRESS"):
        return "yellow"
    if status.endswith("ROLLBACK_COMPLETE"):
        return "yellow"
    return "green" if status.endswith("COMPLETE") else "white"


def event_line(ev: StackEvent) -> str:
    reason = f" — {ev.reason}" if ev.reason else ""
    what = "" if ev.logical_id == ev.stack_name else f" {ev.logical_id} ({ev.resource_type})"
    return f"{ev.timestamp:%H:%M:%S} {ev.stack_name}{what} {ev.status}{reason}"


class ProgressView:
    def __init__(self, console: Console, live: bool) -> None:
        self.console = console
        self.live = live
        self._recent: deque[StackEvent] = deque(maxlen=12)
        self._live: Live | None = None

    def __enter__(self) -> ProgressView:
        if self.live:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def update(self, new: list[StackEvent], stacks: dict[str, TrackedStack]) -> None:
        if self._live is None:
            for ev in new:
                self.console.print(escape(event_line(ev)), highlight=False)
            return
        self._recent.extend(new)
        self._live.update(self._render(stacks))

    def _render(self, stacks: dict[str, TrackedStack]) -> Group:
        roots = [s for s in stacks.values() if not s.parent_id or s.parent_id not in stacks]
        tree = Tree("[bold]stacks[/]")

        def add(branch: Tree, st: TrackedStack) -> None:
            node = branch.add(f"{escape(st.name)} [{style_for(st.status)}]{st.status or '…'}[/]")
            for child in stacks.values():
                if child.parent_id == st.stack_id:
                    add(node, child)

        for r in roots:
            add(tree, r)
        lines = [f"[{style_for(e.status)}]{escape(event_line(e))}[/]" for e in self._recent]
        return Group(tree, *lines)
