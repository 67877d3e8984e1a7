"""The bundle built offline from a real describe-stack-events dump (shared/data), CloudTrail
records in the real shape, and an evidence folder written by the real executor and journal."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import stat
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.bundle.collect import read_runs
from recover.bundle.document import build_bundle
from recover.bundle.mermaid import fences_balanced, mermaid_blocks, validate_gantt
from recover.bundle.model import Collected, TemplateCopy, TrailOutcome, Window
from recover.bundle.relate import relation, subjects_of
from recover.bundle.timeline import build_timeline
from recover.bundle.write import verify_manifest, write_dir, write_zip
from recover.cloudtrail.record import TrailRecord
from recover.model.stack import StackEvent, StackInfo, StackNode, StackResource, StackSnapshot
from recover.run.errors import UsageError
from recover.run.evidence import EvidenceRun
from tests.bundle.helpers import (
    NOECHO_VALUE,
    PRIVATE_KEY,
    SECRETS,
    assume_role_record,
    bundle_files,
    ct_time,
    noecho_template,
    session_call_record,
    timeline_rows,
)
from tests.conftest import FakeClock, OfflineSessionFactory

DUMP = "stack-events/Makazine_ingestion-pipeline/stack-events-log.json"
STACK = "ndjson-parquet-sqs"
ACCOUNT = "804450520964"
BUCKET = "ndjson-parquet-sqs-logs-804450520964"


def snapshot_from_dump(path: Path) -> StackSnapshot:
    raw = json.loads(path.read_text())["StackEvents"]
    events = tuple(reversed([StackEvent.from_api(e) for e in raw]))  # AWS: newest first
    last: dict[str, StackEvent] = {}
    for e in events:
        last[e.logical_id] = e
    root = last.pop(STACK)
    resources = tuple(StackResource(lid, e.resource_type, e.status, e.physical_id, e.reason,
                                    e.timestamp) for lid, e in last.items())
    info = StackInfo(stack_id=root.stack_id, name=STACK, status=root.status,
                     parameters=(("DbPassword", "****"), ("Stage", "prod")))
    return StackSnapshot(root_id=root.stack_id, nodes=(StackNode(info, resources, events),),
                         taken_at=events[-1].timestamp + timedelta(days=1), region="us-east-1",
                         account=ACCOUNT, requested=STACK)


def trail_records(t0: datetime) -> list[dict[str, Any]]:
    base = {"eventVersion": "1.08", "awsRegion": "us-east-1", "recipientAccountId": ACCOUNT,
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/dev",
                             "accountId": ACCOUNT, "userName": "dev"},
            "sourceIPAddress": "198.51.100.4", "userAgent": "aws-cli/2.15"}
    create = base | {"eventTime": ct_time(t0 - timedelta(seconds=1)),
                     "eventSource": "cloudformation.amazonaws.com", "eventName": "CreateStack",
                     "requestParameters": {"stackName": STACK, "parameters": [
                         {"parameterKey": "DbPassword", "parameterValue": "****"}]},
                     "responseElements": {"stackId": f"arn:aws:cloudformation:us-east-1:"
                                                     f"{ACCOUNT}:stack/{STACK}/x"},
                     "eventID": "ct-create", "readOnly": False}
    delete_object = base | {"eventTime": ct_time(t0 + timedelta(seconds=30)),
                            "eventSource": "s3.amazonaws.com", "eventName": "DeleteObject",
                            "eventCategory": "Data",
                            "requestParameters": {"bucketName": BUCKET, "key": "logs/a.gz"},
                            "eventID": "ct-delobj", "readOnly": False}
    unrelated = base | {"eventTime": ct_time(t0 + timedelta(seconds=40)),
                        "eventSource": "iam.amazonaws.com", "eventName": "DeleteRole",
                        "requestParameters": {"roleName": "somebody-else"},
                        "eventID": "ct-unrelated", "readOnly": False}
    session = session_call_record(t0 + timedelta(seconds=50), "x")
    session.update(eventSource="s3.amazonaws.com", eventName="PutBucketPolicy",
                   requestParameters={"bucketName": BUCKET,
                                      "policy": f"{{\"note\": \"{NOECHO_VALUE}\"}}"})
    return [create, delete_object, unrelated,
            assume_role_record(t0 + timedelta(seconds=45),
                               f"arn:aws:iam::{ACCOUNT}:role/breakglass"), session]


def make_run(root: Path, snap: StackSnapshot, when: datetime) -> Path:
    """An evidence folder as a real run leaves it: executor journal (one call that worked,
    one refused), an operator answer, a plan, an orphan ledger and a kind from the future."""
    clock = FakeClock(when)
    aws = OfflineSessionFactory(region="us-east-1")
    with EvidenceRun(root, "delete-failed", STACK, clock=clock, argv=["delete-failed", STACK],
                     region="us-east-1") as ev:
        ev.journal.append("answer", question="Retain LoggingBucket?", answer="yes")
        aws.stub("cloudformation").add_response("delete_stack", {}, {
            "StackName": STACK, "RetainResources": ["LoggingBucket"]})
        aws.stub("cloudformation").add_client_error(
            "update_stack", "ValidationError", "Stack is in ROLLBACK_COMPLETE state and can "
            "not be updated.")
        ex = Executor(aws, ev.journal)
        clock.now += timedelta(seconds=5)
        ex.run(Call("cloudformation", "DeleteStack", {"StackName": STACK,
                                                     "RetainResources": ["LoggingBucket"]},
                    "delete the stack, keep the non-empty bucket"))
        clock.now += timedelta(seconds=5)
        with pytest.raises(Exception, match="ROLLBACK_COMPLETE"):
            ex.run(Call("cloudformation", "UpdateStack", {
                "StackName": STACK, "UsePreviousTemplate": True,
                "Parameters": [{"ParameterKey": "DbPassword", "ParameterValue": NOECHO_VALUE}]},
                "try an update"))
        ev.journal.append("skip_restore", target="LoggingBucket", why="operator declined")
        ev.journal.append("hologram_sync", detail={"a": 1})  # a kind this code never heard of
        ev.write_json("plan.json", {"decisions": [{"target": "LoggingBucket", "action": "retain",
                                                   "follow_up": "empty and delete it later"}]})
        ev.write_json("orphans.json", {"orphans": [{"logical_id": "LoggingBucket",
                                                    "resource_type": "AWS::S3::Bucket",
                                                    "physical_id": BUCKET, "region": "us-east-1"}]})
        ev.log(f"private key seen in a paste: {PRIVATE_KEY}")
        clock.now += timedelta(seconds=5)
        ev.finish("finished", 0)
    return ev.dir


@pytest.fixture
def collected(shared_data: Path, tmp_path: Path) -> Collected:
    snap = snapshot_from_dump(shared_data / DUMP)
    t0 = snap.root.events[0].timestamp
    root = tmp_path / "evidence"
    make_run(root, snap, snap.root.events[-1].timestamp + timedelta(minutes=10))
    tpl = json.dumps(noecho_template({"LoggingBucket": {"Type": "AWS::S3::Bucket"}}), indent=2)
    templates = [TemplateCopy(snap.root_id, STACK, "current", tpl, stages=("Original",))]
    subj = subjects_of(snap, {snap.root_id: json.loads(tpl)})
    records, relations = [], []
    for rec in trail_records(t0):
        why = relation(TrailRecord(rec), subj)
        if why:
            records.append(rec)
            relations.append(why)
    return Collected(stack=STACK, snapshot=snap, templates=templates,
                     trail=TrailOutcome(source="trail-files/", records=records,
                                        relations=relations, scanned=5, data_events_seen=1),
                     runs=read_runs(root, snap)[0], window=Window(),
                     generated_at=datetime(2026, 11, 23, tzinfo=UTC), evidence_root=str(root))


def test_related_records_are_chosen_by_relation(collected: Collected) -> None:
    assert collected.trail.relations == ["stack_operation", "object_deletion", "on_stack_resource"]
    # the AssumeRole is not related by itself (it becomes a credentials_origin in collect)
    assert len(collected.runs) == 1 and collected.runs[0].command == "delete-failed"


def test_timeline_merges_all_sources_in_time_order(collected: Collected) -> None:
    entries = build_timeline(collected)
    times = [e.time for e in entries]
    assert times == sorted(times)
    assert {e.source for e in entries} == {"stack", "cloudtrail", "recover"}
    assert len([e for e in entries if e.source == "stack"]) == 60
    calls = [e for e in entries if e.kind == "recover:call"]
    assert [(c.what, c.status.split(":")[0]) for c in calls] == [
        ("cloudformation:DeleteStack", "ok"), ("cloudformation:UpdateStack", "error ValidationError")]
    assert "RetainResources=[\"LoggingBucket\"]" in calls[0].detail
    kinds = {e.kind for e in entries}
    assert {"recover:answer", "recover:skip_restore", "recover:hologram_sync", "recover:run"} <= kinds


def test_window_limits_every_source(collected: Collected) -> None:
    events = collected.snapshot.root.events
    since, until = events[10].timestamp, events[20].timestamp
    from dataclasses import replace
    entries = build_timeline(replace(collected, window=Window(since, until)))
    assert entries and all(since <= e.time <= until for e in entries)
    assert not [e for e in entries if e.source == "recover"]


def _bundle(collected: Collected, html: bool = True) -> dict[str, bytes]:
    return build_bundle(collected, now=datetime(2026, 11, 23, tzinfo=UTC), html=html)


def test_markdown_table_is_in_time_order_and_mermaid_is_well_formed(collected: Collected) -> None:
    files = _bundle(collected)
    md = files["timeline.md"].decode()
    rows = timeline_rows(md)
    doc = json.loads(files["evidence.json"])
    assert len(rows) == len(doc["entries"]) > 60
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    assert fences_balanced(md)
    charts = list(mermaid_blocks(md))
    assert charts and all(validate_gantt(c) == [] for c in charts)
    assert md.index("### What failed") < md.index("## Timeline chart") < md.index("## Timeline\n")


def test_summary_says_what_failed_was_done_and_is_left(collected: Collected) -> None:
    doc = json.loads(_bundle(collected)["evidence.json"])
    s = doc["summary"]
    assert doc["schema_version"] == 1
    assert any("InputBucket AWS::S3::Bucket" in f or "InputBucket (AWS::S3::Bucket)" in f
               for f in s["what_failed"])
    assert any("recover delete-failed" in d and "DeleteStack" in d and "1 failed" in d
               for d in s["what_was_done"])
    left = " ".join(s["still_inconsistent"])
    assert "LoggingBucket retained by DeleteStack" in left
    assert "empty and delete it later" in left  # plan follow-up
    assert f"physical_id={BUCKET}" in left  # orphan ledger entry
    assert "skip_restore" in left
    assert "ROLLBACK_COMPLETE" in left  # the stack itself
    assert any("lifecycle" in n for n in doc["coverage"])
    assert any("DeleteObjects" in n for n in doc["coverage"])


def test_planted_secrets_are_absent_from_every_file(collected: Collected, tmp_path: Path) -> None:
    files = _bundle(collected)
    for name, data in files.items():
        text = data.decode()
        for secret in SECRETS:
            assert secret not in text, (name, secret[:12])
    doc = json.loads(files["evidence.json"])
    red = doc["redaction"]
    assert red["by_kind"]["noecho_parameter"] >= 2  # journal UpdateStack + bucket policy
    # the run redacted the private key as it wrote run.log: the bundle finds nothing left
    assert "private_key" not in red["by_kind"]
    assert "[REDACTED:private_key]" in files[
        next(n for n in files if n.endswith("run.log"))].decode()
    assert "cloudtrail_credentials" not in red["by_kind"]  # the AssumeRole was not related
    assert "[REDACTED:noecho_parameter]" in files[
        next(n for n in files if n.endswith("journal.jsonl"))].decode()
    out = write_zip(files, tmp_path / "b.zip", doc_time(doc))
    raw = out.read_bytes()
    assert all(s.encode() not in raw for s in SECRETS)
    for data in bundle_files(out).values():
        assert all(s.encode() not in data for s in SECRETS)


def doc_time(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["generated_at"])


def test_zip_and_folder_verify_and_are_owner_only(collected: Collected, tmp_path: Path) -> None:
    files = _bundle(collected)
    when = doc_time(json.loads(files["evidence.json"]))
    folder = write_dir(files, tmp_path / "bundle")
    assert verify_manifest(folder) == []
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for p in folder.rglob("*"):
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p
    if shutil.which("sha256sum"):
        proc = subprocess.run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=folder,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder / "timeline.md").write_text("tampered")
    assert verify_manifest(folder) == ["changed: timeline.md"]

    out = write_zip(files, tmp_path / "b.zip", when)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert all(stat.S_IMODE(i.external_attr >> 16) == 0o600 for i in zf.infolist())
        assert all(i.filename.startswith("b/") for i in zf.infolist())
        zf.extractall(tmp_path / "x")
    assert verify_manifest(tmp_path / "x" / "b") == []
    manifest = (tmp_path / "x" / "b" / "MANIFEST.sha256").read_text().splitlines()
    assert sorted(ln.split("  ", 1)[1] for ln in manifest) == sorted(files)
    with pytest.raises(UsageError, match="already exists"):
        write_zip(files, out, when)
    with pytest.raises(UsageError, match="already exists"):
        write_dir(files, folder)


def test_html_is_self_contained(collected: Collected) -> None:
    html = _bundle(collected)["timeline.html"].decode()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "default-src 'none'" in html
    assert html.count("<tr class=") == len(build_timeline(collected))


def test_torn_and_odd_run_folders_are_tolerated(collected: Collected, tmp_path: Path) -> None:
    root = Path(collected.evidence_root)
    run = next(root.iterdir())
    with open(run / "journal.jsonl", "a") as fh:
        fh.write('{"seq": 99, "time": "2025-12-22T23:5')  # killed mid-write
    (run / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    (run / "broken.json").write_text("{not json")
    odd = root / f"{STACK}-20251222T230000Z"
    odd.mkdir()  # a folder without metadata, matched by its name
    (odd / "journal.jsonl").write_text(json.dumps({"seq": 1, "time": "2025-12-22T23:00:00+00:00",
                                                   "kind": "answer", "question": "q?",
                                                   "answer": "no"}) + "\n")
    (root / "other-stack-20251222T230000Z").mkdir()
    runs, _ = read_runs(root, collected.snapshot)
    assert sorted(r.name for r in runs) == sorted([run.name, odd.name])
    full = next(r for r in runs if r.name == run.name)
    # a binary file (a restored code zip) is named with its size and digest, not as an error
    digest = hashlib.sha256(b"\xff\xfe\x00binary").hexdigest()
    assert f"blob.bin: binary file (9 bytes, sha256 {digest}), not copied: its bytes cannot " \
        "be redacted" in full.unreadable
    assert not [u for u in full.unreadable if "Error" in u]
    assert "broken.json" in full.texts
    from dataclasses import replace
    files = _bundle(replace(collected, runs=runs))
    assert timeline_rows(files["timeline.md"].decode())


def test_cloudtrail_origin_of_a_session_is_named(collected: Collected) -> None:
    # the same logic collect.read_trail applies after its scan
    from recover.bundle.relate import caller_key_id, issued_key_id
    recs = [TrailRecord(r) for r in trail_records(collected.snapshot.root.events[0].timestamp)]
    issuers = {issued_key_id(r): r for r in recs if issued_key_id(r)}
    callers = {caller_key_id(r) for r in recs} - {None}
    assert set(issuers) == callers == {"ASIAPLANTEDTEMPKEY01"}


def test_bundle_is_deterministic_for_the_same_inputs(collected: Collected) -> None:
    a, b = _bundle(collected), _bundle(copy.deepcopy(collected))
    assert a == b


def test_symlinks_in_run_folders_are_not_followed(collected: Collected, tmp_path: Path) -> None:
    root = Path(collected.evidence_root)
    run = next(root.iterdir())
    secret = tmp_path / "credentials"
    secret.write_text("[default]\naws_access_key_id = AKIAFOLLOWEDSYMLINK1\n")
    (run / "notes.txt").symlink_to(secret)
    runs, _ = read_runs(root, collected.snapshot)
    assert "notes.txt" not in runs[0].texts


def test_runs_outside_the_window_are_left_out(collected: Collected) -> None:
    from recover.bundle.collect import run_overlaps

    run = collected.runs[0]
    start = datetime.fromisoformat(run.metadata["started_at"])
    assert run_overlaps(run, Window())
    assert run_overlaps(run, Window(since=start - timedelta(hours=1), until=start))
    assert not run_overlaps(run, Window(since=start + timedelta(hours=1)))
    assert not run_overlaps(run, Window(until=start - timedelta(seconds=1)))
