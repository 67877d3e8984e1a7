"""reference-code: `media-prod` is UPDATE_ROLLBACK_FAILED, and its functions keep their code by
REFERENCE (self-managed S3 code storage): Lambda reads the code from the S3 object version, so
deleting that version breaks the function itself, not only a later rollback.

Timeline (simulated clock): long ago (older than the 90 days LookupEvents keeps, so no
CloudTrail record) `media-prod-thumbs` was created by REFERENCE from `thumbs/v1.zip` and
published as version 1, and `media-prod-resize` by REFERENCE from `resize/r1.zip`. Day 10 a
clean-up deletes `thumbs/v1.zip` (a delete marker) and day 18 the noncurrent-version rule purges
its only version; day 19 someone deletes the only version of `resize/r1.zip` by version id: the
resize function can no longer load its code (GetFunction carries Code.Error). Day 20 the v2
update moves thumbs to `thumbs/v2.zip` (REFERENCE), fails on `MediaQueue`, and the rollback
fails on `ThumbsFunction` with NoSuchKey.

Ground truth (also in `world.ground_truth`):
- versioned bucket `media-artifacts-<account>-<region>`; lifecycle rules `expire-thumbs`
  (Expiration 30 days on `thumbs/`) and `purge-noncurrent` (NoncurrentVersionExpiration 7 days,
  whole bucket); a bucket policy that lets Lambda read `thumbs/*` only (not `resize/`);
- `ThumbsFunction`: rollback wants `thumbs/v1.zip` (`thumbs_v1_sha256`); only version 1's
  GetFunction ties that key to its hash (Code.ResolvedS3Object), CloudTrail has no record of it;
  the bytes exist only as the zip the engineer kept (`zips["thumbs_v1"]`);
- `ResizeFunction`: $LATEST references a deleted version of `resize/r1.zip` (`resize_sha256`),
  bytes in `zips["resize"]`.
With `world.code_storage.report_resolved = False` GetFunction answers like an older API.
"""

from __future__ import annotations

import json
from typing import Any

from recover.sandbox.cfn.handlers import handler_message
from recover.sandbox.cfn.model import SimStack
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "media-prod"
THUMBS, RESIZE = "media-prod-thumbs", "media-prod-resize"
DAY = 86400.0


def _create(world: World, name: str, bucket: str, key: str, exec_role: str) -> dict[str, Any]:
    code = {"S3Bucket": bucket, "S3Key": key, "S3ObjectStorageMode": "REFERENCE"}
    world.client("lambda").create_function(
        FunctionName=name, Runtime="provided.al2023", Handler="bootstrap", Role=exec_role,
        Code=code, Architectures=["arm64"])
    return code


def seed(world: World) -> None:
    b = f"media-artifacts-{world.account}-{world.region}"
    kit.bucket(world, b, versioned=True)
    s3 = world.client("s3")
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "expire-thumbs", "Status": "Enabled", "Filter": {"Prefix": "thumbs/"},
         "Expiration": {"Days": 30}},
        {"ID": "purge-noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 7}}]})
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "LambdaReadsThumbs", "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": f"arn:aws:s3:::{b}/thumbs/*"}]}))
    exec_role = kit.role(world, "media-lambda-exec", kit.LAMBDA_TRUST)
    v1, v2 = kit.go_zip(THUMBS, "v1"), kit.go_zip(THUMBS, "v2")
    r1 = kit.go_zip(RESIZE, "r1")

    # long ago (no CloudTrail record survives): both functions created by REFERENCE
    kit.put(world, b, "thumbs/v1.zip", v1)
    kit.put(world, b, "resize/r1.zip", r1)
    thumbs_code = _create(world, THUMBS, b, "thumbs/v1.zip", exec_role)
    world.client("lambda").publish_version(FunctionName=THUMBS)
    resize_code = _create(world, RESIZE, b, "resize/r1.zip", exec_role)
    props = {"Runtime": "provided.al2023", "Handler": "bootstrap", "Role": exec_role}
    thumbs = kit.res("ThumbsFunction", "AWS::Lambda::Function", THUMBS, Code=thumbs_code,
                     FunctionName=THUMBS, **props)
    resize = kit.res("ResizeFunction", "AWS::Lambda::Function", RESIZE, Code=resize_code,
                     FunctionName=RESIZE, **props)
    queue = kit.res("MediaQueue", "AWS::SQS::Queue",
                    f"https://sqs.{world.region}.amazonaws.com/{world.account}/media-jobs",
                    VisibilityTimeout=30)
    root = world.cfn.add_stack(ROOT, [thumbs, resize, queue], description="Media production")
    world.roots.append(ROOT)

    # day 10-18: thumbs/v1.zip deleted, then its only version purged (lifecycle: no record)
    world.clock.advance(10 * DAY)
    kit.expire(world, b, "thumbs/v1.zip")
    world.clock.advance(8 * DAY)
    kit.expire(world, b, "thumbs/v1.zip", purge=True)
    # day 19: the only version of resize/r1.zip deleted by id: the resize function breaks
    world.clock.advance(DAY)
    for v in s3.list_object_versions(Bucket=b, Prefix="resize/r1.zip").get("Versions", []):
        s3.delete_object(Bucket=b, Key="resize/r1.zip", VersionId=v["VersionId"])

    # day 20: the v2 update moves thumbs to thumbs/v2.zip (REFERENCE); MediaQueue fails
    world.clock.advance(DAY)
    kit.put(world, b, "thumbs/v2.zip", v2)
    new_code = {"S3Bucket": b, "S3Key": "thumbs/v2.zip", "S3ObjectStorageMode": "REFERENCE"}
    config = world.client("lambda").update_function_code(FunctionName=THUMBS, **new_code)
    fake = SimStack(stack_id="", name="", status="", created=world.clock(), template={})
    world.record_cfn_call(fake, "UpdateFunctionCode20150331v2", "lambda.amazonaws.com",
                          {"functionName": world.lambda_arn(THUMBS), "s3Bucket": b,
                           "s3Key": "thumbs/v2.zip", "s3ObjectStorageMode": "REFERENCE",
                           "publish": False, "dryRun": False},
                          response=world.lambda_response_elements(config))
    reason = handler_message(world, "Sqs", 400, "Value 99999 for parameter VisibilityTimeout "
                             "is invalid. Reason: Must be between 0 and 43200.",
                             "InvalidParameterValue")
    world.cfn.fail_update(root, changes={root.name: {
        "ThumbsFunction": {**thumbs.properties, "Code": new_code},
        "MediaQueue": {"VisibilityTimeout": 99999}}},
        failure=(root.name, "MediaQueue", reason))
    world.clock.advance(900)

    world.ground_truth.update({
        "root": ROOT, "bucket": b, "thumbs": THUMBS, "resize": RESIZE,
        "thumbs_v1_key": "thumbs/v1.zip", "thumbs_v2_key": "thumbs/v2.zip",
        "resize_key": "resize/r1.zip",
        "thumbs_v1_sha256": kit.sha(v1), "thumbs_v2_sha256": kit.sha(v2),
        "resize_sha256": kit.sha(r1),
        "rollback_failed": [f"{ROOT}.ThumbsFunction"], "forward_failed": f"{ROOT}.MediaQueue",
        "zips": {"thumbs_v1": v1, "thumbs_v2": v2, "resize": r1},
    })
