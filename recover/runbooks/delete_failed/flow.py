"""delete-failed: finish deleting a DELETE_FAILED stack (root and nested), retaining what
cannot be deleted and writing every retained resource to the orphan ledger.

Round by round (bounded): snapshot → diagnose → gather blockers (bucket contents, ENIs using a
security group) → plan (retain / retry / empty-and-delete, checked locally by AWS's rules) →
decisions (flags or prompts; emptying a bucket needs its typed name or --empty-bucket NAME) →
capture the orphans (template snippet, ARN, tags) → confirm → re-check the stack → empty the
chosen buckets (DeleteObjects, 1000 versions a call) → DeleteStack with RetainResources and a
ClientRequestToken on each DELETE_FAILED stack, deepest first, following each to its end →
record the orphans in the ledger → if something new failed, plan again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.needs import needs
from recover.aws.blockers import gather_blockers
from recover.decide.delete_plan import (
    DELETE_FAILED as STUCK,
)
from recover.decide.delete_plan import (
    Action,
    BucketContents,
    DeleteChoices,
    DeletePlan,
    plan_delete,
    target_of,
    validate_empty_buckets,
    validate_retains,
    validate_retries,
)
from recover.decide.diagnose import Diagnosis
from recover.decide.findings import Finding
from recover.model.stack import StackEvent, StackSnapshot
from recover.orphans import ledger
from recover.orphans.capture import capture_orphans
from recover.run.context import RunContext
from recover.run.errors import (
    AbortedError,
    PreconditionChangedError,
    RecoverError,
    UsageError,
)
from recover.run.evidence import EvidenceRun
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.resume import (
    PriorRuns,
    read_stack,
    token_to_reuse,
    tokens_seen,
)
from recover.runbooks.driver import RoundLimits, Rounds, read_tree, save_dry_run
from recover.runbooks.follow import follow, follow_earlier_run
from recover.ui import prompts
from recover.ui.progress import print_resumed

DELETE_FAILED = "delete-failed"  # the runbook's id (recover/runbooks/delete_failed/__init__.py)
DONE = "DELETE_COMPLETE"
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys a request


@dataclass
class DeleteOptions:
    retain: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    retain_all_failed: bool = False
    empty_buckets: list[str] = field(default_factory=list)
    role_arn: str | None = None
    wait: bool = True
    timeout: float = 3600.0
    poll_interval: float = 3.0
    max_rounds: int = 3
    plan_out: Path | None = None
    ledger: Path | None = None


@dataclass
class Round:
    number: int
    retained: list[str]
    retried: list[str]
    emptied: list[dict[str, Any]]
    steps: list[dict[str, Any]] = field(default_factory=list)
    final_status: str = ""
    new_failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run(rc: RunContext, stack: str, opts: DeleteOptions) -> Result:
    return DeleteRounds.start(rc, stack, RoundLimits(opts.max_rounds, opts.plan_out), opts)


def demo(rc: RunContext, stack: str, options: dict[str, Any]) -> Result:
    """`recover demo`: the demo's orphans go beside its evidence, never into the user's ledger."""
    return run(rc, stack, DeleteOptions(poll_interval=0.5, timeout=600,
                                        ledger=rc.evidence_root / "demo-orphans.json", **options))


def _leaf_targets(snap: StackSnapshot, diag: Diagnosis) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in diag.findings:
        node = snap.node(f.stack_id)
        if f.detector == "R200" and node is not None and not f.resource_type.endswith("::Stack"):
            out[target_of(snap, node, f.logical_id)] = f
    return out


def ask_empty(rc: RunContext, ev: EvidenceRun, contents: BucketContents | None,
               bucket: str) -> bool:
    """Counts first, then the typed bucket name (--yes never answers this)."""
    if contents is not None:
        rc.console.print(f"[bold red]Emptying {bucket} deletes {contents.total} item(s) for good:"
                         f"[/] {contents.objects} current object(s), {contents.versions} object "
                         f"version(s) in all, {contents.delete_markers} delete marker(s).",
                         highlight=False)
    ok = prompts.typed_confirmation(rc, ev.journal, f"Empty bucket {bucket} (every version)?",
                                    bucket, flag=f"--empty-bucket {bucket}",
                                    otherwise="leaves the bucket as it is")
    if not ok:
        rc.console.print("[yellow]the name did not match: the bucket is not emptied[/]")
    return ok


def describe_blocker(blocker: dict[str, Any]) -> str:
    """One line for people: what was found blocking the delete."""
    if "to_delete" in blocker:
        return (f"{blocker['objects']} current object(s), {blocker['versions']} object "
                f"version(s), {blocker['delete_markers']} delete marker(s)")
    if "network_interfaces" in blocker:
        enis = blocker["network_interfaces"]
        return ("used by " + ", ".join(f"{e['id']} ({e.get('description') or e.get('status')})"
                                       for e in enis)) if enis else "no network interface uses it now"
    if "gone" in blocker:
        return blocker["gone"]
    if "unreadable" in blocker:
        return f"could not look: {blocker['unreadable']}"
    return ""


def _confirm_flagged_empties(rc: RunContext, plan: DeletePlan) -> None:
    """A bucket named with --empty-bucket: its counts are shown before anything is deleted."""
    for b in plan.empty:
        rc.console.print(f"[bold red]emptying {b.name}:[/] {b.objects} current object(s), "
                         f"{b.versions} version(s), {b.delete_markers} delete marker(s) "
                         f"→ {b.total} deletion(s)", highlight=False)


def empty_calls(contents: BucketContents) -> list[Call]:
    """DeleteObjects batches of at most 1000 (key, version id) each: every listed version and
    delete marker goes for good (a versioned DeleteObject without VersionId would only add a
    delete marker, docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers)."""
    calls = []
    entries = list(contents.entries)
    batches = max(1, -(-len(entries) // DELETE_BATCH))
    for i in range(0, len(entries), DELETE_BATCH):
        batch = entries[i:i + DELETE_BATCH]
        calls.append(Call("s3", "DeleteObjects", {
            "Bucket": contents.name,
            "Delete": {"Objects": [{"Key": k, "VersionId": v} for k, v in batch], "Quiet": True}},
            f"empty bucket {contents.name}: batch {i // DELETE_BATCH + 1}/{batches}, "
            f"{len(batch)} version(s)/delete marker(s)"))
    return calls


def delete_call(step_stack_id: str, step_name: str, retain: list[str], token: str,
                role_arn: str | None) -> Call:
    params: dict[str, Any] = {"StackName": step_stack_id}
    if retain:
        params["RetainResources"] = retain
    if role_arn:
        params["RoleARN"] = role_arn
    params["ClientRequestToken"] = token
    note = f", retaining {', '.join(retain)}" if retain else " (nothing retained)"
    return Call("cloudformation", "DeleteStack", params, f"delete stack {step_name}{note}")


LABELS = {Action.RETAIN: "retain it: delete the stack, keep this resource (orphan ledger)",
          Action.RETRY: "I fixed it outside recover: delete it again",
          Action.EMPTY: "empty the bucket (every version, typed confirmation), then delete it"}


@dataclass
class DeleteRounds(Rounds):
    opts: DeleteOptions = field(default_factory=DeleteOptions)
    choices: DeleteChoices = field(init=False)
    ledger_path: Path = field(init=False)
    rounds: list[Round] = field(init=False, default_factory=list)
    orphans: list[dict[str, Any]] = field(init=False, default_factory=list)
    read_by: str = field(init=False, default="")
    blockers: dict[str, dict[str, Any]] = field(init=False, default_factory=dict)
    buckets: dict[str, BucketContents] = field(init=False, default_factory=dict)
    records: list[dict[str, Any]] = field(init=False, default_factory=list)
    this_round: Round = field(init=False)

    runbook = DELETE_FAILED
    stuck = STUCK
    done = DONE
    in_flight = ("DELETE_IN_PROGRESS",)
    purpose = f"finishes a delete from {STUCK}"

    def __post_init__(self) -> None:
        opts = self.opts
        self.choices = DeleteChoices(retain=list(opts.retain),
                                     retain_all_failed=opts.retain_all_failed,
                                     empty_buckets=list(opts.empty_buckets),
                                     answers={t.strip(): Action.RETRY for t in opts.retry})
        self.ledger_path = ledger.resolve(opts.ledger)
        self.read_by = self.stack

    @property
    def subject(self) -> str:
        return self.read_by  # a deleted stack is found by its id only (docs/reference/aws-behaviour.md#stack-events)

    def read(self, subject: str) -> StackSnapshot:
        snap = read_stack(lambda s: read_tree(self.rc, s), subject, self.prior)
        self.read_by = snap.root_id
        return snap

    def resume(self, snap: StackSnapshot) -> StackSnapshot | None:
        if not self.prior:
            return snap
        snap = _follow_our_deletes(self.rc, self.ev, self.opts, snap, self.prior)
        assert self.resumed is not None
        self.resumed["followed_to"] = snap.root.info.status
        return snap

    def finished_already(self, snap: StackSnapshot) -> Result:
        msg = f"{snap.root.name} is already {DONE}: nothing to do"
        if self.prior.started("DeleteStack", snap.root_id):
            msg = f"{snap.root.name} is {DONE}: the earlier run's delete finished it"
        late = _record_prior_orphans(self.rc, self.prior, self.ledger_path, set())
        return Result(command=DELETE_FAILED, data={
            "final_status": DONE, "rounds": [], "orphans": late, "evidence_dir": str(self.ev.dir),
            "ledger": str(self.ledger_path), "resumed": self.resumed, "message": msg},
            messages=[msg])

    def changed_nothing(self) -> bool:
        return not self.rounds[-1].retained and not self.rounds[-1].emptied

    def check_flags(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> None:
        choices = self.choices
        if number == 1:
            errors = validate_retains(snap, choices.retain) + \
                validate_empty_buckets(snap, choices.empty_buckets) + \
                validate_retries(snap, self.opts.retry, choices.retain)
            if errors:
                raise UsageError("; ".join(errors))
        else:  # what no longer fails needs no retain any more
            choices.retain = [r for r in choices.retain if not validate_retains(snap, [r])]
            # a retry that failed again is decided anew (flags or prompt), never retried blindly
            choices.answers = {t: a for t, a in choices.answers.items() if a != Action.RETRY}

    def plan(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> DeletePlan:
        self.blockers, self.buckets = gather_blockers(self.rc.aws, _leaf_targets(snap, diag))
        self.ev.write_json(f"blockers-round{number}.json", self.blockers)
        return plan_delete(snap, diag, self.choices, self.blockers, self.buckets)

    def ask(self, snap: StackSnapshot, diag: Diagnosis, plan: DeletePlan) -> DeletePlan:
        rc, choices = self.rc, self.choices
        targets = _leaf_targets(snap, diag)
        for u in plan.undecided:
            f = targets[u.target]
            rc.console.print(f"\n[bold]{u.target}[/] {f.resource_type} ({f.physical_id}) — "
                             f"{f.reason[:300]}", highlight=False)
            found = describe_blocker(self.blockers.get(u.target, {}))
            if found:
                rc.console.print(f"  [dim]found: {found}[/]", highlight=False)
            if u.fix:
                rc.console.print(f"  [dim]to retry, first: {u.fix}[/]", highlight=False)
            while True:
                options = [(o, LABELS[o]) for o in u.options] + [("abort", "abort: change nothing")]
                answer = prompts.choose(rc, self.ev.journal, u.question, options,
                                        flag=" or ".join(u.flags))
                if answer == "abort":
                    raise AbortedError("aborted by the operator; nothing was changed")
                if answer == Action.EMPTY:
                    if not ask_empty(rc, self.ev, self.buckets.get(f.physical_id), f.physical_id):
                        continue
                    choices.empty_buckets.append(f.physical_id)
                choices.answers[u.target] = answer
                break
        return plan_delete(snap, diag, choices, self.blockers, self.buckets)

    def prepare(self, snap: StackSnapshot, diag: Diagnosis, plan: DeletePlan,
                number: int) -> tuple[DeletePlan, list[Call]]:
        _confirm_flagged_empties(self.rc, plan)
        self.records = capture_orphans(self.rc.aws, snap, plan.retained,
                                       retained_at=self.rc.clock().isoformat(),
                                       run_id=self.ev.run_id, evidence_dir=str(self.ev.dir))
        self.ev.write_json(f"orphans-round{number}.json", self.records)
        tokens = tokens_seen(snap)
        deletes = [delete_call(s.stack_id, s.stack_name, list(s.retain),
                               f"recover-{self.ev.run_id[:8]}-r{number}-s{i}", self.opts.role_arn)
                   for i, s in enumerate(plan.steps, 1)]
        # The same DeleteStack left in doubt by an earlier run goes again with its token.
        deletes = [_with_token(c, token_to_reuse(self.prior, "DeleteStack", c.params, tokens))
                   for c in deletes]
        return plan, [c for b in plan.empty for c in empty_calls(b)] + deletes

    def begin_round(self, snap: StackSnapshot, plan: DeletePlan, calls: list[Call],
                    number: int) -> None:
        self.this_round = Round(number, [d.target for d in plan.retained],
                                [d.target for d in plan.decisions if d.action == Action.RETRY],
                                [b.to_dict() for b in plan.empty])

    def question(self, snap: StackSnapshot, plan: DeletePlan) -> str:
        retained = f", retaining {len(plan.retained)} resource(s)" if plan.retained else ""
        return f"Delete {len(plan.steps)} stack(s) of {snap.root.name}{retained}?"

    def act(self, snap: StackSnapshot, plan: DeletePlan, calls: list[Call], number: int) -> bool:
        rc, opts, this_round = self.rc, self.opts, self.this_round
        for call in calls:
            if call.operation == "DeleteObjects":
                run_delete_objects(self.executor, call)
        self.rounds.append(this_round)
        deletes = [c for c in calls if c.operation == "DeleteStack"]
        shown: list[StackEvent] = []
        for step, call in zip(plan.steps, deletes, strict=True):
            recheck_step(rc, step.stack_id, step.stack_name, list(step.retain))
            self.executor.run(call)
            if not opts.wait:
                this_round.steps.append({"stack": step.stack_name,
                                         "final_status": "DELETE_IN_PROGRESS"})
                self.final_status = "DELETE_IN_PROGRESS"
                break
            watch = follow(rc, snap, timeout=opts.timeout, poll_interval=opts.poll_interval,
                           stack_id=step.stack_id, seen=shown)
            shown.extend(watch.events)
            step_status = watch.final_status
            this_round.steps.append({"stack": step.stack_name, "final_status": step_status,
                                     "timed_out": watch.timed_out})
            this_round.new_failures += sorted(
                f"{e.stack_name}.{e.logical_id}: {e.reason}" for e in watch.events
                if e.status == STUCK and not e.is_stack_event)
            mine = [r for r in self.records if r["left_stack"]["stack_id"] == step.stack_id]
            if mine:
                for r in mine:
                    r["state"] = "retained" if step_status == DONE else \
                        f"retain requested; stack ended {step_status}"
                ledger.record(self.ledger_path, mine)
                self.orphans.extend(mine)
            self.ev.journal.append("step_end", stack=step.stack_name, final_status=step_status)
            rc.progress(f"{step.stack_name}: {step_status}")
            self.final_status = step_status
            if step_status != DONE:
                break
        if self.orphans:
            self.ev.write_json("orphans.json", self.orphans)
        this_round.final_status = self.final_status
        return opts.wait and self.final_status != DONE

    def dry_run_result(self, snap: StackSnapshot, plan: DeletePlan, calls: list[Call]) -> Result:
        opts, records = self.opts, self.records
        saved = save_dry_run(
            self.rc, self.ev, self.executor, calls, runbook=DELETE_FAILED, snap=snap,
            decisions=[d.to_dict() for d in plan.decisions], plan_out=opts.plan_out,
            note=" and nothing was added to the ledger",
            settings={"wait": opts.wait, "timeout": opts.timeout,
                      "poll_interval": opts.poll_interval,
                      "steps": [s.to_dict() for s in plan.steps],
                      "empty_buckets": [b.to_dict() for b in plan.empty],
                      "orphans": records,
                      "ledger": str(opts.ledger) if opts.ledger else None})
        self.ev.write_json("orphans.json", records)
        data = {"dry_run": True, "final_status": snap.root.info.status,
                "rounds": [r.to_dict() for r in [*self.rounds, self.this_round]],
                "plan": plan.to_dict(), "orphans": records,
                "calls": [c.to_dict() for c in saved.calls],
                "plan_file": str(opts.plan_out) if opts.plan_out else None,
                "ledger": str(self.ledger_path), "evidence_dir": str(self.ev.dir)}
        return Result(command=DELETE_FAILED, data=data, exit_code=ExitCode.OK,
                      messages=[saved.message])

    def result(self) -> Result:
        if self.prior:
            self.orphans += _record_prior_orphans(self.rc, self.prior, self.ledger_path,
                                                  {o["id"] for o in self.orphans})
        ok = self.final_status == DONE or (not self.opts.wait and bool(self.rounds))
        data = {"final_status": self.final_status, "rounds": [r.to_dict() for r in self.rounds],
                "orphans": self.orphans, "ledger": str(self.ledger_path),
                "evidence_dir": str(self.ev.dir), "resumed": self.resumed,
                "api_calls": self.rc.aws.counter.as_dict()}
        return Result(command=DELETE_FAILED, data=data,
                      exit_code=ExitCode.OK if ok else ExitCode.FAILURE_FOUND, human=_render_done)


def _with_token(call: Call, token: str | None) -> Call:
    if token is None:
        return call
    return replace(call, params=dict(call.params, ClientRequestToken=token))


def _follow_our_deletes(rc: RunContext, ev: EvidenceRun, opts: DeleteOptions,
                        snap: StackSnapshot, prior: PriorRuns) -> StackSnapshot:
    """A DeleteStack our earlier run started that is still running (on the root or a nested
    stack) is followed to its end, then the tree is read again."""
    tokens = tokens_seen(snap)
    followed = False
    for node in snap.nodes:
        watch = follow_earlier_run(rc, ev, prior, snap, "DeleteStack", ("DELETE_IN_PROGRESS",),
                                   "the delete the earlier run started", timeout=opts.timeout,
                                   poll_interval=opts.poll_interval, stack_id=node.stack_id,
                                   tokens=tokens)
        if watch is None:
            continue
        followed = True
        if watch.timed_out:
            raise RecoverError(f"{node.name} is still {watch.final_status} after "
                               f"{opts.timeout:.0f}s of following", code="timed_out",
                               exit_code=ExitCode.FAILURE_FOUND,
                               hint="run the same command again to keep following")
    if not followed:
        return snap
    again = read_tree(rc, snap.root_id)
    ev.write_json("snapshot-round1-resumed.json", again)
    return again


def _record_prior_orphans(rc: RunContext, prior: PriorRuns, ledger_path: Path,
                          recorded: set[str]) -> list[dict[str, Any]]:
    """Orphans an earlier run captured (evidence orphans-round*.json) and asked AWS to retain
    (a DeleteStack of theirs with that logical id in RetainResources reached AWS) whose stack
    is now DELETE_COMPLETE but that never reached the ledger (the run stopped first)."""
    asked: set[tuple[str, str]] = {
        (str(c.params.get("StackName")), str(lid)) for c in prior.started("DeleteStack")
        for lid in c.params.get("RetainResources") or []}
    captured: dict[str, dict[str, Any]] = {}
    for _, records in prior.files("orphans-round"):
        for r in records if isinstance(records, list) else []:
            if not (isinstance(r, dict) and r.get("id")) or r["id"] in recorded:
                continue
            if (r["left_stack"]["stack_id"], r.get("logical_id")) in asked:
                captured[r["id"]] = r
    if not captured:
        return []
    in_ledger = {e.get("id") for e in ledger.load(ledger_path)["orphans"]
                 if e.get("state") == "retained"}
    cfn = rc.aws.client("cloudformation")
    status: dict[str, str] = {}
    late: list[dict[str, Any]] = []
    for r in captured.values():
        sid = r["left_stack"]["stack_id"]
        if sid not in status:
            status[sid] = cfn.describe_stacks(StackName=sid)["Stacks"][0]["StackStatus"]
        if status[sid] == DONE and r["id"] not in in_ledger:
            late.append(dict(r, state="retained"))
    if late:
        ledger.record(ledger_path, late)
        rc.progress(f"recorded {len(late)} orphan(s) the earlier run retained in {ledger_path}")
    return late


def run_delete_objects(executor: Executor, call: Call) -> None:
    response = executor.run(call)
    errors = response.get("Errors") or []
    if errors:
        first = errors[0]
        raise RecoverError(f"DeleteObjects on {call.params['Bucket']} failed for {len(errors)} "
                           f"item(s), e.g. {first.get('Key')} ({first.get('Code')}: "
                           f"{first.get('Message')}); the stacks were not deleted",
                           code="empty_bucket_failed")


@needs("cloudformation:DescribeStacks", "cloudformation:ListStackResources")
def recheck_step(rc: RunContext, stack_id: str, name: str, retain: list[str]) -> None:
    """Right before each DeleteStack: RetainResources is accepted only from DELETE_FAILED (docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed)
    and never for a DELETE_COMPLETE resource (docs/reference/aws-behaviour.md#which-resources-may-be-retained)."""
    cfn = rc.aws.client("cloudformation")
    status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
    if status != STUCK:
        raise PreconditionChangedError(f"stack {name} is now {status}, not {STUCK}: stopping "
                                       "before its DeleteStack")
    if retain:
        pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
        gone = [r["LogicalResourceId"] for p in pages for r in p["StackResourceSummaries"]
                if r["LogicalResourceId"] in retain and r["ResourceStatus"] == DONE]
        if gone:
            raise PreconditionChangedError(f"{', '.join(gone)} in {name} became {DONE}: AWS "
                                           "would refuse the retain list; plan again")


def _render_done(console: Any, result: Result) -> None:
    d = result.data
    console.print(f"[bold]final status:[/] {d['final_status']}")
    for r in d["rounds"]:
        steps = ", ".join(f"{s['stack']} → {s['final_status']}" for s in r["steps"])
        console.print(f"  round {r['number']}: retained {len(r['retained'])}, retried "
                      f"{len(r['retried'])}, emptied {len(r['emptied'])} bucket(s); {steps}",
                      highlight=False)
    for o in d["orphans"]:
        tags = o.get("tags")
        shown = tags if tags is not None else ("-" if o.get("arn") is None else "unknown")
        console.print(f"[yellow]orphan[/] {o['id']} {o['resource_type']} {o['physical_id']}\n"
                      f"  arn: {o.get('arn') or '-'}  tags: {shown}\n"
                      f"  left {o['left_stack']['name']}; delete later: "
                      f"{o['follow_up']['delete_later'][-1]}", highlight=False)
    if d["orphans"]:
        console.print(f"[dim]orphan ledger: {d['ledger']} (recover orphans list)[/]")
    print_resumed(console, d.get("resumed"))
    console.print(f"[dim]evidence: {d['evidence_dir']}[/]")
