"""`recover diagnose STACK`: read-only; classify every failure in the stack tree."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from recover.aws.snapshot import SnapshotOptions, take_snapshot
from recover.cli.common import open_evidence, recover_command
from recover.cli.params import STACK
from recover.context import RunContext
from recover.decide.diagnose import diagnose
from recover.exit_codes import ExitCode
from recover.result import Result

STATUS_STYLE = {"COMPLETE": "green", "FAILED": "bold red", "IN_PROGRESS": "yellow"}


def status_style(status: str) -> str:
    if status.endswith("ROLLBACK_COMPLETE") or status == "ROLLBACK_COMPLETE":
        return "yellow"
    for suffix, style in STATUS_STYLE.items():
        if status.endswith(suffix):
            return style
    return "white"


@click.command("diagnose")
@click.argument("stack", type=STACK)
@click.option("--all-events", is_flag=True,
              help="Read every event of every stack (default: the newest operation's).")
@recover_command("diagnose")
def command(rc: RunContext, stack: str, all_events: bool) -> Result:
    """Read-only: classify every failure of STACK and its nested stacks, and name the runbook."""
    with open_evidence(rc, "diagnose", stack) as ev:
        rc.progress(f"reading stack {stack} and its nested stacks…")
        snap = take_snapshot(rc.aws, stack, clock=rc.clock, options=SnapshotOptions(
            events="all" if all_events else "last-operation"))
        ev.write_json("snapshot.json", snap)
        result = diagnose(snap)
        data = result.to_dict(snap)
        data["evidence_dir"] = str(ev.dir)
        ev.write_json("diagnosis.json", data)
        code = ExitCode.OK if result.healthy else ExitCode.FAILURE_FOUND
        ev.finish("healthy" if result.healthy else "failure_found", int(code))
    return Result(command="diagnose", data=data, exit_code=code, human=render_diagnosis,
                  status="ok" if result.healthy else "partial")


def render_diagnosis(console: Console, result: Result) -> None:
    data = result.data
    by_stack: dict[str, list[dict]] = {}
    for f in data["findings"]:
        by_stack.setdefault(f["stack_id"], []).append(f)
    nodes: dict[str, Tree] = {}
    tree: Tree | None = None
    for s in data["stacks"]:
        label = (f"[bold]{escape(s['name'])}[/] [{status_style(s['status'])}]{s['status']}[/]"
                 + (f" [dim]({escape(s['logical_id_in_parent'])})[/]"
                    if s["logical_id_in_parent"] else ""))
        parent = nodes.get(s["parent_id"] or "")
        node = parent.add(label) if parent is not None else Tree(label)
        if tree is None:
            tree = node
        nodes[s["stack_id"]] = node
        for f in by_stack.get(s["stack_id"], []):
            if not f["logical_id"]:
                node.add(f"[magenta]{f['failure_mode']}[/] {escape(f['explanation'])}")
                continue
            skip = f" [cyan]skip as {escape(f['skip_id'])}[/]" if f["skippable"] else ""
            leaf = node.add(
                f"[red]{escape(f['logical_id'])}[/] [dim]{escape(f['resource_type'])}[/] "
                f"{f['status']} [magenta]{f['failure_mode']}[/] "
                f"[dim]({f['phase']})[/]{skip}")
            if f["reason"]:
                leaf.add(f"[dim]{escape(f['reason'][:400])}[/]")
    if tree is not None:
        console.print(tree)
    for u in data["unreadable"]:
        console.print(f"[yellow]could not read nested stack {escape(u['stack_id'])}: "
                      f"{escape(u['reason'])}[/]")
    if data["healthy"]:
        console.print(f"[green]healthy:[/] no failure found in {escape(data['stack'])} "
                      f"({len(data['stacks'])} stack(s))")
    else:
        rb = data["runbook"]
        console.print(f"\n[bold]{len(data['findings'])} finding(s).[/] "
                      + (f"Runbook: [bold cyan]{rb}[/] — {escape(data['runbook_reason'])}"
                         if rb else escape(data["runbook_reason"])))
    console.print(f"[dim]evidence: {escape(data['evidence_dir'])}[/]")
