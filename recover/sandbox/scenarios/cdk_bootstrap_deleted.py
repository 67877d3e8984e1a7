"""cdk-bootstrap-deleted: the CDK app stack `billing-service` was deployed with the bootstrap
execution role; then the `CDKToolkit` stack was deleted, taking its roles with it. Every
operation on `billing-service` is refused with `Role arn:aws:iam::<acct>:role/
cdk-hnb659fds-cfn-exec-role-<acct>-<region> is invalid or cannot be assumed` until a role of that
name exists again and trusts cloudformation.amazonaws.com.

Ground truth (also in `world.ground_truth`): stack `billing-service` CREATE_COMPLETE, RoleARN =
the cfn-exec-role (names per the bootstrap template v32, docs/reference/aws-behaviour.md#cdk-bootstrap); the roles
cdk-hnb659fds-{cfn-exec,deploy,file-publishing,image-publishing,lookup}-role-<acct>-<region> are
gone; `CDKToolkit` is DELETE_COMPLETE (visible by ARN / ListStacks); the staging bucket
cdk-hnb659fds-assets-<acct>-<region> was retained (DeletionPolicy Retain) and still holds the
app's asset; the SSM parameter /cdk-bootstrap/hnb659fds/version is gone. Recreating the
cfn-exec-role (trust cloudformation.amazonaws.com, AdministratorAccess) unblocks DeleteStack.
"""

from __future__ import annotations

import json

from recover.sandbox.cfn.model import SimStack
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "billing-service"
QUALIFIER = "hnb659fds"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def seed(world: World) -> None:
    build(world, qualifier=QUALIFIER, root_name=ROOT)


def build(world: World, *, qualifier: str, root_name: str) -> None:
    """The same broken world for any bootstrap qualifier (tests build a custom-qualifier one)."""
    QUALIFIER, ROOT = qualifier, root_name  # noqa: N806 - same names as the default world
    acct, region = world.account, world.region
    suffix = f"{acct}-{region}"
    staging = f"cdk-{QUALIFIER}-assets-{suffix}"
    account_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
        "Action": "sts:AssumeRole"}]}
    roles = {"CloudFormationExecutionRole": f"cdk-{QUALIFIER}-cfn-exec-role-{suffix}",
             "DeploymentActionRole": f"cdk-{QUALIFIER}-deploy-role-{suffix}",
             "FilePublishingRole": f"cdk-{QUALIFIER}-file-publishing-role-{suffix}",
             "ImagePublishingRole": f"cdk-{QUALIFIER}-image-publishing-role-{suffix}",
             "LookupRole": f"cdk-{QUALIFIER}-lookup-role-{suffix}"}
    for lid, name in roles.items():
        if lid == "CloudFormationExecutionRole":
            # the template's trust and managed policy (docs/reference/aws-behaviour.md#cdk-bootstrap); the sandbox installs AWS's document
            kit.role(world, name, kit.CFN_TRUST, managed=[ADMIN_POLICY])
        else:
            kit.role(world, name, account_trust)
    exec_name = roles["CloudFormationExecutionRole"]
    bootstrapper = world.cloudformation_identity(SimStack("", "", "", world.clock(), {}))
    kit.iam_event(world, "CreateRole", world.role_arn(exec_name),
                  {"roleName": exec_name, "path": "/",
                   "assumeRolePolicyDocument": json.dumps(kit.CFN_TRUST)}, bootstrapper)
    kit.iam_event(world, "AttachRolePolicy", world.role_arn(exec_name),
                  {"roleName": exec_name, "policyArn": ADMIN_POLICY}, bootstrapper)
    kit.bucket(world, staging, versioned=True)
    world.client("ssm").put_parameter(Name=f"/cdk-bootstrap/{QUALIFIER}/version", Value="32",
                                      Type="String")
    staging_res = kit.res("StagingBucket", "AWS::S3::Bucket", staging)
    staging_res.deletion_policy = "Retain"  # bootstrap template: DeletionPolicy Retain
    toolkit = world.cfn.add_stack("CDKToolkit", [
        staging_res,
        *[kit.res(lid, "AWS::IAM::Role", name) for lid, name in roles.items()],
        kit.res("CdkBootstrapVersion", "AWS::SSM::Parameter",
                f"/cdk-bootstrap/{QUALIFIER}/version")],
        description="This stack includes resources needed to deploy AWS CDK apps into this "
                    "environment")

    exec_role_arn = world.role_arn(roles["CloudFormationExecutionRole"])
    zip_bytes = kit.go_zip("billing-api", "v7")
    key = kit.asset_key(zip_bytes)
    kit.put(world, staging, key, zip_bytes)
    fn_role = kit.role(world, "billing-service-fn-role", kit.LAMBDA_TRUST)
    world.cfn.add_stack(ROOT, [
        kit.go_function(world, exec_role_arn, "ApiHandler", "billing-service-api", staging, key,
                        fn_role),
        kit.res("InvoicesTable", "AWS::DynamoDB::Table", "billing-invoices")],
        role_arn=exec_role_arn, parameters={"BootstrapVersion": f"/cdk-bootstrap/{QUALIFIER}/version"},
        description="Billing service (CDK)")
    world.roots.append(ROOT)

    # weeks later, someone deletes CDKToolkit: its roles and the SSM parameter go; the bucket stays
    world.clock.advance(21 * 86400)
    world.cfn.start_delete(toolkit)
    iam = world.client("iam")
    for name in roles.values():
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=name)
        if name == exec_name:  # CloudFormation deleted it for the toolkit stack's deletion
            for attached in (ADMIN_POLICY,):
                kit.iam_event(world, "DetachRolePolicy", world.role_arn(name),
                              {"roleName": name, "policyArn": attached}, bootstrapper)
            kit.iam_event(world, "DeleteRole", world.role_arn(name), {"roleName": name},
                          bootstrapper)
    world.client("ssm").delete_parameter(Name=f"/cdk-bootstrap/{QUALIFIER}/version")
    world.ground_truth.update({
        "root": ROOT, "role_arn": exec_role_arn, "role_name": roles["CloudFormationExecutionRole"],
        "deleted_roles": sorted(roles.values()), "toolkit_stack_id": toolkit.stack_id,
        "staging_bucket": staging, "asset_key": key, "qualifier": QUALIFIER,
        "policy_arns": [ADMIN_POLICY],
    })
