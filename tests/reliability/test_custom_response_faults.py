"""The custom resource's answer under faults (issue 17 part 2): its one change is an HTTP PUT to
the pre-signed ResponseURL, not a botocore call, so no SDK retries it. The sandbox's faults
target that PUT ("cloudformation-response:PutCustomResourceResponse"); recover sends the same
document again after no answer, a 500 or a 503, and CloudFormation acts on it once."""

from __future__ import annotations

from pathlib import Path

import pytest

from recover.run.exit_codes import ExitCode
from recover.sandbox.cfn.custom import FAULT_KEY
from tests.reliability.test_fault_matrix import RUNBOOKS, call_entries, final_status, recover

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fault", ["connection_reset", "answer_lost", "server_error",
                                   "throttle"])
def test_the_response_put_is_sent_again_and_read_once(sandbox, tmp_path: Path,
                                                      fault: str) -> None:
    rb = RUNBOOKS["custom-resource"]
    sb = sandbox(rb.scenario)
    getattr(sb.world, fault)(FAULT_KEY, 100.0, times=2)
    code, env, err = recover(sb, tmp_path, *rb.args)
    fired = sb.world.faults.fired[(fault, FAULT_KEY)]
    sb.world.faults.clear()
    assert fired == 2
    assert code == ExitCode.OK, err
    assert final_status(sb, rb.stack) == rb.final_status
    assert len(sb.world.faults.arrivals(FAULT_KEY)) == 3
    # CloudFormation read one response (answer_lost: the first PUT's; the rest were stored only)
    assert len(sb.world.custom.answered) == 1
    [before, after] = call_entries(env, tmp_path)  # one change, journaled once
    assert after["ok"] is True and after["response"]["Attempts"] == 3


def test_no_answer_after_every_attempt_is_one_line_and_in_doubt(sandbox, tmp_path: Path) -> None:
    rb = RUNBOOKS["custom-resource"]
    sb = sandbox(rb.scenario)
    sb.world.connection_reset(FAULT_KEY, 100.0)
    code, env, err = recover(sb, tmp_path, *rb.args)
    sb.world.faults.clear()
    assert code == ExitCode.ERROR, err
    [error] = env["errors"]
    assert error["code"] == "no_answer" and "5 attempts" in error["message"]
    assert "\n" not in error["message"]
    assert len(sb.world.faults.arrivals(FAULT_KEY)) == 5
    [_, after] = call_entries(env, tmp_path)
    assert after["ok"] is False and after["error"]["code"] == "NoAnswer"
