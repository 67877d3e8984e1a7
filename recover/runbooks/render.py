"""Human rendering shared by the runbook flows (rich; stderr console)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from recover.act.calls import Call

ACTION_STYLE = {"skip": "bold yellow", "restore": "bold green", "retry": "cyan",
                "automatic": "dim", "role": "bold red", "retain": "bold yellow"}


def decisions_table(title: str, decisions: list[dict[str, Any]]) -> Table:
    table = Table(title=title, show_lines=False, expand=False, title_justify="left")
    table.add_column("resource", overflow="fold", ratio=3)
    table.add_column("failure / phase", overflow="fold", ratio=2)
    table.add_column("action", no_wrap=True)
    table.add_column("why", overflow="fold", ratio=3)
    for d in decisions:
        style = ACTION_STYLE.get(d["action"], "")
        table.add_row(f"{escape(d['target'])}\n[dim]{escape(d.get('resource_type') or '')}[/]",
                      f"{d.get('failure_mode') or ''}\n[dim]{d.get('phase') or ''}[/]",
                      f"[{style}]{d['action']}[/]" if style else d["action"],
                      escape(d.get("why") or ""))
    return table


def show_calls(console: Console, calls: list[Call], heading: str) -> None:
    console.print(f"[bold]{heading}[/]")
    for c in calls:
        console.print(f"  • {escape(c.description)}", highlight=False)
        console.print(f"    [cyan]{escape(c.cli())}[/]", highlight=False, soft_wrap=True)


def candidates_table(title: str, expected: str | None, rows: list[dict[str, Any]]) -> Table:
    """The byte sources for one key with their hashes, for the operator to pick from."""
    table = Table(title=title, title_justify="left", caption=f"expected CodeSha256: "
                  f"{expected or 'unknown (nothing proves any source to be the old code)'}")
    for col in ("#", "source", "named for the key", "CodeSha256", "verified"):
        table.add_column(col, overflow="fold")
    for i, c in enumerate(rows, 1):
        ok = bool(expected) and c.get("sha256") == expected
        table.add_row(str(i), escape(c["description"]), "yes" if c.get("named") else "no",
                      c.get("sha256") or "unknown", "[green]yes[/]" if ok else "[red]no[/]")
    return table
