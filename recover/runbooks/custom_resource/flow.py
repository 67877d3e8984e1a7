"""custom-resource: a stack held *_IN_PROGRESS by a custom resource whose handler never answered.

One pass: snapshot → the custom resources *_IN_PROGRESS (refuse when none) → per resource:
its resolved properties (ServiceToken, ServiceTimeout), its handler's log lines of this
operation, the request that waits (pure: recover/decide/custom_response.py) and the time left
before CloudFormation's own timeout → choose the resource (--logical-id) → no request found:
say so, when CloudFormation gives up, and what to check (exit 3) → the answer (--respond,
--reason; the proposed default depends on the request and the operation) → show the PUT →
dry run: stop → confirm → re-check the stack → a Delete answered SUCCESS goes into the orphan
ledger first → the PUT, through the executor → follow the stack to a terminal status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.presigned import NoAnswer, ResponseRefused
from recover.aws.custom_requests import HandlerLogs, gather_handler_logs, resource_properties
from recover.decide.custom_response import (
    SKEW,
    CustomRequest,
    Found,
    choose_request,
    deadline,
    default_reason,
    default_status,
    is_custom,
    parse_requests,
    response_document,
)
from recover.decide.orphans import orphan_record
from recover.model.stack import StackNode, StackResource, StackSnapshot
from recover.orphans import ledger
from recover.run.context import RunContext
from recover.run.errors import InputError, NeedsDecisionError, RecoverError
from recover.run.evidence import EvidenceRun
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.services import open_evidence
from recover.runbooks.driver import read_tree, recheck
from recover.runbooks.follow import follow
from recover.runbooks.render import show_calls
from recover.ui import prompts

RUNBOOK = "custom-resource"  # the runbook's id (recover/runbooks/custom_resource/__init__.py)
RESPOND_FLAG = "--respond"
CHECKS = (
    "the handler's log group (a LoggingConfig.LogGroup, or --log-group for an SNS-backed "
    "handler) and whether it logs its incoming event at all",
    "whether the function still exists and was invoked (its Invocations and Errors metrics)",
    "a crash before logging (import error, timeout at init): fix the handler; the next "
    "attempt, after CloudFormation's timeout, sends a new request",
)


@dataclass
class CustomOptions:
    respond: str | None = None
    reason: str | None = None
    logical_id: str | None = None
    log_group: str | None = None
    ledger: Path | None = None
    wait: bool = True
    timeout: float = 3600.0
    poll_interval: float = 3.0


def demo(rc: RunContext, stack: str, options: dict[str, Any]) -> Result:
    """`recover demo`: the demo's orphans go beside its evidence, never into the user's ledger."""
    return run(rc, stack, CustomOptions(poll_interval=0.5, timeout=600,
                                        ledger=rc.evidence_root / "demo-orphans.json", **options))


@dataclass
class Waiting:
    """One custom resource waiting for its handler's answer, and what was found for it."""

    node: StackNode
    resource: StackResource
    attempt_started: datetime
    deadline: datetime
    service_token: str
    logs: HandlerLogs
    found: Found = field(default_factory=lambda: Found(None))

    @property
    def key(self) -> str:
        lid = self.resource.logical_id
        return lid if self.node.depth == 0 else f"{self.node.name}.{lid}"

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {"key": self.key, "stack": self.node.name, "stack_id": self.node.stack_id,
                "logical_id": self.resource.logical_id,
                "resource_type": self.resource.resource_type,
                "physical_id": self.resource.physical_id, "status": self.resource.status,
                "attempt_started": self.attempt_started.isoformat(),
                "cloudformation_gives_up_at": self.deadline.isoformat(),
                "seconds_left": max(0, int((self.deadline - now).total_seconds())),
                "service_token": self.service_token, "logs": self.logs.to_dict(),
                **self.found.to_dict()}


def run(rc: RunContext, stack: str, opts: CustomOptions) -> Result:
    with open_evidence(rc, RUNBOOK, stack) as ev:
        result = _run(rc, ev, stack, opts)
        ev.finish(result.data.get("final_status") or "finished", int(result.exit_code))
        return result


def _run(rc: RunContext, ev: EvidenceRun, stack: str, opts: CustomOptions) -> Result:
    rc.progress(f"reading {stack} and its nested stacks…")
    snap = read_tree(rc, stack)
    ev.write_json("snapshot.json", snap)
    ev.set(stack_id=snap.root_id)
    waiting = _gather(rc, snap, opts)
    ev.write_json("requests.json", [w.to_dict(rc.clock()) for w in waiting])
    _show(rc, waiting)
    target = _target(rc, ev, waiting, opts)
    now = rc.clock()
    data: dict[str, Any] = {"final_status": snap.root.info.status,
                            "resource": target.to_dict(now), "evidence_dir": str(ev.dir)}
    req = target.found.request
    if req is None:
        return _not_found(rc, target, data, now)
    status, reason = _decide(rc, ev, snap, target, req, opts)
    doc = response_document(req, status, reason)
    call = Call("cloudformation-response", "PutCustomResourceResponse",
                {"ResponseURL": req.response_url, "Response": doc},
                f"answer the {req.request_type} request {req.request_id} of {target.key} with "
                f"{status} (HTTP PUT to its pre-signed ResponseURL)")
    show_calls(rc.console, [call], "The call:")
    executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
    data["response"] = {k: doc[k] for k in ("Status", "Reason", "PhysicalResourceId")}
    if rc.options.dry_run:
        executor.run(call)
        ev.write_json("plan.json", {"runbook": RUNBOOK, "calls": [call.to_dict()]})
        return Result(command=RUNBOOK, data=dict(data, dry_run=True, calls=[call.to_dict()]),
                      messages=["dry run: nothing was changed"])
    prompts.confirm_or_abort(rc, ev.journal, f"Answer {target.key}'s {req.request_type} request "
                             f"with {status}?")
    recheck(lambda s: read_tree(rc, s), snap.root_id, snap)
    if req.request_type == "Delete" and status == "SUCCESS":
        data["orphan"] = _record_orphan(rc, ev, snap, target, opts)
    try:
        answer = executor.run(call)
    except NoAnswer as exc:
        raise RecoverError(str(exc), code="no_answer", hint=(
            f"the response may have arrived: run `recover diagnose {snap.root.name}`; if the "
            "resource still waits, run the same command again (the same document sent twice "
            "is harmless)")) from exc
    except (ResponseRefused, OSError) as exc:
        raise RecoverError(f"the response was not accepted: {exc}", code="response_refused",
                           hint="the URL may have expired (CloudFormation gave up on this "
                                "attempt); run diagnose again") from exc
    data["answer"] = answer
    if not opts.wait:
        return Result(command=RUNBOOK, data=data, messages=["answered; not following the stack"])
    watch = follow(rc, snap, timeout=opts.timeout, poll_interval=opts.poll_interval)
    data.update(final_status=watch.final_status, timed_out=watch.timed_out,
                api_calls=rc.aws.counter.as_dict())
    ok = not watch.timed_out and not watch.final_status.endswith(("_FAILED", "_IN_PROGRESS"))
    return Result(command=RUNBOOK, data=data, human=render_done,
                  exit_code=ExitCode.OK if ok else ExitCode.FAILURE_FOUND)


def _gather(rc: RunContext, snap: StackSnapshot, opts: CustomOptions) -> list[Waiting]:
    pending = [(n, r) for n in snap.nodes for r in n.resources
               if is_custom(r.resource_type) and r.status.endswith("_IN_PROGRESS")]
    if not pending:
        raise RecoverError(
            f"stack {snap.root.name} is {snap.root.info.status} and no custom resource of it "
            "waits for an answer; custom-resource answers a custom resource *_IN_PROGRESS",
            code="unsupported_state", exit_code=ExitCode.FAILURE_FOUND,
            hint=f"run `recover diagnose {snap.root.name}` for the runbook that fits")
    out: list[Waiting] = []
    now = rc.clock()
    for node, res in pending:
        events = [e for e in node.events if e.logical_id == res.logical_id
                  and e.status == res.status]
        started = events[-1].timestamp if events else (res.last_updated or now)
        window_start = node.events[0].timestamp if node.events else started
        props = resource_properties(rc.aws, node.stack_id, {res.logical_id}, since=window_start)
        token = str(props.get(res.logical_id, {}).get("ServiceToken", ""))
        timeout = props.get(res.logical_id, {}).get("ServiceTimeout")
        rc.progress(f"reading the handler logs of {res.logical_id}…")
        logs = gather_handler_logs(rc.aws, token, window_start - SKEW, now, opts.log_group)
        requests = parse_requests((line.timestamp, line.message, line.stream)
                                  for line in logs.lines)
        found = choose_request(requests, stack_id=node.stack_id, logical_id=res.logical_id,
                               resource_status=res.status, attempt_started=started,
                               region=snap.region, endpoint_url=rc.aws.endpoint_url)
        out.append(Waiting(node, res, started, deadline(started, timeout), token, logs, found))
    return out


def _show(rc: RunContext, waiting: list[Waiting]) -> None:
    now = rc.clock()
    for w in waiting:
        left = max(0, int((w.deadline - now).total_seconds()))
        rc.console.print(f"[bold]{w.key}[/] ({w.resource.resource_type}) "
                         f"{w.resource.status} since {w.attempt_started:%H:%M:%SZ}; "
                         f"CloudFormation gives up at {w.deadline:%H:%M:%SZ} "
                         f"({left // 60} min {left % 60} s left)", highlight=False)
        rc.console.print(f"  handler: {w.service_token or '(unknown)'}; logs: "
                         f"{w.logs.log_group or '(none)'} ({len(w.logs.lines)} line(s) in "
                         f"{w.logs.pages} page(s))" + (f" — {w.logs.problem}"
                                                       if w.logs.problem else ""),
                         highlight=False)
        for req, why in w.found.rejected:
            rc.console.print(f"  [dim]set aside {req.request_type} {req.request_id}: {why}[/]",
                             highlight=False)
        req = w.found.request
        if req is not None:
            rc.console.print(f"  [green]pending request[/] {req.request_type} {req.request_id} "
                             f"(logged {req.logged_at:%H:%M:%SZ}, physical id "
                             f"{req.physical_id or '-'})", highlight=False)


def _target(rc: RunContext, ev: EvidenceRun, waiting: list[Waiting],
            opts: CustomOptions) -> Waiting:
    if opts.logical_id:
        match = [w for w in waiting if opts.logical_id in (w.key, w.resource.logical_id)]
        if len(match) != 1:
            raise InputError(f"--logical-id {opts.logical_id}: not one of the custom resources "
                             f"waiting ({', '.join(w.key for w in waiting)})")
        return match[0]
    if len(waiting) == 1:
        return waiting[0]
    question = (f"{len(waiting)} custom resources wait ({', '.join(w.key for w in waiting)}): "
                "which one to answer?")
    if not rc.interactive:
        raise NeedsDecisionError(question, flag="--logical-id")
    key = prompts.choose(rc, ev.journal, question, [(w.key, w.key) for w in waiting],
                         flag="--logical-id")
    return next(w for w in waiting if w.key == key)


def _decide(rc: RunContext, ev: EvidenceRun, snap: StackSnapshot, target: Waiting,
            req: CustomRequest, opts: CustomOptions) -> tuple[str, str]:
    proposed, why = default_status(req.request_type, target.node.info.status)
    rc.console.print(f"[bold]Proposed answer:[/] {proposed}: {why}", highlight=False)
    status = opts.respond
    if status is None:
        question = f"Answer the {req.request_type} request of {target.key} with?"
        if not rc.interactive:
            raise NeedsDecisionError(f"{question} (proposed: {proposed})", flag=RESPOND_FLAG)
        status = prompts.choose(rc, ev.journal, question,
                                [(s, f"{s}{' (proposed)' if s == proposed else ''}")
                                 for s in ("SUCCESS", "FAILED")],
                                flag=RESPOND_FLAG, default=proposed)
    return status, opts.reason or default_reason(status, ev.run_id[:8])


def _not_found(rc: RunContext, target: Waiting, data: dict[str, Any], now: datetime) -> Result:
    left = max(0, int((target.deadline - now).total_seconds()))
    message = (f"no pending request of {target.key} found in {target.logs.log_group or 'any log'}"
               f": CloudFormation gives up on this attempt at {target.deadline:%Y-%m-%d %H:%M:%SZ}"
               f" ({left // 60} min left) and fails the resource")
    data["checks"] = list(CHECKS)
    return Result(command=RUNBOOK, data=data, exit_code=ExitCode.FAILURE_FOUND,
                  messages=[message, *(f"check: {c}" for c in CHECKS)])


def _record_orphan(rc: RunContext, ev: EvidenceRun, snap: StackSnapshot, target: Waiting,
                   opts: CustomOptions) -> str:
    """CloudFormation forgets a resource whose Delete is answered SUCCESS; the real thing may
    still exist: into the ledger before the answer is sent."""
    res = target.resource
    entry = orphan_record(
        stack_name=target.node.name, stack_id=target.node.stack_id, root_stack=snap.root.name,
        logical_id=res.logical_id, resource_type=res.resource_type,
        physical_id=res.physical_id, region=snap.region, account=snap.account,
        reason="its handler never answered the Delete; recover answered SUCCESS by hand",
        failure_mode="custom_resource_waiting", tags=None, tags_source="not read",
        snippet=None, retained_at=rc.clock().isoformat(), run_id=ev.run_id,
        evidence_dir=str(ev.dir))
    path = ledger.record(ledger.resolve(opts.ledger), [entry])
    ev.journal.append("orphans_recorded", ledger=str(path), ids=[entry["id"]])
    rc.progress(f"recorded {target.key} ({res.physical_id}) in the orphan ledger {path}")
    return str(entry["id"])


def render_done(console: Any, result: Result) -> None:
    d = result.data
    console.print(f"[bold]final status:[/] {d['final_status']}"
                  + (" [yellow](timed out while following)[/]" if d.get("timed_out") else ""))
    if d.get("response"):
        console.print(f"answered {d['resource']['key']} with {d['response']['Status']}",
                      highlight=False)
    if d.get("orphan"):
        console.print(f"orphan ledger: {d['orphan']} ({d['resource']['physical_id']})",
                      highlight=False)
    console.print(f"[dim]evidence: {d['evidence_dir']}[/]")
