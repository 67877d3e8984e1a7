"""The Mermaid gantt chart: labels that would break Mermaid are made safe, and the validator
rejects what GitHub could not render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from recover.bundle.chart import build_chart
from recover.bundle.mermaid import chart_markdown, label, mermaid_blocks, validate_gantt
from recover.bundle.model import Entry

T0 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)


def _entries(subject: str, what: str, status_reason: str) -> list[Entry]:
    return [
        Entry(T0, "stack", "stack_event", subject, "stack", "UPDATE_IN_PROGRESS", "User Initiated"),
        Entry(T0 + timedelta(seconds=3), "stack", "stack_event", subject, what, "UPDATE_FAILED",
              status_reason),
        Entry(T0 + timedelta(seconds=4), "cloudtrail", "trail:artifact_fetch_failure", "cfn",
              f"lambda:{what}", "error InvalidParameterValueException", status_reason),
        Entry(T0 + timedelta(seconds=5), "recover", "recover:run", "run-1",
              "run started: recover rollback-stuck", "started"),
        Entry(T0 + timedelta(seconds=6), "recover", "recover:call", "run-1",
              "cloudformation:ContinueUpdateRollback", "error ValidationError: a: b; c # d"),
        Entry(T0 + timedelta(seconds=9), "recover", "recover:run", "run-1",
              "run ended: recover rollback-stuck", "failed"),
        Entry(T0 + timedelta(seconds=9), "stack", "stack_event", subject, "stack",
              "UPDATE_ROLLBACK_FAILED", status_reason),
    ]


def _charts(title: str, entries: list[Entry]) -> list[str]:
    return list(mermaid_blocks(chart_markdown(build_chart(title, entries))))


def test_chart_has_a_bar_per_operation_and_milestones() -> None:
    charts = _charts("app: incident #1; nested", _entries("app", "Fn (AWS::Lambda::Function)",
                                                           "x"))
    assert len(charts) == 1 and validate_gantt(charts[0]) == []
    lines = charts[0].splitlines()
    assert lines[0].startswith("%%{init: ") and lines[1] == "gantt"
    assert "    title app incident 1 nested" in lines
    assert "    axisFormat %H:%M:%S" in lines and "    tickInterval 1second" in lines
    assert any("update ended UPDATE_ROLLBACK_FAILED :crit, t1, 2026-11-12 09:00:00, "
               "2026-11-12 09:00:09" in ln for ln in lines)
    assert any(":crit, milestone," in ln and "Fn UPDATE_FAILED" in ln for ln in lines)
    assert any("recover rollback-stuck failed :crit," in ln for ln in lines)
    assert [ln.strip() for ln in lines if ln.strip().startswith("section")] == [
        "section stack app", "section CloudTrail", "section recover"]


@settings(max_examples=150, deadline=None)
@given(subject=st.text(min_size=1, max_size=50), what=st.text(max_size=60),
       reason=st.text(max_size=200))
def test_any_text_gives_a_valid_chart(subject: str, what: str, reason: str) -> None:
    charts = _charts(f"{subject} timeline", _entries(subject, what, reason))
    assert charts
    for chart in charts:
        assert validate_gantt(chart) == []
        for ln in chart.splitlines()[2:]:
            if " :" not in ln:  # directives and sections
                continue
            head = ln.split(" :", 1)[0]
            assert not set(head) & set(":;#\"'`<>{}[]()"), ln


def test_labels_that_start_with_a_keyword_are_escaped() -> None:
    assert label("section 3 failed") == "- section 3 failed"
    assert label("") == "event"
    assert label(":;#") == "event"


def test_validator_rejects_what_mermaid_cannot_read() -> None:
    good = ("gantt\n    dateFormat YYYY-MM-DD HH:mm:ss\n    section s\n"
            "    a :t1, 2026-11-12 09:00:00, 2026-11-12 09:00:01")
    assert validate_gantt(good) == []
    assert validate_gantt(good.replace("    a :", "    a: b :"))  # colon in a label
    assert validate_gantt(good.replace("    a :", "    a # b :"))
    assert validate_gantt(good + "\n    b :t1, 2026-11-12 09:00:00, 2026-11-12 09:00:01")
    assert validate_gantt(good.replace("09:00:01", "08:00:00"))  # ends before it starts
    assert validate_gantt("graph TD\n a-->b")
    assert validate_gantt("gantt\n    section s")  # no task
    assert chart_markdown(build_chart("empty", [])) == ""
    init = '%%{init: {"gantt": {"leftPadding": 120}}}%%\n'
    assert validate_gantt(init + good) == []
    assert validate_gantt('%%{init: {"theme": "x"}}%%\n' + good)  # only the padding we write
    assert validate_gantt(good.replace("section s", "tickInterval 5second\n    section s")) == []
    assert validate_gantt(good.replace("section s", "tickInterval 5 seconds\n    section s"))
