"""timeline.md: the page a postmortem author pastes (GitHub-flavoured Markdown)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recover.bundle.model import Entry

TABLE_HEADER = ("#", "time (UTC)", "source", "stack / actor", "what", "status", "detail")


def cell(value: Any) -> str:
    """A table cell: one line, `|` escaped, no raw HTML."""
    s = " ".join(str(value).split())
    return (s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace(">", "&gt;")) or " "


def text(value: Any) -> str:
    """Prose: one line, no raw HTML."""
    return " ".join(str(value).split()).replace("<", "&lt;").replace(">", "&gt;")


def time_cell(e: Entry) -> str:
    return e.time.strftime("%Y-%m-%d %H:%M:%S.") + f"{e.time.microsecond // 1000:03d}"


def _bullets(items: Iterable[str], empty: str) -> list[str]:
    items = list(items)
    if not items:
        return [f"- {empty}"]
    return [f"- {text(i)}" for i in items]


def timeline_intro(shown: int, total: int) -> str:
    if shown == total:
        return (f"{total} entries, oldest first: stack events of every stack of the tree, "
                "related CloudTrail records and recover's own actions and operator answers.")
    return (f"{total} entries in all; this page shows {shown} of them, oldest first: the "
            "incident window (every failure, every stack status change, the CloudTrail "
            "changes to the stacks, their roles and objects, and everything recover did, each "
            "with the rows around it) and the last rows. Every entry is in `evidence.json` "
            "(`entries`, row # = index + 1) and the inputs are in `raw/`.")


def gap_count(rows: list[tuple[int, Entry]], total: int) -> list[tuple[int, Entry | int]]:
    """The rows with, where numbers jump, how many rows are left out there (an int)."""
    out: list[tuple[int, Entry | int]] = []
    last = 0
    for n, e in rows:
        if n > last + 1:
            out.append((last + 1, n - last - 1))
        out.append((n, e))
        last = n
    if total > last:
        out.append((last + 1, total - last))
    return out


MAX_OPERATIONS = 40  # the newest; evidence.json keeps them all


def duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else \
        f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def operations_section(ops: list[dict[str, Any]]) -> list[str]:
    """One row per stack operation (recover.bundle.operations): what ran, how long, how it
    ended, and which recover call started it."""
    if not ops:
        return []
    shown = ops[-MAX_OPERATIONS:]
    out = ["## Operations", "",
           "Each create, update, rollback, continued rollback and delete of every stack, oldest "
           "first" + (f" (the last {len(shown)} of {len(ops)}; all in `evidence.json`)"
                      if len(shown) < len(ops) else "") + ". " +
           ("Grouped by CloudFormation's operation ids." if all(o["operation_id"] for o in ops)
            else "Where events carry no operation id, operations are reconstructed from the "
            "stacks' status events."), "",
           "| started (UTC) | stack | operation | id | duration | outcome | failed | started by |",
           "|---|---|---|---|---|---|---|---|"]
    for o in shown:
        out.append("| " + " | ".join(cell(v) for v in (
            o["start"][:19].replace("T", " "), o["stack"], o["operation_type"],
            (o["operation_id"] or "reconstructed")[:13], duration(o["duration_s"]),
            o["outcome"], ", ".join(o["failed"]) or " ", o["started_by"] or " ")) + " |")
    return [*out, ""]


def render_markdown(doc: dict[str, Any], rows: list[tuple[int, Entry]], total: int,
                    chart: str) -> str:
    """timeline.md; `rows`: the (number, entry) it shows of the `total` (IncidentRows)."""
    s = doc["summary"]
    w = doc["window"]
    out = [f"# Postmortem evidence: {doc['stack']}", "",
           f"Generated {doc['generated_at']} by recover {doc['recover_version']}. "
           f"Region {doc.get('region') or '?'}, account {doc.get('account') or '?'}. "
           f"Window: {w.get('since') or 'the beginning'} to {w.get('until') or 'now'}. "
           f"Root stack status now: **{s['root_status']}**.", "",
           "## Summary", "", "### What failed", *_bullets(s["what_failed"], "nothing failed"),
           "", "### Why", *_bullets(s["why"], "no cause identified"),
           "", "### What was done", *_bullets(s["what_was_done"],
                                              "no recover run found for this stack"),
           "", "### What is still inconsistent",
           *_bullets(s["still_inconsistent"], "nothing known to be inconsistent"), "",
           "### Skipped resources still open",
           *_bullets(s.get("skips_open") or [], "no open skip in the orphan ledger"), "",
           "### Skipped resources reconciled",
           *_bullets(s.get("skips_closed") or [], "none"), ""]
    out += operations_section(doc.get("operations") or [])
    if chart:
        out += ["## Timeline chart", "", chart.rstrip("\n"), ""]
    out += ["## Timeline", "", timeline_intro(len(rows), total), "",
            "| " + " | ".join(TABLE_HEADER) + " |",
            "|" + "|".join("---" for _ in TABLE_HEADER) + "|"]
    for i, e in gap_count(rows, total):
        if isinstance(e, int):
            out.append(f"| … | | | | *{e} entries (#{i}-#{i + e - 1}) not shown: see "
                       "evidence.json* | | |")
            continue
        out.append("| " + " | ".join(cell(v) for v in (
            i, time_cell(e), e.source, e.subject, e.what, e.status, e.detail)) + " |")
    out += ["", "## Stacks", "", "| stack | status | reason | resources | failed |",
            "|---|---|---|---|---|"]
    for st in doc["stacks"]:
        out.append("| " + " | ".join(cell(v) for v in (
            st["name"], st["status"], st["status_reason"] or " ", st["resources"],
            ", ".join(st["failed_resources"]) or " ")) + " |")
    out += ["", "## Resources", "", "| stack | logical id | type | status | physical id | reason |",
            "|---|---|---|---|---|---|"]
    for st in doc["stacks"]:
        for r in st["resource_statuses"]:
            out.append("| " + " | ".join(cell(v) for v in (
                st["name"], r["logical_id"], r["type"], r["status"], r["physical_id"],
                r["reason"])) + " |")
    out += ["", "## Templates", ""]
    for t in doc["templates"]:
        state = "kept in raw/templates/" if t["available"] else f"not available: {t['error']}"
        out.append(f"- {cell(t['stack'])} ({cell(t['label'])}): {cell(state)}")
    ct = doc["cloudtrail"]
    out += ["", "## CloudTrail", ""]
    if ct["source"]:
        rel = ", ".join(f"{k} {v}" for k, v in ct["related_by_kind"].items()) or "none"
        out.append(f"- source `{ct['source']}`: {ct['records_read']} record(s) read, "
                   f"{ct['related']} related ({rel})")
        if ct.get("error"):
            out.append(f"- error: {cell(ct['error'])}")
    else:
        out.append("- no source given (--trail)")
    out += ["", "## Runs left out", ""]
    if doc.get("runs_left_out"):
        out.append("recover runs of the same stack name that are not this stack's evidence "
                   "(another account, region, endpoint or stack id); not in this bundle:")
        out += [f"- {cell(r['name'])} ({cell(r.get('command') or '?')}): "
                f"{cell('; '.join(r['reasons']))}" for r in doc["runs_left_out"]]
    else:
        out.append("- none: every recover run found for this stack name is in this bundle")
    out += ["", "## Coverage: what this evidence cannot show", "",
            *_bullets(doc["coverage"], "-"), "", "## Redaction", ""]
    red = doc["redaction"]
    if red["total"]:
        out.append(f"{red['total']} value(s) were replaced by `[REDACTED:<kind>]` in every file "
                   "of this bundle:")
        out += [f"- {k}: {n}" for k, n in red["by_kind"].items()]
    else:
        out.append("Nothing matched a secret shape; NoEcho parameters, CloudTrail credentials "
                   "and secret-looking values would have been replaced by `[REDACTED:<kind>]`.")
    out += ["", "## Files", "",
            "- `evidence.json`: this page as data (`schema_version`), with every entry",
            "- `raw/`: the inputs (stack snapshot, templates, related CloudTrail records, "
            "recover's evidence folders), redacted",
            "- `MANIFEST.sha256`: SHA-256 of every file (`sha256sum -c MANIFEST.sha256`)", ""]
    return "\n".join(out)
