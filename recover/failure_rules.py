"""The catalog of failure-message rules behind `recover explain` (pure data and regexes).

Each rule has a stable id, the failure mode it reports, how informative it is when a paste holds
several failures (`rank`), a one-paragraph explanation template and a matcher that returns the
fields it extracts (or None). `RULES` is tried in order and the first match wins, so the order
is part of the contract (docs/reference/failure-modes.md):

1. execution role / CDK bootstrap gone   (their text also says "invalid", "not found")
2. custom resources                      (their reasons embed AccessDenied, "does not exist"...)
3. missing artifacts (Lambda code, layers, images, nested TemplateURL)  (NoSuchKey/NoSuchBucket
   here is the artifact, not the resource being changed)
4. operations refused by the stack's status, ResourcesToSkip/RetainResources misuse
5. nested-stack failures
6. delete blocked: non-empty bucket/repository, exports in use, dependencies, protection
7. permissions, then credentials
8. throttling (before limits: "Request limit exceeded" and "Rate exceeded" are throttling)
9. quotas and limits
10. specific causes outside the taxonomy (AlreadyExists, capabilities, signals, a missing
    *referenced* object, stack not found...) — before the generic "not found"
11. resource deleted out of band (generic NotFound / "does not exist")
12. summaries and cascades (`The following resource(s) failed to ...`, `... cancelled`)

Matchers see `Message.text` (envelopes removed) and `Message.fields` (what the envelopes said:
HandlerErrorCode, Error Code, status...). Patterns follow AWS's message shapes, not samples.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from recover.message_fields import iam_prefix
from recover.message_parse import STACK_ARN_RE, STATUS_RE, Message
from recover.taxonomy import DELETE_FAILED, ROLLBACK_STUCK, FailureMode

Matcher = Callable[[Message], "dict[str, Any] | None"]
KEEP = "keep"  # Rule.runbook: use taxonomy.runbook_for(mode)


@dataclass(frozen=True)
class Rule:
    id: str
    mode: FailureMode
    rank: int
    explanation: str
    match: Matcher
    confidence: str = "high"
    runbook: str | None = KEEP
    defaults: dict[str, str] = field(default_factory=dict)


def _rx(pattern: str, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def when(*patterns: str, codes: tuple[str, ...] = (), extract: Callable[[re.Match[str], Message],
         dict[str, Any]] | None = None, unless: str | None = None) -> Matcher:
    """A matcher: any pattern found in the text, or any error code (exact, case-insensitive)."""
    rxs = [_rx(p) for p in patterns]
    not_rx = _rx(unless) if unless else None
    wanted = {c.lower() for c in codes}

    def match(msg: Message) -> dict[str, Any] | None:
        if not_rx and not_rx.search(msg.text):
            return None
        for rx in rxs:
            m = rx.search(msg.text)
            if m:
                return extract(m, msg) if extract else {}
        if wanted and msg.codes & wanted:
            return extract(None, msg) if extract else {}  # type: ignore[arg-type]
        return None

    return match


def _groups(**names: int) -> Callable[[re.Match[str], Message], dict[str, Any]]:
    """Extract numbered regex groups into named fields (skipping empty ones)."""
    def extract(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
        if m is None:
            return {}
        return {k: m.group(i).strip() for k, i in names.items()
                if i <= (m.re.groups or 0) and m.group(i)}
    return extract


# -- 1. execution role ----------------------------------------------------------------------

def _role(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m and m.group(1).startswith("arn:"):
        out["role_arn"] = m.group(1)
        out["role_name"] = m.group(1).rsplit("/", 1)[-1]
        q = re.match(r"cdk-([A-Za-z0-9_#-]{1,10})-cfn-exec-role-", out["role_name"])
        if q:
            out["cdk_qualifier"] = q.group(1)
    return out


def _bootstrap(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m and m.group(1).startswith("/"):
        out["ssm_parameter"] = m.group(1)
        q = re.search(r"/cdk-bootstrap/([^/\s]+)/", m.group(1))
        if q:
            out["cdk_qualifier"] = q.group(1)
    return out


def _bootstrap_role(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out = _role(m, msg) if m and m.group(1) else {}
    q = re.search(r"role/cdk-([A-Za-z0-9_-]{1,10})-(?:deploy|lookup|file-publishing|image-publishing|"
                  r"cfn-exec)-role", msg.text)
    if q:
        out["cdk_qualifier"] = q.group(1)
    return out


# -- 3. artifacts ---------------------------------------------------------------------------

def _s3_code(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    code = re.search(r"S3 Error Code:\s*(\w+)", msg.text)
    out: dict[str, Any] = {"s3_error_code": code.group(1)} if code else {}
    if re.search(r"layer", msg.text + msg.raw + str(msg.fields.get("resource_type", "")), re.I):
        out["artifact"] = "layer version's content"
    return out


# -- 4. stack state -------------------------------------------------------------------------

def _state(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m:
        out["status"] = m.group(1)
        # The subject is the word before "is in": `Stack:arn:...`, `Stack [name]`, `Stack name`.
        # (Looked up after the match: a `(\S*)\s+is in` pattern would backtrack quadratically.)
        words = m.string[max(0, m.start() - 300):m.start()].split()
        subject = words[-1].removeprefix("Stack:") if words else ""
        if subject.lower() in ("stack", "stack:"):
            subject = ""
        arn = STACK_ARN_RE.search(subject)
        if arn:
            out["stack_arn"], out["stack_name"] = arn.group(0), arn.group(1)
        elif subject:
            out["stack_name"] = subject.strip("[]")
    return out


# -- 5. nested ------------------------------------------------------------------------------

def _embedded(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m:
        arn = STACK_ARN_RE.search(m.group(1))
        if arn:
            out["child_stack_arn"], out["child_stack_name"] = arn.group(0), arn.group(1)
        out["operation"] = (m.group(2) or "updated").lower()
        if msg.fields.get("stack_arn") is None:
            out["_drop"] = ("stack_arn", "stack_name")  # the only stack named is the child
    return out


def _summary(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    verbs = re.findall(r"failed to (create|update|delete)", msg.text, re.I)
    out: dict[str, Any] = {"summary": True, "operation": verbs[0].lower() if verbs else None}
    if verbs and all(v.lower() == "delete" for v in verbs):
        out["_runbook"] = DELETE_FAILED
    elif verbs and all(v.lower() == "create" for v in verbs) and "rollback" in msg.text.lower():
        out["_runbook"] = None  # a failed create rolls back on its own (no stuck state)
    # A summary naming child stacks points at nested failures; otherwise it is only a summary.
    names = re.findall(r"\[([^\]]*)\]?", msg.text)
    if any(re.search(r"Stack(?:[A-Z0-9][A-Za-z0-9]*)?$|NestedStack", n.strip())
           for body in names for n in body.split(",")):
        out["_confidence"] = "medium"
    return {k: v for k, v in out.items() if v is not None or k.startswith("_")}


# -- 6. delete blocked ----------------------------------------------------------------------

_IN_USE_BY = re.compile(
    r"(?:in use by|used by|associated with|attached to|referenced by|dependent object)\s+"
    r"(?:the |an? )?(?:\w+ )?['\"]?([^\s'\",.;()]+)", re.I)


def _dependency(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ids = re.findall(r"\b(?:sg|eni|vpc|subnet|igw|rtb|nat|eipalloc|vol|i|acl|vpce|tgw|lt)-[0-9a-f]{8,17}\b",
                     msg.text)
    blocked = re.search(r"resource ([\w-]+) has a dependent object|The (?:\w+ )?'([\w-]+)' has dependencies",
                        msg.text)
    arn = re.search(r"(?:unable to delete|cannot delete|could not delete)\s+(arn:\S+)", msg.text, re.I)
    if blocked:
        out["blocked_resource_id"] = blocked.group(1) or blocked.group(2)
    elif arn:
        out["blocked_resource_id"] = arn.group(1)
    elif ids:
        out["blocked_resource_id"] = ids[0]
    dep = _IN_USE_BY.search(msg.text)
    if dep and dep.group(1).lower() not in ("object", "objects", "resources"):
        out["dependent_object"] = dep.group(1)
    elif len(ids) > 1:
        out["dependent_object"] = ids[1]
    return out


def _export(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    return {"export_name": m.group(1), "importing_stack": m.group(2)} if m else {}


# -- 7. permissions -------------------------------------------------------------------------

def _call_on(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    """Lambda's `... does not have permissions to call CreateNetworkInterface on EC2`."""
    call = re.search(r"permissions? to call (\w+) on ([\w ]+?)(?:[.,]|$)", msg.text)
    if call and "iam_action" not in msg.fields:
        return {"iam_action": f"{call.group(2).strip().lower().replace(' ', '')}:{call.group(1)}"}
    return {}


def _denied_op(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    op = re.search(r"(?:for|on) operation '?([A-Za-z0-9]+)'?", msg.text)
    if op:
        out["denied_operation"] = op.group(1)
        prefix = iam_prefix(msg.fields.get("resource_type"))
        if prefix:
            out["iam_action"] = f"{prefix}:{op.group(1)}"
    return out


# -- explanations ---------------------------------------------------------------------------

E_ROLE = (
    "CloudFormation refused the operation because the stack's service role {role_arn} no longer "
    "exists or no longer trusts cloudformation.amazonaws.com. A role given once as RoleARN is "
    "used for every later operation on the stack and cannot be removed (docs/reference/aws-behaviour.md#service-roles-rolearn), "
    "so every update, rollback and delete fails this way, typically after the CDK bootstrap "
    "stack or the role was deleted. Recreate a role with the same name and path that trusts "
    "CloudFormation (`recover bootstrap-role STACK`), then retry the blocked operation.")
E_BOOTSTRAP = (
    "The SSM parameter {ssm_parameter} that every CDK-synthesized template reads as its "
    "BootstrapVersion is missing, which means the CDK bootstrap stack (CDKToolkit, qualifier "
    "{cdk_qualifier}) was deleted or never deployed in this account and region ("
    "docs/reference/aws-behaviour.md#cdk-bootstrap). Deleting it also deletes the cfn-exec-role the app's stacks run as, so stacks already "
    "deployed are blocked too: to deploy again run `cdk bootstrap` with the same qualifier; to "
    "roll back or delete an existing stack, recreate its execution role (runbook "
    "execution-role-missing).")
E_BOOTSTRAP_ROLE = (
    "The CDK CLI could not assume the bootstrap role {role_arn}: the role is missing (the "
    "CDKToolkit bootstrap stack, qualifier {cdk_qualifier}, was deleted or never deployed here) "
    "or no longer trusts your account. When the bootstrap stack is gone, the cfn-exec-role that "
    "deployed stacks run as is gone too. To deploy again, re-run `cdk bootstrap` with the same "
    "qualifier; to roll back or delete a stack blocked by its missing execution role, recreate "
    "that role (runbook execution-role-missing).")
E_CR_NO_RESPONSE = (
    "A custom resource's handler never sent its response to CloudFormation, which waited until "
    "its timeout (up to an hour). The handler crashed, timed out, could not reach the response URL, "
    "or (with cfn-response) runs an old inline copy of the module. Read the function's CloudWatch "
    "logs for request id {request_id}; once fixed, retry. If it can never answer, skip it in "
    "ContinueUpdateRollback (during a rollback) or retain it in DeleteStack (during a delete).")
E_CR_FAILED = (
    "A custom resource's handler answered FAILED, so CloudFormation failed the resource. Its "
    "own reason follows the status: {reason}. Read the handler's CloudWatch logs "
    "(request id {request_id}), fix the cause and retry; if it keeps failing during a rollback "
    "or delete, skip or retain the resource.")
E_CR_TIMEOUT = (
    "A resource whose provisioning runs custom code (a custom resource or a registry resource "
    "type handler) did not report completion before CloudFormation's timeout. Check the "
    "handler's logs; retry once it works, or skip/retain the resource if it never will.")
E_CR_PROVIDER = (
    "A custom resource's provider reported that it failed: {reason}. CloudFormation only relays "
    "what the handler said; read the handler's logs, fix the cause (or make the handler treat an "
    "already-gone target as deleted) and retry, or skip/retain the resource.")
E_CODE = (
    "Lambda could not fetch the {artifact} from S3 (S3 said {s3_error_code}): "
    "the object{at} was deleted, expired by a lifecycle rule, or never uploaded. During a "
    "rollback CloudFormation re-deploys the previous code, so a missing old artifact leaves the "
    "stack in UPDATE_ROLLBACK_FAILED. Put the exact bytes back at the exact key (a previous S3 "
    "version, the code still deployed in the function, a cdk.out asset), then continue the "
    "rollback: runbook missing-artifact.")
E_WRONG_REGION = (
    "Lambda could not fetch the code because the S3 bucket is in another Region: the bucket "
    "given for a function's code must be in the function's Region (docs/reference/aws-behaviour.md#lambda-code-locations). Copy "
    "the artifact to a bucket in the stack's Region (or deploy the stack in the bucket's) and "
    "retry. Nothing is missing.")
E_CODE_DENIED = (
    "Lambda was denied reading the deployment package{at} from S3. S3 answers AccessDenied "
    "instead of NoSuchKey when the object is gone and the reader lacks s3:ListBucket, so this is "
    "usually a deleted artifact, and otherwise a bucket policy or KMS key refusing access. Check "
    "that the object exists; if it does not, restore it (runbook missing-artifact), if it does, "
    "fix the bucket or key policy and retry.")
E_TEMPLATE_URL = (
    "CloudFormation could not read a template from S3{at} (a nested stack's TemplateURL or the "
    "template of the operation). S3 answers Access Denied instead of NoSuchKey when the object "
    "is missing, so the template object was most likely deleted or never uploaded. Upload it "
    "again at the same URL (or fix the bucket policy if it does exist) and retry.")
E_IMAGE = (
    "The container image the function needs ({image}) is gone from its repository (deleted by "
    "hand or by a lifecycle policy). Push the same image and tag back, or deploy with an image "
    "that exists, then retry.")
E_CODEURI = (
    "The local code the deployment packages (CodeUri) does not exist, so nothing could be "
    "uploaded. Build the function first (sam build / the project's build), or point CodeUri at "
    "the right folder, then deploy again.")
E_STATE = (
    "The operation was refused because the stack is in {status}: {state_advice} Nothing changed "
    "in the stack; deal with the status first (`recover diagnose STACK`).")
E_TERMINATION = (
    "DeleteStack was refused because termination protection is enabled (for nested stacks it "
    "is set on the root). The stack and its status are unchanged. If deleting is really "
    "intended, disable it (`aws cloudformation update-termination-protection "
    "--no-enable-termination-protection --stack-name ROOT`) and delete again.")
E_CHILD = (
    "ContinueUpdateRollback was called on a nested (child) stack. AWS only accepts it on the "
    "root stack; resources of nested stacks are skipped from the root as "
    "`<child-stack-name>.<LogicalId>` (docs/reference/aws-behaviour.md#continueupdaterollback-runs-on-the-root, docs/reference/aws-behaviour.md#resourcestoskip-rules). Call it on the root: "
    "runbook rollback-stuck does that.")
E_SKIP = (
    "ContinueUpdateRollback rejected the ResourcesToSkip list: {skip_rule} ("
    "docs/reference/aws-behaviour.md#resourcestoskip-rules). Recompute the list from the resources that failed during the rollback "
    "(runbook rollback-stuck computes a valid one).")
E_RETAIN = (
    "DeleteStack rejected RetainResources (or FORCE_DELETE_STACK): they are accepted only when "
    "the stack is DELETE_FAILED, and only for resources not already DELETE_COMPLETE "
    "(docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed, docs/reference/aws-behaviour.md#which-resources-may-be-retained). Delete once without them, then retain only what failed: "
    "runbook delete-failed.")
E_NO_UPDATES = (
    "Not a failure: the template and parameters are identical to what is deployed, so "
    "CloudFormation had nothing to do.")
E_EMBEDDED = (
    "This is the parent's view of a nested stack failure: the child stack {child_stack_name} "
    "was not successfully {operation}{because}. The parent only relays it; the real reason is in "
    "the child's own events (`recover diagnose` walks the whole tree). When the tree ends in "
    "UPDATE_ROLLBACK_FAILED, runbook rollback-stuck continues the rollback from the root.")
E_SUMMARY = (
    "This is a summary, not a cause: CloudFormation lists the resources that failed to "
    "{operation} ({logical_ids}). Each of them has its own event with the real reason; read those "
    "(`recover diagnose STACK` does it for the whole tree) and explain them one by one.")
E_CLEANUP = (
    "The operation itself finished; only the clean-up could not delete some old or replaced "
    "resources, which are no longer part of the stack and now exist on their own. Read their "
    "DELETE_FAILED events for the reason and delete them by hand (or leave them).")
E_CANCELLED = (
    "This resource did not fail by itself: CloudFormation cancelled its operation because another "
    "resource failed. Look for the resource with a real failure reason in the same operation.")
E_BUCKET = (
    "CloudFormation cannot delete the S3 bucket{bucket_at} because it still holds objects "
    "(S3 refuses to delete a non-empty bucket; in a versioned bucket old versions and delete "
    "markers count too). Either empty it (all versions) and retry, or retain it and finish the "
    "delete: runbook delete-failed, which records retained resources in an orphan ledger.")
E_CONTAINER = (
    "CloudFormation cannot delete the resource because it still has contents ({what}). As with "
    "a non-empty bucket: empty it and retry, or retain it in DeleteStack and record it as an "
    "orphan (runbook delete-failed).")
E_EXPORT = (
    "The stack output export {export_name} cannot be removed because stack {importing_stack} "
    "imports it (Fn::ImportValue). Remove or change the import in {importing_stack} first, then "
    "retry; when deleting, runbook delete-failed can retain what is blocked instead.")
E_DEPENDENCY = (
    "The resource{blocked_at} cannot be deleted because something else still depends on it"
    "{dependent_at}; typical dependents are network interfaces, instances, another stack's "
    "import, Lambda@Edge replicas. Find and remove that dependency (or wait for AWS to remove it, as for Lambda@Edge replicas), then "
    "retry, or retain the resource: runbook delete-failed.")
E_PROTECTION = (
    "The resource has deletion protection enabled, so its service refused the delete. Turn the "
    "protection off if the data may go, or retain the resource in DeleteStack: runbook "
    "delete-failed.")
E_DENIED = (
    "The caller{principal_at} is not allowed to perform {iam_action}{resource_at}{denied_at}. "
    "CloudFormation acts with the stack's service role if it has one, otherwise with the "
    "credentials of whoever started the operation. Grant that action to that principal (or lift "
    "the deny in the SCP, permissions boundary or resource policy), then retry the operation; no "
    "resource needs to change.")
E_ACCESS_DENIED = (
    "AWS denied a call{op_at}: the credentials CloudFormation used (the stack's service role, or "
    "the caller's) lack a permission, or a resource policy, SCP, permissions boundary or KMS key "
    "policy denies it. Find the denied action in CloudTrail (errorCode AccessDenied) and grant "
    "it, then retry the operation.")
E_LAMBDA_ROLE = (
    "The service could not assume the role given to the resource (for Lambda: the function's "
    "execution role). Its trust policy must allow the service principal (lambda.amazonaws.com) "
    "to sts:AssumeRole; right after the role is created or changed, IAM may simply not have "
    "propagated yet. Fix the trust policy (or wait a minute) and retry. This is the resource's "
    "role, not the stack's CloudFormation service role.")
E_CREDENTIALS = (
    "The request's credentials were expired or invalid, not missing a permission. Refresh the "
    "credentials (or the role session) and retry; if CloudFormation itself hit this during a "
    "rollback, continuing the rollback uses fresh credentials (docs/reference/aws-behaviour.md#why-a-rollback-fails).")
E_THROTTLED = (
    "AWS throttled the calls (a request-rate limit, not a resource quota): nothing in the stack "
    "or the account has to change. Wait and retry (continue the rollback or deploy again); if "
    "it persists, lower the parallelism of deployments or ask for a higher API rate. recover "
    "files this under `unknown` because it is transient and no runbook or quota change applies.")
E_NOT_STABILIZED = (
    "The resource was created or changed but did not reach a stable state before the handler "
    "gave up waiting (an ECS service whose tasks keep failing, a resource still settling...). "
    "Find why it did not stabilise in the service itself (task/instance logs); when it was only "
    "slow, nothing needs to change: retry or continue the rollback (docs/reference/aws-behaviour.md#why-a-rollback-fails).")
E_CAPACITY = (
    "AWS had no capacity for that instance type in that Availability Zone at that moment: not a "
    "quota of the account. Retry later, or use another Availability Zone or instance type.")
E_LIMIT = (
    "An account or service quota was reached{what_at}, so AWS refused to create more. Delete "
    "unused resources or request a higher quota (Service Quotas console), then retry; during a "
    "rollback, continue it once there is room (docs/reference/aws-behaviour.md#why-a-rollback-fails).")
E_TOKEN = (
    "The ClientRequestToken of this call was already used by an earlier request, so CloudFormation "
    "refused to treat it as a new operation. If the earlier call is the same operation, it is "
    "already under way (watch the stack's events); otherwise retry with a new token.")
E_ALREADY = (
    "A resource with the same name/identifier already exists outside this stack (often left "
    "behind, retained or DELETE_SKIPPED, by an earlier failed attempt, or owned by another "
    "stack). Delete it, import it into the stack, or give the new resource another name, then "
    "retry.")
E_CAPABILITIES = (
    "The template needs capabilities the request did not acknowledge ({capabilities}). Add them "
    "(--capabilities) and deploy again; nothing in AWS changed.")
E_SIGNAL = (
    "The resource waited for success signals (cfn-signal / CreationPolicy / WaitCondition) and "
    "got a FAILURE signal or too few signals in time. Read the instance's cfn-init / user-data "
    "logs; during a rollback, send the signals (`aws cloudformation signal-resource`) and "
    "continue (docs/reference/aws-behaviour.md#why-a-rollback-fails).")
E_STACK_NOT_FOUND = (
    "CloudFormation found no such stack (or no such resource in that stack) in this account and "
    "region: check --region, the account, the name "
    "(deleted stacks are only reachable by stack ARN). In a ContinueUpdateRollback skip list the "
    "prefix must be the child stack's real name, not its logical id (docs/reference/aws-behaviour.md#resourcestoskip-rules).")
E_REFERENCED = (
    "The template (or a parameter) refers to something that does not exist or cannot be used "
    "here: {reason}. This is a configuration error, not a resource of the stack that vanished; "
    "fix the reference (ARN, id, name, region) and deploy again.")
E_NOT_FOUND = (
    "The resource CloudFormation tried to change{what_at} no longer exists: it was deleted or "
    "changed outside CloudFormation. During a rollback CloudFormation cannot put it back, which "
    "leaves the stack in UPDATE_ROLLBACK_FAILED. Recreate it with the same name and properties "
    "(docs/reference/aws-behaviour.md#why-a-rollback-fails) and continue the rollback, or skip it (runbook rollback-stuck, which "
    "records what a skip leaves inconsistent).")
E_CODE_INVALID = (
    "Lambda rejected the deployment package itself (corrupt, not a zip, or too large), so the "
    "artifact exists but is unusable. Rebuild and upload a valid package, then deploy again.")
E_TEMPLATE = (
    "CloudFormation rejected the template before touching any resource: {reason}. Fix the "
    "template and deploy again.")
E_INTERNAL = (
    "AWS reported an internal or transient service error. Retry the operation; if it keeps "
    "failing, check the AWS Health Dashboard and open a support case.")
E_UNKNOWN = (
    "recover does not recognise this failure. Read the resource's own events (`recover diagnose "
    "STACK`) and the service's message above for the underlying reason.")


def _state_advice(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out = _state(m, msg)
    status = out.get("status", "")
    advice = {
        "UPDATE_ROLLBACK_FAILED": "it cannot be updated until the rollback is continued "
                                  "(ContinueUpdateRollback) or the stack is deleted; runbook "
                                  "rollback-stuck continues it.",
        "ROLLBACK_COMPLETE": "a stack whose creation failed and rolled back can only be deleted; "
                             "delete it and create it again.",
        "ROLLBACK_FAILED": "the failed creation could not even roll back; only a delete "
                           "(possibly retaining resources) gets out of it.",
        "DELETE_FAILED": "it cannot be updated; delete it again, retaining what cannot be "
                         "deleted (runbook delete-failed).",
    }.get(status, "another operation is still running; wait for it to reach a terminal status."
          if status.endswith("IN_PROGRESS") else "the requested operation is not allowed from it.")
    out["state_advice"] = advice
    if status == "UPDATE_ROLLBACK_FAILED":
        out["_runbook"] = ROLLBACK_STUCK
    elif status == "DELETE_FAILED":
        out["_runbook"] = DELETE_FAILED
    return out


def _skip(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    text = msg.text.lower()
    if "nested stacks could not be skipped" in text:
        rule = ("an AWS::CloudFormation::Stack resource can be skipped only when its child stack is "
                "DELETE_IN_PROGRESS, DELETE_COMPLETE or DELETE_FAILED; skip the failed resources "
                "inside the child instead, as <child-stack-name>.<LogicalId>")
    elif "does not belong to stack" in text:
        rule = ("a resource of a nested stack must be named <child-stack-name>.<LogicalId>, not by "
                "its bare logical id")
    else:
        rule = ("only resources that went UPDATE_FAILED during the rollback may be skipped, not ones "
                "that failed in the forward update or were cancelled")
    return {"skip_rule": rule}


def _reason(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    return {"reason": msg.text.rstrip(". ")}


def _cr_failed(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    r = re.search(r"Message returned:\s*(.*?)(?:\s*\(RequestId:\s*[-\w]+\))?\s*$", msg.text)
    out: dict[str, Any] = {"reason": (r.group(1) if r else msg.text).strip()}
    ls = re.search(r"Log Stream:\s*(\S+)", msg.text)
    if ls:
        out["log_stream"] = ls.group(1)
    return out


def _what(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    w = re.search(r"(?:maximum number of|Limit for|limit for|number of)\s+([\w -]+?)"
                  r"(?:\s+(?:has|have|was|were|is|reached|exceeded|per)\b|[.,(]|$)", msg.text)
    return {"limit": w.group(1).strip()} if w else {}


def _image(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    return {"image": m.group(1)} if m else {}


def _caps(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    caps = re.findall(r"CAPABILITY_\w+", msg.text)
    return {"capabilities": ", ".join(dict.fromkeys(caps)) or "see the message"}


def _not_found(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    strong = (str(msg.fields.get("handler_error_code", "")).lower() == "notfound"
              or str(msg.fields.get("resource_status", "")).startswith(("UPDATE_", "DELETE_")))
    if not strong:
        out["_confidence"] = "medium"
    if str(msg.fields.get("resource_status", "")).startswith("DELETE_"):
        out["_runbook"] = DELETE_FAILED
    what = re.search(r"(?:The |the )?(?:[\w-]+ )?(?:with (?:id|name|identifier) )?['\"\[]([^'\"\]]+)['\"\]] "
                     r"(?:does not exist|not found|could not be found)", msg.text)
    if what:
        out["missing"] = what.group(1)
    return out


RULES: tuple[Rule, ...] = (
    # 1. execution role / bootstrap
    Rule("execution-role-invalid", FailureMode.EXECUTION_ROLE_MISSING, 60, E_ROLE,
         when(r"Role (\S+?) is invalid or cannot be assumed", extract=_role),
         defaults={"role_arn": "(named in the message)"}),
    Rule("cdk-bootstrap-missing", FailureMode.EXECUTION_ROLE_MISSING, 60, E_BOOTSTRAP,
         when(r"Unable to fetch parameters \[(/cdk-bootstrap/[^\]]+)\]",
              r"SSM parameter (/cdk-bootstrap/\S+) not found",
              r"(/cdk-bootstrap/[^\s\]]+)\S* (?:not found|does not exist)",
              r"doesn't have the CDK toolkit stack \((\S+)\) installed", extract=_bootstrap),
         confidence="medium", defaults={"cdk_qualifier": "hnb659fds unless customised",
                                        "ssm_parameter": "/cdk-bootstrap/<qualifier>/version"}),
    Rule("cdk-bootstrap-role-unassumable", FailureMode.EXECUTION_ROLE_MISSING, 55, E_BOOTSTRAP_ROLE,
         when(r"could not be used to assume '?(arn:aws[-a-z]*:iam::[^'\s]*:role/cdk-[^'\s]+?)'?[,.\s]",
              r"assume role in target account.{0,400}?(arn:aws[-a-z]*:iam::\S*:role/cdk-[^\s'.]+)",
              r"Please make sure that this role exists in the account()",
              extract=_bootstrap_role), confidence="medium",
         defaults={"role_arn": "(a CDK bootstrap role)", "cdk_qualifier": "hnb659fds unless customised"}),
    # 2. custom resources
    Rule("custom-resource-no-response", FailureMode.CUSTOM_RESOURCE_FAILURE, 55, E_CR_NO_RESPONSE,
         when(r"did not receive a response from your Custom Resource",
              extract=_groups()), defaults={"request_id": "(see the message)"}),
    Rule("custom-resource-failed", FailureMode.CUSTOM_RESOURCE_FAILURE, 55, E_CR_FAILED,
         when(r"Received response status \[FAILED\] from custom resource", extract=_cr_failed),
         defaults={"request_id": "in the message"}),
    Rule("custom-resource-timeout", FailureMode.CUSTOM_RESOURCE_FAILURE, 50, E_CR_TIMEOUT,
         when(r"Custom Resource failed to stabilize",
              r"timed out waiting for (?:creation|completion|deletion|update|the (?:response|signal))"
              r" of (?:the )?physical resource",
              r"custom resource.{0,40}timed? ?out"), confidence="medium"),
    Rule("custom-resource-provider-failed", FailureMode.CUSTOM_RESOURCE_FAILURE, 50, E_CR_PROVIDER,
         when(r"^Failed to (?:create|update|delete) resource\.\s", r"Invalid service token",
              r"malformed response from your Custom Resource", r"Response object is too long",
              r"Invalid PhysicalResourceId",
              r"custom resource (?:provider|handler|lambda).{0,40}(?:failed|error)", extract=_reason),
         confidence="medium"),
    # 3. missing artifacts (a bucket in another Region is not a missing artifact: docs/reference/aws-behaviour.md#lambda-code-locations)
    Rule("artifact-bucket-wrong-region", FailureMode.UNKNOWN, 45, E_WRONG_REGION,
         when(r"S3 Error Code:\s*(?:PermanentRedirect|AuthorizationHeaderMalformed|IllegalLocationConstraint)")),
    Rule("artifact-s3-object-missing", FailureMode.MISSING_ARTIFACT, 60, E_CODE,
         when(r"S3 Error Code:\s*NoSuch(?:Key|Bucket)",
              r"Error occurred while (?:GetObject|getting the object from S3)",
              r"(?:\bcode (?:object|package|artifact)|artifact|asset|layer|\.zip\b).{0,60}"
              r"\b(?:NoSuchKey|NoSuchBucket)\b",
              extract=_s3_code), defaults={"s3_error_code": "NoSuchKey",
                                          "artifact": "function's deployment package"}),
    Rule("artifact-s3-access-denied", FailureMode.MISSING_ARTIFACT, 55, E_CODE_DENIED,
         when(r"S3 Error Code:\s*AccessDenied", r"Your access has been denied by S3"),
         confidence="medium"),
    Rule("template-url-unreadable", FailureMode.MISSING_ARTIFACT, 55, E_TEMPLATE_URL,
         when(r"\bS3 error:\s*(?:Access Denied|The specified (?:key|bucket) does not exist)",
              r"TemplateURL.{0,80}(?:valid S3 object|does not exist|Access Denied|not found)",
              r"(?:Error occurred while|Failed to|Unable to) (?:download|retriev|fetch|get)\w* "
              r"(?:the )?template"), confidence="medium"),
    Rule("artifact-image-missing", FailureMode.MISSING_ARTIFACT, 55, E_IMAGE,
         when(r"Source image (\S+) (?:does not exist|is not valid|not found)", extract=_image),
         confidence="medium", defaults={"image": "see the message"}),
    Rule("artifact-codeuri-missing", FailureMode.MISSING_ARTIFACT, 50, E_CODEURI,
         when(r"CodeUri.{0,120}(?:does not exist|not found|NoSuchKey)"), confidence="medium"),
    # 4. stack state
    Rule("stack-termination-protection", FailureMode.STACK_STATE_BLOCKED, 40, E_TERMINATION,
         when(r"TerminationProtection is enabled", r"termination protection")),
    Rule("continue-rollback-on-child", FailureMode.STACK_STATE_BLOCKED, 40, E_CHILD,
         when(r"cannot be invoked on child stacks"), runbook=ROLLBACK_STUCK),
    Rule("skip-list-rejected", FailureMode.STACK_STATE_BLOCKED, 40, E_SKIP,
         when(r"Only the resources failed during UpdateRollback are allowed to be skipped",
              r"Nested stacks could not be skipped", r"does not belong to stack",
              extract=_skip), runbook=ROLLBACK_STUCK),
    Rule("retain-resources-rejected", FailureMode.STACK_STATE_BLOCKED, 40, E_RETAIN,
         when(r"only when the stack is in the DELETE_FAILED state",
              r"resources to retain must be in a valid state"), runbook=DELETE_FAILED),
    Rule("stack-status-refused", FailureMode.STACK_STATE_BLOCKED, 40, E_STATE,
         when(r"\bis in (" + STATUS_RE.pattern[2:-2] + r") state and can ?not",
              r"\bis (?:currently )?in (" + STATUS_RE.pattern[2:-2] + r") state",
              extract=_state_advice), defaults={"status": "a status that forbids it"}),
    Rule("no-updates", FailureMode.UNKNOWN, 3, E_NO_UPDATES,
         when(r"No updates are to be performed",
              r"submitted information didn't contain changes")),
    # 5. nested
    Rule("nested-stack-failed", FailureMode.NESTED_STACK_FAILURE, 20, E_EMBEDDED,
         when(r"Embedded stack (\S+) was not successfully (created|updated|deleted)",
              r"Nested stack (\S+) (?:failed|was not successfully) ?(created|updated|deleted)?",
              extract=_embedded),
         defaults={"child_stack_name": "(see the ARN)", "operation": "updated"}),
    # 6. delete blocked
    Rule("bucket-not-empty", FailureMode.DELETE_BLOCKED_NONEMPTY_BUCKET, 55, E_BUCKET,
         when(r"bucket you tried to delete is not empty", r"bucket\b.{0,80}\bis not empty",
              codes=("BucketNotEmpty",))),
    Rule("container-not-empty", FailureMode.DELETE_BLOCKED_NONEMPTY_BUCKET, 50, E_CONTAINER,
         when(r"cannot be deleted because it (?:still )?contains (\w+(?: \w+)?)",
              r"(repository|registry|vault|table|queue|file system)\b.{0,80}\b(?:is not empty|still contains)",
              codes=("RepositoryNotEmptyException", "RepositoryNotEmpty"),
              extract=lambda m, msg: {"what": m.group(1) if m else "contents"}),
         confidence="medium", defaults={"what": "contents"}),
    Rule("export-in-use", FailureMode.DELETE_BLOCKED_DEPENDENCY, 55, E_EXPORT,
         when(r"Export (\S+) cannot be (?:deleted|updated|modified) as it is in use by (\S+?)\.?$",
              extract=_export)),
    Rule("delete-protection", FailureMode.DELETE_BLOCKED_DEPENDENCY, 50, E_PROTECTION,
         when(r"deletion protection", r"Cannot delete protected", r"DeletionProtection"),
         confidence="medium"),
    Rule("dependency-violation", FailureMode.DELETE_BLOCKED_DEPENDENCY, 55, E_DEPENDENCY,
         when(r"has (?:a )?dependent object", r"has dependencies and cannot be deleted",
              r"(?:is|are) (?:currently |still )?(?:in use|being used)\b",
              r"cannot be deleted (?:because|as|while|since) it (?:is|has|still)",
              r"because it is a replicated function", r"must (?:detach|remove|delete) .{0,60} first",
              r"has (?:some )?mapped public address", r"unable to delete .{0,80} in use",
              r"Cannot delete .{0,60}\battached to\b",
              codes=("DependencyViolation", "DeleteConflict", "ResourceInUse",
                     "ResourceInUseException", "InvalidGroup.InUse"), extract=_dependency)),
    # 7. permissions
    Rule("iam-not-authorized", FailureMode.PERMISSION_DENIED, 55, E_DENIED,
         when(r"not authorized to perform", r"API: [a-z0-9-]+:\w+ ", r"explicit deny",
              r"(?:do not|don't) have (?:the )?permissions? to",
              r"does not have (?:the )?(?:required |necessary |sufficient )?permissions? to",
              extract=_call_on),
         defaults={"iam_action": "the action"}),
    Rule("lambda-role-not-assumable", FailureMode.PERMISSION_DENIED, 50, E_LAMBDA_ROLE,
         when(r"role defined for the function cannot be assumed by Lambda",
              r"cannot be assumed by (?:Lambda|the service|[\w.]+\.amazonaws\.com)"),
         confidence="medium"),
    Rule("credentials-invalid", FailureMode.PERMISSION_DENIED, 45, E_CREDENTIALS,
         when(r"security token included in the request is (?:invalid|expired)",
              r"\b(?:ExpiredToken|InvalidClientTokenId|UnrecognizedClientException)\b",
              codes=("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                     "UnrecognizedClientException")), confidence="medium"),
    Rule("access-denied", FailureMode.PERMISSION_DENIED, 50, E_ACCESS_DENIED,
         when(r"\baccess ?denied\b", r"\bUnauthorizedOperation\b", r"You are not authorized",
              r"\bnot authorized\b", r"insufficient (?:permissions|privileges)",
              codes=("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                     "AuthorizationError", "Forbidden", "UnauthorizedException"), extract=_denied_op)),
    # transient: the resource did not reach a stable state in time (docs/reference/aws-behaviour.md#why-a-rollback-fails, cause 6);
    # "Exceeded maximum number of attempts" is the stabilisation wait, not a quota.
    Rule("not-stabilized", FailureMode.UNKNOWN, 30, E_NOT_STABILIZED,
         when(r"did not stabilize", r"failed to stabilize", r"Exceeded maximum number of attempts",
              codes=("NotStabilized",))),
    Rule("insufficient-capacity", FailureMode.UNKNOWN, 45, E_CAPACITY,
         when(r"InsufficientInstanceCapacity", r"(?:do not|don't) have sufficient .{0,40}capacity",
              r"insufficient capacity", codes=("InsufficientInstanceCapacity",))),
    # 8. throttling — transient, deliberately not limit_exceeded (see E_THROTTLED)
    Rule("api-throttled", FailureMode.UNKNOWN, 30, E_THROTTLED,
         when(r"\bRate exceeded\b", r"\bThrottl", r"\bTooManyRequests", r"Too Many Requests",
              r"\bRequest ?limit exceeded\b", r"\bSlow ?Down\b", r"request rate",
              codes=("Throttling", "ThrottlingException", "TooManyRequestsException",
                     "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException"),
              extract=lambda m, msg: {"transient": True})),
    # 9. limits
    Rule("limit-exceeded", FailureMode.LIMIT_EXCEEDED, 55, E_LIMIT,
         when(r"LimitExceeded", r"\blimits? (?:for [\w -]+ )?(?:has been |have been |was |is )?"
              r"(?:exceeded|reached)", r"Limit for [\w -]+ (?:has been |was )?exceeded",
              r"maximum number of", r"\bquota\b", r"exceeds? (?:the |your )?(?:maximum|limit)",
              r"exceeded (?:the |your )?(?:maximum|limit|number|quota|allowed)",
              r"\blimit\b.{0,60}\bexceeded\b", r"below its minimum value",
              r"\btoo many (?!requests)\w+",
              r"vCPU (?:capacity|limit)", r"not eligible for Free Tier", r"storage limit",
              codes=("LimitExceededException", "ServiceQuotaExceededException",
                     "CodeStorageExceededException", "AddressLimitExceeded",
                     "VcpuLimitExceeded", "InstanceLimitExceeded", "ServiceLimitExceeded"),
              extract=_what)),
    # 10. specific causes outside the taxonomy
    Rule("client-token-reused", FailureMode.UNKNOWN, 35, E_TOKEN,
         when(r"client request token already exists", codes=("TokenAlreadyExistsException",))),
    Rule("already-exists", FailureMode.UNKNOWN, 45, E_ALREADY,
         when(r"\balready exists?\b", r"\balready (?:in use|taken|registered)\b", codes=("AlreadyExists", "AlreadyExistsException",
                                              "EntityAlreadyExists", "ResourceExistsException"))),
    Rule("requires-capabilities", FailureMode.UNKNOWN, 45, E_CAPABILITIES,
         when(r"Requires capabilities", codes=("InsufficientCapabilitiesException",),
              extract=_caps)),
    Rule("resource-signal-failure", FailureMode.UNKNOWN, 45, E_SIGNAL,
         when(r"Received \d* ?FAILURE signal", r"Failed to receive \d+ resource signal",
              r"WaitCondition (?:timed out|received failed)")),
    Rule("stack-not-found", FailureMode.UNKNOWN, 35, E_STACK_NOT_FOUND,
         when(r"^Stack (?:with id )?\[?([A-Za-z][-A-Za-z0-9:/]*)\]? does not exist",
              r"^Resource \S+ does not exist for stack (\S+)",
              extract=lambda m, msg: {"stack_name": m.group(1)} if m else {})),
    Rule("lambda-package-invalid", FailureMode.UNKNOWN, 45, E_CODE_INVALID,
         when(r"Could not unzip uploaded file", r"Unzipped size must be smaller",
              r"is not a valid (?:zip|archive)", r"Uploaded file must be a non-empty zip")),
    Rule("template-invalid", FailureMode.UNKNOWN, 45, E_TEMPLATE,
         when(r"^Template (?:format )?error", r"Unresolved resource dependencies",
              r"^Invalid template", r"Template format error", r"TemplateURL must be",
              extract=_reason)),
    Rule("referenced-object-missing", FailureMode.UNKNOWN, 45, E_REFERENCED,
         when(r"does not exist or is not attachable", r"\bKey ?Id could not be found",
              r"\b(?:image|AMI|snapshot|certificate|hosted zone|key pair|subnet group|parameter)"
              r"\b.{0,60}(?:does not exist|not found|could not be found|is invalid)",
              r"^Unable to fetch parameters", r"^Invalid \w+ ?(?:id|ID|Id)\b", r"No export named",
              extract=_reason)),
    Rule("internal-failure", FailureMode.UNKNOWN, 20, E_INTERNAL,
         when(r"^Internal ?Failure", r"\bInternalFailure\b", r"\bService ?Unavailable\b",
              r"internal (?:server |service )?error",
              codes=("InternalFailure", "ServiceUnavailable", "InternalError", "ServiceInternalError",
                     "InternalServiceError"))),
    # 11. deleted out of band
    Rule("resource-not-found", FailureMode.RESOURCE_DELETED_OUT_OF_BAND, 50, E_NOT_FOUND,
         when(r"\bdoes ?n[o']t exist\b", r"\bnot found\b", r"could not be found", r"\bno such\b",
              r"\bcannot find\b", r"\bcannot be found\b", r"\bcould not find\b", r"\bNoSuch[A-Z]\w*", r"NotFound",
              codes=("NotFound", "ResourceNotFoundException", "ResourceNotFound", "NoSuchEntity",
                     "NoSuchBucket", "NotFoundException"), extract=_not_found)),
    # 12. summaries and cascades
    Rule("cleanup-delete-failed", FailureMode.UNKNOWN, 12, E_CLEANUP,
         when(r"One or more resources could not be deleted"), confidence="medium"),
    Rule("failure-summary", FailureMode.NESTED_STACK_FAILURE, 15, E_SUMMARY,
         when(r"The following resource\(?s?\)? failed to (?:create|update|delete)", extract=_summary),
         confidence="low", defaults={"logical_ids": "see the message", "operation": "complete"}),
    Rule("cancelled-by-other-failure", FailureMode.UNKNOWN, 5, E_CANCELLED,
         when(r"^Resource (?:creation|update|deletion) cancelled", r"^Resource (?:update|creation) "
              r"cancelled")),
)

FALLBACK = Rule("", FailureMode.UNKNOWN, 0, E_UNKNOWN, lambda msg: {}, confidence="low")


def rule_by_id(rule_id: str) -> Rule:
    for rule in (*RULES, FALLBACK):
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


def first_match(msg: Message) -> tuple[Rule, dict[str, Any]]:
    """The first rule (in catalog order) matching the message, with the fields it extracted."""
    for rule in RULES:
        found = rule.match(msg)
        if found is not None:
            return rule, found
    return FALLBACK, {}


# One typical message per rule: documentation (docs/reference/failure-modes.md) and the
# catalog meta-test (each example must classify to its own rule). Ids and accounts are made up.
EXAMPLES: dict[str, str] = {
    "execution-role-invalid": "Role arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-"
                              "123456789012-us-east-1 is invalid or cannot be assumed",
    "cdk-bootstrap-missing": "Unable to fetch parameters [/cdk-bootstrap/hnb659fds/version] from "
                             "parameter store for this account.",
    "cdk-bootstrap-role-unassumable": "current credentials could not be used to assume "
                                      "'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-"
                                      "123456789012-us-east-1', but are for the right account. "
                                      "Proceeding anyway.",
    "custom-resource-no-response": "CloudFormation did not receive a response from your Custom "
                                   "Resource. Please check your logs for requestId [0b1c...].",
    "custom-resource-failed": "Received response status [FAILED] from custom resource. Message "
                              "returned: Error: boom (RequestId: 0b1c...)",
    "custom-resource-timeout": "Resource timed out waiting for creation of physical resource",
    "custom-resource-provider-failed": "Failed to delete resource. The repository with name 'x' "
                                       "does not exist in the registry with id '1'",
    "artifact-bucket-wrong-region": "Error occurred while GetObject. S3 Error Code: "
                                    "PermanentRedirect. S3 Error Message: The bucket is in this "
                                    "region: us-east-1.",
    "artifact-s3-object-missing": "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 "
                                  "Error Message: The specified key does not exist.",
    "artifact-s3-access-denied": "Your access has been denied by S3, please make sure your request "
                                 "credentials have permission to GetObject for bucket/key.zip. S3 "
                                 "Error Code: AccessDenied. S3 Error Message: Access Denied",
    "template-url-unreadable": "S3 error: Access Denied For more information check "
                               "http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html",
    "artifact-image-missing": "Source image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1 "
                              "does not exist. Provide a valid source image.",
    "artifact-codeuri-missing": "Parameter CodeUri of resource Fn refers to a file or folder that "
                                "does not exist /src/fn",
    "stack-termination-protection": "Stack [prod] cannot be deleted while TerminationProtection is "
                                    "enabled",
    "continue-rollback-on-child": "RollbackUpdatedStack cannot be invoked on child stacks",
    "skip-list-rejected": "Only the resources failed during UpdateRollback are allowed to be skipped",
    "retain-resources-rejected": "The specified resources to retain must be in a valid state. Do "
                                 "not specify resources that are in the DELETE_COMPLETE state.",
    "stack-status-refused": "Stack:arn:aws:cloudformation:us-east-1:123456789012:stack/app/1a2b is "
                            "in UPDATE_ROLLBACK_FAILED state and can not be updated.",
    "no-updates": "No updates are to be performed.",
    "nested-stack-failed": "Embedded stack arn:aws:cloudformation:us-east-1:123456789012:stack/"
                           "app-Db-1AB2/1a2b was not successfully updated. Currently in "
                           "UPDATE_ROLLBACK_FAILED with reason: The following resource(s) failed "
                           "to update: [Table].",
    "bucket-not-empty": "The bucket you tried to delete is not empty (Service: Amazon S3; Status "
                        "Code: 409; Error Code: BucketNotEmpty; Request ID: 1A2B)",
    "container-not-empty": "The repository with name 'app' in registry with id '123456789012' "
                           "cannot be deleted because it still contains images",
    "export-in-use": "Export net:VpcId cannot be deleted as it is in use by app-stack",
    "delete-protection": "Cannot delete protected DB Instance",
    "dependency-violation": "resource sg-0123456789abcdef0 has a dependent object (Service: "
                            "AmazonEC2; Status Code: 400; Error Code: DependencyViolation)",
    "iam-not-authorized": "User: arn:aws:sts::123456789012:assumed-role/Dev/jo is not authorized to "
                          "perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/x",
    "lambda-role-not-assumable": "The role defined for the function cannot be assumed by Lambda.",
    "credentials-invalid": "The security token included in the request is expired",
    "access-denied": 'Resource handler returned message: "Access denied for operation '
                     "'ScheduleKeyDeletion'.\" (RequestToken: 1, HandlerErrorCode: AccessDenied)",
    "not-stabilized": "Resource of type 'AWS::ECS::Service' with identifier 'svc' did not "
                      "stabilize.",
    "insufficient-capacity": "We currently do not have sufficient m5.large capacity in the "
                             "Availability Zone you requested (us-east-1a).",
    "api-throttled": "Rate exceeded (Service: AmazonCloudFormation; Status Code: 400; Error Code: "
                     "Throttling)",
    "limit-exceeded": "The maximum number of VPCs has been reached.",
    "client-token-reused": "A client request token already exists.",
    "already-exists": "orders-table already exists in stack arn:aws:cloudformation:us-east-1:"
                      "123456789012:stack/old/1a2b",
    "requires-capabilities": "Requires capabilities : [CAPABILITY_AUTO_EXPAND]",
    "resource-signal-failure": "Received FAILURE signal with UniqueId i-0123456789abcdef0",
    "stack-not-found": "Stack with id app does not exist",
    "lambda-package-invalid": "Could not unzip uploaded file. Please check your file, then try to "
                              "upload again.",
    "template-invalid": "Template format error: Unresolved resource dependencies [Foo] in the "
                        "Resources block of the template",
    "referenced-object-missing": "Policy arn:aws:iam::aws:policy/Gone does not exist or is not "
                                 "attachable.",
    "internal-failure": "Internal Failure",
    "resource-not-found": 'Resource handler returned message: "Function not found: arn:aws:lambda:'
                          'us-east-1:123456789012:function:fn" (RequestToken: 1, HandlerErrorCode: '
                          "NotFound)",
    "cleanup-delete-failed": "Update successful. One or more resources could not be deleted.",
    "failure-summary": "The following resource(s) failed to delete: [LogsBucket, WebSG].",
    "cancelled-by-other-failure": "Resource update cancelled",
}
