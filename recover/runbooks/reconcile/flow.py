"""reconcile: one pass over the open skips of a stack.

read the tree → the open skips (the ledger, recover's evidence of this stack, --resource) →
DetectStackResourceDrift for each (gather) → plan (pure: close / REVERT_DRIFT / by hand) →
close what is IN_SYNC → CreateChangeSet in REVERT_DRIFT mode (executor: journaled, stopped by
--dry-run; it changes no resource) → show its changes → execute only after a confirmation or
--execute → re-check the stack → ExecuteChangeSet → follow → detect again and close what is in
sync. When drift detection or REVERT_DRIFT is not available the run says so (output, evidence)
and gives the plain path (docs/reference/aws-behaviour.md#drift-aware-change-sets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.aws.drift import (
    detect_resource_drift,
    existing_change_set,
    sdk_has_revert_drift,
    wait_change_set,
)
from recover.decide.reconcile import (
    BY_HAND,
    CLOSE,
    CLOSED,
    PLAIN,
    REVERT,
    ReconcilePlan,
    beyond_skips,
    change_set_params,
    open_skips,
    parse_target,
    plan_reconcile,
    skip_record,
    skips_in_journal,
)
from recover.model.drift import IN_SYNC, ResourceDrift
from recover.model.stack import StackSnapshot
from recover.model.statuses import IN_PROGRESS
from recover.orphans import ledger
from recover.run.context import RunContext
from recover.run.errors import NeedsDecisionError, RecoverError, translate_aws_error
from recover.run.evidence import EvidenceRun, read_journal
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.resume import (
    PriorRuns,
    same_request,
    token_to_reuse,
    tokens_seen,
)
from recover.run.services import open_evidence, resume_from
from recover.runbooks.driver import read_tree, recheck, save_dry_run
from recover.runbooks.follow import follow, follow_earlier_run
from recover.ui import prompts
from recover.ui.progress import print_resumed

RECONCILE = "reconcile"
# CreateChangeSet needs a stack that can be updated (docs/reference/aws-behaviour.md#stack-statuses)
UPDATABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE")
EXECUTE_FLAG = "--execute or --no-execute"
BEYOND_FLAG = "--revert-all-drift"


@dataclass
class ReconcileOptions:
    resources: list[str] = field(default_factory=list)
    execute: bool | None = None
    # the change set may also revert drift on resources no skip names: only with this flag
    # when --execute decides unattended (or interactively without seeing them first)
    revert_all_drift: bool = False
    ledger: Path | None = None
    wait: bool = True
    timeout: float = 3600.0
    poll_interval: float = 3.0
    plan_out: Path | None = None


def run(rc: RunContext, stack: str, opts: ReconcileOptions) -> Result:
    with open_evidence(rc, RECONCILE, stack) as ev:
        result = Reconcile(rc, ev, stack, opts).run()
        ev.finish(result.data.get("final_status") or "finished", int(result.exit_code))
        return result


def demo(rc: RunContext, stack: str, options: dict[str, Any]) -> Result:
    """`recover demo`: the demo's skips go beside its evidence, never into the user's ledger."""
    return run(rc, stack, ReconcileOptions(poll_interval=0.5, timeout=600,
                                           ledger=rc.evidence_root / "demo-orphans.json",
                                           **options))


@dataclass
class Reconcile:
    rc: RunContext
    ev: EvidenceRun
    stack: str
    opts: ReconcileOptions
    path: Path = field(init=False)
    executor: Executor = field(init=False)
    closed: list[str] = field(init=False, default_factory=list)
    change_set: dict[str, Any] = field(init=False, default_factory=dict)
    final_status: str = field(init=False, default="")
    prior: PriorRuns = field(init=False, default_factory=PriorRuns)

    def run(self) -> Result:
        rc = self.rc
        self.path = ledger.resolve(self.opts.ledger)
        self.executor = Executor(rc.aws, self.ev.journal, dry_run=rc.options.dry_run,
                                 log=self.ev.log)
        self.prior = resume_from(rc, self.ev)
        snap = self.resume(read_tree(rc, self.stack))
        self.ev.write_json("snapshot.json", snap)
        self.ev.set(stack_id=snap.root_id)
        status = self.final_status = snap.root.info.status
        if status in IN_PROGRESS:
            raise RecoverError(f"stack {snap.root.name} is {status}: wait until it ends",
                               code="unsupported_state", exit_code=ExitCode.FAILURE_FOUND)
        if status == "UPDATE_ROLLBACK_FAILED":
            raise RecoverError(f"stack {snap.root.name} is {status}: finish the rollback first",
                               code="unsupported_state", exit_code=ExitCode.FAILURE_FOUND,
                               hint=f"recover rollback-stuck {self.stack}")
        entries = self.open_entries(snap)
        if not entries:
            msg = f"no open skips for {snap.root.name}: nothing to reconcile"
            return Result(command=RECONCILE, data={
                "final_status": status, "skips": [], "closed": [], "change_set": None,
                "evidence_dir": str(self.ev.dir), "ledger": str(self.path), "message": msg,
                "resumed": self.prior.summary() if self.prior else None},
                messages=[msg])
        drifts = self.detect(snap, entries)
        self.ev.write_json("drift-before.json", [d.to_dict() for _, d in drifts])
        plan = plan_reconcile(drifts, root_id=snap.root_id,
                              revert_unavailable=self.revert_unavailable())
        if plan.fallback:
            self.fall_back(plan.fallback)
        self.ev.write_json("plan.json", plan.to_dict())
        self.show(plan)
        self.close([v.entry_id for v in plan.verdicts if v.action == CLOSE])
        if plan.to_revert:
            plan = self.revert(snap, plan, drifts)
            if self.rc.options.dry_run and self.change_set.get("dry_run"):
                return self.change_set.pop("result")
        return self.result(plan)

    def resume(self, snap: StackSnapshot) -> StackSnapshot:
        """An execution an earlier run of ours started is still going: follow it, then go on
        (what it reverted is found in sync and closed)."""
        watch = follow_earlier_run(self.rc, self.ev, self.prior, snap, "ExecuteChangeSet",
                                   IN_PROGRESS, "the change set the earlier run executed",
                                   timeout=self.opts.timeout,
                                   poll_interval=self.opts.poll_interval)
        return snap if watch is None else read_tree(self.rc, snap.root_id)

    # --- gather ---------------------------------------------------------------------------

    def open_entries(self, snap: StackSnapshot) -> list[dict[str, Any]]:
        """The ledger's open skips for this tree, plus skips recover's evidence of the stack
        and --resource name (recorded in the ledger as open, unless this is a dry run)."""
        ids = [n.stack_id for n in snap.nodes]
        known = open_skips(ledger.load(self.path)["orphans"], ids)
        closed_ids = {e["id"] for e in ledger.load(self.path)["orphans"]
                      if e.get("kind") == "skipped" and e.get("state") == CLOSED}
        found: list[dict[str, Any]] = []
        for target, run_dir, when in self.skips_in_evidence(snap):
            found += self.entry_for(snap, target, "evidence", run_dir, when)
        for target in self.opts.resources:
            found += self.entry_for(snap, target, "--resource", str(self.ev.dir), "")
        have = {e["id"] for e in known}
        # an evidence skip already closed stays closed; --resource reopens it on purpose
        new = [e for e in found if e["id"] not in have and (
            e["id"] not in closed_ids or e["source"] == "--resource")]
        new = list({e["id"]: e for e in new}.values())
        if new and not self.rc.options.dry_run:
            ledger.record(self.path, new)
        return known + new

    def skips_in_evidence(self, snap: StackSnapshot) -> list[tuple[str, str, str]]:
        from recover.bundle.collect import read_runs

        runs, _ = read_runs(self.rc.evidence_root, snap, exclude=self.ev.dir)
        out: list[tuple[str, str, str]] = []
        for run in runs:
            journal = read_journal(Path(self.rc.evidence_root) / run.name / "journal.jsonl")
            for target in skips_in_journal(journal):
                out.append((target, str(Path(self.rc.evidence_root) / run.name),
                            str(run.metadata.get("started_at") or "")))
        return out

    def entry_for(self, snap: StackSnapshot, target: str, source: str, run_dir: str,
                  when: str) -> list[dict[str, Any]]:
        stack_name, logical = parse_target(target, snap.root.name)
        node = next((n for n in snap.nodes if n.name == stack_name), None)
        res = next((r for r in node.resources if r.logical_id == logical), None) if node else None
        if node is None or res is None:
            self.rc.progress(f"{target}: not a resource of {snap.root.name} any more; ignored")
            self.ev.journal.append("skip_not_found", target=target, source=source)
            return []
        return [skip_record(
            target=target, stack_name=node.name, stack_id=node.stack_id, root=snap.root.name,
            logical_id=logical, resource_type=res.resource_type, physical_id=res.physical_id,
            region=snap.region, account=snap.account,
            reason=f"skipped by ContinueUpdateRollback ({source})",
            skipped_at=when or self.rc.clock().isoformat(), run_id=self.ev.run_id,
            evidence_dir=run_dir, source=source)]

    def detect(self, snap: StackSnapshot,
               entries: list[dict[str, Any]]) -> list[tuple[dict[str, Any], ResourceDrift]]:
        cfn = self.rc.aws.client("cloudformation")
        out = []
        for e in entries:
            self.rc.progress(f"detecting the drift of {e['target']}…")
            stack = e["stack"]
            out.append((e, detect_resource_drift(
                cfn, stack_id=stack["stack_id"], stack_name=stack["name"],
                logical_id=e["logical_id"], resource_type=e["resource_type"],
                physical_id=e.get("physical_id") or "")))
        unavailable = [d.reason for _, d in out if d.status == "UNAVAILABLE"]
        if unavailable:
            self.fall_back(f"drift detection is not available: {unavailable[0]}")
        return out

    def revert_unavailable(self) -> str:
        import botocore

        if not sdk_has_revert_drift(self.rc.aws.client("cloudformation")):
            return (f"this SDK (botocore {botocore.__version__}) has no CreateChangeSet "
                    "DeploymentMode: drift-aware change sets cannot be created")
        return ""

    def fall_back(self, why: str) -> None:
        self.rc.progress(f"fallback: {why}; proposing the plain path")
        self.ev.journal.append("fallback", why=why)
        fallbacks = list(self.ev.metadata.get("fallbacks") or [])
        self.ev.set(fallbacks=[*fallbacks, why])

    # --- act --------------------------------------------------------------------------------

    def revert(self, snap: StackSnapshot, plan: ReconcilePlan,
               drifts: list[tuple[dict[str, Any], ResourceDrift]]) -> ReconcilePlan:
        rc, root = self.rc, snap.root
        if root.info.status not in UPDATABLE:
            raise RecoverError(f"stack {root.name} is {root.info.status}: CloudFormation creates "
                               "no change set for it", code="unsupported_state",
                               exit_code=ExitCode.FAILURE_FOUND)
        params = change_set_params(
            stack_id=snap.root_id, name=f"recover-reconcile-{self.ev.run_id[:8]}",
            parameters=[k for k, _ in root.info.parameters],
            capabilities=root.info.capabilities, nested=plan.nested,
            token=f"recover-{self.ev.run_id[:8]}-reconcile")
        # An earlier run of ours asked for the same change set: its name and token again, so
        # AWS answers that change set instead of creating a second one.
        earlier = same_request(self.prior, "CreateChangeSet", params,
                               ("ChangeSetName", "ClientToken"))
        if earlier is not None:
            params.update(ChangeSetName=earlier.params["ChangeSetName"],
                          ClientToken=earlier.params.get("ClientToken"))
        name = params["ChangeSetName"]
        call = Call("cloudformation", "CreateChangeSet", params,
                    f"a REVERT_DRIFT change set on {root.name} for "
            f"{', '.join(v.target for v in plan.to_revert)} (creating it changes nothing)")
        if rc.options.dry_run:
            execute = Call("cloudformation", "ExecuteChangeSet", {
                "ChangeSetName": name, "StackName": snap.root_id,
                "ClientRequestToken": f"recover-{self.ev.run_id[:8]}-revert"},
                f"revert the drift of {', '.join(v.target for v in plan.to_revert)}")
            from recover.runbooks.render import show_calls

            calls = [call] + ([execute] if self.opts.execute else [])
            show_calls(rc.console, calls, "The calls, in order:")
            saved = save_dry_run(rc, self.ev, self.executor, calls, runbook=RECONCILE, snap=snap,
                                 decisions=[v.to_dict() for v in plan.verdicts],
                                 settings={"execute": self.opts.execute,
                                           "revert_all_drift": self.opts.revert_all_drift,
                                           "wait": self.opts.wait,
                                           "timeout": self.opts.timeout,
                                           "poll_interval": self.opts.poll_interval},
                                 plan_out=self.opts.plan_out)
            self.change_set = {"dry_run": True, "result": Result(command=RECONCILE, data={
                "dry_run": True, "final_status": root.info.status, "plan": plan.to_dict(),
                "calls": [c.to_dict() for c in saved.calls], "evidence_dir": str(self.ev.dir),
                "ledger": str(self.path)}, messages=[saved.message], human=render)}
            return plan
        try:
            cfn = rc.aws.client("cloudformation")
            found = existing_change_set(cfn, name, snap.root_id) if earlier else None
            if found:
                rc.progress(f"change set {name} of the earlier run exists: using it")
                self.ev.journal.append("resumed_change_set", id=found)
            answer = {"Id": found} if found else self.executor.run(call)
            desc = wait_change_set(cfn, answer["Id"],
                                   poll_interval=min(self.opts.poll_interval, 2.0))
        except (ClientError, ParamValidationError) as exc:
            err = translate_aws_error(exc)
            if err is not None and err.exit_code == ExitCode.AWS_AUTH:
                raise err from exc
            return self.replan(drifts, snap, f"CloudFormation refused the REVERT_DRIFT change "
                               f"set: {err.message if err else exc}")
        self.ev.write_json("change-set.json", desc)
        self.change_set = {"id": desc.get("ChangeSetId"), "name": name,
                           "status": desc.get("Status"), "reason": desc.get("StatusReason"),
                           "changes": [_change(c) for c in desc.get("Changes") or []],
                           "executed": False}
        self.change_set["beyond_skips"] = beyond_skips(plan, self.change_set["changes"])
        self.show_change_set()
        if desc.get("Status") != "CREATE_COMPLETE":
            return self.replan(drifts, snap, "the REVERT_DRIFT change set was not created: "
                               f"{desc.get('StatusReason') or desc.get('Status')}")
        if not self.decide_execute(root.name):
            return plan
        recheck(lambda s: read_tree(rc, s), snap.root_id, snap)
        execute: dict[str, Any] = {"ChangeSetName": desc["ChangeSetId"],
                                   "StackName": snap.root_id}
        # the same execution left in doubt by an earlier run goes again with its token
        execute["ClientRequestToken"] = token_to_reuse(
            self.prior, "ExecuteChangeSet", execute, tokens_seen(snap)) \
            or f"recover-{self.ev.run_id[:8]}-revert"
        self.executor.run(Call("cloudformation", "ExecuteChangeSet", execute,
                               f"revert the drift of "
                               f"{', '.join(v.target for v in plan.to_revert)}"))
        self.change_set["executed"] = True
        if not self.opts.wait:
            self.final_status = "UPDATE_IN_PROGRESS"
            return plan
        watch = follow(rc, snap, timeout=self.opts.timeout, poll_interval=self.opts.poll_interval)
        self.final_status = self.change_set["final_status"] = watch.final_status
        self.ev.journal.append("change_set_end", final_status=watch.final_status,
                               timed_out=watch.timed_out)
        return self.redetect(snap, plan, drifts)

    def decide_execute(self, stack: str) -> bool:
        opts, rc = self.opts, self.rc
        beyond = self.change_set.get("beyond_skips") or []
        if beyond and opts.execute and not opts.revert_all_drift:
            # --execute was decided before anyone saw the change set: it must not revert drift
            # on resources nobody skipped (someone may rely on that change)
            raise NeedsDecisionError(
                f"the REVERT_DRIFT change set {self.change_set['name']} on {stack} would also "
                f"revert the drift of {', '.join(beyond)}, which no skip names; it was created "
                "for review", flag=BEYOND_FLAG)
        if opts.execute is not None:
            self.ev.journal.append("answer", question="execute the change set?",
                                   answer="yes" if opts.execute else "no",
                                   via="--execute" if opts.execute else "--no-execute")
            return opts.execute
        if not rc.interactive:
            raise NeedsDecisionError(
                f"the REVERT_DRIFT change set {self.change_set['name']} was created on {stack} "
                "for review; executing it changes the resources listed", flag=EXECUTE_FLAG)
        also = (f"; it also reverts {', '.join(beyond)}, which no skip names" if beyond else "")
        return prompts.confirm(rc, self.ev.journal, f"Execute change set "
                               f"{self.change_set['name']} on {stack} (reverts the drift "
                               f"shown{also})?", flag="--execute")

    def replan(self, drifts: list[tuple[dict[str, Any], ResourceDrift]], snap: StackSnapshot,
               why: str) -> ReconcilePlan:
        self.fall_back(why)
        plan = plan_reconcile(drifts, root_id=snap.root_id, revert_unavailable=why)
        self.ev.write_json("plan-fallback.json", plan.to_dict())
        self.show(plan)
        return plan

    def redetect(self, snap: StackSnapshot, plan: ReconcilePlan,
                 drifts: list[tuple[dict[str, Any], ResourceDrift]]) -> ReconcilePlan:
        wanted = {v.entry_id for v in plan.to_revert}
        again = self.detect(snap, [e for e, _ in drifts if e["id"] in wanted])
        self.ev.write_json("drift-after.json", [d.to_dict() for _, d in again])
        after = {e["id"]: d for e, d in again}
        verdicts = []
        for v in plan.verdicts:
            d = after.get(v.entry_id)
            if d is not None and d.status == IN_SYNC:
                v = type(v)(**{**v.to_dict(), "status": IN_SYNC, "action": CLOSE,
                               "why": "reverted by the change set: in sync now",
                               "differences": ()})
            verdicts.append(v)
        self.close([v.entry_id for v in verdicts if v.action == CLOSE
                    and v.entry_id in wanted])
        return ReconcilePlan(verdicts, fallback=plan.fallback, nested=plan.nested)

    def close(self, ids: list[str]) -> None:
        if self.rc.options.dry_run:
            return
        for entry_id in ids:
            ledger.update(self.path, entry_id, state=CLOSED, closed_at=self.rc.clock().isoformat(),
                          closed_by_run=self.ev.run_id, closed_evidence_dir=str(self.ev.dir))
            self.closed.append(entry_id)
            self.ev.journal.append("ledger_closed", id=entry_id)

    # --- show -------------------------------------------------------------------------------

    def show(self, plan: ReconcilePlan) -> None:
        render_verdicts(self.rc.console, plan.to_dict())

    def show_change_set(self) -> None:
        console, cs = self.rc.console, self.change_set
        console.print(f"[bold]change set[/] {cs['name']}: {cs['status']}"
                      + (f" ({cs['reason']})" if cs.get("reason") else ""), highlight=False)
        for c in cs["changes"]:
            console.print(f"  {c['action']:<7} {c['logical_id']} ({c['resource_type']}) drift "
                          f"{c.get('drift_status') or '-'}", highlight=False)
        if cs.get("beyond_skips"):
            console.print(f"  [yellow]also reverts drift no skip names:[/] "
                          f"{', '.join(cs['beyond_skips'])}", highlight=False)

    def result(self, plan: ReconcilePlan) -> Result:
        still = plan.still_open
        code = ExitCode.OK if not still else ExitCode.FAILURE_FOUND
        if self.change_set and not self.change_set.get("executed") and \
                self.change_set.get("status") == "CREATE_COMPLETE":
            code = ExitCode.OK  # --no-execute: created for review, as asked
        messages = [f"{len(still)} skip(s) still open: " + ", ".join(
            f"{v.target} ({v.action})" for v in still)] if still else ["every skip is in sync"]
        data = {"final_status": self.final_status, "plan": plan.to_dict(),
                "change_set": self.change_set or None, "closed": self.closed,
                "still_open": [v.target for v in still], "fallbacks":
                self.ev.metadata.get("fallbacks") or [], "ledger": str(self.path),
                "evidence_dir": str(self.ev.dir), "api_calls": self.rc.aws.counter.as_dict(),
                "resumed": self.prior.summary() if self.prior else None}
        return Result(command=RECONCILE, data=data, exit_code=code, messages=messages,
                      human=render)


def _change(c: dict[str, Any]) -> dict[str, Any]:
    rc = c.get("ResourceChange") or {}
    return {"logical_id": rc.get("LogicalResourceId"), "action": rc.get("Action"),
            "resource_type": rc.get("ResourceType"), "drift_status": rc.get("ResourceDriftStatus"),
            "replacement": rc.get("Replacement")}


def render_verdicts(console: Any, plan: dict[str, Any]) -> None:
    if plan.get("fallback"):
        console.print(f"[yellow]fallback:[/] {plan['fallback']}", highlight=False)
    for v in plan["verdicts"]:
        colour = {CLOSE: "green", REVERT: "cyan", PLAIN: "yellow", BY_HAND: "yellow"}[v["action"]]
        console.print(f"[{colour}]{v['status']:<11}[/] {v['target']} ({v['resource_type']}): "
                      f"{v['action']} — {v['why']}", highlight=False)
        for d in v["differences"]:
            console.print(f"    {d['path']}: expected {d['expected']!r}, actual {d['actual']!r} "
                          f"({d['type']})", highlight=False)
        for line in v["by_hand"]:
            console.print(f"    → {line}", highlight=False, soft_wrap=True)


def render(console: Any, result: Result) -> None:
    d = result.data
    print_resumed(console, d.get("resumed"))
    cs = d.get("change_set") or {}
    if cs and cs.get("executed"):
        console.print(f"[bold]final status:[/] {d['final_status']} (change set {cs['name']} "
                      "executed)", highlight=False)
    elif cs and cs.get("status") == "CREATE_COMPLETE":
        console.print(f"change set {cs['name']} left for review (not executed)", highlight=False)
    if d.get("closed"):
        console.print(f"[green]closed in the ledger:[/] {len(d['closed'])} skip(s)")
    if d.get("still_open"):
        console.print(f"[yellow]still open:[/] {', '.join(d['still_open'])}", highlight=False)
    console.print(f"[dim]ledger: {d.get('ledger')}  evidence: {d['evidence_dir']}[/]",
                  highlight=False)
