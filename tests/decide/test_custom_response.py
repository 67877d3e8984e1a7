"""The pure half of custom-resource: reading requests out of log lines, refusing answers that
would go anywhere but CloudFormation's response bucket, choosing the waiting request, the
default answer and the response document."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from recover.decide.custom_response import (
    CustomRequest,
    choose_request,
    deadline,
    default_status,
    parse_requests,
    response_document,
    url_problem,
)

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
STACK = "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/11111111-2222-3333-4444-555555555555"
HOST = "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com"


def url(stack: str = STACK, lid: str = "Dns", rid: str = "r-1", host: str = HOST) -> str:
    return f"{host}/{quote(f'{stack}|{lid}|{rid}', safe='/')}?X-Amz-Signature=abc"


def event(rid: str = "r-1", kind: str = "Delete", lid: str = "Dns", stack: str = STACK,
          response_url: str | None = None) -> dict:
    return {"RequestType": kind, "RequestId": rid, "StackId": stack, "LogicalResourceId": lid,
            "ResponseURL": response_url or url(stack, lid, rid), "PhysicalResourceId": "p-1",
            "ResourceType": "Custom::Dns", "ResourceProperties": {"ServiceToken": "x"}}


def req(**kw) -> CustomRequest:
    e = event(**kw)
    return CustomRequest(e["RequestType"], e["RequestId"], e["StackId"],
                         e["LogicalResourceId"], e["ResponseURL"], "p-1", logged_at=T0)


@pytest.mark.parametrize("line", [
    "[INFO]\t2026-12-06T10:00:00.000Z\tabc\tReceived event: {json}\n",  # Python logging
    "2026-12-06T10:00:00.000Z\tabc\tINFO\tRequest: {json}\n",  # Node console.log
    "{repr}\n",  # Python print(event): a dict repr, not JSON
    '{{"level": "INFO", "event": {json}}}',  # structured logging, the event nested
])
def test_a_request_is_read_from_the_ways_handlers_log_it(line: str) -> None:
    e = event()
    text = line.format(json=json.dumps(e), repr=repr(e))
    (found,) = parse_requests([(T0, text, "s")])
    assert (found.request_id, found.request_type, found.response_url) == (
        "r-1", "Delete", e["ResponseURL"])


def test_lines_without_a_request_and_retries_of_the_same_request() -> None:
    e = json.dumps(event())
    lines = [(T0, "START RequestId: abc", "s"), (T0, "ResponseURL upload retry 1/3", "s"),
             (T0, "{not json", "s"), (T0, f"Received event: {e}", "s"),
             (T0 + timedelta(seconds=60), f"Received event: {e}", "s")]
    assert [r.logged_at for r in parse_requests(lines)] == [T0]


@pytest.mark.parametrize(("response_url", "why"), [
    ("http://169.254.169.254/latest/api/token", "not https"),
    ("https://attacker.example.com/x?X-Amz-Signature=1", "not CloudFormation's response bucket"),
    (url(host="https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com"),
     "not CloudFormation's response bucket"),  # another region's bucket
    (url(host="https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com.evil.io"),
     "not CloudFormation's response bucket"),
    (url(host="https://user:pw@cloudformation-custom-resource-response-euwest1.s3.amazonaws.com"),
     "credentials"),
    (url(host=HOST + ":8443"), "port 8443"),
    (url(rid="r-2"), "does not name this stack, resource and request"),
    (url(host="http://127.0.0.1:4566/cloudformation-custom-resource-response-euwest1"),
     "not https"),  # loopback only when it is the configured endpoint
])
def test_answers_go_only_to_the_response_bucket_of_this_request(response_url: str,
                                                                 why: str) -> None:
    problem = url_problem(req(response_url=response_url), "eu-west-1")
    assert problem is not None and why in problem


def test_real_and_sandbox_response_urls_are_accepted() -> None:
    for host in (HOST, "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com",
                 "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com"):
        assert url_problem(req(response_url=url(host=host)), "eu-west-1") is None
    local = url(host="http://127.0.0.1:4566/cloudformation-custom-resource-response-euwest1")
    assert url_problem(req(response_url=local), "eu-west-1", "http://127.0.0.1:4566") is None
    assert url_problem(req(response_url=local), "eu-west-1", "http://127.0.0.1:9999") is not None


def test_the_newest_usable_request_of_this_resource_and_attempt_is_chosen() -> None:
    other_stack = STACK.replace("/app/", "/app-staging/")
    requests = [
        CustomRequest("Delete", "old", STACK, "Dns", url(rid="old"), logged_at=T0 - timedelta(hours=2)),
        CustomRequest("Create", "create", STACK, "Dns", url(rid="create"), logged_at=T0 + timedelta(seconds=5)),
        CustomRequest("Delete", "staging", other_stack, "Dns", url(other_stack, rid="staging"),
                      logged_at=T0 + timedelta(seconds=6)),
        CustomRequest("Delete", "r-1", STACK, "Dns", url(rid="r-1"), logged_at=T0 + timedelta(seconds=7)),
        CustomRequest("Delete", "r-2", STACK, "Dns", url(rid="r-2"), logged_at=T0 + timedelta(seconds=9)),
        CustomRequest("Delete", "evil", STACK, "Dns", "http://169.254.169.254/x",
                      logged_at=T0 + timedelta(seconds=20)),
        CustomRequest("Delete", "seed", STACK, "Seed", url(lid="Seed", rid="seed"), logged_at=T0),
    ]
    found = choose_request(requests, stack_id=STACK, logical_id="Dns",
                           resource_status="DELETE_IN_PROGRESS", attempt_started=T0,
                           region="eu-west-1")
    assert found.request is not None and found.request.request_id == "r-2"
    assert [r.request_id for r in found.older] == ["r-1"]
    assert {r.request_id for r, _ in found.rejected} == {"old", "create", "staging", "evil"}


def test_no_usable_request_chooses_nothing() -> None:
    found = choose_request([req(response_url="http://169.254.169.254/x")], stack_id=STACK,
                           logical_id="Dns", resource_status="DELETE_IN_PROGRESS",
                           attempt_started=T0, region="eu-west-1")
    assert found.request is None and len(found.rejected) == 1


@pytest.mark.parametrize(("kind", "stack_status", "answer"), [
    ("Create", "CREATE_IN_PROGRESS", "FAILED"),
    ("Update", "UPDATE_IN_PROGRESS", "FAILED"),
    ("Update", "UPDATE_ROLLBACK_IN_PROGRESS", "SUCCESS"),
    ("Delete", "DELETE_IN_PROGRESS", "SUCCESS"),
    ("Delete", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "SUCCESS"),
])
def test_default_answer(kind: str, stack_status: str, answer: str) -> None:
    assert default_status(kind, stack_status)[0] == answer


def test_the_response_document_copies_the_request_and_keeps_the_physical_id() -> None:
    doc = response_document(req(), "FAILED", "x" * 5000)
    assert set(doc) == {"Status", "Reason", "PhysicalResourceId", "StackId", "RequestId",
                        "LogicalResourceId"}
    assert (doc["StackId"], doc["RequestId"], doc["LogicalResourceId"],
            doc["PhysicalResourceId"]) == (STACK, "r-1", "Dns", "p-1")
    assert len(json.dumps(doc).encode()) <= 4096
    with pytest.raises(ValueError):
        response_document(req(), "MAYBE", "")


@pytest.mark.parametrize(("timeout", "seconds"), [(None, 3600), ("900", 900), (60, 60),
                                                  ("9999", 3600), ("soon", 3600)])
def test_cloudformation_gives_up_after_service_timeout(timeout: object, seconds: int) -> None:
    assert deadline(T0, timeout) == T0 + timedelta(seconds=seconds)
