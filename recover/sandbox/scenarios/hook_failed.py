"""hook-failed: the update of `media-site` was refused by a CloudFormation Hook in FAIL mode
(`Org::Security::S3PublicAccess` judged the new `SiteBucket` public), so the update rolled back
and the stack is UPDATE_ROLLBACK_COMPLETE.

Ground truth (also in `world.ground_truth`): one failure, `SiteBucket`, failure mode
`hook_failure`; the hook's result (GetHookResult) has FailureMode FAIL and one FAILED annotation
whose remediation is "Set PublicAccessBlockConfiguration to block all public access". A WARN
verdict of a second hook (`Org::Cost::Tags` on `LogsBucket`) stopped nothing and is not a
failure. Hooks are not simulated causally: the scenario records the verdicts the hook service
would have given (recover/sandbox/cfn/operations.py). The resource's failure reason follows the
shape `The following hook(s) failed: [<hook>]` quoted in aws/aws-cdk#21674.
"""

from __future__ import annotations

from dataclasses import replace

from recover.sandbox.cfn import operations
from recover.sandbox.cfn.model import SimStack
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "media-site"
HOOK = "Org::Security::S3PublicAccess"
WARN_HOOK = "Org::Cost::Tags"
REMEDIATION = "Set PublicAccessBlockConfiguration to block all public access"


def seed(world: World) -> None:
    site, logs = f"media-site-{world.account}", f"media-logs-{world.account}"
    kit.bucket(world, site)
    kit.bucket(world, logs)
    root = world.cfn.add_stack(ROOT, [
        kit.res("SiteBucket", "AWS::S3::Bucket", site),
        kit.res("LogsBucket", "AWS::S3::Bucket", logs)], description="Media site")
    world.roots.append(ROOT)
    world.clock.advance(86400)
    reason = f"The following hook(s) failed: [{HOOK}]"
    world.cfn.fail_update(root, changes={ROOT: {
        "LogsBucket": {"BucketName": logs, "Tags": []},
        "SiteBucket": {"BucketName": site, "PublicAccessBlockConfiguration": {}}}},
        failure=(ROOT, "SiteBucket", reason))
    _verdict(world, root, "LogsBucket", WARN_HOOK, "WARN", "Missing tag cost-center",
             "Add the cost-center tag")
    hook_id = _verdict(world, root, "SiteBucket", HOOK, "FAIL",
                       "Bucket SiteBucket allows public access", REMEDIATION)
    world.ground_truth.update({"root": ROOT, "failures": [("SiteBucket", "hook_failure")],
                               "hook": HOOK, "hook_result_id": hook_id,
                               "remediation": REMEDIATION, "warn_hook": WARN_HOOK})


def _verdict(world: World, stack: SimStack, logical_id: str, hook: str, mode: str, why: str,
             fix: str) -> str:
    """The hook's event, placed right before the resource's first event of the failed update
    (PRE_PROVISION: before CloudFormation touches it), and its GetHookResult answer."""
    res = stack.resources[logical_id]
    hook_id = operations.record_hook(
        world.cfn, stack, logical_id=logical_id, resource_type=res.type, hook_type=hook,
        failure_mode=mode, reason=why, action="UPDATE",
        annotations=[{"AnnotationName": hook.rsplit("::", 1)[-1].upper(), "Status": "FAILED",
                      "StatusMessage": why, "RemediationMessage": fix,
                      "SeverityLevel": "HIGH" if mode == "FAIL" else "LOW"}])
    update = next(i for i, e in enumerate(stack.events) if e.logical_id == logical_id
                  and e.status == "UPDATE_IN_PROGRESS")
    first = stack.events[update]
    stack.events.insert(update, replace(
        first, event_id=f"{logical_id}-hook-{hook_id}", reason=f"Hook invoked: {hook}",
        hook_type=hook, hook_status="HOOK_COMPLETE_FAILED", hook_reason=why,
        hook_failure_mode=mode, hook_invocation_id=hook_id))
    return hook_id
