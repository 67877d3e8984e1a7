"""`recover runbooks list|show|check`: browse and check the runbook catalog (no AWS calls)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from recover.cli.common import recover_command
from recover.cli.params import examples
from recover.explain.taxonomy import FailureMode
from recover.run.context import RunContext
from recover.run.result import Result
from recover.runbooks.document.catalog import load_catalog, source_path
from recover.runbooks.document.errors import Problem, RunbookFormatError
from recover.runbooks.document.model import Runbook, Step
from recover.runbooks.document.render import runbook_markdown, step_kind
from recover.runbooks.document.statuses import STACK_STATUSES
from recover.runbooks.document.validate import load_text


@examples(
    "recover runbooks list",
    "recover runbooks show rollback-stuck",
)
@click.group("runbooks")
def command() -> None:
    """Browse the runbooks: what each handles, its steps, their AWS CLI equivalents."""


@command.command("list")
@click.option("--mode", "failure_mode", type=click.Choice([m.value for m in FailureMode]),
              help="Only runbooks that handle this failure mode.")
@click.option("--status", type=click.Choice(sorted(STACK_STATUSES)), metavar="STACK_STATUS",
              help="Only runbooks that start from this stack status.")
@recover_command("runbooks list")
def list_cmd(rc: RunContext, failure_mode: str | None, status: str | None) -> Result:
    """List the runbooks and the failure modes they handle."""
    runbooks = load_catalog().matching(failure_mode=failure_mode, status=status)
    return Result(command="runbooks list",
                  data={"runbooks": [r.summary_dict() for r in runbooks]},
                  human=_human_list)


@command.command("show")
@click.argument("runbook_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["human", "markdown", "yaml"]), default="human",
              show_default=True, help="markdown: the docs page; yaml: the runbook file itself.")
@recover_command("runbooks show")
def show_cmd(rc: RunContext, runbook_id: str, fmt: str) -> Result:
    """Show one runbook: every step with why, what it changes, how to undo it, the aws CLI."""
    catalog = load_catalog()
    runbook = catalog.get(runbook_id)
    data = {"runbook": runbook.to_dict()}
    if fmt == "markdown":
        text = runbook_markdown(runbook)
        return Result(command="runbooks show", data=data, human=lambda c, _r: c.out(text, end=""))
    if fmt == "yaml":
        text = source_path(runbook, catalog).read_text(encoding="utf-8")
        return Result(command="runbooks show", data=data, human=lambda c, _r: c.out(text, end=""))
    return Result(command="runbooks show", data=data, human=lambda c, _r: _human_show(c, runbook))


@command.command("check")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@recover_command("runbooks check")
def check_cmd(rc: RunContext, files: tuple[Path, ...]) -> Result:
    """Check runbook files you are writing (shape, actions, permissions); exit 2 if any fails."""
    results = []
    for path in files:
        problems: list[Problem] = []
        try:
            load_text(path.read_text(encoding="utf-8"), str(path))
        except RunbookFormatError as err:
            problems = err.problems
        except (OSError, UnicodeDecodeError) as exc:
            problems = [Problem(str(path), "", f"cannot read: {exc}")]
        results.append({"file": str(path), "ok": not problems,
                        "problems": [str(p) for p in problems]})
    bad = [r for r in results if not r["ok"]]
    result = Result(command="runbooks check", data={"files": results}, human=_human_check)
    if bad:
        err = RunbookFormatError([Problem(r["file"], "", f"{len(r['problems'])} problem(s)")
                                  for r in bad])
        result.exit_code = err.exit_code
        result.errors = [{"code": err.code, "message": p} for r in bad for p in r["problems"]]
    return result


def _human_list(console: Console, result: Result) -> None:
    table = Table(title="recover runbooks", title_justify="left")
    for col in ("id", "title", "failure modes", "applies to", "steps"):
        table.add_column(col, overflow="fold")
    for r in result.data["runbooks"]:
        table.add_row(r["id"], r["title"], "\n".join(r["failure_modes"]),
                      "\n".join(r["applies_to"]), str(r["steps"]))
    if result.data["runbooks"]:
        console.print(table)
        console.print("Show one with: recover runbooks show ID", style="dim")
    else:
        console.print("no runbook matches; `recover runbooks list` shows them all")


def _step_panel(number: int, step: Step) -> Panel:
    kind = escape(step_kind(step))
    kind = f"[bold red]{kind}[/]" if step.mutates else f"[green]{kind}[/]"
    parts: list[object] = [Text.from_markup(f"[dim]{step.id} · action {escape(step.action)}[/] · {kind}")]

    def field(label: str, text: str) -> None:
        parts.append(Text.from_markup(f"[bold]{label}[/] {escape(text)}"))

    field("Why:", step.why)
    field("Changes:", step.changes)
    if step.requires_status:
        field("Requires status:", ", ".join(step.requires_status))
    if step.expects_status:
        field("Expects status:", ", ".join(step.expects_status))
    if step.handover:
        field("Continues in:", "; ".join(f"{s} → {rid}" for s, rid in step.handover))
    if step.confirm:
        how = f"type {step.confirm.answer}" if step.confirm.kind == "typed" else "explicit yes (default No)"
        field("Confirm:", f"{how}: {step.confirm.prompt}")
    if step.flags:
        field("Flags:", " ".join(step.flags))
    if step.permissions:
        field("IAM:", ", ".join(step.permissions))
    if step.undo:
        field("Undo:", step.undo)
    if step.cli:
        parts.append(Text("By hand:", style="bold"))
        parts.append(Syntax(step.cli, "bash", word_wrap=True, background_color="default"))
    return Panel(Group(*parts), title=f"{number}. {escape(step.title)}", title_align="left")  # type: ignore[arg-type]


def _human_show(console: Console, runbook: Runbook) -> None:
    console.print(f"[bold]{escape(runbook.title)}[/]  [dim]({runbook.id} v{runbook.version})[/]")
    console.print(escape(runbook.summary), soft_wrap=False)
    console.print(f"[bold]Failure modes:[/] {', '.join(runbook.failure_modes)}", soft_wrap=False)
    console.print(f"[bold]Applies to:[/] {', '.join(runbook.applies_to)}")
    if runbook.handovers:
        console.print(f"[bold]May continue in:[/] {', '.join(runbook.handovers)}")
    for i, step in enumerate(runbook.steps, 1):
        console.print(_step_panel(i, step))
    console.print(f"[bold]IAM permissions:[/] {', '.join(runbook.permissions)}", soft_wrap=False)
    console.print(f"Policy: recover iam-policy {runbook.id}", style="dim")


def _human_check(console: Console, result: Result) -> None:
    for r in result.data["files"]:
        if r["ok"]:
            console.print(f"[green]ok[/] {escape(r['file'])}")
