"""Unwrapping pasted messages: envelopes, prefixes, rows, segmentation, JSON events."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from recover.explain.classify import classify
from recover.explain.parse import split_failures, unwrap
from recover.explain.taxonomy import RUNBOOK_FOR_MODE, FailureMode


def test_cloud_control_envelope_with_quotes_inside() -> None:
    m = unwrap('Resource handler returned message: "Resource x/* must be in ARN format or "*". '
               '(Service: Iam, Status Code: 400, Request ID: 39f9) (SDK Attempt Count: 1)" '
               '(RequestToken: fb58, HandlerErrorCode: InvalidRequest)')
    assert m.text == 'Resource x/* must be in ARN format or "*".'
    assert m.fields == {"request_token": "fb58", "handler_error_code": "InvalidRequest",
                        "service": "Iam", "status_code": 400, "request_id": "39f9"}


def test_old_sdk_envelope_semicolons() -> None:
    m = unwrap("Policy P does not exist or is not attachable. (Service: AmazonIdentityManagement; "
               "Status Code: 404; Error Code: NoSuchEntity; Request ID: 63e1; Proxy: null)")
    assert m.text == "Policy P does not exist or is not attachable."
    assert m.fields["error_code"] == "NoSuchEntity" and m.fields["status_code"] == 404
    assert m.codes == {"nosuchentity"}


def test_cli_and_botocore_prefixes() -> None:
    m = unwrap("botocore.exceptions.ClientError: An error occurred (ValidationError) when calling "
               "the UpdateStack operation: Stack:arn:x is in ROLLBACK_COMPLETE state and can not be "
               "updated.")
    assert m.text.startswith("Stack:arn:x is in ROLLBACK_COMPLETE")
    assert m.fields["exception"] == "ClientError"
    assert (m.fields["error_code"], m.fields["operation"]) == ("ValidationError", "UpdateStack")


def test_cdk_event_row() -> None:
    m = unwrap("Api | 3/9 | 1:02:03 PM | UPDATE_FAILED | AWS::Lambda::Function | Api/Fn (ApiFnB1C2D3) "
               "Resource handler returned message: \"Rate exceeded\" (RequestToken: a, "
               "HandlerErrorCode: Throttling)")
    assert m.text == "Rate exceeded"
    assert m.fields["resource_status"] == "UPDATE_FAILED"
    assert m.fields["resource_type"] == "AWS::Lambda::Function"
    assert m.fields["logical_id"] == "ApiFnB1C2D3"
    assert m.fields["handler_error_code"] == "Throttling"


def test_cdk_failure_line_names_stack_and_status() -> None:
    m = unwrap(" ❌  Billing failed: Error: The stack named Billing failed to deploy: "
               "UPDATE_ROLLBACK_FAILED (The following resource(s) failed to update: [Fn]. ): "
               "Limit for stacks has been exceeded")
    assert m.fields["stack_name"] == "Billing" and m.fields["status"] == "UPDATE_ROLLBACK_FAILED"
    assert m.text == "Limit for stacks has been exceeded"


def test_terminal_wrapped_lines_join_and_separate_messages_split() -> None:
    paste = ("Deploy failed: AccessDenied: User: \narn:aws:sts::1:assumed-role/r/s is not\n"
             "authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/x\n"
             "Limit for stacks has been exceeded.\nStack with id foo does not exist.\n")
    texts = [m.text for m in split_failures(paste)]
    assert len(texts) == 3
    assert "is not authorized to perform: iam:PassRole" in texts[0]


def test_describe_stack_events_json(shared_data: Path) -> None:
    doc = (shared_data / "stack-events" / "Makazine_ingestion-pipeline" / "newest-failure.json")
    msgs = split_failures(doc.read_text(encoding="utf-8"))
    events = json.loads(doc.read_text(encoding="utf-8"))
    assert len(msgs) == sum(1 for e in events if e.get("ResourceStatusReason"))
    assert all("logical_id" in m.fields and "resource_status" in m.fields for m in msgs)


def test_stack_events_dump_picks_the_root_cause(shared_data: Path) -> None:
    doc = shared_data / "stack-events" / "walsonbmboe_Trading-insights-app" / "stack-events.json"
    c = classify(doc.read_text(encoding="utf-8"))
    assert c.extracted["logical_id"] == "EC2Role" and "ARN format" in c.message
    assert {o.rule for o in c.others} >= {"failure-summary", "cancelled-by-other-failure"}


def test_progress_rows_and_headers_are_not_failures() -> None:
    paste = ("App | 0/2 | 1:00:00 PM | UPDATE_IN_PROGRESS | AWS::CloudFormation::Stack | App User "
             "Initiated\nApp | 1/2 | 1:00:05 PM | UPDATE_FAILED | AWS::S3::Bucket | Logs (LogsAB12) "
             "The bucket you tried to delete is not empty\n")
    c = classify(paste)
    assert c.failure_mode is FailureMode.DELETE_BLOCKED_NONEMPTY_BUCKET and c.others == ()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_classifies_without_error(text: str) -> None:
    c = classify(text)
    assert c.failure_mode in FailureMode
    assert c.runbook is None or c.runbook in set(RUNBOOK_FOR_MODE.values())
    assert c.explanation


def test_large_input_stays_linear() -> None:
    # 5,000 lines of noise plus one real failure: must finish (no catastrophic backtracking).
    paste = "progress line without a failure\n" * 5_000 + (
        "resource sg-0123456789abcdef0 has a dependent object\n")
    assert classify(paste).failure_mode is FailureMode.DELETE_BLOCKED_DEPENDENCY


def test_json_event_properties_name_the_artifact() -> None:
    event = {
        "StackName": "api", "LogicalResourceId": "Fn", "ResourceType": "AWS::Lambda::Function",
        "ResourceStatus": "UPDATE_FAILED", "Timestamp": "2024-01-01T00:00:01Z",
        "ResourceStatusReason": (
            'Resource handler returned message: "Error occurred while GetObject. S3 Error Code: '
            'NoSuchKey. S3 Error Message: The specified key does not exist. (Service: Lambda, '
            'Status Code: 400, Request ID: 1)" (RequestToken: 2, HandlerErrorCode: InvalidRequest)'),
        "ResourceProperties": json.dumps({"Code": {
            "S3Bucket": "cdk-hnb659fds-assets-111122223333-eu-west-1", "S3Key": "3f2a1b.zip",
            "S3ObjectVersion": "v7"}, "Runtime": "nodejs20.x"}),
    }
    noise = {"StackName": "api", "ResourceStatus": "UPDATE_IN_PROGRESS",
             "ResourceStatusReason": "User Initiated"}
    c = classify(json.dumps({"StackEvents": [event, noise]}))
    assert c.rule == "artifact-s3-object-missing" and c.others == ()
    assert (c.extracted["bucket"], c.extracted["key"], c.extracted["version_id"]) == (
        "cdk-hnb659fds-assets-111122223333-eu-west-1", "3f2a1b.zip", "v7")
    assert "s3://cdk-hnb659fds-assets-111122223333-eu-west-1/3f2a1b.zip" in c.explanation


def test_text_output_row_skips_the_properties_cell() -> None:
    row = ("STACKEVENTS\tFn-UPDATE_FAILED-2024\tFn\tapi-Fn-1\t"
           '{"Code":{"S3Bucket":"bkt-1","S3Key":"fn.zip"},"Description":"my function does things"}'
           "\tUPDATE_FAILED\tError occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
           "Message: The specified key does not exist.\tAWS::Lambda::Function\t"
           "arn:aws:cloudformation:eu-west-1:1:stack/api/1\tapi\t2024-01-01T00:00:01Z")
    c = classify(row)
    assert c.rule == "artifact-s3-object-missing" and c.extracted["logical_id"] == "Fn"
    assert (c.extracted["bucket"], c.extracted["key"]) == ("bkt-1", "fn.zip")


def test_pathological_single_segments_classify() -> None:
    # Long runs without line breaks once made `(\S*)\s+is in` backtrack quadratically.
    for paste in ("x" * 100_000, "word " * 20_000, "a | " * 25_000, "Stack:" + "s" * 50_000):
        assert classify(paste).failure_mode is FailureMode.UNKNOWN
    assert classify("a" * 50_000 + " is in UPDATE_ROLLBACK_FAILED state and can not be updated."
                    ).rule == "stack-status-refused"
