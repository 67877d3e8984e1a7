"""The incident chart: the incident window at a readable scale, earlier history in words, one
lane per stack with its failed resources marked; the same chart in timeline.md (Mermaid) and
timeline.html (inline SVG)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recover.bundle.chart import GAP, build_chart
from recover.bundle.document import build_bundle
from recover.bundle.mermaid import chart_markdown, mermaid_blocks, validate_gantt
from recover.bundle.model import Collected, Entry, TrailOutcome, Window
from recover.model.stack import StackEvent, StackInfo, StackNode, StackSnapshot

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
INCIDENT = T0 + timedelta(days=30)
ROOT_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1"
CHILD_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/app-Api-X1/2"
_TASK = re.compile(r":(?P<tags>[a-z, ]*?)t\d+, (?P<s>[\d\- :]{19}), (?P<e>[\d\- :]{19})$")


def _ev(stack_id: str, stack: str, t: datetime, logical: str, status: str, reason: str = "",
        rtype: str = "AWS::CloudFormation::Stack") -> StackEvent:
    return StackEvent(event_id=f"{logical}-{status}-{t.timestamp()}", stack_id=stack_id,
                      stack_name=stack, logical_id=logical,
                      physical_id=stack_id if logical == stack else "", resource_type=rtype,
                      status=status, reason=reason, timestamp=t)


def _events(recovery_after: timedelta) -> tuple[list[StackEvent], list[StackEvent]]:
    """app and its nested app-Api-X1: created 30 days before an update whose rollback fails
    on Fn (NoSuchKey); the continued rollback completes `recovery_after` later."""
    def at(s: float) -> datetime:
        return INCIDENT + timedelta(seconds=s)

    r, c = ROOT_ID, CHILD_ID
    fn = "AWS::Lambda::Function"
    root = [_ev(r, "app", T0, "app", "CREATE_IN_PROGRESS"),
            _ev(r, "app", T0 + timedelta(seconds=40), "app", "CREATE_COMPLETE"),
            _ev(r, "app", T0 + timedelta(days=9), "app", "UPDATE_IN_PROGRESS"),
            _ev(r, "app", T0 + timedelta(days=9, seconds=30), "app", "UPDATE_COMPLETE"),
            _ev(r, "app", at(0), "app", "UPDATE_IN_PROGRESS"),
            _ev(r, "app", at(20), "Api", "UPDATE_FAILED", "Embedded stack failed"),
            _ev(r, "app", at(21), "app", "UPDATE_ROLLBACK_IN_PROGRESS"),
            _ev(r, "app", at(60), "app", "UPDATE_ROLLBACK_FAILED")]
    child = [_ev(c, "app-Api-X1", T0 + timedelta(seconds=5), "app-Api-X1", "CREATE_IN_PROGRESS"),
             _ev(c, "app-Api-X1", T0 + timedelta(seconds=35), "app-Api-X1", "CREATE_COMPLETE"),
             _ev(c, "app-Api-X1", at(2), "app-Api-X1", "UPDATE_IN_PROGRESS"),
             _ev(c, "app-Api-X1", at(15), "Queue", "UPDATE_FAILED", "bad", "AWS::SQS::Queue"),
             _ev(c, "app-Api-X1", at(18), "app-Api-X1", "UPDATE_FAILED"),
             _ev(c, "app-Api-X1", at(22), "app-Api-X1", "UPDATE_ROLLBACK_IN_PROGRESS"),
             _ev(c, "app-Api-X1", at(40), "Fn", "UPDATE_FAILED", "S3 Error Code: NoSuchKey", fn),
             _ev(c, "app-Api-X1", at(58), "app-Api-X1", "UPDATE_ROLLBACK_FAILED")]
    back = INCIDENT + recovery_after
    root += [_ev(r, "app", back, "app", "UPDATE_ROLLBACK_IN_PROGRESS"),
             _ev(r, "app", back + timedelta(seconds=50), "app", "UPDATE_ROLLBACK_COMPLETE")]
    child += [_ev(c, "app-Api-X1", back + timedelta(seconds=5), "app-Api-X1",
                  "UPDATE_ROLLBACK_IN_PROGRESS"),
              _ev(c, "app-Api-X1", back + timedelta(seconds=45), "app-Api-X1",
                  "UPDATE_ROLLBACK_COMPLETE")]
    return root, child


def _collected(recovery_after: timedelta) -> Collected:
    root, child = _events(recovery_after)
    nodes = (StackNode(StackInfo(stack_id=ROOT_ID, name="app", status="UPDATE_ROLLBACK_COMPLETE"),
                       (), tuple(root)),
             StackNode(StackInfo(stack_id=CHILD_ID, name="app-Api-X1",
                                 status="UPDATE_ROLLBACK_COMPLETE", parent_id=ROOT_ID), (),
                       tuple(child), depth=1))
    snap = StackSnapshot(root_id=ROOT_ID, nodes=nodes, taken_at=INCIDENT + timedelta(days=1),
                         region="us-east-1", account="123456789012", requested="app")
    return Collected(stack="app", snapshot=snap, templates=[], trail=TrailOutcome(), runs=[],
                     window=Window(), generated_at=INCIDENT + timedelta(days=1))


def _tasks(block: str) -> list[tuple[str, datetime, datetime, str]]:
    out = []
    for ln in block.splitlines():
        m = _TASK.search(ln)
        if m:
            out.append((ln.split(" :", 1)[0].strip(), datetime.fromisoformat(m["s"]),
                        datetime.fromisoformat(m["e"]), m["tags"]))
    return out


@pytest.mark.parametrize("recovery_after", [timedelta(minutes=5), timedelta(hours=3)])
def test_incident_bars_are_readable_in_timeline_md(recovery_after: timedelta) -> None:
    """Every stack operation of the incident takes a visible share of its chart's width (a
    chart of the stack's whole 30-day life made them invisible slivers)."""
    md = build_bundle(_collected(recovery_after), now=INCIDENT + timedelta(days=1))[
        "timeline.md"].decode()
    blocks = list(mermaid_blocks(md))
    assert blocks and all(validate_gantt(b) == [] for b in blocks)
    seen_failed = False
    for block in blocks:
        tasks = _tasks(block)
        span = max(e for _, _, e, _ in tasks) - min(s for _, s, _, _ in tasks)
        assert span <= timedelta(minutes=15), block
        for text, s, e, tags in tasks:
            if "milestone" not in tags:
                assert (e - s) / max(span, timedelta(seconds=1)) >= 0.03, (text, block)
            seen_failed |= "crit" in tags
    assert seen_failed
    assert "CREATE" not in "".join(blocks)  # the creation is history, told in words
    assert "Before the incident window" in md and "app: 2 operations" in md


def test_lanes_episodes_and_failed_resources() -> None:
    root, child = _events(timedelta(hours=3))
    entries = sorted([Entry(e.timestamp, "stack", "stack_event", e.stack_name,
                            "stack" if e.logical_id == e.stack_name
                            else f"{e.logical_id} ({e.resource_type})", e.status, e.reason)
                      for e in [*root, *child]], key=lambda e: e.time)
    entries.append(Entry(INCIDENT + timedelta(hours=3) - timedelta(seconds=5), "recover",
                         "recover:run", "run-1", "run started: recover rollback-stuck",
                         "started"))
    entries.append(Entry(INCIDENT + timedelta(hours=3, seconds=55), "recover", "recover:run",
                         "run-1", "run ended: recover rollback-stuck", "finished"))
    entries.sort(key=lambda e: e.time)
    chart = build_chart("app incident", entries)
    assert chart.window_start == INCIDENT  # the update that failed, not the creation
    assert chart.lanes == ("app", "app-Api-X1", "recover")
    assert len(chart.episodes) == 2 and chart.episodes[1].start - chart.episodes[0].end > GAP
    first, second = chart.episodes
    assert [m.label for m in first.rows("app-Api-X1") if hasattr(m, "count")] == [
        "Queue UPDATE_FAILED", "Fn UPDATE_FAILED"]
    assert all(m.failed for m in first.marks)
    assert {b.label for b in second.bars if b.lane == "recover"} == {
        "recover rollback-stuck finished"}
    assert chart.failed_resources == {"app": ("Api",), "app-Api-X1": ("Queue", "Fn")}
    assert any("app: 2 operations" in h and "none failed" in h for h in chart.history)
    md = chart_markdown(chart)
    assert md.count("```mermaid") == 2 and "### 1 of 2:" in md and "### 2 of 2:" in md
    assert "Failed resources (red markers): app-Api-X1: Queue, Fn; app: Api." in md


def test_html_has_the_same_chart_as_inline_svg_and_wrapping_tables() -> None:
    files = build_bundle(_collected(timedelta(hours=3)), now=INCIDENT + timedelta(days=1),
                         html=True)
    html = files["timeline.html"].decode()
    assert html.count("<svg ") == 2  # one per episode, drawn inline
    assert "<script" not in html and "http://" not in html and "https://" not in html
    svg = html[html.index("<svg "):html.index("</svg>")]
    assert "Fn UPDATE_FAILED" in svg and "stack app-Api-X1" in svg
    assert "#cf222e" in svg  # failed resources and operations in red
    assert "overflow-wrap:anywhere" in html and "table-layout:fixed" in html


def test_no_failure_charts_the_last_operation() -> None:
    entries = [Entry(T0, "stack", "stack_event", "app", "stack", "CREATE_IN_PROGRESS"),
               Entry(T0 + timedelta(seconds=9), "stack", "stack_event", "app", "stack",
                     "CREATE_COMPLETE"),
               Entry(T0 + timedelta(days=3), "stack", "stack_event", "app", "stack",
                     "UPDATE_IN_PROGRESS"),
               Entry(T0 + timedelta(days=3, seconds=20), "stack", "stack_event", "app", "stack",
                     "UPDATE_COMPLETE")]
    chart = build_chart("app", entries)
    assert chart.window_start == T0 + timedelta(days=3)
    assert [b.label for ep in chart.episodes for b in ep.bars] == ["update ended UPDATE_COMPLETE"]
    assert build_chart("empty", []).empty and chart_markdown(build_chart("empty", [])) == ""


MMDC = shutil.which("mmdc")
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)


@pytest.mark.skipif(MMDC is None or CHROMIUM is None, reason="mmdc or chromium not installed")
def test_mermaid_cli_renders_every_block(tmp_path: Path) -> None:
    """Where the Mermaid CLI is installed, it really parses and draws the chart."""
    md = build_bundle(_collected(timedelta(hours=3)), now=INCIDENT + timedelta(days=1))[
        "timeline.md"].decode()
    config = tmp_path / "p.json"
    config.write_text(f'{{"executablePath": "{CHROMIUM}", "args": ["--no-sandbox"]}}')
    for i, block in enumerate(mermaid_blocks(md)):
        src = tmp_path / f"c{i}.mmd"
        src.write_text(block)
        out = tmp_path / f"c{i}.svg"
        proc = subprocess.run([MMDC, "-q", "-p", str(config), "-i", str(src), "-o", str(out)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "Fn UPDATE_FAILED" in out.read_text() or i == 1


def test_skipped_and_retained_resources_are_named_on_the_call() -> None:
    t = INCIDENT
    entries = [Entry(t, "stack", "stack_event", "app", "stack", "UPDATE_IN_PROGRESS"),
               Entry(t + timedelta(seconds=5), "stack", "stack_event", "app", "stack",
                     "UPDATE_ROLLBACK_FAILED"),
               Entry(t + timedelta(seconds=9), "recover", "recover:call", "run-1",
                     "cloudformation:ContinueUpdateRollback", "ok",
                     'continue; StackName=app, ResourcesToSkip=["app-Api-X1.Fn", "Db"]'),
               Entry(t + timedelta(seconds=12), "recover", "recover:call", "run-1",
                     "cloudformation:DeleteStack", "ok", 'RetainResources=["A", "B", "C", "D"]')]
    labels = [m.label for ep in build_chart("app", entries).episodes for m in ep.marks]
    assert labels == ["ContinueUpdateRollback ok, skipping Fn, Db",
                      "DeleteStack ok, retaining A, B, C and 1 more"]
