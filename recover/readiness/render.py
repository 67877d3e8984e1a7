"""Human view of readiness reports (rich tables on the console)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from recover.run.result import Result

SEVERITY_STYLE = {"blocking": "bold red", "warning": "yellow", "advice": "cyan"}
STATUS_STYLE = {"present": "green", "missing": "bold red", "unresolved": "yellow",
                "unknown": "yellow"}


def _when(date: str | None, action: str) -> str:
    if date:
        return date[:10]
    return "next push" if action == "image-expiration" else "if deleted"


def _short(location: str) -> str:
    """s3://bucket/key → bucket/…key tail; images → repository:tag|@digest prefix."""
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        return f"{bucket}/{key if len(key) <= 28 else key[:12] + '…' + key[-12:]}"
    if "/" in location:
        tail = location.split("/", 1)[1]
        return tail if len(tail) <= 40 else tail[:40] + "…"
    return location


def render_report(console: Console, data: dict[str, Any]) -> None:
    verdict = "[bold green]READY[/]" if data["ready"] else "[bold red]NOT READY[/]"
    s = data["summary"]
    console.print(f"{verdict} {escape(data['stack'])}: {s['stacks']} stack(s), "
                  f"{s['artifacts']} artifact(s), {s['missing']} missing, "
                  f"{s['hazards']} hazard(s)")
    if data["artifacts"]:
        t = Table(title="Artifacts a rollback to the current templates needs",
                  title_justify="left")
        for col in ("resource", "kind", "location", "status", "at risk"):
            t.add_column(col, overflow="fold")
        for a in data["artifacts"]:
            risk = ", ".join(f"{_when(r['date'], r['action'])}" for r in a.get("at_risk", []))
            style = STATUS_STYLE.get(a["status"], "white")
            t.add_row(escape(a["logical_id"]), a["kind"], escape(_short(a["location"])),
                      f"[{style}]{a['status']}[/]", escape(risk))
        console.print(t)
    for m in data["missing"]:
        console.print(f"[bold red]missing[/] {escape(m['stack'])}.{escape(m['logical_id'])} "
                      f"({escape(m['property'])}): {escape(m['reason'])}\n"
                      f"  [dim]fix:[/] {escape(m['fix'])}")
    if data["hazards"]:
        t = Table(title="Hazards", title_justify="left")
        for col in ("#", "severity", "kind", "subject", "rule", "when"):
            t.add_column(col, overflow="fold")
        for i, h in enumerate(data["hazards"], 1):
            t.add_row(str(i), f"[{SEVERITY_STYLE.get(h['severity'], 'white')}]{h['severity']}[/]",
                      h["kind"], escape(h["subject"]), escape(h.get("rule") or ""),
                      _when(h.get("date"), h.get("action", "")) if h.get("rule") else "")
        console.print(t)
        for i, h in enumerate(data["hazards"], 1):
            console.print(f"[bold]{i}.[/] {escape(h['detail'])}")
            for k in h.get("keys", []):
                console.print(f"   {escape(k['resource'])}: s3://{escape(h['bucket'])}/"
                              f"{escape(k['key'])} on {_when(k['date'], '')}"
                              + (" [red](overdue)[/]" if k.get("overdue") else ""))
            for img in h.get("images", []):
                console.print(f"   {escape(img)}")
            console.print(f"   [dim]fix:[/] {escape(h['fix'])}")
    for n in data.get("notes", []):
        console.print(f"[yellow]{escape(n)}[/]")


def render_result(console: Console, result: Result) -> None:
    data = result.data
    if "reports" in data:
        t = Table(title=f"Readiness of {data['count']} stack(s) in {data.get('region') or '?'}",
                  title_justify="left")
        for col in ("stack", "ready", "missing", "hazards", "API calls"):
            t.add_column(col)
        for r in data["reports"]:
            if "error" in r:
                t.add_row(escape(r["stack"]), "[red]error[/]", "", escape(r["error"]["message"]),
                          str(r["api_calls_total"]))
                continue
            rep = r["report"]
            t.add_row(escape(r["stack"]), "[green]yes[/]" if rep["ready"] else "[red]no[/]",
                      str(len(rep["missing"])), str(len([h for h in rep["hazards"]
                                                          if h["severity"] != "advice"])),
                      str(r["api_calls_total"]))
        console.print(t)
        for r in data["reports"]:
            if "report" in r and (r["report"]["missing"] or not r["report"]["ready"]):
                console.print()
                render_report(console, r["report"])
        console.print(f"API calls: {data['api_calls']['total']} in total, "
                      f"{data['api_calls']['per_stack_mean']:.1f} per stack on average")
    else:
        render_report(console, data)
    if data.get("evidence_dir"):
        console.print(f"[dim]evidence: {escape(data['evidence_dir'])}[/]")
