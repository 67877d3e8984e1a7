"""The CLI contract: global options, JSON envelope, exit codes, one-line errors (no tracebacks).

End-to-end cases run `python -m recover` as a subprocess against a real moto server on
127.0.0.1; AWS error replies moto cannot produce (expired token, AccessDenied, throttling)
go through botocore's Stubber in-process, still through the real click command.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from recover.cli import cli
from recover.run.exit_codes import ExitCode
from tests.conftest import run_cli

ENVELOPE_KEYS = {"recover_result_version", "command", "status", "exit_code", "data", "errors"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def healthy_stack(moto_endpoint: str) -> str:
    cfn = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = "healthy-app"
    try:
        cfn.describe_stacks(StackName=name)
    except Exception:  # noqa: BLE001 - first use in this module
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    return name


def envelope(stdout: str) -> dict:
    data = json.loads(stdout)
    assert set(data) == ENVELOPE_KEYS
    assert data["recover_result_version"] == 1
    assert data["status"] in {"ok", "partial", "error", "needs_decision"}
    return data


def test_help_lists_global_options() -> None:
    proc = run_cli(["--help"])
    assert proc.returncode == 0
    for opt in ("--profile", "--region", "--endpoint-url", "--output", "--non-interactive",
                "--yes", "--dry-run", "--evidence-dir", "--debug"):
        assert opt in proc.stdout
    assert "diagnose" in proc.stdout


def test_diagnose_healthy_stack_json(moto_endpoint: str, healthy_stack: str, tmp_path: Path) -> None:
    proc = run_cli(["--endpoint-url", moto_endpoint, "--output", "json", "--evidence-dir",
                    str(tmp_path), "diagnose", healthy_stack])
    assert proc.returncode == 0, proc.stderr
    env = envelope(proc.stdout)
    assert env["command"] == "diagnose" and env["status"] == "ok"
    assert env["data"]["healthy"] is True and env["data"]["findings"] == []
    evidence = Path(env["data"]["evidence_dir"])
    meta = json.loads((evidence / "metadata.json").read_text())
    assert meta["outcome"] == "healthy" and meta["api_calls"]["total"] >= 3
    assert meta["identity"]["Account"] == "123456789012"
    assert (evidence / "snapshot.json").exists() and (evidence / "journal.jsonl").exists()


def test_unknown_stack_is_one_line_and_exit_8(moto_endpoint: str, tmp_path: Path) -> None:
    proc = run_cli(["--endpoint-url", moto_endpoint, "--region", "eu-west-3", "--evidence-dir",
                    str(tmp_path), "diagnose", "no-such-stack"])
    assert proc.returncode == ExitCode.NOT_FOUND
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "no-such-stack does not exist in region eu-west-3" in proc.stderr  # errors: stderr
    # A mistyped stack name leaves no evidence folder behind (nothing was read or done).
    assert list(tmp_path.iterdir()) == []


def test_wrong_region_json(moto_endpoint: str, healthy_stack: str, tmp_path: Path) -> None:
    proc = run_cli(["--endpoint-url", moto_endpoint, "--region", "ap-south-1", "--output", "json",
                    "--evidence-dir", str(tmp_path), "diagnose", healthy_stack])
    env = envelope(proc.stdout)
    assert proc.returncode == env["exit_code"] == ExitCode.NOT_FOUND
    assert env["status"] == "error" and env["errors"][0]["code"] == "stack_not_found"
    assert proc.stderr.count("\n") <= 2  # progress line only, no traceback


def test_no_credentials(moto_endpoint: str, tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": None, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
        "AWS_WEB_IDENTITY_TOKEN_FILE": None}
    proc = run_cli(["--endpoint-url", moto_endpoint, "--output", "json", "--evidence-dir",
                    str(tmp_path), "diagnose", "app"], env=env)
    out = envelope(proc.stdout)
    assert proc.returncode == ExitCode.AWS_AUTH
    assert out["errors"][0]["code"] == "no_credentials"


def test_usage_errors_exit_2_without_traceback() -> None:
    proc = run_cli(["--output", "xml", "diagnose", "x"])
    assert proc.returncode == ExitCode.USAGE and "Traceback" not in proc.stderr
    proc = run_cli(["--output", "json", "diagnose"])
    assert proc.returncode == ExitCode.USAGE
    assert envelope(proc.stdout)["errors"][0]["code"] == "usage"
    proc = run_cli(["no-such-command"])
    assert proc.returncode == ExitCode.USAGE


def test_unwritable_evidence_dir(moto_endpoint: str, healthy_stack: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli(["--endpoint-url", moto_endpoint, "--evidence-dir", str(blocker / "sub"),
                    "diagnose", healthy_stack])
    assert proc.returncode == ExitCode.ERROR
    assert "cannot write the evidence folder" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr




@pytest.mark.parametrize(("code", "message", "exit_code", "err_code", "needle"), [
    ("ExpiredToken", "The security token included in the request is expired",
     ExitCode.AWS_AUTH, "expired_token", "refresh"),
    ("AccessDenied", "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: "
     "cloudformation:DescribeStacks on resource: x", ExitCode.AWS_AUTH, "access_denied",
     "cloudformation:DescribeStacks"),
    ("Throttling", "Rate exceeded", ExitCode.ERROR, "throttled", "throttling"),
])
def test_aws_errors_through_the_real_command(make_context, code: str, message: str,
                                             exit_code: ExitCode, err_code: str, needle: str) -> None:
    rc = make_context(output="json")
    rc.aws.stub("cloudformation").add_client_error("describe_stacks", code, message)
    result = CliRunner().invoke(cli, ["--output", "json", "diagnose", "app"], obj=rc,
                                standalone_mode=False)
    assert result.exception is None, result.exception
    assert result.return_value == exit_code
    env = envelope(rc.stdout.getvalue())
    assert env["errors"][0]["code"] == err_code
    assert needle in env["errors"][0]["message"]


def test_debug_shows_the_traceback_for_bugs(make_context, monkeypatch: pytest.MonkeyPatch) -> None:
    import recover.aws.snapshot as mod

    def boom(*a, **k):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(mod, "take_snapshot", boom)
    rc = make_context(output="json")
    CliRunner().invoke(cli, ["diagnose", "app"], obj=rc, standalone_mode=False)
    env = envelope(rc.stdout.getvalue())
    assert env["errors"][0]["code"] == "internal_error" and "--debug" in env["errors"][0]["message"]
    rc = make_context(output="json", debug=True)
    result = CliRunner().invoke(cli, ["--debug", "diagnose", "app"], obj=rc, standalone_mode=False)
    assert isinstance(result.exception, ZeroDivisionError)
