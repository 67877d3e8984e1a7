"""Plan the recreation of a deleted stack service role (pure: no AWS call, no boto3).

Facts: CloudFormation finds the role by its ARN, so name AND path must be the same, and the
trust must let cloudformation.amazonaws.com call sts:AssumeRole (docs/reference/aws-behaviour.md#service-roles-rolearn). For the
CDK bootstrap execution role, trust and policies follow the bootstrap template v32 (docs/reference/aws-behaviour.md#cdk-bootstrap,
recover/cdk/bootstrap.py); any other service role gets the same CloudFormation trust and the
policies the engineer names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from recover.cdk import bootstrap as cdk

ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role"
                      r"(?P<path>/(?:[\x21-\x7e]*/)?)(?P<name>[\w+=,.@-]{1,64})$")
POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?:aws|\d{12}):policy/[\w+=,.@/-]{1,512}$")
POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
# IAM tag values: letters, digits, spaces and _.:/=+-@, at most 256 characters.
_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]")

# Tags that mark a role as created by recover (checked before recover deletes a role).
TAG_CREATED_BY = "recover:created-by"
TAG_CREATED_BY_VALUE = "recover"
TAG_REASON = "recover:reason"
TAG_RUN_ID = "recover:run-id"
TAG_STACK = "recover:stack"

# What can be done once the role exists again, per stack status (docs/reference/aws-behaviour.md#stack-statuses).
THEN_DELETE = "delete"
THEN_CONTINUE = "continue-rollback"
THEN_NOTHING = "nothing"
THEN_CHOICES = (THEN_DELETE, THEN_CONTINUE, THEN_NOTHING)


class RolePlanError(ValueError):
    """A request that cannot be planned (bad ARN, wrong qualifier...): one line for people."""


@dataclass(frozen=True)
class RoleTarget:
    """The role a stack names in its RoleARN, taken apart."""

    arn: str
    name: str
    path: str
    account: str
    partition: str
    qualifier: str = ""  # set for a CDK execution role name
    region: str = ""  # the region in a CDK role name

    @property
    def cdk(self) -> bool:
        return bool(self.qualifier)


def parse_role_arn(arn: str) -> RoleTarget:
    """`arn:aws:iam::123456789012:role/some/path/name` → name `name`, path `/some/path/`."""
    m = ROLE_ARN.match(arn or "")
    if not m:
        raise RolePlanError(f"not an IAM role ARN: {arn!r}")
    name = m.group("name")
    c = cdk.EXEC_ROLE_NAME_PATTERN.match(name)
    return RoleTarget(arn=arn, name=name, path=m.group("path"), account=m.group("account"),
                      partition=m.group("partition"),
                      qualifier=c.group("qualifier") if c else "",
                      region=c.group("region") if c else "")


@dataclass(frozen=True)
class RoleRequest:
    """What the engineer asked for (flags or answers)."""

    stack_name: str
    run_id: str
    qualifier: str | None = None
    policy_arns: tuple[str, ...] = ()
    permissions_boundary: str | None = None  # a policy ARN or a policy name in the account


@dataclass(frozen=True)
class RolePlan:
    target: RoleTarget
    trust_policy: dict[str, Any]
    managed_policy_arns: tuple[str, ...]
    permissions_boundary: str | None
    tags: tuple[tuple[str, str], ...]
    description: str
    source: str  # where trust and policies come from, for people
    warnings: tuple[str, ...] = ()
    follow_up: str = ""  # the long-term fix (cdk bootstrap command, or IaC)
    notes: tuple[str, ...] = field(default=())

    def trust_json(self) -> str:
        return json.dumps(self.trust_policy, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {"role_arn": t.arn, "role_name": t.name, "path": t.path, "account": t.account,
                "cdk": t.cdk, "qualifier": t.qualifier or None,
                "trust_policy": self.trust_policy,
                "managed_policy_arns": list(self.managed_policy_arns),
                "permissions_boundary": self.permissions_boundary,
                "tags": dict(self.tags), "description": self.description,
                "source": self.source, "warnings": list(self.warnings),
                "follow_up": self.follow_up, "notes": list(self.notes)}


def tag_value(text: str) -> str:
    return _TAG_UNSAFE.sub(" ", text)[:256].strip()


def recover_tags(stack_name: str, run_id: str, reason: str) -> tuple[tuple[str, str], ...]:
    return ((TAG_CREATED_BY, TAG_CREATED_BY_VALUE), (TAG_REASON, tag_value(reason)),
            (TAG_RUN_ID, tag_value(run_id)), (TAG_STACK, tag_value(stack_name)))


def created_by_recover(tags: Sequence[tuple[str, str]] | dict[str, str]) -> bool:
    """Only a role carrying recover's marker tag may be deleted by recover."""
    items = tags.items() if isinstance(tags, dict) else tags
    return any(k == TAG_CREATED_BY and v == TAG_CREATED_BY_VALUE for k, v in items)


def resolve_boundary(value: str | None, target: RoleTarget) -> str | None:
    """A boundary ARN as given, or a policy name expanded the way the bootstrap template
    expands InputPermissionsBoundary (a customer managed policy in the same account)."""
    if not value:
        return None
    if value.startswith("arn:"):
        if not POLICY_ARN.match(value):
            raise RolePlanError(f"--permissions-boundary {value!r} is not an IAM policy ARN")
        return value
    if not POLICY_NAME.match(value):
        raise RolePlanError(f"--permissions-boundary {value!r} is neither a policy ARN nor a "
                            "policy name")
    return cdk.boundary_arn(value, target.account, target.partition)


def plan_role(target: RoleTarget, request: RoleRequest) -> RolePlan:
    """The role to create. Raises RolePlanError for a request that does not fit the role, and
    for a non-CDK role without policies (nothing to infer them from: the engineer decides)."""
    for arn in request.policy_arns:
        if not POLICY_ARN.match(arn):
            raise RolePlanError(f"--policy-arn {arn!r} is not an IAM policy ARN "
                                "(arn:aws:iam::aws:policy/NAME or arn:aws:iam::ACCOUNT:policy/NAME)")
    if request.qualifier is not None:
        if not cdk.QUALIFIER_PATTERN.match(request.qualifier):
            raise RolePlanError(f"--qualifier {request.qualifier!r}: a CDK qualifier is 1 to 10 "
                                "letters, digits, '_' or '-' (bootstrap template AllowedPattern)")
        if not target.cdk:
            raise RolePlanError(f"--qualifier {request.qualifier}: the stack's role {target.name} "
                                "is not a CDK bootstrap execution role "
                                "(cdk-<qualifier>-cfn-exec-role-<account>-<region>)")
        if request.qualifier != target.qualifier:
            raise RolePlanError(f"--qualifier {request.qualifier} does not match the stack's role "
                                f"{target.name} (qualifier {target.qualifier})")
    boundary = resolve_boundary(request.permissions_boundary, target)
    unique_id = ("A recreated role gets a new unique id (AROA...): resource policies that named "
                 "the old role (S3 bucket policies, KMS key policies, other roles' trust "
                 "policies) were bound to the old id and stay broken until they are saved again "
                 "naming the role ARN.")
    if target.cdk:
        policies = tuple(request.policy_arns) or (cdk.default_exec_policy(target.partition),)
        source = (f"CDK bootstrap template v{cdk.TEMPLATE_VERSION} (CloudFormationExecutionRole)"
                  + ("; policies named with --policy-arn" if request.policy_arns else ""))
        boundary_name = boundary.rsplit("/", 1)[-1] if boundary else None
        follow = cdk.bootstrap_command(target.account, target.region, target.qualifier,
                                       request.policy_arns, boundary_name)
        warnings = (unique_id,
                    "AWS advises re-bootstrapping rather than hand-made bootstrap roles: once "
                    "the blocked operation is done, delete this temporary role (cdk bootstrap "
                    "creates a role of the same name and fails while this one exists), then "
                    f"run: {follow}")
        notes: tuple[str, ...] = ()
        if not request.policy_arns:
            notes = ("AdministratorAccess is what the bootstrap template attaches when no "
                     "CloudFormationExecutionPolicies were given; name narrower policies with "
                     "--policy-arn if the bootstrap used them.",)
        if target.qualifier != cdk.DEFAULT_QUALIFIER:
            notes += (f"Custom qualifier {target.qualifier}: the app must keep "
                      f"\"@aws-cdk/core:bootstrapQualifier\": \"{target.qualifier}\" in cdk.json.",)
    else:
        if not request.policy_arns:
            raise RolePlanError(f"{target.name} is not a CDK bootstrap role: recover cannot know "
                                "its permissions; name them with --policy-arn (repeatable)")
        policies = tuple(request.policy_arns)
        source = "trust to CloudFormation; policies named with --policy-arn"
        follow = ("recreate the role from its source of truth (its own template or IaC), then "
                  "delete this temporary role")
        warnings = (unique_id, "This role is a stand-in made by hand: " + follow + ".")
        notes = ()
    reason = f"bootstrap-role: service role of stack {request.stack_name} was deleted"
    description = (f"Recreated by recover for stack {request.stack_name} (its service role was "
                   f"deleted). Temporary; run {request.run_id[:8]}.")
    return RolePlan(target=target, trust_policy=json.loads(json.dumps(cdk.EXEC_ROLE_TRUST)),
                    managed_policy_arns=policies, permissions_boundary=boundary,
                    tags=recover_tags(request.stack_name, request.run_id, reason),
                    description=description, source=source, warnings=warnings,
                    follow_up=follow, notes=notes)


def then_choices(status: str, termination_protection: bool = False) -> list[tuple[str, str]]:
    """(value, why) of the operations that make sense from `status` once the role is back."""
    out: list[tuple[str, str]] = []
    if status == "UPDATE_ROLLBACK_FAILED":
        out.append((THEN_CONTINUE, "continue the rollback (hands over to rollback-stuck)"))
    if not status.endswith("_IN_PROGRESS") and status != "DELETE_COMPLETE" \
            and not termination_protection:
        out.append((THEN_DELETE, "delete the stack (DeleteStack; its resources are deleted "
                                 "unless their DeletionPolicy retains them)"))
    out.append((THEN_NOTHING, "nothing now: leave the role for a later deploy or delete"))
    return out


def then_error(then: str, status: str, termination_protection: bool = False) -> str | None:
    """Why `then` cannot run from `status`, or None."""
    allowed = [v for v, _ in then_choices(status, termination_protection)]
    if then in allowed:
        return None
    if then == THEN_CONTINUE:
        return (f"--then {then}: the stack is {status}; a rollback can be continued only from "
                "UPDATE_ROLLBACK_FAILED (docs/reference/aws-behaviour.md#stack-statuses)")
    if then == THEN_DELETE and termination_protection:
        return (f"--then {then}: termination protection is enabled on the stack; disable it "
                "first (aws cloudformation update-termination-protection "
                "--no-enable-termination-protection)")
    return f"--then {then}: not possible while the stack is {status}"
