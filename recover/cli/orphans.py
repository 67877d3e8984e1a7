"""`recover orphans list|show`: the resources retained by stack deletes and those skipped by
rollbacks (open until `recover reconcile` finds them in sync), from the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from recover.cli.common import recover_command
from recover.cli.params import examples
from recover.orphans import ledger
from recover.run.context import RunContext
from recover.run.result import Result, dumps

LEDGER_OPTION = click.option(
    "--ledger", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help=f"Orphan ledger file (default: ${ledger.ENV_VAR}, else "
         "<user data dir>/recover/orphans.json).")


@examples(
    "recover orphans list",
    "recover orphans show ID",
)
@click.group("orphans")
def command() -> None:
    """Resources retained by `recover delete-failed` (the orphan ledger)."""


@command.command("list")
@LEDGER_OPTION
@click.option("--stack", help="Only orphans that left this stack (name, root name or stack id).")
@recover_command("orphans list")
def list_cmd(rc: RunContext, ledger: Path | None, stack: str | None) -> Result:
    """List every orphan in the ledger."""
    from recover.orphans import ledger as store

    path = store.resolve(ledger)
    orphans = store.load(path)["orphans"]
    if stack:
        orphans = [o for o in orphans if stack in (_stack(o).get("name"), _stack(o).get("root"),
                                                   _stack(o).get("stack_id"))]
    rows = [{k: o.get(k) for k in ("id", "resource_type", "logical_id", "physical_id", "arn",
                                   "region", "account", "state", "retained_at", "costs_money")}
            | {"kind": o.get("kind") or "retained", "stack": _stack(o).get("name"),
               "tags": o.get("tags"), "since": o.get("retained_at") or o.get("skipped_at")}
            for o in orphans]
    return Result(command="orphans list", data={"ledger": str(path), "count": len(rows),
                                                 "orphans": rows}, human=_render_list)


@command.command("show")
@click.argument("orphan")
@LEDGER_OPTION
@recover_command("orphans show")
def show_cmd(rc: RunContext, orphan: str, ledger: Path | None) -> Result:
    """Show one orphan (by id, id prefix, physical id, ARN or logical id) with its follow-ups."""
    from recover.orphans import ledger as store

    path = store.resolve(ledger)
    entry = store.find(store.load(path), orphan)
    return Result(command="orphans show", data={"ledger": str(path), "orphan": entry},
                  human=_render_show)


def _stack(o: dict[str, Any]) -> dict[str, Any]:
    """The stack a retained resource left, or the stack a skipped resource is still in."""
    return o.get("left_stack") or o.get("stack") or {}


def _render_list(console: Console, result: Result) -> None:
    d = result.data
    if not d["orphans"]:
        console.print(f"no orphans in {d['ledger']}")
        return
    table = Table(title=f"{d['count']} orphan(s) in {d['ledger']}", title_justify="left")
    table.add_column("id", no_wrap=True)
    for col in ("type", "physical id", "stack", "state", "since"):
        table.add_column(col, overflow="fold")
    for o in d["orphans"]:
        money = " [red]$[/]" if o.get("costs_money") else ""
        state = o.get("state") or ""
        state = f"skipped, {state}" if o["kind"] == "skipped" else state
        table.add_row(o["id"], escape(o["resource_type"]) + money,
                      escape(o["physical_id"] or ""), escape(o.get("stack") or ""),
                      escape(state),
                      escape((o.get("since") or "")[:16].replace("T", " ")))
    console.print(table)


def _render_show(console: Console, result: Result) -> None:
    o: dict[str, Any] = result.data["orphan"]
    if o.get("kind") == "skipped":
        console.print(f"[bold]{o['id']}[/] skipped {escape(o['resource_type'])} "
                      f"{escape(o.get('target') or '')} in {escape(_stack(o).get('name', ''))}: "
                      f"{escape(o.get('state') or '')}", highlight=False)
        console.print(f"  why skipped: {escape(str(o.get('why_skipped'))[:300])}", highlight=False)
        console.print(f"  follow-up: {escape(o.get('follow_up') or '')}", highlight=False)
        return
    console.print(f"[bold]{o['id']}[/] {escape(o['resource_type'])} {escape(o['physical_id'])}",
                  highlight=False)
    for key in ("arn", "region", "account", "state", "retained_at", "evidence_dir"):
        console.print(f"  {key}: {escape(str(o.get(key)))}", highlight=False)
    console.print(f"  left stack: {escape(o['left_stack']['name'])} "
                  f"(root {escape(o['left_stack']['root'])})", highlight=False)
    console.print(f"  why retained: {escape(o['why_retained']['reason'][:300])}", highlight=False)
    console.print(f"  tags: {escape(str(o.get('tags')))} [dim]({escape(o.get('tags_source') or '')})[/]",
                  highlight=False)
    console.print("[bold]template snippet:[/]")
    console.print(escape(dumps(o.get("template_snippet"))), highlight=False)
    console.print("[bold]delete later:[/]")
    for line in o["follow_up"]["delete_later"]:
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    adopt = o["follow_up"]["adopt_again"]
    console.print("[bold]adopt again (resource import):[/]")
    if not adopt.get("importable"):
        console.print(f"  {escape(adopt.get('why', 'not importable'))}")
    else:
        console.print("  resources-to-import.json: "
                      + escape(dumps(adopt["resources_to_import"], indent=None)), highlight=False)
        console.print("  cdk import mapping.json: "
                      + escape(dumps(adopt["cdk_resource_mapping"], indent=None)), highlight=False)
        for line in adopt["commands"]:
            console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
