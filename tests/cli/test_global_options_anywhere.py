"""Global options are accepted after the command too (`recover diagnose X --output json`), as the
aws CLI accepts its own; a command's option of the same spelling keeps its meaning there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from recover.cli import cli
from recover.run.context import RunContext
from tests.conftest import run_cli

MESSAGE = "Role arn:aws:iam::123456789012:role/x is invalid or cannot be assumed"


def test_every_global_option_after_the_command_reaches_the_run(
        make_context: Callable[..., RunContext], tmp_path: Path) -> None:
    rc = make_context()
    args = ["explain", MESSAGE, "--debug", "--non-interactive", "--yes", "--dry-run",
            "--profile", "p1", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9",
            "--output", "json", "--evidence-dir", str(tmp_path / "ev")]
    result = CliRunner().invoke(cli, args, obj=rc)
    assert result.exit_code == 0, result.output
    o = rc.options
    assert (o.debug, o.non_interactive, o.yes, o.dry_run) == (True, True, True, True)
    assert (o.profile, o.region, o.endpoint_url, o.output) == (
        "p1", "eu-west-1", "http://127.0.0.1:9", "json")
    assert o.evidence_dir == tmp_path / "ev"
    assert json.loads(rc.stdout.getvalue())["command"] == "explain"


def test_inside_a_command_group_too(make_context: Callable[..., RunContext]) -> None:
    rc = make_context()
    result = CliRunner().invoke(cli, ["runbooks", "list", "--output", "json"], obj=rc)
    assert result.exit_code == 0, result.output
    assert json.loads(rc.stdout.getvalue())["command"] == "runbooks list"


def test_a_commands_own_option_of_that_name_wins(make_context: Callable[..., RunContext],
                                                 tmp_path: Path) -> None:
    rc = make_context()
    CliRunner().invoke(cli, ["trail", "scan", str(tmp_path), "--region", "us-west-2"], obj=rc)
    assert rc.options.region is None  # it filtered the trail; the session region is untouched


def test_no_misleading_suggestion_for_a_late_dry_run() -> None:
    proc = run_cli(["rollback-stuck", "some-stack", "--dry-run", "--non-interactive",
                    "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1",
                    "--output", "json"],
                   env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_MAX_ATTEMPTS": "1"}, timeout=120)
    assert "Did you mean" not in proc.stderr + proc.stdout
    envelope = json.loads(proc.stdout)
    assert envelope["command"] == "rollback-stuck" and envelope["exit_code"] != 2


@pytest.mark.parametrize("args,env,needle", [
    (["--endpoint-url", "not-a-url"], {}, "'not-a-url' is not an endpoint URL"),
    (["--endpoint-url", "http://127.0.0.1:port"], {}, "is not an endpoint URL"),
    (["--region", "us east 1"], {}, "'us east 1' is not a Region name"),
    (["--region", "us-east-1-"], {}, "is not a Region name"),
    ([], {"AWS_ENDPOINT_URL": "localhost:4566"}, "(from AWS_ENDPOINT_URL) is not an endpoint"),
])
def test_a_malformed_region_or_endpoint_is_a_usage_error(args: list[str], env: dict[str, str],
                                                         needle: str) -> None:
    for where in ("before", "after"):
        full = [*args, "diagnose", "x"] if where == "before" else ["diagnose", "x", *args]
        proc = run_cli(full, env=env)
        assert proc.returncode == 2, (where, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr
        envelope = json.loads(run_cli(["--output", "json", *full], env=env).stdout)
        assert envelope["exit_code"] == 2 and needle in envelope["errors"][0]["message"]


def test_an_error_line_is_one_line_when_piped() -> None:
    long_name = "stack-" + "x" * 120
    proc = run_cli(["diagnose", long_name, "--endpoint-url", "http://127.0.0.1:9", "--region",
                    "us-east-1"], env={"AWS_ACCESS_KEY_ID": "testing",
                                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_MAX_ATTEMPTS": "1",
                                       "COLUMNS": None})
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and len(errors[0]) > 80, proc.stderr
