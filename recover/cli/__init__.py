"""The click layer: global options, command registration, and the process entry point.

Commands live in one module each under recover.cli and stay thin: they turn options into
arguments, call plain functions, and return a Result (see recover.cli.common).

Start-up is kept cheap: `recover --help`, `--version` and shell completion import no command
module (so not boto3, rich or questionary); a command's module is imported only when that command
runs or shows its own help. tests/cli/test_cli_startup.py holds the table below to the real commands.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from click.shell_completion import CompletionItem

from recover import __version__
from recover.run import interrupts
from recover.run.exit_codes import ExitCode

# Every command (or command group) that is not a runbook: the module under recover.cli that
# defines it as `command`, and the short help `recover --help` and completion show without
# importing that module. The runbooks' commands come from the registry (recover.runbooks).
TOOLS: dict[str, tuple[str, str]] = {
    "apply": ("apply", "Run PLAN_FILE (from `--dry-run --plan-out`) after checking the stack "
              "has not moved."),
    "demo": ("demo", "Run a runbook end to end on a local sandbox scenario (default: degap, the "
             "seed incident)."),
    "diagnose": ("diagnose", "Read-only: classify every failure of STACK and its nested stacks, "
                 "and name the runbook."),
    "evidence": ("evidence", "Export the postmortem bundle of STACK and its nested stacks: one "
                 "chronological timeline of stack events, related CloudTrail records and "
                 "recover's own actions, redacted."),
    "explain": ("explain", "Classify a CloudFormation / Lambda / CDK error message into a "
                "failure mode."),
    "iam-policy": ("iam_policy", "Print the IAM policy JSON for the chosen runbooks (default: "
                   "all of them)."),
    "orphans": ("orphans", "Resources retained by `recover delete-failed` (the orphan ledger)."),
    "readiness": ("readiness", "Read-only: can STACK still roll back? Checks every artifact its "
                  "current template (and its nested stacks' templates) references, and the "
                  "hazards that would remove them."),
    "runbooks": ("runbooks", "Browse the runbooks: what each handles, its steps, their AWS CLI "
                 "equivalents."),
    "sandbox": ("sandbox", "A broken AWS account on 127.0.0.1 (moto plus CloudFormation failure "
                "states)."),
    "trail": ("trail", "Read CloudTrail: find Lambda code objects that were missing from S3."),
}


def _commands() -> dict[str, tuple[str, str]]:
    """Every command: name -> (module that defines it as `command`, short help)."""
    from recover.runbooks import registry

    out = {name: (f"recover.cli.{module}", text) for name, (module, text) in TOOLS.items()}
    for spec in registry():
        out[spec.id] = (spec.command_module(), spec.help)
    return dict(sorted(out.items()))


def _aliases() -> dict[str, str]:
    """Earlier names of runbook commands (hidden, still accepted) -> the command."""
    from recover.runbooks import registry

    return {alias: spec.id for spec in registry() for alias in spec.aliases}


COMMANDS: dict[str, tuple[str, str]] = _commands()
ALIASES: dict[str, str] = _aliases()
OPTIONS_KEY = "recover.global_options"
LATE_OPTIONS_KEY = "recover.global_options_after_command"


class RegionName(click.ParamType):
    """A Region name as botocore accepts one: a DNS label (letters, digits, hyphens, at most 63,
    not all digits, no hyphen at either end), so a typo is a usage error here, not an AWS one."""

    name = "region"
    _label = re.compile(r"(?!\d+$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not self._label.fullmatch(str(value)):
            self.fail(f"{value!r} is not a Region name (letters, digits and hyphens, such as "
                      "us-east-1)", param, ctx)
        return str(value)


class EndpointURL(click.ParamType):
    """An http(s) URL with a host, as botocore needs for endpoint_url."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        parts = urlsplit(text)
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.hostname or \
                any(c.isspace() for c in text):
            origin = " (from AWS_ENDPOINT_URL)" if os.environ.get("AWS_ENDPOINT_URL") == text else ""
            self.fail(f"{text!r}{origin} is not an endpoint URL (http(s)://HOST[:PORT], such as "
                      "http://127.0.0.1:4566)", param, ctx)
        return text


def _accept_global_options(command: click.Command, group_params: list[click.Parameter]) -> None:
    """Let the global options also follow the command (`recover diagnose X --output json`), as
    the aws CLI's do: hidden copies that record what the command line gave. A command's own
    option of the same spelling wins there (`trail scan --region` filters the trail)."""
    taken = {opt for param in command.params for opt in param.opts}
    for param in group_params:
        if not isinstance(param, click.Option) or param.name in ("version", "help") or \
                taken.intersection(param.opts):
            continue
        command.params.append(click.Option(
            param.opts, is_flag=param.is_flag, type=param.type, hidden=True,
            expose_value=False, callback=_record_late_option))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_global_options(sub, group_params)


def _record_late_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if param.name and ctx.get_parameter_source(param.name) == click.core.ParameterSource.COMMANDLINE:
        ctx.meta.setdefault(LATE_OPTIONS_KEY, {})[param.name] = value


def _short_help(name: str, limit: int) -> str:
    """The command's help shortened the way click shortens it, without importing the command."""
    return click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd_name = ALIASES.get(cmd_name, cmd_name)
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(COMMANDS[cmd_name][0])
            _accept_global_options(module.command, self.params)
            self.add_command(module.command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, _short_help(n, limit)) for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        items = [CompletionItem(n, help=COMMANDS[n][1])
                 for n in self.list_commands(ctx) if n.startswith(incomplete)]
        # options of the group itself (--region ...), as click's own completion offers them
        items.extend(click.Command.shell_complete(self, ctx, incomplete))
        return items


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="recover")
@click.option("--profile", help="AWS profile to use.")
@click.option("--region", type=RegionName(), help="AWS region (default: from the profile or AWS_REGION).")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", type=EndpointURL(),
              help="Send every AWS call to this endpoint (an emulator such as the sandbox).")
@click.option("--output", type=click.Choice(["human", "json"]), default="human", show_default=True,
              help="json: one versioned envelope on stdout, nothing else.")
@click.option("--non-interactive", is_flag=True,
              help="Never prompt; a decision no flag settles ends with exit code 4.")
@click.option("--yes", is_flag=True, help="Approve the confirmations the flags describe.")
@click.option("--dry-run", is_flag=True,
              help="Go up to the first change, then print the exact AWS calls instead.")
@click.option("--evidence-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where run evidence folders go (default ./recover-evidence, or the user's "
                   "state folder when the current folder is not writable).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, **opts: Any) -> None:
    """Get CloudFormation and CDK stacks out of failure states, with guided runbooks."""
    from recover.run.context import GlobalOptions, RunContext

    if isinstance(ctx.obj, RunContext):  # tests inject their own context
        for key, value in opts.items():  # options given on the command line win
            if ctx.get_parameter_source(key) != click.core.ParameterSource.DEFAULT:
                setattr(ctx.obj.options, key, value)
        return
    # Built by the command on first use (recover.cli.common.run_context), so that
    # `recover CMD --help` and completion make no consoles and no AWS session.
    ctx.meta[OPTIONS_KEY] = GlobalOptions(argv=sys.argv[1:], **opts)


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
            from recover.run.result import Result, dumps

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
    return next((ALIASES.get(a, a) for a in args if a in COMMANDS or a in ALIASES), "")


def _output_choice(args: list[str]) -> str:
    for i, a in enumerate(args):
        if a == "--output" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--output="):
            return a.split("=", 1)[1]
    return "human"
