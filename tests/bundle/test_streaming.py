"""The streaming bundle (issue 19): a big incident gives a readable timeline.md (the incident
window, with a pointer to the data) while evidence.json holds every entry; the zip written by
write_bundle holds exactly what build_bundle makes; the pieces that keep it fast say the same
as the slow forms they stand for."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from recover.bundle.document import build_bundle, write_bundle
from recover.bundle.model import Collected, TrailOutcome, Window
from recover.bundle.redact import _ASSIGNMENT, Redactor
from recover.bundle.timeline import MD_MAX_ROWS, events_oldest_first
from recover.bundle.write import verify_manifest
from recover.model.stack import StackEvent, StackInfo, StackNode, StackSnapshot
from tests.bundle.helpers import timeline_rows

T0 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
SID = "arn:aws:cloudformation:us-east-1:123456789012:stack/big/1"
NOW = T0 + timedelta(days=2)


def big_incident(events: int, failures: tuple[int, ...]) -> Collected:
    evs = tuple(StackEvent(SID, "big", f"e{i}", f"Fn{i % 40}", "AWS::Lambda::Function",
                           T0 + timedelta(seconds=i),
                           "UPDATE_FAILED" if i in failures else "UPDATE_COMPLETE",
                           f"fn-{i % 40}", "S3 Error Code: NoSuchKey" if i in failures else "")
                for i in reversed(range(events)))  # DescribeStackEvents: newest first
    node = StackNode(StackInfo(SID, "big", "UPDATE_ROLLBACK_FAILED"), (), evs)
    snap = StackSnapshot(SID, (node,), T0 + timedelta(days=1), "us-east-1", "123456789012")
    return Collected("big", snap, [], TrailOutcome(), [], Window(), T0 + timedelta(days=1))


def test_big_timeline_md_shows_the_incident_window_and_evidence_json_every_entry() -> None:
    n = 3 * MD_MAX_ROWS
    failures = (1200, 2500)
    files = build_bundle(big_incident(n, failures), now=NOW)
    doc = json.loads(files["evidence.json"])
    assert len(doc["entries"]) == n  # everything, oldest first
    assert [e["ref"] for e in doc["entries"][:3]] == ["e0", "e1", "e2"]
    md = files["timeline.md"].decode()
    assert f"{n} entries in all" in md and "evidence.json" in md
    rows = timeline_rows(md)
    shown = [r for r in rows if r[0] != "…"]
    assert len(shown) <= MD_MAX_ROWS
    numbers = [int(r[0]) for r in shown]
    assert numbers == sorted(numbers)
    # every failure with the rows around it, the last rows, and markers for what is left out
    for f in failures:
        assert {f, f + 1, f + 2} <= set(numbers)  # row # is index + 1
    assert numbers[-1] == n
    gaps = [r for r in rows if r[0] == "…"]
    hidden = sum(int(re.search(r"(\d+) entries", r[4]).group(1)) for r in gaps)
    assert hidden + len(shown) == n
    assert all(doc["entries"][int(r[0]) - 1]["time"].startswith(r[1][:10]) for r in shown)


def test_small_timeline_md_shows_every_row() -> None:
    files = build_bundle(big_incident(50, (10,)), now=NOW)
    rows = timeline_rows(files["timeline.md"].decode())
    assert [int(r[0]) for r in rows] == list(range(1, 51))


def test_write_bundle_streams_the_same_files_as_build_bundle(tmp_path: Path) -> None:
    c = big_incident(2 * MD_MAX_ROWS, (7,))
    files = build_bundle(c, now=NOW, html=True)
    out, doc = write_bundle(c, tmp_path / "b.zip", fmt="zip", now=NOW, html=True)
    assert doc["entry_count"] == 2 * MD_MAX_ROWS and "entries" not in doc
    with zipfile.ZipFile(out) as zf:
        got = {i.filename.split("/", 1)[1]: zf.read(i) for i in zf.infolist()}
        zf.extractall(tmp_path / "x")
    assert verify_manifest(tmp_path / "x" / "b") == []
    got.pop("MANIFEST.sha256")
    assert got.keys() == files.keys()
    for name in ("evidence.json", "timeline.md", "raw/snapshot.json"):
        assert got[name] == files[name], name
    folder, _ = write_bundle(c, tmp_path / "d", fmt="dir", now=NOW)
    assert verify_manifest(folder) == []
    # raw/snapshot.json is still the snapshot, newest event first as AWS gave it
    raw = json.loads(files["raw/snapshot.json"])
    assert StackSnapshot.from_dict(raw) == c.snapshot


def test_events_come_out_oldest_first_keeping_the_given_order_of_equal_times() -> None:
    def ev(i: int, sec: int) -> StackEvent:
        return StackEvent(SID, "big", f"e{i}", "X", "T", T0 + timedelta(seconds=sec), "S")
    newest_first = (ev(0, 3), ev(1, 2), ev(2, 2), ev(3, 1))
    assert [e.event_id for e in events_oldest_first(newest_first)] == ["e3", "e1", "e2", "e0"]
    assert [e.event_id for e in events_oldest_first(newest_first)] == [
        e.event_id for e in sorted(newest_first, key=lambda e: e.timestamp)]
    mixed = (ev(0, 2), ev(1, 3), ev(2, 1))
    assert [e.event_id for e in events_oldest_first(mixed)] == ["e2", "e0", "e1"]


_TEXT = st.text(alphabet=st.sampled_from(list("aAkKeEyYtToOnNsScCrRpPwWdD_-=: \"'x1/+,\n")),
                max_size=80)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_assignments_found_by_pieces_are_those_of_the_whole_text(s: str) -> None:
    windowed, whole = Redactor(), Redactor()
    assert windowed._assignments(s, s.lower()) == _ASSIGNMENT.sub(whole._assignment, s)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=6))
def test_all_clean_never_says_clean_when_a_field_needs_redacting(fields: list[str]) -> None:
    r = Redactor(["hunter2-secret-value"])
    if r.all_clean(fields):
        assert [Redactor(["hunter2-secret-value"]).text(f) for f in fields] == fields
