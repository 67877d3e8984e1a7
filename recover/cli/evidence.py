"""`recover evidence STACK`: export the postmortem bundle (timeline.md, evidence.json, raw
inputs, MANIFEST.sha256; zip or folder; optional HTML)."""

from __future__ import annotations

import re
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from recover.cli.common import recover_command
from recover.cli.params import STACK, examples
from recover.cli.trail import SOURCE_HELP
from recover.run.context import RunContext
from recover.run.errors import UsageError
from recover.run.result import Result

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_out(stack: str, fmt: str, when: str, where: Path) -> Path:
    name = f"{_SAFE.sub('_', stack)}-postmortem-{when}"
    return where / (name + (".zip" if fmt == "zip" else ""))


@examples(
    "recover evidence my-stack",
    "recover evidence my-stack --trail lookup --since 2d --html --format dir",
)
@click.command("evidence", epilog=SOURCE_HELP)
@click.argument("stack", type=STACK)
@click.option("--out", type=click.Path(path_type=Path),
              help="Where the bundle goes: a .zip file, a folder (--format dir), or an existing "
                   "folder to put it in. Default: <stack>-postmortem-<UTC time>[.zip] in this "
                   "run's evidence folder (printed at the end). Never overwrites.")
@click.option("--since", help="Only what happened at or after this time (ISO-8601 or 2h, 3d...).")
@click.option("--until", help="Only what happened at or before this time (ISO-8601 or 2h, 3d...).")
@click.option("--trail", "trail", metavar="SOURCE",
              help="Where to read CloudTrail (same forms as `recover trail scan`); "
                   "without it the bundle has no CloudTrail records.")
@click.option("--format", "fmt", type=click.Choice(["zip", "dir"]), default="zip",
              show_default=True, help="A zip file or a plain folder.")
@click.option("--html", is_flag=True, help="Also write timeline.html (self-contained, offline).")
@recover_command("evidence")
def command(rc: RunContext, stack: str, out: Path | None, since: str | None, until: str | None,
            trail: str | None, fmt: str, html: bool) -> Result:
    """Export the postmortem bundle of STACK and its nested stacks: one chronological timeline
    of stack events, related CloudTrail records and recover's own actions, redacted."""
    from recover.bundle.collect import collect
    from recover.bundle.document import write_bundle
    from recover.bundle.model import Window
    from recover.cloudtrail.scan import parse_time_spec
    from recover.run.services import open_evidence
    from recover.run.services import (
        source_deps as trail_deps,  # the same SOURCE handling as `trail scan`
    )

    now = rc.clock()
    window = Window(since=parse_time_spec(since, now) if since else None,
                    until=parse_time_spec(until, now) if until else None)
    if window.since and window.until and window.since > window.until:
        raise UsageError("--since is later than --until")
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    target = None if out is None else out if not out.is_dir() else default_out(
        stack, fmt, stamp, out)
    if target is not None and target.exists():
        raise UsageError(f"{target} already exists; pick another --out (a bundle never "
                         "overwrites)")
    with open_evidence(rc, "evidence", stack) as ev:
        # default: inside this run's own evidence folder (never the current folder; bundles
        # never read `recover evidence` runs back, so it is not bundled again)
        target = target or default_out(stack, fmt, stamp, ev.dir)
        collected = collect(rc.aws, stack, window=window, trail=trail,
                            evidence_root=rc.evidence_root, clock=rc.clock,
                            trail_deps=trail_deps(rc),
                            exclude_run=ev.dir, endpoint_url=rc.options.endpoint_url,
                            progress=rc.progress)
        # streamed to disk in one pass: memory stays flat however long the timeline is
        path, doc = write_bundle(collected, target, fmt=fmt, now=now, html=html)
        data = {"bundle": str(path), "format": fmt, "files": len(doc["files"]),
                "entries": doc["entry_count"], "stack": doc["stack"],
                "summary": doc["summary"], "coverage": doc["coverage"],
                "redaction": doc["redaction"], "cloudtrail": {
                    k: doc["cloudtrail"][k] for k in ("source", "records_read", "related",
                                                      "related_by_kind", "error")},
                "runs": [r["name"] for r in doc["runs"]],
                "runs_left_out": doc["runs_left_out"], "evidence_dir": str(ev.dir)}
        ev.write_json("bundle.json", {k: v for k, v in data.items() if k != "summary"})
        ev.finish("finished", 0)
    return Result(command="evidence", data=data, human=_human)


def _human(console: Console, result: Result) -> None:
    d = result.data
    s = d["summary"]
    console.print(f"[bold]{escape(d['stack'])}[/] is {escape(s['root_status'])}: "
                  f"{d['entries']} timeline entries "
                  f"({', '.join(f'{n} {k}' for k, n in s['counts'].items()) or 'none'}).")
    for title, key in (("what failed", "what_failed"), ("still inconsistent",
                                                         "still_inconsistent")):
        items = s[key]
        if items:
            console.print(f"[bold]{title}[/] ({len(items)}):")
            for item in items[:8]:
                console.print(f"  - {escape(item)}", soft_wrap=True)
            if len(items) > 8:
                console.print(f"  … {len(items) - 8} more in timeline.md")
    red = d["redaction"]
    console.print(f"redacted: {red['total']} value(s)"
                  + (f" ({', '.join(f'{k} {n}' for k, n in red['by_kind'].items())})"
                     if red["total"] else ""))
    ct = d["cloudtrail"]
    if ct["source"]:
        console.print(f"CloudTrail {escape(ct['source'])}: {ct['records_read']} read, "
                      f"{ct['related']} related" + (f"; [yellow]{escape(ct['error'])}[/]"
                                                    if ct["error"] else ""))
    console.print(f"[green]bundle:[/] {escape(d['bundle'])}")
