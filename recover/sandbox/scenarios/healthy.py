"""healthy: nothing is broken. `shop-web` (with a nested `Assets` stack) and `shop-batch` are
CREATE_COMPLETE / UPDATE_COMPLETE.

Ground truth: no stack needs a runbook; diagnose should report no failure.
"""

from __future__ import annotations

from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World


def seed(world: World) -> None:
    kit.bucket(world, f"shop-assets-{world.account}")
    web = world.cfn.add_stack("shop-web", [
        kit.res("WebBucket", "AWS::S3::Bucket", f"shop-assets-{world.account}"),
        kit.nested("Assets")], description="Shop web tier")
    world.cfn.add_stack("", [kit.res("Distribution", "AWS::CloudFront::Distribution",
                                     "E2SANDBOXDIST01")], parent=web, logical_id="Assets")
    world.cfn.add_stack("shop-batch", [kit.res("JobQueue", "AWS::SQS::Queue",
                                               f"https://sqs.{world.region}.amazonaws.com/"
                                               f"{world.account}/shop-jobs")])
    world.roots.extend(["shop-web", "shop-batch"])
    world.ground_truth.update({"roots": ["shop-web", "shop-batch"], "failures": []})
