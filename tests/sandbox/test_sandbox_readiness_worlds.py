"""The readiness scenarios build what their docstrings say (degap-before, ecr-expired)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from recover.model.cfn_template import parse_template

pytestmark = pytest.mark.e2e


def test_degap_before_is_a_healthy_v1_world_with_an_expiring_rule(sandbox) -> None:
    sb = sandbox("degap-before")
    truth = sb.world.ground_truth
    cfn = sb.client("cloudformation")
    stacks = {s["StackName"]: s for s in cfn.describe_stacks()["Stacks"]}
    assert {s["StackStatus"] for s in stacks.values()} == {"UPDATE_COMPLETE"}
    assert set(stacks) == {truth["root"], truth["api_stack"], truth["workers_stack"]}
    # a successful update: every stack went UPDATE_IN_PROGRESS -> ... -> UPDATE_COMPLETE, and
    # the root completed after its children
    root_events = [e["ResourceStatus"] for e in reversed(cfn.describe_stack_events(
        StackName=truth["root"])["StackEvents"]) if e["LogicalResourceId"] == truth["root"]]
    assert root_events[-3:] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                                "UPDATE_COMPLETE"]
    # templates come back verbatim, as YAML with short-form tags, and reference the v1 keys
    body = cfn.get_template(StackName=truth["api_stack"])["TemplateBody"]
    assert isinstance(body, str) and "!Ref ArtifactsBucket" in body
    code = parse_template(body)["Resources"]["OrdersFunction"]["Properties"]["Code"]
    assert code["S3Key"] == truth["at_risk"][f"{truth['api_stack']}.OrdersFunction"]
    params = {p["ParameterKey"]: p["ParameterValue"]
              for p in stacks[truth["api_stack"]]["Parameters"]}
    assert params == {"ArtifactsBucket": truth["deployment_bucket"]}
    s3 = sb.client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=truth["deployment_bucket"])["Rules"]
    assert [r["ID"] for r in rules][0] == truth["rule"]
    for key in truth["at_risk"].values():
        s3.head_object(Bucket=truth["deployment_bucket"], Key=key)  # all present today


def test_ecr_expired_world(sandbox) -> None:
    sb = sandbox("ecr-expired")
    truth = sb.world.ground_truth
    ecr = sb.client("ecr")
    with pytest.raises(ClientError) as err:
        ecr.describe_images(repositoryName=truth["repository"],
                            imageIds=[{"imageTag": "release-1"}])
    assert err.value.response["Error"]["Code"] == "ImageNotFoundException"
    details = ecr.describe_images(repositoryName=truth["repository"])["imageDetails"]
    pushed = {d["imageTags"][0]: d["imagePushedAt"] for d in details}
    assert set(pushed) == {"release-2", "release-3"} and pushed["release-2"] < pushed["release-3"]
    assert "imageCountMoreThan" in ecr.get_lifecycle_policy(
        repositoryName=truth["repository"])["lifecyclePolicyText"]
