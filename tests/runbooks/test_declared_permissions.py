"""`recover iam-policy` is derived from what the code declares where it calls AWS
(recover.act.needs): the declarations cover the calls, the policy covers the declarations,
the trail sources add their own actions, and a saved plan gets exactly what it needs."""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from recover.act.calls import Call
from recover.act.needs import actions_for_call, actions_for_operation, declared
from recover.act.plan import Plan
from recover.runbooks.document.actions import ACTIONS
from recover.runbooks.document.catalog import load_catalog
from recover.runbooks.document.iam import TRAIL_SOURCES, permissions_of
from recover.runbooks.plan_policy import plan_policy
from recover.runbooks.spec import load
from tests.conftest import run_cli

SERVICES = ("cloudformation", "s3", "iam", "lambda", "cloudtrail", "athena", "ec2", "sts",
            "resourcegroupstaggingapi")
IAM_PREFIX = {"resourcegroupstaggingapi": "tag"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def operations_by_method() -> dict[str, list[tuple[str, str]]]:
    session = botocore.session.get_session()
    out: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        for op in session.get_service_model(service).operation_names:
            out.setdefault(_snake(op), []).append((service, op))
    return out


def called_operations(obj: Any, seen: set[str] | None = None) -> set[str]:
    """Client methods (and paginators) the object's source calls, and those of the functions
    of its own module that it calls (followed, so a helper's calls count)."""
    seen = set() if seen is None else seen
    module = inspect.getmodule(obj)
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute):
            if node.func.attr == "get_paginator" and node.args and \
                    isinstance(node.args[0], ast.Constant):
                names.add(str(node.args[0].value))
            else:
                names.add(node.func.attr)
            target = getattr(obj, node.func.attr, None) if inspect.isclass(obj) else None
        else:
            target = getattr(module, getattr(node.func, "id", ""), None)
        if inspect.isfunction(target) and inspect.getmodule(target) is module \
                and target.__qualname__ not in seen:
            seen.add(target.__qualname__)
            names |= called_operations(target, seen)
    return names


def call_sites() -> list[str]:
    return sorted({u for spec in ACTIONS.values() for u in spec.uses} | set(TRAIL_SOURCES.values()))


@pytest.mark.parametrize("site", call_sites())
def test_each_call_site_declares_what_its_calls_need(site: str) -> None:
    obj = load(site)
    have = set(declared(obj))
    assert have, f"{site} declares nothing"
    by_method = operations_by_method()
    for method in called_operations(obj):
        for service, op in by_method.get(method, []):
            if service in ("sts",):
                continue  # GetCallerIdentity needs no permission
            needed = {a.replace(f"{service}:", f"{IAM_PREFIX[service]}:")
                      if service in IAM_PREFIX else a for a in actions_for_operation(service, op)}
            if needed <= have:
                break
        else:
            if by_method.get(method):
                pytest.fail(f"{site} calls {method} without declaring what it needs")


def _helper(cfn: Any) -> None:
    cfn.get_paginator("list_stack_resources")


def _reads(cfn: Any) -> None:
    cfn.describe_stacks(StackName="x")
    _helper(cfn)


def test_the_declaration_check_follows_helpers_of_the_same_module() -> None:
    assert called_operations(_reads) >= {"describe_stacks", "list_stack_resources"}


def test_iam_action_names_follow_aws_not_the_api() -> None:
    assert actions_for_operation("s3", "ListObjectVersions") == ("s3:ListBucketVersions",)
    assert actions_for_operation("s3", "HeadObject") == ("s3:GetObject",)
    assert set(actions_for_operation("s3", "DeleteObjects")) == {"s3:DeleteObject",
                                                                  "s3:DeleteObjectVersion"}
    assert actions_for_call("cloudformation", "DeleteStack", {"RoleARN": "arn:r"}) == (
        "cloudformation:DeleteStack", "iam:PassRole")


def test_trail_sources_add_their_actions_only_when_chosen() -> None:
    runbooks = load_catalog().runbooks
    base = set(permissions_of(runbooks, ["lookup"]))
    athena = set(permissions_of(runbooks, ["athena"]))
    lake = set(permissions_of(runbooks, ["lake"]))
    assert "athena:StartQueryExecution" not in base and "glue:GetTable" not in base
    assert {"athena:StartQueryExecution", "athena:GetQueryResults", "glue:GetTable"} <= athena
    assert {"cloudtrail:StartQuery", "cloudtrail:GetQueryResults"} <= lake
    assert "cloudtrail:LookupEvents" in base


def test_every_runbook_document_lists_what_its_steps_need() -> None:
    for runbook in load_catalog().runbooks:
        assert set(permissions_of([runbook])) <= set(runbook.permissions), runbook.id


STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/shop/0a1b"
ROLE = "arn:aws:iam::123456789012:role/cfn-exec"


def rollback_plan() -> Plan:
    calls = [
        Call("s3", "CopyObject", {"Bucket": "art", "Key": "fn/a.zip",
                                  "CopySource": "art/fn/a.zip?versionId=v1",
                                  "IfNoneMatch": "*"}, "copy"),
        Call("s3", "PutObject", {"Bucket": "art", "Key": "fn/b.zip", "IfNoneMatch": "*"}, "put"),
        Call("cloudformation", "ContinueUpdateRollback",
             {"StackName": STACK, "RoleARN": ROLE, "ClientRequestToken": "t"}, "continue")]
    return Plan(runbook="rollback-stuck", stack="shop", stack_id=STACK, region="us-east-1",
                account="123456789012", created_at=datetime(2026, 12, 6, tzinfo=UTC),
                preconditions={"root_stack_id": STACK,
                               "stacks": {STACK: {"name": "shop",
                                                  "status": "UPDATE_ROLLBACK_FAILED",
                                                  "last_updated": None}},
                               "failed_resources": []},
                calls=calls, decisions=[], settings={})


def test_a_plan_gets_exactly_its_changes_on_its_resources() -> None:
    policy = plan_policy(rollback_plan())
    changes = {a: st["Resource"] for st in policy["Statement"] if st["Sid"] != "RecoverPlanReads"
               for a in st["Action"]}
    assert changes["cloudformation:ContinueUpdateRollback"] == STACK
    assert changes["iam:PassRole"] == ROLE
    assert sorted(changes["s3:PutObject"]) == ["arn:aws:s3:::art/fn/a.zip",
                                               "arn:aws:s3:::art/fn/b.zip"]
    assert changes["s3:GetObjectVersion"] == "arn:aws:s3:::art/fn/a.zip"
    assert "cloudformation:DeleteStack" not in changes
    reads = next(st for st in policy["Statement"] if st["Sid"] == "RecoverPlanReads")
    assert {"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents"} <= \
        set(reads["Action"]) and reads["Resource"] == "*"


def test_iam_policy_plan_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    rollback_plan().save(path)
    proc = run_cli(["--output", "json", "iam-policy", "--plan", str(path)])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert "cloudformation:ContinueUpdateRollback" in doc["data"]["permissions"]
    assert "cloudformation:DeleteStack" not in doc["data"]["permissions"]
    bad = run_cli(["iam-policy", "--plan", str(path), "rollback-stuck"])
    assert bad.returncode == 2 and "--plan" in bad.stderr and "Traceback" not in bad.stderr
