"""Bad input on the command line (issue 9, part 4): every runbook command, run as a subprocess
against a served sandbox, with a wrong stack name, a wrong region, a stack in a state the
runbook does not handle, malformed --skip/--retain values, an unusable evidence dir, numeric
nonsense and bad option values. Each case must end with one error line (stderr in human mode,
the envelope's one error with --output json), the documented exit code, no traceback, no
mutating call in any journal, and the world unchanged (stack statuses, object versions, roles).

The cases of one scenario run concurrently against one sandbox (they must not change it, which
the end-of-batch check of the world proves), in batches run once per session (tests/once.py);
each case is then checked as its own test.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from tests.conftest import run_cli
from tests.once import once, selected
from tests.reliability.test_fault_matrix import world_state

pytestmark = pytest.mark.e2e

LONG = "a" * 10_000
UNICODE = "Ünïcødé-🙂"
OTHER_REGION = "eu-north-1"  # the sandbox's world lives in us-east-1 only


@dataclass(frozen=True)
class Case:
    id: str
    scenario: str
    args: tuple[str, ...]
    exit: int
    code: str  # the envelope's error code
    words: str  # in the error message
    output: str = "json"
    setup: str = ""  # "evidence-file": --evidence-dir is an existing file; "evidence-000"...
    global_args: tuple[str, ...] = ()


U, NF, FF, ERR = ExitCode.USAGE, ExitCode.NOT_FOUND, ExitCode.FAILURE_FOUND, ExitCode.ERROR
BAD_STACK = "is not a stack name"
BAD_ID = "is not a resource id"


def _common(cmd: str, scenario: str, stack: str, human: bool = False) -> list[Case]:
    """Cases every stack command must handle alike."""
    out = "human" if human else "json"
    return [
        Case(f"{cmd}-unknown-stack", scenario, (cmd, "no-such-stack"), NF, "stack_not_found",
             "no-such-stack does not exist", out),
        Case(f"{cmd}-empty-stack-name", scenario, (cmd, ""), U, "usage", BAD_STACK),
        Case(f"{cmd}-stack-name-with-dots", scenario, (cmd, "a..b"), U, "usage", BAD_STACK,
             "human"),
        Case(f"{cmd}-10k-stack-name", scenario, (cmd, LONG), U, "usage", BAD_STACK),
        Case(f"{cmd}-unicode-stack-name", scenario, (cmd, UNICODE), U, "usage", BAD_STACK),
        Case(f"{cmd}-wrong-region", scenario, (cmd, stack), NF, "stack_not_found",
             f"does not exist in region {OTHER_REGION}", out,
             global_args=("--region", OTHER_REGION)),
        Case(f"{cmd}-evidence-dir-is-a-file", scenario, (cmd, stack), U, "usage", "is a file",
             setup="evidence-file"),
        Case(f"{cmd}-evidence-dir-under-a-file", scenario, (cmd, stack), ERR,
             "evidence_dir_unwritable", "cannot write the evidence folder", "human",
             setup="evidence-under-file"),
        Case(f"{cmd}-evidence-dir-mode-000", scenario, (cmd, stack), ERR,
             "evidence_dir_unwritable", "cannot write the evidence folder",
             setup="evidence-000"),
    ]


def _timing(cmd: str, scenario: str, stack: str) -> list[Case]:
    """Numeric nonsense for the commands that follow a stack operation."""
    return [
        Case(f"{cmd}-timeout-negative", scenario, (cmd, stack, "--timeout", "-1"), U, "usage",
             "--timeout", "human"),
        Case(f"{cmd}-timeout-nan", scenario, (cmd, stack, "--timeout", "nan"), U, "usage",
             "not a finite number"),
        Case(f"{cmd}-timeout-text", scenario, (cmd, stack, "--timeout", "soon"), U, "usage",
             "--timeout"),
        Case(f"{cmd}-poll-interval-zero", scenario, (cmd, stack, "--poll-interval", "0"), U,
             "usage", "--poll-interval"),
        Case(f"{cmd}-poll-interval-inf", scenario, (cmd, stack, "--poll-interval", "inf"), U,
             "usage", "not a finite number"),
    ]


def _ids(cmd: str, scenario: str, stack: str, flag: str, good: str) -> list[Case]:
    """Malformed resource ids for --skip / --retain: refused by the CLI before any call."""
    return [Case(f"{cmd}-{flag[2:]}-{name}", scenario, (cmd, stack, flag, value, *good.split()),
                 U, "usage", BAD_ID, out)
            for name, value, out in (("empty", "", "json"), ("two-dots", "a..b", "human"),
                                     ("10k-chars", LONG, "json"), ("unicode", UNICODE, "json"),
                                     ("space-inside", "App Bucket", "json"))]


CASES: list[Case] = [
    # --- rollback-stuck -----------------------------------------------------------------
    *_common("rollback-stuck", "degap", "degap-prod", human=True),
    *_timing("rollback-stuck", "degap", "degap-prod"),
    *_ids("rollback-stuck", "degap", "degap-prod", "--skip", ""),
    Case("rollback-stuck-healthy-stack", "healthy", ("rollback-stuck", "shop-web"), FF,
         "unsupported_state", "is CREATE_COMPLETE"),
    Case("rollback-stuck-skip-a-resource-that-did-not-fail", "degap",
         ("rollback-stuck", "degap-prod", "--skip", "ConfigTable"), U, "usage",
         "ConfigTable: it is CREATE_COMPLETE, not UPDATE_FAILED", "human"),
    Case("rollback-stuck-skip-parent-logical-id-form", "degap",
         ("rollback-stuck", "degap-prod", "--skip", "ApiStack.OrdersFunction"), U, "usage",
         "AWS wants the child stack's name"),
    Case("rollback-stuck-skip-unknown-child", "degap",
         ("rollback-stuck", "degap-prod", "--skip", "nope-stack.OrdersFunction"), U, "usage",
         "no stack named 'nope-stack'"),
    Case("rollback-stuck-max-rounds-zero", "degap",
         ("rollback-stuck", "degap-prod", "--max-rounds", "0"), U, "usage", "--max-rounds"),
    Case("rollback-stuck-bad-artifact-source", "degap",
         ("rollback-stuck", "degap-prod", "--restore-artifacts", "--artifact-source", "ftp:x"),
         U, "usage", "ftp:x"),
    Case("rollback-stuck-bad-output", "degap", ("rollback-stuck", "degap-prod"), U, "usage",
         "'xml' is not one of", "human", global_args=("--output", "xml")),
    # --- delete-failed ------------------------------------------------------------------
    *_common("delete-failed", "delete-failed", "legacy-app"),
    *_timing("delete-failed", "delete-failed", "legacy-app"),
    *_ids("delete-failed", "delete-failed", "legacy-app", "--retain", "--retain-all-failed"),
    Case("delete-failed-stack-not-delete-failed", "degap", ("delete-failed", "degap-prod"), FF,
         "unsupported_state", "is UPDATE_ROLLBACK_FAILED", "human"),
    Case("delete-failed-retain-a-delete-complete-resource", "delete-failed",
         ("delete-failed", "legacy-app", "--retain", "AppQueue", "--retain-all-failed"), U,
         "usage", "already DELETE_COMPLETE"),
    Case("delete-failed-retain-unknown-resource", "delete-failed",
         ("delete-failed", "legacy-app", "--retain", "Nope", "--retain-all-failed"), U, "usage",
         "no resource Nope in stack legacy-app", "human"),
    Case("delete-failed-retain-parent-logical-id-form", "delete-failed",
         ("delete-failed", "legacy-app", "--retain", "NetworkStack.FlowLogsBucket",
          "--retain-all-failed"), U, "usage", "name the child stack"),
    Case("delete-failed-retain-the-nested-stack", "delete-failed",
         ("delete-failed", "legacy-app", "--retain", "NetworkStack", "--retain-all-failed"), U,
         "usage", "a nested stack is not retained"),
    Case("delete-failed-retry-a-resource-that-did-not-fail", "delete-failed",
         ("delete-failed", "legacy-app", "--retry", "AppRole", "--retain-all-failed"), U,
         "usage", "not a resource that failed to delete"),
    Case("delete-failed-empty-bucket-not-in-stack", "delete-failed",
         ("delete-failed", "legacy-app", "--empty-bucket", "someone-elses-bucket",
          "--retain-all-failed"), U, "usage", "someone-elses-bucket"),
    # --- bootstrap-role -----------------------------------------------------------------
    *_common("bootstrap-role", "cdk-bootstrap-deleted", "billing-service"),
    *_timing("bootstrap-role", "cdk-bootstrap-deleted", "billing-service"),
    Case("bootstrap-role-role-not-missing", "healthy", ("bootstrap-role", "shop-web"), FF,
         "", "shop-web"),
    Case("bootstrap-role-skip-two-dots", "cdk-bootstrap-deleted",
         ("bootstrap-role", "billing-service", "--then", "continue-rollback", "--skip", "a..b"),
         U, "usage", BAD_ID),
    Case("bootstrap-role-skip-a-resource-that-did-not-fail", "service-role-deleted",
         ("bootstrap-role", "payments-core", "--then", "continue-rollback", "--skip", "Nope",
          "--policy-arn", "arn:aws:iam::aws:policy/PowerUserAccess", "--remove-role-after"), U,
         "usage", "invalid --skip: Nope", "human"),
    Case("bootstrap-role-skip-without-continue-rollback", "cdk-bootstrap-deleted",
         ("bootstrap-role", "billing-service", "--then", "delete", "--skip", "ApiHandler",
          "--remove-role-after"), U, "usage", "only with --then continue-rollback"),
    Case("bootstrap-role-then-nonsense", "cdk-bootstrap-deleted",
         ("bootstrap-role", "billing-service", "--then", "explode"), U, "usage", "--then"),
    Case("bootstrap-role-retry-attempts-zero", "cdk-bootstrap-deleted",
         ("bootstrap-role", "billing-service", "--retry-attempts", "0"), U, "usage",
         "--retry-attempts", "human"),
    Case("bootstrap-role-retry-delay-negative", "cdk-bootstrap-deleted",
         ("bootstrap-role", "billing-service", "--retry-delay", "-2"), U, "usage",
         "--retry-delay"),
    # --- artifacts ----------------------------------------------------------------------
    *_common("artifacts", "degap", "degap-prod"),
    Case("artifacts-since-far-back", "degap", ("artifacts", "degap-prod", "--since", "999999d"),
         U, "usage", "too far back", "human"),
    Case("artifacts-since-garbage", "degap", ("artifacts", "degap-prod", "--since", "last tuesday"),
         U, "usage", "cannot read the time"),
    Case("artifacts-no-stack-no-function", "degap", ("artifacts",), U, "usage",
         "give either STACK or --function"),
    Case("artifacts-stack-and-function", "degap", ("artifacts", "degap-prod", "--function", "f"),
         U, "usage", "give either STACK or --function"),
    Case("artifacts-trail-missing-folder", "degap",
         ("artifacts", "degap-prod", "--trail", "/nonexistent/trail"), NF, "", "/nonexistent/trail"),
    # --- diagnose -----------------------------------------------------------------------
    *_common("diagnose", "degap", "degap-prod", human=True),
    Case("diagnose-bad-output", "degap", ("diagnose", "degap-prod"), U, "usage",
         "'yaml' is not one of", global_args=("--output", "yaml")),
    Case("diagnose-unknown-option", "degap", ("diagnose", "degap-prod", "--skip", "X"), U,
         "usage", "No such option"),
    # --- evidence -----------------------------------------------------------------------
    *_common("evidence", "degap", "degap-prod"),
    Case("evidence-since-after-until", "degap",
         ("evidence", "degap-prod", "--since", "1h", "--until", "2h"), U, "usage",
         "--since is later than --until", "human"),
    Case("evidence-out-exists", "degap", ("evidence", "degap-prod", "--out", "{tmp}/exists.zip"),
         U, "usage", "already exists", setup="out-exists"),
    Case("evidence-trail-missing-folder", "degap",
         ("evidence", "degap-prod", "--trail", "/nonexistent/trail", "--out", "{tmp}/b.zip"),
         NF, "", "/nonexistent/trail"),
    Case("evidence-bad-format", "degap", ("evidence", "degap-prod", "--format", "rar"), U,
         "usage", "'rar' is not one of"),
    # --- apply --------------------------------------------------------------------------
    Case("apply-missing-plan", "degap", ("apply", "{tmp}/nope.json"), U, "bad_input",
         "plan file not found", "human"),
    Case("apply-plan-is-a-folder", "degap", ("apply", "{tmp}"), U, "usage", "is a directory"),
    Case("apply-plan-random-bytes", "degap", ("apply", "{tmp}/junk.json"), U, "bad_input",
         "cannot read plan file", setup="plan-junk"),
    Case("apply-plan-deep-nesting", "degap", ("apply", "{tmp}/deep.json"), U, "bad_input",
         "nested too deeply", "human", setup="plan-deep"),
    Case("apply-plan-for-unknown-runbook", "degap", ("apply", "{tmp}/other.json"), U,
         "bad_input", "which apply does not know", setup="plan-other-runbook"),
    Case("apply-evidence-dir-is-a-file", "degap", ("apply", "{tmp}/nope.json"), U, "usage",
         "is a file", setup="evidence-file"),
]

ROOT = os.geteuid() == 0  # root ignores file modes: a chmod 000 folder is still writable


def _prepare(case: Case, tmp: Path) -> Path:
    """The case's files; returns its --evidence-dir."""
    tmp.mkdir(parents=True)
    ev = tmp / "ev"
    if case.setup == "evidence-file":
        ev.write_text("not a folder")
    elif case.setup == "evidence-under-file":
        (tmp / "file").write_text("x")
        ev = tmp / "file" / "ev"
    elif case.setup == "evidence-000":
        ev.mkdir(mode=0o000)
    elif case.setup == "out-exists":
        (tmp / "exists.zip").write_bytes(b"PK")
    elif case.setup == "plan-junk":
        (tmp / "junk.json").write_bytes(bytes(range(256)) * 4)
    elif case.setup == "plan-deep":
        (tmp / "deep.json").write_text("[" * 100_000)
    elif case.setup == "plan-other-runbook":
        (tmp / "other.json").write_text(json.dumps({
            "plan_version": 1, "runbook": "make-coffee", "stack": "degap-prod",
            "stack_id": "degap-prod", "created_at": "2026-11-23T10:00:00Z", "calls": [],
            "preconditions": {"root_stack_id": "x", "stacks": {"x": {"name": "x", "status": "y"}}}}))
    return ev


def _run(sb: Any, case: Case, tmp: Path) -> dict[str, Any]:
    ev = _prepare(case, tmp)
    args = [a.replace("{tmp}", str(tmp)) for a in case.args]
    env = dict(sb.env(), RECOVER_ORPHAN_LEDGER=str(tmp / "ledger.json"))
    try:
        proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output",
                        case.output, "--non-interactive", "--yes", "--evidence-dir", str(ev),
                        *case.global_args, *args], env=env, timeout=120)
    finally:
        if case.setup == "evidence-000":
            ev.chmod(0o700)
    journals = list(tmp.rglob("journal.jsonl"))
    return {"proc": proc, "calls": [e for j in journals for e in read_journal(j)
                                    if e.get("kind") == "call"]}


def _statuses(sb: Any) -> dict[str, str]:
    cfn = sb.client("cloudformation")
    return {s["StackName"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}


BATCH = 24  # cases per sandbox: the batches of a big scenario build on several workers at once


def _batches() -> dict[str, list[Case]]:
    """The cases in batches of one scenario each, under a key naming the batch."""
    out: dict[str, list[Case]] = {}
    for scenario in sorted({c.scenario for c in CASES}):
        cases = [c for c in CASES if c.scenario == scenario]
        for i in range(0, len(cases), BATCH):
            out[f"bad-input-cli-{scenario}-{i // BATCH}"] = cases[i:i + BATCH]
    return out


def _run_batch(cases: list[Case], root: Path) -> dict[str, dict[str, Any]]:
    """The cases (of one scenario) run 4 at a time against one sandbox; each result carries
    the world before and after the batch."""
    from recover.sandbox import start_sandbox

    cases = [c for c in cases if not (c.setup == "evidence-000" and ROOT)]
    with start_sandbox(cases[0].scenario, step_delay=0) as sb:
        before = (_statuses(sb), world_state(sb))
        with ThreadPoolExecutor(4) as pool:
            done = list(pool.map(lambda c: (c, _run(sb, c, root / c.id)), cases))
        after = (_statuses(sb), world_state(sb))
    return {case.id: dict(result, before=before, after=after) for case, result in done}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory,
             request: pytest.FixtureRequest) -> Callable[[Case], dict[str, Any]]:
    """The outcome of a case. Its batch runs once per session, in the first xdist worker that
    needs it (tests/once.py), so the workers share the batches rather than each run them all."""
    pytest.importorskip("moto", reason="the sandbox needs moto")
    batches = _batches()
    key_of = {c.id: key for key, cases in batches.items() for c in cases}
    wanted = {case.id for case in selected(request, "case")}  # as -k or a node id selects
    batches = {key: [c for c in cases if c.id in wanted] for key, cases in batches.items()}
    batches = {key: cases for key, cases in batches.items() if cases}
    builds = {key: (lambda key=key: _run_batch(batches[key], tmp_path_factory.mktemp(key)))
              for key in batches}
    results: dict[str, dict[str, dict[str, Any]]] = {}

    def outcome(case: Case) -> dict[str, Any]:
        key = key_of[case.id]
        if key not in results:
            results[key] = once(tmp_path_factory, key, builds[key], meanwhile=builds)
        return results[key][case.id]
    return outcome


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_sends_nothing(
        outcomes: Callable[[Case], dict[str, Any]], case: Case) -> None:
    if case.setup == "evidence-000" and ROOT:
        pytest.skip("running as root: file modes do not stop root")
    result = outcomes(case)
    proc: subprocess.CompletedProcess[str] = result["proc"]
    shown = f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
    assert proc.returncode == case.exit, shown
    assert "Traceback" not in proc.stdout + proc.stderr, shown
    if case.output == "json":
        env = json.loads(proc.stdout)  # one JSON document and nothing else on stdout
        assert env["exit_code"] == case.exit and env["status"] != "ok", shown
        [error] = env["errors"]
        assert "\n" not in error["message"] and case.words in error["message"], shown
        if case.code:
            assert error["code"] == case.code, shown
    else:
        lines = [line for line in proc.stderr.splitlines()
                 if line.startswith(("error:", "Error:"))]
        assert len(lines) == 1 and case.words in lines[0], shown
        assert "error" not in proc.stdout.lower(), shown  # errors go to stderr
    assert result["calls"] == [], shown  # no mutating call journaled
    assert result["before"] == result["after"]  # stack statuses, object versions, roles
