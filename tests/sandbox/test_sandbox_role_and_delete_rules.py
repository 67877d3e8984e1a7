"""RoleARN (docs/reference/aws-behaviour.md#service-roles-rolearn) and DeleteStack / RetainResources (docs/reference/aws-behaviour.md#deletestack-and-retainresources, docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed, docs/reference/aws-behaviour.md#which-resources-may-be-retained, docs/reference/aws-behaviour.md#why-a-delete-fails) rules through raw
boto3 against a served sandbox."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e  # every test here serves a sandbox on 127.0.0.1

CFN_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def _status(cfn, name: str) -> str:
    return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def test_missing_service_role_refuses_delete_and_update(sandbox) -> None:
    """docs/reference/aws-behaviour.md#service-roles-rolearn verbatim: `Role arn:aws:iam::<acct>:role/<name> is invalid or cannot be assumed`, a
    synchronous ValidationError, for DeleteStack and UpdateStack (role checked before status)."""
    sb = sandbox("cdk-bootstrap-deleted")
    cfn = sb.client("cloudformation")
    arn = sb.world.ground_truth["role_arn"]
    assert arn == (f"arn:aws:iam::{sb.account}:role/cdk-hnb659fds-cfn-exec-role-"
                   f"{sb.account}-{sb.region}")
    expected = ("ValidationError", f"Role {arn} is invalid or cannot be assumed")
    for call in (lambda: cfn.delete_stack(StackName="billing-service"),
                 lambda: cfn.update_stack(StackName="billing-service", UsePreviousTemplate=True)):
        with pytest.raises(ClientError) as exc:
            call()
        assert _error(exc) == expected
    assert _status(cfn, "billing-service") == "CREATE_COMPLETE"


def test_missing_service_role_refuses_continue_update_rollback(sandbox) -> None:
    """docs/reference/aws-behaviour.md#service-roles-rolearn: ContinueUpdateRollback is refused the same way while the role is gone."""
    sb = sandbox("cdk-bootstrap-deleted")
    cfn = sb.client("cloudformation")
    sb.world.set_stack_status("billing-service", "UPDATE_ROLLBACK_FAILED")
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName="billing-service")
    assert _error(exc)[1] == f"Role {sb.world.ground_truth['role_arn']} is invalid or cannot be assumed"


def test_role_must_trust_cloudformation_then_delete_works(sandbox) -> None:
    """docs/reference/aws-behaviour.md#service-roles-rolearn: a role of that name that does not trust cloudformation.amazonaws.com is still
    refused; once it does, DeleteStack runs (checked live against moto's IAM)."""
    sb = sandbox("cdk-bootstrap-deleted")
    cfn, iam = sb.client("cloudformation"), sb.client("iam")
    name = sb.world.ground_truth["role_name"]
    wrong = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(wrong))
    with pytest.raises(ClientError) as exc:
        cfn.delete_stack(StackName="billing-service")
    assert "is invalid or cannot be assumed" in _error(exc)[1]
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(CFN_TRUST))
    cfn.delete_stack(StackName="billing-service")
    sb.world.settle()
    stacks = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert "billing-service" in {s["StackName"] for s in stacks}


def test_role_is_found_by_its_full_arn_path_included(sandbox) -> None:
    """docs/reference/aws-behaviour.md#service-roles-rolearn: the RoleARN carries the path; the same name under another path is another role."""
    sb = sandbox("service-role-deleted")
    cfn, iam = sb.client("cloudformation"), sb.client("iam")
    truth = sb.world.ground_truth
    iam.create_role(RoleName=truth["role_name"], AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
    with pytest.raises(ClientError) as exc:  # created under "/" instead of "/deploy/"
        cfn.continue_update_rollback(StackName="payments-core")
    assert _error(exc)[1] == f"Role {truth['role_arn']} is invalid or cannot be assumed"
    iam.delete_role(RoleName=truth["role_name"])
    iam.create_role(RoleName=truth["role_name"], Path=truth["role_path"],
                    AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
    cfn.continue_update_rollback(StackName="payments-core")
    sb.world.settle()
    assert _status(cfn, "payments-core") == "UPDATE_ROLLBACK_COMPLETE"  # throttling was transient


def test_new_role_propagation_delay_is_counted_per_role(sandbox) -> None:
    """IAM eventual consistency knob: a new role is refused N times, then usable."""
    import urllib.request

    sb = sandbox("cdk-bootstrap-deleted")
    req = urllib.request.Request(f"{sb.endpoint}/_sandbox/role-propagation", method="POST",
                                 data=json.dumps({"checks": 2}).encode())
    assert json.loads(urllib.request.urlopen(req).read())["ok"] is True  # noqa: S310 - 127.0.0.1
    cfn, iam = sb.client("cloudformation"), sb.client("iam")
    stack_id = cfn.describe_stacks(StackName="billing-service")["Stacks"][0]["StackId"]
    iam.create_role(RoleName=sb.world.ground_truth["role_name"],
                    AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            cfn.delete_stack(StackName="billing-service")
        assert "is invalid or cannot be assumed" in _error(exc)[1]
    cfn.delete_stack(StackName="billing-service")
    sb.world.settle()
    assert _status(cfn, stack_id) == "DELETE_COMPLETE"


def test_aws_managed_policies_are_attachable_and_role_events_recorded(sandbox) -> None:
    sb = sandbox("cdk-bootstrap-deleted")
    iam = sb.client("iam")
    arns = {p["Arn"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert {"arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/PowerUserAccess"} <= arns
    name = sb.world.ground_truth["role_name"]
    events = sb.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": name}])["Events"]
    assert [e["EventName"] for e in events] == ["DeleteRole", "DetachRolePolicy",
                                                "AttachRolePolicy", "CreateRole"]


def test_delete_missing_stack_is_a_noop(sandbox) -> None:
    """docs/reference/aws-behaviour.md#deletestack-and-retainresources: deleting a stack that does not exist is a no-op success."""
    sb = sandbox("healthy")
    sb.client("cloudformation").delete_stack(StackName="never-existed")


def test_retain_only_from_delete_failed(sandbox) -> None:
    """docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed: RetainResources only for DELETE_FAILED stacks (message unconfirmed: Eucalyptus')."""
    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")
    with pytest.raises(ClientError) as exc:
        cfn.delete_stack(StackName="shop-batch", RetainResources=["JobQueue"])
    code, message = _error(exc)
    assert code == "ValidationError"
    assert "specify which resources to retain only when the stack is in the DELETE_FAILED" in message
    assert _status(cfn, "shop-batch") == "CREATE_COMPLETE"


def test_retaining_a_delete_complete_resource_is_refused(sandbox) -> None:
    """docs/reference/aws-behaviour.md#which-resources-may-be-retained verbatim: `The specified resources to retain must be in a valid state. Do not specify
    resources that are in the DELETE_COMPLETE state.`"""
    sb = sandbox("delete-failed")
    cfn = sb.client("cloudformation")
    with pytest.raises(ClientError) as exc:
        cfn.delete_stack(StackName="legacy-app", RetainResources=["AppBucket", "AppRole"])
    assert _error(exc) == ("ValidationError",
                           "The specified resources to retain must be in a valid state. Do not "
                           "specify resources that are in the DELETE_COMPLETE state.")
    assert _status(cfn, "legacy-app") == "DELETE_FAILED"


def test_retain_failed_resources_deletes_stack_and_keeps_them(sandbox) -> None:
    """docs/reference/aws-behaviour.md#deletestack-and-retainresources, docs/reference/aws-behaviour.md#which-resources-may-be-retained: retaining every failed resource deletes the stack; the retained ones get
    DELETE_SKIPPED (inferred) and stay in place in S3 / EC2."""
    sb = sandbox("delete-failed")
    cfn, s3, ec2 = sb.client("cloudformation"), sb.client("s3"), sb.client("ec2")
    gt = sb.world.ground_truth
    stack_id = cfn.describe_stacks(StackName="legacy-app")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="legacy-app", RetainResources=gt["failed"])
    sb.world.settle()
    with pytest.raises(ClientError) as exc:
        cfn.describe_stacks(StackName="legacy-app")
    assert _error(exc)[1] == "Stack with id legacy-app does not exist"
    deleted = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    skipped = {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_SKIPPED"}
    assert skipped == set(gt["failed"])
    s3.head_bucket(Bucket=gt["bucket"])
    assert ec2.describe_security_groups(GroupIds=[gt["security_group"]])["SecurityGroups"]


def test_delete_is_causal_once_blockers_are_removed(sandbox) -> None:
    """docs/reference/aws-behaviour.md#why-a-delete-fails: the bucket delete succeeds once every version and marker is gone, the security group
    once its ENI is deleted; the custom resource still fails until retained."""
    sb = sandbox("delete-failed")
    cfn, s3, ec2 = sb.client("cloudformation"), sb.client("s3"), sb.client("ec2")
    gt = sb.world.ground_truth
    listing = s3.list_object_versions(Bucket=gt["bucket"])
    for v in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
        s3.delete_object(Bucket=gt["bucket"], Key=v["Key"], VersionId=v["VersionId"])
    ec2.delete_network_interface(NetworkInterfaceId=gt["eni"])
    cfn.delete_stack(StackName="legacy-app")
    sb.world.settle()
    stack = cfn.describe_stacks(StackName="legacy-app")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == (
        "The following resource(s) failed to delete: [SeedData, NetworkStack]. ")
    assert gt["bucket"] not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    with pytest.raises(ClientError):
        ec2.describe_security_groups(GroupIds=[gt["security_group"]])
    cfn.delete_stack(StackName="legacy-app", RetainResources=["SeedData", "NetworkStack"])
    sb.world.settle()
    assert not [s for s in cfn.describe_stacks()["Stacks"] if s["StackName"] == "legacy-app"]


def test_nested_child_can_be_deleted_directly_with_retain(sandbox) -> None:
    """docs/reference/aws-behaviour.md#deletestack-and-retainresources (operator notes): a DELETE_FAILED nested stack deleted directly with RetainResources reaches
    DELETE_COMPLETE; the root's delete then succeeds for that resource."""
    sb = sandbox("delete-failed")
    cfn = sb.client("cloudformation")
    gt = sb.world.ground_truth
    cfn.delete_stack(StackName=gt["child"], RetainResources=gt["child_failed"])
    sb.world.settle()
    child_id = sb.world.stack(gt["child"]).stack_id if sb.world.cfn.find(gt["child"]) else None
    assert child_id is None  # by name: gone
    cfn.delete_stack(StackName="legacy-app", RetainResources=["AppBucket", "AppSecurityGroup",
                                                              "SeedData"])
    sb.world.settle()
    assert not [s for s in cfn.describe_stacks()["Stacks"] if s["StackName"] == "legacy-app"]


def test_termination_protection_blocks_delete(sandbox) -> None:
    """docs/reference/aws-behaviour.md#deletestack-and-retainresources: with termination protection the delete fails and the stack is unchanged (message
    from the CDK fake, unconfirmed); protection is set on the root."""
    sb = sandbox("healthy")
    cfn = sb.client("cloudformation")
    cfn.update_termination_protection(StackName="shop-batch", EnableTerminationProtection=True)
    with pytest.raises(ClientError) as exc:
        cfn.delete_stack(StackName="shop-batch")
    assert "TerminationProtection is enabled" in _error(exc)[1]
    assert _status(cfn, "shop-batch") == "CREATE_COMPLETE"
    child = cfn.describe_stack_resource(StackName="shop-web", LogicalResourceId="Assets")[
        "StackResourceDetail"]["PhysicalResourceId"]
    with pytest.raises(ClientError):
        cfn.update_termination_protection(StackName=child, EnableTerminationProtection=True)


def test_force_delete_only_from_delete_failed(sandbox) -> None:
    """docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed verbatim: FORCE_DELETE_STACK outside DELETE_FAILED is refused; from DELETE_FAILED it
    deletes the stack and leaves what cannot be deleted in place."""
    sb = sandbox("delete-failed")
    cfn, s3 = sb.client("cloudformation"), sb.client("s3")
    sb.world.set_stack_status(sb.world.ground_truth["child"], "UPDATE_COMPLETE")
    healthy_arn = sb.world.stack(sb.world.ground_truth["child"]).stack_id
    with pytest.raises(ClientError) as exc:
        cfn.delete_stack(StackName=sb.world.ground_truth["child"], DeletionMode="FORCE_DELETE_STACK")
    assert _error(exc) == ("ValidationError", (
        f"Invalid operation on stack [{healthy_arn}]. You can activate DeletionMode "
        "FORCE_DELETE_STACK in a delete stack operation only when the stack is in the "
        "DELETE_FAILED state."))
    sb.world.set_stack_status(sb.world.ground_truth["child"], "DELETE_FAILED")
    cfn.delete_stack(StackName="legacy-app", DeletionMode="FORCE_DELETE_STACK")
    sb.world.settle()
    assert not [s for s in cfn.describe_stacks()["Stacks"] if s["StackName"] == "legacy-app"]
    s3.head_bucket(Bucket=sb.world.ground_truth["bucket"])  # left in place


def test_resources_reached_after_the_role_vanished_fail_with_the_role_message(sandbox) -> None:
    """role-deleted-in-rollback: the role was deleted while the update ran, so each resource the
    rollback reached (root and nested) failed with docs/reference/aws-behaviour.md#service-roles-rolearn's verbatim text; the stack stopped in
    UPDATE_ROLLBACK_FAILED. ContinueUpdateRollback is refused while the role is missing (and for
    a same-named role under another path); once the role is back at its ARN the continued
    rollback re-attempts them and completes with no skip."""
    sb = sandbox("role-deleted-in-rollback")
    cfn, iam = sb.client("cloudformation"), sb.client("iam")
    truth = sb.world.ground_truth
    message = f"Role {truth['role_arn']} is invalid or cannot be assumed"
    assert truth["role_message"] == message
    failed = {}
    for stack in (truth["root"], truth["child"]):
        assert _status(cfn, stack) == "UPDATE_ROLLBACK_FAILED"
        for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]:
            if r.get("ResourceStatusReason") == message:
                failed[r["LogicalResourceId"]] = r["ResourceStatus"]
    assert failed == {"EventsTopic": "UPDATE_FAILED", "JobsQueue": "UPDATE_FAILED"}
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName=truth["root"])
    assert _error(exc) == ("ValidationError", message)
    iam.create_role(RoleName=truth["role_name"], Path="/elsewhere/",
                    AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
    with pytest.raises(ClientError) as exc:
        cfn.continue_update_rollback(StackName=truth["root"])
    assert _error(exc) == ("ValidationError", message)
    iam.delete_role(RoleName=truth["role_name"])
    iam.create_role(RoleName=truth["role_name"], Path=truth["role_path"],
                    AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
    cfn.continue_update_rollback(StackName=truth["root"])
    sb.world.settle()
    assert _status(cfn, truth["root"]) == _status(cfn, truth["child"]) == \
        "UPDATE_ROLLBACK_COMPLETE"


def test_role_deleted_during_a_delete_fails_the_resources_it_reaches(sandbox) -> None:
    """The same rule on DeleteStack: accepted while the role existed, then the role vanished;
    the resources it reaches fail with the role message (DELETE_FAILED)."""
    sb = sandbox("service-role-deleted")
    cfn, iam = sb.client("cloudformation"), sb.client("iam")
    truth = sb.world.ground_truth
    iam.create_role(RoleName=truth["role_name"], Path=truth["role_path"],
                    AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
    sb.world.hold_operations()
    cfn.delete_stack(StackName=truth["root"])
    iam.delete_role(RoleName=truth["role_name"])
    sb.world.release_operations()
    sb.world.settle()
    stack = cfn.describe_stacks(StackName=truth["root"])["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    reasons = {r["LogicalResourceId"]: r.get("ResourceStatusReason")
               for r in cfn.list_stack_resources(StackName=truth["root"])[
                   "StackResourceSummaries"] if r["ResourceStatus"] == "DELETE_FAILED"}
    assert reasons["EventsTopic"] == f"Role {truth['role_arn']} is invalid or cannot be assumed"
