"""timeline.html: the same timeline as one self-contained page (inline CSS, no script, no
link to anything: it opens offline and from an attachment)."""

from __future__ import annotations

from html import escape
from typing import Any

from recover.bundle.chart import Chart
from recover.bundle.chart_svg import chart_html
from recover.bundle.model import Entry
from recover.bundle.render_md import (
    MAX_OPERATIONS,
    duration,
    gap_count,
    time_cell,
    timeline_intro,
)

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;font-size:12.5px;table-layout:fixed}
th,td{border:1px solid #d0d7de;padding:3px 6px;vertical-align:top;text-align:left;
overflow-wrap:anywhere;word-break:break-word}
table.tl col.n{width:3em}table.tl col.t{width:9em}table.tl col.src{width:6.5em}
table.tl col.subj{width:14%}table.tl col.what{width:16%}table.tl col.st{width:13%}
table.hr col.h{width:10em}
table.op col.t{width:10em}table.op col.ty{width:12.5em}table.op col.id{width:9.5em}
table.op col.d{width:6em}table.op col.st{width:17em}
li{overflow-wrap:anywhere}
div.chart{overflow-x:auto;margin:.5rem 0 1rem}div.chart svg{max-width:100%;height:auto}
.legend .key{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px}
th{background:#f6f8fa;position:sticky;top:0}
tr.stack td.src{color:#0550ae}tr.cloudtrail td.src{color:#8250df}tr.recover td.src{color:#1a7f37}
tr.failed td.st,td.opfail{color:#cf222e;font-weight:600}
td.t{font-family:ui-monospace,monospace;overflow-wrap:normal;word-break:normal}
.bar{display:inline-block;height:10px;background:#0969da;vertical-align:middle}
.bar.failed{background:#cf222e}
"""


def _list(items: list[str], empty: str) -> str:
    if not items:
        return f"<ul><li>{escape(empty)}</li></ul>"
    return "<ul>" + "".join(f"<li>{escape(str(i))}</li>" for i in items) + "</ul>"


def _density(entries: list[Entry]) -> str:
    """A small per-hour activity strip (failures in red): what Mermaid shows in timeline.md,
    without any script."""
    if not entries:
        return ""
    buckets: dict[str, list[int]] = {}
    for e in entries:
        hour = e.time.strftime("%Y-%m-%d %H:00")
        b = buckets.setdefault(hour, [0, 0])
        b[1 if e.failed else 0] += 1
    top = max(a + f for a, f in buckets.values())
    rows = []
    for hour, (ok, bad) in buckets.items():
        rows.append(f"<tr><td class='t'>{escape(hour)}</td><td>"
                    f"<span class='bar' style='width:{int(300 * ok / top)}px'></span>"
                    f"<span class='bar failed' style='width:{int(300 * bad / top)}px'></span> "
                    f"{ok + bad} ({bad} failed)</td></tr>")
    return ("<h2>Activity by hour (UTC)</h2><table class='hr'><col class='h'><col>"
            "<tr><th>hour</th><th>entries</th></tr>"
            + "".join(rows) + "</table>")


def _operations(ops: list[dict[str, Any]]) -> str:
    """The per-operation table (recover.bundle.operations), failed outcomes in red."""
    if not ops:
        return ""
    rows = []
    for o in ops[-MAX_OPERATIONS:]:
        failed = "FAILED" in o["outcome"]
        rows.append(
            "<tr>"
            f"<td class='t'>{escape(o['start'][:19].replace('T', ' '))}</td>"
            f"<td>{escape(o['stack'])}</td><td>{escape(o['operation_type'])}</td>"
            f"<td class='t'>{escape((o['operation_id'] or 'reconstructed')[:13])}</td>"
            f"<td>{escape(duration(o['duration_s']))}</td>"
            f"<td class='{'opfail' if failed else 'st'}'>{escape(o['outcome'])}</td>"
            f"<td>{escape(', '.join(o['failed']))}</td>"
            f"<td>{escape(o['started_by'] or '')}</td></tr>")
    return ("<h2>Operations</h2><table class='op'><col class='t'><col><col class='ty'>"
            "<col class='id'><col class='d'><col class='st'><col><col>"
            "<tr><th>started (UTC)</th><th>stack</th><th>operation</th><th>id</th>"
            "<th>duration</th><th>outcome</th><th>failed</th><th>started by</th></tr>"
            + "".join(rows) + "</table>")


def render_html(doc: dict[str, Any], rows: list[tuple[int, Entry]], total: int,
                chart: Chart | None = None) -> str:
    """timeline.html; `rows`: the (number, entry) timeline.md shows of the `total`."""
    s = doc["summary"]
    entries = [e for _, e in rows]
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
             "style-src 'unsafe-inline'\">",
             f"<title>Postmortem evidence: {escape(doc['stack'])}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Postmortem evidence: {escape(doc['stack'])}</h1>",
             f"<p>Generated {escape(doc['generated_at'])} by recover "
             f"{escape(doc['recover_version'])}. Root stack status now: "
             f"<strong>{escape(s['root_status'])}</strong>.</p>",
             "<h2>What failed</h2>", _list(s["what_failed"], "nothing failed"),
             "<h2>Why</h2>", _list(s["why"], "no cause identified"),
             "<h2>What was done</h2>", _list(s["what_was_done"], "no recover run found"),
             "<h2>What is still inconsistent</h2>",
             _list(s["still_inconsistent"], "nothing known to be inconsistent"),
             "<h2>Skipped resources still open</h2>",
             _list(s.get("skips_open") or [], "no open skip in the orphan ledger"),
             "<h2>Skipped resources reconciled</h2>", _list(s.get("skips_closed") or [], "none"),
             _operations(doc.get("operations") or []),
             chart_html(chart) if chart is not None else "",
             _density(entries),
             "<h2>Timeline</h2>", f"<p>{escape(timeline_intro(len(rows), total))}</p>",
             "<table class='tl'><col class='n'><col class='t'><col class='src'>"
             "<col class='subj'><col class='what'><col class='st'><col>"
             "<tr><th>#</th><th>time (UTC)</th><th>source</th><th>stack / actor</th>"
             "<th>what</th><th>status</th><th>detail</th></tr>"]
    for i, e in gap_count(rows, total):
        if isinstance(e, int):
            parts.append(f"<tr><td>…</td><td colspan='6'><em>{e} entries (#{i}-#{i + e - 1}) "
                         "not shown: see evidence.json</em></td></tr>")
            continue
        cls = f"{e.source}{' failed' if e.failed else ''}"
        parts.append(f"<tr class='{cls}'><td>{i}</td><td class='t'>{escape(time_cell(e))}</td>"
                     f"<td class='src'>{escape(e.source)}</td><td>{escape(e.subject)}</td>"
                     f"<td>{escape(e.what)}</td><td class='st'>{escape(e.status)}</td>"
                     f"<td>{escape(e.detail)}</td></tr>")
    parts.append("</table>")
    parts += ["<h2>Runs left out</h2>",
              _list([f"{r['name']} ({r.get('command') or '?'}): {'; '.join(r['reasons'])}"
                     for r in doc.get("runs_left_out") or []],
                    "none: every recover run found for this stack name is in this bundle"),
              "<h2>Coverage: what this evidence cannot show</h2>", _list(doc["coverage"], "-"),
              "<h2>Redaction</h2>",
              _list([f"{k}: {n}" for k, n in doc["redaction"]["by_kind"].items()],
                    "nothing matched a secret shape"),
              "</body></html>"]
    return "\n".join(parts) + "\n"
