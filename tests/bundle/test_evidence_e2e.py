"""`recover evidence` end to end: each sandbox scenario, after a recovery journaled by the real
executor (the runbooks themselves are on other branches), exported through the real CLI in a
subprocess against the sandbox on 127.0.0.1, with secrets planted in the scenario."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.aws.session import SessionFactory
from recover.bundle.mermaid import fences_balanced, mermaid_blocks, validate_gantt
from recover.run.evidence import EvidenceRun
from tests.bundle.helpers import (
    NOECHO_VALUE,
    SECRETS,
    SESSION_TOKEN,
    assume_role_record,
    bundle_files,
    session_call_record,
    timeline_rows,
)
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def plant_secrets(sb: Any, stack: str, function: str | None, role_arn: str | None) -> None:
    """A NoEcho parameter on the root stack (the sandbox, unlike AWS, does not mask it in
    DescribeStacks) and an STS session whose credentials a related call used."""
    root = sb.world.stack(stack)
    root.parameters["DbPassword"] = NOECHO_VALUE
    root.template.setdefault("Parameters", {})["DbPassword"] = {"Type": "String", "NoEcho": True}
    now = sb.world.clock()
    records = []
    if role_arn:  # CloudFormation assuming the stack's service role
        records.append(assume_role_record(now, role_arn, invoked_by="cloudformation.amazonaws.com",
                                          event_id="evt-cfn-assume", key_id="ASIACFNSESSIONKEY001"))
    if function:  # someone with temporary credentials touching a stack function
        records.append(assume_role_record(now, f"arn:aws:iam::{sb.account}:role/breakglass"))
        records.append(session_call_record(now, function))
    for rec in records:
        sb.world.trail.record(
            event_name=rec["eventName"], event_source=rec["eventSource"],
            request_parameters=rec["requestParameters"],
            response_elements=rec["responseElements"], error_code=rec.get("errorCode"),
            error_message=rec.get("errorMessage"), user_identity=rec["userIdentity"],
            read_only=rec["readOnly"], source_ip=rec["sourceIPAddress"],
            user_agent=rec["userAgent"])


def recovery(sb: Any, root: Path, command: str, stack: str,
             body: Callable[[Executor, EvidenceRun], None]) -> Path:
    aws = SessionFactory(region=sb.region, endpoint_url=sb.endpoint)
    with EvidenceRun(root, command, stack, clock=sb.world.clock, argv=[command, stack, "--yes"],
                     region=sb.region, endpoint_url=sb.endpoint) as ev:
        body(Executor(aws, ev.journal), ev)
        sb.world.settle()
        ev.finish("finished", 0)
    return ev.dir


def degap(sb: Any, ex: Executor, ev: EvidenceRun) -> None:
    gt = sb.world.ground_truth
    targets = sorted(gt["missing"])
    ev.write_json("plan.json", {"runbook": "artifacts", "decisions": [
        {"target": t, "action": "restore", "why": "code object missing"} for t in targets]})
    ev.journal.append("answer", question=f"Restore {len(targets)} code objects and continue "
                      "the rollback?", answer="yes", via="--yes")
    for target in targets:
        lid = target.split(".", 1)[1]
        ex.run(Call("s3", "PutObject", {"Bucket": gt["deployment_bucket"],
                                        "Key": gt["missing"][target]["key"],
                                        "Body": gt["zips"][lid], "IfNoneMatch": "*"},
                    f"restore the code object of {target}"))
    ex.run(Call("cloudformation", "ContinueUpdateRollback",
                {"StackName": gt["root"], "ClientRequestToken": "recover-degap-1"},
                "continue the rollback of degap-prod"))


def nested_skip(sb: Any, ex: Executor, ev: EvidenceRun) -> None:
    gt = sb.world.ground_truth
    skip = f"{gt['child']}.Database"
    ev.write_json("plan.json", {"runbook": "rollback-stuck", "decisions": [
        {"target": skip, "action": "skip", "leaves_inconsistent": "the database keeps its "
         "upgraded engine", "follow_up": "align the template with the engine version"}]})
    ev.journal.append("answer", question=f"Skip {skip}?", answer="yes", via="--yes")
    ex.run(Call("cloudformation", "ContinueUpdateRollback",
                {"StackName": gt["root"], "ResourcesToSkip": [skip],
                 "ClientRequestToken": "recover-skip-1"}, "continue, skipping the database"))


def delete_failed(sb: Any, ex: Executor, ev: EvidenceRun) -> None:
    gt = sb.world.ground_truth
    ev.journal.append("answer", question="Retain the 4 resources that failed to delete?",
                      answer="yes", via="--yes")
    ev.write_json("orphans.json", {"orphans": [
        {"logical_id": lid, "region": sb.region, "follow_up": "delete later"}
        for lid in gt["failed"]]})
    ex.run(Call("cloudformation", "DeleteStack", {"StackName": gt["root"],
                                                  "RetainResources": gt["failed"]},
                "delete the stack, retaining what cannot be deleted"))


def bootstrap(sb: Any, ex: Executor, ev: EvidenceRun) -> None:
    gt = sb.world.ground_truth
    ev.journal.append("answer", question=f"Recreate {gt['role_name']}?", answer="yes",
                      via="--yes")
    ex.run(Call("iam", "CreateRole", {"RoleName": gt["role_name"],
                                      "AssumeRolePolicyDocument": TRUST},
                "recreate the CDK execution role"))
    ex.run(Call("iam", "PutRolePolicy", {
        "RoleName": gt["role_name"], "PolicyName": "admin", "PolicyDocument": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                    "Resource": "*"}]})},
        "give it the permissions of the bootstrap template (moto has no AWS managed policies)"))


SCENARIOS = {
    # scenario: (root stack, recovery, function to plant a session call on, service role?,
    #            calls expected in the timeline, text expected in "still inconsistent")
    "degap": ("degap-prod", degap, "degap-prod-report", False,
              ["s3:PutObject"] * 4 + ["cloudformation:ContinueUpdateRollback"], None),
    "nested-skip": ("orders-platform", nested_skip, None, False,
                    ["cloudformation:ContinueUpdateRollback"], "Database skipped by "
                    "ContinueUpdateRollback"),
    "delete-failed": ("legacy-app", delete_failed, None, False,
                      ["cloudformation:DeleteStack"], "AppBucket retained by DeleteStack"),
    "cdk-bootstrap-deleted": ("billing-service", bootstrap, "billing-service-api", True,
                              ["iam:CreateRole", "iam:PutRolePolicy"], None),
    "healthy": (None, None, None, False, [], None),
}


def _export(sb: Any, tmp_path: Path, stack: str, *extra: str) -> tuple[dict[str, Any], Path]:
    out = tmp_path / "bundle.zip"
    proc = run_cli(["--output", "json", "--evidence-dir", str(tmp_path / "ev"), "evidence",
                    stack, "--trail", f"s3://{sb.world.trail_bucket}", "--out", str(out),
                    "--html", *extra], env=sb.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout), out


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_bundle_after_recovery(sandbox: Callable[..., Any], tmp_path: Path,
                               scenario: str) -> None:
    sb = sandbox(scenario)
    stack, recover_fn, function, with_role, calls, left = SCENARIOS[scenario]
    stack = stack or sb.stacks[0]
    gt = sb.world.ground_truth
    plant_secrets(sb, stack, function, gt.get("role_arn") if with_role else None)
    stack_id = sb.world.stack(stack).stack_id  # a deleted stack is only found by id (docs/reference/aws-behaviour.md#stack-statuses)
    if recover_fn is not None:
        recovery(sb, tmp_path / "ev", "recover-run", stack, lambda ex, ev: recover_fn(sb, ex, ev))
    if not sb.world.trail_bucket:  # scenarios without a trail bucket get one
        sb.client("s3").create_bucket(Bucket="e2e-trail")
        sb.world.trail_bucket = "e2e-trail"
    sb.world.deliver_trail()
    target = stack_id if scenario == "delete-failed" else stack
    envelope, out = _export(sb, tmp_path, target)
    data = envelope["data"]
    assert data["bundle"] == str(out) and stat.S_IMODE(out.stat().st_mode) == 0o600
    files = bundle_files(out)

    # every file of the bundle (and the zip itself) is free of the planted secrets
    raw_zip = out.read_bytes()
    for name, blob in files.items():
        for secret in SECRETS:
            assert secret.encode() not in blob, (name, secret[:12])
            assert secret.encode() not in raw_zip
    assert data["redaction"]["by_kind"].get("noecho_parameter", 0) >= 1

    # the manifest covers every file and verifies
    import hashlib
    lines = files["MANIFEST.sha256"].decode().splitlines()
    listed = {ln.split("  ", 1)[1]: ln.split("  ", 1)[0] for ln in lines}
    assert set(listed) == set(files) - {"MANIFEST.sha256"}
    assert all(hashlib.sha256(files[n]).hexdigest() == h for n, h in listed.items())

    # the Markdown parses: a time-ordered table, one well-formed Mermaid gantt
    md = files["timeline.md"].decode()
    rows = timeline_rows(md)
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert fences_balanced(md)
    charts = list(mermaid_blocks(md))
    assert charts and all(validate_gantt(c) == [] for c in charts)
    doc = json.loads(files["evidence.json"])
    assert doc["schema_version"] == 1 and len(doc["entries"]) == len(rows)

    # recover's own actions, in the order they ran, after the failures they answer
    recover_calls = [r[4] for r in rows if r[2] == "recover" and ":" in r[4]
                     and not r[4].startswith("run ")]
    assert recover_calls == calls
    assert all(r[5] == "ok" for r in rows if r[2] == "recover" and r[4] in calls)
    if calls:
        first_call = next(i for i, r in enumerate(rows) if r[4] == calls[0])
        failures = [i for i, r in enumerate(rows) if r[2] == "stack" and r[5].endswith("FAILED")]
        if scenario != "cdk-bootstrap-deleted":  # that stack never failed: it is blocked
            assert failures and failures[0] < first_call
        assert any(r[4] == "operator answer" and r[5] == "yes" for r in rows)
    if left:
        assert any(left in item for item in doc["summary"]["still_inconsistent"])
    if function:  # the session's origin is named, its credentials are not
        kinds = doc["cloudtrail"]["related_by_kind"]
        assert kinds.get("credentials_origin") == 1
        assert data["redaction"]["by_kind"]["cloudtrail_credentials"] >= 3
        assert SESSION_TOKEN[:24].encode() not in raw_zip
    assert "timeline.html" in files and b"<script" not in files["timeline.html"]
    check_scenario(scenario, rows, doc, gt)


def check_scenario(scenario: str, rows: list[list[str]], doc: dict[str, Any],
                   gt: dict[str, Any]) -> None:
    def index(pred: Callable[[list[str]], bool]) -> int:
        return next(i for i, r in enumerate(rows) if pred(r))

    if scenario == "degap":
        forward = index(lambda r: r[4].startswith("NightlySchedule") and r[5] == "UPDATE_FAILED")
        fetch = index(lambda r: r[2] == "cloudtrail" and "artifact fetch failure" in r[6])
        # recover's own rows (CloudTrail's record of the same call has whole-second times, so
        # it may sort a few milliseconds before the journal's)
        restore = index(lambda r: r[2] == "recover" and r[4] == "s3:PutObject")
        cur = index(lambda r: r[2] == "recover" and r[4] == "cloudformation:ContinueUpdateRollback")
        done = index(lambda r: r[3] == "degap-prod" and r[4] == "stack"
                     and r[5] == "UPDATE_ROLLBACK_COMPLETE")
        assert forward < fetch < restore < cur < done
        oob = index(lambda r: r[2] == "cloudtrail" and r[4] == "lambda:DeleteFunction20150331")
        assert oob < forward  # the hand-made delete of day 12 is in the story
        assert doc["summary"]["root_status"] == "UPDATE_ROLLBACK_COMPLETE"
        assert doc["cloudtrail"]["related_by_kind"]["artifact_fetch_failure"] == 4
    elif scenario == "delete-failed":
        assert any("physical_id" not in o and "AppBucket" in o
                   for o in doc["summary"]["still_inconsistent"])
    elif scenario == "cdk-bootstrap-deleted":
        # The scenario records the exec role's teardown (policy detach/delete, DeleteRole):
        # every one of those records is related to the stack's service role.
        assert doc["cloudtrail"]["related_by_kind"].get("service_role", 0) >= 1
        assert any(r[2] == "cloudtrail" and r[4] == "iam:DeleteRole" for r in rows)
        assert any(r[4] == "iam:CreateRole" and r[5] == "ok" for r in rows)
    elif scenario == "healthy":
        assert doc["summary"]["what_failed"] == [] and doc["runs"] == []


def test_bad_inputs_are_one_line_errors(sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sb = sandbox("healthy")
    base = ["--evidence-dir", str(tmp_path / "ev"), "evidence"]
    cases = [
        (["no-such-stack"], 8, "does not exist"),
        ([sb.stacks[0], "--since", "yesterday-ish"], 2, "cannot read the time"),
        ([sb.stacks[0], "--since", "1h", "--until", "2h"], 2, "later than --until"),
        ([sb.stacks[0], "--trail", str(tmp_path / "nope")], 8, "no such file"),
        ([sb.stacks[0], "--trail", "ftp://x"], 2, "unknown source"),
    ]
    for args, code, text in cases:
        proc = run_cli(base + args, env=sb.env(), cwd=tmp_path)
        assert proc.returncode == code, (args, proc.stderr)
        output = proc.stdout + proc.stderr
        assert text in output and "Traceback" not in output
    (tmp_path / "taken.zip").write_text("x")
    proc = run_cli(base + [sb.stacks[0], "--out", str(tmp_path / "taken.zip")], env=sb.env(),
                   cwd=tmp_path)
    assert proc.returncode == 2 and "already exists" in proc.stdout + proc.stderr
    assert (tmp_path / "taken.zip").read_text() == "x"


def test_folder_format_and_default_name(sandbox: Callable[..., Any], tmp_path: Path) -> None:
    sb = sandbox("healthy")
    proc = run_cli(["--evidence-dir", str(tmp_path / "ev"), "evidence", sb.stacks[0],
                    "--format", "dir"], env=sb.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not [p for p in tmp_path.iterdir() if "-postmortem-" in p.name]  # not in the cwd
    made = list((tmp_path / "ev").glob("*/*-postmortem-*"))  # in its run's evidence folder
    assert len(made) == 1 and made[0].is_dir()
    assert stat.S_IMODE(made[0].stat().st_mode) == 0o700
    from recover.bundle.write import verify_manifest
    assert verify_manifest(made[0]) == []
    assert "bundle:" in proc.stdout
    # the evidence command leaves its own evidence folder, and it is not in the next bundle
    runs = list((tmp_path / "ev").iterdir())
    assert len(runs) == 1 and json.loads((runs[0] / "metadata.json").read_text())[
        "command"] == "evidence"


def test_bundle_after_the_real_rollback_stuck_runbook(sandbox: Callable[..., Any],
                                                      tmp_path: Path) -> None:
    """The runbook itself (recover rollback-stuck --restore-artifacts) in a subprocess, then
    the export. The CLI journals in real time while the sandbox runs on its simulated clock
    (a month before), so only the order within each source is asserted here; the tests above
    share one clock and assert the order across sources."""
    sb = sandbox("degap")
    plant_secrets(sb, "degap-prod", "degap-prod-report", None)
    proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", "json",
                    "--evidence-dir", str(tmp_path / "ev"), "--non-interactive", "--yes",
                    "rollback-stuck", "degap-prod", "--restore-artifacts", "--poll-interval",
                    "0.2"], env=sb.env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    sb.world.deliver_trail()
    envelope, out = _export(sb, tmp_path, "degap-prod")
    files = bundle_files(out)
    for name, blob in files.items():
        assert all(s.encode() not in blob for s in SECRETS), name
    rows = timeline_rows(files["timeline.md"].decode())
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    calls = [(r[4], r[5]) for r in rows if r[2] == "recover" and r[4].count(":") == 1
             and not r[4].startswith(("run ", "would "))]
    assert calls and calls[-1] == ("cloudformation:ContinueUpdateRollback", "ok")
    restores = [c for c in calls if c[0] in ("s3:PutObject", "s3:CopyObject")]
    assert len(restores) == 4 and all(status == "ok" for _, status in restores)
    doc = json.loads(files["evidence.json"])
    assert doc["summary"]["root_status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert any(d.startswith("recover rollback-stuck") for d in doc["summary"]["what_was_done"])
    assert [r["command"] for r in doc["runs"]] == ["rollback-stuck"]
    assert any(n.startswith("raw/runs/") and n.endswith("journal.jsonl") for n in files)
