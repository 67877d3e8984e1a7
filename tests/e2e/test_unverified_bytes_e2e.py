"""Never restore bytes that are not proven to be the old code (issue 14.1), end to end on the
stale-latest sandbox: $LATEST holds the NEW code, the engineer names the old zip, and nothing
proves either to be the old code. Assertions read the world (S3 object bytes, the function's
code after the rollback), not only recover's output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recover.artifacts.model import code_sha256
from recover.run.exit_codes import ExitCode
from tests.conftest import recover
from tests.e2e.test_rollback_stuck_e2e import versions

pytestmark = pytest.mark.e2e


def _old_zip(sb: Any, tmp_path: Path) -> tuple[str, str]:
    gt = sb.world.ground_truth
    path = tmp_path / "invoice-v1.zip"
    path.write_bytes(gt["zips"]["old"])
    return f"file:{gt['old_key']}={path}", gt["old_key"]


def _object_sha(sb: Any, bucket: str, key: str) -> str:
    return code_sha256(sb.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_named_file_wins_over_latest_when_accepted(sandbox, tmp_path: Path) -> None:
    sb = sandbox("stale-latest")
    gt = sb.world.ground_truth
    spec, key = _old_zip(sb, tmp_path)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts", gt["root"],
                             "--restore", "--artifact-source", spec, "--accept-unverified")
    assert code == ExitCode.OK, err
    assert _object_sha(sb, gt["deployment_bucket"], key) == gt["old_sha256"]
    [r] = env["data"]["restored"]
    assert r["verified"] is False and r["accepted_unverified"] is True
    assert r["source_kind"] == "file" and r["named"] is True and r["written"] is True
    assert r["accepted_by"] == "--accept-unverified" and r["sha256"] == gt["old_sha256"]
    [a] = env["data"]["artifacts"]
    kinds = {c["kind"] for c in [a["source"], *a["alternatives"]]}
    assert kinds == {"file", "lambda"}  # $LATEST was seen, and passed over


def test_nothing_verified_without_the_flag_needs_a_decision(sandbox, tmp_path: Path) -> None:
    sb = sandbox("stale-latest")
    gt = sb.world.ground_truth
    bucket = gt["deployment_bucket"]
    spec, key = _old_zip(sb, tmp_path)
    before = versions(sb, bucket)
    for extra in ([], ["--artifact-source", spec]):
        code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts", gt["root"],
                                 "--restore", *extra)
        assert code == ExitCode.NEEDS_DECISION, err
        [error] = env["errors"]
        assert error["details"]["flag"] == "--accept-unverified"
        assert key in error["message"] and "Traceback" not in err
        code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                                 gt["root"], "--restore-artifacts", "--poll-interval", "0.2",
                                 *extra)
        assert code == ExitCode.NEEDS_DECISION, err
        assert env["errors"][0]["details"]["flag"] == "--accept-unverified"
    assert versions(sb, bucket) == before  # no S3 write at all
    status = sb.client("cloudformation").describe_stacks(StackName=gt["root"])["Stacks"][0]
    assert status["StackStatus"] == "UPDATE_ROLLBACK_FAILED"


def test_rollback_restores_the_engineers_bytes_not_latest(sandbox, tmp_path: Path) -> None:
    sb = sandbox("stale-latest")
    gt = sb.world.ground_truth
    spec, key = _old_zip(sb, tmp_path)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             gt["root"], "--restore-artifacts", "--artifact-source", spec,
                             "--accept-unverified", "--poll-interval", "0.2")
    assert code == ExitCode.OK, err
    assert env["data"]["final_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _object_sha(sb, gt["deployment_bucket"], key) == gt["old_sha256"]
    conf = sb.client("lambda").get_function(FunctionName=gt["function"])["Configuration"]
    assert conf["CodeSha256"] == gt["old_sha256"]  # the function runs the old code again
    [r] = env["data"]["restored"]
    assert (r["source_kind"], r["verified"], r["accepted_unverified"]) == ("file", False, True)


def test_plan_with_an_unverified_upload_needs_the_flag_again_at_apply(sandbox, tmp_path: Path) -> None:
    sb = sandbox("stale-latest")
    gt = sb.world.ground_truth
    bucket = gt["deployment_bucket"]
    spec, key = _old_zip(sb, tmp_path)
    plan = tmp_path / "plan.json"
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--dry-run", "rollback-stuck",
                             gt["root"], "--restore-artifacts", "--artifact-source", spec,
                             "--accept-unverified", "--poll-interval", "0.2",
                             "--plan-out", str(plan))
    assert code == ExitCode.OK, err
    before = versions(sb, bucket)
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan))
    assert code == ExitCode.NEEDS_DECISION, err
    assert env["errors"][0]["details"]["flag"] == "--accept-unverified"
    assert key in env["errors"][0]["message"]
    assert versions(sb, bucket) == before
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "apply", str(plan),
                             "--accept-unverified")
    assert code == ExitCode.OK, err
    assert _object_sha(sb, bucket, key) == gt["old_sha256"]


def test_a_corrupt_source_is_recorded_and_the_next_one_restored(sandbox, tmp_path: Path) -> None:
    sb = sandbox("stale-latest")
    gt = sb.world.ground_truth
    good_spec, key = _old_zip(sb, tmp_path)
    corrupt = tmp_path / "truncated.zip"
    corrupt.write_bytes(gt["zips"]["old"][:-40])
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts", gt["root"],
                             "--restore", "--artifact-source", f"file:{key}={corrupt}",
                             "--artifact-source", good_spec, "--accept-unverified")
    assert code == ExitCode.OK, err
    assert _object_sha(sb, gt["deployment_bucket"], key) == gt["old_sha256"]
    [a] = env["data"]["artifacts"]
    [failed] = a["failed_sources"]
    assert failed["kind"] == "file" and str(corrupt) in failed["description"]
    assert "not a usable zip" in failed["reason"]
    [r] = env["data"]["restored"]
    assert r["failed_sources"] == [failed] and r["source"] == f"file {tmp_path / 'invoice-v1.zip'}"
