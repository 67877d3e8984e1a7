"""`recover readiness STACK | --all`: read-only proof that a rollback would still work."""

from __future__ import annotations

import click

from recover.cli.common import recover_command
from recover.cli.params import examples
from recover.run.context import RunContext
from recover.run.errors import UsageError
from recover.run.exit_codes import ExitCode
from recover.run.result import Result


def _failed(report: dict, fail_on: str) -> bool:
    if not report["ready"]:
        return True
    return fail_on == "hazards" and any(h["severity"] in ("blocking", "warning")
                                        for h in report["hazards"])


@examples(
    "recover readiness my-stack",
    "recover readiness --all --fail-on hazards",
)
@click.command("readiness")
@click.argument("stack", required=False)
@click.option("--all", "all_stacks", is_flag=True,
              help="Check every root stack of the region (nested stacks come with their root).")
@click.option("--fail-on", type=click.Choice(["missing", "hazards"]), default="missing",
              show_default=True,
              help="missing: exit 3 when not ready (an artifact is missing or a hazard blocks a "
                   "rollback); hazards: also when any warning hazard is found.")
@click.option("--check-termination-protection", is_flag=True,
              help="Also flag root stacks whose termination protection is off.")
@click.option("--within", "horizon", type=click.IntRange(min=0), default=0,
              help="Only report lifecycle dates within this many days (0: all).")
@click.option("--concurrency", type=click.IntRange(1, 32), default=4, show_default=True,
              help="AWS calls (or stacks, with --all) in flight at once.")
@recover_command("readiness")
def command(rc: RunContext, stack: str | None, all_stacks: bool, fail_on: str,
            check_termination_protection: bool, horizon: int, concurrency: int) -> Result:
    """Read-only: can STACK still roll back? Checks every artifact its current template (and
    its nested stacks' templates) references, and the hazards that would remove them."""
    from recover.readiness.decide import Options, Report
    from recover.readiness.render import render_result
    from recover.readiness.run import check_region, check_stack
    from recover.run.services import open_evidence

    if bool(stack) == all_stacks:
        raise UsageError("give a STACK or --all (not both)")
    options = Options(check_termination_protection=check_termination_protection,
                      horizon_days=horizon)
    subject = stack or f"all-stacks-{rc.aws.region or 'default'}"
    with open_evidence(rc, "readiness", subject) as ev:
        if stack:
            rc.progress(f"checking {stack} and its nested stacks…")
            report: Report = check_stack(rc.aws, stack, clock=rc.clock, options=options,
                                         workers=concurrency)
            data = report.to_dict()
            data["api_calls"] = rc.aws.counter.as_dict()
            failed = _failed(data, fail_on)
        else:
            rc.progress(f"listing the stacks of {rc.aws.region or 'the default region'}…")
            region = check_region(rc.aws, clock=rc.clock, options=options,
                                  concurrency=concurrency, progress=rc.progress)
            reports = []
            for r in region["stacks"]:
                entry = {"stack": r["stack"], "api_calls": r["api_calls"],
                         "api_calls_total": sum(r["api_calls"].values())}
                if "report" in r:
                    entry["report"] = r["report"].to_dict()
                else:
                    entry["error"] = r["error"]
                reports.append(entry)
            totals = [r["api_calls_total"] for r in reports]
            ok = [r for r in reports if "report" in r]
            data = {
                "region": rc.aws.region, "count": region["count"],
                "ready": all(r["report"]["ready"] for r in ok) and len(ok) == len(reports),
                "missing": [m for r in ok for m in r["report"]["missing"]],
                "hazards": [h for r in ok for h in r["report"]["hazards"]],
                "errors": [{"stack": r["stack"], **r["error"]} for r in reports
                           if "error" in r],
                "reports": reports,
                "api_calls": {**rc.aws.counter.as_dict(),
                              "per_stack_mean": sum(totals) / len(totals) if totals else 0.0,
                              "per_stack_max": max(totals, default=0)},
            }
            failed = bool(data["errors"]) or any(_failed(r["report"], fail_on) for r in ok)
        data["fail_on"] = fail_on
        data["evidence_dir"] = str(ev.dir)
        ev.write_json("readiness.json", data)
        code = ExitCode.FAILURE_FOUND if failed else ExitCode.OK
        ev.finish("not_ready" if failed else "ready", int(code))
    messages = []
    if failed and data.get("ready"):
        messages.append("exit 3: hazards found and --fail-on hazards was given")
    return Result(command="readiness", data=data, exit_code=code, human=render_result,
                  status="ok" if not failed else "partial", messages=messages)
