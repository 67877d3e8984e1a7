"""express-failed's planner (pure): the EXPRESS UpdateStack that replays the stable template,
what it changes back, and what stays open (docs/reference/aws-behaviour.md#express-deployment-mode)."""

from __future__ import annotations

import json
from typing import Any

from recover.decide.express_plan import MAX_BODY, diff_templates, is_express_wedge, plan_replay
from recover.model.stack import StackInfo, StackNode, StackSnapshot
from tests.builders import NodeBuilder, snapshot


def wedge(**info: Any) -> StackSnapshot:
    snap = snapshot(NodeBuilder("orders", "UPDATE_FAILED", deployment_mode="EXPRESS"))
    root = snap.nodes[0]
    fields = {**root.info.to_dict(), "parameters": {"Stage": "prod"},
              "capabilities": ["CAPABILITY_IAM"], **info}
    node = StackNode(info=StackInfo.from_dict(fields), resources=root.resources,
                     events=root.events)
    return StackSnapshot(root_id=snap.root_id, nodes=(node,), taken_at=snap.taken_at,
                         region=snap.region, account=snap.account)


STABLE = {"Parameters": {"Stage": {"Type": "String"}, "Size": {"Type": "Number", "Default": 1}},
          "Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"K": "id"}},
                        "Gone": {"Type": "AWS::SQS::Queue"}}}
CURRENT = {"Parameters": {"Stage": {"Type": "String"}},
           "Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"K": "t"}},
                         "New": {"Type": "AWS::SNS::Topic"}}}


def test_the_replay_is_an_express_update_with_previous_values_and_the_stacks_capabilities() -> None:
    snap = wedge()
    assert is_express_wedge(snap)
    plan = plan_replay(snap, source="stable.json", body=json.dumps(STABLE), stable=STABLE,
                       current=CURRENT)
    assert not plan.undecided and not plan.problems
    assert plan.params["DeploymentConfig"] == {"Mode": "EXPRESS"}
    # Stage keeps its value; Size is new with a Default: not sent
    assert plan.params["Parameters"] == [{"ParameterKey": "Stage", "UsePreviousValue": True}]
    assert plan.params["Capabilities"] == ["CAPABILITY_IAM"]
    assert plan.params["StackName"] == snap.root_id
    assert "RoleARN" not in plan.params and "DisableRollback" not in plan.params
    assert plan.diff.to_dict() == {"changed": ["Table"], "added": ["Gone"], "removed": ["New"],
                                   "parameters": ["Size"]}
    assert [d.action for d in plan.decisions] == ["replay"]


def test_without_a_template_the_plan_asks_for_the_flag() -> None:
    plan = plan_replay(wedge(), source=None, body=None, stable=None, current=CURRENT)
    assert [u.flags for u in plan.undecided] == [("--template",)]
    assert not plan.params


def test_a_parameter_without_a_value_or_default_and_an_oversized_body_are_problems() -> None:
    stable = {"Parameters": {"Secret": {"Type": "String"}}, "Resources": STABLE["Resources"]}
    body = json.dumps(stable) + " " * MAX_BODY
    plan = plan_replay(wedge(), source="s", body=body, stable=stable, current=CURRENT)
    assert any("Secret" in p for p in plan.problems)
    assert any("TemplateBody limit" in p for p in plan.problems)


def test_a_standard_update_failed_stack_is_no_express_wedge() -> None:
    assert not is_express_wedge(snapshot(NodeBuilder("s", "UPDATE_FAILED",
                                                     deployment_mode="STANDARD")))
    assert not is_express_wedge(snapshot(NodeBuilder("s", "UPDATE_COMPLETE",
                                                     deployment_mode="EXPRESS")))


def test_identical_templates_make_an_empty_diff() -> None:
    diff = diff_templates(STABLE, STABLE)
    assert diff.empty and "equals" in diff.lines()[0]
