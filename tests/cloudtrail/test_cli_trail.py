"""`recover trail scan` end to end: subprocess (run_cli) and in-process (CliRunner)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from moto import mock_aws

from recover.aws.session import SessionFactory
from recover.cli import cli
from recover.run.context import RunContext
from recover.run.exit_codes import ExitCode
from tests.cloudtrail.helpers import (
    compact,
    create_nosuchkey,
    layer_nosuchkey,
    update_nosuchkey,
    update_ok,
)
from tests.conftest import run_cli

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def archive(tmp_path: Path) -> tuple[Path, list[dict]]:
    failures = [
        create_nosuchkey("billing", "deploy", "lambda/billing.zip", "2026-11-22T09:00:00Z"),
        update_nosuchkey(ARN, "deploy", "assets/orders.zip", "2026-11-23T02:00:00Z", version="v1"),
        layer_nosuchkey("deps", "layers", "deps.zip", "2026-11-23T02:30:00Z", region="eu-west-1"),
    ]
    noise = [update_ok(ARN, "c2hh", f"2026-11-23T0{i}:10:00Z") for i in range(5)]
    root = tmp_path / "trail" / "AWSLogs" / "123456789012" / "CloudTrail"
    (root / "us-east-1").mkdir(parents=True)
    (root / "eu-west-1").mkdir(parents=True)
    (root / "us-east-1" / "a.json.gz").write_bytes(gzip.compress(compact(failures[:2] + noise)))
    (root / "eu-west-1" / "b.json").write_bytes(compact([failures[2], failures[0]]))  # a dupe
    (root.parent / "CloudTrail-Digest").mkdir()
    (root.parent / "CloudTrail-Digest" / "d.json.gz").write_bytes(gzip.compress(b"{}"))
    (root / "us-east-1" / "broken.json.gz").write_bytes(gzip.compress(compact(noise))[:-20])
    return tmp_path / "trail", failures


def invoke(make_context: Callable[..., RunContext], *args: str, stdin: str = "",
           live_aws: bool = False, **options: Any) -> tuple[int, RunContext]:
    rc = make_context(**options)
    if live_aws:  # real boto3 clients (inside moto's mock_aws), not the offline stubs
        rc.session_factory_cls = SessionFactory
        rc._sessions = None
    if stdin:
        rc.stdin.write(stdin)
        rc.stdin.seek(0)
    result = CliRunner().invoke(cli, list(args), obj=rc, standalone_mode=False,
                                catch_exceptions=False)
    return result.return_value, rc


def test_json_output_via_subprocess(tmp_path: Path) -> None:
    root, failures = archive(tmp_path)
    proc = run_cli(["--output", "json", "trail", "scan", str(root)])
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    data = env["data"]
    found = data["missing_artifacts"]
    assert [f["event_id"] for f in found] == [f["eventID"] for f in failures]
    first = found[0]
    assert {k: first[k] for k in ("function_name", "bucket", "key", "event_name", "region",
                                  "account")} == {
        "function_name": "billing", "bucket": "deploy", "key": "lambda/billing.zip",
        "event_name": "CreateFunction20150331", "region": "us-east-1",
        "account": "123456789012"}
    assert first["event_time"] == "2026-11-22T09:00:00+00:00"
    assert found[1]["function_name"] == "orders" and found[1]["object_version"] == "v1"
    assert found[2]["layer"] == "deps" and found[2]["function_name"] is None
    stats = data["stats"]
    assert stats["files"] == 3 and stats["records"] == 7 + 2 + 5  # the cut file still shows 5
    assert stats["corrupt_records"] == 1
    assert stats["skipped_by_reason"] == {"digest or insight folder": 1}
    assert stats["corrupt_files"] == 1 and stats["corrupt"][0]["file"].endswith("broken.json.gz")
    assert "truncated gzip stream" in stats["corrupt"][0]["reasons"]


def test_filters(tmp_path: Path, make_context: Callable[..., RunContext]) -> None:
    root, failures = archive(tmp_path)
    code, rc = invoke(make_context, "--output", "json", "trail", "scan", str(root),
                      "--since", "2026-11-23T00:00:00Z", "--region", "us-east-1")
    assert code == 0
    data = json.loads(rc.stdout.getvalue())["data"]
    assert [f["function_name"] for f in data["missing_artifacts"]] == ["orders"]
    code, rc = invoke(make_context, "--output", "json", "trail", "scan", str(root),
                      "--event-name", "PublishLayerVersion20181031")
    assert [f["layer"] for f in json.loads(rc.stdout.getvalue())["data"]["missing_artifacts"]] \
        == ["deps"]
    # relative times count back from the run's clock (2026-11-23T03:00Z in tests)
    code, rc = invoke(make_context, "--output", "json", "trail", "scan", str(root),
                      "--since", "2h")
    found = json.loads(rc.stdout.getvalue())["data"]["missing_artifacts"]
    assert [f["event_id"] for f in found] == [f["eventID"] for f in failures[1:]]


def test_human_output_has_a_table(tmp_path: Path, make_context: Callable[..., RunContext]) -> None:
    root, _ = archive(tmp_path)
    code, rc = invoke(make_context, "trail", "scan", str(root))
    out = rc.out.file.getvalue()  # type: ignore[attr-defined]
    assert code == 0
    assert "Lambda code objects missing from S3 (3)" in out
    assert "Lambda code objects missing from S3 (3) in account 123456789012" in out
    assert "lambda/billing.zip" in out and "layer deps" in out
    assert "PublishLayerVersion20181031" in out
    assert "damaged:" in out and "broken.json.gz" in out


def test_stdin(make_context: Callable[..., RunContext]) -> None:
    lines = "\n".join(json.dumps(r) for r in (
        create_nosuchkey("a", "b", "a.zip", "2026-11-23T01:00:00Z"),
        update_ok("a", "c2hh", "2026-11-23T01:00:00Z")))
    proc = run_cli(["--output", "json", "trail", "scan", "-"], input=lines)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert [f["key"] for f in data["missing_artifacts"]] == ["a.zip"]
    assert data["stats"]["records"] == 2
    code, rc = invoke(make_context, "--output", "json", "trail", "scan", "-", stdin=lines)
    assert json.loads(rc.stdout.getvalue())["data"]["stats"]["records"] == 2


@pytest.mark.parametrize("args,code,words", [
    (["trail", "scan", "/no/such/path"], ExitCode.NOT_FOUND, "no such file or folder"),
    (["trail", "scan", "ftp://x"], ExitCode.USAGE, "unknown source"),
    (["trail", "scan", ".", "--since", "last tuesday"], ExitCode.USAGE, "cannot read the time"),
    (["trail", "scan", ".", "--since", "1h", "--until", "2h"], ExitCode.USAGE, "later than"),
    (["trail", "scan", "athena://wg/nodot"], ExitCode.USAGE, "DATABASE.TABLE"),
    (["trail", "scan", "s3://"], ExitCode.USAGE, "no bucket"),
])
def test_bad_input_is_one_line_and_no_traceback(args: list[str], code: int, words: str) -> None:
    proc = run_cli(args)
    said = " ".join((proc.stdout + proc.stderr).split())  # rich wraps long lines
    assert proc.returncode == code, said
    assert words in said and "Traceback" not in said
    assert said.startswith("error:") and said.count("error:") == 1
    proc = run_cli(["--output", "json", *args])
    env = json.loads(proc.stdout)
    assert env["exit_code"] == code and words in env["errors"][0]["message"]


def test_unreadable_file(tmp_path: Path) -> None:
    f = tmp_path / "secret.json"
    f.write_text("{}")
    f.chmod(0)
    try:
        proc = run_cli(["trail", "scan", str(f)])
    finally:
        f.chmod(0o600)
    import os
    if os.geteuid() == 0:  # root reads anything: then it is just an empty, odd file
        assert proc.returncode == 0
    else:
        assert proc.returncode == ExitCode.USAGE and "permission denied" in proc.stderr


def test_s3_source_in_process(make_context: Callable[..., RunContext]) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="trail")
        key = ("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/23/"
               "123456789012_CloudTrail_us-east-1_20261123T0205Z_abcdefghijklmnop.json.gz")
        s3.put_object(Bucket="trail", Key=key, Body=gzip.compress(compact([
            update_nosuchkey(ARN, "deploy", "o.zip", "2026-11-23T02:00:00Z")])))
        code, rc = invoke(make_context, "--output", "json", "trail", "scan", "s3://trail",
                          "--since", "2026-11-23", "--region", "us-east-1",
                          "--account", "123456789012", live_aws=True)
    data = json.loads(rc.stdout.getvalue())["data"]
    assert code == 0 and [f["key"] for f in data["missing_artifacts"]] == ["o.zip"]
    assert data["stats"]["listed_prefixes"] == [
        "AWSLogs/", "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/23/",
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/24/"]


def test_s3_missing_bucket_is_an_error(make_context: Callable[..., RunContext]) -> None:
    with mock_aws():
        code, rc = invoke(make_context, "--output", "json", "trail", "scan", "s3://nope/x",
                          live_aws=True)
    env = json.loads(rc.stdout.getvalue())
    assert code != 0 and "NoSuchBucket" in env["errors"][0]["message"]


def test_lookup_source_in_process(make_context: Callable[..., RunContext],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    client = boto3.client("cloudtrail", region_name="eu-west-1")
    rec = update_nosuchkey(ARN, "deploy", "o.zip", "2026-11-23T02:00:00Z", region="eu-west-1")
    event = {"EventId": rec["eventID"], "EventName": rec["eventName"],
             "CloudTrailEvent": json.dumps(rec)}
    import recover.run.services as runs
    monkeypatch.setattr(runs, "_lookup_clients", lambda rc: lambda region: client)
    with Stubber(client) as stubber:
        for name in ("UpdateFunctionCode20150331v2", "CreateFunction20150331",
                     "PublishLayerVersion20181031"):
            stubber.add_response("lookup_events", {"Events": [event] if "Update" in name else []})
        code, rc = invoke(make_context, "--output", "json", "trail", "scan", "lookup",
                          "--region", "eu-west-1", "--since", "1d")
    data = json.loads(rc.stdout.getvalue())["data"]
    assert code == 0 and [f["key"] for f in data["missing_artifacts"]] == ["o.zip"]
    assert data["stats"]["api_calls"] == 3
    assert [c["calls"] for c in data["lookup_calls"]] == [1, 1, 1]


def test_history_json_on_shared_data(shared_data: Path) -> None:
    fn = "stratus-red-team-olc-func-xhfgzaowxc"
    proc = run_cli(["--output", "json", "trail", "history", str(shared_data / "cloudtrail"),
                    "--function", fn])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert [(h["function_name"], h["code_sha256"], h["version"]) for h in data["code_history"]] == [
        (fn, "3YIlWyiz6gTvDk01MIlMlJO/NVNlDXCTy7hsM27xthM=", "$LATEST"),
        (fn, "Pt1c8vVaBygmNtAeSyjlpdy7r8nHRqJAAL++HEGlQkc=", "1"),
        (fn, "3YIlWyiz6gTvDk01MIlMlJO/NVNlDXCTy7hsM27xthM=", "2")]
    # the compact invictus files (2,900 records) are prefiltered; pretty and JSON-lines files
    # (426 records) take the general path and are decoded whole
    assert data["stats"]["records"] == 3326 and data["stats"]["decoded"] < 500


def test_history_human_and_refusals(tmp_path: Path, make_context: Callable[..., RunContext]) -> None:
    (tmp_path / "t.json").write_bytes(compact([update_ok(ARN, "aGFzaA==", "2026-11-23T01:00:00Z"),
                                               update_ok("other", "b3RoZXI=",
                                                         "2026-11-23T01:30:00Z")]))
    code, rc = invoke(make_context, "trail", "history", str(tmp_path), "--function", ARN)
    out = rc.out.file.getvalue()  # type: ignore[attr-defined]
    assert code == 0 and "aGFzaA==" in out and "b3RoZXI=" not in out
    assert "s3://b/k.zip" in out
    code, rc = invoke(make_context, "--output", "json", "trail", "history", "athena://w/d.t")
    assert code == ExitCode.USAGE
