"""Meta-tests over the shipped runbook catalog (cfn-lint / cloud-custodian style): the files
load and pass inspect, ids are unique and equal the file names, every step declares its
permissions, the taxonomy and the catalog agree, and every `aws` command line in a runbook is a
real AWS CLI command with real options, whose IAM actions the step declares."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore import xform_name

from recover.explain.taxonomy import ADVICE, RUNBOOK_FOR_MODE, FailureMode
from recover.runbooks.document.actions import ACTIONS, HANDOVER, MANUAL
from recover.runbooks.document.catalog import (
    check_catalog,
    load_catalog,
    load_directory,
    runbooks_dir,
)
from recover.runbooks.document.errors import RunbookFormatError
from recover.runbooks.document.model import Runbook, Step
from recover.runbooks.document.statuses import STACK_STATUSES
from recover.runbooks.document.validate import PERMISSION_RE, inspect
from recover.runbooks.spec import PHASES
from tests.conftest import REPO, run_cli

RUNBOOK_FILES = sorted((REPO / "runbooks").glob("*.yaml"))
CATALOG = load_catalog(REPO / "runbooks")
ALL_STEPS = [(r, s) for r in CATALOG.runbooks for s in r.steps]


def test_the_registered_runbooks_ship() -> None:
    assert set(CATALOG.ids()) == {"rollback-stuck", "artifacts", "delete-failed",
                                  "bootstrap-role", "express-failed", "custom-resource",
                                  "reconcile"}
    assert len(RUNBOOK_FILES) == len(CATALOG.runbooks)


@pytest.mark.parametrize("path", RUNBOOK_FILES, ids=[p.stem for p in RUNBOOK_FILES])
def test_id_equals_file_name_and_runbook_passes_inspect(path: Path) -> None:
    runbook = CATALOG.get(path.stem)
    assert runbook.id == path.stem
    assert inspect(runbook) == []


def test_ids_unique() -> None:
    assert len(set(CATALOG.ids())) == len(CATALOG.ids())


def test_catalog_rejects_duplicate_ids_and_wrong_file_names(tmp_path: Path) -> None:
    text = (REPO / "runbooks" / "delete-failed.yaml").read_text()
    (tmp_path / "delete-failed.yaml").write_text(text)
    (tmp_path / "copy.yaml").write_text(text)
    with pytest.raises(RunbookFormatError) as info:
        load_directory(tmp_path)
    messages = [str(p) for p in info.value.problems]
    assert any("'delete-failed' must equal the file name 'copy'" in m for m in messages)
    assert any("is also the id of" in m for m in messages)


def test_catalog_rejects_handover_to_a_missing_runbook(tmp_path: Path) -> None:
    shutil.copy(REPO / "runbooks" / "artifacts.yaml", tmp_path)
    with pytest.raises(RunbookFormatError) as info:
        load_directory(tmp_path)
    assert "artifacts.yaml: steps[8].handover.UPDATE_ROLLBACK_FAILED: no runbook " \
           "'rollback-stuck' in the catalog" in info.value.message


def test_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunbookFormatError, match="no runbook files"):
        load_directory(tmp_path)


@pytest.mark.parametrize(("runbook", "step"), ALL_STEPS,
                         ids=[f"{r.id}.{s.id}" for r, s in ALL_STEPS])
def test_every_step_declares_permissions_covering_its_action(runbook: Runbook, step: Step) -> None:
    raw = yaml.safe_load((REPO / "runbooks" / f"{runbook.id}.yaml").read_text())
    raw_step = next(s for s in raw["steps"] if s["id"] == step.id)
    assert "permissions" in raw_step, "declare permissions, even as []"
    if step.action not in (MANUAL,):
        spec = ACTIONS[step.action]
        assert set(spec.permissions) <= set(step.permissions)
        if spec.calls_aws:
            assert step.permissions, "an action that calls AWS needs permissions"
    if step.mutates:
        assert step.permissions and step.undo and step.cli and step.confirm and step.flags


def test_every_failure_mode_maps_to_a_runbook_or_advice() -> None:
    for mode in FailureMode:
        target = RUNBOOK_FOR_MODE.get(mode, "missing")
        assert target != "missing", f"{mode} is not in RUNBOOK_FOR_MODE"
        assert target is not None or mode in ADVICE, f"{mode} has neither runbook nor advice"


def test_every_runbook_a_mode_maps_to_exists_and_lists_the_mode() -> None:
    for mode, runbook_id in RUNBOOK_FOR_MODE.items():
        if runbook_id is None:
            continue
        runbook = CATALOG.get(runbook_id)
        assert mode.value in runbook.failure_modes, f"{runbook_id} does not list {mode.value}"


def test_every_runbook_handles_a_mode_and_statuses_are_real() -> None:
    for r in CATALOG.runbooks:
        assert r.failure_modes and set(r.applies_to) <= STACK_STATUSES


def test_action_registry_is_consistent() -> None:
    for spec in ACTIONS.values():
        assert spec.phase in PHASES, spec.id
        # Reads and changes need permissions; decisions, records and hand-overs call nothing.
        assert bool(spec.permissions) == (spec.phase in ("gather", "act", "follow")), spec.id
        assert all(PERMISSION_RE.match(p) for p in spec.permissions), spec.id
    used = {s.action for _, s in ALL_STEPS}
    assert HANDOVER in used
    assert used - {MANUAL} <= set(ACTIONS)


@pytest.mark.parametrize("runbook", CATALOG.runbooks, ids=CATALOG.ids())
def test_steps_follow_gather_decide_act_follow_record(runbook: Runbook) -> None:
    phases = [ACTIONS[s.action].phase if s.action in ACTIONS else "manual" for s in runbook.steps]
    assert phases[0] == "gather", "a runbook starts by reading the situation"
    assert phases[-1] == "record", "a runbook ends by recording what it did"
    for i, phase in enumerate(phases):
        if phase == "act":
            assert "decide" in phases[:i], f"step {runbook.steps[i].id} acts before any decision"
            assert runbook.steps[i].confirm is not None


def test_runbook_documents_cite_the_fact_sheet() -> None:
    """The prose cites docs/reference/aws-behaviour.md where it matters (skip rules, service
    roles, retain rules, CDK bootstrap, S3 versioning and conditional writes)."""
    text = {r.id: (REPO / "runbooks" / f"{r.id}.yaml").read_text() for r in CATALOG.runbooks}
    cites = {"rollback-stuck": ("resourcestoskip-rules", "service-roles-rolearn"),
             "delete-failed": ("retainresources-only-from-delete_failed",
                               "which-resources-may-be-retained"),
             "bootstrap-role": ("cdk-bootstrap", "service-roles-rolearn"),
             "artifacts": ("s3-versioning-and-delete-markers", "s3-conditional-writes"),
             "custom-resource": ("custom-resource-requests-and-responses",)}
    for runbook, anchors in cites.items():
        for anchor in anchors:
            assert f"aws-behaviour.md#{anchor}" in text[runbook], (runbook, anchor)


def test_check_catalog_of_the_shipped_files_is_clean() -> None:
    assert check_catalog(list(CATALOG.runbooks)) == []


# --- the `cli` fields are real AWS CLI commands -------------------------------------------

CLI_SERVICE = {"s3api": "s3"}
IAM_PREFIX = {"s3": "s3", "resourcegroupstaggingapi": "tag"}
# Options the AWS CLI adds to every command (global and pagination options).
CLI_GLOBAL_OPTIONS = {"region", "query", "output", "profile", "endpoint-url", "no-cli-pager",
                      "debug", "max-items", "page-size", "starting-token", "no-paginate"}
# Operations whose IAM action is not `<prefix>:<Operation>`.
IAM_FOR_OPERATION = {
    ("s3", "ListObjectVersions"): {"s3:ListBucketVersions"},
    ("s3", "CopyObject"): {"s3:PutObject", "s3:GetObjectVersion"},
    ("s3", "HeadObject"): {"s3:GetObject"},
    ("s3", "DeleteObjects"): {"s3:DeleteObject", "s3:DeleteObjectVersion"},
}
SESSION = botocore.session.get_session()


def _commands(cli: str) -> list[list[str]]:
    """The `aws ...` commands in a cli field: comments dropped, continuations joined, pipes split."""
    lines = [ln for ln in cli.splitlines() if not ln.strip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars="|;&")
        lexer.whitespace_split = True
        current: list[str] = []
        for tok in lexer:
            if set(tok) <= set("|;&"):
                if current:
                    out.append(current)
                current = []
            else:
                current.append(tok)
        if current:
            out.append(current)
    return [c for c in out if c and c[0] == "aws"]


def _iam_actions(service: str, operation: str, options: set[str]) -> set[str]:
    if (service, operation) in IAM_FOR_OPERATION:
        return IAM_FOR_OPERATION[(service, operation)]
    if service == "s3" and operation == "GetObject" and "version-id" in options:
        return {"s3:GetObjectVersion"}
    prefix = IAM_PREFIX.get(service, service)
    return {f"{prefix}:{operation}"}


CLI_STEPS = [(r, s) for r, s in ALL_STEPS if s.cli]


@pytest.mark.parametrize(("runbook", "step"), CLI_STEPS, ids=[f"{r.id}.{s.id}" for r, s in CLI_STEPS])
def test_cli_lines_are_real_aws_commands_covered_by_permissions(runbook: Runbook, step: Step) -> None:
    commands = _commands(step.cli)
    if step.permissions:
        assert commands, "a step that calls AWS shows at least one aws command"
    needed: set[str] = set()
    for cmd in commands:
        service = CLI_SERVICE.get(cmd[1], cmd[1])
        model = SESSION.get_service_model(service)
        ops = {xform_name(op, "-"): op for op in model.operation_names}
        options = {t[2:] for t in cmd if t.startswith("--")}
        if cmd[2] == "wait":
            waiter_model = SESSION.get_waiter_model(service)
            waiters = {xform_name(w, "-"): w for w in waiter_model.waiter_names}
            assert cmd[3] in waiters, f"no waiter `aws {cmd[1]} wait {cmd[3]}`"
            operation = waiter_model.get_waiter(waiters[cmd[3]]).operation
        else:
            assert cmd[2] in ops, f"no command `aws {cmd[1]} {cmd[2]}`"
            operation = ops[cmd[2]]
        members = {xform_name(m, "-") for m in model.operation_model(operation).input_shape.members}
        unknown = options - members - CLI_GLOBAL_OPTIONS
        # put-object's file argument is --body (member Body) and get-object's outfile is positional
        assert not unknown, f"`aws {cmd[1]} {cmd[2]}` has no option(s) {sorted(unknown)}"
        needed |= _iam_actions(service, operation, options)
        if "role-arn" in options:
            needed.add("iam:PassRole")
        if service == "iam" and "tags" in options:
            needed.add("iam:TagRole")
    assert needed <= set(step.permissions), f"cli needs {sorted(needed - set(step.permissions))}"


def test_no_overwrite_paths_use_if_none_match() -> None:
    restore = CATALOG.get("artifacts").step("restore")
    assert restore is not None
    writes = [c for c in _commands(restore.cli) if c[2] in ("put-object", "copy-object")]
    assert writes and all("--if-none-match" in c and c[c.index("--if-none-match") + 1] == "*"
                          for c in writes)


def test_continue_rollback_cli_uses_the_documented_skip_format() -> None:
    step = CATALOG.get("rollback-stuck").step("continue-rollback")
    assert step is not None
    cmd = _commands(step.cli)[0]
    skips = cmd[cmd.index("--resources-to-skip") + 1:cmd.index("--role-arn")]
    assert skips == ["<LogicalId>", "<CHILD-STACK-NAME>.<LogicalId>"]
    assert "--client-request-token" in cmd


# --- the loader finds the files in a source checkout and in an installed wheel ---------------

def test_runbooks_dir_in_a_source_checkout() -> None:
    assert runbooks_dir() == REPO / "runbooks"


def test_runbooks_dir_prefers_the_installed_copy(tmp_path: Path) -> None:
    pkg = tmp_path / "site" / "recover"
    (pkg / "_runbooks").mkdir(parents=True)
    (tmp_path / "site" / "runbooks").mkdir()
    assert runbooks_dir(pkg) == pkg / "_runbooks"
    with pytest.raises(RunbookFormatError, match="no runbook folder found"):
        runbooks_dir(tmp_path / "elsewhere" / "recover")


def test_wheel_layout_lists_runbooks(tmp_path: Path) -> None:
    """What the wheel installs: recover/ with recover/_runbooks/ (pyproject force-include), no
    top-level runbooks/ anywhere near."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "recover", site / "recover",
                    ignore=shutil.ignore_patterns("__pycache__", "_runbooks"))
    shutil.copytree(REPO / "runbooks", site / "recover" / "_runbooks")
    # run_cli's env replaces PYTHONPATH, so only the copied "installed" package is importable.
    proc = run_cli(["--output", "json", "runbooks", "list"], cwd=tmp_path,
                   env={"PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    assert '"rollback-stuck"' in proc.stdout
    assert str(REPO) not in proc.stdout + proc.stderr
    where = subprocess.run([sys.executable, "-c", "from recover.runbooks.document.catalog import runbooks_dir;"
                            "print(runbooks_dir())"], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                           capture_output=True, text=True, timeout=60)
    assert where.stdout.strip() == str(site / "recover" / "_runbooks"), where.stderr
    assert "pyproject" not in proc.stderr
    assert (REPO / "pyproject.toml").read_text().count('"runbooks" = "recover/_runbooks"') == 1


def _prose_commands(text: str) -> list[tuple[str, str, set[str]]]:
    """`aws SERVICE COMMAND --opt ...` mentioned in prose, up to the end of the clause."""
    found = []
    words = [w.lstrip("(") for w in text.split()]
    for i, word in enumerate(words[:-2]):
        if word != "aws":
            continue
        service, command = words[i + 1], words[i + 2].rstrip(".,;)")
        if not service.replace("-", "").isalnum() or not command.replace("-", "").isalnum():
            continue
        options: set[str] = set()
        for tok in words[i + 2:]:
            if tok.startswith("--"):
                options.add(tok.rstrip(".,;)").removeprefix("--"))
            if tok != words[i + 2] and tok[-1] in ".,;)":
                break
        found.append((service, command, options))
    return found


PROSE = [(r, s, name, getattr(s, name)) for r, s in ALL_STEPS for name in ("why", "changes", "undo")
         if re.search(r"\baws [a-z]", getattr(s, name))]


@pytest.mark.parametrize(("runbook", "step", "field", "text"), PROSE,
                         ids=[f"{r.id}.{s.id}.{f}" for r, s, f, _ in PROSE])
def test_aws_commands_named_in_prose_exist(runbook: Runbook, step: Step, field: str, text: str) -> None:
    commands = _prose_commands(text)
    assert commands
    for cli_service, command, options in commands:
        model = SESSION.get_service_model(CLI_SERVICE.get(cli_service, cli_service))
        ops = {xform_name(op, "-"): op for op in model.operation_names}
        assert command in ops, f"no command `aws {cli_service} {command}`"
        members = {xform_name(m, "-") for m in model.operation_model(ops[command]).input_shape.members}
        assert not options - members - CLI_GLOBAL_OPTIONS, f"`aws {cli_service} {command}` options"


# The flags of the commands docs/reference/cli.md defines (plus the global ones): a runbook's `flags` must
# name real flags, so an on-call engineer can settle every decision without a prompt.
DESIGN_FLAGS = {
    "--yes", "--non-interactive", "--dry-run",
    "--skip", "--skip-unrecoverable", "--restore-artifacts/--no-restore-artifacts",
    "--artifact-source", "--role-arn", "--wait/--no-wait", "--timeout",
    "--trail", "--since", "--until", "--restore",
    "--retain", "--retain-all-failed", "--retry", "--empty-bucket",
    "--qualifier", "--policy-arn", "--remove-role-after/--keep-role",
    # bootstrap-role (issue 7): the operation to finish, and a boundary some accounts require
    "--then", "--permissions-boundary",
    # issue 14: bytes not proven to be the old code are restored only when accepted
    "--accept-unverified", "--accept-substitute",
    # issue 17: express-failed replays the last stable template the engineer names
    "--template",
    # issue 18 part 3: reconcile's skips made outside recover, its ledger, and execution
    "--resource", "--ledger", "--execute", "--no-execute", "--revert-all-drift",
    # issue 17 part 3: a role that exists but cannot be assumed
    "--fix-trust", "--restore-trust-after/--keep-trust",
    # issue 17 part 2: custom-resource answers a request its handler never answered
    "--respond", "--reason", "--logical-id", "--log-group",
}


def test_flags_are_the_cli_contract_flags() -> None:
    used = {f for _, s in ALL_STEPS for f in s.flags}
    assert used <= DESIGN_FLAGS, sorted(used - DESIGN_FLAGS)


@pytest.mark.parametrize("runbook", CATALOG.runbooks, ids=CATALOG.ids())
def test_to_dict_round_trips_through_the_file_format(runbook: Runbook) -> None:
    from recover.runbooks.document.validate import load_text

    again = load_text(yaml.safe_dump(runbook.to_dict(), sort_keys=False), runbook.source)
    assert again == runbook
