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
from recover.act.plan import Plan, precondition_changes, preconditions_of
from recover.act.retry import Backoff, run_retrying
from recover.artifacts.own_write import run_restore
from recover.artifacts.sources import object_exists
from recover.aws.snapshot import SnapshotOptions, take_snapshot
from recover.context import RunContext
from recover.decide.diagnose import Diagnosis, diagnose
from recover.decide.judgement import judge
from recover.decide.rollback_plan import (
    Action,
    Choices,
    RollbackPlan,
    plan_rollback,
    validate_skips,
)
from recover.errors import (
    NeedsDecisionError,
    PreconditionChangedError,
    RecoverError,
    UsageError,
)
from recover.evidence import EvidenceRun
from recover.exit_codes import ExitCode
from recover.explain.taxonomy import ROLLBACK_STUCK, FailureMode
from recover.flows import artifacts as artifact_flow
from recover.flows.follow import follow
from recover.flows.plans import checked_calls
from recover.flows.render import decisions_table, show_calls
from recover.model.stack import StackSnapshot
from recover.result import Result
from recover.resume import (
    RESUME_HINT,
    our_operation_running,
    token_to_reuse,
    tokens_seen,
)
from recover.runs import open_evidence, resume_from
from recover.ui import prompts
from recover.ui.diagnosis import render_diagnosis
from recover.ui.progress import print_resumed

DONE = "UPDATE_ROLLBACK_COMPLETE"
STUCK = "UPDATE_ROLLBACK_FAILED"
RUNNING = ("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")


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


def _snapshot(rc: RunContext, stack: str) -> StackSnapshot:
    return take_snapshot(rc.aws, stack, clock=rc.clock,
                         options=SnapshotOptions(events="last-operation"))


def run(rc: RunContext, stack: str, opts: RollbackOptions) -> Result:
    with open_evidence(rc, ROLLBACK_STUCK, stack) as ev:
        result = _run(rc, stack, opts, ev)
        ev.finish(result.data.get("final_status") or "finished", int(result.exit_code))
        return result


def _decide(rc: RunContext, ev: EvidenceRun, snap: StackSnapshot, diag: Diagnosis,
            choices: Choices) -> RollbackPlan:
    plan = plan_rollback(snap, diag, choices)
    if not plan.undecided:
        return plan
    if not rc.interactive:
        first = plan.undecided[0]
        others = "; ".join(u.target for u in plan.undecided[1:])
        raise NeedsDecisionError(
            f"{first.question}" + (f" (also undecided: {others})" if others else ""),
            flag=" or ".join(first.flags))
    for u in plan.undecided:
        finding = next(f for f in diag.findings if (f.skip_id or f"{f.stack_name}.{f.logical_id}") == u.target)
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
        rc.console.print(f"\n[bold]{u.target}[/] {finding.resource_type} — {finding.reason[:300]}",
                         highlight=False)
        if default:
            rc.console.print(f"[dim]default: {default} — {verdict.reason}[/]", highlight=False)
        answer = prompts.choose(rc, ev.journal, u.question, options, flag=" or ".join(u.flags),
                                default=default)
        if answer == "abort":
            raise RecoverError("aborted by the operator; nothing was changed", code="aborted",
                               exit_code=ExitCode.ABORTED)
        choices.answers[u.target] = answer
    return plan_rollback(snap, diag, choices)


def _run(rc: RunContext, stack: str, opts: RollbackOptions, ev: EvidenceRun) -> Result:
    executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run, log=ev.log)
    choices = Choices(skip=list(opts.skip), skip_unrecoverable=opts.skip_unrecoverable,
                      restore_artifacts=opts.restore_artifacts)
    rounds: list[Round] = []
    skipped: dict[str, dict[str, Any]] = {}
    restored: list[dict[str, Any]] = []
    previous_failed: frozenset[tuple[str, str, str]] | None = None
    final_status = ""
    timed_out = False
    prior = resume_from(rc, ev)
    resumed: dict[str, Any] | None = prior.summary() if prior else None
    for number in range(1, opts.max_rounds + 1):
        rc.progress(f"round {number}: reading {stack} and its nested stacks…")
        snap = _snapshot(rc, stack)
        ev.write_json(f"snapshot-round{number}.json", snap)
        ev.set(stack_id=snap.root_id)
        status = snap.root.info.status
        if number == 1 and status in RUNNING and our_operation_running(
                prior, "ContinueUpdateRollback", snap.root_id, tokens_seen(snap)):
            # Our interrupted run's rollback is still going: follow it rather than refuse.
            rc.progress(f"{snap.root.name} is {status}: the rollback the earlier run continued "
                        "is still going; following it")
            watch = follow(rc, snap, timeout=opts.timeout, poll_interval=opts.poll_interval)
            ev.journal.append("resumed_follow", final_status=watch.final_status,
                              timed_out=watch.timed_out)
            assert resumed is not None
            resumed["followed_to"] = watch.final_status
            if watch.timed_out:
                final_status, timed_out = watch.final_status, True
                break
            snap = _snapshot(rc, stack)
            ev.write_json("snapshot-round1-resumed.json", snap)
            status = snap.root.info.status
        final_status = status
        if status == DONE and number == 1:
            msg = f"{snap.root.name} is already {DONE}: nothing to do"
            if prior.started("ContinueUpdateRollback", snap.root_id):
                msg = f"{snap.root.name} is {DONE}: the earlier run's rollback finished it"
            return Result(command=ROLLBACK_STUCK, data={
                "final_status": status, "rounds": [], "skipped": [], "restored": [],
                "evidence_dir": str(ev.dir), "resumed": resumed, "message": msg},
                messages=[msg])
        if status != STUCK:
            if number == 1:
                raise RecoverError(
                    f"stack {snap.root.name} is {status}; rollback-stuck continues a rollback "
                    f"from {STUCK}", code="unsupported_state", exit_code=ExitCode.FAILURE_FOUND,
                    hint=RESUME_HINT if status in RUNNING else
                    f"run `recover diagnose {stack}` for the runbook that fits")
            break
        diag = diagnose(snap)
        failed = diag.failures()
        if previous_failed is not None and failed == previous_failed and not rounds[-1].skipped \
                and not rounds[-1].restored:
            rc.progress("the same resources failed again for the same reasons and nothing "
                        "changed: stopping")
            break
        previous_failed = failed
        diag_data = dict(diag.to_dict(snap), evidence_dir=str(ev.dir))
        ev.write_json(f"diagnosis-round{number}.json", diag_data)
        render_diagnosis(rc.console, Result(command=ROLLBACK_STUCK, data=diag_data))
        if number == 1:
            errors = validate_skips(snap, list(diag.findings), choices.skip)
            if errors:
                raise UsageError("invalid --skip: " + "; ".join(errors))
        else:  # a requested skip that no longer fails is simply not needed any more
            valid = {f.skip_id for f in diag.findings if f.skippable}
            choices.skip = [s for s in choices.skip if s in valid]
        plan = _decide(rc, ev, snap, diag, choices)
        if plan.blocked:
            raise RecoverError(plan.blocked, code="service_role_missing",
                               exit_code=ExitCode.FAILURE_FOUND,
                               hint=f"recover bootstrap-role {snap.root.name}")
        ev.write_json(f"plan-round{number}.json", plan.to_dict())
        rc.console.print(decisions_table(f"{snap.root.name}: round {number}",
                                     [d.to_dict() for d in plan.decisions]))
        round_restored: list[dict[str, Any]] = []
        if plan.restores:
            outcome = artifact_flow.restore_for_rollback(
                rc, ev, executor, snap, diag, [d.finding for d in plan.restores],
                sources=opts.artifact_sources, trail=opts.trail,
                accept=artifact_flow.Acceptance(unverified=opts.accept_unverified,
                                                substitute=opts.accept_substitute),
                unproven_is_unrecoverable=opts.skip_unrecoverable)
            round_restored = [r.to_dict() for r in outcome.restored]
            restored.extend(round_restored)
            if outcome.unrecoverable:
                targets = [f.skip_id for f in outcome.unrecoverable]
                if opts.skip_unrecoverable or any(
                        choices.answers.get(t) == Action.SKIP for t in targets):
                    for t in targets:
                        choices.answers[t] = Action.SKIP
                elif rc.interactive:
                    for f in outcome.unrecoverable:
                        answer = prompts.choose(
                            rc, ev.journal, f"no bytes found for {f.skip_id}: skip it or abort?",
                            [(Action.SKIP, "skip it and record the follow-up"),
                             ("abort", "abort: change nothing more")],
                            flag=f"--skip {f.skip_id}")
                        if answer == "abort":
                            raise RecoverError("aborted by the operator", code="aborted",
                                               exit_code=ExitCode.ABORTED)
                        choices.answers[f.skip_id] = Action.SKIP
                else:
                    raise NeedsDecisionError(
                        "no recoverable bytes for " + ", ".join(targets) + "; " + outcome.summary,
                        flag="--skip-unrecoverable or --artifact-source")
                plan = plan_rollback(snap, diag, choices)
        params: dict[str, Any] = {"StackName": snap.root_id}
        if plan.skips:
            params["ResourcesToSkip"] = plan.skips
        if opts.role_arn:
            params["RoleARN"] = opts.role_arn
        # The same call left in doubt by an earlier run goes again with its token (at most once).
        token = token_to_reuse(prior, "ContinueUpdateRollback", params, tokens_seen(snap)) \
            or f"recover-{ev.run_id[:8]}-r{number}"
        params["ClientRequestToken"] = token
        skip_note = f", skipping {', '.join(plan.skips)}" if plan.skips else " (no skips)"
        call = Call("cloudformation", "ContinueUpdateRollback", params,
                    f"continue the rollback of {snap.root.name}{skip_note}")
        show_calls(rc.console, [call], "The call:")
        this_round = Round(number, token, plan.skips, round_restored,
                           [d.target for d in plan.decisions if d.action == Action.RETRY])
        for d in plan.decisions:
            if d.action == Action.SKIP:
                skipped[d.target] = d.to_dict()
        if rc.options.dry_run:
            return _dry_run_result(rc, ev, opts, snap, plan, call, rounds + [this_round],
                                   list(skipped.values()), restored, executor)
        prompts.confirm_or_abort(rc, ev.journal, f"Call ContinueUpdateRollback on {snap.root.name}"
                                 f"{skip_note}?")
        _recheck(rc, stack, snap)
        # A role that exists again may not be assumable for a few seconds yet (IAM is
        # eventually consistent, docs/reference/aws-behaviour.md#iam-eventual-consistency): bounded retries, whoever recreated it.
        role_retry = opts.role_retry or (Backoff() if any(
            d.finding.remedied and d.finding.failure_mode == FailureMode.EXECUTION_ROLE_MISSING
            for d in plan.decisions) else None)
        if role_retry is not None:
            run_retrying(executor, call, backoff=role_retry, on_retry=lambda n, d, m: (
                rc.progress(f"the role is not usable yet (attempt {n}): retrying in {d:.0f}s")))
        else:
            executor.run(call)
        rounds.append(this_round)
        if not opts.wait:
            final_status = "UPDATE_ROLLBACK_IN_PROGRESS"
            break
        outcome_watch = follow(rc, snap, timeout=opts.timeout,
                               poll_interval=opts.poll_interval)
        final_status = outcome_watch.final_status
        this_round.final_status = final_status
        this_round.timed_out = outcome_watch.timed_out
        this_round.new_failures = sorted(
            f"{e.stack_name}.{e.logical_id}: {e.reason}" for e in outcome_watch.events
            if e.status == "UPDATE_FAILED")
        ev.journal.append("round_end", round=number, final_status=final_status,
                          timed_out=outcome_watch.timed_out)
        rc.progress(f"round {number}: {snap.root.name} is {final_status}")
        if outcome_watch.timed_out:
            timed_out = True
            break
        if final_status != STUCK:
            break
    ok = final_status == DONE
    code = ExitCode.OK if ok or (not opts.wait and rounds) else ExitCode.FAILURE_FOUND
    data = {"final_status": final_status, "rounds": [r.to_dict() for r in rounds],
            "skipped": list(skipped.values()), "restored": restored, "timed_out": timed_out,
            "evidence_dir": str(ev.dir), "resumed": resumed,
            "api_calls": rc.aws.counter.as_dict()}
    return Result(command=ROLLBACK_STUCK, data=data, exit_code=code, human=_render_done)


def apply_plan(rc: RunContext, plan: Plan) -> Result:
    """`recover apply`: run exactly the saved plan if the stack has not moved since."""
    with open_evidence(rc, "apply", plan.stack) as ev:
        ev.write_json("plan.json", plan.to_dict())
        snap = _snapshot(rc, plan.stack_id)
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
            _recheck(rc, plan.stack_id, snap)
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


def _recheck(rc: RunContext, stack: str, planned: StackSnapshot) -> None:
    """Right before the change: the stack must be as planned (status, failed set)."""
    now = _snapshot(rc, stack)
    changes = precondition_changes(preconditions_of(planned), preconditions_of(now))
    if changes:
        raise PreconditionChangedError("the stack changed since it was read: " + "; ".join(changes))


def _dry_run_result(rc: RunContext, ev: EvidenceRun, opts: RollbackOptions, snap: StackSnapshot,
                    plan: RollbackPlan, call: Call, rounds: list[Round],
                    skipped: list[dict[str, Any]], restored: list[dict[str, Any]],
                    executor: Executor) -> Result:
    executor.run(call)  # dry-run: recorded, not sent
    saved = Plan(runbook=ROLLBACK_STUCK, stack=snap.root.name, stack_id=snap.root_id,
                 region=snap.region, account=snap.account, created_at=rc.clock(),
                 preconditions=preconditions_of(snap), calls=list(executor.would_run),
                 decisions=[d.to_dict() for d in plan.decisions],
                 settings={"wait": opts.wait, "timeout": opts.timeout,
                           "poll_interval": opts.poll_interval,
                           "restores": [r for r in restored]})
    ev.write_json("plan.json", saved.to_dict())
    if opts.plan_out:
        saved.save(opts.plan_out)
    data = {"dry_run": True, "final_status": snap.root.info.status,
            "rounds": [r.to_dict() for r in rounds], "skipped": skipped, "restored": restored,
            "calls": [c.to_dict() for c in executor.would_run],
            "plan_file": str(opts.plan_out) if opts.plan_out else None,
            "evidence_dir": str(ev.dir)}
    return Result(command=ROLLBACK_STUCK, data=data, exit_code=ExitCode.OK,
                  messages=["dry run: nothing was changed"
                            + (f"; plan written to {opts.plan_out}" if opts.plan_out else "")])


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
    console.print(f"[dim]evidence: {d['evidence_dir']}[/]")
