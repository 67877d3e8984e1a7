"""Every setting an applier reads is checked before anything is read from AWS (found by the
property test: a bootstrap-role plan with `artifact_sources: NaN` crashed the applier)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from recover.act.calls import Call
from recover.act.plan import Plan
from recover.run.errors import InputError
from recover.runbooks.plan_check import check_plan

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0a1b"


def role_plan(**settings: Any) -> Plan:
    return Plan(runbook="bootstrap-role", stack="app", stack_id=STACK, region="us-east-1",
                account="123456789012", created_at=datetime(2026, 12, 6, tzinfo=UTC),
                preconditions={"root_stack_id": STACK,
                               "stacks": {STACK: {"name": "app", "status": "DELETE_FAILED",
                                                  "last_updated": None}},
                               "failed_resources": [],
                               "roles": {"arn:aws:iam::123456789012:role/exec": "missing"}},
                calls=[Call("cloudformation", "DeleteStack",
                            {"StackName": STACK, "ClientRequestToken": "t"}, "delete")],
                decisions=[], settings={"then": "delete", **settings})


@pytest.mark.parametrize(("key", "value"), [("artifact_sources", float("nan")),
                                            ("artifact_sources", "file:a=b"),
                                            ("trail", 5)])
def test_a_bad_setting_is_refused_in_one_line(key: str, value: Any) -> None:
    with pytest.raises(InputError, match=f"settings.{key}"):
        check_plan(role_plan(**{key: value}))


def test_good_settings_pass() -> None:
    check_plan(role_plan(artifact_sources=["file:a=b"], trail=None))
    check_plan(role_plan(artifact_sources=None, trail="s3://trail"))


def test_trust_documents_are_checked() -> None:
    arn = "arn:aws:iam::123456789012:role/exec"
    check_plan(role_plan(restore_trust_after=True,
                         trust={arn: {"before": {"Statement": []}, "fixed": {"Statement": []}}}))
    for bad in ("x", {arn: {"before": "{}", "fixed": {}}}, {arn: None}):
        with pytest.raises(InputError, match="settings.trust"):
            check_plan(role_plan(trust=bad))
    with pytest.raises(InputError, match="settings.restore_trust_after"):
        check_plan(role_plan(restore_trust_after="yes"))
