"""Orphan capture against stubbed AWS answers (offline): YAML templates from GetTemplate, tags
from the Tagging API, and the service's own tag read when the Tagging API is denied."""

from __future__ import annotations

from collections.abc import Callable

from recover.decide.delete_plan import DeleteChoices, plan_delete
from recover.decide.diagnose import diagnose
from recover.orphans.capture import capture_orphans
from recover.run.context import RunContext
from tests.builders import NodeBuilder, snapshot

REASON = ("The bucket you tried to delete is not empty (Service: Amazon S3; Status Code: 409; "
          "Error Code: BucketNotEmpty; Request ID: R; S3 Extended Request ID: X; Proxy: null)")
YAML = """Resources:
  Data:
    Type: AWS::S3::Bucket
    DeletionPolicy: Delete
    Metadata: {aws:cdk:path: App/Data/Resource}
    Properties:
      BucketName: !Sub '${AWS::StackName}-data'
"""


def retained():  # type: ignore[no-untyped-def]
    root = NodeBuilder("app", "DELETE_FAILED")
    root.event("Data", "DELETE_FAILED", REASON, rtype="AWS::S3::Bucket", physical="app-data")
    root.resource("Data", "DELETE_FAILED", "AWS::S3::Bucket", "app-data", REASON)
    snap = snapshot(root)
    plan = plan_delete(snap, diagnose(snap), DeleteChoices(retain_all_failed=True))
    return snap, plan.retained


def test_yaml_template_and_tagging_api(make_context: Callable[..., RunContext]) -> None:
    rc = make_context()
    snap, decisions = retained()
    rc.aws.stub("cloudformation").add_response("get_template", {"TemplateBody": YAML},
                                               {"StackName": snap.root_id,
                                                "TemplateStage": "Original"})
    rc.aws.stub("resourcegroupstaggingapi").add_response(
        "get_resources", {"ResourceTagMappingList": [{
            "ResourceARN": "arn:aws:s3:::app-data", "Tags": [{"Key": "team", "Value": "x"}]}]},
        {"ResourceARNList": ["arn:aws:s3:::app-data"]})
    [record] = capture_orphans(rc.aws, snap, decisions, retained_at="t", run_id="r",
                               evidence_dir="e")
    assert record["tags"] == {"team": "x"} and record["tags_source"] == "tag:GetResources"
    assert record["template_snippet"]["Properties"]["BucketName"] == {
        "Fn::Sub": "${AWS::StackName}-data"}
    assert record["follow_up"]["adopt_again"]["cdk_resource_mapping"] == {
        "App/Data/Resource": {"BucketName": "app-data"}}


def test_denied_tagging_api_falls_back_to_the_service(make_context: Callable[..., RunContext]) -> None:
    rc = make_context()
    snap, decisions = retained()
    rc.aws.stub("cloudformation").add_client_error("get_template", "ValidationError",
                                                   "Stack does not exist")
    rc.aws.stub("resourcegroupstaggingapi").add_client_error(
        "get_resources", "AccessDeniedException",
        "User is not authorized to perform: tag:GetResources")
    rc.aws.stub("s3").add_response("get_bucket_tagging",
                                   {"TagSet": [{"Key": "owner", "Value": "ops"}]},
                                   {"Bucket": "app-data"})
    [record] = capture_orphans(rc.aws, snap, decisions, retained_at="t", run_id="r",
                               evidence_dir="e")
    assert record["tags"] == {"owner": "ops"}
    assert "tag:GetResources failed" in record["tags_source"]
    assert "own API" in record["tags_source"]
    assert record["template_snippet"] is None and "GetTemplate failed" in record["template_note"]
