"""custom-resource-rollback: `billing-api` is UPDATE_ROLLBACK_IN_PROGRESS, held by its custom
resource `RateTable` (Custom::RateTable): the update changed it, then `ApiStage` failed, and the
rollback's Update request back to the previous rates was logged by the handler, which died.

Ground truth (also in `world.ground_truth`):
- the handler `billing-api-rates` logs in the Node.js console style (`<time>\t<id>\tINFO\tRequest:
  {...}`); its log group also holds the forward Update of this operation (an older RequestId,
  already answered) and the Create of weeks ago;
- another custom resource, `Certificate` (Custom::CertValidator), was not touched;
- answering SUCCESS with the same PhysicalResourceId lets the rollback finish
  UPDATE_ROLLBACK_COMPLETE; FAILED ends it UPDATE_ROLLBACK_FAILED.
"""

from __future__ import annotations

from datetime import timedelta

from recover.sandbox.cfn import custom
from recover.sandbox.scenarios import _custom as cr
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "billing-api"
PROVIDER = "billing-api-rates"
STAGE_FAILED = ('Resource handler returned message: "Invalid stage variable value: rates-v3 '
                '(Service: ApiGateway, Status Code: 400, Request ID: 3f1c0d9e-5b1a-4b55-9d43-'
                '2f0e1c7a9b11)" (RequestToken: 7c2d1f3e-8a4b-4e6d-9f10-1b2c3d4e5f60, '
                'HandlerErrorCode: InvalidRequest)')


def seed(world: World) -> None:
    cr.anchor(world, minutes_before_live=10 * 24 * 60)
    rates = cr.token(world, PROVIDER)
    certs = cr.token(world, "billing-api-certs")
    resources = [
        kit.res("RatesFunction", "AWS::Lambda::Function", PROVIDER),
        kit.res("Certificate", "Custom::CertValidator", "cert-billing-api",
                ServiceToken=certs, Domain="billing.example.com"),
        kit.res("RateTable", "Custom::RateTable", "rates-table-v2", ServiceToken=rates,
                Version="2", ServiceTimeout="1800"),
        kit.res("ApiStage", "AWS::ApiGateway::Stage", "prod", StageName="prod",
                Variables={"rates": "rates-v2"}),
    ]
    stack = world.cfn.add_stack(ROOT, resources)
    create = cr.old_request(world, stack_id=stack.stack_id, logical_id="RateTable",
                            request_type="Create", service_token=rates,
                            resource_type="Custom::RateTable", properties={"Version": "2"})
    created = world.clock()
    cr.anchor(world, minutes_before_live=20)
    forward = cr.old_request(world, stack_id=stack.stack_id, logical_id="RateTable",
                             request_type="Update", service_token=rates,
                             resource_type="Custom::RateTable", physical_id="rates-table-v2",
                             properties={"Version": "3"})
    forward_at = world.clock()
    cr.log_history(world, rates, [(created, cr.logged(create)),
                                  (forward_at + timedelta(seconds=4), cr.logged(forward))]
                   + cr.noise(world, forward_at + timedelta(seconds=10), 30))
    changes = {ROOT: {
        "RateTable": {"ServiceToken": rates, "Version": "3", "ServiceTimeout": "1800",
                      custom.HANGS: "node-console"},
        "ApiStage": {"StageName": "prod", "Variables": {"rates": "rates-v3"}}}}
    custom.run_until_waiting(world, lambda: world.cfn.fail_update(
        stack, changes=changes, failure=(ROOT, "ApiStage", STAGE_FAILED)))
    (pending,) = world.custom.pending.values()
    world.roots.append(ROOT)
    world.ground_truth.update({
        "stack": ROOT, "waiting": "RateTable", "request_id": pending.request["RequestId"],
        "forward_request": forward["RequestId"], "log_group": custom.log_group(rates),
        "physical_id": "rates-table-v2"})
