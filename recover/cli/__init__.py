"""The click layer: global options, command registration, and the process entry point.

Commands live in one module each under recover.cli and stay thin: they turn options into
arguments, call plain functions, and return a Result (see recover.cli.common).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from recover import __version__, interrupts
from recover.context import GlobalOptions, RunContext
from recover.exit_codes import ExitCode
from recover.result import Result, dumps

# One module per command (or command group); each exposes `command`.
COMMAND_MODULES: list[str] = [
    "diagnose",
    "runbooks",
    "iam_policy",
    "explain",
    "trail",
    "sandbox",
    "rollback_stuck",
    "bootstrap_role",
    "delete_failed",
    "orphans",
    "apply",
    "demo",
    "artifacts",
    "evidence",
    "readiness",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="recover")
@click.option("--profile", help="AWS profile to use.")
@click.option("--region", help="AWS region (default: from the profile or AWS_REGION).")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL",
              help="Send every AWS call to this endpoint (an emulator such as the sandbox).")
@click.option("--output", type=click.Choice(["human", "json"]), default="human", show_default=True,
              help="json: one versioned envelope on stdout, nothing else.")
@click.option("--non-interactive", is_flag=True,
              help="Never prompt; a decision no flag settles ends with exit code 4.")
@click.option("--yes", is_flag=True, help="Approve the confirmations the flags describe.")
@click.option("--dry-run", is_flag=True,
              help="Go up to the first change, then print the exact AWS calls instead.")
@click.option("--evidence-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where run evidence folders go (default ./recover-evidence).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, **opts: object) -> None:
    """Get CloudFormation and CDK stacks out of failure states, with guided runbooks."""
    if isinstance(ctx.obj, RunContext):  # tests inject their own context
        for key, value in opts.items():  # options given on the command line win
            if ctx.get_parameter_source(key) != click.core.ParameterSource.DEFAULT:
                setattr(ctx.obj.options, key, value)
        return
    options = GlobalOptions(argv=sys.argv[1:], **opts)  # type: ignore[arg-type]
    ctx.obj = RunContext.from_options(options)


for _name in COMMAND_MODULES:
    cli.add_command(importlib.import_module(f"recover.cli.{_name}").command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every ending to an exit code, tracebacks only with --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Bytes in argv that are not UTF-8 reach us as lone surrogates (surrogateescape); printing
    # one to a strict UTF-8 stdout would raise after the run, so show its escape instead.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    interrupts.install()
    try:
        rv = cli.main(args=args, prog_name="recover", standalone_mode=False)
    except click.exceptions.Abort as exc:
        click.echo("aborted", err=True)
        sys.exit(interrupts.exit_code_of(exc.__context__ or exc))
    except click.ClickException as exc:
        if "json" in _output_choice(args):
            result = Result(command=_command_name(args), exit_code=ExitCode.USAGE,
                            errors=[{"code": "usage", "message": exc.format_message()}])
            sys.stdout.write(dumps(result.envelope()) + "\n")
        else:
            exc.show()
        sys.exit(ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code)
    except KeyboardInterrupt as exc:
        click.echo("interrupted", err=True)
        sys.exit(interrupts.exit_code_of(exc))
    sys.exit(int(rv) if isinstance(rv, int) else 0)


def _command_name(args: list[str]) -> str:
    """The first argument that is a known command (global options and their values skipped)."""
    return next((a for a in args if a in cli.commands), "")


def _output_choice(args: list[str]) -> str:
    for i, a in enumerate(args):
        if a == "--output" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--output="):
            return a.split("=", 1)[1]
    return "human"
