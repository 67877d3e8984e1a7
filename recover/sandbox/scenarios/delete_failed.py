"""delete-failed: `legacy-app` is DELETE_FAILED: a versioned bucket with objects, a security
group an ENI still uses, a custom resource whose handler never answered, and a nested
`NetworkStack` whose own delete failed on a non-empty log bucket.

Ground truth (also in `world.ground_truth`):
- root failed resources: `AppBucket` (BucketNotEmpty, versioned: 2 versions + 1 delete marker),
  `AppSecurityGroup` (DependencyViolation, ENI `eni-...` in subnet of vpc `legacy-vpc`),
  `SeedData` (Custom::Seeder, "did not receive a response"), `NetworkStack` (child
  `legacy-app-NetworkStack-<12>` DELETE_FAILED on `FlowLogsBucket`);
- already DELETE_COMPLETE: `AppRole`, `AppQueue` (root), `FlowLogsRole` (child): retaining them
  is refused with the verbatim docs/reference/aws-behaviour.md#which-resources-may-be-retained message;
- DeleteStack with RetainResources=[AppBucket, AppSecurityGroup, SeedData, NetworkStack] ends
  DELETE_COMPLETE with those left in place (DELETE_SKIPPED); emptying the bucket / deleting the
  ENI instead lets the plain delete of that resource succeed.
"""

from __future__ import annotations

from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "legacy-app"


def seed(world: World) -> None:
    acct = world.account
    app_bucket, logs_bucket = f"legacy-app-data-{acct}", f"legacy-app-flowlogs-{acct}"
    kit.bucket(world, app_bucket, versioned=True)
    s3 = world.client("s3")
    # Tags a team puts on its resources; the orphan ledger must carry them (read back through
    # the Resource Groups Tagging API).
    s3.put_bucket_tagging(Bucket=app_bucket, Tagging={"TagSet": [
        {"Key": "team", "Value": "payments"}, {"Key": "cost-center", "Value": "cc-4711"}]})
    kit.put(world, app_bucket, "exports/2026-10.csv", b"id,total\n1,10\n")
    kit.put(world, app_bucket, "exports/2026-10.csv", b"id,total\n1,12\n")
    world.client("s3").delete_object(Bucket=app_bucket, Key="exports/2026-10.csv")
    kit.bucket(world, logs_bucket)
    kit.put(world, logs_bucket, "flowlogs/part-0000.log.gz", b"\x1f\x8b sandbox flow log")
    s3.put_bucket_tagging(Bucket=logs_bucket, Tagging={"TagSet": [
        {"Key": "team", "Value": "network"}]})
    ec2 = world.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="legacy-app-sg", Description="legacy app",
                                   VpcId=vpc)["GroupId"]
    ec2.create_tags(Resources=[sg], Tags=[{"Key": "team", "Value": "payments"}])
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[sg],
                                       Description="attached by hand")["NetworkInterface"]
    seeder = kit.res("SeedData", "Custom::Seeder", "legacy-app-SeedData-1XK2P9Q",
                     ServiceToken=f"arn:aws:lambda:{world.region}:{acct}:function:legacy-seeder",
                     SandboxNeverResponds=True)
    root = world.cfn.add_stack(ROOT, [
        kit.res("AppRole", "AWS::IAM::Role", "legacy-app-role"),
        kit.res("AppQueue", "AWS::SQS::Queue",
                f"https://sqs.{world.region}.amazonaws.com/{acct}/legacy-app-queue"),
        kit.res("AppBucket", "AWS::S3::Bucket", app_bucket, BucketName=app_bucket,
                VersioningConfiguration={"Status": "Enabled"}),
        kit.res("AppSecurityGroup", "AWS::EC2::SecurityGroup", sg, VpcId=vpc),
        seeder, kit.nested("NetworkStack")], description="Legacy app")
    child = world.cfn.add_stack("", [
        kit.res("FlowLogsRole", "AWS::IAM::Role", "legacy-app-flowlogs-role"),
        kit.res("FlowLogsBucket", "AWS::S3::Bucket", logs_bucket, BucketName=logs_bucket)],
        parent=root, logical_id="NetworkStack")
    world.roots.append(ROOT)
    world.clock.advance(30 * 86400)
    world.cfn.start_delete(root)
    world.ground_truth.update({
        "root": ROOT, "child": child.name,
        "failed": ["AppBucket", "AppSecurityGroup", "SeedData", "NetworkStack"],
        "child_failed": ["FlowLogsBucket"],
        "deleted": ["AppRole", "AppQueue"], "child_deleted": ["FlowLogsRole"],
        "bucket": app_bucket, "logs_bucket": logs_bucket, "security_group": sg,
        "eni": eni["NetworkInterfaceId"], "vpc": vpc,
        "tags": {app_bucket: {"team": "payments", "cost-center": "cc-4711"},
                 logs_bucket: {"team": "network"}, sg: {"team": "payments"}},
    })
