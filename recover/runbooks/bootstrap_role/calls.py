"""bootstrap-role: the calls it makes (CreateRole, AttachRolePolicy, DeleteStack, removal),
built from plans and live reads. Every call of the runbook is built here."""

from __future__ import annotations

import json
from typing import Any

from recover.act.calls import Call
from recover.aws.iam_roles import (
    attached_policies,
    inline_policies,
)
from recover.decide import role_plan as rp
from recover.model.stack import StackSnapshot
from recover.run.context import RunContext
from recover.run.resume import (
    PriorRuns,
    token_to_reuse,
)
from recover.runbooks.bootstrap_role.roles import REMOVE_OPS, RoleOutcome


def role_calls(plan: rp.RolePlan) -> list[Call]:
    t = plan.target
    params: dict[str, Any] = {"RoleName": t.name, "Path": t.path,
                              "AssumeRolePolicyDocument": plan.trust_json(),
                              "Description": plan.description}
    if plan.permissions_boundary:
        params["PermissionsBoundary"] = plan.permissions_boundary
    params["Tags"] = [{"Key": k, "Value": v} for k, v in plan.tags]
    calls = [Call("iam", "CreateRole", params,
                  f"recreate {t.name} under path {t.path}, trusting cloudformation.amazonaws.com "
                  f"({plan.source})")]
    for arn in plan.managed_policy_arns:
        calls.append(Call("iam", "AttachRolePolicy", {"RoleName": t.name, "PolicyArn": arn},
                          f"attach {arn} to {t.name}"))
    return calls


def trust_call(name: str, document: dict[str, Any], why: str) -> Call:
    """UpdateAssumeRolePolicy replaces the whole trust document (the fix or the original)."""
    return Call("iam", "UpdateAssumeRolePolicy",
                {"RoleName": name, "PolicyDocument": json.dumps(document, separators=(",", ":"))},
                why)


def operation_call(snap: StackSnapshot, then: str, run_id: str, prior: PriorRuns,
                    tokens: set[str]) -> Call | None:
    if then != rp.THEN_DELETE:
        return None
    params = {"StackName": snap.root_id}
    # The same DeleteStack left in doubt by an earlier run goes again with its token.
    token = token_to_reuse(prior, "DeleteStack", params, tokens)
    params["ClientRequestToken"] = token or f"recover-{run_id[:8]}-delete"
    return Call("cloudformation", "DeleteStack", params,
                f"delete {snap.root.name} (the operation the missing role blocked)")


def finish_roles_calls(rc: RunContext, prior: PriorRuns,
                        ours: list[RoleOutcome]) -> list[Call]:
    """A role an earlier run created but stopped before attaching all its policies: the
    AttachRolePolicy calls still missing, from the plan that run saved (role-plans.json)."""
    planned: dict[str, list[str]] = {}
    for _, plans in prior.files("role-plans"):
        for p in plans if isinstance(plans, list) else []:
            if isinstance(p, dict) and isinstance(p.get("managed_policy_arns"), list):
                planned[str(p.get("role_name"))] = [str(a) for a in p["managed_policy_arns"]]
    iam = rc.aws.client("iam")
    calls: list[Call] = []
    removing = {str(c.params.get("RoleName")) for op in REMOVE_OPS for c in prior.started(op)}
    for o in ours:
        if o.name not in planned or o.name in removing:  # never re-grant during clean-up
            continue
        attached = set(attached_policies(iam, o.name))
        calls += [Call("iam", "AttachRolePolicy", {"RoleName": o.name, "PolicyArn": arn},
                       f"attach {arn} to {o.name} (planned by the earlier run, not yet done)")
                  for arn in planned[o.name] if arn not in attached]
    return calls


def removal_calls(rc: RunContext, name: str) -> list[Call]:
    """Detach every managed policy, delete every inline policy, then delete the role (IAM
    refuses DeleteRole while policies are attached)."""
    iam = rc.aws.client("iam")
    calls: list[Call] = []
    for arn in attached_policies(iam, name):
        calls.append(Call("iam", "DetachRolePolicy", {"RoleName": name, "PolicyArn": arn},
                          f"detach {arn} from the temporary role"))
    for policy in inline_policies(iam, name):
        calls.append(Call("iam", "DeleteRolePolicy", {"RoleName": name, "PolicyName": policy},
                          f"delete inline policy {policy} of the temporary role"))
    calls.append(Call("iam", "DeleteRole", {"RoleName": name},
                      f"delete the temporary role {name} (created by recover)"))
    return calls


def planned_removal_calls(plans: list[rp.RolePlan]) -> list[Call]:
    """What removal will be for roles not created yet (a dry run), given each role as planned."""
    calls: list[Call] = []
    for p in plans:
        calls += [Call("iam", "DetachRolePolicy", {"RoleName": p.target.name, "PolicyArn": arn},
                       f"detach {arn} from the temporary role") for arn in p.managed_policy_arns]
        calls.append(Call("iam", "DeleteRole", {"RoleName": p.target.name},
                          f"delete the temporary role {p.target.name} (created by recover; its "
                          "tags are checked first)"))
    return calls
