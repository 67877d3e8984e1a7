"""Helpers for bundle tests: planted secrets, CloudTrail records in the real shape, bundle
readers (zip or folder) and a Markdown timeline parser."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Planted secrets (never real): a NoEcho value, an STS session triple, a private key.
NOECHO_VALUE = "Pl4nted-NoEcho-Passw0rd-7731"
SESSION_TOKEN = ("IQoJb3JpZ2luX2VjEPlantedSessionTokenForRecoverTests0123456789abcdefABCDEF"
                 "/+ghijklmnopqrstuvwxyz0123456789PLANTED==")
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY"
TEMP_KEY_ID = "ASIAPLANTEDTEMPKEY01"
PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEplantedPRIVATEkeyMATERIALxyz\n"
               "-----END RSA PRIVATE KEY-----")
SECRETS = (NOECHO_VALUE, SESSION_TOKEN, SECRET_ACCESS_KEY, "MIIEplantedPRIVATEkeyMATERIALxyz")


def ct_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def assume_role_record(t: datetime, role_arn: str, *, account: str = "123456789012",
                       invoked_by: str | None = None, event_id: str = "evt-assume-1",
                       key_id: str = TEMP_KEY_ID) -> dict[str, Any]:
    """sts:AssumeRole as CloudTrail logs it (docs/reference/aws-behaviour.md#cloudtrail-records; shape as in the trailscraper
    capture in shared/data): the issued credentials sit in responseElements.credentials."""
    ident: dict[str, Any] = {"type": "IAMUser", "principalId": "AIDAOPERATOR",
                             "arn": f"arn:aws:iam::{account}:user/oncall",
                             "accountId": account, "accessKeyId": "AKIAOPERATORKEY00001",
                             "userName": "oncall"}
    if invoked_by:
        ident = {"type": "AWSService", "invokedBy": invoked_by}
    return {
        "eventVersion": "1.08", "userIdentity": ident, "eventTime": ct_time(t),
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15",
        "requestParameters": {"roleArn": role_arn, "roleSessionName": "oncall-breakglass"},
        "responseElements": {
            "credentials": {"accessKeyId": key_id, "secretAccessKey": SECRET_ACCESS_KEY,
                            "sessionToken": SESSION_TOKEN, "expiration": "Nov 12, 2026, 10:10:00 AM"},
            "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:oncall-breakglass",
                                "arn": f"arn:aws:sts::{account}:assumed-role/breakglass/oncall"}},
        "requestID": "req-assume-1", "eventID": event_id, "readOnly": True,
        "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": account,
        "eventCategory": "Management"}


def session_call_record(t: datetime, function: str, *, account: str = "123456789012",
                        event_id: str = "evt-session-call") -> dict[str, Any]:
    """A failed Lambda call made with the temporary credentials above (so the AssumeRole that
    issued them is the `credentials_origin` of a related call)."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:oncall-breakglass",
                         "arn": f"arn:aws:sts::{account}:assumed-role/breakglass/oncall",
                         "accountId": account, "accessKeyId": TEMP_KEY_ID,
                         "sessionContext": {"sessionIssuer": {
                             "type": "Role", "arn": f"arn:aws:iam::{account}:role/breakglass",
                             "userName": "breakglass"}}},
        "eventTime": ct_time(t), "eventSource": "lambda.amazonaws.com",
        "eventName": "UpdateFunctionConfiguration20150331v2", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15",
        "errorCode": "AccessDeniedException",
        "errorMessage": f"not authorized to perform: lambda:UpdateFunctionConfiguration on {function}",
        "requestParameters": {"functionName": function, "description": f"token={SESSION_TOKEN}"},
        "responseElements": None, "requestID": "req-session-1", "eventID": event_id,
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": account, "eventCategory": "Management"}


def noecho_template(resources: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"DbPassword": {"Type": "String", "NoEcho": True},
                           "Stage": {"Type": "String", "Default": "prod"}},
            "Resources": resources or {"Queue": {"Type": "AWS::SQS::Queue"}}}


def bundle_files(path: Path) -> dict[str, bytes]:
    """Every file of a bundle (zip: entries without the top folder) by relative name."""
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes()
                for p in sorted(path.rglob("*")) if p.is_file()}
    with zipfile.ZipFile(path) as zf:
        out = {}
        for info in zf.infolist():
            out[info.filename.split("/", 1)[1]] = zf.read(info)
        return out


# a row, or the marker of rows left out of a long timeline (`| … | | | | *N entries...`)
_ROW = re.compile(r"^\| (?:(\d+) \| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \| |… \| )")


def split_row(line: str) -> list[str]:
    """Cells of a GitHub table row (`\\|` is an escaped pipe inside a cell)."""
    cells, cur, i = [], "", 1
    body = line.strip()
    while i < len(body) - 1:
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            cur += body[i + 1]
            i += 2
            continue
        if ch == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    cells.append(cur.strip())
    return cells


def timeline_rows(markdown: str) -> list[list[str]]:
    """The rows of the `## Timeline` table (header and separator excluded)."""
    section = markdown.split("\n## Timeline\n", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = split_row(lines[0])
    assert header == ["#", "time (UTC)", "source", "stack / actor", "what", "status", "detail"]
    assert set(lines[1].replace("|", "")) == {"-"}
    rows = [split_row(ln) for ln in lines[2:]]
    for ln, row in zip(lines[2:], rows, strict=True):
        assert _ROW.match(ln), ln
        assert len(row) == len(header), ln
    return rows


def load_json(files: dict[str, bytes], name: str) -> Any:
    return json.loads(files[name])
