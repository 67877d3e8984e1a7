"""skipped-drift: `billing-api` is UPDATE_ROLLBACK_COMPLETE, but only because an earlier
ContinueUpdateRollback skipped four resources whose rollback failed, so their real state is not
the template's. Reconciling them meets each answer drift detection can give.

Ground truth (also in `world.ground_truth`), the four skipped root resources:
- `AlertTopic` (AWS::SNS::Topic): the failed update did not change it (its rollback was
  throttled): drift IN_SYNC already;
- `JobsQueue` (AWS::SQS::Queue): still has the failed update's VisibilityTimeout 120 (template:
  30): MODIFIED;
- `ExportBucket` (AWS::S3::Bucket): deleted out of band during the update (why its rollback
  failed): DELETED;
- `InvoiceHook` (Custom::InvoiceNumbering): a custom resource, which drift detection cannot
  check: left for a person.
A REVERT_DRIFT change set reverts JobsQueue and recreates ExportBucket. `skip-pending` is the
same world one step earlier, before the skip.
"""

from __future__ import annotations

from recover.sandbox import moto_access as aws
from recover.sandbox.cfn.handlers import CUSTOM_RESOURCE_NO_RESPONSE, handler_message
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "billing-api"
SKIPS = ["AlertTopic", "JobsQueue", "ExportBucket", "InvoiceHook"]


def build(world: World) -> None:
    """The stack UPDATE_ROLLBACK_FAILED with the four rollback failures (not skipped yet)."""
    bucket = f"billing-exports-{world.account}"
    kit.bucket(world, bucket)
    topic = kit.res("AlertTopic", "AWS::SNS::Topic",
                    f"arn:aws:sns:{world.region}:{world.account}:billing-alerts",
                    TopicName="billing-alerts", DisplayName="Billing alerts")
    queue = kit.res("JobsQueue", "AWS::SQS::Queue",
                    f"https://sqs.{world.region}.amazonaws.com/{world.account}/billing-jobs",
                    QueueName="billing-jobs", VisibilityTimeout=30)
    exports = kit.res("ExportBucket", "AWS::S3::Bucket", bucket, BucketName=bucket,
                      VersioningConfiguration={"Status": "Enabled"})
    hook = kit.res("InvoiceHook", "Custom::InvoiceNumbering", "billing-invoice-numbering",
                   ServiceToken=f"arn:aws:lambda:{world.region}:{world.account}:function:"
                                "invoice-numbering", Prefix="INV")
    api = kit.res("Api", "AWS::ApiGateway::RestApi", "b1ll1ng4p1", Name="billing-api")
    root = world.cfn.add_stack(ROOT, [topic, queue, exports, hook, api],
                               description="Billing API")
    world.roots.append(ROOT)
    world.clock.advance(3 * 86400)
    topic.rollback_failure = handler_message(world, "Sns", 400, "Rate exceeded", "Throttling")
    queue.rollback_failure = handler_message(
        world, "Sqs", 403, "User is not authorized to perform: sqs:SetQueueAttributes",
        "AccessDenied")
    exports.rollback_failure = handler_message(
        world, "S3", 404, "The specified bucket does not exist", "NotFound")
    hook.rollback_failure = CUSTOM_RESOURCE_NO_RESPONSE.format(request_id=world.new_uuid())
    world.cfn.fail_update(root, changes={ROOT: {
        "AlertTopic": dict(topic.properties),
        "JobsQueue": {**queue.properties, "VisibilityTimeout": 120},
        "ExportBucket": {**exports.properties, "Tags": [{"Key": "team", "Value": "billing"}]},
        "InvoiceHook": {**hook.properties, "Prefix": "BIL"},
        "Api": {"Name": "billing-api-v2"}}},
        failure=(ROOT, "Api", handler_message(world, "ApiGateway", 429, "Too Many Requests",
                                              "Throttling")),
        before_rollback=lambda: aws.delete_bucket(bucket))
    world.ground_truth.update({
        "root": ROOT, "skips": list(SKIPS), "bucket": bucket,
        "drift": {"AlertTopic": "IN_SYNC", "JobsQueue": "MODIFIED", "ExportBucket": "DELETED",
                  "InvoiceHook": "UNSUPPORTED"}})


def seed(world: World) -> None:
    build(world)
    world.cfn.continue_update_rollback({"StackName": ROOT, "ResourcesToSkip": list(SKIPS)})
