"""`recover explain MESSAGE|-`: classify a pasted failure message (no AWS call is made).

Exit code 0 whenever the input could be read, including failure_mode `unknown`: explain
answers "what is this?", and "recover does not recognise it" is an answer, not an error
(docs/reference/explain.md). Empty input is a usage error (exit 2).
"""

from __future__ import annotations

import re
from typing import Any

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from recover.cli.common import recover_command
from recover.cli.params import examples
from recover.explain.classify import classify
from recover.run.context import RunContext
from recover.run.errors import UsageError
from recover.run.result import Result

MAX_INPUT_CHARS = 1_000_000  # a whole describe-stack-events dump fits; a disk image does not


def read_message(rc: RunContext, message: str | None) -> str:
    """The text to classify: the argument, or stdin for `-` (or no argument and piped stdin)."""
    if message is None or message == "-":
        if message is None and _stdin_is_tty(rc):
            raise UsageError("give the error message as an argument, or pipe it in with `-`",
                             hint="recover explain 'Role arn:... is invalid or cannot be assumed'")
        try:
            message = rc.stdin.read(MAX_INPUT_CHARS + 1)
        except UnicodeDecodeError as exc:
            raise UsageError(f"stdin is not text ({exc.reason})") from None
        if len(message) > MAX_INPUT_CHARS:
            raise UsageError(f"input is larger than {MAX_INPUT_CHARS} characters; paste the "
                             "failure lines only")
    if not message.strip():
        raise UsageError("empty message: nothing to explain")
    if "\x00" in message or re.search("[\udc80-\udcff\ufffd]", message):
        # NUL bytes, or bytes stdin could not decode (surrogate-escaped or replaced).
        raise UsageError("the input is not text (binary data?); paste the error message itself")
    return message


def _stdin_is_tty(rc: RunContext) -> bool:
    try:
        return bool(rc.stdin.isatty())
    except (AttributeError, ValueError):
        return False


@examples(
    "recover explain 'The bucket you tried to delete is not empty'",
    "recover --output json explain \"Resource handler returned message: Rate exceeded\"",
)
@click.command("explain")
@click.argument("message", required=False, metavar="MESSAGE|-")
@recover_command("explain")
def command(rc: RunContext, message: str | None) -> Result:
    """Classify a CloudFormation / Lambda / CDK error message into a failure mode.

    MESSAGE is the pasted text; `-` (or no argument with a pipe) reads it from stdin, which
    also takes whole multi-line pastes: CDK output, stack-event tables, describe-stack-events
    JSON. Prints the failure mode, the runbook to use, an explanation and the fields found.
    """
    text = read_message(rc, message)
    found = classify(text)
    return Result(command="explain", data=found.to_dict(), human=_render)


def _render(console: Console, result: Result) -> None:
    data = result.data
    console.print(_panel(data))
    for other in data.get("others", []):
        console.print(f"[dim]also in this paste:[/] [bold]{other['failure_mode']}[/] "
                      f"[dim]({other['rule'] or 'unrecognised'})[/] {escape(_short(other['message']))}",
                      highlight=False)


def _panel(data: dict[str, Any]) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("failure mode", Text(data["failure_mode"], style="bold cyan"))
    grid.add_row("runbook", data["runbook"] or Text("none (advice below)", style="dim"))
    if data["rule"]:
        grid.add_row("rule", Text(f"{data['rule']} ({data.get('family') or '-'}, {data['kind']}), "
                                  f"matched by {data['match']}, confidence {data['confidence']}"))
    else:
        grid.add_row("rule", Text("no rule matched", style="yellow"))
        closest = ", ".join(f"{c['rule']} ({c['failure_mode']}, {c['similarity']:.2f})"
                            for c in data.get("candidates", []))
        grid.add_row("closest", Text(closest or "none"))
    if data.get("message"):
        grid.add_row("message", Text(_short(data["message"], 300)))
    for key, value in data["extracted"].items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        grid.add_row(Text(key, style="dim"), Text(shown))
    body = Group(grid, Text(""), Text(data["explanation"]))
    return Panel(body, title="recover explain", title_align="left", expand=False)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

