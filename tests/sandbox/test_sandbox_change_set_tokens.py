"""Change sets retried with their token in the sandbox (docs/reference/aws-behaviour.md
#client-request-tokens), through raw boto3 against the served `skipped-drift` scenario: a
CreateChangeSet sent again with the same ClientToken answers the change set the first one
created, an ExecuteChangeSet sent again with the same ClientRequestToken starts nothing."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

PARAMS = {"StackName": "billing-api", "ChangeSetName": "revert", "ChangeSetType": "UPDATE",
          "UsePreviousTemplate": True, "DeploymentMode": "REVERT_DRIFT"}


def _error(call) -> str:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"]


def test_create_change_set_again_with_its_client_token_answers_the_same_change_set(
        sandbox) -> None:
    cfn = sandbox("skipped-drift").client("cloudformation")
    first = cfn.create_change_set(**PARAMS, ClientToken="tok-1")
    again = cfn.create_change_set(**PARAMS, ClientToken="tok-1")
    assert again["Id"] == first["Id"]
    listed = cfn.describe_change_set(ChangeSetName="revert", StackName="billing-api")
    assert listed["ChangeSetId"] == first["Id"]
    # the same name without that token is someone else's request
    assert _error(lambda: cfn.create_change_set(**PARAMS)) == "AlreadyExistsException"
    assert _error(lambda: cfn.create_change_set(**PARAMS, ClientToken="tok-2")) == \
        "AlreadyExistsException"


def test_execute_change_set_again_with_its_token_starts_nothing(sandbox) -> None:
    sb = sandbox("skipped-drift")
    cfn = sb.client("cloudformation")
    cs = cfn.create_change_set(**PARAMS, ClientToken="tok-1")["Id"]
    cfn.execute_change_set(ChangeSetName=cs, ClientRequestToken="exec-1")
    cfn.execute_change_set(ChangeSetName=cs, ClientRequestToken="exec-1")  # success, nothing
    for _ in range(100):
        if cfn.describe_stacks(StackName="billing-api")["Stacks"][0]["StackStatus"] == \
                "UPDATE_COMPLETE":
            break
        time.sleep(0.05)
    events = cfn.describe_stack_events(StackName="billing-api")["StackEvents"]
    starts = [e for e in events if e["LogicalResourceId"] == "billing-api"
              and e["ResourceStatus"] == "UPDATE_IN_PROGRESS"
              and e.get("ClientRequestToken") == "exec-1"]
    assert len(starts) == 1
    # another token: a second execution, refused as before
    assert _error(lambda: cfn.execute_change_set(ChangeSetName=cs, ClientRequestToken="exec-2")) \
        == "InvalidChangeSetStatus"
