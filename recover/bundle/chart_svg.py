"""The incident chart (recover.bundle.chart) as inline SVG for timeline.html (pure).

No script and no external reference: presentation attributes only, so the page's
Content-Security-Policy (default-src 'none') leaves it intact. One SVG per episode: a label
column on the left (one row per bar or marker, grouped in lanes), the time axis on top.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape

from recover.bundle.chart import (
    RECOVER_LANE,
    Bar,
    Chart,
    Episode,
    Mark,
    duration,
    tick_step,
)
from recover.bundle.mermaid import episode_heading, lane_title

WIDTH = 1160
LABEL_W = 430
PLOT_X = LABEL_W + 10
PLOT_W = WIDTH - PLOT_X - 70  # room on the right for a duration after the last bar
ROW = 20
LANE_HEAD = 22
AXIS = 34
LABEL_CHARS = 64
COLOURS = {"failed": "#cf222e", "done": "#6e7781", "running": "#0969da",
           "recover": "#1a7f37", "mark": "#57606a"}


def _ticks(start: datetime, span: timedelta) -> list[datetime]:
    """Round tick times (every 1, 2, 5, 10... seconds) across the span."""
    step = tick_step(span, target=8)
    first = start.replace(microsecond=0)
    offset = (first.hour * 3600 + first.minute * 60 + first.second) % step
    t = first - timedelta(seconds=offset)
    if t < start:
        t += timedelta(seconds=step)
    out = []
    while t <= start + span:
        out.append(t)
        t += timedelta(seconds=step)
    return out


def _tick_label(t: datetime, span: timedelta) -> str:
    if span <= timedelta(minutes=30):
        return t.strftime("%H:%M:%S")
    if span <= timedelta(days=1):
        return t.strftime("%H:%M")
    return t.strftime("%m-%d %H:%M")


def _clip_text(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def episode_svg(chart: Chart, ep: Episode) -> str:
    span = ep.span
    lanes = [(lane, ep.rows(lane)) for lane in chart.lanes]
    lanes = [(lane, rows) for lane, rows in lanes if rows]
    height = AXIS + sum(LANE_HEAD + ROW * len(rows) for _, rows in lanes) + 8

    def x(t: datetime) -> float:
        return PLOT_X + PLOT_W * max(0.0, min(1.0, (t - ep.start) / span))

    parts = [f'<svg width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="system-ui,sans-serif" '
             f'font-size="12"><title>{escape(episode_heading(1, chart, ep))}</title>']
    for t in _ticks(ep.start, span):
        tx = x(t)
        parts.append(f'<line x1="{tx:.1f}" y1="{AXIS - 6}" x2="{tx:.1f}" y2="{height - 4}" '
                     f'stroke="#d0d7de" stroke-width="1"/>'
                     f'<text x="{tx:.1f}" y="{AXIS - 12}" text-anchor="middle" fill="#57606a">'
                     f'{escape(_tick_label(t, span))}</text>')
    y = AXIS
    for lane, rows in lanes:
        title = lane_title(lane)
        parts.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{LANE_HEAD}" fill="#f6f8fa"/>'
                     f'<text x="6" y="{y + 15}" font-weight="600" fill="#1f2328">'
                     f'{escape(_clip_text(title, 80))}</text>')
        y += LANE_HEAD
        for item in rows:
            parts.append(_row_svg(item, y, x))
            y += ROW
    parts.append("</svg>")
    return "".join(parts)


def _row_svg(item: Bar | Mark, y: int, xf: Callable[[datetime], float]) -> str:
    mid = y + ROW / 2
    if isinstance(item, Mark):
        text = item.label + (f" x{item.count}" if item.count > 1 else "")
        colour = COLOURS["failed"] if item.failed else COLOURS["mark"]
        cx = xf(item.time)
        shape = (f'<polygon points="{cx:.1f},{mid - 6:.1f} {cx + 6:.1f},{mid:.1f} '
                 f'{cx:.1f},{mid + 6:.1f} {cx - 6:.1f},{mid:.1f}" fill="{colour}">'
                 f'<title>{escape(text)} at {item.time:%Y-%m-%d %H:%M:%S}</title></polygon>')
        after = ""
    else:
        text = item.label
        colour = COLOURS["recover"] if item.lane == RECOVER_LANE and not item.failed \
            else COLOURS[item.state]
        x0 = xf(item.start)
        x1 = max(xf(item.end), x0 + 3)
        shape = (f'<rect x="{x0:.1f}" y="{y + 4}" width="{x1 - x0:.1f}" height="{ROW - 8}" '
                 f'rx="2" fill="{colour}"><title>{escape(text)}: '
                 f'{item.start:%Y-%m-%d %H:%M:%S} to {item.end:%H:%M:%S}</title></rect>')
        after = (f'<text x="{x1 + 4:.1f}" y="{mid + 4:.1f}" fill="#57606a" font-size="11">'
                 f'{escape(duration(item.end - item.start))}</text>')
    weight = ' font-weight="600"' if (isinstance(item, Mark) and item.failed) or (
        isinstance(item, Bar) and item.failed) else ""
    fill = COLOURS["failed"] if weight else "#1f2328"
    return (f'<text x="14" y="{mid + 4:.1f}" fill="{fill}"{weight}>'
            f'{escape(_clip_text(text))}<title>{escape(text)}</title></text>{shape}{after}')


def chart_html(chart: Chart) -> str:
    """The chart section of timeline.html (empty when there is nothing to draw)."""
    if chart.empty:
        return ""
    parts = ["<h2>Incident chart (UTC)</h2>"]
    if chart.history:
        parts.append(f"<p>{escape(chart.history[0])}</p><ul>"
                     + "".join(f"<li>{escape(h)}</li>" for h in chart.history[1:]) + "</ul>")
    failed = [f"{lane}: {', '.join(ids)}" for lane, ids in chart.failed_resources.items()]
    if failed:
        parts.append("<p>Failed resources (red markers): " + escape("; ".join(failed))
                     + ".</p>")
    parts.append("<p class='legend'><span class='key' style='background:#cf222e'></span>failed "
                 "<span class='key' style='background:#6e7781'></span>stack operation "
                 "<span class='key' style='background:#1a7f37'></span>recover run "
                 "<span class='key' style='background:#0969da'></span>still running; "
                 "diamonds are single events</p>")
    for i, ep in enumerate(chart.episodes, 1):
        parts.append(f"<h3>{escape(episode_heading(i, chart, ep))}</h3>")
        if ep.left_out:
            parts.append(f"<p>{ep.left_out} more marker(s) are in the table below.</p>")
        parts.append(f"<div class='chart'>{episode_svg(chart, ep)}</div>")
    return "".join(parts)
