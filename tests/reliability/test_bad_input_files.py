"""Bad input files (issue 9, part 4), the gaps left by the readers' own fuzzers
(tests/cloudtrail/test_parse.py, test_record.py, tests/runbook/test_runbook_validate.py):

- CloudTrail: JSON nested deeper than the decoder's recursion limit in each reader path (the
  compact fast path, pretty arrays, JSON lines, LookupEvents' CloudTrailEvent strings), huge
  strings, wrong types at every field of a real NoSuchKey record fed to the extractors, random
  bytes as files in a folder, and a truncated .json.gz among good files through `recover trail
  scan`: the good records are read, the bad file is counted and named, nothing raises.
- Runbook files: random bytes, deep YAML nesting and huge strings through `recover runbooks
  check`: one line each, exit 2.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recover.cli import cli
from recover.cloudtrail.extract import artifact_fetch_failures, code_history
from recover.cloudtrail.parse import TOO_DEEP, FileStats, decompressed, iter_records
from recover.cloudtrail.record import TrailRecord
from recover.cloudtrail.sources import LocalSource, ScanStats, _lookup_record
from recover.run.exit_codes import ExitCode
from tests.cloudtrail.helpers import compact, create_nosuchkey, update_ok

DEEP = "[" * 100_000 + "]" * 100_000


def good(n: int = 3) -> list[dict]:
    return [create_nosuchkey(f"fn{i}", "b", f"k{i}.zip", "2026-11-23T10:00:00Z",
                             event_id=f"e{i}") for i in range(n)]


def parse(data: bytes, needles: tuple[bytes, ...] | None) -> tuple[list[TrailRecord], FileStats]:
    fs = FileStats("t")
    return list(iter_records(decompressed([data], fs), fs, needles)), fs


def _with_deep_record(records: list[dict], where: int) -> list[Any]:
    out: list[Any] = list(records)
    out.insert(where, {"eventVersion": "1.08", "eventName": "Deep", "x": "@DEEP@"})
    return out


@pytest.mark.parametrize("shape", ["compact", "pretty", "lines"])
@pytest.mark.parametrize("needles", [(b"NoSuchKey",), None], ids=["prefilter", "validate"])
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_deep_json_record_is_counted_and_the_others_read(shape: str, needles: Any,
                                                         gz: bool) -> None:
    records = _with_deep_record(good(), 1)
    if shape == "compact":
        body = compact(records)
    elif shape == "pretty":
        body = json.dumps({"Records": records}, indent=2).encode()
    else:
        body = b"\n".join(json.dumps(r).encode() for r in records)
    body = body.replace(b'"@DEEP@"', DEEP.encode().replace(b"[", b"[1,", 1))
    got, fs = parse(gzip.compress(body) if gz else body, needles)
    names = sorted(r.function_name for r in got if r.function_name)
    if shape == "compact":  # the fast path resynchronises on the next record's marker
        assert names == ["fn0", "fn1", "fn2"]
        # the prefilter does not decode what cannot match (documented trade-off)
        assert fs.corrupt_records == (0 if needles else 1)
    elif shape == "pretty":  # inside an array the rest of the file cannot be resynchronised
        assert names == ["fn0"] and fs.corrupt_records == 1
        assert fs.records == 2 and any("rest of file skipped" in p for p in fs.problems)
        return
    else:  # JSON lines: the bad line is skipped, the next ones read
        assert names == ["fn0", "fn1", "fn2"] and fs.corrupt_records == 1
    if fs.corrupt_records:
        assert any(TOO_DEEP in p for p in fs.problems)
    assert fs.records == 4


@pytest.mark.parametrize("body", [DEEP, "{\"Records\":" + DEEP + "}", "[" * 100_000,
                                  "{\"a\":" * 60_000])
def test_a_file_that_is_only_deep_nesting(body: str) -> None:
    for needles in ((b"NoSuchKey",), None):
        got, fs = parse(body.encode(), needles)
        assert got == [] and fs.corrupt_records == 1 and fs.problems


def test_lookup_events_record_with_deep_json_is_counted() -> None:
    fs = FileStats("lookup")
    assert list(_lookup_record({"CloudTrailEvent": DEEP}, fs)) == []
    assert fs.problems  # "CloudTrailEvent is missing or not a CloudTrail record"


def test_huge_strings_in_a_record_are_read() -> None:
    rec = good(1)[0]
    rec["errorMessage"] = "NoSuchKey " + "x" * 5_000_000
    rec["requestParameters"]["functionName"] = "f" * 100_000
    for needles in ((b"NoSuchKey",), None):
        got, fs = parse(gzip.compress(compact([rec, *good(2)])), needles)
        assert len(got) == 3 and not fs.problems


_JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
                     | st.just("x" * 100_000),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out: list[tuple] = []
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else []
    for key, sub in items:
        out.append(prefix + (key,))
        out += _paths(sub, prefix + (key,))
    return out


REAL = [create_nosuchkey("fn", "b", "k.zip", "2026-11-23T10:00:00Z"),
        update_ok("fn", "c2hh", "2026-11-23T09:00:00Z")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_wrong_types_at_every_field_never_crash_the_extractors(data: st.DataObject) -> None:
    """Any field of a real record replaced by any JSON value (or removed): the readers yield it
    or count it, and the extractors skip or use it; nothing raises."""
    which = data.draw(st.sampled_from([0, 1]))
    rec = json.loads(json.dumps(REAL[which]))
    path = data.draw(st.sampled_from(_paths(rec)))
    target = rec
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()):
        del target[path[-1]]
    else:
        target[path[-1]] = data.draw(_JUNK)
    for needles in ((b"NoSuchKey",), None):
        got, fs = parse(compact([rec, REAL[1 - which]]), needles)
        assert fs.records == 2 and len(got) + fs.corrupt_records <= 2
        artifact_fetch_failures(got)
        code_history(got)
        code_history(got, "fn")
        for r in got:
            r.to_dict()


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.binary(max_size=500), min_size=1, max_size=3))
def test_random_bytes_files_in_a_folder_are_counted(tmp_path: Path, junk: list[bytes]) -> None:
    folder = tmp_path / "trail"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / "good.json.gz").write_bytes(gzip.compress(compact(good())))
    for i, raw in enumerate(junk):
        (folder / f"junk{i}.json").write_bytes(raw)
    stats = ScanStats()
    got = list(LocalSource([folder], needles=(b"NoSuchKey",)).iter_records(stats))
    assert stats.files == 1 + len(junk)
    assert {r.function_name for r in got} >= {"fn0", "fn1", "fn2"}
    assert all(c["file"].rsplit("/", 1)[-1].startswith("junk") for c in stats.corrupt)


def test_truncated_gzip_among_good_files_through_trail_scan(make_context, tmp_path: Path) -> None:
    """`recover trail scan FOLDER`: the good files' records are all read, the truncated one
    is counted and named in data.stats, and the scan succeeds."""
    folder = tmp_path / "trail"
    folder.mkdir()
    for i in range(3):
        recs = [create_nosuchkey(f"fn{i}-{j}", "b", f"k{i}-{j}.zip", "2026-11-23T10:00:00Z",
                                 event_id=f"e{i}-{j}") for j in range(5)]
        (folder / f"good{i}.json.gz").write_bytes(gzip.compress(compact(recs)))
    cut = gzip.compress(compact(good(40)))
    (folder / "cut.json.gz").write_bytes(cut[: len(cut) // 2])
    (folder / "deep.json").write_text(DEEP)
    rc = make_context(output="json")
    result = CliRunner().invoke(cli, ["--output", "json", "trail", "scan", str(folder),
                                      "--event-name", "CreateFunction20150331"],
                                obj=rc, standalone_mode=False)
    assert result.exception is None, repr(result.exception)
    env = json.loads(rc.stdout.getvalue())
    assert env["exit_code"] == 0, env["errors"]
    stats = env["data"]["stats"]
    assert stats["files"] == 5 and stats["corrupt_files"] == 2
    named = sorted(Path(c["file"]).name for c in stats["corrupt"])
    assert named == ["cut.json.gz", "deep.json"]
    reasons = {Path(c["file"]).name: c["reasons"] for c in stats["corrupt"]}
    assert "truncated gzip stream" in reasons["cut.json.gz"]
    assert any(TOO_DEEP in r for r in reasons["deep.json"])
    assert stats["records"] >= 15


# --- runbook files ---------------------------------------------------------------------------


def _check(make_context: Any, path: Path) -> tuple[int, dict]:
    rc = make_context(output="json")
    result = CliRunner().invoke(cli, ["--output", "json", "runbooks", "check", str(path)],
                                obj=rc, standalone_mode=False)
    assert result.exception is None, repr(result.exception)
    return result.return_value, json.loads(rc.stdout.getvalue())


@pytest.mark.parametrize(("content", "words"), [
    (bytes(range(256)), "cannot read"),
    (b"\xff\xfeid: x", "cannot read"),
    (b"[" * 100_000, "not valid YAML"),
    (b"steps:\n" + b"".join(b" " * i + b"- \n" for i in range(3000)), "not valid YAML"),
    (b"id: " + b"a" * 5_000_000, "missing required key 'title'"),
    (b"title: &a x\n" + b"".join(b"k%d: &a%d [*a, *a, *a, *a, *a, *a, *a, *a]\n" % (i, i)
                                 for i in range(3)), "unknown key 'k0'"),
], ids=["binary", "utf16", "deep-flow", "deep-block", "huge-string", "anchors"])
def test_bad_runbook_files_are_one_line_exit_2(make_context, tmp_path: Path, content: bytes,
                                               words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    code, env = _check(make_context, path)
    assert code == ExitCode.USAGE
    [file] = env["data"]["files"]
    assert not file["ok"] and any(words in p for p in file["problems"]), file["problems"][:3]
    assert all("\n" not in p and len(p) < 2000 for p in file["problems"])


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=400))
def test_random_bytes_runbook_files(make_context, tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(raw)
    code, env = _check(make_context, path)
    assert code == ExitCode.USAGE
    assert env["errors"] and "\n" not in env["errors"][0]["message"]


# --- the other JSON files recover reads ------------------------------------------------------
# (an old evidence folder read by `recover evidence`, the orphan ledger, a journal, a CDK
# asset manifest named by --artifact-source cdk-out:PATH)

FILE_BODIES = (st.binary(max_size=300)
               | st.sampled_from([DEEP.encode(), b"[" * 100_000, b"{\"a\":" * 60_000,
                                  b"[" * 990 + b"]" * 990, b"{\"a\":" * 990 + b"1" + b"}" * 990,
                                  b"\x00" * 10, b"[]", b"{}", b"null", b"\"x\"", b"1e999",
                                  b"{\"files\": []}", b"{\"files\": {\"h\": 1}}",
                                  b"{\"files\": {\"h\": {\"destinations\": {\"d\": 5}}}}",
                                  b"{\"files\": {\"h\": {\"source\": {\"path\": \"\\u0000\"},"
                                  b" \"destinations\": {\"d\": {\"objectKey\": \"k.zip\"}}}}}",
                                  b"{\"ledger_version\": 1, \"orphans\": {}}"]))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=FILE_BODIES)
def test_other_json_inputs_never_crash(tmp_path: Path, body: bytes) -> None:
    from recover.artifacts.model import WantedArtifact
    from recover.artifacts.sources import cdk_assets
    from recover.bundle.collect import read_run
    from recover.bundle.redact import Redactor, parse_template
    from recover.orphans import ledger
    from recover.run.errors import InputError
    from recover.run.evidence import read_journal

    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    for name in ("journal.jsonl", "snapshot.json", "plan.json", "metadata.json"):
        (run / name).write_bytes(body)
    (run / "journal.jsonl").write_bytes(body + b"\n" + b'{"kind": "call"}\n')
    folder = read_run(run, {})
    assert folder.journal[-1] == {"kind": "call"}  # the good line after the bad one is kept
    assert read_journal(run / "journal.jsonl")[-1] == {"kind": "call"}
    text = body.decode("utf-8", "replace")
    Redactor().json_text(text)
    parse_template(text)
    (run / "orphans.json").write_bytes(body)
    try:
        ledger.load(run / "orphans.json")
    except InputError as err:
        assert "\n" not in err.message
    from recover.run.resume import load_prior

    stopped = tmp_path / "stopped"  # an interrupted run whose other files are damaged
    stopped.mkdir(exist_ok=True)
    (stopped / "metadata.json").write_text(json.dumps({
        "run_id": "r1", "command": "rollback-stuck", "subject": "degap-prod", "region": None,
        "endpoint_url": None, "started_at": "2026-11-23T10:00:00+00:00",
        "outcome": "interrupted"}))
    (stopped / "snapshot-round1.json").write_bytes(body)
    (stopped / "journal.jsonl").write_bytes(body)
    prior = load_prior(tmp_path, "rollback-stuck", "degap-prod", region=None, endpoint_url=None)
    assert stopped in prior.dirs
    prior.files("snapshot")  # damaged files are not evidence to resume from
    cdk = tmp_path / "cdk.out"
    cdk.mkdir(exist_ok=True)
    (cdk / "App.assets.json").write_bytes(body)
    try:
        cdk_assets(cdk, WantedArtifact("fn", "b", "k.zip"))
    except InputError as err:
        assert "\n" not in err.message


# --- text that is not UTF-8 (bytes in argv or file names, kept as lone surrogates) ------------


@settings(max_examples=200, deadline=None)
# surrogateescape maps each undecodable byte to U+DC80..U+DCFF (st.text() never yields these)
@given(st.lists(st.characters(blacklist_categories=("Cs",)) | st.integers(0x80, 0xFF).map(lambda b: chr(0xDC00 + b)),
                max_size=20).map("".join))
def test_any_text_survives_the_json_writers(text: str) -> None:
    """dumps() (evidence files, journal lines, plans, the envelope) always gives UTF-8-safe
    JSON that reads back as the same text, lone surrogates included."""
    from recover.run.result import dumps

    out = dumps({"argv": [text], text: 1}, indent=None)
    out.encode("utf-8")
    assert json.loads(out) == {"argv": [text], text: 1}


def test_undecodable_argv_is_kept_in_the_evidence(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from recover.run.evidence import EvidenceRun

    arg = b"--function=\xff\xfe".decode("utf-8", "surrogateescape")
    ev = EvidenceRun(tmp_path, "artifacts", arg, clock=lambda: datetime(2026, 11, 23, tzinfo=UTC),
                     argv=[arg])
    ev.journal.append("answer", value=arg)
    ev.log(f"ran with {arg}")
    ev.finish("finished", 0)
    meta = json.loads((ev.dir / "metadata.json").read_text(encoding="utf-8"))
    assert meta["argv"] == [arg]
    assert ev.journal.entries()[-1]["value"] == arg
