"""custom-resource-delete: `reports-pipeline` is DELETE_IN_PROGRESS, held by its custom resource
`DnsRecord` (Custom::DnsRecord) whose handler logged the Delete request and died without
answering.

Ground truth (also in `world.ground_truth`):
- three custom resources share the provider `reports-pipeline-provider`
  (/aws/lambda/reports-pipeline-provider): `DnsRecord` (waiting), `SchemaSeeder` (not reached
  yet) and `AuditHook` (already deleted);
- the provider's log group holds, besides the waiting request (`request_id`): the Create
  requests of days ago, an earlier Delete of `DnsRecord` from before this operation, a Delete of
  a `DnsRecord` of another stack (`reports-pipeline-staging`) to the same provider minutes ago,
  a retry of the waiting request (same RequestId), a line naming this stack and resource whose
  ResponseURL points elsewhere (`hostile_url`), and pages of lines mentioning ResponseURL;
- answering SUCCESS on the waiting request's ResponseURL lets the delete go on to
  DELETE_COMPLETE; FAILED ends it DELETE_FAILED on `DnsRecord`.
"""

from __future__ import annotations

import json
from datetime import timedelta

from recover.sandbox.cfn import custom
from recover.sandbox.scenarios import _custom as cr
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "reports-pipeline"
PROVIDER = "reports-pipeline-provider"
HOSTILE_URL = "http://169.254.169.254/latest/api/token"


def seed(world: World) -> None:
    cr.anchor(world, minutes_before_live=3 * 24 * 60)
    service_token = cr.token(world, PROVIDER)
    zone = "Z0SANDBOX42"
    resources = [
        kit.res("ProviderRole", "AWS::IAM::Role", "reports-pipeline-provider-role"),
        kit.res("ProviderFunction", "AWS::Lambda::Function", PROVIDER),
        kit.res("SchemaSeeder", "Custom::SchemaSeeder", "schema-v7",
                ServiceToken=service_token, Schema="v7"),
        kit.res("DnsRecord", "Custom::DnsRecord", f"{zone}/reports.example.com/CNAME",
                ServiceToken=service_token, Name="reports.example.com", Zone=zone,
                ServiceTimeout="3600", **{custom.HANGS: "python-logging"}),
        kit.res("AuditHook", "AWS::CloudFormation::CustomResource", "audit-hook-1",
                ServiceToken=service_token),
        kit.res("AlarmTopic", "AWS::SNS::Topic",
                f"arn:aws:sns:{world.region}:{world.account}:reports-alarms"),
    ]
    stack = world.cfn.add_stack(ROOT, resources)
    created = world.clock()
    staging = (f"arn:aws:cloudformation:{world.region}:{world.account}:stack/"
               f"reports-pipeline-staging/{world.new_uuid()}")
    creates = [cr.old_request(world, stack_id=stack.stack_id, logical_id=lid,
                              request_type="Create", service_token=service_token,
                              resource_type=stack.resources[lid].type)
               for lid in ("SchemaSeeder", "DnsRecord", "AuditHook")]
    cr.anchor(world, minutes_before_live=130)
    earlier = cr.old_request(world, stack_id=stack.stack_id, logical_id="DnsRecord",
                             request_type="Delete", service_token=service_token,
                             resource_type="Custom::DnsRecord",
                             physical_id=f"{zone}/reports.example.com/CNAME")
    before = world.clock()
    cr.anchor(world, minutes_before_live=12)
    other = cr.old_request(world, stack_id=staging, logical_id="DnsRecord", request_type="Delete",
                           service_token=service_token, resource_type="Custom::DnsRecord",
                           physical_id=f"{zone}/reports-staging.example.com/CNAME")
    start = world.clock()
    history = [(created + timedelta(seconds=i), cr.logged(e)) for i, e in enumerate(creates)]
    history += [(before, cr.logged(earlier)), (start, cr.logged(other))]
    history += cr.noise(world, start + timedelta(seconds=5), 70)
    cr.log_history(world, service_token, history)
    custom.run_until_waiting(world, lambda: world.cfn.start_delete(stack))
    (pending,) = world.custom.pending.values()
    request = pending.request
    waited = world.clock()
    # Lambda retried the failed invocation with the same event; then a line that quotes a
    # request for this resource with a URL of someone else's choosing.
    hostile = dict(request, ResponseURL=HOSTILE_URL, RequestId=world.new_uuid())
    cr.log_history(world, service_token, [
        (waited + timedelta(seconds=61), cr.logged(request)),
        (waited + timedelta(seconds=95), "[ERROR]\t-\t-\tvalidation failed for input "
                                         f"{json.dumps(hostile)}\n")])
    world.roots.append(ROOT)
    world.ground_truth.update({
        "stack": ROOT, "waiting": "DnsRecord", "request_id": request["RequestId"],
        "response_url": request["ResponseURL"], "log_group": custom.log_group(service_token),
        "other_stack_request": other["RequestId"], "earlier_request": earlier["RequestId"],
        "hostile_url": HOSTILE_URL})
