"""custom-resource-silent: `search-indexer` is DELETE_IN_PROGRESS, held by its custom resource
`IndexTemplate` (Custom::IndexTemplate) whose handler crashed before it logged anything.

Ground truth (also in `world.ground_truth`):
- the handler `search-indexer-templates` logged no request in this operation: its log group
  holds only the Create of days ago (another RequestId) and lines mentioning ResponseURL;
- nothing can answer the request from the logs: CloudFormation fails the resource when its
  ServiceTimeout (900 s here) runs out, and the delete ends DELETE_FAILED.
"""

from __future__ import annotations

from datetime import timedelta

from recover.sandbox.cfn import custom
from recover.sandbox.scenarios import _custom as cr
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "search-indexer"
PROVIDER = "search-indexer-templates"


def seed(world: World) -> None:
    cr.anchor(world, minutes_before_live=5 * 24 * 60)
    service_token = cr.token(world, PROVIDER)
    resources = [
        kit.res("TemplatesFunction", "AWS::Lambda::Function", PROVIDER),
        kit.res("IndexTemplate", "Custom::IndexTemplate", "orders-template",
                ServiceToken=service_token, ServiceTimeout="900", **{custom.HANGS: "none"}),
    ]
    stack = world.cfn.add_stack(ROOT, resources)
    create = cr.old_request(world, stack_id=stack.stack_id, logical_id="IndexTemplate",
                            request_type="Create", service_token=service_token,
                            resource_type="Custom::IndexTemplate")
    created = world.clock()
    cr.anchor(world, minutes_before_live=4)
    cr.log_history(world, service_token, [(created, cr.logged(create))]
                   + cr.noise(world, world.clock() - timedelta(minutes=1), 8))
    custom.run_until_waiting(world, lambda: world.cfn.start_delete(stack))
    (pending,) = world.custom.pending.values()
    world.roots.append(ROOT)
    world.ground_truth.update({"stack": ROOT, "waiting": "IndexTemplate",
                               "request_id": pending.request["RequestId"],
                               "log_group": custom.log_group(service_token)})
