"""Redaction: NoEcho values wherever they appear, CloudTrail credentials, secret shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from recover.bundle.redact import (
    Redactor,
    discover_noecho_values,
    noecho_parameters,
    parse_template,
    shannon_entropy,
)
from tests.bundle.helpers import (
    NOECHO_VALUE,
    PRIVATE_KEY,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    TEMP_KEY_ID,
    assume_role_record,
)

T = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)

YAML_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  DbPassword:
    Type: String
    NoEcho: true
    Default: yaml-default-secret-99
  ApiKey:
    Type: String
    NoEcho: 'true'
  Stage:
    Type: String
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUserPassword: !Ref DbPassword
      DBName: !Sub '${Stage}-db'
"""


def test_noecho_parameters_from_yaml_with_short_form_tags() -> None:
    tpl = parse_template(YAML_TEMPLATE)
    assert tpl is not None and tpl["Resources"]["Db"]["Properties"]["MasterUserPassword"] == \
        "DbPassword"
    assert noecho_parameters(tpl) == {"DbPassword": "yaml-default-secret-99", "ApiKey": None}
    assert noecho_parameters(parse_template(json.dumps({"Parameters": {
        "P": {"Type": "String", "NoEcho": False}}}))) == {}
    assert parse_template("not: [valid") is None


def test_noecho_values_are_discovered_in_api_journal_and_snapshot_shapes() -> None:
    journal = [{"kind": "call", "call": {"params": {"Parameters": [
        {"ParameterKey": "DbPassword", "ParameterValue": "from-the-journal-1"},
        {"ParameterKey": "Stage", "ParameterValue": "prod"}]}}}]
    snapshot = {"nodes": [{"info": {"parameters": {"ApiKey": "from-describe-2", "Stage": "prod",
                                                   "DbPassword": "****"}}}]}
    found = discover_noecho_values({"DbPassword", "ApiKey"}, [journal, snapshot])
    assert found == {"from-the-journal-1", "from-describe-2"}


def test_noecho_value_is_redacted_inside_any_string_and_counted() -> None:
    r = Redactor([NOECHO_VALUE, "abc"])
    out = r.value({"log": f"connecting with {NOECHO_VALUE} now", "exact": "abc",
                   "word": "abcdef", "list": [NOECHO_VALUE]})
    text = json.dumps(out)
    assert NOECHO_VALUE not in text
    assert out["exact"] == "[REDACTED:noecho_parameter]"
    assert out["word"] == "abcdef"  # short values are only redacted where they are the value
    assert r.counts["noecho_parameter"] == 3
    assert r.summary()["by_kind"] == {"noecho_parameter": 3}
    assert NOECHO_VALUE not in json.dumps(r.summary())


def test_cloudtrail_credentials_are_redacted_but_expiration_and_caller_key_stay() -> None:
    r = Redactor()
    rec = r.value(assume_role_record(T, "arn:aws:iam::123456789012:role/x"))
    creds = rec["responseElements"]["credentials"]
    assert creds["expiration"].startswith("Nov 12")
    assert {creds[k] for k in ("accessKeyId", "secretAccessKey", "sessionToken")} == {
        "[REDACTED:cloudtrail_credentials]"}
    assert rec["userIdentity"]["accessKeyId"] == "AKIAOPERATORKEY00001"  # an id, not a secret
    assert TEMP_KEY_ID not in json.dumps(rec)


def test_real_session_tokens_in_shared_cloudtrail_are_all_removed(shared_data: Path) -> None:
    folder = shared_data / "cloudtrail" / "invictus-ir_aws_dataset"
    r = Redactor()
    tokens = 0
    for path in sorted(folder.glob("*.json")):
        raw = path.read_text()
        if "sessionToken" not in raw:
            continue
        records = json.loads(raw)["Records"]
        secrets = [rec["responseElements"]["credentials"]["sessionToken"] for rec in records
                   if isinstance(rec.get("responseElements"), dict)
                   and isinstance(rec["responseElements"].get("credentials"), dict)
                   and "sessionToken" in rec["responseElements"]["credentials"]]
        tokens += len(secrets)
        text = json.dumps(r.value(records))
        assert all(s not in text for s in secrets)
    assert tokens >= 3
    assert r.counts["cloudtrail_credentials"] >= tokens


def test_secret_shapes_in_free_text() -> None:
    r = Redactor()
    text = r.text(
        f"key {PRIVATE_KEY} end; Authorization: Bearer abcdefghijklmnop0123456789.xyz; "
        f"db postgres://app:S3cr3tPass@db.internal:5432/x; "
        f"creds AKIAIOSFODNN7EXAMPLE {SECRET_ACCESS_KEY}; client_secret=q8Zr2xLm9Vt4Wp7Kd3; "
        f"aws_secret_access_key = {SECRET_ACCESS_KEY[::-1]}; session {SESSION_TOKEN}")
    for secret in ("MIIEplanted", "abcdefghijklmnop0123456789", "S3cr3tPass",
                   "AKIAIOSFODNN7EXAMPLE", SECRET_ACCESS_KEY, "q8Zr2xLm9Vt4Wp7Kd3",
                   SECRET_ACCESS_KEY[::-1], SESSION_TOKEN[:30]):
        assert secret not in text, secret
    assert "postgres://app:[REDACTED:url_password]@db.internal" in text
    assert set(r.counts) == {"private_key", "bearer_token", "url_password", "aws_access_key_id",
                             "aws_secret_key", "secret_assignment", "session_token"}


def test_a_presigned_url_keeps_its_address_but_not_its_signature() -> None:
    url = ("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws"
           "%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/app/1%7CRes%7Creq?"
           "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261206T100000Z&X-Amz-Expires=7200"
           "&X-Amz-Security-Token=FwoGZXIvYXdzEBYaDplanted&X-Amz-Signature=9f8e7d6c5b4a3210abcd")
    old = "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKID&Expires=1&Signature=c2lnbmVkc2ln%3D"
    r = Redactor()
    text = r.value({"ResponseURL": url, "old": old})
    assert "9f8e7d6c5b4a3210abcd" not in str(text) and "EBYaDplanted" not in str(text)
    assert "c2lnbmVkc2ln" not in str(text)
    assert text["ResponseURL"].startswith(url.split("&X-Amz-Security-Token")[0])
    assert r.counts["url_signature"] == 3


def test_ordinary_text_is_left_alone() -> None:
    r = Redactor()
    text = ("Resource handler returned message: \"Error occurred while GetObject. S3 Error "
            "Code: NoSuchKey.\" (RequestToken: 4d3d18f1-d49f-37d1-b9cc-67479dfb5de1, "
            "HandlerErrorCode: InvalidRequest) ClientRequestToken=Console-CreateStack-7f59 "
            "password=changeme key ASIAPLANTEDTEMPKEY01 alone "
            "s3://b/4f2a23724fabbc95a6b733d7858803805fabab482913e05cda8887fcf673047f.zip")
    assert r.text(text) == text
    assert not r.counts


def test_secret_named_fields_are_redacted_structurally() -> None:
    r = Redactor()
    out = r.value({"Password": "hunter2hunter2", "ClientRequestToken": "abc-123",
                   "NextToken": "opaque", "nested": [{"apiKey": "k-1"}], "secret": "****"})
    assert out == {"Password": "[REDACTED:credential_field]", "ClientRequestToken": "abc-123",
                   "NextToken": "opaque", "nested": [{"apiKey": "[REDACTED:credential_field]"}],
                   "secret": "****"}


def test_entropy() -> None:
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == 2
    assert shannon_entropy("") == 0


@settings(max_examples=80, deadline=None)
@given(prefix=st.text(max_size=40), suffix=st.text(max_size=40))
def test_a_known_noecho_value_never_survives(prefix: str, suffix: str) -> None:
    r = Redactor([NOECHO_VALUE])
    assert NOECHO_VALUE not in r.text(prefix + NOECHO_VALUE + suffix)
    assert NOECHO_VALUE not in json.dumps(r.value({"a": [prefix, NOECHO_VALUE + suffix]}))


def test_secret_book_finds_noecho_values_in_every_casing_and_string_shape() -> None:
    from recover.bundle.redact import SecretBook
    book = SecretBook()
    book.learn([
        {"Parameters": {"DbPassword": {"Type": "String", "NoEcho": True, "Default": "dflt-1234"}}},
        {"info": {"parameters": {"ApiKey": "****"}}},  # DescribeStacks masks NoEcho values
        {"requestParameters": {"parameters": [{"parameterKey": "DbPassword",
                                               "parameterValue": "camel-1234"}]}},
        {"params": {"Parameters": [{"ParameterKey": "ApiKey", "ParameterValue": "pascal-1234"}]}},
        {"parameter_key": "DbPassword", "parameter_value": "snake-1234"},
        "aws cloudformation update-stack --parameters ParameterKey=ApiKey,ParameterValue=short-1234",
        "--parameters '[{\"ParameterKey\":\"DbPassword\",\"ParameterValue\":\"json-1234\"}]'",
        "sam deploy --parameter-overrides DbPassword=override-1234 Stage=prod",
        {"requestParameters": {"templateBody": "Parameters:\n  Token:\n    Type: String\n"
                               "    NoEcho: true\n    Default: body-1234\n"}},
        {"parameters": [{"parameterKey": "Stage", "parameterValue": "prod"}]},
    ])
    assert book.values == {"dflt-1234", "camel-1234", "pascal-1234", "snake-1234", "short-1234",
                           "json-1234", "override-1234", "body-1234"}


def test_lambda_environment_names_that_look_secret() -> None:
    from recover.bundle.redact import Redactor, SecretBook, looks_secret_name
    secret = ["DB_PASSWORD", "dbPassword", "STRIPE_API_KEY", "GITHUB_TOKEN", "JWT_SECRET",
              "APIKEY", "SIGNING_KEY", "AWS_SECRET_ACCESS_KEY", "OAUTH_CLIENT_SECRET"]
    plain = ["S3_KEY", "CACHE_KEY", "KMS_KEY_ID", "DB_SECRET_ARN", "TOKEN_URL", "LOG_LEVEL",
             "AWS_ACCESS_KEY_ID", "PASSWORD_LENGTH", "author", "KEY", "TABLE_NAME"]
    assert [n for n in secret if not looks_secret_name(n)] == []
    assert [n for n in plain if looks_secret_name(n)] == []
    conf = {"Environment": {"Variables": {"DB_PASSWORD": "p4ss-word-1", "USE_TOKEN": "true",
                                          "LOG_LEVEL": "debug"}}}
    book = SecretBook()
    book.learn([conf])
    assert book.values == {"p4ss-word-1"}  # "true" is never searched for in other text
    r = Redactor(book.values)
    out = r.value([conf, "connecting with p4ss-word-1", "flag true"])
    assert out[0]["Environment"]["Variables"] == {
        "DB_PASSWORD": "[REDACTED:lambda_environment]",
        "USE_TOKEN": "[REDACTED:lambda_environment]", "LOG_LEVEL": "debug"}
    assert out[1:] == ["connecting with [REDACTED:noecho_parameter]", "flag true"]
