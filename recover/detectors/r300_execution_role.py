"""R300: the stack's service role (RoleARN) is gone or no longer trusts CloudFormation.

Every operation on such a stack fails with `Role <arn> is invalid or cannot be assumed`
(docs/reference/aws-behaviour.md#service-roles-rolearn), so this is detected from iam:GetRole before any CloudFormation call,
and also recognised in stack status reasons and events.
"""

from __future__ import annotations

import re

from recover.cdk.bootstrap import EXEC_ROLE_NAME_PATTERN
from recover.decide.findings import Finding
from recover.detectors._common import Classifier
from recover.explain.taxonomy import EXECUTION_ROLE_MISSING, FailureMode
from recover.model.stack import StackSnapshot

ID = "R300"
TITLE = "Stack service role missing or not assumable"
PERMISSIONS = ("cloudformation:DescribeStacks", "iam:GetRole")

CDK_EXEC_ROLE = EXEC_ROLE_NAME_PATTERN  # any qualifier (bootstrap template v32, docs/reference/aws-behaviour.md#cdk-bootstrap)
ROLE_MESSAGE = re.compile(r"Role (arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+) is invalid or "
                          r"cannot be assumed")


def detect(snapshot: StackSnapshot, classify: Classifier) -> list[Finding]:
    findings: list[Finding] = []
    reported: set[str] = set()
    for node in snapshot.nodes:
        arn = node.info.role_arn
        check = snapshot.role(arn) if arn else None
        texts = [node.info.status_reason] + [e.reason for e in node.events[-50:]] + (
            [e.message for e in node.operations.failed] if node.operations else [])
        seen_in_messages = next((m.group(1) for t in texts if t
                                 for m in [ROLE_MESSAGE.search(t)] if m), None)
        if check and check.state in ("missing", "untrusting", "other_path"):
            problem = check.detail or check.state
        elif seen_in_messages and not (check and check.state == "exists"):
            arn = arn or seen_in_messages
            problem = "CloudFormation reported it as invalid or not assumable"
        else:
            continue
        if (node.stack_id, arn) in reported:
            continue
        reported.add((node.stack_id, arn))
        name = arn.rsplit("/", 1)[-1]
        cdk = CDK_EXEC_ROLE.match(name)
        path = "/" + arn.split(":role/", 1)[-1].rpartition("/")[0] + "/" if ":role/" in arn else "/"
        extracted = {"role_arn": arn, "role_name": name, "role_path": path.replace("//", "/"),
                     "cdk": bool(cdk), "role_state": check.state if check else "reported"}
        if cdk:
            extracted["qualifier"] = cdk.group("qualifier")
        findings.append(Finding(
            detector=ID, failure_mode=FailureMode.EXECUTION_ROLE_MISSING, stack_name=node.name,
            stack_id=node.stack_id, status=node.info.status,
            reason=f"service role {arn}: {problem}", runbook=EXECUTION_ROLE_MISSING,
            explanation=_explain(node.name, name, problem, check.state if check else "",
                                 bool(cdk)),
            depth=node.depth, extracted=extracted, rule="role-check"))
    return findings


def _explain(stack: str, role: str, problem: str, state: str, cdk: bool) -> str:
    """Deleted and "exists but cannot be assumed" are different repairs: say which."""
    failing = ("Every update, rollback or delete will fail with 'Role ... is invalid or cannot "
               "be assumed' until ")
    if state == "untrusting":
        text = (f"Stack {stack} runs its operations as {role}, which exists but cannot be "
                f"assumed by CloudFormation ({problem}). {failing}its trust policy lets "
                "cloudformation.amazonaws.com assume it: `recover bootstrap-role "
                f"{stack} --fix-trust` adds one statement and keeps every other "
                "(docs/reference/aws-behaviour.md#service-roles-rolearn).")
    elif state == "missing" or "NoSuchEntity" in problem:
        text = (f"Stack {stack} runs its operations as {role}, which was deleted (it no longer "
                f"exists). {failing}a role with that name exists again and trusts "
                "cloudformation.amazonaws.com "
                "(docs/reference/aws-behaviour.md#service-roles-rolearn).")
    else:
        text = (f"Stack {stack} runs its operations as {role}, which cannot be assumed "
                f"({problem}). {failing}a role at that ARN exists and trusts "
                "cloudformation.amazonaws.com "
                "(docs/reference/aws-behaviour.md#service-roles-rolearn).")
    if cdk:
        text += (" It is the CDK bootstrap execution role: the CDKToolkit stack was probably "
                 "deleted before the app stacks." if state != "untrusting" else
                 " It is the CDK bootstrap execution role.")
    return text
