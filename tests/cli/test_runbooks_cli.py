"""`recover runbooks list|show|check` and `recover iam-policy`, through click's runner with an
injected RunContext, and once each as a real subprocess."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recover.cli import cli
from recover.run.context import RunContext
from recover.run.exit_codes import ExitCode
from recover.runbooks.document.catalog import load_catalog
from recover.runbooks.document.iam import permissions_of
from tests.conftest import REPO, run_cli

ENVELOPE_KEYS = {"recover_result_version", "command", "status", "exit_code", "data", "errors"}


def invoke(make_context: Callable[..., RunContext], *args: str) -> tuple[int, str, str]:
    rc = make_context()
    result = CliRunner().invoke(cli, list(args), obj=rc, standalone_mode=False, catch_exceptions=False)
    return result.return_value, rc.stdout.getvalue(), rc.console.file.getvalue()  # type: ignore[attr-defined]


def envelope(make_context: Callable[..., RunContext], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = invoke(make_context, "--output", "json", *args)
    doc = json.loads(out)
    assert set(doc) == ENVELOPE_KEYS and doc["exit_code"] == code
    return code, doc


def test_list_human(make_context: Callable[..., RunContext]) -> None:
    code, out, _ = invoke(make_context, "runbooks", "list")
    assert code == 0
    for rid in ("rollback-stuck", "artifacts", "delete-failed", "bootstrap-role"):
        assert rid in out
    assert "UPDATE_ROLLBACK_FAILED" in out


def test_list_json(make_context: Callable[..., RunContext]) -> None:
    code, doc = envelope(make_context, "runbooks", "list")
    assert code == 0 and doc["status"] == "ok" and doc["command"] == "runbooks list"
    by_id = {r["id"]: r for r in doc["data"]["runbooks"]}
    assert by_id["delete-failed"]["applies_to"] == ["DELETE_FAILED"]
    assert "missing_artifact" in by_id["artifacts"]["failure_modes"]
    assert by_id["rollback-stuck"]["steps"] == len(load_catalog().get("rollback-stuck").steps)


def test_show_human_renders_every_step_with_why_changes_undo_cli(make_context: Callable[..., RunContext]) -> None:
    code, out, _ = invoke(make_context, "runbooks", "show", "delete-failed")
    assert code == 0
    runbook = load_catalog().get("delete-failed")
    for i, step in enumerate(runbook.steps, 1):
        assert f"{i}. {step.title}" in out
    for label in ("Why:", "Changes:", "Undo:", "By hand:", "Confirm:", "Flags:", "IAM:"):
        assert label in out
    assert "delete-stack" in out and "--retain-resources" in out


def test_show_json_carries_the_whole_runbook(make_context: Callable[..., RunContext]) -> None:
    code, doc = envelope(make_context, "runbooks", "show", "rollback-stuck")
    assert code == 0
    rb = doc["data"]["runbook"]
    assert rb["id"] == "rollback-stuck" and rb["applies_to"] == ["UPDATE_ROLLBACK_FAILED"]
    step = next(s for s in rb["steps"] if s["id"] == "continue-rollback")
    assert step["mutates"] is True and step["requires_status"] == ["UPDATE_ROLLBACK_FAILED"]
    assert step["confirm"]["kind"] == "yes-no"
    assert "continue-update-rollback" in step["cli"]


def test_show_markdown_and_yaml(make_context: Callable[..., RunContext]) -> None:
    code, out, _ = invoke(make_context, "runbooks", "show", "artifacts", "--format", "markdown")
    assert code == 0
    assert out.startswith("# Restore a Lambda code object")
    assert "```sh\naws cloudformation describe-stack-events" in out
    assert "do not edit" not in out  # the banner is for the generated docs only
    code, out, _ = invoke(make_context, "runbooks", "show", "artifacts", "--format", "yaml")
    assert code == 0
    assert out == (REPO / "runbooks" / "artifacts.yaml").read_text()


def test_show_unknown_id_is_one_line_exit_8(make_context: Callable[..., RunContext]) -> None:
    code, out, err = invoke(make_context, "runbooks", "show", "rollback-stuk")
    assert code == ExitCode.NOT_FOUND and out == ""
    lines = [ln for ln in err.splitlines() if ln.strip()]  # errors go to stderr
    assert lines[0].startswith("error: unknown runbook 'rollback-stuk'")
    assert "Traceback" not in out
    code, doc = envelope(make_context, "runbooks", "show", "rollback-stuk")
    assert code == 8 and doc["status"] == "error"
    assert doc["errors"][0]["code"] == "runbook_not_found"


def test_check_good_and_bad_files(make_context: Callable[..., RunContext], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "runbooks" / "delete-failed.yaml").read_text()
                   .replace("permissions: [cloudformation:DeleteStack, iam:PassRole]",
                            "permissions: [cloudformation:DeleteStack]"))
    good = str(REPO / "runbooks" / "delete-failed.yaml")
    code, out, _ = invoke(make_context, "runbooks", "check", good)
    assert code == 0 and "ok" in out
    code, doc = envelope(make_context, "runbooks", "check", good, str(bad))
    assert code == ExitCode.USAGE
    assert [f["ok"] for f in doc["data"]["files"]] == [True, False]
    messages = [e["message"] for e in doc["errors"]]
    assert any("bad.yaml: steps[6].permissions: action 'stack.delete_retaining' needs iam:PassRole"
               in m for m in messages)


def test_iam_policy_default_is_all_runbooks(make_context: Callable[..., RunContext]) -> None:
    code, out, err = invoke(make_context, "iam-policy")
    assert code == 0
    policy = json.loads(out)  # human mode prints the bare policy: redirectable to a file
    assert policy["Version"] == "2012-10-17"
    services = [s["Sid"] for s in policy["Statement"]]
    assert services == sorted(services) and len(services) == len(set(services))
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        assert statement["Action"] == sorted(statement["Action"])
        assert len({a.split(":")[0] for a in statement["Action"]}) == 1  # one service each
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    runbooks = set(permissions_of(load_catalog().runbooks))
    # the runbooks' steps, and what `recover diagnose` reads beyond them (operations, hooks)
    assert actions == set(permissions_of(load_catalog().runbooks, diagnose=True))
    assert actions - runbooks == {"cloudformation:DescribeEvents", "cloudformation:GetHookResult"}
    assert "covers runbooks" in err


def test_iam_policy_includes_handovers_unless_told_not_to(make_context: Callable[..., RunContext]) -> None:
    code, doc = envelope(make_context, "iam-policy", "artifacts")
    assert code == 0
    assert doc["data"]["runbooks"] == ["artifacts", "rollback-stuck"]
    assert "cloudformation:ContinueUpdateRollback" in doc["data"]["permissions"]
    code, doc = envelope(make_context, "iam-policy", "--no-handovers", "artifacts")
    assert doc["data"]["runbooks"] == ["artifacts"]
    assert "cloudformation:ContinueUpdateRollback" not in doc["data"]["permissions"]
    assert "s3:PutObject" in doc["data"]["permissions"]
    statements = doc["data"]["policy"]["Statement"]
    assert [s["Sid"] for s in statements] == ["RecoverCloudformation", "RecoverCloudtrail",
                                              "RecoverIam", "RecoverKms", "RecoverLambda",
                                              "RecoverS3"]


def test_iam_policy_delete_failed_writes_no_s3_objects(make_context: Callable[..., RunContext]) -> None:
    _, doc = envelope(make_context, "iam-policy", "--no-handovers", "delete-failed")
    perms = set(doc["data"]["permissions"])
    assert {"cloudformation:DeleteStack", "iam:PassRole", "tag:GetResources"} <= perms
    # emptying a bucket (typed confirmation) deletes versions; nothing ever writes objects
    assert not {p for p in perms if p.startswith("s3:Put")}
    assert {p for p in perms if p.startswith("s3:Delete")} == {"s3:DeleteObject",
                                                               "s3:DeleteObjectVersion"}


def test_iam_policy_unknown_runbook_exit_8(make_context: Callable[..., RunContext]) -> None:
    code, doc = envelope(make_context, "iam-policy", "rollback-stuck", "nope")
    assert code == ExitCode.NOT_FOUND and doc["errors"][0]["code"] == "runbook_not_found"


@pytest.mark.parametrize("args", [["runbooks", "list"], ["iam-policy", "delete-failed"]])
def test_subprocess_json(args: list[str]) -> None:
    proc = run_cli(["--output", "json", *args])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "ok" and doc["recover_result_version"] == 1


def test_subprocess_unknown_runbook_no_traceback() -> None:
    proc = run_cli(["runbooks", "show", "nope"])
    assert proc.returncode == ExitCode.NOT_FOUND
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "unknown runbook 'nope'" in proc.stdout + proc.stderr


def test_subprocess_help_lists_the_commands() -> None:
    proc = run_cli(["--help"])
    assert proc.returncode == 0
    assert "runbooks" in proc.stdout and "iam-policy" in proc.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["--status", "DELETE_FAILED"], ["bootstrap-role", "delete-failed"]),
    (["--mode", "missing_artifact"], ["artifacts"]),
    (["--mode", "execution_role_missing", "--status", "UPDATE_ROLLBACK_FAILED"], ["bootstrap-role"]),
    (["--mode", "unknown"], []),
])
def test_list_filters(make_context: Callable[..., RunContext], args: list[str], expected: list[str]) -> None:
    code, doc = envelope(make_context, "runbooks", "list", *args)
    assert code == 0
    assert [r["id"] for r in doc["data"]["runbooks"]] == expected


def test_list_bad_filter_is_a_usage_error() -> None:
    proc = run_cli(["runbooks", "list", "--status", "STUCK"])
    assert proc.returncode == ExitCode.USAGE
    assert "Traceback" not in proc.stderr and "STUCK" in proc.stderr


@pytest.mark.parametrize(("given", "hint"), [
    ("rollback-stuk", "did you mean rollback-stuck?"),
    ("delete_failed", "did you mean delete-failed?"),
    ("nested_stack_failure", "failure mode nested_stack_failure is handled by: rollback-stuck"),
    ("zzz", "list them with `recover runbooks list`"),
])
def test_unknown_id_hints(make_context: Callable[..., RunContext], given: str, hint: str) -> None:
    _, doc = envelope(make_context, "runbooks", "show", given)
    assert doc["errors"][0]["hint"] == hint
