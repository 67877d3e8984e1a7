"""express-wedge: `orders-api` is UPDATE_FAILED after a failed EXPRESS-mode update (rollback
off): release v42 changed the key of `OrdersTable`, a replacement CloudFormation refuses with
rollback disabled, after it had already changed `OrdersQueue` and added `AlertsTopic`.

Ground truth (also in `world.ground_truth`):
- DescribeStacks: StackStatus UPDATE_FAILED, DeploymentConfig.Mode EXPRESS, DisableRollback;
- RollbackStack, a classic UpdateStack or CreateChangeSet, and an update with rollback on are
  refused with AWS's texts (recover/sandbox/cfn/express.py);
- the last stable template (release v41) is at
  s3://orders-api-templates-<account>/releases/orders-api-v41.json, and as the previous version
  of s3://orders-api-templates-<account>/current/orders-api.json (its version id in
  `stable_version`);
- CloudTrail holds the stack's deploy history (recover/sandbox/stack_trail.py): CreateStack
  (v40), an EXPRESS UpdateStack (v41a) that completed, an accepted UpdateStack (v41b) that rolled
  back, a refused UpdateStack, release v41 by CreateChangeSet/ExecuteChangeSet (completed: the
  last stable template, capabilities in `stable_capabilities`), then v42 overwriting the template
  object before its EXPRESS update failed; every upload carries the simulated time;
- replaying it with UpdateStack in EXPRESS mode (parameter Stage by UsePreviousValue,
  capabilities of the deploy that used it) restores `OrdersTable` and `OrdersQueue`, deletes `AlertsTopic`
  and ends UPDATE_COMPLETE.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from recover.sandbox import moto_access as aws
from recover.sandbox import stack_trail
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "orders-api"
REPLACEMENT_REFUSED = "Replacement type updates not supported on stack with disable-rollback."


def _v41(account: str) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Orders API (release v41)",
        "Parameters": {"Stage": {"Type": "String"}},
        "Resources": {
            "OrdersRole": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": "orders-api-handler",
                "AssumeRolePolicyDocument": kit.LAMBDA_TRUST}},
            "OrdersTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "TableName": "orders-api-orders", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "orderId", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"}]}},
            "OrdersQueue": {"Type": "AWS::SQS::Queue", "Properties": {
                "QueueName": "orders-api-orders", "VisibilityTimeout": 30}},
        },
        "Outputs": {"Account": {"Value": account}},
    }


def _v42(account: str) -> dict[str, Any]:
    t = copy.deepcopy(_v41(account))
    t["Description"] = "Orders API (release v42)"
    res = t["Resources"]
    res["OrdersQueue"]["Properties"]["VisibilityTimeout"] = 90
    res["AlertsTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "orders-alerts"}}
    table = res.pop("OrdersTable")  # walked last: the failure stops the update
    table["Properties"]["AttributeDefinitions"].append(
        {"AttributeName": "tenantId", "AttributeType": "S"})
    table["Properties"]["KeySchema"] = [{"AttributeName": "tenantId", "KeyType": "HASH"},
                                        {"AttributeName": "orderId", "KeyType": "RANGE"}]
    res["OrdersTable"] = table
    return t


def _variant(account: str, description: str, timeout: int) -> dict[str, Any]:
    t = copy.deepcopy(_v41(account))
    t["Description"] = description
    t["Resources"]["OrdersQueue"]["Properties"]["VisibilityTimeout"] = timeout
    return t


def _put(world: World, bucket: str, key: str, body: str) -> str | None:
    """Upload at the simulated time (S3 LastModified is what the discovery compares)."""
    version = kit.put(world, bucket, key, body.encode())
    aws.s3_set_last_modified(bucket, key, version, world.clock())
    return version


def seed(world: World) -> None:
    acct = world.account
    bucket = f"orders-api-templates-{acct}"
    current = "current/orders-api.json"
    url = f"https://{bucket}.s3.amazonaws.com/{current}"
    stable, failed = _v41(acct), _v42(acct)
    stable_body, failed_body = json.dumps(stable, indent=2), json.dumps(failed, indent=2)
    stage = [{"ParameterKey": "Stage", "ParameterValue": "prod"}]
    kit.bucket(world, bucket, versioned=True)
    # day 0: created from the template object (release v40)
    _put(world, bucket, current, json.dumps(_variant(acct, "Orders API (release v40)", 20)))
    resources = [
        kit.res(lid, body["Type"], physical, **body["Properties"])
        for (lid, body), physical in zip(stable["Resources"].items(), (
            "orders-api-handler", "orders-api-orders",
            f"https://sqs.{world.region}.amazonaws.com/{acct}/orders-api-orders"), strict=True)]
    root = world.cfn.add_stack(ROOT, resources, template=stable, template_body=stable_body,
                               description=stable["Description"], parameters={"Stage": "prod"},
                               capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    root.deployment_mode = "EXPRESS"
    world.roots.append(ROOT)
    world.clock.advance(1)
    stack_trail.record(world, "CreateStack", {
        "StackName": ROOT, "TemplateURL": url, "Parameters": stage,
        "Capabilities": ["CAPABILITY_NAMED_IAM"]}, {"StackId": root.stack_id})
    # day 2: an EXPRESS update to v41a that completed
    world.clock.advance(2 * 86400)
    _put(world, bucket, current, json.dumps(_variant(acct, "Orders API (release v41a)", 25)))
    stack_trail.seed_operation(world, root, "UpdateStack", {
        "StackName": ROOT, "TemplateURL": url, "Parameters": stage,
        "Capabilities": ["CAPABILITY_NAMED_IAM"], "DeploymentConfig": {"Mode": "EXPRESS"}},
        outcome="UPDATE_COMPLETE")
    # day 4: v41b accepted (CloudTrail shows no error) but the update failed and rolled back
    world.clock.advance(2 * 86400)
    _put(world, bucket, current, json.dumps(_variant(acct, "Orders API (release v41b)", -1)))
    stack_trail.seed_operation(world, root, "UpdateStack", {
        "StackName": ROOT, "TemplateURL": url, "Parameters": stage,
        "Capabilities": ["CAPABILITY_NAMED_IAM"]}, outcome="UPDATE_ROLLBACK_COMPLETE")
    # day 5: a refused call starts nothing
    world.clock.advance(86400)
    stack_trail.record(world, "UpdateStack", {"StackName": ROOT, "TemplateURL": url},
                       None, ("ValidationError", "No updates are to be performed."))
    # day 6: release v41 by change set, completed: the last stable template
    world.clock.advance(86400)
    _put(world, bucket, "releases/orders-api-v41.json", stable_body)
    stable_version = _put(world, bucket, current, stable_body)
    change_set = stack_trail.seed_change_set(world, root, "release-v41", {
        "TemplateURL": url, "Parameters": stage, "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "DeploymentConfig": {"Mode": "EXPRESS"}})
    stack_trail.seed_operation(world, root, "ExecuteChangeSet", {"ChangeSetName": change_set},
                               outcome="UPDATE_COMPLETE")
    # day 7: v42 overwrites the template object; its EXPRESS update fails (rollback off)
    world.clock.advance(86400)
    _put(world, bucket, "releases/orders-api-v42.json", failed_body)
    _put(world, bucket, current, failed_body)
    stack_trail.record(world, "UpdateStack", {
        "StackName": ROOT, "TemplateURL": url, "Parameters": stage,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        "DeploymentConfig": {"Mode": "EXPRESS"}}, {"StackId": root.stack_id})
    world.cfn.express_update(root, failed_body, fail={"OrdersTable": REPLACEMENT_REFUSED})
    world.ground_truth.update({
        "root": ROOT, "bucket": bucket, "stable_key": "releases/orders-api-v41.json",
        "current_key": current, "stable_version": stable_version,
        "stable_capabilities": ["CAPABILITY_NAMED_IAM"], "stable_change_set": change_set,
        "failed": ["OrdersTable"], "changed": ["OrdersTable", "OrdersQueue"],
        "removed": ["AlertsTopic"], "stable_queue_timeout": 30,
    })
