"""Where the code lives, without CloudTrail (issue 18.2), end to end on the reference-code
sandbox: functions keep their code by REFERENCE, GetFunction names the object version and its
hash (Code.ResolvedS3Object), and recover uses that before CloudTrail. With the field hidden
(an older API) the CloudTrail path is used, and the output says which one found each key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recover.artifacts.model import code_sha256
from recover.run.exit_codes import ExitCode
from tests.conftest import recover

pytestmark = pytest.mark.e2e


def _lookups(sb: Any) -> int:
    return sum(1 for r in sb.world.requests if r["operation"] == "LookupEvents")


def _zip(sb: Any, tmp_path: Path, name: str, key: str) -> str:
    path = tmp_path / f"{name}.zip"
    path.write_bytes(sb.world.ground_truth["zips"][name])
    return f"file:{key}={path}"


def test_resolved_location_proves_the_named_zip_without_cloudtrail(sandbox, tmp_path: Path
                                                                   ) -> None:
    sb = sandbox("reference-code")
    gt = sb.world.ground_truth
    spec = _zip(sb, tmp_path, "thumbs_v1", gt["thumbs_v1_key"])
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts", gt["root"],
                             "--restore", "--artifact-source", spec)
    assert code == ExitCode.OK, err
    data = env["data"]
    assert data["resolution"]["path"] == "resolved"
    assert data["resolution"]["resolved_s3_object"] == "present"
    assert data["trail"]["skipped"] and _lookups(sb) == 0  # CloudTrail never read
    [a] = data["artifacts"]
    w = a["artifact"]
    assert w["located_by"] == "resolved" and w["key"] == gt["thumbs_v1_key"]
    assert w["expected_sha256"] == gt["thumbs_v1_sha256"]
    assert "S3ObjectNotFound" in w["lambda_error"] and "update-function-code" in w["follow_up"]
    assert a["verification"] == "exact"  # the resolved hash proves the engineer's zip
    body = sb.client("s3").get_object(Bucket=gt["bucket"], Key=gt["thumbs_v1_key"])["Body"]
    assert code_sha256(body.read()) == gt["thumbs_v1_sha256"]


def test_without_the_field_cloudtrail_finds_the_key_but_cannot_prove_it(sandbox,
                                                                        tmp_path: Path) -> None:
    sb = sandbox("reference-code")
    sb.world.code_storage.report_resolved = False  # GetFunction answers like an older API
    gt = sb.world.ground_truth
    spec = _zip(sb, tmp_path, "thumbs_v1", gt["thumbs_v1_key"])
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts", gt["root"],
                             "--artifact-source", spec)
    assert code == ExitCode.FAILURE_FOUND, err  # located, not restored: still missing
    data = env["data"]
    assert data["resolution"] == {"resolved_functions": [], "path": "cloudtrail",
                                  "cloudtrail_functions": [gt["thumbs"]],
                                  "resolved_s3_object": "absent"}
    assert _lookups(sb) > 0
    [a] = data["artifacts"]
    assert a["artifact"]["located_by"] == "cloudtrail"
    assert a["artifact"]["key"] == gt["thumbs_v1_key"]
    assert a["artifact"]["expected_sha256"] is None  # the create record aged out
    assert a["verification"] == "unverified"


def test_a_broken_reference_function_is_found_by_name(sandbox, tmp_path: Path) -> None:
    """The resize function's referenced version was deleted: the function itself is broken,
    and no CloudTrail record names its key. Only the resolved location finds it."""
    sb = sandbox("reference-code")
    gt = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts",
                             "--function", gt["resize"])
    assert code == ExitCode.FAILURE_FOUND, err  # located, not restored: still missing
    [a] = env["data"]["artifacts"]
    assert a["artifact"]["located_by"] == "resolved" and a["artifact"]["key"] == gt["resize_key"]
    assert a["artifact"]["expected_sha256"] == gt["resize_sha256"]
    assert a["artifact"]["lambda_error"]
    sb.world.code_storage.report_resolved = False
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "artifacts",
                             "--function", gt["resize"])
    assert code == ExitCode.FAILURE_FOUND, err
    assert env["data"]["artifacts"] == []
    assert [u["function_name"] for u in env["data"]["unknown"]] == [gt["resize"]]


def _by_kind(hazards: list[dict[str, Any]], function: str) -> dict[str, dict[str, Any]]:
    return {h["kind"]: h for h in hazards if h.get("function") == function}


def test_readiness_treats_reference_code_as_live_dependencies(sandbox, tmp_path: Path) -> None:
    sb = sandbox("reference-code")
    gt = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "readiness", gt["root"])
    assert code != ExitCode.OK, err
    data = env["data"]
    resize = _by_kind(data["hazards"], gt["resize"])
    assert resize["reference-code-missing"]["severity"] == "blocking"
    assert resize["reference-code-missing"]["found_by"] == "resolved"
    thumbs = _by_kind(data["hazards"], gt["thumbs"])
    life = thumbs["reference-lifecycle"]
    assert life["rule"] == "purge-noncurrent" and life["date"] and life["key"] == gt["thumbs_v2_key"]
    assert "--s3-object-storage-mode COPY" in life["fix"]
    assert "reference-policy" not in thumbs  # the policy grants Lambda thumbs/*
    assert {r["function"] for r in data["references"]} == {gt["thumbs"], gt["resize"]}


def test_readiness_falls_back_to_the_template_without_the_field(sandbox, tmp_path: Path) -> None:
    sb = sandbox("reference-code")
    sb.world.code_storage.report_resolved = False
    gt = sb.world.ground_truth
    code, env, err = recover(sb, tmp_path, "readiness", gt["root"])
    assert code != ExitCode.OK, err
    refs = {r["function"]: r for r in env["data"]["references"]}
    assert refs[gt["resize"]]["source"] == "template" and refs[gt["resize"]]["version"] == ""
    missing = _by_kind(env["data"]["hazards"], gt["resize"])["reference-code-missing"]
    assert missing["found_by"] == "template"


def test_rollback_stuck_restores_the_resolved_key_and_finishes(sandbox, tmp_path: Path) -> None:
    sb = sandbox("reference-code")
    gt = sb.world.ground_truth
    spec = _zip(sb, tmp_path, "thumbs_v1", gt["thumbs_v1_key"])
    code, env, err = recover(sb, tmp_path, "--non-interactive", "--yes", "rollback-stuck",
                             gt["root"], "--restore-artifacts", "--artifact-source", spec)
    assert code == ExitCode.OK, err
    [r] = env["data"]["restored"]
    assert (r["key"], r["verification"]) == (gt["thumbs_v1_key"], "exact")
    status = sb.client("cloudformation").describe_stacks(StackName=gt["root"])["Stacks"][0]
    assert status["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE" and _lookups(sb) == 0
    plan = json.loads(next((tmp_path / "ev").rglob("artifacts-plan.json")).read_text())
    assert plan["resolution"]["path"] == "resolved"
