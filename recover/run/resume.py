"""Resume: what earlier, unfinished runs of the same command on the same stack already did.

A run stopped by Ctrl-C, SIGTERM, a kill or an error leaves its evidence folder (metadata
`outcome` running / interrupted / failed) with its journal. Running the same command again reads
those runs (newest first, back to the last run that ended on its own; dry runs are ignored) so
that it never repeats a change and never refuses the state its own earlier run left:

- a change that completed shows in AWS (a restored key exists, a role exists, the stack is
  `*_IN_PROGRESS` or done): the runbooks re-read AWS and plan from what they find;
- an operation the earlier run started is followed to its end instead of being refused as
  "another operation in progress";
- a call in doubt (sent, answer never read: a second Ctrl-C, a kill, a read timeout) is sent again
  with the same ClientRequestToken unless the stack's events carry that token (then it ran), so
  CloudFormation runs it at most once (docs/reference/aws-behaviour.md#client-request-tokens);
- orphans the earlier run captured are recorded in the ledger once their stack is deleted;
- where the earlier run read back the operation id its call started (`operation_started` in the
  journal, recover/act/executor.py), "ours" means that id is among the stack's LastOperations
  now: an operation someone else started since is never followed as ours
  (docs/reference/aws-behaviour.md#stack-operations-and-operation-events).

Reading is `load_prior` (gather); the rest are pure functions over plain data (decide).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from recover.model.stack import StackSnapshot
from recover.run.errors import StackNotFoundError
from recover.run.evidence import read_journal
from recover.runbooks import canonical

UNFINISHED = ("running", "interrupted", "failed")  # outcomes of a run that did not end on its own
# Errors after which AWS may have received and run the call (no answer was read).
IN_DOUBT_ERRORS = {"interrupted", "ReadTimeoutError", "ConnectionClosedError",
                   "ResponseStreamingError", "NoAnswer"}  # NoAnswer: recover/act/presigned.py
# When a stack is busy with an operation no run found in the evidence started.
RESUME_HINT = ("another operation is running: wait for it (recover diagnose STACK); if a recover "
               "run started it, run the same command from the same folder (or the same "
               "--evidence-dir) to resume and follow it")
MAX_RUNS = 50  # how far back to look (evidence folders of the same stack)
T = TypeVar("T")


@dataclass(frozen=True)
class PastCall:
    run_dir: str
    seq: int
    call: dict[str, Any]  # Call.to_dict() as journaled
    outcome: str  # done | failed | in_doubt
    operation_id: str | None = None  # the operation the call started, read back after it

    @property
    def operation(self) -> str:
        return str(self.call.get("operation", ""))

    @property
    def params(self) -> dict[str, Any]:
        params = self.call.get("params")
        return params if isinstance(params, dict) else {}

    @property
    def token(self) -> str | None:
        token = self.params.get("ClientRequestToken")
        return token if isinstance(token, str) else None

    def to_dict(self) -> dict[str, Any]:
        return {"run_dir": self.run_dir, "operation": self.operation, "outcome": self.outcome,
                "description": self.call.get("description", ""), "cli": self.call.get("cli"),
                "operation_id": self.operation_id}


@dataclass(frozen=True)
class PriorRuns:
    runs: tuple[dict[str, Any], ...] = ()  # metadata of each run, newest first
    calls: tuple[PastCall, ...] = ()  # every journaled change, oldest first
    dirs: tuple[Path, ...] = field(default=(), compare=False)

    def __bool__(self) -> bool:
        return bool(self.runs)

    def started(self, operation: str, stack_id: str | None = None) -> list[PastCall]:
        """Calls of `operation` (on `stack_id`) that may have reached AWS: done or in doubt."""
        return [c for c in self.calls if c.operation == operation
                and c.outcome in ("done", "in_doubt")
                and (stack_id is None or c.params.get("StackName") == stack_id)]

    def in_doubt(self) -> list[PastCall]:
        return [c for c in self.calls if c.outcome == "in_doubt"]

    def done(self) -> list[PastCall]:
        return [c for c in self.calls if c.outcome == "done"]

    @property
    def stack_id(self) -> str | None:
        """The root stack id the earlier runs worked on (a deleted stack is found by id only,
        docs/reference/aws-behaviour.md#stack-events)."""
        return next((str(r["stack_id"]) for r in self.runs if r.get("stack_id")), None)

    def files(self, prefix: str) -> list[tuple[Path, Any]]:
        """JSON files of the earlier runs whose name starts with `prefix`, oldest run first."""
        out: list[tuple[Path, Any]] = []
        for d in reversed(self.dirs):
            for path in sorted(d.glob(prefix + "*.json")):
                try:
                    out.append((path, json.loads(path.read_text(encoding="utf-8"))))
                except (OSError, ValueError, RecursionError):  # RecursionError: deep JSON
                    continue  # a file torn by a kill is not evidence we can use
        return out

    def summary(self) -> dict[str, Any]:
        return {"runs": [{"dir": r.get("dir"), "outcome": r.get("outcome"),
                          "signal": r.get("signal"), "started_at": r.get("started_at")}
                         for r in self.runs],
                "changes_done": [c.to_dict() for c in self.done()],
                "changes_in_doubt": [c.to_dict() for c in self.in_doubt()]}

    def describe(self) -> str:
        """One line for people."""
        last = self.runs[0]
        how = last.get("signal") or last.get("outcome")
        return (f"resuming after {len(self.runs)} unfinished run(s) (last: {last.get('dir')}, "
                f"{how}): {len(self.done())} change(s) done, {len(self.in_doubt())} in doubt")


def calls_of(entries: list[dict[str, Any]], run_dir: str) -> list[PastCall]:
    """The changes of one journal with what became of each (pure)."""
    befores: dict[int, dict[str, Any]] = {}
    afters: dict[int, dict[str, Any]] = {}
    started: dict[int, str] = {}
    for e in entries:
        if e.get("kind") == "operation_started" and isinstance(e.get("ref"), int) \
                and isinstance(e.get("operation_id"), str):
            started[e["ref"]] = e["operation_id"]
        if e.get("kind") != "call":
            continue
        if e.get("phase") == "before" and isinstance(e.get("call"), dict):
            befores[int(e.get("seq", 0))] = e
        elif e.get("phase") == "after" and isinstance(e.get("ref"), int):
            afters[e["ref"]] = e
    out = []
    for seq, before in sorted(befores.items()):
        after = afters.get(seq)
        if after is None:  # killed between sending and journaling the answer
            outcome = "in_doubt"
        elif after.get("ok") is True:
            outcome = "done"
        elif after.get("in_doubt") or (after.get("error") or {}).get("code") in IN_DOUBT_ERRORS:
            outcome = "in_doubt"
        else:
            outcome = "failed"  # AWS answered with an error: the change was not made
        out.append(PastCall(run_dir, seq, before["call"], outcome, started.get(seq)))
    return out


def _account(meta: dict[str, Any]) -> str | None:
    identity = meta.get("identity")
    account = identity.get("Account") if isinstance(identity, dict) else None
    return str(account) if account else None


def load_prior(root: Path, command: str, subject: str, *, region: str | None,
               endpoint_url: str | None, account: str | None = None,
               exclude_run_id: str | None = None,
               accept: Callable[[Path], bool] | None = None) -> PriorRuns:
    """The unfinished runs of `command` on `subject` under the evidence root `root` made in the
    same region, against the same endpoint and (when both runs know it) in the same account,
    newest first, back to the last run that ended on its own. Unreadable folders are ignored,
    and so are folders `accept` refuses (`recover apply`: runs of another plan)."""
    metas: list[tuple[str, Path, dict[str, Any]]] = []
    try:
        candidates = list(Path(root).iterdir())
    except OSError:
        return PriorRuns()
    for d in candidates:
        try:
            meta = json.loads((d / "metadata.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # RecursionError: deep JSON
            continue
        if not isinstance(meta, dict) or meta.get("run_id") == exclude_run_id:
            continue
        # runs recorded under a runbook's earlier id are the same runbook's
        if (canonical(str(meta.get("command"))), meta.get("subject"), meta.get("region"),
                meta.get("endpoint_url")) != (canonical(command), subject, region, endpoint_url):
            continue
        if account and _account(meta) not in (None, account):
            continue  # the same stack name in another account (another profile)
        if meta.get("dry_run") or "--dry-run" in (meta.get("argv") or []):
            continue  # a dry run changes nothing and must not hide an unfinished run
        if accept is not None and not accept(d):
            continue
        metas.append((str(meta.get("started_at", "")), d, meta))
    metas.sort(key=lambda m: m[0], reverse=True)
    runs: list[dict[str, Any]] = []
    dirs: list[Path] = []
    calls: list[PastCall] = []
    for _, d, meta in metas[:MAX_RUNS]:
        if meta.get("outcome") not in UNFINISHED:
            break
        runs.append(dict(meta, dir=str(d)))
        dirs.append(d)
        calls = calls_of(read_journal(d / "journal.jsonl"), str(d)) + calls
    return PriorRuns(tuple(runs), tuple(calls), tuple(dirs))


def token_to_reuse(prior: PriorRuns, operation: str, params: dict[str, Any],
                   tokens_seen: set[str]) -> str | None:
    """The ClientRequestToken of an in-doubt call identical to this one (token aside) whose token
    no stack event carries, i.e. AWS may not have run it yet: sending it again with the same
    token makes CloudFormation run it at most once. None: use a fresh token."""
    wanted = {k: v for k, v in params.items() if k != "ClientRequestToken"}
    for c in reversed(prior.in_doubt()):
        if c.operation != operation or not c.token or c.token in tokens_seen:
            continue
        if {k: v for k, v in c.params.items() if k != "ClientRequestToken"} == wanted:
            return c.token
    return None


def same_request(prior: PriorRuns, operation: str, params: dict[str, Any],
                 varying: tuple[str, ...]) -> PastCall | None:
    """The newest earlier call of `operation` that may have reached AWS (done or in doubt) and
    asked for the same thing as `params`, the `varying` keys aside (a change set's name and
    ClientToken carry the earlier run's id): the request to send again as it was, so that AWS
    recognises it instead of making a second change."""
    def same(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k not in varying}
    for c in reversed(prior.calls):
        if c.operation == operation and c.outcome in ("done", "in_doubt") \
                and same(c.params) == same(params):
            return c
    return None


def our_operation_running(prior: PriorRuns, operation: str, stack_id: str,
                          tokens_seen: set[str]) -> bool:
    """True when an earlier run sent `operation` on `stack_id` and it reached AWS: done, or in
    doubt with its token on the stack's events. When that run read back the operation id its
    call started and the stack lists its operations now (`tokens_seen` from `tokens_seen()`
    carries them), the id decides: the running operation is ours only if its id is listed."""
    listed = getattr(tokens_seen, "operations", frozenset())
    for c in prior.started(operation, stack_id):
        if c.operation_id and listed:
            if c.operation_id in listed:
                return True
            continue
        if c.outcome == "done" or (c.token and c.token in tokens_seen):
            return True
    return False


def our_operation_ids(prior: PriorRuns, operation: str, stack_id: str) -> list[str]:
    """The operation ids earlier runs' `operation` calls on `stack_id` started (read back)."""
    return [c.operation_id for c in prior.started(operation, stack_id) if c.operation_id]


class Seen(set[str]):
    """ClientRequestTokens seen on the events, with the operation ids the stacks list."""

    operations: frozenset[str] = frozenset()


def tokens_seen(snapshot: StackSnapshot) -> Seen:
    """Every ClientRequestToken on the events read (each event of an operation carries its
    token, docs/reference/aws-behaviour.md#client-request-tokens), and, as `.operations`, every
    operation id the stacks' LastOperations list."""
    seen = Seen(e.client_request_token for n in snapshot.nodes for e in n.events
                if e.client_request_token)
    seen.operations = frozenset(o.operation_id for n in snapshot.nodes
                                for o in n.info.last_operations)
    return seen


def read_stack(read: Callable[[str], T], stack: str, prior: PriorRuns) -> T:
    """`read(stack)`; when the name is not found but an earlier run of ours worked on the stack,
    read it by id: a stack that earlier run deleted is found by its id only (docs/reference/aws-behaviour.md#stack-events)."""
    try:
        return read(stack)
    except StackNotFoundError:
        if prior.stack_id and prior.stack_id != stack:
            return read(prior.stack_id)
        raise


def reached_aws(prior: PriorRuns, calls: list[dict[str, Any]], tokens: set[str]) -> set[int]:
    """Indexes of `calls` (Call.to_dict() of a plan) that an earlier run already sent and that
    reached AWS: answered with success, or in doubt with its token on the stack's events."""
    out: set[int] = set()
    for i, call in enumerate(calls):
        for c in prior.calls:
            if (c.operation, c.params) != (call.get("operation"), call.get("params")):
                continue
            if c.outcome == "done" or (c.outcome == "in_doubt" and c.token in tokens):
                out.add(i)
    return out
