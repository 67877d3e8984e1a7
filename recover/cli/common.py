"""Shared plumbing of the click layer: one wrapper turns a command body into a rendered Result
and an exit code, whatever happens inside (RecoverError, botocore error, Ctrl-C, bug)."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from recover.context import RunContext
from recover.errors import RecoverError, translate_aws_error
from recover.evidence import EvidenceRun
from recover.exit_codes import ExitCode
from recover.interrupts import exit_code_of
from recover.result import Result, render
from recover.resume import PriorRuns, load_prior


def run_body(rc: RunContext, name: str, body: Callable[[], Result]) -> Result:
    """Run a command body and always come back with a Result (never a traceback, unless --debug)."""
    try:
        return body()
    except KeyboardInterrupt as exc:
        how = "SIGTERM" if exit_code_of(exc) == ExitCode.TERMINATED else "Ctrl-C"
        err = RecoverError(f"interrupted ({how}); the evidence folder keeps what was done so far "
                           "and running the same command again resumes from it",
                           code="interrupted", exit_code=ExitCode(exit_code_of(exc)))
        return Result.from_error(name, err)
    except RecoverError as err:
        if rc.options.debug:
            rc.console.print(traceback.format_exc(), markup=False, highlight=False)
        return Result.from_error(name, err)
    except Exception as exc:  # noqa: BLE001 - the one place bugs become one-line errors
        if rc.options.debug:
            raise
        translated = translate_aws_error(exc, region=_region(rc))
        if translated is None:
            translated = RecoverError(
                f"unexpected error ({type(exc).__name__}: {exc}); run again with --debug for the "
                "traceback and report it", code="internal_error")
        return Result.from_error(name, translated)


def _region(rc: RunContext) -> str | None:
    try:
        return rc.aws.region
    except Exception:  # noqa: BLE001 - only used to word an error message
        return rc.options.region


def recover_command(name: str) -> Callable[[Callable[..., Result]], Callable[..., int]]:
    """Decorate `fn(rc, **options) -> Result`: renders the result, returns the exit code."""

    def deco(fn: Callable[..., Result]) -> Callable[..., int]:
        @functools.wraps(fn)
        @click.pass_obj
        def wrapper(rc: RunContext, *args: Any, **kwargs: Any) -> int:
            result = run_body(rc, name, lambda: fn(rc, *args, **kwargs))
            render(result, rc.options.output, rc.stdout, rc.out, errors=rc.console)
            return int(result.exit_code)

        return wrapper

    return deco


def open_evidence(rc: RunContext, command: str, subject: str) -> EvidenceRun:
    """The evidence folder of a stack run (use as a context manager), with the caller's
    identity recorded (sts:GetCallerIdentity needs no permission; a failure is recorded, not
    raised, so the command's own first call reports credential problems in its context)."""
    ev = EvidenceRun(rc.evidence_root, command, subject, clock=rc.clock,
                     argv=rc.options.argv, region=rc.aws.region,
                     endpoint_url=rc.options.endpoint_url, api_counter=rc.aws.counter)
    ev.set(dry_run=bool(rc.options.dry_run))
    try:
        who = rc.aws.client("sts").get_caller_identity()
        ev.set(identity={k: who.get(k) for k in ("Account", "Arn", "UserId")})
    except Exception as exc:  # noqa: BLE001 - identity is informative only
        ev.set(identity={"error": f"{type(exc).__name__}: {exc}"[:300]})
    return ev


def resume_from(rc: RunContext, ev: EvidenceRun,
                accept: Callable[[Path], bool] | None = None) -> PriorRuns:
    """The unfinished earlier runs of this command on this stack (recover/resume.py); when there
    are some, say so, journal what they did and link them from this run's metadata."""
    if rc.options.dry_run:
        return PriorRuns()
    prior = load_prior(rc.evidence_root, ev.command, ev.subject, region=rc.aws.region,
                       endpoint_url=rc.options.endpoint_url, exclude_run_id=ev.run_id,
                       accept=accept)
    if prior:
        ev.set(resumed_from=[r["dir"] for r in prior.runs])
        ev.journal.append("resume", **prior.summary())
        if prior.calls or prior.runs[0].get("outcome") in ("running", "interrupted"):
            rc.progress(prior.describe())  # not for a run that only stopped on an error
    return prior
