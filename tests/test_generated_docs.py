"""The committed reference pages generated from the runbooks must be current."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO


def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_docs_are_current() -> None:
    stale = gen_docs().stale_pages()
    assert not stale, f"generated docs are stale: {', '.join(stale)}; regenerate them with " \
                      "`python scripts/gen_docs.py` and commit the result"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the runbooks and their generated docs, to exercise the generator safely."""
    shutil.copytree(REPO / "runbooks", tmp_path / "runbooks")
    shutil.copytree(REPO / "docs" / "reference" / "runbooks", tmp_path / "docs/reference/runbooks")
    shutil.copy(REPO / "docs" / "reference" / "iam-policy.md", tmp_path / "docs/reference/")
    return tmp_path


def test_an_edited_runbook_makes_its_page_and_the_policy_stale(checkout: Path) -> None:
    """A manual step's permissions are the person's and go into the policy; an engine step's
    come from the code (recover.act.needs), so its file changes only its page."""
    mod = gen_docs()
    assert mod.stale_pages(checkout) == []
    path = checkout / "runbooks" / "rollback-stuck.yaml"
    path.write_text(path.read_text().replace(
        "permissions: [cloudformation:SignalResource]",
        "permissions: [cloudformation:SignalResource, cloudformation:DescribeStackResource]"
    ).replace("  - cloudformation:SignalResource\n",
              "  - cloudformation:SignalResource\n  - cloudformation:DescribeStackResource\n"))
    assert mod.stale_pages(checkout) == ["docs/reference/iam-policy.md",
                                         "docs/reference/runbooks/rollback-stuck.md"]
    written = mod.write_pages(checkout)
    assert sorted(written) == ["docs/reference/iam-policy.md",
                               "docs/reference/runbooks/rollback-stuck.md"]
    assert "cloudformation:DescribeStackResource\"" in (
        checkout / "docs/reference/iam-policy.md").read_text()
    assert mod.stale_pages(checkout) == []


def test_an_engine_step_gets_its_permissions_from_the_code(checkout: Path) -> None:
    mod = gen_docs()
    path = checkout / "runbooks" / "delete-failed.yaml"
    path.write_text(path.read_text().replace(
        "permissions: [ec2:DescribeNetworkInterfaces, logs:FilterLogEvents, s3:ListBucketVersions]",
        "permissions: [ec2:DescribeNetworkInterfaces, ec2:DescribeInstances, logs:FilterLogEvents, "
        "s3:ListBucketVersions]").replace("  - ec2:DescribeNetworkInterfaces\n",
                                          "  - ec2:DescribeNetworkInterfaces\n  - ec2:DescribeInstances\n"))
    assert mod.stale_pages(checkout) == ["docs/reference/runbooks/delete-failed.md"]


def test_a_leftover_page_is_stale_and_removed(checkout: Path) -> None:
    mod = gen_docs()
    (checkout / "docs/reference/runbooks/old-runbook.md").write_text("# gone\n")
    assert mod.stale_pages(checkout) == ["docs/reference/runbooks/old-runbook.md"]
    mod.write_pages(checkout)
    assert not (checkout / "docs/reference/runbooks/old-runbook.md").exists()


def test_pages_are_marked_generated_and_escape_placeholders() -> None:
    page = (REPO / "docs/reference/runbooks/rollback-stuck.md").read_text()
    assert page.startswith("<!-- generated — do not edit. scripts/gen_docs.py writes this page from "
                           "runbooks/rollback-stuck.yaml")
    # Prose placeholders are escaped (not HTML tags); code blocks keep them verbatim.
    assert "&lt;CHILD-STACK-NAME&gt;.&lt;LogicalId&gt;" in page
    assert "--resources-to-skip <LogicalId> <CHILD-STACK-NAME>.<LogicalId>" in page
    assert "[artifacts](artifacts.md)" in page


def test_check_mode_exit_codes(checkout: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    mod = gen_docs()
    monkeypatch.setattr(mod, "ROOT", checkout)
    monkeypatch.setattr(mod, "stale_pages", lambda: ["docs/reference/iam-policy.md"])
    assert mod.main(["--check"]) == 1
    assert "run `python scripts/gen_docs.py`" in capsys.readouterr().err
    assert mod.main(["--bogus"]) == 2
