"""Issue 14 part 3: a secret in any shape AWS writes it never reaches a file, neither in the
evidence folder (redacted as it is written) nor in the bundle (zip entries too), and every file
is 0600 and every folder 0700 whatever the umask.

Secrets are planted in the degap sandbox in each shape; a real `recover rollback-stuck` run
(a subprocess against the sandbox on 127.0.0.1), a step journaled by hand with the real
executor (what a runbook that reads Lambda configurations or sends UpdateStack would write),
then a real `recover evidence`."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.aws.session import SessionFactory
from recover.aws.snapshot import take_snapshot
from recover.bundle.redact import find_leaks, loose_modes
from recover.run.evidence import EvidenceRun
from tests.bundle.helpers import (
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    assume_role_record,
    session_call_record,
)
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e

STACK = "degap-prod"
NOECHO_NOW = "NoEchoNow-Pl4nted-0001"  # DescribeStacks (the sandbox, unlike AWS, shows it)
NOECHO_DEFAULT = "NoEchoDefault-Pl4nted-0002"  # a NoEcho parameter's template Default
CT_PARAM = "CtParamValue-Pl4nted-0003"  # CloudTrail UpdateStack parameterKey/parameterValue
CHANGE_SET = "ChangeSetValue-Pl4nted-0004"  # CloudTrail CreateChangeSet parameters
SHORTHAND = "Shorthand-Pl4nted-0005"  # `--parameters ParameterKey=..,ParameterValue=..`
ENV_CONFIG = "EnvFromConfig-Pl4nted-0006"  # GetFunctionConfiguration Environment.Variables
ENV_TRAIL = "EnvFromTrail-Pl4nted-0007"  # CloudTrail UpdateFunctionConfiguration environment
ENV_CODE = "EnvFromCodeRecord-Pl4nted-0008"  # CloudTrail CreateFunction (a code record)
JOURNAL_PARAM = "JournalParam-Pl4nted-0009"  # an UpdateStack call's ParameterKey/ParameterValue
SECRETS = (NOECHO_NOW, NOECHO_DEFAULT, CT_PARAM, CHANGE_SET, SHORTHAND, ENV_CONFIG, ENV_TRAIL,
           ENV_CODE, JOURNAL_PARAM, SECRET_ACCESS_KEY, SESSION_TOKEN)


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def plant(sb: Any) -> None:
    world = sb.world
    root = world.stack(STACK)
    root.template.setdefault("Parameters", {}).update({
        "DbPassword": {"Type": "String", "NoEcho": True},
        "ApiSecret": {"Type": "String", "NoEcho": "true", "Default": NOECHO_DEFAULT},
        "Stage": {"Type": "String", "Default": "prod"}})
    root.parameters.update({"DbPassword": NOECHO_NOW, "Stage": "prod"})
    sb.client("lambda").update_function_configuration(
        FunctionName="degap-prod-report",
        Environment={"Variables": {"DB_PASSWORD": ENV_CONFIG, "LOG_LEVEL": "debug"}})
    op = world.operator_identity()
    stack_arn = root.stack_id
    for name, params in (
            ("UpdateStack", {"stackName": STACK, "usePreviousTemplate": True, "parameters": [
                {"parameterKey": "DbPassword", "parameterValue": CT_PARAM},
                {"parameterKey": "Stage", "parameterValue": "prod"}]}),
            ("CreateChangeSet", {"stackName": STACK, "changeSetName": "rotate-db",
                                 "usePreviousTemplate": True, "parameters": [
                                     {"parameterKey": "DbPassword", "parameterValue": CHANGE_SET},
                                     {"parameterKey": "ApiSecret", "usePreviousValue": True}]})):
        world.trail.record(event_name=name, event_source="cloudformation.amazonaws.com",
                           request_parameters=params, response_elements={"stackId": stack_arn},
                           user_identity=op, source_ip="203.0.113.10",
                           user_agent="aws-cli/2.15.0")
    env = {"variables": {"STRIPE_API_KEY": ENV_TRAIL, "LOG_LEVEL": "debug"}}
    world.record_operator_call("UpdateFunctionConfiguration20150331v2", "lambda.amazonaws.com",
                               {"functionName": "degap-prod-report", "environment": env},
                               {"functionName": "degap-prod-report", "environment": env})
    # a code record (the artifacts step keeps it in cloudtrail-code-records.json)
    world.record_operator_call("CreateFunction20150331", "lambda.amazonaws.com",
                               {"functionName": "degap-prod-report", "runtime": "provided.al2023",
                                "handler": "bootstrap",
                                "environment": {"variables": {"GITHUB_TOKEN": ENV_CODE}}},
                               {"functionName": "degap-prod-report"})
    now = world.clock()
    for rec in (assume_role_record(now, f"arn:aws:iam::{sb.account}:role/breakglass"),
                session_call_record(now, "degap-prod-report")):
        world.trail.record(
            event_name=rec["eventName"], event_source=rec["eventSource"],
            request_parameters=rec["requestParameters"],
            response_elements=rec["responseElements"], error_code=rec.get("errorCode"),
            error_message=rec.get("errorMessage"), user_identity=rec["userIdentity"],
            read_only=rec["readOnly"], source_ip=rec["sourceIPAddress"],
            user_agent=rec["userAgent"])


def hand_step(sb: Any, root: Path) -> Path:
    """A run that logs an operator's `--parameters` command before it knows the stack (the
    file is rewritten once the template says DbPassword is NoEcho), reads a Lambda
    configuration and journals an UpdateStack with the PascalCase parameter shape."""
    aws = SessionFactory(region=sb.region, endpoint_url=sb.endpoint)
    with EvidenceRun(root, "rollback-stuck", STACK, clock=sb.world.clock, argv=["x"],
                     region=sb.region, endpoint_url=sb.endpoint) as ev:
        ev.template_reader = lambda sid: aws.client("cloudformation").get_template(
            StackName=sid, TemplateStage="Original")["TemplateBody"]
        ev.log("operator ran: aws cloudformation update-stack --stack-name degap-prod "
               f"--parameters ParameterKey=DbPassword,ParameterValue={SHORTHAND}")
        ev.write_json("snapshot.json", take_snapshot(aws, STACK, clock=sb.world.clock))
        ev.write_json("lambda-configuration.json", aws.client("lambda")
                      .get_function_configuration(FunctionName="degap-prod-report"))
        with pytest.raises(Exception):  # noqa: B017 - the sandbox has no UpdateStack: journaled
            Executor(aws, ev.journal, log=ev.log).run(Call(
                "cloudformation", "UpdateStack", {"StackName": STACK, "UsePreviousTemplate": True,
                                                  "Parameters": [{"ParameterKey": "DbPassword",
                                                                  "ParameterValue": JOURNAL_PARAM}]},
                "rotate the database password"))
        ev.finish("finished", 0)
    return ev.dir


@pytest.mark.parametrize(("mask", "fmt"), [(0o000, "zip"), (0o022, "dir")])
def test_no_secret_in_any_shape_reaches_evidence_or_bundle(
        sandbox: Callable[..., Any], tmp_path: Path, umask: Callable[[int], None],
        mask: int, fmt: str) -> None:
    sb = sandbox("degap")
    plant(sb)
    evidence = tmp_path / "ev"
    umask(mask)
    proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", "json",
                    "--evidence-dir", str(evidence), "--non-interactive", "--yes",
                    "rollback-stuck", STACK, "--restore-artifacts", "--poll-interval", "0.2"],
                   env=sb.env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    real_run = Path(json.loads(proc.stdout)["data"]["evidence_dir"])
    hand = hand_step(sb, evidence)
    sb.world.deliver_trail()
    out = tmp_path / ("bundle.zip" if fmt == "zip" else "bundle")
    proc = run_cli(["--output", "json", "--evidence-dir", str(evidence), "evidence", STACK,
                    "--trail", f"s3://{sb.world.trail_bucket}", "--out", str(out), "--html",
                    "--format", fmt], env=sb.env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # the planted shapes did reach the files, redacted (so the leak checks below are not vacuous)
    snap = json.loads((real_run / "snapshot-round1.json").read_text())
    assert snap["nodes"][0]["info"]["parameters"]["DbPassword"] == "[REDACTED:noecho_parameter]"
    code = json.loads((real_run / "cloudtrail-code-records.json").read_text())
    assert any(r["requestParameters"].get("environment") == {
        "variables": {"GITHUB_TOKEN": "[REDACTED:lambda_environment]"}} for r in code)
    conf = json.loads((hand / "lambda-configuration.json").read_text())
    assert conf["Environment"]["Variables"] == {"DB_PASSWORD": "[REDACTED:lambda_environment]",
                                                "LOG_LEVEL": "debug"}
    assert "ParameterValue=[REDACTED:noecho_parameter]" in (hand / "run.log").read_text()
    assert "[REDACTED:noecho_parameter]" in (hand / "journal.jsonl").read_text()
    files = (dict(_zip_entries(out)) if fmt == "zip" else
             {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
              if p.is_file()})
    related = [json.loads(line)["record"] for line in
               files["raw/cloudtrail/related.jsonl"].decode().splitlines()]
    names = {r["eventName"] for r in related}
    assert {"UpdateStack", "CreateChangeSet", "UpdateFunctionConfiguration20150331v2",
            "AssumeRole"} <= names
    # the planted records carry the value (redacted); the sandbox's own records of the stack
    # calls, like CloudTrail's, carry parameter keys only
    planted = 0
    for r in related:
        if r["eventName"] in ("UpdateStack", "CreateChangeSet"):
            values = [p.get("parameterValue") for p in r["requestParameters"]["parameters"]
                      if p["parameterKey"] == "DbPassword"]
            assert values in ([None], ["[REDACTED:noecho_parameter]"]), values
            planted += values == ["[REDACTED:noecho_parameter]"]
    assert planted >= 2

    # no secret anywhere: every file of the evidence folder and of the bundle, zips opened
    assert find_leaks(evidence, SECRETS) == []
    assert find_leaks(out, SECRETS) == []
    assert find_leaks(tmp_path, SECRETS) == []
    # private whatever the umask
    assert loose_modes(evidence) == []
    assert loose_modes(out) == []
    if fmt == "zip":
        with zipfile.ZipFile(out) as zf:
            assert {stat.S_IMODE(i.external_attr >> 16) for i in zf.infolist()} == {0o600}


def _zip_entries(path: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            yield info.filename.split("/", 1)[1], zf.read(info)


def test_find_leaks_sees_inside_nested_zips_and_json_escapes(tmp_path: Path) -> None:
    import io
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("deep.txt", "the value s3cr\"et-in-zip is here")
    with zipfile.ZipFile(tmp_path / "outer.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner.zip", inner.getvalue())
    (tmp_path / "a.json").write_text(json.dumps({"v": "x s3cr\"et-in-zip"}))
    leaks = find_leaks(tmp_path, ['s3cr"et-in-zip', "never-there"])
    assert sorted((leak.path, leak.member) for leak in leaks) == [
        ("a.json", None), ("outer.zip", "inner.zip!deep.txt")]
    assert all("s3cr\"et-in-zip" not in leak.secret for leak in leaks)
