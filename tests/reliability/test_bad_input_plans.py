"""Bad plan files (issue 9, part 4): whatever a plan file holds, `recover apply` either runs a
valid plan or stops with one line, exit 2 (`bad_input`), and sends nothing.

The plans fuzzed are real ones, made by `--dry-run --plan-out` against the sandbox for each of
the three runbooks; hypothesis mutates them one field at a time (any JSON value, raw JSON
fragments such as 50,000 nested brackets, huge strings, deletion), truncates them, or replaces
them by random bytes. In-process, `apply` runs with a session factory that fails on any AWS
client, so "nothing sent" means "AWS never touched" there; a few files also go through the
real CLI against a served sandbox, whose journals and stack status are checked.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recover.act.plan import Plan
from recover.aws.session import SessionFactory
from recover.cli import cli
from recover.run.errors import InputError
from recover.run.evidence import read_journal
from recover.run.exit_codes import ExitCode
from recover.runbooks.plan_check import check_plan
from tests.conftest import run_cli
from tests.once import once

# runbook -> (scenario, stack, the command that makes its plan)
RUNBOOKS = {
    "rollback-stuck": ("degap", "degap-prod",
                       ("rollback-stuck", "degap-prod", "--restore-artifacts")),
    "delete-failed": ("delete-failed", "legacy-app",
                      ("delete-failed", "legacy-app", "--retain-all-failed")),
    "bootstrap-role": ("cdk-bootstrap-deleted", "billing-service",
                               ("bootstrap-role", "billing-service", "--then", "delete",
                                "--remove-role-after")),
}
SENTINEL = "\u0000raw-json\u0000"


def _make_plan(runbook: str, root: Path) -> tuple[Path, dict]:
    from recover.sandbox import start_sandbox

    scenario, _stack, args = RUNBOOKS[runbook]
    path = root / f"{runbook}.json"
    with start_sandbox(scenario, step_delay=0) as sb:
        proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output",
                        "json", "--non-interactive", "--yes", "--dry-run", "--evidence-dir",
                        str(root / "ev"), *args, "--plan-out", str(path)], env=sb.env())
    assert proc.returncode == 0, proc.stderr
    return path, json.loads(path.read_text())


@pytest.fixture(scope="module")
def real_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """The plan files `--dry-run --plan-out` writes on each runbook's scenario: made once per
    session by the first xdist worker that needs each (tests/once.py); read, never changed."""
    pytest.importorskip("moto", reason="the sandbox needs moto")
    builds = {f"real-plan-{rb}": (lambda rb=rb: _make_plan(rb, tmp_path_factory.mktemp("plans")))
              for rb in RUNBOOKS}
    return {rb: once(tmp_path_factory, f"real-plan-{rb}", builds[f"real-plan-{rb}"],
                     meanwhile=builds) for rb in RUNBOOKS}


class NoAWS(SessionFactory):
    """Any AWS client is a test failure: a bad plan must stop before AWS."""

    def client(self, service: str, region: str | None = None):  # type: ignore[no-untyped-def]
        raise AssertionError(f"AWS touched ({service}) by a plan that should have been refused")


def load_checked(path: Path) -> Plan | InputError:
    """What `apply` does before AWS: the plan, or the one-line InputError it stops with."""
    try:
        plan = Plan.load(path)
        check_plan(plan)
        return plan
    except InputError as err:
        assert err.exit_code == ExitCode.USAGE and err.code == "bad_input"
        assert "\n" not in err.message and 0 < len(err.message) < 700, err.message
        return err


def apply_in_process(make_context: Any, path: Path) -> tuple[int, dict]:
    rc = make_context(session_factory_cls=NoAWS, output="json", non_interactive=True, yes=True)
    result = CliRunner().invoke(cli, ["apply", str(path)], obj=rc, standalone_mode=False)
    assert result.exception is None, repr(result.exception)
    return result.return_value, json.loads(rc.stdout.getvalue())


def assert_refused(make_context: Any, path: Path, tmp_path: Path) -> str:
    """apply stops with exit 2 / bad_input, one line, and no evidence folder (nothing read,
    nothing sent). Returns the message."""
    code, env = apply_in_process(make_context, path)
    [error] = env["errors"]
    assert (code, error["code"]) == (ExitCode.USAGE, "bad_input"), error
    assert "\n" not in error["message"]
    assert not (tmp_path / "evidence").exists()
    return error["message"]


# --- mutations -----------------------------------------------------------------------------


def paths_of(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into a JSON value (object keys and list indexes), the root excluded."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, sub in items:
        yield prefix + (key,)
        yield from paths_of(sub, prefix + (key,))


def mutated(doc: dict, path: tuple, value: Any, delete: bool) -> dict:
    doc = json.loads(json.dumps(doc))
    target = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def write(tmp_path: Path, doc: Any, raw: str | None = None) -> Path:
    """The plan file; `raw` replaces the SENTINEL value by a raw JSON fragment."""
    text = json.dumps(doc, ensure_ascii=False)
    if raw is not None:
        text = text.replace(json.dumps(SENTINEL), raw)
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


_SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-10**30, 10**30)
            | st.floats() | st.text(max_size=30)
            | st.sampled_from(["", "DeleteStack", "arn:aws:iam::1:role/x", "UPDATE_ROLLBACK_FAILED",
                               "2026-13-45", "../../etc/passwd", "x" * 70_000, "é\u202e\ud800"]))
JUNK = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=10)
RAW = st.sampled_from([
    "[" * 50_000 + "]" * 50_000,  # deeper than json's recursion limit
    "{\"a\":" * 30_000 + "1" + "}" * 30_000,
    "[" * 50_000,  # deep and truncated
    "[" * 900 + "]" * 900,  # deep, but within json's limit
    "NaN", "Infinity", "-Infinity", "1e999", "9" * 5000,  # beyond int-from-string limits
    "\"\\ud800\"", "\"\\u0000\"", "tru", "",
])


def _doc_settings() -> Any:
    return settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("runbook", list(RUNBOOKS))
@_doc_settings()
@given(data=st.data())
def test_one_field_mutated_is_run_or_refused_in_one_line(real_plans, make_context,
                                                         tmp_path: Path, runbook: str,
                                                         data: st.DataObject) -> None:
    _, doc = real_plans[runbook]
    paths = sorted(set(paths_of(doc)), key=repr)
    path = data.draw(st.sampled_from(paths), label="path")
    how = data.draw(st.sampled_from(["value", "raw", "delete"]), label="how")
    if how == "raw":
        file = write(tmp_path, mutated(doc, path, SENTINEL, False), data.draw(RAW, label="raw"))
    else:
        file = write(tmp_path, mutated(doc, path, data.draw(JUNK, label="value"),
                                       how == "delete"))
    outcome = load_checked(file)
    if isinstance(outcome, InputError):
        assert_refused(make_context, file, tmp_path)
        return
    # Still a valid plan: apply gets as far as reading AWS (which NoAWS refuses) and no
    # further; nothing on the way (evidence, plan.json, messages) may trip on the content.
    code, env = apply_in_process(make_context, file)
    [error] = env["errors"]
    assert "AWS touched" in error["message"], error
    shutil.rmtree(tmp_path / "evidence")


@pytest.mark.parametrize("runbook", list(RUNBOOKS))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1, exclude_max=True))
def test_truncated_plans_are_refused(real_plans, make_context, tmp_path: Path, runbook: str,
                                     cut: float) -> None:
    text = real_plans[runbook][0].read_text()
    path = tmp_path / "plan.json"
    text = text.rstrip()  # a cut that only drops the final newline leaves a whole plan
    path.write_text(text[:int(len(text) * cut)])
    assert isinstance(load_checked(path), InputError)
    assert_refused(make_context, path, tmp_path)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000) | st.binary(max_size=50).map(lambda b: b"{\"plan_version\": 1," + b))
def test_random_bytes_are_refused(make_context, tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(raw)
    assert isinstance(load_checked(path), InputError)
    assert_refused(make_context, path, tmp_path)


# --- explicit cases ------------------------------------------------------------------------


def _set(doc: dict, dotted: str, value: Any) -> dict:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    return mutated(doc, tuple(keys), value, False)


EXPLICIT = [
    # (runbook, what, change(doc) -> doc or raw text, words the message must hold)
    ("rollback-stuck", "unknown runbook", lambda d: _set(d, "runbook", "make-coffee"),
     "which apply does not know"),
    ("rollback-stuck", "plan_version true", lambda d: _set(d, "plan_version", True),
     "unsupported plan_version"),
    ("rollback-stuck", "operation the runbook never makes",
     lambda d: _set(d, "calls.4.operation", "DeleteStack"), "not an operation this runbook makes"),
    ("rollback-stuck", "unknown AWS operation", lambda d: _set(d, "calls.0.service", "s4"),
     "not an operation this runbook makes"),
    ("rollback-stuck", "parameter of the wrong type",
     lambda d: _set(d, "calls.4.params.ResourcesToSkip", "ApiStack"), "invalid parameters"),
    ("rollback-stuck", "a required parameter missing",
     lambda d: {**d, "calls": [dict(c, params={k: v for k, v in c["params"].items()
                                               if k != "Bucket"}) for c in d["calls"]]},
     "invalid parameters"),
    ("rollback-stuck", "timeout not a number", lambda d: _set(d, "settings.timeout", "soon"),
     "settings.timeout"),
    ("rollback-stuck", "poll_interval negative", lambda d: _set(d, "settings.poll_interval", -1),
     "settings.poll_interval"),
    ("rollback-stuck", "blob descriptor without its file", lambda d: _set(d, "calls.2.files", {}),
     "needs its file"),
    ("rollback-stuck", "blob descriptor with a string size",
     lambda d: _set(d, "calls.2.params.Body.size", "2296"), "a blob is described by"),
    ("rollback-stuck", "stack name not a stack name", lambda d: _set(d, "stack", "a..b"),
     "not a CloudFormation stack name"),
    ("rollback-stuck", "huge stack name", lambda d: _set(d, "stack", "é" * 1_000_000),
     "not a CloudFormation stack name"),
    ("rollback-stuck", "a lone surrogate escape", lambda d: json.dumps(d).replace(
        '"description": "', '"description": "\\ud800', 1), "lone surrogate"),
    ("rollback-stuck", "created_at not a time", lambda d: _set(d, "created_at", "yesterday"),
     "created_at"),
    ("rollback-stuck", "preconditions.stacks a list", lambda d: _set(d, "preconditions.stacks", []),
     "preconditions.stacks"),
    ("rollback-stuck", "failed_resources holding objects",
     lambda d: _set(d, "preconditions.failed_resources", [{"a": 1}]), "failed_resources"),
    ("rollback-stuck", "no call at all", lambda d: _set(d, "calls", []), "holds no call"),
    ("delete-failed", "DeleteStack on a stack the plan did not read",
     lambda d: _set(d, "calls.1.params.StackName", "payments-prod"),
     "is not a stack of the plan's preconditions"),
    ("delete-failed", "DeleteObjects on a bucket not listed for emptying",
     lambda d: {**d, "calls": [{"service": "s3", "operation": "DeleteObjects",
                                "params": {"Bucket": "someone-elses-bucket",
                                           "Delete": {"Objects": [{"Key": "k"}]}}},
                               *d["calls"]]},
     "not listed in settings.empty_buckets"),
    ("delete-failed", "steps of the wrong shape", lambda d: _set(d, "settings.steps", [{"x": 1}]),
     "settings.steps"),
    ("delete-failed", "orphans without their stack",
     lambda d: _set(d, "settings.orphans", [{"id": "o", "retained_at": "t"}]), "settings.orphans"),
    ("bootstrap-role", "then not a choice", lambda d: _set(d, "settings.then", "explode"),
     "settings.then"),
    ("bootstrap-role", "retry with an unknown key",
     lambda d: _set(d, "settings.retry", {"forever": True}), "settings.retry"),
    ("bootstrap-role", "retry attempts not whole",
     lambda d: _set(d, "settings.retry.max_attempts", 2.5), "max_attempts"),
    ("bootstrap-role", "CreateRole for a role the plan did not read",
     lambda d: _set(d, "calls.0.params.RoleName", "Admin"), "is not a role the plan read"),
    ("bootstrap-role", "timeout infinite (1e999 is read as inf)",
     lambda d: json.dumps(d).replace('"timeout": 3600.0', '"timeout": 1e999'), "settings.timeout"),
    ("bootstrap-role", "100,000 nested brackets", lambda d: "[" * 100_000,
     "nested too deeply"),
    ("bootstrap-role", "nested 700 deep: json reads it, a plan never is",
     lambda d: json.dumps(d).replace('"decisions": [', '"decisions": [' + "[" * 700 + "]" * 700 + ",", 1),
     "nested deeper than 32 levels"),
    ("bootstrap-role", "a deep value inside a good plan",
     lambda d: json.dumps(d).replace('"decisions": [', '"decisions": [' + "[" * 60_000 + "]" * 60_000 + ",", 1),
     "nested too deeply"),
]


@pytest.mark.parametrize(("runbook", "what", "change", "words"), EXPLICIT,
                         ids=[f"{r}-{w}" for r, w, _, _ in EXPLICIT])
def test_explicit_bad_plans(real_plans, make_context, tmp_path: Path, runbook: str, what: str,
                           change: Any, words: str) -> None:
    changed = change(json.loads(json.dumps(real_plans[runbook][1])))
    path = tmp_path / "plan.json"
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    assert words in assert_refused(make_context, path, tmp_path)


def test_the_real_plans_pass_the_checks(real_plans) -> None:
    for path, _doc in real_plans.values():
        assert isinstance(load_checked(path), Plan)


def test_a_plan_file_that_is_not_a_file(make_context, tmp_path: Path) -> None:
    code, env = apply_in_process(make_context, tmp_path / "missing.json")
    assert code == ExitCode.USAGE and "plan file not found" in env["errors"][0]["message"]
    rc = make_context(session_factory_cls=NoAWS, output="json")
    result = CliRunner().invoke(cli, ["apply", str(tmp_path)], obj=rc, standalone_mode=False)
    assert isinstance(result.exception, click.BadParameter)  # main() makes it exit 2, one line
    assert "is a directory" in str(result.exception)


def test_a_huge_plan_file_is_refused_unread(make_context, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    with open(path, "wb") as fh:  # sparse: 17 MB of nothing
        fh.truncate(17 << 20)
    assert "at most" in assert_refused(make_context, path, tmp_path)


# --- end to end: the CLI against a served sandbox --------------------------------------------


def _journal_calls(root: Path) -> list[dict]:
    return [e for j in root.rglob("journal.jsonl") for e in read_journal(j)
            if e.get("kind") == "call"]


def _status(sb: Any, stack: str) -> str:
    return sb.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


E2E = [
    # (runbook, what, change(doc, blob_file) -> doc or raw text, words)
    ("rollback-stuck", "a blob file changed since the plan", "changed",
     "changed since the plan was made"),
    ("rollback-stuck", "a blob file deleted since the plan", "deleted", "cannot run the plan"),
    ("rollback-stuck", "a blob file replaced by /dev/zero", "devzero", "not a regular file"),
    ("rollback-stuck", "deep nesting", "deep", "nested too deeply"),
    ("delete-failed", "DeleteStack of another stack", "other-stack", "preconditions"),
    ("bootstrap-role", "settings.timeout a string", "timeout", "settings.timeout"),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("runbook", "what", "how", "words"), E2E,
                         ids=[f"{r}-{w}" for r, w, _, _ in E2E])
def test_apply_of_a_bad_plan_sends_nothing(sandbox, real_plans, tmp_path: Path, runbook: str,
                                           what: str, how: str, words: str) -> None:
    scenario, stack, _ = RUNBOOKS[runbook]
    src, doc = real_plans[runbook]
    doc = json.loads(json.dumps(doc))
    blob = tmp_path / "code.zip"
    if runbook == "rollback-stuck":  # the PutObject's bytes, copied so the test can damage them
        put = next(c for c in doc["calls"] if c["operation"] == "PutObject")
        blob.write_bytes(Path(put["files"]["Body"]).read_bytes())
        put["files"]["Body"] = str(blob)
    text = json.dumps(doc)
    if how == "changed":
        blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    elif how == "deleted":
        blob.unlink()
    elif how == "devzero":
        text = text.replace(json.dumps(str(blob)), json.dumps("/dev/zero"))
    elif how == "deep":
        text = "[" * 100_000
    elif how == "other-stack":
        doc["calls"][-1]["params"]["StackName"] = "some-other-stack"
        text = json.dumps(doc)
    elif how == "timeout":
        doc["settings"]["timeout"] = "one hour"
        text = json.dumps(doc)
    plan = tmp_path / "plan.json"
    plan.write_text(text)
    sb = sandbox(scenario)
    before = _status(sb, stack)
    proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--non-interactive",
                    "--yes", "--evidence-dir", str(tmp_path / "ev"), "apply", str(plan)],
                   env=dict(sb.env(), RECOVER_ORPHAN_LEDGER=str(tmp_path / "ledger.json")))
    assert proc.returncode == ExitCode.USAGE, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], proc.stderr
    assert _journal_calls(tmp_path / "ev") == []  # nothing sent
    assert _status(sb, stack) == before
