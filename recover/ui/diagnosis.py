"""The diagnosis as people read it: the stack tree with each finding under its resource."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from recover.run.result import Result

STATUS_STYLE = {"COMPLETE": "green", "FAILED": "bold red", "IN_PROGRESS": "yellow"}


def status_style(status: str) -> str:
    if status.endswith("ROLLBACK_COMPLETE") or status == "ROLLBACK_COMPLETE":
        return "yellow"
    for suffix, style in STATUS_STYLE.items():
        if status.endswith(suffix):
            return style
    return "white"



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
            role = ("[bold red]root cause[/]" if f.get("key") == data.get("root_cause")
                    else f"[dim]{f.get('role', 'cause')}[/]")
            leaf = node.add(
                f"[red]{escape(f['logical_id'])}[/] [dim]{escape(f['resource_type'])}[/] "
                f"{f['status']} [magenta]{f['failure_mode']}[/] "
                f"[dim]({f['phase']})[/] {role}{skip}")
            if f["reason"]:
                leaf.add(f"[dim]{escape(f['reason'])}[/]")
            if f["failure_mode"] == "hook_failure":  # the hook's verdict and what to do
                leaf.add(f"[yellow]hook:[/] {escape(f['explanation'])}")
            if f.get("remedied"):
                leaf.add(f"[green]cause fixed since:[/] {escape(f['remedied'])}")
    if tree is not None:
        console.print(tree)
    for u in data["unreadable"]:
        console.print(f"[yellow]could not read nested stack {escape(u['stack_id'])}: "
                      f"{escape(u['reason'])}[/]")
    if data["healthy"]:
        console.print(f"[green]healthy:[/] no failure found in {escape(data['stack'])} "
                      f"({len(data['stacks'])} stack(s))")
    else:
        if data.get("root_cause"):
            root = next(f for f in data["findings"] if f.get("key") == data["root_cause"])
            after = [f["key"] for f in data["findings"] if f.get("consequence_of")]
            console.print(f"\n[bold]root cause:[/] {escape(root['key'])} "
                          f"[magenta]{root['failure_mode']}[/]"
                          + (f" [dim](consequences: {escape(', '.join(after))})[/]" if after else ""),
                          highlight=False)
        rb = data["runbook"]
        console.print(f"\n[bold]{len(data['findings'])} finding(s).[/] "
                      + (f"Runbook: [bold cyan]{rb}[/] — {escape(data['runbook_reason'])}"
                         if rb else escape(data["runbook_reason"])))
    src = data.get("events_source")
    if src:
        how = ("read by operation id (DescribeEvents, failed events only)"
               if src["source"] == "describe-events" else
               f"reconstructed from DescribeStackEvents ({src['fallback_reason']})")
        console.print(f"[dim]events: {escape(how)}; {data['api_calls']} API call(s)[/]")
    for command in data.get("next") or []:
        console.print(f"next: [bold]{escape(command)}[/]", highlight=False, soft_wrap=True)
    console.print(f"[dim]evidence: {escape(data['evidence_dir'])}[/]")
