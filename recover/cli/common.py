"""Shared plumbing of the click layer: one wrapper turns a command body into a rendered Result
and an exit code, whatever happens inside (RecoverError, botocore error, Ctrl-C, bug)."""

from __future__ import annotations

import functools
import shlex
import traceback
from collections.abc import Callable
from typing import Any

import click

from recover.run.context import RunContext
from recover.run.errors import NeedsDecisionError, RecoverError, translate_aws_error
from recover.run.exit_codes import ExitCode
from recover.run.interrupts import exit_code_of
from recover.run.result import Result, render


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
        if isinstance(err, NeedsDecisionError):
            with_next(err, rc.options.argv)
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


def with_next(err: NeedsDecisionError, argv: list[str] | None) -> None:
    """The commands that settle the decision the run stopped on, ready to paste: the same
    command line with each flag the error names (`--a X or --b` gives two commands)."""
    if not argv:
        return
    base = " ".join(["recover", *(shlex.quote(a) for a in argv)])
    commands = [f"{base} {alternative.strip()}" for alternative in err.flag.split(" or ")]
    err.details["next"] = commands
    err.hint = "settle it with one of:\n  " + "\n  ".join(commands)


def _region(rc: RunContext) -> str | None:
    try:
        return rc.aws.region
    except Exception:  # noqa: BLE001 - only used to word an error message
        return rc.options.region


def run_context() -> RunContext:
    """The run context of the current invocation: injected by a test, or built on first use."""
    from recover.cli import LATE_OPTIONS_KEY, OPTIONS_KEY

    root = click.get_current_context().find_root()
    if not isinstance(root.obj, RunContext):
        root.obj = RunContext.from_options(root.meta[OPTIONS_KEY])
    for key, value in root.meta.pop(LATE_OPTIONS_KEY, {}).items():  # given after the command
        setattr(root.obj.options, key, value)
    return root.obj


def pass_run_context(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Like click.pass_obj, for the RunContext (see run_context)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(run_context(), *args, **kwargs)

    return wrapper


def recover_command(name: str) -> Callable[[Callable[..., Result]], Callable[..., int]]:
    """Decorate `fn(rc, **options) -> Result`: renders the result, returns the exit code."""

    def deco(fn: Callable[..., Result]) -> Callable[..., int]:
        @functools.wraps(fn)
        @pass_run_context
        def wrapper(rc: RunContext, *args: Any, **kwargs: Any) -> int:
            result = run_body(rc, name, lambda: fn(rc, *args, **kwargs))
            render(result, rc.options.output, rc.stdout, rc.out, errors=rc.console)
            return int(result.exit_code)

        return wrapper

    return deco
