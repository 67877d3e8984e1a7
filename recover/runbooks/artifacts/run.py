"""artifacts: find the missing Lambda code objects of a stack's failed functions (or of the
functions named), find their bytes, verify them, and with `restore` put them back without
overwriting anything. The command (command.py) only parses options."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from recover.act.executor import Executor
from recover.artifacts.find import FailedFunction
from recover.artifacts.sources import parse_source_spec
from recover.cloudtrail.scan import parse_time_spec
from recover.decide.diagnose import diagnose
from recover.run.context import RunContext
from recover.run.errors import UsageError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result
from recover.run.resume import PriorRuns
from recover.run.services import open_evidence, resume_from
from recover.runbooks.artifacts import flow
from recover.runbooks.driver import read_tree
from recover.runbooks.render import show_calls


@dataclass
class ArtifactOptions:
    functions: list[str] = field(default_factory=list)
    trail: str | None = None
    since: str | None = None
    until: str | None = None
    restore: bool = False
    artifact_sources: list[str] = field(default_factory=list)
    accept_substitute: bool = False
    accept_unverified: bool = False


def run(rc: RunContext, stack: str | None, opts: ArtifactOptions) -> Result:
    functions, trail, since, until, restore = (opts.functions, opts.trail, opts.since,
                                               opts.until, opts.restore)
    artifact_sources = opts.artifact_sources
    accept_substitute, accept_unverified = opts.accept_substitute, opts.accept_unverified
    if bool(stack) == bool(functions):
        raise UsageError("give either STACK or --function NAME (not both)")
    now = rc.clock()
    t_since, t_until = _time(since, now), _time(until, now)
    specs = [parse_source_spec(s) for s in artifact_sources]
    with open_evidence(rc, "artifacts", stack or functions[0]) as ev:
        # Re-running after a stop: keys the stopped run restored now exist and are reported as
        # present; nothing is uploaded twice (every upload is If-None-Match: *).
        prior = resume_from(rc, ev) if restore else PriorRuns()
        if stack:
            snap = read_tree(rc, stack)
            ev.write_json("snapshot.json", snap)
            diag = diagnose(snap)
            failed = flow.failed_functions([f for f in diag.findings if f.logical_id])
            region = snap.region
        else:
            failed = [FailedFunction(fn, "", "", "", None) for fn in functions]
            region = rc.aws.region or ""
        if not failed:
            ev.finish("nothing_missing", 0)
            return Result(command="artifacts", data={"artifacts": [], "present": [],
                                                     "unknown": [], "restored": [],
                                                     "evidence_dir": str(ev.dir)},
                          messages=["no failed Lambda function in this stack"])
        rc.progress(f"looking for the code objects of {len(failed)} function(s) (GetFunction, "
                    "then CloudTrail)…")
        loc = flow.locate(rc, ev, failed, region=region, trail=trail, since=t_since,
                          until=t_until, specs=specs)
        ev.write_json("artifacts-plan.json", {"choices": [c.to_dict() for c in loc.choices]})
        restored: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        if restore or rc.options.dry_run:
            executor = Executor(rc.aws, ev.journal, dry_run=rc.options.dry_run or not restore,
                                log=ev.log)
            done, refused = flow.apply_choices(
                rc, ev, executor, loc.choices,
                accept=flow.Acceptance(unverified=accept_unverified, substitute=accept_substitute))
            restored = [r.to_dict() for r in done]
            calls = [c.to_dict() for c in executor.would_run]
        done_for_real = [r for r in restored if not r.get("dry_run")]
        still_missing = len(loc.choices) - len(done_for_real)
        # Like diagnose: exit 3 while a code object is still missing (located or not), so a
        # script can tell "found, not restored" from "nothing missing"; a dry run exits 0.
        code = ExitCode.OK
        if loc.unknown or (still_missing and not rc.options.dry_run):
            code = ExitCode.FAILURE_FOUND
        data = {"artifacts": [c.to_dict() for c in loc.choices],
                "present": [w.to_dict() for w in loc.present],
                "unknown": [{"function_name": f.function_name, "logical_id": f.logical_id,
                             "stack_name": f.stack_name} for f in loc.unknown],
                "restored": restored, "calls": calls, "trail": loc.trail,
                "resolution": loc.resolution,
                "still_missing": still_missing, "resumed": prior.summary() if prior else None,
                "evidence_dir": str(ev.dir), "api_calls": rc.aws.counter.as_dict()}
        ev.finish("restored" if restore else "located", int(code))
    would_run = list(executor.would_run) if (restore or rc.options.dry_run) else []

    def human(console: Console, result: Result) -> None:
        _show(console, loc)  # the results: on stdout, like every command's
        if would_run:
            show_calls(console, would_run, "The calls (dry run):")
        done = [r for r in result.data["restored"] if not r.get("dry_run")]
        for r in done:
            console.print(f"[green]restored[/] s3://{escape(r['bucket'])}/{escape(r['key'])} "
                          f"from {escape(str(r.get('source')))}", highlight=False)
        missing = result.data["still_missing"] + len(result.data["unknown"])
        if missing and not rc.options.dry_run:
            target = stack or " ".join(f"--function {f}" for f in functions)
            console.print(f"[yellow]{missing} code object(s) still missing[/]"
                          + ("" if restore else f"; restore them: recover artifacts {target} "
                             "--restore"), highlight=False)
        console.print(f"[dim]evidence: {escape(result.data['evidence_dir'])}[/]", highlight=False)

    return Result(command="artifacts", data=data, exit_code=code, human=human)



def _time(text: str | None, now: datetime) -> datetime | None:
    return parse_time_spec(text, now) if text else None


def _show(console: Console, loc: flow.Located) -> None:
    table = Table(title="missing code objects", title_justify="left")
    for col in ("function", "object", "found by", "expected CodeSha256", "source",
                "verification"):
        table.add_column(col, overflow="fold")
    for ch in loc.choices:
        w = ch.wanted
        source = ch.candidate.description if ch.candidate else "none found"
        if ch.candidate is not None:
            source += f" ({ch.candidate.sha256 or 'hash unknown'})"
        table.add_row(escape(w.function_name), escape(w.uri), w.located_by,
                      w.expected_sha256 or "unknown",
                      escape(source), ch.verification)
    console.print(table)
    for w in loc.present:
        console.print(f"[green]present[/] {escape(w.uri)} (the object exists now)")
    for ch in loc.choices:
        for f in ch.failed:
            console.print(f"[yellow]source failed[/] {escape(ch.wanted.uri)}: "
                          f"{escape(f.description)}: {escape(f.reason)}")
    for ch in loc.choices:
        if ch.wanted.lambda_error:
            console.print(f"[red]function broken[/] {escape(ch.wanted.function_name)}: "
                          f"{escape(ch.wanted.lambda_error)}")
        if ch.wanted.follow_up:
            console.print(f"[yellow]follow-up[/] {escape(ch.wanted.follow_up)}")
    if loc.resolution.get("resolved_s3_object") == "absent":
        console.print("GetFunction reports no Code.ResolvedS3Object (COPY code, or an older "
                      "API): keys come from CloudTrail")
    for f in loc.unknown:
        console.print(f"[yellow]unknown key[/] {escape(f.function_name)}: no CloudTrail failure "
                      "record names its code object in the window")
