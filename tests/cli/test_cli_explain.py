"""`recover explain` through click (injected RunContext) and once as a real subprocess."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from click.testing import CliRunner

from recover.cli import cli
from recover.run.context import RunContext
from tests.conftest import run_cli

ROLE_MSG = ("Role arn:aws:iam::210987654321:role/cdk-team7-cfn-exec-role-210987654321-eu-west-1 is "
            "invalid or cannot be assumed")
PASTE = """\
2024-03-05T10:22:31.123Z\tDELETE_FAILED\tAWS::CloudFormation::Stack\tnetwork\tThe following resource(s) failed to delete: [AppSG, LogsBucket].
2024-03-05T10:22:30.001Z\tDELETE_FAILED\tAWS::EC2::SecurityGroup\tAppSG\tresource sg-0a1b2c3d4e5f60718 has a dependent object (Service: AmazonEC2; Status Code: 400; Error Code: DependencyViolation; Request ID: 1234)
2024-03-05T10:22:29.001Z\tDELETE_FAILED\tAWS::S3::Bucket\tLogsBucket\tThe bucket you tried to delete is not empty (Service: Amazon S3; Status Code: 409; Error Code: BucketNotEmpty; Request ID: ABCD)
2024-03-05T10:20:00.001Z\tDELETE_IN_PROGRESS\tAWS::CloudFormation::Stack\tnetwork\tUser Initiated
"""


def invoke(rc: RunContext, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj=rc, standalone_mode=False)
    if result.exception is not None:
        raise result.exception
    return int(result.return_value), rc.stdout.getvalue()  # type: ignore[attr-defined]


def test_json_envelope_for_an_argument(make_context: Callable[..., RunContext]) -> None:
    rc = make_context(output="json")
    code, out = invoke(rc, "--output", "json", "explain", ROLE_MSG)
    env = json.loads(out)
    assert code == 0
    assert set(env) == {"recover_result_version", "command", "status", "exit_code", "data", "errors"}
    assert (env["recover_result_version"], env["command"], env["status"], env["exit_code"]) == (
        1, "explain", "ok", 0)
    data = env["data"]
    assert data["failure_mode"] == "execution_role_missing"
    assert data["runbook"] == "bootstrap-role"
    assert data["rule"] == "execution-role-invalid" and data["confidence"] == "high"
    assert data["extracted"]["cdk_qualifier"] == "team7"
    assert "team7" in data["explanation"] and data["others"] == []
    assert env["errors"] == []


def test_stdin_dash_reads_a_multi_line_paste(make_context: Callable[..., RunContext]) -> None:
    rc = make_context(output="json")
    rc.stdin = io.StringIO(PASTE)
    code, out = invoke(rc, "--output", "json", "explain", "-")
    data = json.loads(out)["data"]
    assert code == 0
    assert data["failure_mode"] == "delete_blocked_dependency"
    assert data["extracted"]["logical_id"] == "AppSG"
    assert data["extracted"]["blocked_resource_id"] == "sg-0a1b2c3d4e5f60718"
    assert [o["failure_mode"] for o in data["others"]] == [
        "nested_stack_failure", "delete_blocked_nonempty_bucket"]
    assert data["others"][1]["extracted"]["logical_id"] == "LogsBucket"


def test_no_argument_reads_piped_stdin(make_context: Callable[..., RunContext]) -> None:
    rc = make_context(output="json")
    rc.stdin = io.StringIO("Limit for stacks has been exceeded\n")
    code, out = invoke(rc, "--output", "json", "explain")
    assert code == 0 and json.loads(out)["data"]["failure_mode"] == "limit_exceeded"


def test_empty_input_is_a_usage_error(make_context: Callable[..., RunContext]) -> None:
    rc = make_context(output="json")
    rc.stdin = io.StringIO("  \n\t\n")
    code, out = invoke(rc, "--output", "json", "explain", "-")
    env = json.loads(out)
    assert code == 2 and env["exit_code"] == 2 and env["status"] == "error"
    assert env["errors"][0]["code"] == "usage" and "empty" in env["errors"][0]["message"]


def test_no_argument_on_a_terminal_is_a_usage_error(make_context: Callable[..., RunContext]) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    rc = make_context(output="json")
    rc.stdin = Tty("")
    code, out = invoke(rc, "--output", "json", "explain")
    assert code == 2 and "pipe" in json.loads(out)["errors"][0]["message"]


def test_unknown_is_still_exit_0(make_context: Callable[..., RunContext]) -> None:
    rc = make_context(output="json")
    code, out = invoke(rc, "--output", "json", "explain", "the flux capacitor overheated")
    data = json.loads(out)["data"]
    assert code == 0 and data["failure_mode"] == "unknown" and data["runbook"] is None
    assert data["rule"] == "" and data["confidence"] == "low"


def test_human_panel(make_context: Callable[..., RunContext]) -> None:
    rc = make_context()
    rc.stdin = io.StringIO(PASTE)
    code, _ = invoke(rc, "explain", "-")
    shown = rc.out.file.getvalue()  # type: ignore[attr-defined]
    assert code == 0
    for needle in ("delete_blocked_dependency", "delete-failed", "dependency-violation",
                   "sg-0a1b2c3d4e5f60718", "also in this paste", "delete_blocked_nonempty_bucket"):
        assert needle in shown


def test_subprocess_json_from_stdin() -> None:
    proc = run_cli(["--output", "json", "explain", "-"], input=(
        'Resource handler returned message: "Error occurred while GetObject. S3 Error Code: '
        'NoSuchKey. S3 Error Message: The specified key does not exist. (Service: Lambda, Status '
        'Code: 400, Request ID: 5d1c)" (RequestToken: 9e8f, HandlerErrorCode: InvalidRequest)\n'))
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["data"]["failure_mode"] == "missing_artifact"
    assert env["data"]["extracted"]["handler_error_code"] == "InvalidRequest"
    assert "Traceback" not in proc.stderr


def test_subprocess_empty_stdin_exits_2_without_traceback() -> None:
    proc = run_cli(["explain", "-"], input="")
    assert proc.returncode == 2
    assert "empty message" in proc.stderr + proc.stdout and "Traceback" not in proc.stderr


def test_binary_input_is_a_usage_error(make_context: Callable[..., RunContext]) -> None:
    rc = make_context(output="json")
    rc.stdin = io.StringIO("PK\x03\x04\x00\x00binary\udcff")
    code, out = invoke(rc, "--output", "json", "explain", "-")
    assert code == 2 and "not text" in json.loads(out)["errors"][0]["message"]


def test_subprocess_binary_stdin_exits_2() -> None:
    proc = run_cli(["explain", "-"], input="\x00\x01\x02 zip bytes")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
