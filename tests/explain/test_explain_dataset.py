"""explain on real messages: every line of messages.jsonl (against reviewed expectations) and
the verbatim AWS messages of docs/reference/aws-behaviour.md (skip rules, service roles, delete
failures, CDK bootstrap, the message catalogue)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recover.explain.classify import classify
from recover.explain.taxonomy import FailureMode, runbook_for
from tests.conftest import REPO, SHARED_DATA
from tests.explain.explain_reviewed import REVIEWED, accuracy, expected_mode, load_rows
from tests.test_docs_citations import anchors

BEHAVIOUR = REPO / "docs" / "reference" / "aws-behaviour.md"


def _rows() -> list[tuple[int, dict[str, object]]]:
    if not (SHARED_DATA / "cfn-failure-messages").is_dir():
        return []
    return list(enumerate(load_rows(SHARED_DATA), start=1))


ROWS = _rows()


@pytest.mark.parametrize(("line", "row"), ROWS or [pytest.param(0, {}, marks=pytest.mark.skip(
    reason="../shared/data is not beside the repository"))], ids=[f"line{i}" for i, _ in ROWS] or ["none"])
def test_messages_jsonl_row(line: int, row: dict[str, object]) -> None:
    c = classify(str(row["text"]))
    assert c.failure_mode.value == expected_mode(line, row), (row["text"], c.rule)
    assert c.explanation and c.rule != "" or c.failure_mode is FailureMode.UNKNOWN
    if c.runbook is None and c.failure_mode is not FailureMode.UNKNOWN:
        assert runbook_for(c.failure_mode) is None or c.rule == "failure-summary"


def test_reviewed_table_only_lists_real_disagreements(shared_data: Path) -> None:
    rows = load_rows(shared_data)
    for line, (_, mode, reason) in REVIEWED.items():
        assert rows[line - 1]["failure_mode"] != mode, f"line {line} agrees with its label"
        assert reason and "\n" not in reason


def test_accuracy_against_review_is_total_and_raw_is_reported(shared_data: Path) -> None:
    rows = load_rows(shared_data)
    table = accuracy(rows, lambda text: classify(text).failure_mode.value)
    assert sum(r[1] for r in table) == len(rows)
    assert all(r[3] == r[1] for r in table), table
    # Raw agreement can only miss on the reviewed rows.
    assert sum(r[1] - r[2] for r in table) == len(REVIEWED)


# (aws-behaviour.md anchor, verbatim string quoted there, expected mode, expected rule)
VERBATIM: list[tuple[str, str, str, str]] = [
    ("stack-statuses", "is in UPDATE_ROLLBACK_FAILED state and can not be updated.", "stack_state_blocked",
     "stack-status-refused"),
    ("continueupdaterollback-runs-on-the-root", "RollbackUpdatedStack cannot be invoked on child stacks", "stack_state_blocked",
     "continue-rollback-on-child"),
    ("continueupdaterollback-runs-on-the-root", "Failed to rollback: RollbackUpdatedStack cannot be invoked on child stacks",
     "stack_state_blocked", "continue-rollback-on-child"),
    ("resourcestoskip-rules", "Only the resources failed during UpdateRollback are allowed to be skipped",
     "stack_state_blocked", "skip-list-rejected"),
    ("resourcestoskip-rules", "Nested stacks could not be skipped", "stack_state_blocked", "skip-list-rejected"),
    ("resourcestoskip-rules", "Stack [RabbitMQStack] does not exist", "invalid_reference", "stack-not-found"),
    ("resourcestoskip-rules", "Stack [VPCStack] does not exist", "invalid_reference", "stack-not-found"),
    ("resourcestoskip-rules", "Resource update cancelled", "cancelled", "cancelled-by-other-failure"),
    ("resourcestoskip-rules", "Resource creation cancelled", "cancelled", "cancelled-by-other-failure"),
    ("service-roles-rolearn", "ValidationError: Role arn:aws:iam::423786275406:role/mu-b4-cloudformation-common-us-west-2 "
     "is invalid or cannot be assumed\\n status code: 400", "execution_role_missing",
     "execution-role-invalid"),
    ("service-roles-rolearn", "Role arn:aws:iam::XXXXXXXXX:role/cdk-hnb659fds-cfn-exec-role-XXXXXXXXXX-us-east-1 is "
     "invalid or cannot be assumed", "execution_role_missing", "execution-role-invalid"),
    ("service-roles-rolearn", "(ValidationError) when calling the DeleteStack operation: Role … is invalid or cannot be "
     "assumed", "execution_role_missing", "execution-role-invalid"),
    ("retainresources-only-from-delete_failed", "An error occurred (ValidationError) when calling the DeleteStack operation: Invalid "
     "operation on stack [arn:aws:cloudformation:…]. You can activate DeletionMode FORCE_DELETE_STACK "
     "in a delete stack operation only when the stack is in the DELETE_FAILED state.",
     "stack_state_blocked", "retain-resources-rejected"),
    ("which-resources-may-be-retained", "ValidationError: The specified resources to retain must be in a valid state. Do not "
     "specify resources that are in the DELETE_COMPLETE state.", "stack_state_blocked",
     "retain-resources-rejected"),
    ("why-a-delete-fails", "The following resource(s) failed to delete: [S3Bucket]. ", "nested_stack_failure",
     "failure-summary"),
    ("why-a-delete-fails", "The following resource(s) failed to delete: [LambdaEdgeRedirectPostRequests, "
     "WebsiteS3Bucket].", "nested_stack_failure", "failure-summary"),
    ("why-a-delete-fails", "The bucket you tried to delete is not empty (Service: Amazon S3; Status Code: 409; Error "
     "Code: BucketNotEmpty; Request ID: 13B5WKE8TCT9VS8K; S3 Extended Request ID: …; Proxy: null)",
     "delete_blocked_nonempty_bucket", "bucket-not-empty"),
    ("why-a-delete-fails", "BucketNotEmpty: The bucket you tried to delete is not empty. You must delete all versions "
     "in the bucket.", "delete_blocked_nonempty_bucket", "bucket-not-empty"),
    ("why-a-delete-fails", "resource sg-XXXX has a dependent object (Service: AmazonEC2; Status Code: 400; Error Code: "
     "DependencyViolation; Request ID: …)", "delete_blocked_dependency", "dependency-violation"),
    ("why-a-delete-fails", "DependencyViolation: resource sg-… has a dependent object", "delete_blocked_dependency",
     "dependency-violation"),
    ("why-a-delete-fails", 'Resource handler returned message: "Error occurred while GetObject. S3 Error Code: NoSuchKey. '
     'S3 Error Message: The specified key does not exist. (Service: Lambda, Status Code: 400, Request '
     'ID: …)" (RequestToken: …, HandlerErrorCode: InvalidRequest)', "missing_artifact",
     "artifact-s3-object-missing"),
    ("why-a-delete-fails", "CloudFormation did not receive a response from your Custom Resource. Please check your logs "
     "for requestId [<uuid>]. If you are using the Python cfn-response module, you may need to update "
     "your Lambda function code so that CloudFormation can attach the updated version.",
     "custom_resource_failure", "custom-resource-no-response"),
    ("why-a-delete-fails", "Cannot delete protected DB Instance", "delete_blocked_dependency", "delete-protection"),
    ("cdk-bootstrap", "Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from parameter store for this "
     "account.", "execution_role_missing", "cdk-bootstrap-missing"),
    ("cdk-bootstrap", "(ValidationError) when calling the CreateChangeSet operation: Unable to fetch parameters "
     "[kms_arn] from parameter store for this account.", "invalid_reference", "referenced-object-missing"),
    ("cdk-bootstrap", "SSM parameter /cdk-bootstrap/hnb659fds/version not found. Has the environment been "
     "bootstrapped? Please run 'cdk bootstrap' (see https://docs.aws.amazon.com/cdk/latest/guide/"
     "bootstrapping.html)", "execution_role_missing", "cdk-bootstrap-missing"),
    ("aws-messages-recover-recognises", "The specified resources to retain must be in a valid state. Do not specify resources that "
     "are in the DELETE_COMPLETE state.", "stack_state_blocked", "retain-resources-rejected"),
    ("aws-messages-recover-recognises", "Invalid operation on stack <id>. When you delete a stack, specify which resources to retain "
     "only when the stack is in the DELETE_FAILED state.", "stack_state_blocked",
     "retain-resources-rejected"),
    ("aws-messages-recover-recognises", "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key "
     "does not exist.", "missing_artifact", "artifact-s3-object-missing"),
    ("aws-messages-recover-recognises", "A client request token already exists.", "name_conflict", "client-token-reused"),
    ("aws-messages-recover-recognises", "User Initiated", "unknown", ""),
    ("express-deployment-mode", "This stack is in a UPDATE_FAILED state from a previous operation that used EXPRESS "
     "deployment mode with disable-rollback. Follow-up operations must use the same DeploymentConfig "
     "(mode=EXPRESS) until the stack reaches a *_COMPLETE state...", "express_update_failed",
     "express-follow-up-refused"),
    ("express-deployment-mode", "RollbackStack is not supported for stacks that were last updated using EXPRESS "
     "deployment mode and are in a failed state", "express_update_failed", "express-follow-up-refused"),
    ("express-deployment-mode", "This stack is currently in a non-terminal [UPDATE_FAILED] state. To update the stack "
     "from this state, please use the disable-rollback parameter with update-stack API. To rollback to "
     "the last known good state, use the rollback-stack API", "stack_state_blocked",
     "update-failed-rollback-on"),
]

# Catalogue rows (aws-behaviour.md#aws-messages-recover-recognises) whose text has <placeholders>:
# filled with concrete values (not verbatim).
FILLED: list[tuple[str, str, str]] = [
    ("Stack:arn:aws:cloudformation:us-east-1:123456789012:stack/app/0a1b2c3d-1111-2222-3333-444455556666 "
     "is in UPDATE_ROLLBACK_FAILED state and can not be updated.", "stack_state_blocked",
     "stack-status-refused"),
    ("Stack with id app does not exist", "invalid_reference", "stack-not-found"),
    ("Resource WebBucket does not exist for stack app", "invalid_reference", "stack-not-found"),
    ("Role arn:aws:iam::123456789012:role/app-cfn is invalid or cannot be assumed",
     "execution_role_missing", "execution-role-invalid"),
    ("Stack app-db is in UPDATE_ROLLBACK_COMPLETE state and can not continue to update rollback.",
     "stack_state_blocked", "stack-status-refused"),
    ("Stack [app] is in UPDATE_COMPLETE state and can not be continued", "stack_state_blocked",
     "stack-status-refused"),
]


@pytest.mark.parametrize(("section", "text", "mode", "rule"), VERBATIM,
                         ids=[f"{s}-{i}" for i, (s, *_) in enumerate(VERBATIM)])
def test_semantics_verbatim(section: str, text: str, mode: str, rule: str) -> None:
    c = classify(text.replace("\\n", "\n"))
    assert (c.failure_mode.value, c.rule) == (mode, rule)


@pytest.mark.parametrize(("text", "mode", "rule"), FILLED, ids=[r for *_, r in FILLED])
def test_semantics_filled_placeholders(text: str, mode: str, rule: str) -> None:
    c = classify(text)
    assert (c.failure_mode.value, c.rule) == (mode, rule)


def test_verbatim_strings_are_in_the_reference() -> None:
    ref = BEHAVIOUR.read_text(encoding="utf-8")
    missing = [t for _, t, _, _ in VERBATIM if t not in ref]
    assert not missing
    assert {a for a, *_ in VERBATIM} <= anchors(BEHAVIOUR)
