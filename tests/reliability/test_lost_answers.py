"""recover's own restore whose answer was lost (issue 14, part 6).

The sandbox performs the restore (PutObject or CopyObject with If-None-Match: *) and then
drops the connection before answering; botocore sends it again and meets 412: the object it
just wrote. recover must recognise its own write (the version that appeared during the call
has the bytes it sent) and report it as restored by recover, answer lost — in the journal,
`data.restored[]` and the evidence bundle. An object that appeared during the call with other
bytes is someone else's: reported as such, never overwritten.

Both paths: `recover artifacts --restore` and `recover rollback-stuck --restore-artifacts`, on
the degap scenario (3 restores by CopyObject of a previous version, 1 by PutObject of the
bytes found in Lambda: degap-prod-ingest).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.reliability.test_fault_matrix import assert_nothing_lost, recover, world_state

pytestmark = pytest.mark.e2e

COMMANDS = {
    "artifacts": ("artifacts", "degap-prod", "--restore"),
    "rollback-stuck": ("rollback-stuck", "degap-prod", "--restore-artifacts",
                       "--poll-interval", "0.1"),
}
# operation whose first request loses its answer -> the function it restores
LOST = {"s3:PutObject": "degap-prod-ingest", "s3:CopyObject": None}  # None: the first copy


def bucket_of(sb: Any) -> str:
    return f"degap-artifacts-{sb.account}-{sb.region}"


def key_versions(sb: Any, key: str) -> list[dict[str, Any]]:
    s3 = sb.client("s3")
    return [v for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket_of(sb), Prefix=key) for v in page.get("Versions", []) if v["Key"] == key]


def sha256_of(sb: Any, key: str, version: str) -> str:
    body = sb.client("s3").get_object(Bucket=bucket_of(sb), Key=key, VersionId=version)["Body"]
    return base64.b64encode(hashlib.sha256(body.read()).digest()).decode()


def journal(tmp_path: Path) -> list[dict[str, Any]]:
    [path] = list((tmp_path / "ev").rglob("journal.jsonl"))
    return read_journal(path)


def restored_of(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["function_name"]: r for r in env["data"]["restored"]}


@pytest.mark.parametrize("operation", list(LOST))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_own_write_whose_answer_was_lost_is_restored_by_recover(
        sandbox, tmp_path: Path, command: str, operation: str) -> None:
    sb = sandbox("degap")
    before = world_state(sb)
    sb.world.answer_lost(operation, 100.0, times=1)  # served, then the connection dropped
    code, env, err = recover(sb, tmp_path, *COMMANDS[command])
    sb.world.faults.clear()
    assert code == ExitCode.OK, err
    assert sb.world.faults.fired[("answer_lost", operation)] == 1
    restored = restored_of(env)
    assert len(restored) == 4
    lost = [r for r in restored.values() if r["answer_lost"]]
    [r] = lost  # exactly the restore whose answer was lost
    if LOST[operation]:
        assert r["function_name"] == LOST[operation]
    # credited to recover, with the version it wrote and the bytes it meant
    assert r["written_by"] == "recover" and r["source"] != "already present"
    assert r["verification"] == "exact"
    # written once (the retry wrote nothing); a copied key keeps its older versions
    [version] = [v for v in key_versions(sb, r["key"])
                 if (bucket_of(sb), r["key"], v["VersionId"]) not in before[0]]
    assert r["new_version_id"] == version["VersionId"]
    assert r["sha256"] == sha256_of(sb, r["key"], version["VersionId"])
    assert all(x["written_by"] == "recover" and not x["answer_lost"]
               for x in restored.values() if x is not r)
    # the journal says so, and never that the key was someone else's
    entries = journal(tmp_path)
    [note] = [e for e in entries if e.get("kind") == "restore_answer_lost"]
    assert note["key"] == f"s3://{r['bucket']}/{r['key']}"
    assert note["version_id"] == version["VersionId"] and note["sha256"] == r["sha256"]
    befores = {e["seq"]: e for e in entries if e.get("kind") == "call"
               and e.get("phase") == "before"}
    assert befores[note["ref"]]["call"]["params"]["Key"] == r["key"]
    assert not [e for e in entries if e.get("kind") == "skip_restore"]
    if command == "rollback-stuck":
        assert env["data"]["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert_nothing_lost(before, world_state(sb))
    # the postmortem shows the write as recover's, answer lost
    out = tmp_path / "bundle.zip"
    code, _, err = recover(sb, tmp_path, "evidence", "degap-prod", "--out", str(out))
    assert code == ExitCode.OK, err
    with zipfile.ZipFile(out) as z:
        timeline = z.read(next(n for n in z.namelist() if n.endswith("timeline.md"))).decode()
    [row] = [line for line in timeline.splitlines() if r["key"] in line
             and ("| s3:PutObject |" in line or "| s3:CopyObject |" in line)]
    assert "ok, answer lost: written by recover" in row


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_object_with_other_bytes_that_appeared_meanwhile_is_someone_elses(
        sandbox, tmp_path: Path, command: str) -> None:
    """Another writer puts different bytes at the key while recover's PutObject is on its
    way: recover's write meets 412, the object is reported as the other writer's and kept."""
    sb = sandbox("degap")
    s3 = sb.client("s3")
    nth, key = _the_put(sb, tmp_path, command)
    other = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: not the code recover restores
    theirs: list[str] = []

    def someone_else() -> None:  # when recover's PutObject arrives, before it is served
        theirs.append(s3.put_object(Bucket=bucket_of(sb), Key=key, Body=other)["VersionId"])

    before = world_state(sb)
    sb.world.faults.on_request("s3:PutObject", someone_else, nth=nth)  # copies are PUTs too
    code, env, err = recover(sb, tmp_path / "run", *COMMANDS[command])
    assert theirs, "the other writer never ran"
    r = restored_of(env)["degap-prod-ingest"]
    assert r["written_by"] == "other" and not r["answer_lost"]
    assert r["sha256"] == base64.b64encode(hashlib.sha256(other).digest()).decode()
    [version] = key_versions(sb, key)  # never overwritten: the other writer's object only
    assert version["VersionId"] == theirs[0] == r["new_version_id"]
    assert s3.get_object(Bucket=bucket_of(sb), Key=key)["Body"].read() == other
    entries = journal(tmp_path / "run")
    [skip] = [e for e in entries if e.get("kind") == "skip_restore"]
    assert "another writer" in skip["why"] and skip["key"].endswith(key)
    assert not [e for e in entries if e.get("kind") == "restore_answer_lost"]
    assert code in (ExitCode.OK, ExitCode.FAILURE_FOUND), err
    assert_nothing_lost(before, world_state(sb))


def _the_put(sb: Any, tmp_path: Path, command: str) -> tuple[int, str]:
    """From a dry run: the position of the one PutObject among the restore PUTs (CopyObject
    is a PUT too), and its key."""
    code, env, err = recover(sb, tmp_path / "dry", "--dry-run", *COMMANDS[command])
    assert code == ExitCode.OK, err
    calls = [c for c in env["data"]["calls"] if c["operation"] in ("PutObject", "CopyObject")]
    i = next(i for i, c in enumerate(calls) if c["operation"] == "PutObject")
    return i + 1, calls[i]["params"]["Key"]
