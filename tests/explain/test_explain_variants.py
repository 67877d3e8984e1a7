"""Held-out messages (not in messages.jsonl): other ids, regions, partitions, services and
wrappers of the same AWS message shapes, to show the rules generalise beyond the samples."""

from __future__ import annotations

import pytest

from recover.explain.classify import classify

RID = "4a7c1f0e-9b2d-4c55-8e1a-2f3b4c5d6e7f"
TOKEN = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"


def handler(inner: str, code: str = "InvalidRequest") -> str:
    return f'Resource handler returned message: "{inner}" (RequestToken: {TOKEN}, HandlerErrorCode: {code})'


VARIANTS: list[tuple[str, str, str]] = [
    # (id, message, expected failure_mode)
    ("layer-nosuchbucket-cloudcontrol", handler(
        "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified "
        f"bucket does not exist (Service: Lambda, Status Code: 400, Request ID: {RID})"),
     "missing_artifact"),
    ("code-nosuchkey-cli", "An error occurred (InvalidParameterValueException) when calling the "
     "UpdateFunctionCode operation: Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
     "Message: The specified key does not exist.", "missing_artifact"),
    ("code-access-denied", "Your access has been denied by S3, please make sure your request "
     "credentials have permission to GetObject for cdk-x1y2z3-assets-210987654321-eu-north-1/"
     "9f8e7d6c5b4a.zip. S3 Error Code: AccessDenied. S3 Error Message: Access Denied",
     "missing_artifact"),
    ("nested-template-s3-denied", "S3 error: Access Denied For more information check "
     "http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html", "missing_artifact"),
    ("template-url-invalid", "TemplateURL must reference a valid S3 object to which you have access.",
     "missing_artifact"),
    ("image-missing", handler("Source image 210987654321.dkr.ecr.eu-north-1.amazonaws.com/app:v42 "
                              "does not exist. Provide a valid source image."), "missing_artifact"),
    ("role-cn-partition", "Role arn:aws-cn:iam::210987654321:role/deploy/cfn-service is invalid or "
     "cannot be assumed", "execution_role_missing"),
    ("role-go-sdk", "ValidationError: Role arn:aws:iam::123456789012:role/cdk-q1w2e3-cfn-exec-role-"
     "123456789012-ap-southeast-2 is invalid or cannot be assumed\n\tstatus code: 400, request id: "
     f"{RID}", "execution_role_missing"),
    ("role-botocore-delete", "botocore.exceptions.ClientError: An error occurred (ValidationError) when "
     "calling the DeleteStack operation: Role arn:aws:iam::555566667777:role/legacy-cfn is invalid or "
     "cannot be assumed", "execution_role_missing"),
    ("bootstrap-ssm-cli", "❌ Deployment failed: Error: BillingStack: SSM parameter "
     "/cdk-bootstrap/custom42/version not found. Has the environment been bootstrapped? Please run "
     "'cdk bootstrap' (see https://docs.aws.amazon.com/cdk/latest/guide/bootstrapping.html)",
     "execution_role_missing"),
    ("bootstrap-unable-to-fetch", "An error occurred (ValidationError) when calling the "
     "CreateChangeSet operation: Unable to fetch parameters [/cdk-bootstrap/abcd1234/version] from "
     "parameter store for this account.", "execution_role_missing"),
    ("cdk-deploy-role-and-ssm", "current credentials could not be used to assume 'arn:aws:iam::"
     "111122223333:role/cdk-hnb659fds-deploy-role-111122223333-us-east-1', but are for the right "
     "account. Proceeding anyway.\nFrontendWafStack: SSM parameter /cdk-bootstrap/hnb659fds/version "
     "not found. Has the environment been bootstrapped? Please run 'cdk bootstrap'",
     "execution_role_missing"),
    ("cdk-toolkit-not-installed", "The environment aws://341538367464/eu-west-2 doesn't have the CDK "
     "toolkit stack (CDKToolkit) installed. Use cdk bootstrap \"aws://341538367464/eu-west-2\" to "
     "setup your environment for use with the toolkit.", "execution_role_missing"),
    ("cdk-cross-account-role", "Could not assume role in target account using current credentials "
     "(which are for account 111122223333) User: arn:aws:sts::111122223333:assumed-role/Admin/me is "
     "not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/"
     "cdk-abc123-deploy-role-444455556666-eu-west-1 . Please make sure that this role exists in the "
     "account. If it doesn't exist, (re)-bootstrap the environment with the right '--trust'.",
     "execution_role_missing"),
    ("embedded-update-currently-in", "Embedded stack arn:aws:cloudformation:sa-east-1:210987654321:"
     "stack/Shop-Payments-1QW2ER3TY4UI/0a1b2c3d-4e5f-11ee-9a8b-0a1b2c3d4e5f was not successfully "
     "updated. Currently in UPDATE_ROLLBACK_FAILED with reason: The following resource(s) failed to "
     "update: [PaymentsFn].", "nested_stack_failure"),
    ("embedded-deleted", "Embedded stack arn:aws:cloudformation:us-gov-west-1:210987654321:stack/"
     "Gov-Data-XYZ/11111111-2222-3333-4444-555555555555 was not successfully deleted: The following "
     "resource(s) failed to delete: [Logs].", "nested_stack_failure"),
    ("bucket-not-empty-cloudcontrol", handler(
        "The bucket you tried to delete is not empty (Service: S3, Status Code: 409, Request ID: "
        "7QW8ER9TY0UI1OP2, Extended Request ID: abc=)", "GeneralServiceException"),
     "delete_blocked_nonempty_bucket"),
    ("bucket-not-empty-versions", "BucketNotEmpty: The bucket you tried to delete is not empty. You "
     "must delete all versions in the bucket.", "delete_blocked_nonempty_bucket"),
    ("subnet-dependencies", handler("The subnet 'subnet-0abc1234def567890' has dependencies and cannot "
                                    f"be deleted. (Service: Ec2, Status Code: 400, Request ID: {RID})",
                                    "GeneralServiceException"), "delete_blocked_dependency"),
    ("eni-in-use", "Network interface eni-0123abcd4567ef890 is currently in use. (Service: AmazonEC2; "
     f"Status Code: 400; Error Code: InvalidNetworkInterface.InUse; Request ID: {RID})",
     "delete_blocked_dependency"),
    ("iam-delete-conflict", "Cannot delete entity, must detach all policies first. (Service: "
     f"AmazonIdentityManagement; Status Code: 409; Error Code: DeleteConflict; Request ID: {RID}; "
     "Proxy: null)", "delete_blocked_dependency"),
    ("sg-dependent-new-form", handler(f"resource sg-0f1e2d3c4b5a69788 has a dependent object (Service: "
                                      f"Ec2, Status Code: 400, Request ID: {RID})",
                                      "GeneralServiceException"), "delete_blocked_dependency"),
    ("export-in-use-update", "Export platform-net:VpcId cannot be updated as it is in use by "
     "orders-service and billing-service", "delete_blocked_dependency"),
    ("cr-failed-node", "Received response status [FAILED] from custom resource. Message returned: "
     f"Error: connect ETIMEDOUT 10.0.0.1:443 (RequestId: {RID})", "custom_resource_failure"),
    ("cr-no-response", "CloudFormation did not receive a response from your Custom Resource. Please "
     f"check your logs for requestId [{RID}]. If you are using the Python cfn-response module, you "
     "may need to update your Lambda function code so that CloudFormation can attach the updated "
     "version.", "custom_resource_failure"),
    ("cr-stabilize", "Custom Resource failed to stabilize in expected time", "custom_resource_failure"),
    ("iam-scp-deny", "User: arn:aws:sts::210987654321:assumed-role/Developer/jane is not authorized to "
     "perform: s3:PutBucketPolicy on resource: arn:aws:s3:::shop-assets with an explicit deny in a "
     "service control policy", "permission_denied"),
    ("iam-boundary-deny", handler("User: arn:aws:sts::210987654321:assumed-role/cdk-hnb659fds-cfn-exec-"
                                  "role-210987654321-us-east-2/AWSCloudFormation is not authorized to "
                                  "perform: iam:CreateRole on resource: arn:aws:iam::210987654321:role/"
                                  "x with an explicit deny in a permissions boundary (Service: Iam, "
                                  f"Status Code: 403, Request ID: {RID})", "AccessDenied"),
     "permission_denied"),
    ("old-api-passrole", "API: iam:PassRole User: arn:aws:iam::210987654321:user/ci is not authorized "
     "to perform: iam:PassRole on resource: arn:aws:iam::210987654321:role/lambda-exec",
     "permission_denied"),
    ("ec2-unauthorized", "You are not authorized to perform this operation. Encoded authorization "
     "failure message: AbCdEf (Service: AmazonEC2; Status Code: 403; Error Code: "
     f"UnauthorizedOperation; Request ID: {RID})", "permission_denied"),
    ("kms-access-denied-exception", handler("User: arn:aws:sts::1:assumed-role/r/s is not authorized "
                                            "to perform: kms:Decrypt", "AccessDenied"),
     "permission_denied"),
    ("eip-limit", handler(f"The maximum number of addresses has been reached. (Service: Ec2, Status "
                          f"Code: 400, Request ID: {RID})", "ServiceLimitExceeded"), "limit_exceeded"),
    ("iam-quota", "Cannot exceed quota for PoliciesPerRole: 10 (Service: AmazonIdentityManagement; "
     f"Status Code: 409; Error Code: LimitExceeded; Request ID: {RID})", "limit_exceeded"),
    ("vcpu-limit", "You have requested more vCPU capacity than your current vCPU limit of 32 allows "
     "for the instance bucket that the specified instance type belongs to.", "limit_exceeded"),
    ("lambda-code-storage", "Code storage limit exceeded. (Service: AWSLambda; Status Code: 400; Error "
     f"Code: CodeStorageExceededException; Request ID: {RID})", "limit_exceeded"),
    ("throttle-cfn", "Rate exceeded (Service: AmazonCloudFormation; Status Code: 400; Error Code: "
     f"Throttling; Request ID: {RID})", "throttled"),
    ("throttle-cli", "An error occurred (ThrottlingException) when calling the DescribeStackEvents "
     "operation (reached max retries: 4): Rate exceeded", "throttled"),
    ("throttle-ec2", "Request limit exceeded. (Service: AmazonEC2; Status Code: 503; Error Code: "
     f"RequestLimitExceeded; Request ID: {RID})", "throttled"),
    ("state-in-progress", "An error occurred (ValidationError) when calling the UpdateStack operation: "
     "Stack:arn:aws:cloudformation:ca-central-1:210987654321:stack/web/abcdef01-2345-6789-abcd-"
     "ef0123456789 is in UPDATE_IN_PROGRESS state and can not be updated.", "stack_state_blocked"),
    ("state-delete-failed", "Stack:arn:aws:cloudformation:us-east-1:1:stack/x/1 is in DELETE_FAILED "
     "state and can not be updated.", "stack_state_blocked"),
    ("termination-protection", "An error occurred (ValidationError) when calling the DeleteStack "
     "operation: Stack [prod-core] cannot be deleted while TerminationProtection is enabled",
     "stack_state_blocked"),
    ("child-rollback", "Failed to rollback: RollbackUpdatedStack cannot be invoked on child stacks",
     "stack_state_blocked"),
    ("force-delete-state", "An error occurred (ValidationError) when calling the DeleteStack operation: "
     "Invalid operation on stack [arn:aws:cloudformation:eu-west-2:1:stack/a/b]. You can activate "
     "DeletionMode FORCE_DELETE_STACK in a delete stack operation only when the stack is in the "
     "DELETE_FAILED state.", "stack_state_blocked"),
    ("fn-not-found", handler(f"Function not found: arn:aws:lambda:eu-west-1:210987654321:function:"
                             f"orders-handler (Service: Lambda, Status Code: 404, Request ID: {RID})",
                             "NotFound"), "resource_deleted_out_of_band"),
    ("role-nosuchentity", "The role with name orders-fn-role cannot be found. (Service: "
     f"AmazonIdentityManagement; Status Code: 404; Error Code: NoSuchEntity; Request ID: {RID})",
     "resource_deleted_out_of_band"),
    ("dynamo-not-found", "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; "
     f"Error Code: ResourceNotFoundException; Request ID: {RID})", "resource_deleted_out_of_band"),
    ("summary-delete", "The following resource(s) failed to delete: [LogsBucket, WebSG]. ",
     "nested_stack_failure"),
    ("already-exists-cc", handler("orders-table already exists", "AlreadyExists"), "name_conflict"),
    ("cancelled", "Resource update cancelled", "cancelled"),
    # Near misses: same words, other meaning.
    ("nosuchbucket-on-delete-is-not-an-artifact", "The specified bucket does not exist (Service: "
     f"Amazon S3; Status Code: 404; Error Code: NoSuchBucket; Request ID: {RID})",
     "resource_deleted_out_of_band"),
    ("cr-reason-mentions-missing-key", "Received response status [FAILED] from custom resource. "
     f"Message returned: The specified key does not exist. (RequestId: {RID})",
     "custom_resource_failure"),
    ("name-in-use-is-already-exists", handler("Invalid request provided: Function name is already in "
                                              "use"), "name_conflict"),
    ("stabilize-attempts-not-a-limit", handler("Exceeded maximum number of attempts. 60 (Service: "
                                               "AmazonECS, Status Code: 400)", "NotStabilized"),
     "transient_error"),
    ("ec2-throttled-cc", handler("Your request has been throttled by EC2, please make sure you have "
                                 f"enough API rate limit. (Service: Ec2, Status Code: 503, Request ID: "
                                 f"{RID})", "Throttling"), "throttled"),
    ("capacity-not-quota", "We currently do not have sufficient m5.large capacity in the Availability "
     "Zone you requested (us-east-1a).", "transient_error"),
    ("lambda-role-missing-permission", "The provided execution role does not have permissions to call "
     "CreateNetworkInterface on EC2", "permission_denied"),
    ("iam-role-cannot-be-found", "The role with name orders-fn-role cannot be found.",
     "resource_deleted_out_of_band"),
    ("bucket-in-other-region", "Error occurred while GetObject. S3 Error Code: PermanentRedirect. S3 "
     "Error Message: The bucket is in this region: us-east-1. Please use this region to retry the "
     "request (Service: AWSLambdaInternal; Status Code: 400; Error Code: "
     "InvalidParameterValueException)", "refused_value"),
    ("lambda-trust", "The role defined for the function cannot be assumed by Lambda. (Service: "
     f"AWSLambdaInternal; Status Code: 400; Error Code: InvalidParameterValueException; Request ID: "
     f"{RID})", "permission_denied"),
    ("changeset-no-changes", "The submitted information didn't contain changes. Submit different "
     "information to create a change set.", "no_change"),
    ("unreserved-concurrency", "Specified ReservedConcurrentExecutions for function decreases "
     "account's UnreservedConcurrentExecution below its minimum value of [10].", "limit_exceeded"),
    ("exceeded-number", "You have exceeded the number of VPCs allowed per region.", "limit_exceeded"),
    ("cr-malformed", "CloudFormation received a malformed response from your Custom Resource",
     "custom_resource_failure"),
    ("no-export-is-a-reference", "No export named net-VpcId found. Rollback requested by user.",
     "invalid_reference"),
    ("policy-attached", "Cannot delete a policy attached to entities. (Service: "
     "AmazonIdentityManagement; Status Code: 409; Error Code: DeleteConflict)",
     "delete_blocked_dependency"),
    ("igw-mapped-addresses", "Network vpc-0a1b2c3d4e5f67890 has some mapped public address(es). "
     "Please unmap those public address(es) before detaching the gateway.",
     "delete_blocked_dependency"),
    ("type-identifier-not-found", "Resource of type 'AWS::Lambda::Function' with identifier 'orders' "
     "was not found.", "resource_deleted_out_of_band"),
    ("eni-in-use-by-instance", "Cannot delete ENI eni-0123456789abcdef0 because it is in use by "
     "i-0fedcba9876543210", "delete_blocked_dependency"),
]


@pytest.mark.parametrize(("msg", "expected"), [(m, e) for _, m, e in VARIANTS],
                         ids=[i for i, _, _ in VARIANTS])
def test_held_out_variant(msg: str, expected: str) -> None:
    assert classify(msg).failure_mode.value == expected


def test_extracts_role_and_qualifier_from_go_sdk_wrapper() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["role-go-sdk"])
    assert c.extracted["role_name"] == "cdk-q1w2e3-cfn-exec-role-123456789012-ap-southeast-2"
    assert c.extracted["cdk_qualifier"] == "q1w2e3"
    assert c.extracted["status_code"] == 400 and c.extracted["request_id"] == RID
    assert c.runbook == "bootstrap-role"


def test_extracts_bucket_and_key_from_access_denied_code_fetch() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["code-access-denied"])
    assert c.extracted["bucket"] == "cdk-x1y2z3-assets-210987654321-eu-north-1"
    assert c.extracted["key"] == "9f8e7d6c5b4a.zip"
    assert c.confidence == "medium"


def test_extracts_iam_action_principal_and_deny_source() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["iam-scp-deny"])
    assert c.extracted["iam_action"] == "s3:PutBucketPolicy"
    assert c.extracted["principal"] == "arn:aws:sts::210987654321:assumed-role/Developer/jane"
    assert c.extracted["resource"] == "arn:aws:s3:::shop-assets"
    assert "service control policy" in c.extracted["denied_by"]


def test_extracts_cloud_control_envelope() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["eip-limit"])
    assert c.extracted["handler_error_code"] == "ServiceLimitExceeded"
    assert c.extracted["request_token"] == TOKEN
    assert c.extracted["service"] == "Ec2" and c.extracted["status_code"] == 400
    assert c.extracted["request_id"] == RID
    assert c.message == "The maximum number of addresses has been reached."


def test_extracts_dependency_ids() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["subnet-dependencies"])
    assert c.extracted["blocked_resource_id"] == "subnet-0abc1234def567890"
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["eni-in-use"])
    assert c.extracted["resource_ids"] == ["eni-0123abcd4567ef890"]
    assert c.extracted["error_code"] == "InvalidNetworkInterface.InUse"


def test_nested_stack_extraction_and_status() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["embedded-update-currently-in"])
    assert c.extracted["child_stack_name"] == "Shop-Payments-1QW2ER3TY4UI"
    assert c.extracted["status"] == "UPDATE_ROLLBACK_FAILED"
    assert c.extracted["logical_ids"] == ["PaymentsFn"]
    assert c.runbook == "rollback-stuck"


def test_throttling_is_not_a_limit() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["throttle-cli"])
    assert c.rule == "api-throttled" and c.extracted["transient"] is True
    assert c.extracted["error_code"] == "ThrottlingException"
    assert c.extracted["operation"] == "DescribeStackEvents"


def test_state_refusal_selects_runbook_by_status() -> None:
    assert classify(dict((i, m) for i, m, _ in VARIANTS)["state-delete-failed"]).runbook == "delete-failed"
    assert classify(dict((i, m) for i, m, _ in VARIANTS)["state-in-progress"]).runbook is None


def test_summary_lists_resources_and_says_so() -> None:
    c = classify("The following resource(s) failed to delete: [LogsBucket, WebSG]. ")
    assert c.extracted["logical_ids"] == ["LogsBucket", "WebSG"]
    assert c.extracted["summary"] is True and c.confidence == "low"
    assert "summary" in c.explanation and c.runbook == "delete-failed"


def test_dependent_object_is_extracted_when_named() -> None:
    c = classify("Cannot delete ENI eni-0123456789abcdef0 because it is in use by i-0fedcba9876543210")
    assert c.extracted["blocked_resource_id"] == "eni-0123456789abcdef0"
    assert c.extracted["dependent_object"] == "i-0fedcba9876543210"


def test_iam_action_from_lambda_call_wording() -> None:
    c = classify("The provided execution role does not have permissions to call "
                 "CreateNetworkInterface on EC2")
    assert c.extracted["iam_action"] == "ec2:CreateNetworkInterface"


def test_cdk_stack_name_prefix_is_not_an_error_code() -> None:
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["cdk-deploy-role-and-ssm"])
    assert c.extracted["stack_name"] == "FrontendWafStack" and "error_code" not in c.extracted
    assert c.extracted["cdk_qualifier"] == "hnb659fds"
    assert [o.rule for o in c.others] == ["cdk-bootstrap-role-unassumable"]
    c = classify(dict((i, m) for i, m, _ in VARIANTS)["cdk-cross-account-role"])
    assert c.extracted["resource"].endswith("eu-west-1") and c.extracted["cdk_qualifier"] == "abc123"


# The SAM CLI / aws-cli events table wraps the reason inside its column (shape of the paste in
# aws/aws-cli#4826; the part the issue cut off was completed by hand).
SAM_TABLE = """\
CloudFormation events from changeset
-------------------------------------------------------------------------------------------------
ResourceStatus           ResourceType             LogicalResourceId        ResourceStatusReason
-------------------------------------------------------------------------------------------------
CREATE_FAILED            AWS::IAM::Role           HelloWorldFunctionRole   API: iam:CreateRole
                                                                           User: arn:aws:iam::833
                                                                           914180760:user/netocod
                                                                           er is not authorized
                                                                           to perform:
                                                                           iam:CreateRole on
                                                                           resource: arn:aws:iam:
                                                                           :833914180760:role/sam
ROLLBACK_IN_PROGRESS     AWS::CloudFormation::Stack sam-app                The following
                                                                           resource(s) failed to
                                                                           create:
                                                                           [HelloWorldFunctionRol
                                                                           e]. Rollback requested
                                                                           by user.
"""


def test_sam_table_with_column_wrapped_reasons() -> None:
    c = classify(SAM_TABLE)
    assert (c.failure_mode.value, c.rule) == ("permission_denied", "iam-not-authorized")
    assert c.extracted["logical_id"] == "HelloWorldFunctionRole"
    assert c.extracted["iam_action"] == "iam:CreateRole"
    assert [o.rule for o in c.others] == ["failure-summary"]
