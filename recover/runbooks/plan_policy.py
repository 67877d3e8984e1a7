"""`recover iam-policy --plan PLAN.json`: the least policy that running exactly this saved plan
needs, for an approved plan run under a narrow role.

- Reads: what the runbook's applier declares it reads (recover.act.needs), on "*" (the reads
  name resources only known at run time: nested stacks, events, key versions).
- Changes: each call of the plan, its IAM actions on the resources it names (the stack's ARN,
  the object's ARN, the role's ARN), and iam:PassRole on the role it hands CloudFormation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from recover.act.calls import Call
from recover.act.needs import actions_for_call, declared, union
from recover.act.plan import Plan
from recover.runbooks import find
from recover.runbooks.document.iam import POLICY_VERSION


def _arn_parts(plan: Plan) -> tuple[str, str, str]:
    """(partition, region, account) from the plan's root stack ARN."""
    parts = plan.stack_id.split(":")
    if len(parts) >= 5 and parts[0] == "arn":
        return parts[1], parts[3], parts[4]
    return "aws", plan.region, plan.account


def _stack_arn(name: str, plan: Plan) -> str:
    if name.startswith("arn:"):
        return name
    partition, region, account = _arn_parts(plan)
    return f"arn:{partition}:cloudformation:{region}:{account}:stack/{name}/*"


def resources_of(call: Call, plan: Plan) -> dict[str, list[str]]:
    """IAM action -> the resources this call touches with it."""
    partition, _, account = _arn_parts(plan)
    p = call.params
    out: dict[str, list[str]] = {}

    def add(actions: tuple[str, ...] | list[str], *arns: str) -> None:
        for a in actions:
            out.setdefault(a, []).extend(arns)

    actions = [a for a in actions_for_call(call.service, call.operation, p) if a != "iam:PassRole"]
    if call.service == "cloudformation":
        add(actions, _stack_arn(str(p.get("StackName")), plan))
    elif call.service == "s3" and call.operation == "CopyObject":
        add(["s3:PutObject"], f"arn:{partition}:s3:::{p['Bucket']}/{p['Key']}")
        source = unquote(str(p.get("CopySource", ""))).split("?", 1)[0].lstrip("/")
        add(["s3:GetObject", "s3:GetObjectVersion"], f"arn:{partition}:s3:::{source}")
    elif call.service == "s3" and "Key" in p:
        add(actions, f"arn:{partition}:s3:::{p['Bucket']}/{p['Key']}")
    elif call.service == "s3":
        add(actions, f"arn:{partition}:s3:::{p['Bucket']}/*")
    elif call.service == "iam" and "RoleName" in p:
        path = str(p.get("Path") or "/")
        add(actions, f"arn:{partition}:iam::{account}:role{path}{p['RoleName']}")
    else:
        add(actions, "*")
    if p.get("RoleARN"):
        add(["iam:PassRole"], str(p["RoleARN"]))
    return out


def plan_policy(plan: Plan) -> dict[str, Any]:
    """The policy document, and what it is made of."""
    spec = find(plan.runbook)
    applier = spec.load_applier() if spec else None
    reads = list(declared(applier)) if applier else []
    changes: dict[str, set[str]] = {}
    for call in plan.calls:
        for action, arns in resources_of(call, plan).items():
            changes.setdefault(action, set()).update(arns)
    # a CreateRole with Tags needs iam:TagRole on the same role
    for call in plan.calls:
        if call.service == "iam" and call.operation == "CreateRole" and call.params.get("Tags"):
            changes.setdefault("iam:TagRole", set()).update(changes.get("iam:CreateRole", ()))
    statements: list[dict[str, Any]] = []
    read_only = [a for a in union([reads]) if a not in changes]
    if read_only:
        statements.append({"Sid": "RecoverPlanReads", "Effect": "Allow", "Action": read_only,
                           "Resource": "*"})
    by_resources: dict[tuple[str, ...], list[str]] = {}
    for action in union([changes]):
        by_resources.setdefault(tuple(sorted(changes[action])), []).append(action)
    for i, (arns, actions) in enumerate(sorted(by_resources.items()), 1):
        statements.append({"Sid": f"RecoverPlanChange{i}", "Effect": "Allow", "Action": actions,
                           "Resource": list(arns) if len(arns) > 1 else arns[0]})
    return {"Version": POLICY_VERSION, "Statement": statements}
