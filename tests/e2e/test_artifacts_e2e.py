"""`recover artifacts` end to end on the degap sandbox: every missing key found, the right
source chosen and verified, restored without overwriting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from recover.run.exit_codes import ExitCode
from tests.conftest import recover
from tests.e2e.test_rollback_stuck_e2e import versions

pytestmark = pytest.mark.e2e


def test_locate_only_changes_nothing(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap")
    bucket = f"degap-artifacts-{sb.account}-{sb.region}"
    before = versions(sb, bucket)
    code, env, err = recover(sb, tmp_path, "artifacts", "degap-prod")
    assert code == ExitCode.FAILURE_FOUND, err  # located, not restored: still missing
    arts = {a["artifact"]["function_name"]: a for a in env["data"]["artifacts"]}
    assert set(arts) == {"degap-prod-orders", "degap-prod-users", "degap-prod-ingest",
                         "degap-prod-report"}
    for name, a in arts.items():
        assert a["artifact"]["bucket"] == bucket and a["artifact"]["key"].endswith(".zip")
        assert a["artifact"]["expected_sha256"], name  # from the CloudTrail code history
        assert a["verification"] == "exact", name
    assert arts["degap-prod-ingest"]["source"]["kind"] == "lambda"  # purged: GetFunction only
    for name in ("degap-prod-orders", "degap-prod-users", "degap-prod-report"):
        assert arts[name]["source"]["kind"] == "s3-previous-version"
    assert env["data"]["still_missing"] == 4 and env["data"]["restored"] == []
    assert versions(sb, bucket) == before


def test_restore_from_trail_files_in_s3(sandbox, tmp_path: Path) -> None:
    """Keys found from the trail bucket's log files (S3 reader) instead of LookupEvents."""
    sb = sandbox("degap")
    bucket = f"degap-artifacts-{sb.account}-{sb.region}"
    before = versions(sb, bucket)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts", "degap-prod",
                             "--trail", f"s3://degap-cloudtrail-{sb.account}/", "--restore")
    assert code == ExitCode.OK, err
    assert env["data"]["still_missing"] == 0 and len(env["data"]["restored"]) == 4
    assert env["data"]["trail"]["files"] >= 1
    after = versions(sb, bucket)
    assert all(after.get(k) == etag for k, etag in before.items())
    s3 = sb.client("s3")
    for r in env["data"]["restored"]:
        tags = s3.get_object_tagging(Bucket=r["bucket"], Key=r["key"])["TagSet"]
        assert {"Key": "recover:restored", "Value": "true"} in tags
    # Running it again restores nothing and overwrites nothing: the objects are present now.
    code, env, _ = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts", "degap-prod",
                           "--restore")
    assert code == ExitCode.OK
    assert len(env["data"]["present"]) == 4 and env["data"]["artifacts"] == []
    assert versions(sb, bucket) == after


def test_single_function_dry_run_prints_calls(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap")
    code, env, err = recover(sb, tmp_path, "--dry-run", "artifacts", "--function",
                             "degap-prod-ingest", "--restore")
    assert code == ExitCode.OK, err
    [call] = env["data"]["calls"]
    assert call["operation"] == "PutObject" and call["params"]["IfNoneMatch"] == "*"
    assert call["cli"].startswith("aws s3api put-object --bucket degap-artifacts-")
    assert "--if-none-match '*'" in call["cli"] and "fileb://" in call["cli"]
    assert env["data"]["still_missing"] == 1


def test_bad_inputs(sandbox, tmp_path: Path) -> None:
    sb = sandbox("degap")
    for args in (["artifacts"], ["artifacts", "degap-prod", "--function", "x"],
                 ["artifacts", "degap-prod", "--artifact-source", "nonsense"],
                 ["artifacts", "degap-prod", "--since", "yesterday-ish"]):
        code, env, err = recover(sb, tmp_path, *args)
        assert code == ExitCode.USAGE, args
        assert "Traceback" not in err


def test_results_go_to_stdout_and_the_exit_code_says_something_is_missing(
        sandbox, tmp_path: Path) -> None:
    """Issue 15 item 5: a pipe gets the table, and exit 3 while objects are missing."""
    sb = sandbox("degap")
    code, out, err = recover(sb, tmp_path, "artifacts", "degap-prod", output="human")
    assert code == ExitCode.FAILURE_FOUND
    assert "missing code objects" in out and "s3://" in out
    assert "4 code object(s) still missing; restore them: recover artifacts degap-prod --restore" \
        in " ".join(out.split())
    assert "missing code objects" not in err


def test_unattended_restore_without_yes_writes_nothing(sandbox, tmp_path: Path) -> None:
    """Issue 15 item 2: the restores are shown and approved before the first write; unattended,
    --yes approves them, and without it the run stops (exit 4) with nothing written."""
    sb = sandbox("degap")
    bucket = f"degap-artifacts-{sb.account}-{sb.region}"
    before = versions(sb, bucket)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "artifacts", "degap-prod",
                             "--restore")
    assert code == ExitCode.NEEDS_DECISION, err
    assert env["errors"][0]["details"]["flag"] == "--yes"
    assert versions(sb, bucket) == before
