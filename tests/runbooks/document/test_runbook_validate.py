"""Malformed runbook documents give one clear line each (file, path, what is wrong); random
input never crashes the loader."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recover.runbooks.document.errors import RunbookFormatError
from recover.runbooks.document.model import Runbook
from recover.runbooks.document.validate import build, inspect, load_text

SOURCE = "runbooks/demo.yaml"


def good() -> dict[str, Any]:
    """A small valid runbook document (kept independent of the shipped files)."""
    return {
        "id": "demo", "title": "Demo", "version": 1, "summary": "A demo runbook.",
        "failure_modes": ["delete_blocked_dependency"], "applies_to": ["DELETE_FAILED"],
        "permissions": ["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
                        "cloudformation:ListStackResources", "cloudformation:GetTemplate",
                        "iam:GetRole", "cloudformation:DeleteStack", "iam:PassRole"],
        "steps": [
            {"id": "snapshot", "title": "Read", "action": "stack.snapshot", "mutates": False,
             "permissions": ["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
                             "cloudformation:ListStackResources", "cloudformation:GetTemplate",
                             "iam:GetRole"],
             "why": "To know.", "changes": "Nothing.",
             "cli": "aws cloudformation describe-stacks --stack-name <STACK>"},
            {"id": "delete", "title": "Delete", "action": "stack.delete_retaining", "mutates": True,
             "permissions": ["cloudformation:DeleteStack", "iam:PassRole"],
             "requires_status": ["DELETE_FAILED"], "expects_status": ["DELETE_COMPLETE"],
             "why": "To finish.", "changes": "Deletes the stack.", "undo": "Cannot be undone.",
             "confirm": {"kind": "typed", "answer": "<STACK>", "prompt": "Type the name."},
             "flags": ["--yes", "--retain"],
             "cli": "aws cloudformation delete-stack --stack-name <STACK> --retain-resources <ID>"},
        ],
    }


def problems_of(doc: Any) -> list[str]:
    runbook, problems = build(doc, SOURCE)
    if runbook is not None:
        problems = inspect(runbook)
    return [str(p) for p in problems]


def test_the_good_document_is_good() -> None:
    assert problems_of(good()) == []
    rb = load_text(yaml.safe_dump(good()), SOURCE)
    assert isinstance(rb, Runbook)
    assert rb.step("delete").confirm.answer == "<STACK>"  # type: ignore[union-attr]


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set (or with value=DELETE remove) `a.b` / `steps.1.key` in a document."""
    keys = path.split(".")
    target: Any = doc
    for k in keys[:-1]:
        target = target[int(k)] if isinstance(target, list) else target[k]
    last = keys[-1]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


DELETE = object()

BAD_CASES = [
    ("id", DELETE, "runbooks/demo.yaml: (top): missing required key 'id'"),
    ("id", "Demo Runbook", "runbooks/demo.yaml: id: 'Demo Runbook' is not a valid id"),
    ("version", "one", "runbooks/demo.yaml: version: expected a whole number >= 1, got a string"),
    ("version", True, "version: expected a whole number >= 1, got a boolean"),
    ("version", 0, "version: expected a whole number >= 1"),
    ("title", ["x"], "title: expected text, got a list"),
    ("summary", "   ", "summary: must not be empty"),
    ("failure_modes", ["stuck_forever"], "failure_modes[0]: 'stuck_forever' is not a failure mode"),
    ("applies_to", ["UPDATE_ROLLBACK_STUCK"], "applies_to[0]: 'UPDATE_ROLLBACK_STUCK' is not a CloudFormation stack status"),
    ("applies_to", "DELETE_FAILED", "applies_to: expected a list, got a string"),
    ("steps", [], "steps: expected a non-empty list of steps"),
    ("steps", {"id": "x"}, "steps: expected a non-empty list of steps, got a mapping"),
    ("steps.0", "read the stack", "steps[0]: expected a step mapping, got a string"),
    ("steps.0.permissions", DELETE, "steps[0]: missing required key 'permissions'"),
    ("steps.0.permissions", "cloudformation:DescribeStacks", "steps[0].permissions: expected a list, got a string"),
    ("steps.0.permissions", ["DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:ListStackResources", "cloudformation:GetTemplate"],
     "steps[0].permissions[0]: 'DescribeStacks' is not an IAM action"),
    ("steps.0.permissions", ["cloudformation:DescribeStacks"],
     "steps[0].permissions: action 'stack.snapshot' needs cloudformation:DescribeStackEvents, cloudformation:GetTemplate, cloudformation:ListStackResources, iam:GetRole"),
    ("steps.0.mutates", "no", "steps[0].mutates: expected true or false, got a string"),
    ("steps.0.mutates", True, "steps[0].mutates: action 'stack.snapshot' does not change AWS, so mutates must be false"),
    ("steps.0.action", "stack.teleport", "steps[0].action: unknown action 'stack.teleport'"),
    ("steps.0.colour", "blue", "steps[0]: unknown key 'colour'"),
    ("steps.0.cli", DELETE, "steps[0]: a step that calls AWS needs its 'cli' equivalent"),
    ("steps.0.cli", "describe the stacks", "steps[0].cli: expected at least one 'aws ...' command line"),
    ("steps.1.id", "snapshot", "steps[1].id: step id 'snapshot' is used twice"),
    ("steps.1.undo", DELETE, "steps[1]: a step that changes something must say how to undo it"),
    ("steps.1.confirm", DELETE, "steps[1]: a step that changes something needs a 'confirm'"),
    ("steps.1.confirm", "yes", "steps[1].confirm: expected a mapping with kind and prompt, got a string"),
    ("steps.1.confirm.kind", "maybe", "steps[1].confirm.kind: 'maybe' is not a confirmation kind"),
    ("steps.1.confirm.answer", DELETE, "steps[1].confirm: missing required key 'answer'"),
    ("steps.1.flags", [], "steps[1].flags: a confirmed step names the flags that settle it"),
    ("steps.1.flags", ["yes"], "steps[1].flags[0]: 'yes' is not a command-line flag"),
    ("steps.1.requires_status", ["DELETE_FAILD"], "steps[1].requires_status[0]: 'DELETE_FAILD' is not a CloudFormation stack status"),
    ("steps.1.handover", {"DELETE_FAILED": "other"}, "steps[1].handover: only action 'runbook.handover' hands over"),
    ("permissions", ["cloudformation:DescribeStacks"], "permissions: missing the steps' permissions: cloudformation:DeleteStack"),
    ("permissions.5", "s3:PutObject", None),  # appended below
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_CASES[:-1],
                         ids=[f"{p}={v if v is not DELETE else 'deleted'}" for p, v, _ in BAD_CASES[:-1]])
def test_bad_documents_name_file_path_and_problem(path: str, value: Any, expected: str) -> None:
    doc = good()
    _set(doc, path, value)
    problems = problems_of(doc)
    assert any(expected in p for p in problems), problems
    with pytest.raises(RunbookFormatError) as info:
        load_text(yaml.safe_dump(doc), SOURCE)
    message = info.value.message
    assert "\n" not in message and message.startswith(SOURCE)


def test_extra_runbook_permission_is_reported() -> None:
    doc = good()
    doc["permissions"].append("s3:PutObject")
    assert problems_of(doc) == ["runbooks/demo.yaml: permissions: lists permissions no step declares: s3:PutObject"]


def test_handover_step_needs_targets_and_not_itself() -> None:
    doc = good()
    doc["steps"].append({"id": "next", "title": "Next", "action": "runbook.handover",
                         "mutates": False, "permissions": [], "why": "w", "changes": "c",
                         "handover": {"DELETE_FAILED": "demo"}})
    assert any("cannot hand over to itself" in p for p in problems_of(doc))
    doc["steps"][-1]["handover"] = {"NOT_A_STATUS": "other"}
    assert any("'NOT_A_STATUS' is not a CloudFormation stack status" in p for p in problems_of(doc))


def test_read_only_runbook_is_rejected() -> None:
    doc = good()
    doc["steps"] = doc["steps"][:1]
    doc["permissions"] = doc["steps"][0]["permissions"]
    assert any("at least one step that changes something" in p for p in problems_of(doc))


def test_every_problem_is_listed_and_counted() -> None:
    doc = good()
    doc["version"] = "x"
    doc["applies_to"] = ["NOPE"]
    with pytest.raises(RunbookFormatError) as info:
        load_text(yaml.safe_dump(doc), SOURCE)
    assert len(info.value.problems) == 2
    assert info.value.message.endswith("(and 1 more problem)")
    assert info.value.exit_code == 2 and info.value.code == "bad_runbook"


@pytest.mark.parametrize(("text", "expected"), [
    ("id: [unclosed", "runbooks/demo.yaml: line 1, column 14: not valid YAML: expected ',' or ']'"),
    ("id: demo\n  title: x\n bad", "not valid YAML"),
    ("- just\n- a list", "expected a runbook mapping (id, title, steps...), got a list"),
    ("", "expected a runbook mapping (id, title, steps...), got nothing"),
    ("just words", "got a string"),
    ("version: 2001-13-45", "not valid YAML"),
    ("!!python/object:os.system {}", "not valid YAML"),
])
def test_unparseable_text_gives_one_line(text: str, expected: str) -> None:
    with pytest.raises(RunbookFormatError) as info:
        load_text(text, SOURCE)
    assert expected in info.value.message
    assert "\n" not in info.value.message


def _assert_clean_outcome(text: str) -> None:
    try:
        load_text(text, SOURCE)
    except RunbookFormatError as err:
        assert err.message and "\n" not in err.message
        assert all(str(p).startswith(SOURCE) for p in err.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{}!&*|>'\"#\n\t 0123456789.?,%@`~\\")),
               max_size=80))
def test_random_yamlish_text_never_crashes(text: str) -> None:
    _assert_clean_outcome(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_random_unicode_text_never_crashes(text: str) -> None:
    _assert_clean_outcome(text)


_SCALARS = (st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
            | st.text(max_size=12) | st.sampled_from(["DELETE_FAILED", "manual", "s3:GetObject",
                                                       "stack.snapshot", "--yes", "typed"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)
_KEYS = st.sampled_from(["id", "title", "version", "summary", "failure_modes", "applies_to",
                         "permissions", "steps"])
_STEP_KEYS = st.sampled_from(["id", "title", "action", "mutates", "permissions", "why", "changes",
                              "undo", "cli", "requires_status", "expects_status", "confirm",
                              "flags", "handover"])


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_random_structures_never_crash(data: Any) -> None:
    _assert_clean_outcome(yaml.safe_dump(data))


@settings(max_examples=300, deadline=None)
@given(key=_KEYS, step_key=_STEP_KEYS, step=st.integers(0, 1), value=_VALUES,
       in_step=st.booleans(), delete=st.booleans())
def test_mutated_documents_fail_cleanly_or_stay_valid(key: str, step_key: str, step: int, value: Any,
                                                      in_step: bool, delete: bool) -> None:
    doc = copy.deepcopy(good())
    target = doc["steps"][step] if in_step else doc
    name = step_key if in_step else key
    if delete:
        target.pop(name, None)
    else:
        target[name] = value
    _assert_clean_outcome(yaml.safe_dump(doc))
    required_top = {"id", "title", "version", "summary", "failure_modes", "applies_to",
                    "permissions", "steps"}
    if delete and not in_step and name in required_top:
        assert problems_of(doc)  # removing a required key is always a problem
