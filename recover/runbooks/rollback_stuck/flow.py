"""rollback-stuck: continue an UPDATE_ROLLBACK_FAILED rollback (root or nested) to the end.

Round by round (bounded): snapshot → diagnose → plan (restore / retry / skip, validated
locally by AWS's rules) → decisions (flags or prompts) → restore missing artifacts → confirm
the exact call → re-check the stack → ContinueUpdateRollback with a ClientRequestToken →
follow the root and every nested stack live → if the rollback fails again, plan again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.needs import needs_of
from recover.act.plan import Plan
from recover.act.retry import Backoff, run_retrying
from recover.artifacts.own_write import run_restore
from recover.artifacts.sources import object_exists
from recover.aws.snapshot import take_snapshot
from recover.aws.watch import StackWatcher
from recover.decide.diagnose import Diagnosis
from recover.decide.judgement import judge
from recover.decide.rollback_plan import (
    Action,
    Choices,
    RollbackPlan,
    plan_rollback,
    validate_skips,
)
from recover.explain.taxonomy import FailureMode
from recover.model.stack import StackSnapshot
from recover.model.statuses import ROLLBACK_RUNNING
from recover.run.context import RunContext
from recover.run.errors import AbortedError, NeedsDecisionError, UsageError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.resume import (
    token_to_reuse,
    tokens_seen,
)
from recover.run.services import open_evidence, read_templates
from recover.runbooks.artifacts import flow as artifact_flow
from recover.runbooks.driver import RoundLimits, Rounds, read_tree, recheck, save_dry_run
from recover.runbooks.follow import follow, follow_earlier_run
from recover.runbooks.plan_settings import TIMING, Check, of_type
from recover.runbooks.plans import checked_calls
from recover.ui import prompts
from recover.ui.progress import print_resumed

ROLLBACK_STUCK = "rollback-stuck"  # the runbook's id (recover/runbooks/rollback_stuck/__init__.py)
DONE = "UPDATE_ROLLBACK_COMPLETE"
STUCK = "UPDATE_ROLLBACK_FAILED"
RUNNING = ROLLBACK_RUNNING


# What `recover apply` checks in a rollback-stuck plan's settings (recover/runbooks/plan_check.py).
PLAN_SETTINGS: dict[str, Check] = {**TIMING, "restores": of_type(list, "a list")}


@dataclass
class RollbackOptions:
    skip: list[str] = field(default_factory=list)
    skip_unrecoverable: bool = False
    restore_artifacts: bool | None = None
    artifact_sources: list[str] = field(default_factory=list)
    role_arn: str | None = None
    wait: bool = True
    timeout: float = 3600.0
    plan_out: Path | None = None
    max_rounds: int = 3
    poll_interval: float = 3.0
    trail: str | None = None  # CloudTrail source for finding missing keys (default: lookup)
    accept_substitute: bool = False
    accept_unverified: bool = False  # restore bytes no CodeSha256 proves (flows/artifacts.py)
    ledger: Path | None = None  # where skips are recorded (default: the orphan ledger)
    # Set by bootstrap-role after it recreated the service role: IAM is eventually consistent,
    # so "Role ... is invalid or cannot be assumed" is retried with this backoff (docs/reference/aws-behaviour.md#iam-eventual-consistency).
    role_retry: Backoff | None = None


@dataclass
class Round:
    number: int
    token: str
    skipped: list[str]
    restored: list[dict[str, Any]]
    retried: list[str]
    final_status: str = ""
    timed_out: bool = False
    new_failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run(rc: RunContext, stack: str, opts: RollbackOptions) -> Result:
    return RollbackRounds.start(rc, stack, RoundLimits(opts.max_rounds, opts.plan_out), opts)


def demo(rc: RunContext, stack: str, options: dict[str, Any]) -> Result:
    """`recover demo` on a sandbox scenario (quick polling; options only when unattended)."""
    return run(rc, stack, RollbackOptions(poll_interval=0.5, timeout=600,
                                          ledger=rc.evidence_root / "demo-orphans.json",
                                          **options))


@dataclass
class RollbackRounds(Rounds):
    opts: RollbackOptions = field(default_factory=RollbackOptions)
    choices: Choices = field(init=False)
    rounds: list[Round] = field(init=False, default_factory=list)
    skipped: dict[str, dict[str, Any]] = field(init=False, default_factory=dict)
    restored: list[dict[str, Any]] = field(init=False, default_factory=list)
    timed_out: bool = field(init=False, default=False)
    round_restored: list[dict[str, Any]] = field(init=False, default_factory=list)
    this_round: Round = field(init=False)

    runbook = ROLLBACK_STUCK
    stuck = STUCK
    done = DONE
    in_flight = RUNNING
    purpose = f"continues a rollback from {STUCK}"

    def __post_init__(self) -> None:
        self.choices = Choices(skip=list(self.opts.skip),
                               skip_unrecoverable=self.opts.skip_unrecoverable,
                               restore_artifacts=self.opts.restore_artifacts)

    def read(self, subject: str) -> StackSnapshot:
        return read_tree(self.rc, subject)

    def resume(self, snap: StackSnapshot) -> StackSnapshot | None:
        rc = self.rc
        watch = follow_earlier_run(rc, self.ev, self.prior, snap, "ContinueUpdateRollback",
                                   RUNNING, "the rollback the earlier run continued",
                                   timeout=self.opts.timeout,
                                   poll_interval=self.opts.poll_interval)
        if watch is None:
            return snap
        assert self.resumed is not None
        self.resumed["followed_to"] = watch.final_status
        if watch.timed_out:
            self.final_status, self.timed_out = watch.final_status, True
            return None
        again = read_tree(rc, self.stack)
        self.ev.write_json("snapshot-round1-resumed.json", again)
        return again

    def finished_already(self, snap: StackSnapshot) -> Result:
        msg = f"{snap.root.name} is already {DONE}: nothing to do"
        if self.prior.started("ContinueUpdateRollback", snap.root_id):
            msg = f"{snap.root.name} is {DONE}: the earlier run's rollback finished it"
        return Result(command=ROLLBACK_STUCK, data={
            "final_status": DONE, "rounds": [], "skipped": [], "restored": [],
            "evidence_dir": str(self.ev.dir), "resumed": self.resumed, "message": msg},
            messages=[msg])

    def changed_nothing(self) -> bool:
        return not self.rounds[-1].skipped and not self.rounds[-1].restored

    def check_flags(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> None:
        if number == 1:
            errors = validate_skips(snap, list(diag.findings), self.choices.skip)
            if errors:
                raise UsageError("invalid --skip: " + "; ".join(errors))
        else:  # a requested skip that no longer fails is simply not needed any more
            valid = {f.skip_id for f in diag.findings if f.skippable}
            self.choices.skip = [s for s in self.choices.skip if s in valid]

    def plan(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> RollbackPlan:
        return plan_rollback(snap, diag, self.choices)

    def ask(self, snap: StackSnapshot, diag: Diagnosis, plan: RollbackPlan) -> RollbackPlan:
        rc, choices = self.rc, self.choices
        restored_before = self._restored_before()
        for u in plan.undecided:
            finding = next(f for f in diag.findings if f.target == u.target)
            if finding.failure_mode.value == "missing_artifact" and \
                    finding.physical_id in restored_before:
                # an earlier run of ours restored its object: not asked again (a restore of a
                # key that is present now writes nothing)
                self.ev.journal.append("resume_answer", target=u.target, answer=Action.RESTORE,
                                       why="restored by the earlier run")
                choices.answers[u.target] = Action.RESTORE
                continue
            options = []
            default: str | None = None
            if finding.failure_mode.value == "missing_artifact":
                options.append((Action.RESTORE, "restore the missing code object, then continue"))
            else:
                options.append((Action.RETRY, "I fixed it outside recover: retry it (no skip)"))
                verdict = judge(finding)  # the same judgement as --skip-unrecoverable
                default = Action.SKIP if verdict.unrecoverable else Action.RETRY
            options += [(Action.SKIP, "skip it (ResourcesToSkip) and record the follow-up"),
                        ("abort", "abort: change nothing")]
            rc.console.print(f"\n[bold]{u.target}[/] {finding.resource_type} — "
                             f"{finding.reason[:300]}", highlight=False)
            if default:
                rc.console.print(f"[dim]default: {default} — {verdict.reason}[/]",
                                 highlight=False)
            answer = prompts.choose(rc, self.ev.journal, u.question, options,
                                    flag=" or ".join(u.flags), default=default)
            if answer == "abort":
                raise AbortedError("aborted by the operator; nothing was changed")
            choices.answers[u.target] = answer
        return plan_rollback(snap, diag, choices)

    def _restored_before(self) -> set[str]:
        """Functions whose code object an earlier, stopped run of ours uploaded (its
        artifacts-plan.json names the key, its journal the upload that reached AWS)."""
        keys = {(str(c.params.get("Bucket")), str(c.params.get("Key")))
                for op in ("PutObject", "CopyObject") for c in self.prior.started(op)}
        out: set[str] = set()
        for _, doc in self.prior.files("artifacts-plan"):
            for choice in doc.get("choices", []) if isinstance(doc, dict) else []:
                art = choice.get("artifact") if isinstance(choice, dict) else None
                if isinstance(art, dict) and (str(art.get("bucket")), str(art.get("key"))) in keys:
                    out.add(str(art.get("function_name")))
        return out

    def prepare(self, snap: StackSnapshot, diag: Diagnosis, plan: RollbackPlan,
                number: int) -> tuple[RollbackPlan, list[Call]]:
        self.round_restored = []
        if plan.restores:
            plan = self._restore(snap, diag, plan)
        params: dict[str, Any] = {"StackName": snap.root_id}
        if plan.skips:
            params["ResourcesToSkip"] = plan.skips
        if self.opts.role_arn:
            params["RoleARN"] = self.opts.role_arn
        # The same call left in doubt by an earlier run goes again with its token (at most once).
        params["ClientRequestToken"] = token_to_reuse(
            self.prior, "ContinueUpdateRollback", params, tokens_seen(snap)) \
            or f"recover-{self.ev.run_id[:8]}-r{number}"
        call = Call("cloudformation", "ContinueUpdateRollback", params,
                    f"continue the rollback of {snap.root.name}{_skip_note(plan)}")
        return plan, [call]

    def _restore(self, snap: StackSnapshot, diag: Diagnosis, plan: RollbackPlan) -> RollbackPlan:
        rc, opts, choices = self.rc, self.opts, self.choices
        outcome = artifact_flow.restore_for_rollback(
            rc, self.ev, self.executor, snap, diag, [d.finding for d in plan.restores],
            sources=opts.artifact_sources, trail=opts.trail,
            accept=artifact_flow.Acceptance(unverified=opts.accept_unverified,
                                            substitute=opts.accept_substitute),
            unproven_is_unrecoverable=opts.skip_unrecoverable)
        self.round_restored = [r.to_dict() for r in outcome.restored]
        self.restored.extend(self.round_restored)
        if not outcome.unrecoverable:
            return plan
        targets = [f.skip_id for f in outcome.unrecoverable]
        if opts.skip_unrecoverable or any(choices.answers.get(t) == Action.SKIP for t in targets):
            for t in targets:
                choices.answers[t] = Action.SKIP
        elif rc.interactive:
            for f in outcome.unrecoverable:
                answer = prompts.choose(
                    rc, self.ev.journal, f"no bytes found for {f.skip_id}: skip it or abort?",
                    [(Action.SKIP, "skip it and record the follow-up"),
                     ("abort", "abort: change nothing more")], flag=f"--skip {f.skip_id}")
                if answer == "abort":
                    raise AbortedError("aborted by the operator")
                choices.answers[f.skip_id] = Action.SKIP
        else:
            raise NeedsDecisionError(
                "no recoverable bytes for " + ", ".join(targets) + "; " + outcome.summary,
                flag="--skip-unrecoverable or --artifact-source")
        return plan_rollback(snap, diag, choices)

    def begin_round(self, snap: StackSnapshot, plan: RollbackPlan, calls: list[Call],
                    number: int) -> None:
        self.this_round = Round(number, calls[0].params["ClientRequestToken"], plan.skips,
                                self.round_restored,
                                [d.target for d in plan.decisions if d.action == Action.RETRY])
        for d in plan.decisions:
            if d.action == Action.SKIP:
                self.skipped[d.target] = d.to_dict()

    def question(self, snap: StackSnapshot, plan: RollbackPlan) -> str:
        return f"Call ContinueUpdateRollback on {snap.root.name}{_skip_note(plan)}?"

    def act(self, snap: StackSnapshot, plan: RollbackPlan, calls: list[Call], number: int) -> bool:
        rc, opts, (call,) = self.rc, self.opts, calls
        # A role that exists again may not be assumable for a few seconds yet (IAM is
        # eventually consistent, docs/reference/aws-behaviour.md#iam-eventual-consistency):
        # bounded retries, whoever recreated it.
        role_retry = opts.role_retry or (Backoff() if any(
            d.finding.remedied and d.finding.failure_mode == FailureMode.EXECUTION_ROLE_MISSING
            for d in plan.decisions) else None)
        if role_retry is not None:
            run_retrying(self.executor, call, backoff=role_retry, on_retry=lambda n, d, m: (
                rc.progress(f"the role is not usable yet (attempt {n}): retrying in {d:.0f}s")))
        else:
            self.executor.run(call)
        this_round = self.this_round
        self.rounds.append(this_round)
        if plan.skips:  # each skip is open in the ledger until `recover reconcile` closes it
            record_skips(self.rc, self.ev, snap, plan.skips, self.opts.ledger)
        if not opts.wait:
            self.final_status = "UPDATE_ROLLBACK_IN_PROGRESS"
            return False
        watch = follow(rc, snap, timeout=opts.timeout, poll_interval=opts.poll_interval)
        self.final_status = this_round.final_status = watch.final_status
        this_round.timed_out = watch.timed_out
        this_round.new_failures = sorted(
            f"{e.stack_name}.{e.logical_id}: {e.reason}" for e in watch.events
            if e.status == "UPDATE_FAILED")
        self.ev.journal.append("round_end", round=number, final_status=watch.final_status,
                               timed_out=watch.timed_out)
        rc.progress(f"round {number}: {snap.root.name} is {watch.final_status}")
        if watch.timed_out:
            self.timed_out = True
            return False
        return watch.final_status == STUCK

    def dry_run_result(self, snap: StackSnapshot, plan: RollbackPlan, calls: list[Call]) -> Result:
        opts = self.opts
        saved = save_dry_run(
            self.rc, self.ev, self.executor, calls, runbook=ROLLBACK_STUCK, snap=snap,
            decisions=[d.to_dict() for d in plan.decisions], plan_out=opts.plan_out,
            settings={"wait": opts.wait, "timeout": opts.timeout,
                      "poll_interval": opts.poll_interval, "restores": list(self.restored)})
        data = {"dry_run": True, "final_status": snap.root.info.status,
                "rounds": [r.to_dict() for r in [*self.rounds, self.this_round]],
                "skipped": list(self.skipped.values()), "restored": self.restored,
                "calls": [c.to_dict() for c in saved.calls],
                "plan_file": str(opts.plan_out) if opts.plan_out else None,
                "evidence_dir": str(self.ev.dir)}
        return Result(command=ROLLBACK_STUCK, data=data, exit_code=ExitCode.OK,
                      messages=[saved.message])

    def result(self) -> Result:
        ok = self.final_status == DONE
        code = ExitCode.OK if ok or (not self.opts.wait and self.rounds) else \
            ExitCode.FAILURE_FOUND
        data = {"final_status": self.final_status, "rounds": [r.to_dict() for r in self.rounds],
                "skipped": list(self.skipped.values()), "restored": self.restored,
                "timed_out": self.timed_out, "evidence_dir": str(self.ev.dir),
                "resumed": self.resumed, "api_calls": self.rc.aws.counter.as_dict(),
                "next": self.next_commands()}
        return Result(command=ROLLBACK_STUCK, data=data, exit_code=code, human=_render_done)

    def next_commands(self) -> list[str]:
        """After a rollback that skipped resources: reconcile them (they are open in the
        ledger), with this run's global options, ready to paste."""
        from recover.cli.diagnose import with_global_options
        from recover.decide.diagnose import next_commands

        if not self.skipped or self.final_status != DONE:
            return []
        return with_global_options(next_commands("reconcile", self.stack), self.rc.options.argv,
                                   ROLLBACK_STUCK)


def record_skips(rc: RunContext, ev: Any, snap: StackSnapshot, skips: list[str],
                 path: Path | None) -> None:
    """Open a ledger entry for each skip AWS accepted (recover/decide/reconcile.py)."""
    from recover.decide.reconcile import parse_target, skip_record
    from recover.orphans import ledger

    entries = []
    for target in skips:
        stack_name, logical = parse_target(target, snap.root.name)
        node = next((n for n in snap.nodes if n.name == stack_name), None)
        res = next((r for r in node.resources if r.logical_id == logical), None) if node else None
        if node is None or res is None:
            continue
        entries.append(skip_record(
            target=target, stack_name=node.name, stack_id=node.stack_id, root=snap.root.name,
            logical_id=logical, resource_type=res.resource_type, physical_id=res.physical_id,
            region=snap.region, account=snap.account, reason=res.reason or "skipped",
            skipped_at=rc.clock().isoformat(), run_id=ev.run_id, evidence_dir=str(ev.dir),
            source="rollback-stuck"))
    where = ledger.record(ledger.resolve(path), entries)
    ev.journal.append("ledger_skips", ids=[e["id"] for e in entries], ledger=str(where))
    rc.progress(f"{len(entries)} skip(s) open in {where}: `recover reconcile {snap.root.name}` "
                "brings them back in line with the template")


def _skip_note(plan: RollbackPlan) -> str:
    return f", skipping {', '.join(plan.skips)}" if plan.skips else " (no skips)"


@needs_of(take_snapshot, read_templates, object_exists, run_restore, StackWatcher)
def apply_plan(rc: RunContext, plan: Plan) -> Result:
    """`recover apply`: run exactly the saved plan if the stack has not moved since."""
    with open_evidence(rc, "apply", plan.stack) as ev:
        ev.write_json("plan.json", plan.to_dict())
        snap = read_tree(rc, plan.stack_id)
        calls, reached = checked_calls(rc, ev, plan, snap, f"recover rollback-stuck {plan.stack}")
        accept = plan.settings.get("apply_accept") or {}
        artifact_flow.check_planned_uploads(
            rc, ev, [c for i, c in enumerate(calls) if i not in reached],
            list(plan.settings.get("restores") or []),
            artifact_flow.Acceptance(unverified=bool(accept.get("unverified")),
                                     substitute=bool(accept.get("substitute"))))
        prompts.confirm_or_abort(rc, ev.journal, f"Run these {len(calls)} call(s)?")
        executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
        s3 = rc.aws.client("s3")
        for i, call in enumerate(calls):
            if i in reached:
                continue
            if call.operation in ("PutObject", "CopyObject") and object_exists(
                    s3, call.params["Bucket"], call.params["Key"]):
                ev.journal.append("skip_restore", key=f"s3://{call.params['Bucket']}/"
                                  f"{call.params['Key']}", why="object exists now")
                continue
            recheck(lambda s: read_tree(rc, s), plan.stack_id, snap)
            if call.operation in ("PutObject", "CopyObject"):
                run_restore(executor, s3, call)  # a 412 is told apart and journaled there
            else:
                executor.run(call)
        if rc.options.dry_run or not plan.settings.get("wait", True):
            status = snap.root.info.status if rc.options.dry_run else "UPDATE_ROLLBACK_IN_PROGRESS"
            data = {"final_status": status, "dry_run": rc.options.dry_run,
                    "calls": [c.to_dict() for c in calls], "evidence_dir": str(ev.dir)}
            ev.finish(status, 0)
            return Result(command="apply", data=data)
        watch = follow(rc, snap, timeout=float(plan.settings.get("timeout", 3600)),
                       poll_interval=float(plan.settings.get("poll_interval", 3.0)))
        code = ExitCode.OK if watch.final_status == DONE else ExitCode.FAILURE_FOUND
        ev.finish(watch.final_status, int(code))
        data = {"final_status": watch.final_status, "timed_out": watch.timed_out,
                "runbook": plan.runbook, "calls": [c.to_dict() for c in calls],
                "new_failures": sorted(f"{e.stack_name}.{e.logical_id}: {e.reason}"
                                       for e in watch.events if e.status == "UPDATE_FAILED"),
                "evidence_dir": str(ev.dir), "api_calls": rc.aws.counter.as_dict()}
        return Result(command="apply", data=data, exit_code=code)


def _render_done(console: Any, result: Result) -> None:
    d = result.data
    console.print(f"[bold]final status:[/] {d['final_status']}"
                  + (" [yellow](timed out while following)[/]" if d.get("timed_out") else ""))
    for r in d["rounds"]:
        console.print(f"  round {r['number']}: skipped {len(r['skipped'])}, restored "
                      f"{len(r['restored'])}, retried {len(r['retried'])} → {r['final_status']}")
    for s in d["skipped"]:
        console.print(f"[yellow]skipped[/] {s['target']}: {s['leaves_inconsistent']}\n"
                      f"  follow-up: {s['follow_up']}", highlight=False)
    for r in d["restored"]:
        where = f"{r['function_name']}: s3://{r['bucket']}/{r['key']}"
        if r.get("written_by") in ("other", "unknown"):
            whose = "another writer's" if r["written_by"] == "other" else "an"
            console.print(f"[yellow]found[/] {where}\n  {whose} object is at the key "
                          f"(sha256 {r.get('sha256')}); left untouched", highlight=False)
            continue
        lost = " — written by recover, its answer was lost" if r.get("answer_lost") else ""
        console.print(f"[green]restored[/] {where}\n"
                      f"  from {r['source']} ({r['verification']}){lost}", highlight=False)
    print_resumed(console, d.get("resumed"))
    for command in d.get("next") or []:
        console.print(f"next: [bold]{command}[/]", highlight=False, soft_wrap=True)
    console.print(f"[dim]evidence: {d['evidence_dir']}[/]")
