"""The round driver: the one skeleton the stack runbooks share, with a hook for each step
that differs between them (docs/explanation/design.md, "The round driver").

Round n (at most max_rounds):
  read the stack tree → follow an operation an earlier run of ours left running (round 1) →
  state gate (already done: say so; not the status the runbook starts from: refuse) →
  diagnose and show it → stop when the same resources failed again and nothing changed →
  check the flags → plan (gather what the plan needs, then the pure planner) → settle what the
  plan leaves open (flags; prompts on a terminal; unattended: exit 4 naming the flag) →
  prepare (what must exist before the stack call: restored objects, captured orphans) and
  build the calls → show every call → dry run: save the plan and stop → confirm →
  re-check the stack → act and follow → next round, or stop.

A runbook subclasses `Rounds` and fills in the hooks; the driver owns the order, the evidence
files of each round, the refusals and the dry run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.act.plan import Plan, precondition_changes, preconditions_of
from recover.aws.snapshot import SnapshotOptions, take_snapshot
from recover.decide.diagnose import Diagnosis, diagnose
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.errors import NeedsDecisionError, PreconditionChangedError, RecoverError
from recover.run.evidence import EvidenceRun
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.resume import RESUME_HINT, PriorRuns
from recover.run.services import open_evidence, resume_from
from recover.runbooks.render import decisions_table, show_calls
from recover.ui import prompts
from recover.ui.diagnosis import render_diagnosis


class Undecided(Protocol):
    target: str
    question: str
    flags: Sequence[str]


class RoundPlan(Protocol):
    """What the driver reads of a runbook's plan (RollbackPlan, DeletePlan)."""

    undecided: Sequence[Any]
    blocked: str
    decisions: Sequence[Any]

    def to_dict(self) -> dict[str, Any]: ...


def read_tree(rc: RunContext, stack: str) -> StackSnapshot:
    """The stack tree with the events of its last operation: what every runbook plans from."""
    return take_snapshot(rc.aws, stack, clock=rc.clock,
                         options=SnapshotOptions(events="last-operation"))


def needs_decision(undecided: Sequence[Undecided]) -> NeedsDecisionError:
    """Unattended, the first open question ends the run (exit 4) naming the flags that settle
    it, and the others are listed."""
    first = undecided[0]
    others = "; ".join(u.target for u in undecided[1:])
    return NeedsDecisionError(first.question + (f" (also undecided: {others})" if others else ""),
                              flag=" or ".join(first.flags))


def recheck(read: Callable[[str], StackSnapshot], subject: str, planned: StackSnapshot) -> None:
    """Right before the first change: the stack tree must be as planned (status, failed set)."""
    changes = precondition_changes(preconditions_of(planned), preconditions_of(read(subject)))
    if changes:
        raise PreconditionChangedError("the stack changed since it was read: " + "; ".join(changes))


@dataclass
class SavedPlan:
    """A dry run's plan file and what its result says of it."""

    plan: Plan
    calls: list[Call]
    message: str


def save_dry_run(rc: RunContext, ev: EvidenceRun, executor: Executor, calls: Sequence[Call], *,
                 runbook: str, snap: StackSnapshot, decisions: list[dict[str, Any]],
                 settings: dict[str, Any], plan_out: Path | None,
                 preconditions: dict[str, Any] | None = None, note: str = "") -> SavedPlan:
    """Record the calls (a dry-run executor sends nothing), save the plan in the evidence and
    at --plan-out, and say so."""
    for call in calls:
        executor.run(call)
    plan = Plan(runbook=runbook, stack=snap.root.name, stack_id=snap.root_id,
                region=snap.region, account=snap.account, created_at=rc.clock(),
                preconditions=preconditions or preconditions_of(snap),
                calls=list(executor.would_run), decisions=decisions, settings=settings)
    ev.write_json("plan.json", plan.to_dict())
    if plan_out:
        plan.save(plan_out)
    message = "dry run: nothing was changed" + note + (
        f"; plan written to {plan_out}" if plan_out else "")
    return SavedPlan(plan, list(executor.would_run), message)


@dataclass
class RoundLimits:
    max_rounds: int = 3
    plan_out: Path | None = None


@dataclass
class Rounds(ABC):
    """One run of a stack runbook, round by round. Subclasses set the class attributes and
    fill in the hooks; `run()` is the driver."""

    rc: RunContext
    ev: EvidenceRun
    stack: str
    limits: RoundLimits
    executor: Executor = field(init=False)
    prior: PriorRuns = field(init=False)
    resumed: dict[str, Any] | None = field(init=False, default=None)
    final_status: str = field(init=False, default="")

    # its id: the evidence folder's command, the Result's command, the plan's runbook
    runbook: ClassVar[str] = ""
    stuck: ClassVar[str] = ""  # the status the runbook starts from
    done: ClassVar[str] = ""  # the status it ends in
    in_flight: ClassVar[tuple[str, ...]] = ()  # statuses of an operation still running
    purpose: ClassVar[str] = ""  # "continues a rollback from ...", for the refusal

    @classmethod
    def start(cls, rc: RunContext, stack: str, limits: RoundLimits, opts: Any) -> Result:
        """Run the runbook on `stack` in its own evidence folder."""
        with open_evidence(rc, cls.runbook, stack) as ev:
            result = cls(rc, ev, stack, limits, opts).run()  # type: ignore[call-arg]
            ev.finish(result.data.get("final_status") or "finished", int(result.exit_code))
            return result

    def run(self) -> Result:
        rc = self.rc
        self.executor = Executor(rc.aws, self.ev.journal, dry_run=rc.options.dry_run,
                                 log=self.ev.log)
        self.prior = resume_from(rc, self.ev)
        self.resumed = self.prior.summary() if self.prior else None
        previous: frozenset[tuple[str, str, str]] | None = None
        for number in range(1, self.limits.max_rounds + 1):
            rc.progress(f"round {number}: reading {self.stack} and its nested stacks…")
            snap = self.read_first() if number == 1 else self.read(self.subject)
            self.ev.write_json(f"snapshot-round{number}.json", snap)
            self.ev.set(stack_id=snap.root_id)
            if number == 1:
                followed = self.resume(snap)
                if followed is None:  # following our earlier operation timed out
                    break
                snap = followed
            status = self.final_status = snap.root.info.status
            if status == self.done and number == 1:
                return self.finished_already(snap)
            if status != self.stuck:
                if number == 1:
                    raise RecoverError(
                        f"stack {snap.root.name} is {status}; {self.runbook} {self.purpose}",
                        code="unsupported_state", exit_code=ExitCode.FAILURE_FOUND,
                        hint=RESUME_HINT if status in self.in_flight else
                        f"run `recover diagnose {self.stack}` for the runbook that fits")
                break
            diag = diagnose(snap)
            failed = diag.failures()
            if previous is not None and failed == previous and self.changed_nothing():
                rc.progress("the same resources failed again for the same reasons and nothing "
                            "changed: stopping")
                break
            previous = failed
            diag_data = dict(diag.to_dict(snap), evidence_dir=str(self.ev.dir))
            diag_data.pop("next")  # this is the runbook diagnose would name: no "next" here
            self.ev.write_json(f"diagnosis-round{number}.json", diag_data)
            render_diagnosis(rc.console, Result(command=self.runbook, data=diag_data))
            self.check_flags(snap, diag, number)
            plan = self.plan(snap, diag, number)
            if plan.undecided:
                if not rc.interactive:
                    raise needs_decision(plan.undecided)
                plan = self.ask(snap, diag, plan)
            if plan.blocked:
                raise RecoverError(plan.blocked, code="service_role_missing",
                                   exit_code=ExitCode.FAILURE_FOUND,
                                   hint=f"recover bootstrap-role {snap.root.name}")
            self.ev.write_json(f"plan-round{number}.json", plan.to_dict())
            rc.console.print(decisions_table(f"{snap.root.name}: round {number}",
                                             [d.to_dict() for d in plan.decisions]))
            plan, calls = self.prepare(snap, diag, plan, number)
            done_before = list(self.executor.would_run) if rc.options.dry_run else []
            show_calls(rc.console, done_before + calls,
                       "The calls, in order:" if len(done_before + calls) > 1 else "The call:")
            self.begin_round(snap, plan, calls, number)
            if rc.options.dry_run:
                return self.dry_run_result(snap, plan, calls)
            prompts.confirm_or_abort(rc, self.ev.journal, self.question(snap, plan))
            recheck(self.read, self.subject, snap)
            if not self.act(snap, plan, calls, number):
                break
        return self.result()

    # --- hooks -------------------------------------------------------------------------------

    @property
    def subject(self) -> str:
        """What the stack is read by after round 1 (its name, or its id once it may be deleted)."""
        return self.stack

    def read_first(self) -> StackSnapshot:
        return self.read(self.stack)

    @abstractmethod
    def read(self, subject: str) -> StackSnapshot:
        """The stack tree as it is now (gather)."""

    def resume(self, snap: StackSnapshot) -> StackSnapshot | None:
        """Round 1: follow an operation an earlier run of ours started that is still running,
        then read again. None stops the run (following timed out)."""
        return snap

    @abstractmethod
    def finished_already(self, snap: StackSnapshot) -> Result:
        """Round 1 found the stack already where the runbook takes it."""

    @abstractmethod
    def changed_nothing(self) -> bool:
        """The last round changed nothing that could make the same failures go differently."""

    @abstractmethod
    def check_flags(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> None:
        """Round 1: refuse flags that cannot apply; later rounds: drop those no longer needed."""

    @abstractmethod
    def plan(self, snap: StackSnapshot, diag: Diagnosis, number: int) -> Any:
        """Gather what the planner needs, then plan (pure)."""

    @abstractmethod
    def ask(self, snap: StackSnapshot, diag: Diagnosis, plan: Any) -> Any:
        """On a terminal: settle each open question, then plan again."""

    @abstractmethod
    def prepare(self, snap: StackSnapshot, diag: Diagnosis, plan: Any,
                number: int) -> tuple[Any, list[Call]]:
        """What must happen before the stack call, and the calls this round makes."""

    @abstractmethod
    def begin_round(self, snap: StackSnapshot, plan: Any, calls: list[Call], number: int) -> None:
        """Record the round about to run (its data in the result)."""

    @abstractmethod
    def question(self, snap: StackSnapshot, plan: Any) -> str:
        """The confirmation asked before the first change of the round."""

    @abstractmethod
    def act(self, snap: StackSnapshot, plan: Any, calls: list[Call], number: int) -> bool:
        """Make the calls and follow them; True to plan another round."""

    @abstractmethod
    def dry_run_result(self, snap: StackSnapshot, plan: Any, calls: list[Call]) -> Result:
        """Save the plan (save_dry_run) and say what would have happened."""

    @abstractmethod
    def result(self) -> Result:
        """The run's result once the rounds are over."""
