"""stale-latest: `billing-prod` is UPDATE_ROLLBACK_FAILED because the previous code object of
its Lambda function is gone for good, and the code deployed in the function ($LATEST) is the
NEW code of the failed update: restoring it would roll back to the very code the rollback
was meant to remove.

Timeline (simulated clock): v1 was deployed long ago (its CreateFunction record is older than
the 90 days LookupEvents keeps, so the sandbox records none and no CodeSha256 of the old key is
known); day 10 a clean-up job deletes the old object from the unversioned deployment bucket (no
previous version to copy); day 20 the v2 update deploys the new code into the function, fails
on `InvoiceQueue`, and the rollback fails on the function with NoSuchKey.

Ground truth (also in `world.ground_truth`):
- deployment bucket `billing-artifacts-123456789012-us-east-1` (NOT versioned);
- `InvoiceFunction` (billing-prod-invoice): previous key `old_key` missing for good; $LATEST
  holds the v2 bytes (`new_sha256`); the old bytes (`old_sha256`) exist only as the zip the
  engineer kept (`zips["old"]`), to be named with `--artifact-source file:KEY=PATH`;
- nothing proves any source to be the old code: an unattended run restores only with
  `--accept-unverified`, and then must restore the engineer's file, never $LATEST.
"""

from __future__ import annotations

from recover.sandbox.cfn.handlers import handler_message
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "billing-prod"
FUNCTION = "billing-prod-invoice"
DAY = 86400.0


def seed(world: World) -> None:
    deploy = f"billing-artifacts-{world.account}-{world.region}"
    kit.bucket(world, deploy, versioned=False)
    exec_role = kit.role(world, "billing-lambda-exec", kit.LAMBDA_TRUST)
    old, new = kit.go_zip(FUNCTION, "v1"), kit.go_zip(FUNCTION, "v2")
    old_key, new_key = kit.asset_key(old), kit.asset_key(new)

    # long ago: v1 deployed (the record aged out of CloudTrail's 90 days: none is written)
    kit.put(world, deploy, old_key, old)
    code = {"S3Bucket": deploy, "S3Key": old_key}
    world.client("lambda").create_function(
        FunctionName=FUNCTION, Runtime="provided.al2023", Handler="bootstrap", Role=exec_role,
        Code=code, Architectures=["arm64"])
    fn = kit.res("InvoiceFunction", "AWS::Lambda::Function", FUNCTION, Code=code,
                 Runtime="provided.al2023", Handler="bootstrap", Role=exec_role,
                 FunctionName=FUNCTION)
    queue = kit.res("InvoiceQueue", "AWS::SQS::Queue",
                    f"https://sqs.{world.region}.amazonaws.com/{world.account}/billing-invoices",
                    VisibilityTimeout=30)
    root = world.cfn.add_stack(ROOT, [fn, queue], description="Billing production")
    world.roots.append(ROOT)

    # day 10: a clean-up job deletes the old object (unversioned: gone for good)
    world.clock.advance(10 * DAY)
    world.client("s3").delete_object(Bucket=deploy, Key=old_key)

    # day 20: the v2 update deploys the new code, then InvoiceQueue fails and the rollback runs
    world.clock.advance(10 * DAY)
    kit.put(world, deploy, new_key, new)
    code = kit.deploy_code(world, None, FUNCTION, deploy, new_key)
    reason = handler_message(world, "Sqs", 400, "Value 99999 for parameter VisibilityTimeout "
                             "is invalid. Reason: Must be between 0 and 43200.",
                             "InvalidParameterValue")
    world.cfn.fail_update(root, changes={root.name: {
        "InvoiceFunction": {**fn.properties, "Code": code},
        "InvoiceQueue": {"VisibilityTimeout": 99999}}},
        failure=(root.name, "InvoiceQueue", reason))
    world.clock.advance(900)

    world.ground_truth.update({
        "root": ROOT, "function": FUNCTION, "deployment_bucket": deploy,
        "old_key": old_key, "new_key": new_key,
        "old_sha256": kit.sha(old), "new_sha256": kit.sha(new),
        "rollback_failed": [f"{ROOT}.InvoiceFunction"],
        "forward_failed": f"{ROOT}.InvoiceQueue",
        "zips": {"old": old, "new": new},
    })
