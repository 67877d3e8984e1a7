"""Follow a stack operation live (shared by the runbook flows)."""

from __future__ import annotations

from recover.aws.watch import StackWatcher, WatchResult
from recover.cli.progress import ProgressView
from recover.context import RunContext
from recover.model.stack import StackSnapshot


def follow(rc: RunContext, snap: StackSnapshot, *, timeout: float,
           poll_interval: float) -> WatchResult:
    """Follow the root and every nested stack live until a terminal status. Events the
    snapshot already holds are the baseline: anything newer belongs to this operation."""
    watcher = StackWatcher(rc.aws, snap.root_id,
                           known=[(n.stack_id, n.info.parent_id, [e.event_id for e in n.events])
                                  for n in snap.nodes],
                           poll_interval=poll_interval)
    with ProgressView(rc.console, live=rc.interactive) as view:
        return watcher.follow(timeout=timeout, on_poll=view.update)
