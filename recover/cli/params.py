"""click parameter types that refuse bad values before anything runs (exit 2, one line):
stack names, resource ids for --skip/--retain/--retry, and durations."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

# docs/reference/aws-behaviour.md#continueupdaterollback-request: StackName is a `StackNameOrId`, a name `[a-zA-Z][-a-zA-Z0-9]*` or a stack
# ARN. CloudFormation caps a stack name at 128 characters (User Guide, "stack name").
_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
_STACK_ARN = re.compile(r"arn:(aws|aws-us-gov|aws-cn):cloudformation:[-a-z0-9]+:\d{12}:stack/"
                        r"[a-zA-Z][-a-zA-Z0-9]{0,127}/[-a-zA-Z0-9]+")
# docs/reference/aws-behaviour.md#continueupdaterollback-request: a ResourceToSkip is `LogicalId` or `<child-stack-name>.<LogicalId>`;
# recover names --retain/--retry targets the same way. A logical id is at most 255 characters.
_RESOURCE = re.compile(r"[a-zA-Z0-9]{1,255}|[a-zA-Z][-a-zA-Z0-9]{0,127}\.[a-zA-Z0-9]{1,255}")


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


class StackRef(click.ParamType):
    """A stack name or stack ARN. An empty name would make DescribeStacks list every stack of
    the region, so a run would act on whichever came first: refused here."""

    name = "stack"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if _STACK_NAME.fullmatch(text) or _STACK_ARN.fullmatch(text):
            return text
        self.fail(f"{_shown(text)} is not a stack name (a letter, then letters, digits and "
                  "hyphens, at most 128) or a stack ARN", param, ctx)


class ResourceRef(click.ParamType):
    """`LogicalId` (a resource of the root stack) or `<child-stack-name>.<LogicalId>`."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if _RESOURCE.fullmatch(text):
            return text
        self.fail(f"{_shown(str(value))} is not a resource id: use LogicalId for the root "
                  "stack's resources or <child-stack-name>.<LogicalId> (letters and digits, "
                  "one dot)", param, ctx)


class Seconds(click.FloatRange):
    """A duration in seconds: a finite number in range (click's FloatRange lets nan through)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            float(value)
        except (TypeError, ValueError):
            self.fail(f"{_shown(str(value))} is not a number of seconds", param, ctx)
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


F = TypeVar("F", bound=Callable[..., Any])

STACK = StackRef()
RESOURCE_ID = ResourceRef()


def follow_options(what: str, *, rounds: str | None = None) -> Callable[[F], F]:
    """The options of a runbook that starts a CloudFormation operation and follows it: --wait,
    --timeout, --poll-interval, --plan-out, and --max-rounds when it plans again after a new
    failure (`rounds` says what fails again). `what` names the operation in the help."""

    def deco(fn: F) -> F:
        options = [
            click.option("--wait/--no-wait", default=True, show_default=True,
                         help=f"Follow {what} until it ends."),
            click.option("--timeout", type=Seconds(min=1), default=3600, show_default=True,
                         help=f"Seconds to follow {what} before giving up watching."),
        ]
        if rounds:
            options.append(click.option(
                "--max-rounds", type=click.IntRange(1, 10), default=3, show_default=True,
                help=f"Plan again at most this many times when {rounds} fails again."))
        options += [
            click.option("--poll-interval", type=Seconds(min=0, min_open=True), default=3.0,
                         show_default=True, help="Seconds between polls while following."),
            click.option("--plan-out", type=click.Path(dir_okay=False, path_type=Path),
                         help="With --dry-run: save the plan for `recover apply`."),
        ]
        for option in reversed(options):
            fn = option(fn)
        return fn

    return deco


def rollback_options(prefix: str = "") -> Callable[[F], F]:
    """The decisions of a continued rollback: skips, artifact restore, the bytes' sources and
    their acceptance, the CloudTrail source. rollback-stuck takes them, and bootstrap-role passes
    them on when it hands over (`prefix` says so in the help)."""

    def deco(fn: F) -> F:
        options = [
            click.option("--skip", "skip", multiple=True, type=RESOURCE_ID, metavar="ID",
                         help=f"{prefix}Skip this resource: LogicalId (root) or "
                              "<child-stack-name>.<LogicalId>. Repeatable."),
            click.option("--skip-unrecoverable", is_flag=True,
                         help=f"{prefix}Skip every rollback failure recover cannot fix itself."),
            click.option("--restore-artifacts/--no-restore-artifacts", default=None,
                         help=f"{prefix}Restore missing Lambda code objects before continuing "
                              "(default: ask)."),
            click.option("--artifact-source", "artifact_sources", multiple=True, metavar="SPEC",
                         help=f"{prefix}Extra place for code bytes: file:KEY=PATH, "
                              "folder:KEY=PATH, cdk-out:PATH, lambda:NAME[:QUALIFIER]. "
                              "Repeatable."),
            click.option("--accept-substitute", is_flag=True,
                         help=f"{prefix}Allow restoring bytes whose SHA-256 differs from the "
                              "expected CodeSha256."),
            click.option("--accept-unverified", is_flag=True,
                         help=f"{prefix}Allow restoring bytes no recorded CodeSha256 proves to "
                              "be the old code (a file you name for the key first; never "
                              "implied by --yes)."),
            click.option("--trail", metavar="SOURCE", default=None,
                         help=f"{prefix}CloudTrail source for the missing keys (default: "
                              "lookup = LookupEvents)."),
        ]
        for option in reversed(options):
            fn = option(fn)
        return fn

    return deco


def examples(*lines: str) -> Callable[[click.Command], click.Command]:
    """Append real examples to a command's --help (put it above @click.command). Each line is
    a command a person can paste; tests/cli/test_help_examples.py checks them against the CLI."""
    def add(cmd: click.Command) -> click.Command:
        block = "\n".join(f"  {line}" for line in lines)
        # dedent the docstring first: click dedents the whole text by its least indented line,
        # which the appended block (at column 0) would make 0, keeping the docstring's indent
        cmd.help = f"{inspect.cleandoc(cmd.help or '')}\n\n\b\nExamples:\n{block}"
        return cmd
    return add
