"""Follow a stack operation live (shared by the runbook flows): the stack and every nested
stack below it, until a terminal status. Events the snapshot already holds are the baseline:
anything newer belongs to this operation."""

from __future__ import annotations

from collections.abc import Iterable

from recover.aws.watch import StackWatcher, WatchResult
from recover.model.stack import StackEvent, StackSnapshot
from recover.run.context import RunContext
from recover.run.evidence import EvidenceRun
from recover.run.resume import PriorRuns, our_operation_running, tokens_seen
from recover.ui.progress import ProgressView


def follow(rc: RunContext, snap: StackSnapshot, *, timeout: float, poll_interval: float,
           stack_id: str | None = None, seen: Iterable[StackEvent] = ()) -> WatchResult:
    """Follow `stack_id` (default: the snapshot's root) and its nested stacks. `seen`: events
    an earlier follow of this run already showed (not new again)."""
    top = stack_id or snap.root_id
    below = _subtree(snap, top)
    earlier: dict[str, list[str]] = {}
    for e in seen:
        earlier.setdefault(e.stack_id, []).append(e.event_id)
    watcher = StackWatcher(rc.aws, top,
                           known=[(n.stack_id, n.info.parent_id,
                                   [e.event_id for e in n.events] + earlier.get(n.stack_id, []))
                                  for n in snap.nodes if n.stack_id in below],
                           poll_interval=poll_interval)
    with ProgressView(rc.console, live=rc.interactive) as view:
        return watcher.follow(timeout=timeout, on_poll=view.update)


def _subtree(snap: StackSnapshot, top: str) -> set[str]:
    ids = {top}
    changed = True
    while changed:
        changed = False
        for n in snap.nodes:
            if n.info.parent_id in ids and n.stack_id not in ids:
                ids.add(n.stack_id)
                changed = True
    return ids


def follow_earlier_run(rc: RunContext, ev: EvidenceRun, prior: PriorRuns | None,
                       snap: StackSnapshot, operation: str, running: Iterable[str], what: str,
                       *, timeout: float, poll_interval: float, stack_id: str | None = None,
                       tokens: set[str] | None = None) -> WatchResult | None:
    """`operation` that an earlier, stopped run of ours started on `stack_id` (default: the
    root) is still running: follow it to its end (journaled `resumed_follow`) rather than
    refuse the stack's status. None when there is no such operation. `what` names it in the
    progress line ("the rollback the earlier run continued")."""
    node = snap.node(stack_id) if stack_id else snap.root
    if node is None or node.info.status not in running or prior is None:
        return None
    if not our_operation_running(prior, operation, node.stack_id,
                                 tokens_seen(snap) if tokens is None else tokens):
        return None
    rc.progress(f"{node.name} is {node.info.status}: {what} is still going; following it")
    watch = follow(rc, snap, timeout=timeout, poll_interval=poll_interval, stack_id=stack_id)
    where = {"stack": node.name} if stack_id else {}
    ev.journal.append("resumed_follow", **where, final_status=watch.final_status,
                      timed_out=watch.timed_out)
    return watch
