"""The restore step's decisions without a sandbox: the operator's pick on a terminal, and a
source failing at upload time (the next candidate is used, the failure recorded)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from rich.console import Console

from recover.artifacts.choose import choose
from recover.artifacts.model import Candidate, WantedArtifact, code_sha256
from recover.run.errors import NeedsDecisionError
from recover.runbooks.artifacts import flow
from recover.ui import prompts


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bootstrap", text)
    return buf.getvalue()


OLD, NEW = _zip("old"), _zip("new")
W = WantedArtifact(function_name="fn", bucket="b", key="k.zip")


class FakeS3:
    def head_object(self, **kw: Any) -> None:
        raise ClientError({"Error": {"Code": "404"}}, "HeadObject")

    def get_paginator(self, name: str) -> Any:
        assert name == "list_object_versions"  # own_write lists the key's versions first
        return self

    def paginate(self, **kw: Any) -> list[dict[str, Any]]:
        return [{"Versions": []}]


class FakeLambda:
    def get_function(self, **kw: Any) -> dict[str, Any]:
        return {"Code": {"Location": "https://example.invalid/code"}}


class Executor:
    dry_run = False

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def run(self, call: Any) -> dict[str, Any]:
        self.sent.append(call)
        return {"VersionId": "v-new"}


class Journal:
    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, Any]]] = []

    def append(self, kind: str, **fields: Any) -> None:
        self.entries.append((kind, fields))


def _world(tmp_path: Path, interactive: bool) -> tuple[Any, Any, Executor, io.StringIO]:
    err = io.StringIO()
    clients = {"s3": FakeS3(), "lambda": FakeLambda()}
    rc = SimpleNamespace(interactive=interactive, console=Console(file=err, width=200),
                         aws=SimpleNamespace(client=clients.__getitem__),
                         options=SimpleNamespace(yes=True))

    def write_blob(name: str, data: bytes) -> Path:
        (tmp_path / "artifacts").mkdir(exist_ok=True)
        path = tmp_path / "artifacts" / name
        path.write_bytes(data)
        return path

    ev = SimpleNamespace(journal=Journal(), dir=tmp_path, run_id="run-1234", write_blob=write_blob)
    return rc, ev, Executor(), err


def _cands(tmp_path: Path) -> list[Candidate]:
    f = tmp_path / "old.zip"
    f.write_bytes(OLD)
    return [Candidate(kind="lambda", description="code deployed in fn", trust=1,
                      sha256=code_sha256(NEW), function="fn", qualifier="$LATEST"),
            Candidate(kind="file", description=f"file {f}", trust=3, sha256=code_sha256(OLD),
                      path=str(f), named=True)]


def test_the_operator_sees_every_hash_and_picks(tmp_path: Path, monkeypatch) -> None:
    rc, ev, ex, err = _world(tmp_path, interactive=True)
    ch = choose(W, _cands(tmp_path))
    asked: list[Any] = []

    def pick(rc: Any, journal: Any, question: str, options: list, *, flag: str,
             default: str | None = None) -> str:
        asked.append((question, options, flag, default))
        return next(v for v, label in options if "old.zip" in label)

    monkeypatch.setattr(prompts, "choose", pick)
    # --yes is set and does not answer this question
    [done], refused = flow.apply_choices(rc, ev, ex, [ch])
    assert not refused and asked and asked[0][2] == "--accept-unverified"
    assert asked[0][3] == flow.NONE_OF_THEM  # the default restores nothing
    assert code_sha256(OLD) in err.getvalue() and code_sha256(NEW) in err.getvalue()
    assert (done.source_kind, done.accepted_by, done.accepted_unverified) == ("file", "operator", True)
    [call] = ex.sent
    assert call.params["Body"] == OLD


def test_unattended_without_the_flag_writes_nothing(tmp_path: Path) -> None:
    rc, ev, ex, _ = _world(tmp_path, interactive=False)
    with pytest.raises(NeedsDecisionError) as info:
        flow.apply_choices(rc, ev, ex, [choose(W, _cands(tmp_path))])
    assert info.value.flag == "--accept-unverified" and "s3://b/k.zip" in info.value.message
    assert ex.sent == []


def test_a_source_failing_at_upload_is_recorded_and_the_next_one_used(tmp_path: Path) -> None:
    rc, ev, ex, _ = _world(tmp_path, interactive=False)
    cands = _cands(tmp_path)
    gone = tmp_path / "gone.zip"
    first = Candidate(kind="file", description=f"file {gone}", trust=3,
                      sha256=code_sha256(OLD), path=str(gone), named=True)
    ch = choose(W, [first, *cands])
    assert ch.candidate is first
    [done], _ = flow.apply_choices(rc, ev, ex, [ch], accept=flow.Acceptance(unverified=True))
    assert done.source == cands[1].description and done.accepted_by == "--accept-unverified"
    [failed] = done.failed_sources
    assert failed.description == first.description and "FileNotFoundError" in failed.reason
    assert ("source_failed", {"key": "s3://b/k.zip", "source": first.description,
                              "source_kind": "file", "reason": failed.reason}) in ev.journal.entries
    assert [c.params["Body"] for c in ex.sent] == [OLD]
