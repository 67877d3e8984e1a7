"""Held-out real pastes found in public GitHub issues (not in messages.jsonl), in the wrappers
people really use: console tables, CDK output with the reason on the next line, Go logs,
tab-separated CLI output. Each case names its source thread."""

from __future__ import annotations

import pytest

from recover.explain.classify import classify

CASES: list[tuple[str, str, str, str, str | None]] = [
    # (source, paste, failure_mode, rule, logical_id)
    ("aws/aws-cdk#8957",
     "4:02:30 PM | CREATE_FAILED        | AWS::CloudFormation::Stack            | "
     "awscdkawseksCluste...ckResource9827C454\nS3 error: Access Denied\nFor more information check "
     "http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html\n\n\tnew NestedStack "
     "(/.../node_modules/@aws-cdk\n/aws-cloudformation/lib/nested-stack.js:34:25)\n",
     "missing_artifact", "template-url-unreadable", "awscdkawseksCluste...ckResource9827C454"),
    ("iotFab/iota-aws-full-node#6",
     "Template validation error: S3 error: Access Denied For more information check "
     "http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html",
     "missing_artifact", "template-url-unreadable", None),
    ("elastic/beats#12390",
     "2019-06-03T15:20:51.106+0200    INFO    [aws]   aws/op_cloudformation.go:95     Stack event "
     "received, ResourceType: AWS::Lambda::Function, LogicalResourceId: fnbsqsssssss, ResourceStatus: "
     "UPDATE_FAILED, ResourceStatusReason: Error occurred while GetObject. S3 Error Code: NoSuchKey. "
     "S3 Error Message: The specified key does not exist.",
     "missing_artifact", "artifact-s3-object-missing", "fnbsqsssssss"),
    ("convox/rack#1204",
     "01:59:45 UTC-1000\tUPDATE_FAILED\tAWS::Lambda::Function\tCustomTopic\tYour access has been denied "
     "by S3, please make sure your request credentials have permission to GetObject for "
     "convox-us-east-1/release/20160827184744/formation.zip. S3 Error Code: AccessDenied. S3 Error "
     "Message: Access Denied\nPhysical ID:convox-pick-api-CustomTopic-4DAD4IHEBPF2",
     "missing_artifact", "artifact-s3-access-denied", "CustomTopic"),
    ("aws-samples/well-architected-iac-analyzer#108",
     "2026-02-06 15:34:41 UTC+0530 | EC2Instance | CREATE_FAILEDLikely root cause | - | Received FAILURE "
     "signal with UniqueId i-11111wasdasdasfasdfa",
     "signal_failure", "resource-signal-failure", "EC2Instance"),
    ("aws/aws-sam-cli#5567",
     "Error: Failed to create managed resources: An error occurred (AccessDenied) when calling the "
     "CreateChangeSet operation: User: arn:aws:iam::736000000000:user/jyo is not authorized to perform: "
     "cloudformation:CreateChangeSet on resource: arn:aws:cloudformation:us-east-1:736000000000:stack/"
     "aws-sam-cli-managed-default/* because no identity-based policy allows the "
     "cloudformation:CreateChangeSet action.",
     "permission_denied", "iam-not-authorized", None),
    ("awslabs/aws-servicebroker#76",
     "E1204 17:30:51.289739       1 util.go:269] Status: 500; ErrorMessage: <nil>; Description: Failed "
     "to create the CloudFormation stack: AccessDenied: Access denied\n\tstatus code: 403, request id: "
     "5862fc30-f7ea-11e8-9bed-e94e95f61919; ResponseError: <nil>",
     "permission_denied", "access-denied", None),
    ("aws-samples/aws-s3-nosql-offloading-blog#4",
     "2019-08-27 22:24:24 UTC+0300 | qwe | ROLLBACK_IN_PROGRESS | The following resource(s) failed to "
     "create: [ddbToFirehose, myDynamoDBTable]. . Rollback requested by user.\n-- | -- | -- | --\n"
     "2019-08-27 22:24:24 UTC+0300 | myDynamoDBTable | CREATE_FAILED | Resource creation cancelled\n"
     "2019-08-27 22:24:23 UTC+0300 | ddbToFirehose | CREATE_FAILED | Error occurred while GetObject. S3 "
     "Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (Service: "
     "AWSLambdaInternal; Status Code: 400; Error Code: InvalidParameterValueException; Request ID: "
     "2aa8f5b3-fc3b-4b57-8653-e977ddd601bc)\n2019-08-27 22:24:22 UTC+0300 | deliveryRole | "
     "CREATE_COMPLETE | -\n2019-08-27 22:24:01 UTC+0300 | myS3Bucket | CREATE_IN_PROGRESS | Resource "
     "creation Initiated",
     "missing_artifact", "artifact-s3-object-missing", "ddbToFirehose"),
    ("gruntwork-io/cloud-nuke#316",
     '[cloud-nuke] time="2022-06-16T13:17:36+00:00" level=error msg="Error cleaning up Security Groups '
     "for VPC vpc-0c3de26377ef0403c: DependencyViolation: resource sg-07e70ed691d14d9aa has a dependent "
     'object\\n\\tstatus code: 400, request id: 9c78adc5-bf08-4d84-a795-a2a4f5c7eee9"',
     "delete_blocked_dependency", "dependency-violation", None),
    ("aws-actions/aws-cloudformation-github-deploy#32", "TemplateURL must be an Amazon S3 URL.",
     "template_invalid", "template-invalid", None),
    ("aws/aws-cdk-cli#1676",
     "❌  IamDeniedCustomResourceStack failed: DeploymentError: Resource updates failed:\n"
     "IamDeniedCustomResourceStack/MyDeniedResource/Default  (AWS::CloudFormation::CustomResource "
     "MyDeniedResource)\n  Received response status [FAILED] from custom resource. Message returned: "
     "See the details in CloudWatch Log Stream:\n  2026/07/08/[$LATEST]f3d033c8fe2a4720bd61e35c8d415be1 "
     "(RequestId: 75f768f5-3a31-4ad0-a49e-f83e67096fd1)\n\n   Logs from /aws/lambda/IamDenied-Cr:\n"
     '   INFO  request type: "Create"\n   ERROR Setup failed: AccessDenied - User: arn:aws:sts::'
     "053108159643:assumed-role/CrRole/CrFn is not authorized to perform: s3:CreateBucket on resource: "
     '"arn:aws:s3:::iam-denied-setup-27a9ec06" because no identity-based policy allows the '
     "s3:CreateBucket action",
     "custom_resource_failure", "custom-resource-failed", None),
]


@pytest.mark.parametrize(("paste", "mode", "rule", "logical_id"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_real_paste(paste: str, mode: str, rule: str, logical_id: str | None) -> None:
    c = classify(paste)
    assert (c.failure_mode.value, c.rule) == (mode, rule)
    assert c.extracted.get("logical_id") == logical_id


def test_root_cause_outranks_summary_and_cancellation_in_a_console_table() -> None:
    c = classify(CASES[7][1])
    assert [o.rule for o in c.others] == ["failure-summary", "cancelled-by-other-failure"]
    assert c.others[0].extracted["logical_ids"] == ["ddbToFirehose", "myDynamoDBTable"]


def test_custom_resource_log_lines_are_listed_as_others() -> None:
    c = classify(CASES[-1][1])
    assert c.extracted["log_stream"].startswith("2026/07/08/")
    assert any(o.extracted.get("iam_action") == "s3:CreateBucket" for o in c.others)
