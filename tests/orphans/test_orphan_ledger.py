"""The orphan ledger file: location, atomic accumulating writes, lookups, and the
`recover orphans` commands on it (no AWS involved)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from recover.orphans import ledger
from recover.run.errors import InputError, NotFoundError
from recover.run.exit_codes import ExitCode
from tests.conftest import run_cli


def entry(i: int, **kw: Any) -> dict[str, Any]:
    base = {"id": f"orph-{i:010d}", "resource_type": "AWS::S3::Bucket", "logical_id": f"B{i}",
            "physical_id": f"bucket-{i}", "arn": f"arn:aws:s3:::bucket-{i}", "region": "us-east-1",
            "account": "123456789012", "tags": {"n": str(i)}, "state": "retained",
            "retained_at": f"2026-11-2{i % 10}T00:00:00+00:00", "costs_money": True,
            "left_stack": {"name": "app", "root": "app", "stack_id": "arn:stack/app"},
            "why_retained": {"failure_mode": "delete_blocked_nonempty_bucket", "reason": "r"},
            "template_snippet": {"Type": "AWS::S3::Bucket"}, "tags_source": "tag:GetResources",
            "follow_up": {"delete_later": ["aws s3api delete-bucket --bucket x"],
                          "adopt_again": {"importable": False, "why": "test"}}}
    base.update(kw)
    return base


def test_default_location_env_xdg_and_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path / "x.json"))
    assert ledger.default_ledger_path() == tmp_path / "x.json"
    monkeypatch.delenv(ledger.ENV_VAR)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert ledger.default_ledger_path() == tmp_path / "data" / "recover" / "orphans.json"
    assert ledger.resolve(tmp_path / "given.json") == tmp_path / "given.json"


def test_record_accumulates_and_updates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "orphans.json"
    ledger.record(path, [entry(1), entry(2)])
    ledger.record(path, [entry(3), entry(1, state="retained again", retained_at="later")])
    data = ledger.load(path)
    assert [e["id"] for e in data["orphans"]] == [entry(i)["id"] for i in (1, 2, 3)]
    first = data["orphans"][0]
    assert first["state"] == "retained again" and first["retained_at"] == entry(1)["retained_at"]
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert (path.stat().st_mode & 0o777) == 0o600


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "orphans.json"
    threads = [threading.Thread(target=ledger.record, args=(path, [entry(i)])) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.load(path)["orphans"]) == 20


@pytest.mark.parametrize("content", ["{torn", '{"orphans": 3}', '{"ledger_version": 9, "orphans": []}'])
def test_a_bad_ledger_is_refused_and_left_alone(tmp_path: Path, content: str) -> None:
    path = tmp_path / "orphans.json"
    path.write_text(content)
    with pytest.raises(InputError):
        ledger.record(path, [entry(1)])
    assert path.read_text() == content


def test_find_by_id_prefix_physical_arn_or_logical(tmp_path: Path) -> None:
    data = {"ledger_version": 1, "orphans": [entry(1), entry(2, id="orph-abcdef1234"),
                                             entry(12, logical_id="B1")]}
    assert ledger.find(data, "bucket-2")["id"] == "orph-abcdef1234"
    assert ledger.find(data, "arn:aws:s3:::bucket-12")["logical_id"] == "B1"
    assert ledger.find(data, "orph-abc")["physical_id"] == "bucket-2"
    with pytest.raises(InputError, match="matches several"):
        ledger.find(data, "orph-00000000")
    with pytest.raises(InputError, match="matches several"):
        ledger.find(data, "B1")
    with pytest.raises(NotFoundError):
        ledger.find(data, "nothing")


def test_orphans_commands(tmp_path: Path) -> None:
    path = tmp_path / "orphans.json"
    env = {ledger.ENV_VAR: str(path)}
    proc = run_cli(["--output", "json", "orphans", "list"], env=env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["data"]["count"] == 0
    ledger.record(path, [entry(1), entry(2)])
    proc = run_cli(["--output", "json", "orphans", "list", "--ledger", str(path)])
    rows = json.loads(proc.stdout)["data"]["orphans"]
    assert [r["physical_id"] for r in rows] == ["bucket-1", "bucket-2"]
    assert rows[0]["tags"] == {"n": "1"} and rows[0]["stack"] == "app"
    proc = run_cli(["orphans", "show", "bucket-2"], env=env)
    assert proc.returncode == 0
    assert "arn:aws:s3:::bucket-2" in proc.stdout and "delete-bucket" in proc.stdout
    proc = run_cli(["--output", "json", "orphans", "show", "nothing-like-this"], env=env)
    assert proc.returncode == ExitCode.NOT_FOUND
    assert json.loads(proc.stdout)["errors"][0]["code"] == "orphan_not_found"
    proc = run_cli(["orphans", "list"], env=env)
    assert "bucket-1" in proc.stdout
    path.write_text("{torn")
    proc = run_cli(["orphans", "list"], env=env)
    assert proc.returncode == ExitCode.USAGE and "not valid JSON" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
