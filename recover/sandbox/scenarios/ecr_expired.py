"""ecr-expired: `orders-service` runs container images from ECR repository `orders-api`, whose
lifecycle policy keeps only the 2 newest `release-*` images. The ECS task definition still
references `release-1`, which the policy already expired; the worker function pins
`release-2` by digest, which the next release push will expire.

Ground truth (also in `world.ground_truth`): stack `orders-service` CREATE_COMPLETE; repository
`orders-api` holds release-2 and release-3 (release-1 was deleted as the lifecycle policy
does); `Task` (AWS::ECS::TaskDefinition) image `<acct>.dkr.ecr.<region>.amazonaws.com/
orders-api:release-1` is missing; `Worker` (AWS::Lambda::Function, Code.ImageUri by digest of
release-2) exists and is at risk through rule priority 1.
"""

from __future__ import annotations

import hashlib
import json

from recover.sandbox import moto_access
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "orders-service"
REPO = "orders-api"
POLICY = {"rules": [
    {"rulePriority": 1, "description": "keep the 2 newest releases",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["release-"],
                   "countType": "imageCountMoreThan", "countNumber": 2},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "drop untagged images after a day",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                   "countUnit": "days", "countNumber": 1},
     "action": {"type": "expire"}},
]}


def _manifest(build: str) -> str:
    digest = hashlib.sha256(build.encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 100,
                   "digest": f"sha256:{digest}"},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1000, "digest": f"sha256:{digest[::-1]}"}]})


def seed(world: World) -> None:
    acct, region = world.account, world.region
    ecr = world.client("ecr")
    ecr.create_repository(repositoryName=REPO)
    registry = f"{acct}.dkr.ecr.{region}.amazonaws.com/{REPO}"
    digests = {}
    for n in (1, 2, 3):
        image = ecr.put_image(repositoryName=REPO, imageManifest=_manifest(f"release-{n}"),
                              imageTag=f"release-{n}")["image"]
        digests[n] = image["imageId"]["imageDigest"]
        moto_access.ecr_set_pushed_at(REPO, region, digests[n], world.clock().timestamp())
        world.clock.advance(7 * 86400)
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=json.dumps(POLICY))
    # ECR's lifecycle evaluation expires release-1 (3 release images, the policy keeps 2)
    ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "release-1"}])
    fn_role = kit.role(world, "orders-worker-role", kit.LAMBDA_TRUST)
    world.cfn.add_stack(ROOT, [
        kit.res("Task", "AWS::ECS::TaskDefinition",
                f"arn:aws:ecs:{region}:{acct}:task-definition/orders:1", Family="orders",
                ContainerDefinitions=[{"Name": "api", "Image": f"{registry}:release-1",
                                       "Memory": 512}]),
        kit.res("Worker", "AWS::Lambda::Function", "orders-worker", FunctionName="orders-worker",
                PackageType="Image", Role=fn_role,
                Code={"ImageUri": f"{registry}@{digests[2]}"}),
    ], description="Orders service (containers)")
    world.roots.append(ROOT)
    world.ground_truth.update({
        "root": ROOT, "repository": REPO, "missing_image": f"{registry}:release-1",
        "at_risk_image": f"{registry}@{digests[2]}", "rule": "priority 1",
        "digests": {f"release-{n}": d for n, d in digests.items()},
    })
