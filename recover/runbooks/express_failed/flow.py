"""express-failed: a stack wedged in UPDATE_FAILED by a failed EXPRESS-mode update.

One round: snapshot → the stack must be UPDATE_FAILED after an EXPRESS update (else refuse) →
read the last stable template the engineer names (--template) and the current one (GetTemplate)
→ plan (pure: the EXPRESS UpdateStack, the stack's parameters by UsePreviousValue and its
capabilities, the difference it undoes) → confirm → re-check the stack → UpdateStack with
DeploymentConfig Mode=EXPRESS and a ClientRequestToken → follow to UPDATE_COMPLETE.
RollbackStack and classic updates are never proposed: AWS refuses both for such a stack
(docs/reference/aws-behaviour.md#express-deployment-mode).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recover.act.calls import Call
from recover.aws.template_source import TemplateSource, read_template_source
from recover.decide.diagnose import Diagnosis
from recover.decide.express_plan import (
    EXPRESS,
    STUCK,
    TEMPLATE_FLAG,
    ExpressPlan,
    is_express_wedge,
    plan_replay,
)
from recover.model.cfn_template import TemplateError, parse_template
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.errors import AbortedError, InputError, RecoverError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.resume import token_to_reuse, tokens_seen
from recover.run.services import read_templates, source_deps
from recover.runbooks.driver import RoundLimits, Rounds, read_tree, save_dry_run
from recover.runbooks.express_failed.discovery import Discovery, discover
from recover.runbooks.follow import follow, follow_earlier_run
from recover.ui import prompts

EXPRESS_FAILED = "express-failed"  # the runbook's id (recover/runbooks/express_failed/__init__.py)
DONE = "UPDATE_COMPLETE"
RUNNING = ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")


@dataclass
class ExpressOptions:
    template: str | None = None
    role_arn: str | None = None
    wait: bool = True
    timeout: float = 3600.0
    poll_interval: float = 3.0
    plan_out: Path | None = None
    trail: str = "lookup"  # where CloudTrail is read when no template is given


def run(rc: RunContext, stack: str, opts: ExpressOptions) -> Result:
    # One round: a replay that fails again leaves a new UPDATE_FAILED whose cause is for a
    # person to read (the stable template no longer applies), not for another replay.
    return ExpressRounds.start(rc, stack, RoundLimits(1, opts.plan_out), opts)


def demo(rc: RunContext, stack: str, options: dict[str, Any]) -> Result:
    """`recover demo` on a sandbox scenario (quick polling; options only when unattended)."""
    return run(rc, stack, ExpressOptions(poll_interval=0.5, timeout=600, **options))


@dataclass
class ExpressRounds(Rounds):
    opts: ExpressOptions = field(default_factory=ExpressOptions)
    source: TemplateSource | None = field(init=False, default=None)
    replay: dict[str, Any] = field(init=False, default_factory=dict)
    timed_out: bool = field(init=False, default=False)
    template_file: str = field(init=False, default="")
    discovery: Discovery | None = field(init=False, default=None)

    runbook = EXPRESS_FAILED
    stuck = STUCK
    done = DONE
    in_flight = RUNNING
    purpose = f"replays the last stable template of a stack {STUCK} after an EXPRESS update"

    def read(self, subject: str) -> StackSnapshot:
        return read_tree(self.rc, subject)

    def resume(self, snap: StackSnapshot) -> StackSnapshot | None:
        watch = follow_earlier_run(self.rc, self.ev, self.prior, snap, "UpdateStack", RUNNING,
                                   "the replay an earlier run started",
                                   timeout=self.opts.timeout,
                                   poll_interval=self.opts.poll_interval)
        if watch is None:
            return snap
        if watch.timed_out:
            self.final_status, self.timed_out = watch.final_status, True
            return None
        return read_tree(self.rc, self.stack)

    def finished_already(self, snap: StackSnapshot) -> Result:
        msg = f"{snap.root.name} is already {DONE}: nothing to do"
        return Result(command=EXPRESS_FAILED, data={
            "final_status": DONE, "replay": None, "evidence_dir": str(self.ev.dir),
            "resumed": self.resumed, "message": msg}, messages=[msg])

    def changed_nothing(self) -> bool:
        return not self.replay

    def check_flags(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> None:
        if not is_express_wedge(snap):
            mode = snap.root.info.deployment_mode or "not reported"
            raise RecoverError(
                f"stack {snap.root.name} is {STUCK} but its last operation's deployment mode "
                f"is {mode}, not {EXPRESS}; express-failed does not apply",
                code="unsupported_state", exit_code=ExitCode.FAILURE_FOUND,
                hint=f"run `recover diagnose {self.stack}` for the runbook that fits")

    def plan(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> ExpressPlan:
        if self.opts.template and self.source is None:
            self.source = read_template_source(self.rc.aws, self.opts.template)
            self._keep(self.source)
        elif not self.opts.template and self.source is None and self.discovery is None:
            self._discover(snap)
        return self._plan(snap)

    def _discover(self, snap: StackSnapshot) -> None:
        """No --template: the last completed deploy's template, if CloudTrail and the stack's
        events prove it (recover/decide/stable_template.py); else the question stays open."""
        rc = self.rc
        rc.progress(f"looking for the last completed deploy of {snap.root.name} in CloudTrail "
                    f"({self.opts.trail})")
        self.discovery = discover(rc.aws, source_deps(rc), self.opts.trail,
                                  region=rc.options.region or rc.aws.region,
                                  stack_name=snap.root.name, stack_id=snap.root_id)
        self.ev.write_json("stable-template-discovery.json", self.discovery.to_dict())
        self.ev.journal.append("stable_template_discovery", proven=self.discovery.proven,
                               reason=self.discovery.reason,
                               template=self.discovery.to_dict()["template"])
        if self.discovery.source is not None:
            self.source = self.discovery.source
            self._keep(self.source)
        rc.console.print(("[bold]From CloudTrail:[/] " if self.discovery.proven else
                          "[yellow]CloudTrail does not prove the last stable template:[/] ")
                         + self.discovery.reason, highlight=False)

    def _keep(self, source: TemplateSource) -> None:
        """The template exactly as read, in the evidence: the call's --template-body file."""
        self.ev.write_json("stable-template.json", {"source": source.spec,
                                                    "version_id": source.version_id})
        suffix = ".json" if source.body.lstrip().startswith("{") else ".yaml"
        self.template_file = str(self.ev.write_blob(f"stable-template{suffix}",
                                                    source.body.encode("utf-8")))

    def _plan(self, snap: StackSnapshot) -> ExpressPlan:
        current = parse_template(read_templates(self.rc, snap.root_id) or "{}")
        stable = None
        if self.source is not None:
            try:
                stable = parse_template(self.source.body)
            except TemplateError as exc:
                raise InputError(f"--template {self.source.spec}: {exc}") from exc
        found = self.discovery.found if self.discovery and self.discovery.proven else None
        plan = plan_replay(snap, source=self._source_label(), body=self.source.body
                           if self.source else None, stable=stable, current=current,
                           role_arn=self.opts.role_arn,
                           capabilities=found.capabilities if found else None,
                           unknown=self.discovery.reason if self.discovery and not found
                           else "")
        if plan.problems:
            raise RecoverError("cannot replay the template: " + "; ".join(plan.problems),
                               code="template_not_replayable", exit_code=ExitCode.FAILURE_FOUND)
        return plan

    def _source_label(self) -> str | None:
        if self.source is None:
            return None
        label = self.source.spec
        if self.source.version_id and "versionId=" not in self.source.spec:
            label = f"{self.source.spec} (version {self.source.version_id})"
        if self.discovery is not None and self.discovery.source is self.source:
            label += f", found by {self.discovery.found.label}"
        return label

    def ask(self, snap: StackSnapshot, diag: Diagnosis, plan: ExpressPlan) -> ExpressPlan:
        rc = self.rc
        rc.console.print(
            "\n[bold]The last stable template[/] is the one the stack had before the failed "
            "EXPRESS update: your release's earlier build, or an earlier version of the S3 "
            "object the deploy uploaded (s3://BUCKET/KEY?versionId=V).", highlight=False)
        answer = prompts.text(rc, self.ev.journal, "Template to replay (PATH or s3://…; "
                              "empty to abort):", flag=TEMPLATE_FLAG)
        if not answer:
            raise AbortedError("no template given; nothing was changed")
        self.source = read_template_source(rc.aws, answer)
        self._keep(self.source)
        return self._plan(snap)

    def prepare(self, snap: StackSnapshot, diag: Diagnosis, plan: ExpressPlan,
                number: int) -> tuple[ExpressPlan, list[Call]]:
        params = dict(plan.params)
        params["ClientRequestToken"] = token_to_reuse(
            self.prior, "UpdateStack", params, tokens_seen(snap)) \
            or f"recover-{self.ev.run_id[:8]}-express"
        call = Call("cloudformation", "UpdateStack", params,
                    f"replay the last stable template of {snap.root.name} in EXPRESS mode "
                    f"(from {plan.source})",
                    files={"TemplateBody": self.template_file} if self.template_file else {})
        self.rc.console.print("[bold]What the replay changes back[/] (stable vs current "
                              "template):", highlight=False)
        for line in plan.diff.lines():
            self.rc.console.print(f"  {line}", highlight=False)
        return plan, [call]

    def begin_round(self, snap: StackSnapshot, plan: ExpressPlan, calls: list[Call],
                    number: int) -> None:
        undone = {**plan.diff.to_dict(), **failed_update_changes(snap)}
        self.replay = {"token": calls[0].params["ClientRequestToken"], "source": plan.source,
                       "undone": undone,
                       "parameters": [p["ParameterKey"] for p in
                                      calls[0].params.get("Parameters", [])],
                       "capabilities": calls[0].params.get("Capabilities", []),
                       "final_status": ""}
        # What the failed update had changed that the replay undoes, kept before anything runs.
        self.ev.write_json("undone.json", undone)
        self.ev.journal.append("replay_undoes", **undone)

    def question(self, snap: StackSnapshot, plan: ExpressPlan) -> str:
        return (f"Replay the template from {plan.source} on {snap.root.name} with UpdateStack "
                "in EXPRESS mode?")

    def act(self, snap: StackSnapshot, plan: ExpressPlan, calls: list[Call], number: int) -> bool:
        rc, opts = self.rc, self.opts
        self.executor.run(calls[0])
        if not opts.wait:
            self.final_status = "UPDATE_IN_PROGRESS"
            return False
        watch = follow(rc, snap, timeout=opts.timeout, poll_interval=opts.poll_interval)
        self.final_status = self.replay["final_status"] = watch.final_status
        self.timed_out = watch.timed_out
        self.replay["new_failures"] = sorted(
            f"{e.stack_name}.{e.logical_id}: {e.reason}" for e in watch.events
            if e.status.endswith("_FAILED") and e.logical_id != e.stack_name)
        self.ev.journal.append("round_end", round=number, final_status=watch.final_status,
                               timed_out=watch.timed_out)
        return False

    def dry_run_result(self, snap: StackSnapshot, plan: ExpressPlan, calls: list[Call]) -> Result:
        opts = self.opts
        saved = save_dry_run(
            self.rc, self.ev, self.executor, calls, runbook=EXPRESS_FAILED, snap=snap,
            decisions=[d.to_dict() for d in plan.decisions], plan_out=opts.plan_out,
            settings={"wait": opts.wait, "timeout": opts.timeout,
                      "poll_interval": opts.poll_interval, "source": plan.source,
                      "undone": plan.diff.to_dict()})
        data = {"dry_run": True, "final_status": snap.root.info.status, "replay": self.replay,
                "calls": [c.to_dict() for c in saved.calls],
                "plan_file": str(opts.plan_out) if opts.plan_out else None,
                "evidence_dir": str(self.ev.dir)}
        return Result(command=EXPRESS_FAILED, data=data, exit_code=ExitCode.OK,
                      messages=[saved.message])

    def result(self) -> Result:
        ok = self.final_status == DONE or (not self.opts.wait and bool(self.replay))
        data = {"final_status": self.final_status, "replay": self.replay or None,
                "timed_out": self.timed_out, "evidence_dir": str(self.ev.dir),
                "resumed": self.resumed, "api_calls": self.rc.aws.counter.as_dict()}
        return Result(command=EXPRESS_FAILED, data=data,
                      exit_code=ExitCode.OK if ok else ExitCode.FAILURE_FOUND,
                      human=render_done)


def failed_update_changes(snap: StackSnapshot) -> dict[str, list[str]]:
    """From the failed update's own events: the resources it had already created or updated
    (`applied`) and those whose change failed (`failed`)."""
    events = [e for e in snap.root.events if not e.is_stack_event]
    applied = sorted({e.logical_id for e in events
                      if e.status in ("UPDATE_COMPLETE", "CREATE_COMPLETE")})
    failed = sorted({e.logical_id for e in events if e.status.endswith("_FAILED")})
    return {"applied": applied, "failed": failed}


def render_done(console: Any, result: Result) -> None:
    d = result.data
    console.print(f"[bold]final status:[/] {d['final_status']}"
                  + (" [yellow](timed out while following)[/]" if d.get("timed_out") else ""))
    replay = d.get("replay") or {}
    if replay:
        console.print(f"replayed {replay['source']} in EXPRESS mode", highlight=False)
        undone = replay.get("undone") or {}
        for key, label in (("changed", "restored to the stable definition"),
                           ("added", "created again"), ("removed", "deleted"),
                           ("applied", "the failed update had already changed")):
            if undone.get(key):
                console.print(f"  {label}: {', '.join(undone[key])}", highlight=False)
        for failure in replay.get("new_failures") or []:
            console.print(f"[red]failed[/] {failure}", highlight=False)
    console.print(f"[dim]evidence: {d['evidence_dir']}[/]")
